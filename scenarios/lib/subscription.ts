/**
 * The conference-subscription step shared by the conference, lifecycle and outgoing scenarios:
 * wait for the client's initial SUBSCRIBE after the session was set up and judge it.
 */
import type { PfEventOf } from '../../harness/pf/types.ts';
import { parseEvent } from '../../harness/sip/headers.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { TestContext } from '../../harness/testcase/context.ts';
import { ofType, type Established } from './steps.ts';

/** Waits for the initial SUBSCRIBE after the session was set up and judges it under `requirement`. */
export async function expectSubscribe(t: TestContext, done: Established, requirement: string): Promise<PfEventOf<'subscribe'> | null> {
  const since = done.invite.startSeq;
  const sub = (await t.pf.events.waitFor(ofType('subscribe', (e) => e.initial), { within: t.windows.subscribeMs, since })) as PfEventOf<'subscribe'> | null;
  if (!sub) {
    t.violation(requirement, `no SUBSCRIBE to the conference event package within ${t.windows.subscribeMs} ms of the session being established`);
    return null;
  }
  const problems: string[] = [];
  const event = parseEvent(headerValue(sub.request, 'event') ?? '');
  if (!event.ok || event.value.package.toLowerCase() !== 'conference') problems.push(`Event is "${headerValue(sub.request, 'event') ?? '(none)'}", expected conference (RFC 4575)`);
  if (!sub.matchedGroup) problems.push(`Request-URI ${sub.request.uri} is not the group session identity ${t.pf.group.identity}`);
  if (problems.length > 0) {
    t.violation(requirement, problems.join('; '), sub);
    return sub;
  }
  const accept = headerValues(sub.request, 'accept').map((a) => a.toLowerCase());
  if (accept.length > 0 && !accept.some((a) => a.startsWith('application/conference-info+xml'))) {
    t.note(`SUBSCRIBE Accept does not list application/conference-info+xml: ${accept.join(', ')}`);
  }
  const ack = t.pf.events.since(since).find(ofType('request-sent', (e) => e.request.method === 'ACK'));
  if (ack && sub.seq < ack.seq) {
    t.warn(requirement, 'SUBSCRIBE sent before the PF\'s ACK confirmed the session ("once the SIP session is established"; PROTOCOLS.md 1b-sub timing)', sub, 'U');
    return sub;
  }
  t.pass(requirement, `SUBSCRIBE Event: conference to ${sub.request.uri} after the session was established`, sub);
  return sub;
}

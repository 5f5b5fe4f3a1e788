/**
 * The client's conference subscription (7.3.12-1b-sub and its repeats 1c-iii, 1d-ii): finding the
 * initial SUBSCRIBE after the session, judging it as the case's purpose, or requiring it as the
 * preamble of a case about what follows.
 */
import type { PfEventOf } from '../../harness/pf/types.ts';
import { parseEvent } from '../../harness/sip/headers.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { TestContext } from '../../harness/testcase/context.ts';
import { ofType, type Established } from './steps.ts';

export type SubscribeEvent = PfEventOf<'subscribe'>;

export const SUBSCRIBE_RULES = ['sub.sent', 'sub.event', 'sub.target', 'sub.after-ack'] as const;

interface Observed {
  sub: SubscribeEvent | null;
  /** Event package other than conference. */
  eventProblem?: string;
  /** Request-URI not the group identity. */
  targetProblem?: string;
  /** Whether it came before the PF's ACK. */
  beforeAck: boolean;
}

/** The first initial SUBSCRIBE after the session was set up, within the subscribe window. */
async function observeSubscribe(t: TestContext, done: Established): Promise<Observed> {
  const since = done.invite.startSeq;
  const sub = (await t.pf.events.waitFor(ofType('subscribe', (e) => e.initial), { within: t.windows.subscribeMs, since })) as SubscribeEvent | null;
  if (!sub) return { sub: null, beforeAck: false };
  const observed: Observed = { sub, beforeAck: false };
  const eventValue = headerValue(sub.request, 'event');
  const event = parseEvent(eventValue ?? '');
  if (!event.ok || event.value.package.toLowerCase() !== 'conference') observed.eventProblem = `Event is "${eventValue ?? '(none)'}", expected conference (RFC 4575)`;
  if (!sub.matchedGroup) observed.targetProblem = `Request-URI ${sub.request.uri} is not the group session identity ${t.pf.group.identity}`;
  const accept = headerValues(sub.request, 'accept').map((a) => a.toLowerCase());
  if (accept.length > 0 && !accept.some((a) => a.startsWith('application/conference-info+xml'))) {
    t.note(`SUBSCRIBE Accept does not list application/conference-info+xml: ${accept.join(', ')}`);
  }
  const ack = t.pf.events.since(since).find(ofType('request-sent', (e) => e.request.method === 'ACK'));
  observed.beforeAck = !!ack && sub.seq < ack.seq;
  return observed;
}

/** 7.3.12-1b-sub as the purpose: one finding per SUBSCRIBE rule. */
export async function judgeSubscribe(t: TestContext, done: Established): Promise<SubscribeEvent | null> {
  const o = await observeSubscribe(t, done);
  if (!o.sub) {
    t.observe('sub.sent', false, `no SUBSCRIBE to the conference event package within ${t.windows.subscribeMs} ms of the session being established`);
    return null;
  }
  const sub = o.sub;
  t.observe('sub.sent', true, `initial SUBSCRIBE ${sub.request.uri}`, sub);
  t.observe('sub.event', o.eventProblem === undefined, o.eventProblem ?? 'Event: conference', sub);
  t.observe('sub.target', o.targetProblem === undefined, o.targetProblem ?? `to the group session identity ${sub.request.uri}`, sub);
  t.observe(
    'sub.after-ack',
    !o.beforeAck,
    o.beforeAck ? 'SUBSCRIBE sent before the PF\'s ACK confirmed the session ("once the SIP session is established"; PROTOCOLS.md 1b-sub timing)' : 'SUBSCRIBE after the PF\'s ACK',
    sub,
  );
  return sub;
}

/** The repeats of 1b-sub in a flow (1c-iii nothing to send, 1d-ii something queued): one finding. */
export async function judgeFlowSubscribed(t: TestContext, done: Established, rule: 'nothing-to-send.subscribed' | 'with-queued.subscribed'): Promise<SubscribeEvent | null> {
  const o = await observeSubscribe(t, done);
  if (!o.sub) {
    t.observe(rule, false, `no SUBSCRIBE to the conference event package within ${t.windows.subscribeMs} ms of the session being established`);
    return null;
  }
  const problems = [o.eventProblem, o.targetProblem].filter((p): p is string => p !== undefined);
  t.observe(rule, problems.length === 0, problems.length === 0 ? `SUBSCRIBE Event: conference to ${o.sub.request.uri}` : problems.join('; '), o.sub);
  return o.sub;
}

/**
 * The preamble of a case about what follows the SUBSCRIBE: a conference SUBSCRIBE to the group,
 * answered as the PF's policy says (`answeredWith`), else the case is inconclusive.
 */
export async function subscribed(t: TestContext, done: Established, answeredWith = 200): Promise<SubscribeEvent> {
  const o = await observeSubscribe(t, done);
  if (!o.sub) t.prerequisite('the client subscribes to the conference event package', `no initial SUBSCRIBE within ${t.windows.subscribeMs} ms`);
  const problem = o.eventProblem ?? o.targetProblem;
  if (problem !== undefined) t.prerequisite('the client subscribes to the conference event package of the group', problem, o.sub);
  if (o.sub.answeredWith !== answeredWith) t.prerequisite(`the PF answers the SUBSCRIBE ${answeredWith}`, `the PF answered ${o.sub.answeredWith}`, o.sub);
  return o.sub;
}

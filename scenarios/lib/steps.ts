/**
 * Steps shared by the scenario files: each does one exchange through the PF and records the
 * verdict of the requirement it exercises, with the messages as evidence. A step that cannot do
 * its job returns null after recording why, so the caller stops instead of judging on nothing.
 */
import type { Diagnostic } from '../../harness/core/diagnostic.ts';
import { checkMsrpAnswer, parseSdp } from '../../harness/sdp/index.ts';
import type { DeferredMessageSpec, DeferredSession, DeliveryResult, InviteResult, InviteSpec, PfEvent, PfEventOf } from '../../harness/pf/types.ts';
import type { TestContext } from '../../harness/testcase/context.ts';
import type { SipResponse } from '../../harness/sip/message.ts';
import { headerValue } from '../../harness/sip/message.ts';
import { isGroupUri } from '../../harness/pf/conference.ts';

export const ACCEPT = '7.3.12-1a-i';

export function statusText(response: SipResponse | null | undefined): string {
  return response ? `${response.status} ${response.reason}` : 'no final response';
}

export function is2xx(response: SipResponse | null | undefined): boolean {
  return !!response && response.status >= 200 && response.status < 300;
}

/** Narrowing predicate: `t.pf.events.waitFor(ofType('subscribe'), …)`. */
export function ofType<T extends PfEvent['type']>(type: T, extra: (e: PfEventOf<T>) => boolean = () => true): (e: PfEvent) => boolean {
  return (e) => e.type === type && extra(e as PfEventOf<T>);
}

export interface Established {
  invite: InviteResult;
  session: DeferredSession;
}

/**
 * Sends the group INVITE and requires what 7.3.12-1a-i requires of a sendrecv offer: a 2xx whose
 * MSRP answer is usable and an MSRP session that binds. Records the 1a-i verdict.
 */
export async function establish(t: TestContext, spec: InviteSpec = {}, requirement = ACCEPT): Promise<Established | null> {
  const invite = await t.pf.invite(spec);
  const evidence = [invite.request, ...invite.provisional, invite.final, invite.ack];
  if (!invite.final) {
    t.violation(requirement, `no final response to the group INVITE: ${invite.failure?.message ?? 'unknown'}`, evidence);
    return null;
  }
  if (!is2xx(invite.final)) {
    t.violation(requirement, `expected 2xx to an INVITE whose effective direction is sendrecv, got ${statusText(invite.final)}`, evidence);
    return null;
  }
  if (!invite.answer) {
    t.violation(requirement, '2xx without an SDP answer', evidence);
    return null;
  }
  const problems = answerProblems(invite);
  const errors = problems.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    t.violation(requirement, `2xx but the MSRP answer is not usable: ${errors.map((d) => `${d.code}: ${d.message}`).join('; ')}`, evidence);
    return null;
  }
  for (const w of problems.filter((d) => d.severity === 'warning')) t.note(`SDP answer: ${w.code}: ${w.message}`);
  if (!invite.session) {
    t.violation(requirement, '2xx but the PF could not set up the MSRP session from the answer', evidence);
    return null;
  }
  if (!t.config.pics.msrp) {
    t.pass(requirement, '2xx with a sendrecv MSRP answer (MSRP connection not exercised: the client is declared SIP-only, pics.msrp false)', evidence);
    return { invite, session: invite.session };
  }
  const ready = await invite.session.ready(t.windows.msrpConnectMs);
  if (!ready.ok) {
    t.violation(requirement, `2xx but no MSRP session within ${t.windows.msrpConnectMs} ms: ${ready.reason}`, evidence);
    return null;
  }
  t.pass(requirement, `2xx with a sendrecv MSRP answer; MSRP session bound (PF ${invite.session.pfRole})`, evidence);
  return { invite, session: invite.session };
}

/** The SDP layer's judgement of the client's answer against the PF's offer. */
function answerProblems(invite: InviteResult): Diagnostic[] {
  const contentType = (headerValue(invite.request, 'content-type') ?? '').toLowerCase();
  // A multipart offer (participants in the body, 1b-i-c mode B) is judged on its SDP part by the PF.
  if (!invite.answer || !contentType.startsWith('application/sdp')) return [];
  return checkMsrpAnswer(invite.answer, parseSdp(invite.request.body));
}

/** Delivers one deferred message and records 7.3.12-1a-i-1 (and msrp-response) on the chunk responses. */
export async function deliver(t: TestContext, session: DeferredSession, spec: DeferredMessageSpec = {}, judge = true): Promise<DeliveryResult | null> {
  const result = await session.deliver(spec);
  if (result.failure) {
    if (judge) t.violation('7.3.12-1a-i-1', `deferred message could not be delivered: ${result.failure}`);
    return null;
  }
  if (!judge) return result;
  const expected = result.chunks.filter((c) => c.outcome !== 'not-expected');
  const bad = expected.filter((c) => c.outcome !== 'response' || !c.response || c.response.status !== 200);
  const responses = result.chunks.map((c) => c.response).filter((r) => r !== null);
  if (bad.length === 0) {
    t.pass('7.3.12-1a-i-1', `200 to every SEND chunk (${result.chunks.length} chunk${result.chunks.length === 1 ? '' : 's'}, Byte-Range ${result.chunks.map((c) => c.byteRange).join(', ')})`, responses);
  } else {
    const why = bad.map((c) => `chunk ${c.byteRange}: ${c.response ? `${c.response.status}${c.response.comment ? ' ' + c.response.comment : ''}` : c.outcome}`).join('; ');
    t.violation('7.3.12-1a-i-1', `deferred message not accepted: ${why}`, responses);
    // The message never completed: nothing that depends on its receipt can be judged.
    return null;
  }
  return result;
}


/** Whether a SUBSCRIBE targets the group session identity (RFC 3261 §19.1.4, transport ignored). */
export function targetsGroup(t: TestContext, uri: string): boolean {
  return isGroupUri(uri, t.pf.group.identity);
}


/**
 * PF BYE at the end of a case, judged under `judge` (7.3.12-1c-i) only when asked. Returns whether
 * the session is over: the client answered 2xx, or it was already ended.
 */
export async function endSession(t: TestContext, session: DeferredSession, judge?: string): Promise<boolean> {
  if (session.state !== 'established') return true;
  const bye = await session.bye();
  const ended = !!bye.response && bye.response.status >= 200 && bye.response.status < 300;
  if (!judge) return ended;
  if (ended) t.pass(judge, `client answered the PF's BYE with ${statusText(bye.response)}`, bye.response);
  else t.violation(judge, `the PF's BYE got ${bye.response ? statusText(bye.response) : `no response (${bye.failure ?? 'timeout'})`}; RFC 3261 §15.1.2: the UAS core MUST generate a 2xx to a BYE`, bye.response);
  return ended;
}

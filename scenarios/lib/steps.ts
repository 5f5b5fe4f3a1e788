/**
 * Steps shared by the scenario files. Each does one exchange through the PF and states what it
 * saw as findings (`t.observe` / `t.record`); the rule table turns them into verdicts. A step that
 * only sets the stage for the case's purpose is a prerequisite: when it fails it ends the case
 * with `t.prerequisite(…)`, and the runner makes the case's other requirements inconclusive.
 */
import type { Finding } from '../../harness/core/finding.ts';
import { isGroupUri } from '../../harness/pf/conference.ts';
import type { DeferredMessageSpec, DeferredSession, DeliveryResult, InviteResult, InviteSpec, PfEvent, PfEventOf } from '../../harness/pf/types.ts';
import { ANSWER_RULES, answerFindings, findMsrpMedia, parseSdp, resolveDirection, type AnswerRule } from '../../harness/sdp/index.ts';
import { headerValue, type SipResponse } from '../../harness/sip/message.ts';
import type { Evidence, TestContext } from '../../harness/testcase/context.ts';
import type { WindowName } from '../../harness/testcase/config.ts';
import { violationOutcomeOf, type RuleId } from '../../harness/verdict/rules.ts';

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

/** Whether a SUBSCRIBE targets the group session identity (RFC 3261 §19.1.4, transport ignored). */
export function targetsGroup(t: TestContext, uri: string): boolean {
  return isGroupUri(uri, t.pf.group.identity);
}

export function evidenceList(evidence: Evidence | undefined): readonly unknown[] {
  if (evidence === undefined) return [];
  return Array.isArray(evidence) ? evidence : [evidence];
}

/**
 * An absence check: waits the whole window and records `rule` — held when nothing matching came
 * (marked as an absence, so a scaled window on an external client is only informative).
 */
export async function expectAbsent(
  t: TestContext,
  rule: RuleId,
  predicate: (e: PfEvent) => boolean,
  options: { window: WindowName; since?: number; held: string; seen: (e: PfEvent) => string; evidence?: Evidence },
): Promise<PfEvent | null> {
  const found = await t.pf.events.expectNone(predicate, { within: t.windows[options.window], ...(options.since === undefined ? {} : { since: options.since }) });
  if (found) t.observe(rule, false, options.seen(found), [...evidenceList(options.evidence), found]);
  else t.observe(rule, true, options.held, options.evidence, { absenceWindow: options.window });
  return found;
}

// ---------------------------------------------------------------------------------------------
// The group INVITE and the session it sets up (7.3.12-1a-i)

/** The rules an accepted INVITE is judged by: 2xx, the SDP answer, the MSRP session coming up. */
export const ACCEPT_RULES = ['invite.accepted', ...ANSWER_RULES, 'msrp.bound'] as const satisfies readonly RuleId[];
type AcceptRule = (typeof ACCEPT_RULES)[number];

export interface Established {
  invite: InviteResult;
  session: DeferredSession;
}

function inviteEvidence(invite: InviteResult): Evidence {
  return [invite.request, ...invite.provisional, invite.final, invite.ack];
}

/** A client that cannot be reached at all is a failed prerequisite (README "Outcomes"), not a verdict. */
export function requireReachable(t: TestContext, invite: InviteResult): void {
  if (invite.failure?.kind === 'transport-error') t.prerequisite('the client is reachable', invite.failure.message, inviteEvidence(invite));
}

/** What a sendrecv offer's answer showed: one finding per acceptance rule that could be decided. */
async function acceptance(t: TestContext, invite: InviteResult): Promise<{ findings: Finding<AcceptRule>[]; session?: DeferredSession }> {
  requireReachable(t, invite);
  const findings: Finding<AcceptRule>[] = [];
  if (!invite.final) {
    findings.push({ rule: 'invite.accepted', ok: false, detail: `no final response to the group INVITE: ${invite.failure?.message ?? 'unknown'}` });
    return { findings };
  }
  if (!is2xx(invite.final)) {
    findings.push({ rule: 'invite.accepted', ok: false, detail: `expected 2xx to an INVITE whose effective direction is sendrecv, got ${statusText(invite.final)}` });
    if (invite.session) await endSession(t, invite.session);
    return { findings };
  }
  if (!invite.answer) {
    findings.push({ rule: 'invite.accepted', ok: false, detail: '2xx without an SDP answer' });
    return { findings };
  }
  findings.push({ rule: 'invite.accepted', ok: true, detail: `${statusText(invite.final)} with an SDP answer` });
  // A multipart offer (participants in the body, 1b-i-c mode B) has its SDP checked by the PF.
  if ((headerValue(invite.request, 'content-type') ?? '').toLowerCase().startsWith('application/sdp')) {
    findings.push(...answerFindings(invite.answer, parseSdp(invite.request.body)));
  }
  const session = invite.session;
  if (!session) {
    findings.push({ rule: 'msrp.bound', ok: false, detail: '2xx but the PF could not set up the MSRP session from the answer' });
    return { findings };
  }
  if (!t.config.pics.msrp) {
    t.note('MSRP connection not exercised: the client is declared SIP-only (pics.msrp false)');
    return { findings, session };
  }
  const ready = await session.ready(t.windows.msrpConnectMs);
  findings.push(
    ready.ok
      ? { rule: 'msrp.bound', ok: true, detail: `MSRP session bound (PF ${session.pfRole})` }
      : { rule: 'msrp.bound', ok: false, detail: `no MSRP session within ${t.windows.msrpConnectMs} ms: ${ready.reason}` },
  );
  return ready.ok ? { findings, session } : { findings };
}

/**
 * The case's purpose is the acceptance itself (7.3.12-1a-i): sends the INVITE, records every
 * acceptance rule, and returns the session when it came up.
 */
export async function acceptInvite(t: TestContext, spec: InviteSpec = {}): Promise<(Established & { findings: Finding<AcceptRule>[] }) | null> {
  const invite = await t.pf.invite(spec);
  const { findings, session } = await acceptance(t, invite);
  t.record(findings, inviteEvidence(invite));
  if (!session || findings.some((f) => !f.ok && violationOutcomeOf(f.rule) === 'fail')) {
    if (session) await endSession(t, session);
    return null;
  }
  return { invite, session, findings };
}

/**
 * The preamble of every case that needs a session: the group INVITE accepted with a usable MSRP
 * session. Not a verdict: when it fails the case is inconclusive, with the failed rule named.
 */
export async function establish(t: TestContext, spec: InviteSpec = {}): Promise<Established> {
  const invite = await t.pf.invite(spec);
  const { findings, session } = await acceptance(t, invite);
  const blocking = findings.find((f) => !f.ok && violationOutcomeOf(f.rule) === 'fail');
  for (const f of findings.filter((x) => !x.ok && x !== blocking)) t.note(`preamble (not judged here): ${f.rule}: ${f.detail}`);
  if (blocking || !session) {
    if (session) await endSession(t, session);
    t.prerequisite('the group INVITE is accepted with a usable MSRP session', blocking ? `${blocking.rule}: ${blocking.detail}` : 'no session', inviteEvidence(invite));
  }
  return { invite, session };
}

// ---------------------------------------------------------------------------------------------
// Deferred delivery (7.3.12-1a-i-1) and what the session must survive (7.3.12-1c-i)

/** Sessions that carried a deferred message: the event mark before the first one. */
const delivered = new WeakMap<DeferredSession, number>();
/** Sessions whose keeping was already judged after their last delivery (an idle window). */
const keptJudged = new WeakMap<DeferredSession, number>();

function chunkProblems(result: DeliveryResult): string | null {
  const expected = result.chunks.filter((c) => c.outcome !== 'not-expected');
  const bad = expected.filter((c) => c.outcome !== 'response' || !c.response || c.response.status !== 200);
  if (bad.length === 0) return null;
  return bad.map((c) => `chunk ${c.byteRange}: ${c.response ? `${c.response.status}${c.response.comment ? ' ' + c.response.comment : ''}` : c.outcome}`).join('; ');
}

function noteDelivery(session: DeferredSession, result: DeliveryResult): void {
  if (!delivered.has(session)) delivered.set(session, result.startSeq);
}

/** The purpose is receiving the message: records msrp.send-200; null when it was not accepted. */
export async function deliver(t: TestContext, session: DeferredSession, spec: DeferredMessageSpec = {}): Promise<DeliveryResult | null> {
  const result = await session.deliver(spec);
  if (result.failure) t.prerequisite('the MSRP session is ready for the deferred message', result.failure);
  noteDelivery(session, result);
  const responses = result.chunks.map((c) => c.response).filter((r) => r !== null);
  const problems = chunkProblems(result);
  const chunks = `${result.chunks.length} chunk${result.chunks.length === 1 ? '' : 's'}, Byte-Range ${result.chunks.map((c) => c.byteRange).join(', ')}`;
  t.observe('msrp.send-200', problems === null, problems === null ? `200 to every SEND chunk (${chunks})` : `deferred message not accepted: ${problems}`, responses);
  return problems === null ? result : null;
}

/** The preamble: a deferred message the client accepted (200 to every chunk that asks for one). */
export async function delivered200(t: TestContext, session: DeferredSession, spec: DeferredMessageSpec = {}): Promise<DeliveryResult> {
  const result = await session.deliver(spec);
  if (result.failure) t.prerequisite('the MSRP session is ready for the deferred message', result.failure);
  noteDelivery(session, result);
  const problems = chunkProblems(result);
  if (problems !== null) t.prerequisite('the deferred message is delivered (200 to every SEND chunk)', problems, result.chunks.map((c) => c.response));
  return result;
}

/** Leaving the session before the PF ends it (PROTOCOLS.md 1c-i): BYE, MSRP close, re-INVITE to inactive. */
export function leavesSession(session: DeferredSession): (e: PfEvent) => boolean {
  return (e) => {
    if (e.type === 'client-bye') return e.sessionId === session.id || headerValue(e.request, 'call-id') === session.dialog.callId;
    if (e.type === 'msrp-connection') return e.sessionId === session.id && e.state === 'closed' && e.by === 'peer';
    if (e.type === 'client-invite' && e.inDialog && headerValue(e.request, 'call-id') === session.dialog.callId) return reInviteToInactive(e.request.body);
    return false;
  };
}

/** A re-INVITE that puts the MSRP stream on hold: inactive, port 0, or no MSRP stream at all. */
function reInviteToInactive(body: Buffer): boolean {
  if (body.length === 0) return false;
  const sdp = parseSdp(body);
  const media = findMsrpMedia(sdp)[0];
  return !media || media.port === 0 || resolveDirection(sdp, media.index).direction === 'inactive';
}

export function describeLeaving(e: PfEvent): string {
  if (e.type === 'client-bye') return 'sent BYE';
  if (e.type === 'msrp-connection') return `closed the MSRP connection (${e.reason ?? 'peer closed'})`;
  return 'sent a re-INVITE putting the session on hold';
}

/**
 * 7.3.12-1c-i: the client keeps the session for `window` (since `since`) — recorded under
 * session.kept or, while the PF delays delivery, session.kept-while-delayed.
 */
export async function keepsSession(
  t: TestContext,
  session: DeferredSession,
  options: { rule: 'session.kept' | 'session.kept-while-delayed'; window: WindowName; since?: number; what: string },
): Promise<boolean> {
  const since = options.since ?? t.pf.events.mark();
  const left = await expectAbsent(t, options.rule, leavesSession(session), {
    window: options.window,
    since,
    held: `no BYE, MSRP close or re-INVITE to inactive from the client ${options.what} (${t.windows[options.window]} ms)`,
    seen: (e) => `the client ${describeLeaving(e)} ${options.what}, before the PF ended the deferred delivery`,
  });
  if (options.rule === 'session.kept') keptJudged.set(session, t.pf.events.mark());
  return left === null;
}

/**
 * Ends the session with the PF's BYE. A session that carried deferred messages is first watched
 * for the liveness window (7.3.12-1c-i: the client waits for the PF), unless an idle window after
 * the last message already judged it. Returns the BYE's response, or null when no BYE was sent.
 */
export async function endSession(t: TestContext, session: DeferredSession): Promise<{ response: SipResponse | null; failure?: string } | null> {
  const since = delivered.get(session);
  if (since !== undefined && session.state === 'established' && (keptJudged.get(session) ?? -1) < since) {
    await keepsSession(t, session, { rule: 'session.kept', window: 'livenessMs', since, what: 'after the deferred delivery' });
  }
  if (session.state !== 'established') return null;
  return session.bye();
}

/**
 * The purpose includes the PF's BYE (7.3.12-1c-i): 2xx to it, and no MSRP message on the session
 * from the moment the BYE was sent.
 */
export async function endSessionJudged(t: TestContext, session: DeferredSession): Promise<boolean> {
  const sinceBye = t.pf.events.mark();
  const bye = await endSession(t, session);
  if (bye === null) return true;
  const ended = is2xx(bye.response);
  t.observe(
    'bye.answered',
    ended,
    ended
      ? `client answered the PF's BYE with ${statusText(bye.response)}`
      : `the PF's BYE got ${bye.response ? statusText(bye.response) : `no response (${bye.failure ?? 'timeout'})`}; RFC 3261 §15.1.2: the UAS core MUST generate a 2xx to a BYE`,
    bye.response,
  );
  if (!t.config.pics.msrp) return ended;
  await expectAbsent(t, 'bye.media-stops', (e) => e.type === 'msrp-message' && e.sessionId === session.id, {
    window: 'sideEffectMs',
    since: sinceBye,
    held: `nothing sent on the MSRP session after the PF's BYE (${t.windows.sideEffectMs} ms)`,
    seen: () => 'the client kept sending on the MSRP session after the PF\'s BYE (RFC 3261 §15.1.2: stop sending media)',
  });
  return ended;
}

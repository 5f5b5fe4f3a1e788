/**
 * Test purposes for 7.3.12-1a-i / 1a-ii: the client accepts the PF's group INVITE only when the
 * effective SDP direction of the MSRP stream is sendrecv (RFC 8866 §6.7: media level, else
 * session level, else sendrecv) and answers exactly 488 otherwise, with no side effects.
 * The variants are generated from one table.
 */
import type { Direction, InviteResult } from '../harness/pf/types.ts';
import { headerValue } from '../harness/sip/message.ts';
import { parseWarning } from '../harness/sip/headers.ts';
import type { TestContext } from '../harness/testcase/context.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { ACCEPT_RULES, acceptInvite, endSession, expectAbsent, ofType, requireReachable, statusText } from './lib/steps.ts';

const GROUP = 'invite-direction';

interface DirectionRow {
  /** Case id suffix. */
  name: string;
  session: Direction | null;
  media: Direction | null;
  /** PROTOCOLS.md §1.2 edge case. */
  edge: string;
  effective: Direction;
}

/** The placements of PROTOCOLS.md §1.2 E1, E3–E6 and the 1a-ii list. */
export const DIRECTION_TABLE: readonly DirectionRow[] = [
  { name: 'media-sendrecv', session: null, media: 'sendrecv', edge: 'E1', effective: 'sendrecv' },
  { name: 'session-sendrecv', session: 'sendrecv', media: null, edge: 'E3', effective: 'sendrecv' },
  { name: 'session-sendonly-media-sendrecv', session: 'sendonly', media: 'sendrecv', edge: 'E4', effective: 'sendrecv' },
  { name: 'media-sendonly', session: null, media: 'sendonly', edge: '1a-ii', effective: 'sendonly' },
  { name: 'media-recvonly', session: null, media: 'recvonly', edge: '1a-ii', effective: 'recvonly' },
  { name: 'media-inactive', session: null, media: 'inactive', edge: '1a-ii', effective: 'inactive' },
  { name: 'session-sendonly', session: 'sendonly', media: null, edge: 'E6', effective: 'sendonly' },
  { name: 'session-recvonly', session: 'recvonly', media: null, edge: 'E6', effective: 'recvonly' },
  { name: 'session-inactive', session: 'inactive', media: null, edge: 'E6', effective: 'inactive' },
  { name: 'session-sendrecv-media-sendonly', session: 'sendrecv', media: 'sendonly', edge: 'E5', effective: 'sendonly' },
];

function placement(row: Pick<DirectionRow, 'session' | 'media'>): string {
  const parts = [row.session ? `session-level a=${row.session}` : null, row.media ? `media-level a=${row.media}` : null].filter(Boolean);
  return parts.length > 0 ? parts.join(' + ') : 'no direction attribute';
}

export const REJECTION_RULES = ['reject.status', 'reject.side-effects', 'reject.no-follow-up', 'reject.warning', 'reject.warning-syntax'] as const;

/** 7.3.12-1a-ii: exactly 488, ACKed, no retransmission after ACK (UDP), no MSRP/BYE/SUBSCRIBE; the Warning (SHOULD). */
export async function judgeRejection(t: TestContext, invite: InviteResult, why: string): Promise<void> {
  requireReachable(t, invite);
  const evidence = [invite.request, ...invite.provisional, invite.final, invite.ack];
  if (!invite.final) {
    t.observe('reject.status', false, `expected 488 (${why}), got no final response: ${invite.failure?.message ?? 'timeout'}`, evidence);
    return;
  }
  const status = invite.final.status;
  if (status !== 488) {
    t.observe('reject.status', false, `expected exactly 488 Not Acceptable Here (${why}), got ${statusText(invite.final)}`, evidence);
    if (invite.session) await endSession(t, invite.session);
    return;
  }
  t.observe('reject.status', true, `exactly 488 (${why}); ACKed`, evidence);
  const warning = headerValue(invite.final, 'warning');
  if (t.observe('reject.warning', warning !== undefined, warning !== undefined ? `488 carries Warning: ${warning}` : '488 without a Warning header explaining why the offer was rejected (RFC 3261 §13.3.1.3 SHOULD)', invite.final)) {
    const parsed = parseWarning(warning!);
    t.observe('reject.warning-syntax', parsed.ok, parsed.ok ? `well-formed Warning: ${warning}` : `488 carries a malformed Warning header "${warning}" (RFC 3261 §20.43: warn-code SP warn-agent SP warn-text)`, invite.final);
  }
  // Side effects of this INVITE within the window after the ACK. Events of a session the client
  // itself initiated (a re-join) are not consequences of the 488 and are left out.
  const since = invite.startSeq;
  const callId = headerValue(invite.request, 'call-id');
  const sent = t.pf.events.since(since).find(ofType('request-sent', (e) => e.request === invite.request));
  const inviteSession = sent?.type === 'request-sent' ? sent.sessionId : undefined;
  const clientInitiated = (): boolean => t.pf.events.since(since).some(ofType('client-invite', (e) => !e.inDialog));
  // RFC 3261 (verified): no BYE outside a dialog, no 488 retransmission once ACKed. The CR's reading
  // (the rejected session never existed, so no MSRP connection and no SUBSCRIBE) is [U]. Both watch
  // the same window at once.
  await Promise.all([
    expectAbsent(
      t,
      'reject.side-effects',
      (e) =>
        (e.type === 'client-bye' && headerValue(e.request, 'call-id') === callId) ||
        (e.type === 'invite-response' && e.retransmission && e.response.status === 488 && e.seq > ackSeq(t, since)),
      {
        window: 'sideEffectMs',
        since,
        evidence,
        held: `no BYE or 488 retransmission within ${t.windows.sideEffectMs} ms of the 488`,
        seen: (e) =>
          `488 was sent, but the client followed it with ${
            e.type === 'client-bye'
              ? 'a BYE (no dialog exists after a 488; RFC 3261 §15: a UA MUST NOT send a BYE outside a dialog)'
              : "a 488 retransmission after the PF's ACK (RFC 3261 §17.2.1: Timer G stops on ACK)"
          }`,
      },
    ),
    expectAbsent(
      t,
      'reject.no-follow-up',
      (e) => (e.type === 'msrp-connection' && e.state !== 'closed' && e.sessionId === inviteSession) || (e.type === 'subscribe' && e.initial && !clientInitiated()),
      {
        window: 'sideEffectMs',
        since,
        evidence,
        held: `no MSRP connection or SUBSCRIBE within ${t.windows.sideEffectMs} ms of the 488`,
        seen: (e) => `488 was sent, but the client followed it with ${e.type === 'msrp-connection' ? 'an MSRP connection' : 'a SUBSCRIBE (1b applies only to an established session)'}`,
      },
    ),
  ]);
}

/** The event-log position of the PF's ACK (retransmissions after it are violations). */
function ackSeq(t: TestContext, since: number): number {
  const ack = t.pf.events.since(since).find(ofType('request-sent', (e) => e.request.method === 'ACK'));
  return ack ? ack.seq : Number.POSITIVE_INFINITY;
}

function directionCase(row: DirectionRow): TestCaseDefinition {
  const accept = row.effective === 'sendrecv';
  const where = placement(row);
  return defineTestCase({
    id: `inv-dir-${row.name}`,
    title: `${where} → ${accept ? 'accepted (2xx)' : '488 Not Acceptable Here'}`,
    purpose: `Group INVITE with ${where} (${row.edge}); effective direction ${row.effective} per RFC 8866 §6.7, so the client ${accept ? 'accepts and uses the session' : 'answers exactly 488 and does nothing else'}.`,
    group: GROUP,
    rules: accept ? ACCEPT_RULES : REJECTION_RULES,
    async run(t) {
      t.note(`effective direction: ${row.effective} (${where}; ${row.edge})`);
      if (accept) {
        const done = await acceptInvite(t, { direction: { session: row.session, media: row.media } });
        if (done) await endSession(t, done.session);
        return;
      }
      const invite = await t.pf.invite({ direction: { session: row.session, media: row.media } });
      await judgeRejection(t, invite, `effective direction ${row.effective}: ${where}`);
    },
  });
}

/** E2: no direction attribute anywhere. Reported as observed unless a reading is configured. */
const noDirection = defineTestCase({
  id: 'inv-dir-none',
  title: 'no direction attribute anywhere → reported (ambiguity E2)',
  purpose:
    'The CR says "is set to a=sendrecv"; RFC 8866 §6.7 says sendrecv is the default. The observed answer is reported (a 488 as a warning); ambiguity.noDirection = sdp-default makes acceptance normative, literal makes 488 normative.',
  group: GROUP,
  rules: ['sdp.no-direction.answer', 'invite.accepted.no-direction', ...ACCEPT_RULES, ...REJECTION_RULES],
  async run(t) {
    const reading = t.config.ambiguity.noDirection;
    t.note(`ambiguity E2 reading: ${reading}`);
    if (reading === 'sdp-default') {
      const done = await acceptInvite(t, { direction: { session: null, media: null } });
      if (done) await endSession(t, done.session);
      return;
    }
    const invite = await t.pf.invite({ direction: { session: null, media: null } });
    if (reading === 'literal') {
      await judgeRejection(t, invite, 'no direction attribute, literal reading of the CR');
      return;
    }
    requireReachable(t, invite);
    const seen = invite.final ? statusText(invite.final) : `no final response (${invite.failure?.message ?? 'timeout'})`;
    const evidence = [invite.request, invite.final];
    t.observe('sdp.no-direction.answer', true, `offer without any direction attribute answered ${seen}`, evidence);
    // PROTOCOLS.md E2/N21: the SDP default is sendrecv, so a rejection is worth a warning, never a failure.
    const accepted = invite.final !== null && invite.final.status >= 200 && invite.final.status < 300;
    t.observe(
      'invite.accepted.no-direction',
      accepted,
      accepted
        ? `accepted (${seen}): RFC 8866 §6.7 makes sendrecv the default`
        : `offer without any direction attribute answered ${seen}: RFC 8866 §6.7 makes sendrecv the default (literal CR reading; set ambiguity.noDirection to choose)`,
      evidence,
    );
    if (invite.session) await endSession(t, invite.session);
  },
});

export const INVITE_DIRECTION_CASES: readonly TestCaseDefinition[] = [...DIRECTION_TABLE.map(directionCase), noDirection];

/**
 * Test purposes for 7.3.12-1b (and its repeats 1c-iii, 1d-ii): once the session is established
 * the client subscribes to the conference event package of the group session identity, answers
 * NOTIFYs, keeps the subscription alive, and reads a 404 as "session inactive".
 */
import { measuredStallBetween } from '../harness/core/clock.ts';
import type { TraceEvent } from '../harness/core/trace.ts';
import type { ConferenceDocumentVariant, PfEvent } from '../harness/pf/types.ts';
import { parseExpires } from '../harness/sip/headers.ts';
import { headerValue, type SipMessage, type SipRequest } from '../harness/sip/message.ts';
import type { TestContext } from '../harness/testcase/context.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { endSession, establish, expectAbsent, leavesSession, ofType, statusText, describeLeaving, type Established } from './lib/steps.ts';
import { judgeSubscribe, subscribed, SUBSCRIBE_RULES, type SubscribeEvent } from './lib/subscription.ts';

const GROUP = 'conference';

const subscribeAfterAck = defineTestCase({
  id: 'sub-after-ack',
  title: 'SUBSCRIBE to the conference package once the session is established',
  purpose:
    'After INVITE/200/ACK the client subscribes (Event: conference) to the group session identity within the window. The PF holds its ACK briefly so a SUBSCRIBE sent before the session is confirmed shows.',
  group: GROUP,
  rules: SUBSCRIBE_RULES,
  async run(t) {
    const done = await establish(t, { ackDelayMs: t.windows.sideEffectMs });
    await judgeSubscribe(t, done);
    await endSession(t, done.session);
  },
});

/** 1b-i-a: the NOTIFY with the participant information is answered 200 and the session kept. */
async function judgeNotify(t: TestContext, done: Established, sub: SubscribeEvent, what: string): Promise<void> {
  const answered = await t.pf.events.waitFor(ofType('notify-answered', (e) => e.subscriptionId === sub.subscriptionId), { within: t.windows.subscribeMs, since: sub.seq });
  const response = answered?.type === 'notify-answered' ? answered.response : null;
  const ok = response?.status === 200;
  t.observe('notify.answered', ok, ok ? `${what} NOTIFY answered 200` : `${what} NOTIFY answered ${answered ? statusText(response) : 'nothing'}, expected 200 (RFC 6665 subscriber)`, answered);
  const notified = answered?.seq ?? sub.seq;
  await expectAbsent(t, 'notify.session-kept', leavesSession(done.session), {
    window: 'idleMs',
    since: notified,
    held: `the session kept for ${t.windows.idleMs} ms after the ${what} NOTIFY: the client treats the group as active`,
    seen: (e) => `after the ${what} NOTIFY showed the group active, the client ${describeLeaving(e)}`,
  });
}

const notifyActive = defineTestCase({
  id: 'sub-notify-active',
  title: 'NOTIFY with full participant information: 200 and the session is kept',
  purpose: '1b-i-a: the PF accepts the SUBSCRIBE and sends the full conference-info; the client answers 200 and, the group being active, keeps the session.',
  group: GROUP,
  rules: ['notify.answered', 'notify.session-kept'],
  async run(t) {
    t.pf.conference = { mode: 'active' };
    const done = await establish(t);
    const sub = await subscribed(t, done);
    await judgeNotify(t, done, sub, 'full conference-info');
    await endSession(t, done.session);
  },
});

/**
 * A new subscription to the group: an initial SUBSCRIBE to it that asks for one (an un-SUBSCRIBE,
 * Expires: 0, never creates a subscription, RFC 6665 §4.2.1.4).
 */
const resubscribes = (e: PfEvent): boolean => {
  if (e.type !== 'subscribe' || !e.initial || !e.matchedGroup) return false;
  const expires = headerValue(e.request, 'expires');
  const parsed = expires === undefined ? undefined : parseExpires(expires);
  return !(parsed?.ok && parsed.value === 0);
};

/** The event-log position where the PF ended this subscription (a terminated NOTIFY), if it did. */
function terminatedAt(t: TestContext, sub: SubscribeEvent): number {
  const ended = t.pf.events.since(sub.seq + 1).find(ofType('notify-sent', (e) => e.subscriptionId === sub.subscriptionId && /^\s*terminated/i.test(headerValue(e.request, 'subscription-state') ?? '')));
  return ended?.seq ?? Number.POSITIVE_INFINITY;
}

const inactive404 = defineTestCase({
  id: 'sub-404-inactive',
  title: 'SUBSCRIBE answered 404: no re-SUBSCRIBE, no BYE because of it',
  purpose: '1b-i-b: a 404 to the conference SUBSCRIBE means the group session is inactive; the client does not subscribe to it again within the window and does not hang up because of it.',
  group: GROUP,
  rules: ['sub404.no-resubscribe', 'sub404.no-bye', 'sub404.ut-inactive'],
  async run(t) {
    t.pf.conference = { mode: 'inactive-404' };
    const modeB = t.config.ambiguity.participantsOn404 === 'invite-resource-list';
    t.note(`last participants delivered by ${modeB ? 'a resource list in the INVITE (mode B)' : 'nothing in this case: mode A is exercised by sub-inactive-noresource'} (1b-i-c)`);
    const done = await establish(t, modeB ? { participantsInBody: true } : {});
    const sub = await subscribed(t, done, 404);
    const after = { window: 'quarantineMs', since: sub.seq + 1, evidence: sub } as const;
    await Promise.all([
      expectAbsent(t, 'sub404.no-resubscribe', resubscribes, {
        ...after,
        held: `no new SUBSCRIBE within ${t.windows.quarantineMs} ms of the 404`,
        seen: () => 'after the 404 the client subscribed again to the inactive group session',
      }),
      expectAbsent(t, 'sub404.no-bye', leavesSession(done.session), {
        ...after,
        held: `no BYE or MSRP close within ${t.windows.quarantineMs} ms of the 404`,
        seen: (e) => `after the 404 the client ${describeLeaving(e)} (the CR does not end the session for it)`,
      }),
    ]);
    if (t.ut?.supports.has('state')) {
      const state = await t.ut.state();
      if (state.ok) {
        const group = state.value.groups.find((g) => g.identity === t.pf.group.identity);
        const active = group?.state === 'active';
        t.observe('sub404.ut-inactive', !active, active ? 'the upper tester reports the group as active after the 404' : `upper tester group state after 404: ${group?.state ?? 'group not listed'}`);
      } else t.note(`upper tester state failed: ${state.message}`);
    }
    await endSession(t, done.session);
  },
});

const inactiveNoresource = defineTestCase({
  id: 'sub-inactive-noresource',
  title: 'last participants by NOTIFY, then terminated;reason=noresource: no re-SUBSCRIBE',
  purpose: '1b-i-c mode A: the PF accepts, delivers the last participants in a full NOTIFY and terminates the subscription with reason=noresource; the client does not subscribe again.',
  group: GROUP,
  rules: ['noresource.no-resubscribe'],
  async run(t) {
    t.pf.conference = { mode: 'notify-then-terminate' };
    const done = await establish(t);
    const sub = await subscribed(t, done);
    await expectAbsent(t, 'noresource.no-resubscribe', resubscribes, {
      window: 'quarantineMs',
      since: sub.seq + 1,
      evidence: sub,
      held: `no new SUBSCRIBE within ${t.windows.quarantineMs} ms of terminated;reason=noresource`,
      seen: () => 'subscribed again after the subscription was terminated with reason=noresource (group inactive)',
    });
    await endSession(t, done.session);
  },
});

/** The harness's own trace event of a SIP message (sent or received), matched by Call-ID, CSeq and start. */
function sipTraceEvent(t: TestContext, direction: 'in' | 'out', match: (m: SipMessage) => boolean): TraceEvent | undefined {
  return t.trace.find((e) => e.kind === 'message' && e.protocol === 'sip' && e.direction === direction && (e.actor ?? 'pf') === 'pf' && isSip(e.parsed) && match(e.parsed));
}

function isSip(x: unknown): x is SipMessage {
  return typeof x === 'object' && x !== null && ((x as SipMessage).kind === 'request' || (x as SipMessage).kind === 'response') && Array.isArray((x as SipMessage).headers);
}

/**
 * RFC 6665 §4.1.2.1: the subscriber refreshes *before* expiry. Judged on the trace's receive
 * stamps, both taken the same way: the subscription runs for `granted` seconds from the PF's
 * receipt of the SUBSCRIBE it granted (its 200 went out after that, so no client can have started
 * its own count earlier), and the refresh must be received strictly before that. A send stamp is
 * not used: it is taken when the write completes, which on a loaded machine can come after the
 * client already read the 200 and a refresh due exactly at expiry then measured as early.
 * Returns the margin in ms (negative: late) and the harness stalls credited in it.
 */
function refreshMargin(t: TestContext, sub: SubscribeEvent, refresh: SubscribeEvent): { margin: number; stalled: number } {
  const callId = headerValue(sub.request, 'call-id');
  const received = (request: SipRequest) => {
    const cseq = headerValue(request, 'cseq');
    return sipTraceEvent(t, 'in', (m) => m.kind === 'request' && m.method === 'SUBSCRIBE' && headerValue(m, 'call-id') === callId && headerValue(m, 'cseq') === cseq);
  };
  const granted = received(sub.request);
  const refreshed = received(refresh.request);
  if (!granted || !refreshed) return { margin: sub.at + sub.expires * 1000 - refresh.at, stalled: 0 };
  const [from, to] = [granted.monotonicMs, refreshed.monotonicMs];
  // Time the harness could not run in between (measured on the same performance.now() as the
  // stamps) is not the client's: it delayed reading the refresh, and an in-process client's timers
  // count only runnable time. Credited, as the harness's windows do.
  const stalled = measuredStallBetween(from, to);
  return { margin: from + sub.expires * 1000 - to + stalled, stalled };
}

const refreshShort = defineTestCase({
  id: 'sub-refresh-short',
  title: 'short subscription granted: refreshed before expiry, one subscription only',
  purpose: '1d-ii: the PF grants a short subscription; while participating the client refreshes it in-dialog strictly before it expires (RFC 6665 §4.1.2.1) and never holds a second one.',
  group: GROUP,
  rules: ['sub.refreshed', 'sub.single'],
  async run(t) {
    const seconds = t.windows.shortSubscriptionSeconds;
    t.pf.conference = { mode: 'active', grantExpires: seconds };
    const done = await establish(t);
    const sub = await subscribed(t, done);
    // Wait a little past expiry, so a late refresh is measured as late rather than missed.
    const refresh = (await t.pf.events.waitFor(ofType('subscribe', (e) => !e.initial && e.subscriptionId === sub.subscriptionId), {
      within: seconds * 1000 + t.windows.sideEffectMs,
      since: sub.seq + 1,
    })) as SubscribeEvent | null;
    // A new subscription once the PF has terminated the first one is allowed (RFC 6665 §4.1.3).
    const ended = terminatedAt(t, sub);
    const duplicate = t.pf.events.since(sub.seq + 1).find((e) => resubscribes(e) && e.seq < ended);
    t.observe(
      'sub.single',
      !duplicate,
      duplicate ? 'a second initial SUBSCRIBE for the same group while the first subscription was active' : `one subscription (no second initial SUBSCRIBE during the ${seconds} s subscription)`,
      [sub, duplicate],
    );
    if (!refresh) {
      t.observe('sub.refreshed', false, `the ${seconds} s subscription lapsed: no in-dialog refresh SUBSCRIBE`, sub);
    } else {
      const { margin, stalled } = refreshMargin(t, sub, refresh);
      const credit = stalled > 0 ? ` (${stalled.toFixed(0)} ms the harness could not run not counted)` : '';
      const into = `${((seconds * 1000 - margin) / 1000).toFixed(3)} s into a ${seconds} s subscription${credit}`;
      t.observe(
        'sub.refreshed',
        margin > 0,
        margin > 0
          ? `refreshed in-dialog ${into}, ${margin.toFixed(0)} ms before expiry`
          : `the refresh arrived ${into}, ${(-margin).toFixed(0)} ms at or after expiry: the subscription had lapsed (RFC 6665 §4.1.2.1: refresh before expiry)`,
        [sub, refresh],
      );
    }
    await endSession(t, done.session);
  },
});

interface RobustnessRow {
  variant: ConferenceDocumentVariant;
  title: string;
  ncase: string;
}

const ROBUSTNESS_ROWS: readonly RobustnessRow[] = [
  { variant: 'no-state-attribute', title: 'conference-info without the state attribute (schema default full)', ncase: 'N7' },
  { variant: 'user-without-entity', title: 'conference-info with a user without entity (schema-optional)', ncase: 'N7' },
  { variant: 'no-conference-description', title: 'conference-info without conference-description', ncase: 'N28' },
];

function robustnessCase(row: RobustnessRow): TestCaseDefinition {
  return defineTestCase({
    id: `sub-notify-${row.variant}`,
    title: `${row.title}: NOTIFY answered 200, session kept`,
    purpose: `Schema-legal conference-info the client must survive (PROTOCOLS.md ${row.ncase}); 1b-i-a is descriptive, so it is reported as information.`,
    group: GROUP,
    rules: ['notify.answered', 'notify.session-kept'],
    async run(t) {
      t.pf.conference = { mode: 'active', documentVariant: row.variant };
      const done = await establish(t);
      const sub = await subscribed(t, done);
      await judgeNotify(t, done, sub, `${row.variant} (${row.ncase})`);
      await endSession(t, done.session);
    },
  });
}

export const CONFERENCE_CASES: readonly TestCaseDefinition[] = [
  subscribeAfterAck,
  notifyActive,
  inactive404,
  inactiveNoresource,
  refreshShort,
  ...ROBUSTNESS_ROWS.map(robustnessCase),
];

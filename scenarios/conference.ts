/**
 * Test purposes for 7.3.12-1b (and its repeats 1c-iii, 1d-ii): once the session is established
 * the client subscribes to the conference event package of the group session identity, answers
 * NOTIFYs, keeps the subscription alive, and reads a 404 as "session inactive".
 */
import type { ConferenceDocumentVariant, InviteSpec, PfEventOf } from '../harness/pf/types.ts';
import type { TestContext } from '../harness/testcase/context.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { endSession, establish, ofType, statusText, type Established } from './lib/steps.ts';
import { expectSubscribe } from './lib/subscription.ts';

const GROUP = 'conference';

/**
 * Sets up the session and waits for the initial SUBSCRIBE (judged under 1b-sub). Without a
 * subscription the `dependent` requirement cannot be judged: recorded, session ended, null.
 */
async function establishSubscribed(
  t: TestContext,
  dependent: string,
  spec: InviteSpec = {},
): Promise<(Established & { sub: PfEventOf<'subscribe'> }) | null> {
  const done = await establish(t, spec);
  if (!done) return null;
  const sub = await expectSubscribe(t, done, '7.3.12-1b-sub');
  if (!sub) {
    t.notJudged(dependent, 'no subscription');
    await endSession(t, done.session);
    return null;
  }
  return { ...done, sub };
}

const subscribeAfterAck = defineTestCase({
  id: 'sub-after-ack',
  title: 'SUBSCRIBE to the conference package once the session is established',
  purpose:
    'After INVITE/200/ACK the client subscribes (Event: conference) to the group session identity within the window. The PF holds its ACK briefly so a SUBSCRIBE sent before the session is confirmed shows.',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1b-sub'],
  async run(t) {
    const done = await establish(t, { ackDelayMs: t.windows.sideEffectMs });
    if (!done) {
      t.notJudged('7.3.12-1b-sub', 'no session was established');
      return;
    }
    await expectSubscribe(t, done, '7.3.12-1b-sub');
    await endSession(t, done.session);
  },
});

const notifyActive = defineTestCase({
  id: 'sub-notify-active',
  title: 'NOTIFY with full participant information: 200 and the session is kept',
  purpose: '1b-i-a: the PF accepts the SUBSCRIBE and sends the full conference-info; the client answers 200 and, the group being active, keeps the session.',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1b-sub', '7.3.12-1b-i-a'],
  async run(t) {
    t.pf.conference = { mode: 'active' };
    const done = await establishSubscribed(t, '7.3.12-1b-i-a');
    if (!done) return;
    const { sub } = done;
    const answered = await t.pf.events.waitFor(ofType('notify-answered', (e) => e.subscriptionId === sub.subscriptionId), { within: t.windows.subscribeMs, since: sub.seq });
    if (!answered || answered.type !== 'notify-answered' || !answered.response || answered.response.status !== 200) {
      const got = answered && answered.type === 'notify-answered' ? statusText(answered.response) : 'nothing';
      t.violation('7.3.12-1b-i-a', `NOTIFY with the participant information answered ${got}, expected 200 (RFC 6665 subscriber)`, answered);
    } else {
      const left = await t.pf.events.expectNone((e) => e.type === 'client-bye' || (e.type === 'msrp-connection' && e.state === 'closed' && e.by === 'peer'), {
        within: t.windows.idleMs,
      });
      if (left) t.violation('7.3.12-1b-i-a', 'after the NOTIFY showed the group active, the client left the session', left);
      else t.pass('7.3.12-1b-i-a', 'NOTIFY answered 200 and the session kept: the client treats the group as active', answered);
    }
    await endSession(t, done.session);
  },
});

const inactive404 = defineTestCase({
  id: 'sub-404-inactive',
  title: 'SUBSCRIBE answered 404: no re-SUBSCRIBE, no BYE because of it',
  purpose: '1b-i-b: a 404 to the conference SUBSCRIBE means the group session is inactive; the client does not subscribe to it again within the window and does not hang up because of it.',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1b-sub', '7.3.12-1b-i-b'],
  async run(t) {
    t.pf.conference = { mode: 'inactive-404' };
    const modeB = t.config.ambiguity.participantsOn404 === 'invite-resource-list';
    t.note(`last participants delivered by ${modeB ? 'a resource list in the INVITE (mode B)' : 'nothing in this case: mode A is exercised by sub-inactive-noresource'} (1b-i-c)`);
    const done = await establish(t, modeB ? { participantsInBody: true } : {});
    if (!done) return;
    const sub = await expectSubscribe(t, done, '7.3.12-1b-sub');
    if (!sub || sub.answeredWith !== 404) {
      t.notJudged('7.3.12-1b-i-b', sub ? `the PF answered ${sub.answeredWith}` : 'no SUBSCRIBE to answer with 404');
      await endSession(t, done.session);
      return;
    }
    const again = await t.pf.events.expectNone(
      (e) => (e.type === 'subscribe' && e.initial && e.matchedGroup) || e.type === 'client-bye',
      { within: t.windows.quarantineMs, since: sub.seq + 1 },
    );
    if (again) {
      const what = again.type === 'client-bye' ? 'sent BYE after the 404 (the CR does not end the session for it)' : 'subscribed again to the inactive group session';
      t.violation('7.3.12-1b-i-b', `after the 404 the client ${what}`, [sub, again]);
    } else {
      t.pass('7.3.12-1b-i-b', `no new SUBSCRIBE and no BYE within ${t.windows.quarantineMs} ms of the 404`, sub);
    }
    if (t.ut?.supports.has('state')) {
      const state = await t.ut.state();
      if (state.ok) {
        const group = state.value.groups.find((g) => g.identity === t.pf.group.identity);
        if (group?.state === 'active') t.violation('7.3.12-1b-i-b', 'the upper tester reports the group as active after the 404');
        else t.note(`upper tester group state after 404: ${group?.state ?? 'group not listed'}`);
      }
    }
    await endSession(t, done.session);
  },
});

const inactiveNoresource = defineTestCase({
  id: 'sub-inactive-noresource',
  title: 'last participants by NOTIFY, then terminated;reason=noresource: no re-SUBSCRIBE',
  purpose: '1b-i-c mode A: the PF accepts, delivers the last participants in a full NOTIFY and terminates the subscription with reason=noresource; the client does not subscribe again.',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1b-sub', '7.3.12-1b-i-b'],
  async run(t) {
    t.pf.conference = { mode: 'notify-then-terminate' };
    const done = await establishSubscribed(t, '7.3.12-1b-i-b');
    if (!done) return;
    const { sub } = done;
    const again = await t.pf.events.expectNone(ofType('subscribe', (e) => e.initial && e.matchedGroup), { within: t.windows.quarantineMs, since: sub.seq + 1 });
    if (again) t.violation('7.3.12-1b-i-b', 'subscribed again after the subscription was terminated with reason=noresource (group inactive)', [sub, again], 'U');
    else t.pass('7.3.12-1b-i-b', `no new SUBSCRIBE within ${t.windows.quarantineMs} ms of terminated;reason=noresource`, sub, 'U');
    await endSession(t, done.session);
  },
});

const refreshShort = defineTestCase({
  id: 'sub-refresh-short',
  title: 'short subscription granted: refreshed before expiry, one subscription only',
  purpose: '1d-ii: the PF grants a short subscription; while participating the client refreshes it in-dialog before it expires and never holds a second one.',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1b-sub', '7.3.12-1d-ii'],
  async run(t) {
    const seconds = t.windows.shortSubscriptionSeconds;
    t.pf.conference = { mode: 'active', grantExpires: seconds };
    const done = await establishSubscribed(t, '7.3.12-1d-ii');
    if (!done) return;
    const { sub } = done;
    const refresh = await t.pf.events.waitFor(ofType('subscribe', (e) => !e.initial && e.subscriptionId === sub.subscriptionId), {
      within: seconds * 1000,
      since: sub.seq + 1,
    });
    const duplicate = t.pf.events.since(sub.seq + 1).find(ofType('subscribe', (e) => e.initial && e.matchedGroup));
    if (duplicate) t.violation('7.3.12-1d-ii', 'a second initial SUBSCRIBE for the same group while the first subscription was active', [sub, duplicate]);
    else if (!refresh) t.violation('7.3.12-1d-ii', `the ${seconds} s subscription lapsed: no refresh SUBSCRIBE before it expired`, sub);
    else t.pass('7.3.12-1d-ii', `refreshed in-dialog ${((refresh.at - sub.at) / 1000).toFixed(2)} s into a ${seconds} s subscription`, [sub, refresh]);
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
    purpose: `Schema-legal conference-info the client must survive (PROTOCOLS.md ${row.ncase}); robustness, reported as a warning when it does not.`,
    group: GROUP,
    requirements: ['7.3.12-1a-i', '7.3.12-1b-sub', '7.3.12-1b-i-a'],
    async run(t) {
      t.pf.conference = { mode: 'active', documentVariant: row.variant };
      const done = await establishSubscribed(t, '7.3.12-1b-i-a');
      if (!done) return;
      const { sub } = done;
      const answered = await t.pf.events.waitFor(ofType('notify-answered', (e) => e.subscriptionId === sub.subscriptionId), { within: t.windows.subscribeMs, since: sub.seq });
      const left = await t.pf.events.expectNone((e) => e.type === 'client-bye', { within: t.windows.idleMs });
      const ok = answered?.type === 'notify-answered' && answered.response?.status === 200 && !left;
      if (ok) t.pass('7.3.12-1b-i-a', `${row.variant} NOTIFY answered 200 and the session kept`, answered);
      else t.warn('7.3.12-1b-i-a', `${row.variant} NOTIFY: ${answered?.type === 'notify-answered' ? statusText(answered.response) : 'no answer'}${left ? ', then the client left the session' : ''} (${row.ncase})`, [answered, left]);
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

/**
 * Test purposes that need the upper tester: the client sends its own group messages on the
 * PF-initiated session (1a-i-3, 1d-i), subscribes if it has not (1d-ii), re-joins only when it has
 * something to send (2a, NOTE), and after a 404 sends a later message through re-join (1b-i-b).
 */
import type { DeferredSession, PfEvent, PfEventOf } from '../harness/pf/types.ts';
import { CPM_SESSION_ICSI, hasIcsi } from '../harness/sip/caller-prefs.ts';
import { headerValues } from '../harness/sip/message.ts';
import type { TestContext } from '../harness/testcase/context.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { endSession, establish, expectAbsent, is2xx, ofType, statusText, targetsGroup } from './lib/steps.ts';
import { judgeFlowSubscribed, subscribed } from './lib/subscription.ts';
import type { RuleId } from '../harness/verdict/rules.ts';

const GROUP = 'outgoing';

/** The client's own chat message with this text, on any MSRP session. */
function ownMessage(text: string): (e: PfEvent) => boolean {
  return ofType('msrp-message', (e) => !e.imdn && (e.cpim?.content.toString('utf8').includes(text) ?? e.body.toString('utf8').includes(text)));
}

/** The ways a message can leave a client other than on `session`. */
function sentElsewhere(session: DeferredSession | null, text: string): (e: PfEvent) => boolean {
  return (e) =>
    (e.type === 'client-invite' && !e.inDialog) ||
    (e.type === 'client-request' && e.request.method === 'MESSAGE' && e.request.body.toString('utf8').includes(text)) ||
    (ownMessage(text)(e) && (!session || (e as PfEventOf<'msrp-message'>).sessionId !== session.id));
}

async function judgeSentOnSession(t: TestContext, rule: RuleId, session: DeferredSession, text: string, since: number): Promise<void> {
  const found = await t.pf.events.waitFor((e) => ownMessage(text)(e) || sentElsewhere(session, text)(e), { within: t.windows.imdnMs, since });
  if (!found) {
    t.observe(rule, false, `the user's message was not sent within ${t.windows.imdnMs} ms`);
    return;
  }
  if (found.type === 'msrp-message' && found.sessionId === session.id) {
    t.observe(rule, true, 'the user\'s message was sent via MSRP on the PF-initiated session', found);
    return;
  }
  const how =
    found.type === 'client-invite' ? 'by a new INVITE (re-join) while the PF-initiated session was up' : found.type === 'client-request' ? 'as a SIP MESSAGE' : 'on another MSRP session';
  t.observe(rule, false, `the user's message was sent ${how}, not on the PF-initiated session`, found);
}

const newMessageOnSession = defineTestCase({
  id: 'out-new-message-on-session',
  needs: ['msrp'],
  title: 'new message composed during the session is sent on it (UT)',
  purpose: '1a-i-3: with the PF-initiated session up, the user composes a group message; the client sends it via MSRP on that session, not by re-join or pager mode.',
  group: GROUP,
  rules: ['outgoing.on-session'],
  upperTester: ['queueMessage'],
  async run(t) {
    const ut = t.requireUt('queueMessage');
    const done = await establish(t);
    const text = 'Composed during the deferred-delivery session';
    const mark = t.pf.events.mark();
    const queued = await ut.queueMessage(t.pf.group.identity, text);
    if (!queued.ok) t.prerequisite('the upper tester composes a message', queued.message);
    await judgeSentOnSession(t, 'outgoing.on-session', done.session, text, mark);
    await endSession(t, done.session);
  },
});

/** Offline → compose → online: the message is pending when the PF's INVITE arrives. */
async function pendingWhileOffline(t: TestContext, text: string): Promise<number> {
  const ut = t.requireUt('goOffline', 'queueMessage', 'goOnline');
  const step = 'the client goes offline, a message is queued, it comes back online and registers';
  const off = await ut.goOffline();
  const queued = off.ok ? await ut.queueMessage(t.pf.group.identity, text) : off;
  if (!queued.ok) t.prerequisite(step, `upper tester failed: ${queued.message}`);
  const mark = t.pf.events.mark();
  const on = await ut.goOnline();
  if (!on.ok) t.prerequisite(step, `upper tester goOnline failed: ${on.message}`);
  const registered = await t.pf.events.waitFor(ofType('register', (e) => e.expires > 0), { within: t.windows.registrationMs, since: mark });
  if (!registered) t.prerequisite(step, `no REGISTER within ${t.windows.registrationMs} ms of coming online`);
  return mark;
}

const queuedOnPfSession = defineTestCase({
  id: 'out-queued-on-pf-session',
  needs: ['msrp'],
  title: 'message queued while offline is sent on the PF-initiated session (UT)',
  purpose: '1d-i/1d-ii: the client comes online with a pending message and the PF invites it at once; the client sends the message via MSRP on that session (not by re-join) and subscribes to the conference package.',
  group: GROUP,
  rules: ['queued.on-session', 'with-queued.subscribed'],
  upperTester: ['goOffline', 'queueMessage', 'goOnline'],
  async run(t) {
    const text = 'Written while offline';
    const mark = await pendingWhileOffline(t, text);
    const done = await establish(t);
    await judgeSentOnSession(t, 'queued.on-session', done.session, text, mark);
    await judgeFlowSubscribed(t, done, 'with-queued.subscribed');
    await endSession(t, done.session);
  },
});

const rejoinWithQueued = defineTestCase({
  id: 'out-rejoin-with-queued',
  needs: ['msrp'],
  title: 'back online with a queued message and no PF INVITE: re-join (MAY), then the message',
  purpose: '2a: the client may re-join the group session per 7.3.1.5: INVITE to the group session identity with the CPM feature tag and a sendrecv MSRP offer, then the message via MSRP.',
  group: GROUP,
  rules: ['rejoin.observed', 'rejoin.form', 'rejoin.message-follows'],
  upperTester: ['goOffline', 'queueMessage', 'goOnline'],
  async run(t) {
    t.pf.rejoin = { answer: 'accept' };
    const text = 'Queued for the re-join';
    const mark = await pendingWhileOffline(t, text);
    const rejoin = (await t.pf.events.waitFor(ofType('client-invite', (e) => !e.inDialog), { within: t.windows.rejoinObserveMs, since: mark })) as PfEventOf<'client-invite'> | null;
    if (!rejoin) {
      t.observe('rejoin.observed', true, `no re-join INVITE within ${t.windows.rejoinObserveMs} ms (re-join is optional)`);
      return;
    }
    t.observe('rejoin.observed', true, `re-joined with INVITE ${rejoin.request.uri} (answered ${rejoin.answeredWith})`, rejoin);
    const problems: string[] = [];
    if (!targetsGroup(t, rejoin.request.uri)) problems.push(`Request-URI ${rejoin.request.uri} is not the group session identity`);
    if (!hasIcsi(headerValues(rejoin.request, 'accept-contact'), CPM_SESSION_ICSI).present) problems.push('no CPM feature tag in Accept-Contact');
    t.observe('rejoin.form', problems.length === 0, problems.length === 0 ? 'INVITE to the group session identity with the CPM feature tag' : `re-join INVITE deviates from 7.3.1.5 as digested: ${problems.join('; ')}`, rejoin);
    const session = rejoin.session;
    const sent = session ? await t.pf.events.waitFor(ownMessage(text), { within: t.windows.imdnMs + t.windows.msrpConnectMs, since: mark }) : null;
    t.observe('rejoin.message-follows', sent !== null, sent ? 'the queued message followed via MSRP on the re-joined session' : 'the client re-joined, but the queued message did not follow', [rejoin, sent]);
    if (session) await endSession(t, session);
  },
});

const noIdleRejoin = defineTestCase({
  id: 'out-no-idle-rejoin',
  title: 'back online with nothing to send: no re-join INVITE',
  purpose: 'NOTE: the PF will invite the client itself; a client with no message to send SHOULD NOT re-join (PROTOCOLS.md N15).',
  group: GROUP,
  rules: ['rejoin.idle'],
  upperTester: ['goOffline', 'goOnline'],
  async run(t) {
    const ut = t.requireUt('goOffline', 'goOnline');
    const off = await ut.goOffline();
    const mark = t.pf.events.mark();
    const on = off.ok ? await ut.goOnline() : off;
    if (!on.ok) t.prerequisite('the client goes offline and comes back online', `upper tester failed: ${on.message}`);
    await expectAbsent(t, 'rejoin.idle', ofType('client-invite', (e) => !e.inDialog), {
      window: 'rejoinObserveMs',
      since: mark,
      held: `no re-join INVITE within ${t.windows.rejoinObserveMs} ms of coming back online with an empty outbox`,
      seen: () => 'the client re-joined the group session with nothing to send',
    });
  },
});

const messageAfter404 = defineTestCase({
  id: 'out-message-after-404-rejoins',
  title: 'after a 404 to SUBSCRIBE and the PF\'s BYE, a new message goes through re-join (UT)',
  purpose: '1b-i-b: the group being inactive, a later user message is sent through re-join (7.3.1.5) rather than as if the session were active.',
  group: GROUP,
  rules: ['sub404.rejoin-later'],
  upperTester: ['queueMessage'],
  async run(t) {
    const ut = t.requireUt('queueMessage');
    t.pf.conference = { mode: 'inactive-404' };
    t.pf.rejoin = { answer: 'accept' };
    const done = await establish(t);
    await subscribed(t, done, 404);
    const bye = await endSession(t, done.session);
    // Over is over: a 481 means the client had already ended the dialog itself.
    if (bye && !is2xx(bye.response) && bye.response?.status !== 481) {
      t.prerequisite('the deferred-delivery session is over', `the PF's BYE got ${bye.response ? statusText(bye.response) : (bye.failure ?? 'no response')}`);
    }
    const text = 'After the group went quiet';
    const mark = t.pf.events.mark();
    const queued = await ut.queueMessage(t.pf.group.identity, text);
    if (!queued.ok) t.prerequisite('the upper tester composes a message', queued.message);
    const first = await t.pf.events.waitFor((e) => (e.type === 'client-invite' && !e.inDialog) || sentElsewhere(null, text)(e), { within: t.windows.rejoinObserveMs, since: mark });
    if (first?.type === 'client-invite') {
      t.observe('sub404.rejoin-later', true, 'the later message went through a re-join INVITE', first);
      if (first.session) await endSession(t, first.session);
    } else if (first) t.observe('sub404.rejoin-later', false, 'the later message was sent without re-joining the inactive group session', first);
    else t.observe('sub404.rejoin-later', false, `the later message was not sent at all within ${t.windows.rejoinObserveMs} ms`);
  },
});

export const OUTGOING_CASES: readonly TestCaseDefinition[] = [newMessageOnSession, queuedOnPfSession, rejoinWithQueued, noIdleRejoin, messageAfter404];

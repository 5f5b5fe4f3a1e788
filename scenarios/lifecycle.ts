/**
 * Test purposes for 7.3.12-1b-wait and 7.3.12-1c: with nothing to send the client subscribes,
 * returns the requested IMDNs via MSRP, and waits for the PF to end the deferred delivery — no
 * BYE, no MSRP close, no re-INVITE to inactive of its own — then answers the PF's BYE with 2xx.
 */
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { deliver, delivered200, endSession, endSessionJudged, establish, keepsSession } from './lib/steps.ts';
import { awaitNotification, judgeRequested, NOTIFICATION_CONTENT_RULES } from './lib/notifications.ts';
import { judgeFlowSubscribed } from './lib/subscription.ts';

const GROUP = 'lifecycle';

const nothingToSend = defineTestCase({
  id: 'deferred-nothing-to-send',
  needs: ['msrp'],
  title: 'nothing to send: subscribe, return IMDNs via MSRP, wait for the PF\'s BYE, answer it 2xx',
  purpose: 'The whole 1c ladder: two deferred messages requesting delivery notifications; the client subscribes (1c-iii), returns both IMDNs via MSRP (1c-ii), stays until the PF ends the delivery and answers its BYE (1c-i).',
  group: GROUP,
  rules: ['session.kept', 'msrp.send-200', 'nothing-to-send.subscribed', 'nothing-to-send.imdn.returned', ...NOTIFICATION_CONTENT_RULES, 'bye.answered', 'bye.media-stops'],
  async run(t) {
    const done = await establish(t);
    await judgeFlowSubscribed(t, done, 'nothing-to-send.subscribed');
    const since = t.pf.events.mark();
    for (const text of ['Deferred one: are we still on for Saturday?', 'Deferred two: bring the map.']) {
      const delivery = await deliver(t, done.session, { text, disposition: ['positive-delivery'] });
      if (!delivery) break;
      const found = await awaitNotification(t, done.session, delivery, 'delivery', { anyId: true });
      judgeRequested(t, done.session, delivery, found, { what: `delivery notification for "${text}"`, flow: 'nothing-to-send' });
    }
    if (await keepsSession(t, done.session, { rule: 'session.kept', window: 'idleMs', since, what: 'after the deferred messages' })) await endSessionJudged(t, done.session);
    else await endSession(t, done.session);
  },
});

const waitWhileDelayed = defineTestCase({
  id: 'deferred-wait-while-delayed',
  needs: ['msrp'],
  title: 'PF delays the deferred delivery: the client keeps the session',
  purpose: '1b-wait: after the session is set up the PF waits before delivering; the client SHOULD wait for the deferred messages rather than leave.',
  group: GROUP,
  rules: ['session.kept-while-delayed', 'session.kept'],
  async run(t) {
    const done = await establish(t);
    const stayed = await keepsSession(t, done.session, { rule: 'session.kept-while-delayed', window: 'deliveryDelayMs', what: 'before any deferred message arrived' });
    if (stayed) await delivered200(t, done.session, { disposition: null });
    await endSession(t, done.session);
  },
});

const byeAnswered = defineTestCase({
  id: 'deferred-pf-bye',
  title: 'PF ends the deferred delivery with BYE: 2xx, session over',
  purpose: '1c-i / RFC 3261 §15.1.2: the client answers the PF\'s BYE with 2xx and stops using the MSRP session (PROTOCOLS.md N14).',
  group: GROUP,
  rules: ['session.kept', 'bye.answered', 'bye.media-stops'],
  async run(t) {
    const done = await establish(t);
    if (t.config.pics.msrp) await delivered200(t, done.session, { disposition: null });
    await endSessionJudged(t, done.session);
  },
});

export const LIFECYCLE_CASES: readonly TestCaseDefinition[] = [nothingToSend, waitWhileDelayed, byeAnswered];

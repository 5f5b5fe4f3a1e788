/**
 * Test purposes for 7.3.12-1a-i-2 and 7.3.12-1b-ii and the IMDN rules under them: the client
 * returns exactly the requested notifications (delivery; display once the user displayed the
 * message), via MSRP on the PF-initiated session, once per message, with the fields of RFC 5438.
 */
import type { DispositionKind } from '../harness/pf/types.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { deliver, endSession, establish } from './lib/steps.ts';
import { awaitNotification, judgeNotification, judgeReturned, judgeRoute, notificationsSince } from './lib/notifications.ts';

const GROUP = 'imdn';

const deliveryNotification = defineTestCase({
  id: 'imdn-delivery',
  title: 'positive-delivery requested: one delivery notification via MSRP on this session',
  purpose: 'A deferred message requesting positive-delivery gets its delivery IMDN over MSRP on the PF-initiated session, CPIM-wrapped, fields matching the message.',
  group: GROUP,
  needs: ['msrp'],
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1a-i-2', '7.3.12-1b-ii', 'imdn-fields', 'imdn-envelope'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { disposition: ['positive-delivery'] });
    if (!delivery) return;
    const found = await awaitNotification(t, done.session, delivery, 'delivery', { anyId: true });
    judgeReturned(t, '7.3.12-1b-ii', found, delivery, 'delivery notification');
    if (!found) {
      t.notJudged('7.3.12-1a-i-2', 'no delivery notification at all');
      t.notJudged('imdn-fields', 'no delivery notification');
      t.notJudged('imdn-envelope', 'no delivery notification');
    } else {
      judgeRoute(t, '7.3.12-1a-i-2', found, 'delivery notification');
      judgeNotification(t, done.session, delivery, found);
    }
    await endSession(t, done.session);
  },
});

const displayNotification = defineTestCase({
  id: 'imdn-display',
  title: 'display requested and displayed (UT): display notification via MSRP',
  purpose: 'After the user displays the message (upper tester markDisplayed) the client sends the requested display IMDN over MSRP on the session.',
  group: GROUP,
  needs: ['msrp'],
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1b-ii', '7.3.12-1c-i', 'imdn-fields', 'imdn-envelope'],
  upperTester: ['markDisplayed'],
  async run(t) {
    const ut = t.requireUt('markDisplayed');
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { disposition: ['positive-delivery', 'display'] });
    if (!delivery) return;
    const early = await t.pf.events.expectNone((e) => e.type === 'msrp-message' && e.imdn?.kind === 'display', { within: t.windows.sideEffectMs, since: delivery.startSeq });
    if (early) t.note('a display notification arrived before the upper tester displayed the message');
    // Nothing to send: the client must still be in the session when the user displays the message.
    const left = t.pf.events.since(delivery.startSeq).find((e) => e.type === 'client-bye' || (e.type === 'msrp-connection' && e.state === 'closed' && e.by === 'peer'));
    if (left) {
      t.violation('7.3.12-1c-i', 'the client ended the session before the PF did, so the display notification has no session to go on', left);
      t.notJudged('7.3.12-1b-ii', 'the client left the session before the message was displayed');
      t.notJudged('imdn-fields', 'no session for the display notification');
      t.notJudged('imdn-envelope', 'no session for the display notification');
      return;
    }
    t.pass('7.3.12-1c-i', 'the client kept the session while the message awaited display');
    const mark = t.pf.events.mark();
    const shown = await ut.markDisplayed(delivery.imdnMessageId);
    if (!shown.ok) {
      t.notJudged('7.3.12-1b-ii', `upper tester markDisplayed failed: ${shown.message}`);
      t.notJudged('imdn-fields', 'message not displayed');
      t.notJudged('imdn-envelope', 'message not displayed');
      await endSession(t, done.session);
      return;
    }
    const found = await awaitNotification(t, done.session, delivery, 'display', { since: early ? delivery.startSeq : mark, anyId: true });
    judgeReturned(t, '7.3.12-1b-ii', found, delivery, 'display notification (after the user displayed the message)');
    if (!found) {
      t.notJudged('imdn-fields', 'no display notification');
      t.notJudged('imdn-envelope', 'no display notification');
    } else judgeNotification(t, done.session, delivery, found, { userDisplayed: true });
    await endSession(t, done.session);
  },
});

interface NotRequestedRow {
  name: string;
  title: string;
  disposition: DispositionKind[] | null;
  /** Notification kinds that must not come. */
  forbidden: readonly ('delivery' | 'display')[];
}

const NOT_REQUESTED_ROWS: readonly NotRequestedRow[] = [
  { name: 'none', title: 'no IMDN requested: no notification', disposition: null, forbidden: ['delivery', 'display'] },
  { name: 'display-only', title: 'only display requested, not displayed: no delivery notification', disposition: ['display'], forbidden: ['delivery'] },
];

function notRequestedCase(row: NotRequestedRow): TestCaseDefinition {
  return defineTestCase({
    id: `imdn-not-requested-${row.name}`,
    title: row.title,
    purpose: 'The CR asks for "the requested IMDN"; notifications of a kind that was not requested are reported (PROTOCOLS.md N9; RFC 5438 §6).',
    group: GROUP,
    needs: ['msrp'],
    requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', 'imdn-not-requested'],
    async run(t) {
      const done = await establish(t);
      if (!done) return;
      const delivery = await deliver(t, done.session, { disposition: row.disposition });
      if (!delivery) return;
      const offending = await t.pf.events.expectNone(
        (e) =>
          notificationsSince(t, delivery.startSeq).some((n) => n.event === e) &&
          (e.type !== 'msrp-message' || !e.imdn?.kind || row.forbidden.includes(e.imdn.kind as 'delivery' | 'display')),
        { within: t.windows.imdnMs, since: delivery.startSeq },
      );
      if (offending) t.violation('imdn-not-requested', `a notification was sent although ${row.disposition ? `only ${row.disposition.join(', ')} was` : 'none was'} requested`, offending);
      else t.pass('imdn-not-requested', `no unrequested notification within ${t.windows.imdnMs} ms`);
      await endSession(t, done.session);
    },
  });
}

const oncePerMessage = defineTestCase({
  id: 'imdn-once-chunked',
  title: 'chunked message: exactly one delivery notification',
  purpose: 'A message delivered in several chunks is one message: one delivery IMDN, not one per chunk.',
  group: GROUP,
  needs: ['msrp'],
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1b-ii', 'imdn-once'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { chunkSize: 48, disposition: ['positive-delivery'] });
    if (!delivery) return;
    const first = await awaitNotification(t, done.session, delivery, 'delivery', { anyId: true });
    if (!judgeReturned(t, '7.3.12-1b-ii', first, delivery, 'delivery notification')) {
      t.notJudged('imdn-once', 'no notification for this message to count');
      await endSession(t, done.session);
      return;
    }
    // Let any duplicates arrive before counting.
    await t.pf.events.expectNone(() => false, { within: t.windows.imdnMs });
    const all = notificationsSince(t, delivery.startSeq).filter((n) => n.msrp?.imdn?.kind === 'delivery' && n.msrp.imdn.messageId === delivery.imdnMessageId);
    t.check(
      'imdn-once',
      all.length === 1,
      `one delivery notification for a ${delivery.chunks.length}-chunk message`,
      `${all.length} delivery notifications for one ${delivery.chunks.length}-chunk message`,
      all.map((n) => n.event),
    );
    await endSession(t, done.session);
  },
});

export const IMDN_CASES: readonly TestCaseDefinition[] = [deliveryNotification, displayNotification, ...NOT_REQUESTED_ROWS.map(notRequestedCase), oncePerMessage];

/**
 * Test purposes for 7.3.12-1a-i-2 and 7.3.12-1b-ii and the IMDN rules under them: the client
 * returns exactly the requested notifications (delivery; display once the user displayed the
 * message), via MSRP on the PF-initiated session, once per message, with the fields of RFC 5438.
 */
import type { DispositionKind } from '../harness/pf/types.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { deliver, endSession, establish } from './lib/steps.ts';
import { awaitNotification, judgeNotification, judgeRoute, notificationsSince } from './lib/notifications.ts';

const GROUP = 'imdn';

const deliveryNotification = defineTestCase({
  id: 'imdn-delivery',
  title: 'positive-delivery requested: one delivery notification via MSRP on this session',
  purpose: 'A deferred message requesting positive-delivery gets its delivery IMDN over MSRP on the PF-initiated session, CPIM-wrapped, fields matching the message.',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1a-i-2', '7.3.12-1b-ii', 'imdn-fields', 'imdn-envelope'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { disposition: ['positive-delivery'] });
    if (!delivery) return;
    const found = await awaitNotification(t, done.session, delivery, 'delivery', { anyId: true });
    if (!found) {
      t.violation('7.3.12-1b-ii', `no delivery notification within ${t.windows.imdnMs} ms although positive-delivery was requested`);
      t.notJudged('7.3.12-1a-i-2', 'no delivery notification at all');
      t.notJudged('imdn-fields', 'no delivery notification');
      t.notJudged('imdn-envelope', 'no delivery notification');
    } else {
      judgeRoute(t, '7.3.12-1a-i-2', found, 'delivery notification');
      if (found.route === 'sip-message') t.violation('7.3.12-1b-ii', 'the requested IMDN was not returned via MSRP (sent as SIP MESSAGE)', found.event);
      else t.pass('7.3.12-1b-ii', 'requested delivery notification returned via MSRP', found.event);
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
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1b-ii', 'imdn-fields', 'imdn-envelope'],
  upperTester: ['markDisplayed'],
  async run(t) {
    const ut = t.requireUt('markDisplayed');
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { disposition: ['positive-delivery', 'display'] });
    if (!delivery) return;
    const early = await t.pf.events.expectNone((e) => e.type === 'msrp-message' && e.imdn?.kind === 'display', { within: t.windows.sideEffectMs, since: delivery.startSeq });
    if (early) t.note('a display notification arrived before the upper tester displayed the message');
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
    if (!found) {
      t.violation('7.3.12-1b-ii', `no display notification within ${t.windows.imdnMs} ms of the user displaying the message`);
      t.notJudged('imdn-fields', 'no display notification');
      t.notJudged('imdn-envelope', 'no display notification');
    } else {
      if (found.route === 'msrp-this-session') t.pass('7.3.12-1b-ii', 'display notification returned via MSRP after the message was displayed', found.event);
      else t.violation('7.3.12-1b-ii', `display notification not returned via MSRP on the session (${found.route})`, found.event);
      judgeNotification(t, done.session, delivery, found, { userDisplayed: true });
    }
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
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1b-ii', 'imdn-once'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { chunkSize: 48, disposition: ['positive-delivery'] });
    if (!delivery) return;
    const first = await awaitNotification(t, done.session, delivery, 'delivery');
    if (!first) {
      t.violation('7.3.12-1b-ii', `no delivery notification within ${t.windows.imdnMs} ms`);
      t.notJudged('imdn-once', 'no notification to count');
      await endSession(t, done.session);
      return;
    }
    t.pass('7.3.12-1b-ii', 'delivery notification returned', first.event);
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

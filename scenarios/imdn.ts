/**
 * Test purposes for 7.3.12-1a-i-2 and 7.3.12-1b-ii and the IMDN rules under them: the client
 * returns exactly the requested notifications (delivery; display once the user displayed the
 * message), via MSRP on the PF-initiated session, once per message, with the fields of RFC 5438.
 */
import type { DispositionKind } from '../harness/pf/types.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { delivered200, endSession, establish, expectAbsent, keepsSession } from './lib/steps.ts';
import { awaitNotification, judgeOnSession, judgeRequested, notificationsFor, notificationsSince, REQUESTED_NOTIFICATION_RULES } from './lib/notifications.ts';

const GROUP = 'imdn';

const deliveryNotification = defineTestCase({
  id: 'imdn-delivery',
  title: 'positive-delivery requested: one delivery notification via MSRP on this session',
  purpose: 'A deferred message requesting positive-delivery gets its delivery IMDN over MSRP on the PF-initiated session, CPIM-wrapped, fields matching the message.',
  group: GROUP,
  needs: ['msrp'],
  rules: ['imdn.session', ...REQUESTED_NOTIFICATION_RULES, 'session.kept'],
  async run(t) {
    const done = await establish(t);
    const delivery = await delivered200(t, done.session, { disposition: ['positive-delivery'] });
    const found = await awaitNotification(t, done.session, delivery, 'delivery', { anyId: true });
    if (found) judgeOnSession(t, found, 'delivery notification');
    judgeRequested(t, done.session, delivery, found, { what: 'delivery notification' });
    await endSession(t, done.session);
  },
});

const displayNotification = defineTestCase({
  id: 'imdn-display',
  title: 'display requested and displayed (UT): display notification via MSRP',
  purpose: 'After the user displays the message (upper tester markDisplayed) the client sends the requested display IMDN over MSRP on the session, and not before.',
  group: GROUP,
  needs: ['msrp'],
  rules: [...REQUESTED_NOTIFICATION_RULES, 'session.kept'],
  upperTester: ['markDisplayed'],
  async run(t) {
    const ut = t.requireUt('markDisplayed');
    const done = await establish(t);
    const delivery = await delivered200(t, done.session, { disposition: ['positive-delivery', 'display'] });
    const early = await t.pf.events.expectNone((e) => e.type === 'msrp-message' && e.imdn?.kind === 'display', { within: t.windows.sideEffectMs, since: delivery.startSeq });
    // An early one is the notification judged below, as sent before the user displayed the message.
    if (early) t.note('a display notification arrived before the upper tester displayed the message');
    // Nothing to send: the client must still be in the session when the user displays the message.
    if (!(await keepsSession(t, done.session, { rule: 'session.kept', window: 'sideEffectMs', since: delivery.startSeq, what: 'while the message awaited display' }))) return;
    const mark = t.pf.events.mark();
    const shown = await ut.markDisplayed(delivery.imdnMessageId);
    if (!shown.ok) t.prerequisite('the upper tester displays the message', shown.message);
    const found = await awaitNotification(t, done.session, delivery, 'display', { since: early ? delivery.startSeq : mark, anyId: true });
    judgeRequested(t, done.session, delivery, found, { what: 'display notification (after the user displayed the message)', userDisplayed: !early });
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
    rules: ['imdn.unsolicited', 'session.kept'],
    async run(t) {
      const done = await establish(t);
      const delivery = await delivered200(t, done.session, { disposition: row.disposition });
      await expectAbsent(
        t,
        'imdn.unsolicited',
        (e) =>
          notificationsSince(t, delivery.startSeq).some((n) => n.event === e) &&
          (e.type !== 'msrp-message' || !e.imdn?.kind || row.forbidden.includes(e.imdn.kind as 'delivery' | 'display')),
        {
          window: 'imdnMs',
          since: delivery.startSeq,
          held: `no unrequested notification within ${t.windows.imdnMs} ms`,
          seen: () => `a notification was sent although ${row.disposition ? `only ${row.disposition.join(', ')} was` : 'none was'} requested`,
        },
      );
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
  rules: [...REQUESTED_NOTIFICATION_RULES, 'imdn.once', 'session.kept'],
  async run(t) {
    const done = await establish(t);
    const delivery = await delivered200(t, done.session, { chunkSize: 48, disposition: ['positive-delivery'] });
    const first = await awaitNotification(t, done.session, delivery, 'delivery', { anyId: true });
    if (judgeRequested(t, done.session, delivery, first, { what: 'delivery notification' })) {
      // Let any duplicates arrive before counting.
      await t.pf.events.expectNone(() => false, { within: t.windows.imdnMs });
      const all = notificationsFor(t, delivery, 'delivery');
      const once = all.length === 1;
      t.observe(
        'imdn.once',
        once,
        once ? `one delivery notification for a ${delivery.chunks.length}-chunk message` : `${all.length} delivery notifications for one ${delivery.chunks.length}-chunk message`,
        all.map((n) => n.event),
        { absenceWindow: 'imdnMs' },
      );
    }
    await endSession(t, done.session);
  },
});

export const IMDN_CASES: readonly TestCaseDefinition[] = [deliveryNotification, displayNotification, ...NOT_REQUESTED_ROWS.map(notRequestedCase), oncePerMessage];

/**
 * Test purposes for 7.3.12-1b-wait and 7.3.12-1c: with nothing to send the client subscribes,
 * returns the requested IMDNs via MSRP, and waits for the PF to end the deferred delivery — no
 * BYE, no MSRP close, no re-INVITE of its own — then answers the PF's BYE with 2xx.
 */
import type { PfEvent } from '../harness/pf/types.ts';
import type { TestContext } from '../harness/testcase/context.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { expectSubscribe } from './lib/subscription.ts';
import { deliver, endSession, establish } from './lib/steps.ts';
import { awaitNotification, judgeReturned } from './lib/notifications.ts';

const GROUP = 'lifecycle';

/** What a client that waits for the PF must not do (PROTOCOLS.md 1c-i). */
function leavesEarly(e: PfEvent): boolean {
  return e.type === 'client-bye' || (e.type === 'msrp-connection' && e.state === 'closed' && e.by === 'peer') || (e.type === 'client-invite' && e.inDialog);
}

function describeLeaving(e: PfEvent): string {
  if (e.type === 'client-bye') return 'sent BYE';
  if (e.type === 'msrp-connection') return `closed the MSRP connection (${e.reason ?? 'peer closed'})`;
  return 'sent a re-INVITE';
}

async function idleWithoutLeaving(t: TestContext, requirement: string, what: string): Promise<boolean> {
  const left = await t.pf.events.expectNone(leavesEarly, { within: t.windows.idleMs });
  if (left) {
    t.violation(requirement, `the client ${describeLeaving(left)} ${what} instead of waiting for the PF to end the deferred delivery`, left);
    return false;
  }
  t.pass(requirement, `no BYE, MSRP close or re-INVITE from the client during ${t.windows.idleMs} ms ${what}`);
  return true;
}

const nothingToSend = defineTestCase({
  id: 'deferred-nothing-to-send',
  needs: ['msrp'],
  title: 'nothing to send: subscribe, return IMDNs via MSRP, wait for the PF\'s BYE, answer it 2xx',
  purpose: 'The whole 1c ladder: two deferred messages requesting delivery notifications; the client subscribes (1c-iii), returns both IMDNs via MSRP (1c-ii), stays until the PF ends the delivery and answers its BYE (1c-i).',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1c-i', '7.3.12-1c-ii', '7.3.12-1c-iii'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    await expectSubscribe(t, done, '7.3.12-1c-iii');
    let allReturned = true;
    for (const text of ['Deferred one: are we still on for Saturday?', 'Deferred two: bring the map.']) {
      const delivery = await deliver(t, done.session, { text, disposition: ['positive-delivery'] });
      if (!delivery) {
        allReturned = false;
        break;
      }
      const found = await awaitNotification(t, done.session, delivery, 'delivery', { anyId: true });
      if (!judgeReturned(t, '7.3.12-1c-ii', found, delivery, `delivery notification for "${text}"`)) allReturned = false;
    }
    if (allReturned) t.note('both requested delivery notifications returned via MSRP');
    if (await idleWithoutLeaving(t, '7.3.12-1c-i', 'after the deferred messages')) await endSession(t, done.session, '7.3.12-1c-i');
    else await endSession(t, done.session);
  },
});

const waitWhileDelayed = defineTestCase({
  id: 'deferred-wait-while-delayed',
  needs: ['msrp'],
  title: 'PF delays the deferred delivery: the client keeps the session',
  purpose: '1b-wait: after the session is set up the PF waits before delivering; the client SHOULD wait for the deferred messages rather than leave.',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1b-wait'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const stayed = await idleWithoutLeaving(t, '7.3.12-1b-wait', 'before any deferred message arrived');
    if (stayed) await deliver(t, done.session, { disposition: null });
    await endSession(t, done.session);
  },
});

const byeAnswered = defineTestCase({
  id: 'deferred-pf-bye',
  title: 'PF ends the deferred delivery with BYE: 2xx, session over',
  purpose: '1c-i / RFC 3261 §15.1.2: the client answers the PF\'s BYE with 2xx and stops using the MSRP session (PROTOCOLS.md N14).',
  group: GROUP,
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', '7.3.12-1c-i'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    if (t.config.pics.msrp) await deliver(t, done.session, { disposition: null });
    await endSession(t, done.session, '7.3.12-1c-i');
    const after = await t.pf.events.expectNone((e) => e.type === 'msrp-message' && e.sessionId === done.session.id, { within: t.windows.sideEffectMs, since: t.pf.events.mark() });
    if (after) t.violation('7.3.12-1c-i', 'the client kept sending on the MSRP session after the PF\'s BYE', after);
  },
});

export const LIFECYCLE_CASES: readonly TestCaseDefinition[] = [nothingToSend, waitWhileDelayed, byeAnswered];

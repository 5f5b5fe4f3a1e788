/**
 * Upper-tester overhead: a UT step should cost about a millisecond on loopback, so UT calls never
 * eat noticeably into the protocol windows they sit in. Measures sequential round trips through
 * serveUpperTester ⇄ connectHttpUpperTester, and validating a large state snapshot.
 */
import type { ClientState, UpperTester, UtResult } from '../harness/client/types.ts';
import { connectHttpUpperTester } from '../harness/ut/http-client.ts';
import { serveUpperTester } from '../harness/ut/http-server.ts';
import { StateResponse } from '../harness/ut/protocol.ts';
import { bench, benchAsync, type BenchResult } from './lib.ts';

const GROUP = 'sip:grp-7f3a@conf.example.net';

function bigState(groups: number): ClientState {
  return {
    registered: true,
    online: true,
    groups: Array.from({ length: groups }, (_, g) => ({
      identity: `sip:grp-${g}@conf.example.net`,
      contributionId: `c0ffee${g}`,
      state: 'active' as const,
      participants: Array.from({ length: 10 }, (_, p) => `sip:+1555123${String(p).padStart(4, '0')}@ims.example.net`),
    })),
    outbox: Array.from({ length: 50 }, (_, i) => ({ group: GROUP, text: `queued ${i}` })),
    received: Array.from({ length: 200 }, (_, i) => ({ group: GROUP, from: 'sip:+15551230001@ims.example.net', text: `message ${i}`, imdnMessageId: `Msg-${i}` })),
  };
}

export async function run(): Promise<BenchResult[]> {
  const snapshot = bigState(100);
  const ok: UtResult = { ok: true, value: undefined };
  const fake: UpperTester = {
    supports: new Set(['queueMessage', 'goOffline', 'goOnline', 'markDisplayed', 'state']),
    queueMessage: async () => ok,
    goOffline: async () => ok,
    goOnline: async () => ok,
    markDisplayed: async () => ok,
    state: async () => ({ ok: true, value: snapshot }),
  };
  const served = await serveUpperTester(fake);
  try {
    const connected = await connectHttpUpperTester(served.url, { timeoutMs: 5000 });
    if (!connected.ok) throw new Error(connected.message);
    const ut = connected.value;
    const calls = 200;
    const queue = await benchAsync(`ut queueMessage round trip over loopback HTTP (${calls} sequential)`, async () => {
      for (let i = 0; i < calls; i++) await ut.queueMessage(GROUP, `m${i}`);
      return calls;
    });
    const state = await benchAsync('ut state round trip, 100 groups × 10 participants + 250 messages (50 sequential)', async () => {
      for (let i = 0; i < 50; i++) await ut.state();
      return 50;
    });
    const wire = { ok: true, ...snapshot };
    const bytes = Buffer.byteLength(JSON.stringify(wire));
    const validate = bench('ut zod validation of that state response', () => StateResponse.safeParse(wire).success, { opsPerRound: 200 });
    return [
      { ...queue, extra: { medianMsPerCall: queue.medianMs / calls } },
      { ...state, extra: { medianMsPerCall: state.medianMs / 50, responseBytes: bytes } },
      validate,
    ];
  } finally {
    await served.close();
  }
}

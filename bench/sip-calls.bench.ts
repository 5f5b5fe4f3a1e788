/**
 * The harness's SIP stack as a UAC vs SIPp's built-in UAC, both calling one SIPp UAS (`-sn uas`)
 * over UDP on loopback with the same flow (INVITE → 180 → 200 → ACK → BYE → 200) and the same
 * number of calls in flight. Rounds alternate harness/SIPp so both see the same machine.
 *
 * Figures: calls/s of each and their ratio (goal ≥ 1.0×); CPU seconds per call of each placing
 * process and their ratio (goal ≤ 2×); bytes the harness still holds per finished call while its
 * transactions wait out Timers M and K (goal ≤ 2 KB), beside SIPp's peak-RSS growth per call.
 * The harness side is the shipped build (dist/, see shipped.ts); CPU is each placing process's
 * own user + system time, all threads: the harness's from process.cpuUsage() over the round (its
 * start-up excluded), SIPp's from /usr/bin/time over its whole run (its start-up included: below
 * time's 10 ms resolution, against ~130 ms for a round; that resolution is also why SIPp's figure
 * moves in steps of 2 µs/call). The UAS is a third process, counted for neither.
 * Run alone with `npm run bench -- sip-calls`.
 */
import { freePort } from '../test/helpers/ports.ts';
import { harnessCalls, sippCalls, startSippUas, type CallsRound } from './calls.ts';
import { figure, interleave, median, ratioFigure, retainedBytes, type BenchOutput } from './lib.ts';
import { shippedSip, type ShippedSip } from './shipped.ts';

const CONCURRENCY = 50;
const CALLS_PER_ROUND = 5000;
const ROUNDS = 5;

function checked(round: CallsRound, who: string): CallsRound {
  if (round.failed > 0) throw new Error(`${who}: ${round.failed} of ${round.calls} calls failed`);
  return round;
}

/** Bytes a fresh stack still holds per finished call, right after `calls` calls. */
async function harnessBytesPerFinishedCall(sip: ShippedSip, uasPort: number, calls: number): Promise<number> {
  const stack = await sip.SipStack.start({ actor: 'bench', address: '127.0.0.1', udpPort: 0 });
  const target = { transport: 'udp' as const, address: '127.0.0.1', port: uasPort };
  try {
    await harnessCalls(sip, stack, target, 50, CONCURRENCY);
    const before = retainedBytes();
    checked(await harnessCalls(sip, stack, target, calls, CONCURRENCY), 'harness');
    return (retainedBytes() - before) / calls;
  } finally {
    await stack.close();
  }
}

export async function run(): Promise<BenchOutput[]> {
  const sip = await shippedSip();
  const uasPort = await freePort();
  const uas = startSippUas(uasPort);
  const stack = await sip.SipStack.start({ actor: 'bench', address: '127.0.0.1', udpPort: 0 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const target = { transport: 'udp' as const, address: '127.0.0.1', port: uasPort };
    const sippPort = await freePort();
    const [harness, sipp] = await interleave(ROUNDS, [
      async () => checked(await harnessCalls(sip, stack, target, CALLS_PER_ROUND, CONCURRENCY), 'harness'),
      async () => checked(await sippCalls(uasPort, sippPort, CALLS_PER_ROUND, CONCURRENCY), 'sipp'),
    ]);
    await stack.close();
    const callsPerSec = (r: CallsRound) => r.calls / r.wallSeconds;
    const cpuMicrosPerCall = (r: CallsRound) => (r.cpuSeconds / r.calls) * 1e6;
    const h = harness!;
    const s = sipp!;
    const flow = `INVITE/200/ACK/BYE over UDP, ${CONCURRENCY} in flight, ${CALLS_PER_ROUND} calls a round`;
    const out: BenchOutput[] = [
      figure(`calls/s: harness UAC (${flow})`, 'calls/s', h.map(callsPerSec)),
      figure('calls/s: SIPp -sn uac (same flow)', 'calls/s', s.map(callsPerSec)),
      ratioFigure('calls/s: ratio harness / SIPp', h.map(callsPerSec), s.map(callsPerSec), { goal: { atLeast: 1.0 } }),
      figure('CPU per call: harness UAC process', 'µs/call', h.map(cpuMicrosPerCall)),
      figure('CPU per call: SIPp UAC process', 'µs/call', s.map(cpuMicrosPerCall)),
      ratioFigure('CPU per call: ratio harness / SIPp', h.map(cpuMicrosPerCall), s.map(cpuMicrosPerCall), { goal: { atMost: 2.0 } }),
    ];
    // Memory: what each placing process still holds per finished call (Timer M/K, SIPp's dead calls).
    const memoryRounds = 3;
    const bytes: number[] = [];
    for (let r = 0; r < memoryRounds; r++) bytes.push(await harnessBytesPerFinishedCall(sip, uasPort, CALLS_PER_ROUND));
    const small = await sippCalls(uasPort, sippPort, CALLS_PER_ROUND / 10, CONCURRENCY);
    const sippBytes = s.map((r) => (((r.maxRssKiB ?? Number.NaN) - (small.maxRssKiB ?? Number.NaN)) * 1024) / (r.calls - small.calls));
    out.push(
      figure(`memory per finished call: harness (heap + buffers, ${CALLS_PER_ROUND} calls)`, 'B/call', bytes, { goal: { atMost: 2048 } }),
      figure('memory per finished call: SIPp (peak RSS growth)', 'B/call', sippBytes, { detail: { sippPeakRssKiB: median(s.map((r) => r.maxRssKiB ?? 0)) } }),
      ratioFigure('memory per finished call: ratio harness / SIPp', [median(bytes)], [median(sippBytes)]),
    );
    return out;
  } finally {
    await stack.close();
    await uas.stop();
  }
}

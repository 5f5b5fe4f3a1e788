/**
 * The load mode against the reference client (both sides in this process): 1,000 concurrent
 * deferred-delivery sessions × 10 messages each. Figures: sessions held (goal: all 1,000, every
 * IMDN returned, no error), memory per held session, and the end-to-end message rate under load.
 */
import { discardTrace } from '../harness/core/trace.ts';
import { runLoad, type LoadSummary } from '../harness/load/load.ts';
import { createReferenceClientFactory } from '../harness/reference-client/factory.ts';
import { builtinConfig, REAL_WINDOWS } from '../harness/testcase/config.ts';
import { figure, type BenchOutput } from './lib.ts';

const SESSIONS = 1000;
const BACKLOG = 10;

async function once(): Promise<LoadSummary> {
  const config = builtinConfig('tcp');
  config.timers = { t1: 500, t2: 4000, t4: 5000 };
  config.windows = { ...REAL_WINDOWS };
  return runLoad({ sessions: SESSIONS, rate: 200, backlog: BACKLOG, config, client: createReferenceClientFactory({ trace: discardTrace }) });
}

export async function run(): Promise<BenchOutput[]> {
  const rounds: LoadSummary[] = [];
  for (let r = 0; r < 3; r++) rounds.push(await once());
  const clean = rounds.map((s) => (s.thresholds.passed ? s.sessionsUp : 0));
  return [
    figure(`load: sessions held with every IMDN returned, no error (${SESSIONS} × ${BACKLOG} messages)`, 'sessions', clean, {
      goal: { atLeast: SESSIONS },
      detail: { failures: rounds.flatMap((s) => s.thresholds.failures).join('; ') || 'none' },
    }),
    figure('load: memory per held session (heap + buffers, PF and client)', 'KiB', rounds.map((s) => s.bytesPerHeldSession / 1024)),
    figure('load: messages delivered and IMDN-answered per second, whole run', 'msg/s', rounds.map((s) => s.messagesPerSec)),
    figure('load: SEND→IMDN p99', 'ms', rounds.map((s) => s.sendToImdn.p99)),
  ];
}

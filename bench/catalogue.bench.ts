/**
 * The whole catalogue against the built-in reference client, end to end over loopback sockets
 * with scaled windows: wall time per run (goal ≤ 3 s on this 2-core machine), median of rounds.
 */
import { performance } from 'node:perf_hooks';
import { startParticipatingFunction } from '../harness/cli/run-command.ts';
import { discardTrace } from '../harness/core/trace.ts';
import { createReferenceClientFactory } from '../harness/reference-client/factory.ts';
import { runSuite } from '../harness/runner/runner.ts';
import { builtinConfig } from '../harness/testcase/config.ts';
import { CATALOGUE } from '../scenarios/index.ts';
import { median, type BenchResult } from './lib.ts';

async function wallTimes(transport: 'tcp' | 'udp', jobs: number, rounds: number): Promise<{ ms: number[]; failures: number }> {
  const ms: number[] = [];
  let failures = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const results = await runSuite({
      cases: CATALOGUE,
      client: createReferenceClientFactory({ trace: discardTrace }),
      config: builtinConfig(transport),
      startPf: startParticipatingFunction,
      jobs,
    });
    ms.push(performance.now() - t0);
    failures += results.filter((x) => x.outcome === 'fail' || x.outcome === 'error').length;
  }
  return { ms, failures };
}

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const [transport, jobs] of [['tcp', 4], ['udp', 4], ['tcp', 1]] as const) {
    const { ms, failures } = await wallTimes(transport, jobs, 5);
    const med = median(ms);
    out.push({
      name: `catalogue (${CATALOGUE.length} cases) vs builtin, ${transport}, jobs ${jobs}`,
      opsPerSec: CATALOGUE.length / (med / 1000),
      rounds: ms.length,
      opsPerRound: CATALOGUE.length,
      spread: Math.max(...ms) / Math.min(...ms),
      extra: { medianWallMs: Math.round(med), fails: failures },
    });
  }
  return out;
}

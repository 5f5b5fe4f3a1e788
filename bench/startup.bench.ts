/**
 * Start-up of the installed CLI: `cpm-harness --version` (goal: ≤ 300 ms median on this 2-core
 * machine) and `cpm-harness list`, each a fresh `node bin/cpm-harness.js` process running the
 * compiled dist/ (npm run bench builds it first), and the default `run` end to end. Median over
 * rounds, spread as max/min.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { median, type BenchResult } from './lib.ts';

const BIN = fileURLToPath(new URL('../bin/cpm-harness.js', import.meta.url));
const GOAL_MS = 300;

function startup(args: string[], rounds: number, goalMs?: number, name = `start-up: cpm-harness ${args.join(' ')}`): BenchResult {
  const ms: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const t0 = performance.now();
    const child = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    const elapsed = performance.now() - t0;
    if (child.status !== 0 && !(args[0] === 'run' && child.status === 1)) throw new Error(`cpm-harness ${args.join(' ')} exited ${child.status}: ${child.stderr}`);
    if (r > 0) ms.push(elapsed); // the first round warms the file cache
  }
  const med = median(ms);
  return {
    name,
    opsPerSec: 1000 / med,
    rounds,
    opsPerRound: 1,
    spread: Math.max(...ms) / Math.min(...ms),
    extra: { medianMs: Math.round(med), ...(goalMs === undefined ? {} : { goalMs, withinGoal: med <= goalMs ? 'yes' : 'NO' }) },
  };
}

export async function run(): Promise<BenchResult[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'cpm-bench-')), 'reports');
  return [
    startup(['--version'], 15, GOAL_MS),
    startup(['list'], 9),
    // The default run end to end, start-up and all four reports included (its windows bound it near 2 s).
    startup(['run', '--report-dir', out, '--junit', join(out, 'junit.xml')], 3, undefined, 'cpm-harness run: whole catalogue, process wall time'),
  ];
}

/**
 * Tiny benchmark kit: run a body many times in several rounds and report the median round, so a
 * noisy shared machine shows up as spread, not as a wrong headline figure.
 */
import { performance } from 'node:perf_hooks';

export interface BenchResult {
  name: string;
  /** Median operations per second over the rounds. */
  opsPerSec: number;
  /** Median MB/s (10^6 bytes) when bytesPerOp was given. */
  mbPerSec?: number;
  rounds: number;
  opsPerRound: number;
  /** Slowest / fastest round ops/s ratio: how noisy the run was. */
  spread: number;
  extra?: Record<string, number | string>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `body` `opsPerRound` times per round for `rounds` rounds after one warm-up round. */
export function bench(
  name: string,
  body: (i: number) => unknown,
  options: { rounds?: number; opsPerRound: number; bytesPerOp?: number },
): BenchResult {
  const rounds = options.rounds ?? 7;
  let sink: unknown;
  for (let i = 0; i < options.opsPerRound; i++) sink = body(i);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < options.opsPerRound; i++) sink = body(i);
    const seconds = (performance.now() - t0) / 1000;
    rates.push(options.opsPerRound / seconds);
  }
  if (sink === Symbol.for('never')) console.log(sink);
  const opsPerSec = median(rates);
  const result: BenchResult = {
    name,
    opsPerSec,
    rounds,
    opsPerRound: options.opsPerRound,
    spread: Math.max(...rates) / Math.min(...rates),
  };
  if (options.bytesPerOp !== undefined) result.mbPerSec = (opsPerSec * options.bytesPerOp) / 1e6;
  return result;
}

/** Async variant: `body` runs once per round and returns how many operations it did. */
export async function benchAsync(
  name: string,
  body: () => Promise<number>,
  options: { rounds?: number } = {},
): Promise<BenchResult & { medianMs: number }> {
  const rounds = options.rounds ?? 5;
  await body();
  const durations: number[] = [];
  let ops = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    ops = await body();
    durations.push(performance.now() - t0);
  }
  const medianMs = median(durations);
  return {
    name,
    opsPerSec: ops / (medianMs / 1000),
    rounds,
    opsPerRound: ops,
    spread: Math.max(...durations) / Math.min(...durations),
    medianMs,
  };
}

export function formatResult(r: BenchResult): string {
  const mb = r.mbPerSec === undefined ? '' : `  ${r.mbPerSec.toFixed(1).padStart(8)} MB/s`;
  const extra = r.extra ? '  ' + Object.entries(r.extra).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  return `${r.name.padEnd(52)} ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)} ops/s${mb}  (median of ${r.rounds}, spread ×${r.spread.toFixed(2)})${extra}`;
}

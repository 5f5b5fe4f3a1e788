/**
 * Tiny benchmark kit: run a body many times in several rounds and report the median round, so a
 * noisy shared machine shows up as spread, not as a wrong headline figure. Comparisons run their
 * contenders interleaved, round by round, so the machine's drift hits every contender alike and
 * the ratio of each round (not the ratio of two medians taken minutes apart) is what counts.
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

/** A goal of issue 11: the median must be at least / at most this value. */
export interface Goal {
  readonly atLeast?: number;
  readonly atMost?: number;
}

/** One measured quantity over several rounds: a rate, a ratio, a cost per operation. */
export interface Figure {
  readonly kind: 'figure';
  readonly name: string;
  /** `×` for ratios; otherwise e.g. `calls/s`, `µs CPU/call`, `B/call`. */
  readonly unit: string;
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly rounds: number;
  readonly goal?: Goal;
  readonly detail?: Record<string, number | string>;
}

export type BenchOutput = BenchResult | Figure;

export function isFigure(output: BenchOutput): output is Figure {
  return 'kind' in output && output.kind === 'figure';
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function figure(name: string, unit: string, samples: readonly number[], options: { goal?: Goal; detail?: Record<string, number | string> } = {}): Figure {
  return {
    kind: 'figure',
    name,
    unit,
    median: median(samples),
    low: Math.min(...samples),
    high: Math.max(...samples),
    rounds: samples.length,
    ...(options.goal ? { goal: options.goal } : {}),
    ...(options.detail ? { detail: options.detail } : {}),
  };
}

/** Per-round ratios `a[i] / b[i]` of two interleaved series. */
export function ratioFigure(name: string, a: readonly number[], b: readonly number[], options: { goal?: Goal; detail?: Record<string, number | string> } = {}): Figure {
  return figure(name, '×', a.map((x, i) => x / b[i]!), options);
}

/** Undefined when the figure has no goal. */
export function goalMet(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  if (f.goal.atLeast !== undefined && !(f.median >= f.goal.atLeast)) return false;
  if (f.goal.atMost !== undefined && !(f.median <= f.goal.atMost)) return false;
  return true;
}

/** Ops/s of `ops` calls of `body`, one round. */
export function rate(body: (i: number) => unknown, ops: number): number {
  let sink: unknown;
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) sink = body(i);
  const seconds = (performance.now() - t0) / 1000;
  if (sink === Symbol.for('never')) console.log(sink);
  return ops / seconds;
}

/**
 * Runs every contender once to warm up, then `rounds` rounds, each contender once per round, the
 * order reversed every other round (AB, BA, AB …). Returns the samples per contender, by round.
 */
export async function interleave<T>(rounds: number, contenders: readonly (() => T | Promise<T>)[], options: { warmUp?: boolean } = {}): Promise<T[][]> {
  if (options.warmUp ?? true) for (const c of contenders) await c();
  const samples: T[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = contenders.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) samples[i]!.push(await contenders[i]!());
  }
  return samples;
}

/**
 * Interleaved rates of synchronous bodies over the same input; returns one rate figure per
 * contender and the ratio of the first to each of the others.
 */
export async function compareRates(
  title: string,
  contenders: readonly { name: string; body: (i: number) => unknown }[],
  options: { ops: number; rounds?: number; unit?: string; goal?: Goal; bytesPerOp?: number },
): Promise<Figure[]> {
  const samples = await interleave(options.rounds ?? 9, contenders.map((c) => () => rate(c.body, options.ops)));
  const unit = options.unit ?? 'ops/s';
  const out = contenders.map((c, i) => {
    const f = figure(`${title}: ${c.name}`, unit, samples[i]!);
    return options.bytesPerOp === undefined ? f : { ...f, detail: { 'MB/s': ((f.median * options.bytesPerOp) / 1e6).toFixed(1) } };
  });
  for (let i = 1; i < contenders.length; i++) {
    out.push(ratioFigure(`${title}: ratio ${contenders[0]!.name} / ${contenders[i]!.name}`, samples[0]!, samples[i]!, i === 1 && options.goal ? { goal: options.goal } : {}));
  }
  return out;
}

/** Runs `body` `opsPerRound` times per round for `rounds` rounds after one warm-up round. */
export function bench(
  name: string,
  body: (i: number) => unknown,
  options: { rounds?: number; opsPerRound: number; bytesPerOp?: number },
): BenchResult {
  const rounds = options.rounds ?? 7;
  rate(body, options.opsPerRound);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) rates.push(rate(body, options.opsPerRound));
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

/** Forces a full collection when node runs with --expose-gc (npm run bench does). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

/** Bytes the JS heap and Buffers hold right now, after a full collection. */
export function retainedBytes(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function number(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function formatValue(value: number, unit: string): string {
  return unit === '×' ? `×${number(value)}` : `${number(value)} ${unit}`;
}

export function formatGoal(goal: Goal, unit: string): string {
  const parts: string[] = [];
  if (goal.atLeast !== undefined) parts.push(`≥ ${formatValue(goal.atLeast, unit)}`);
  if (goal.atMost !== undefined) parts.push(`≤ ${formatValue(goal.atMost, unit)}`);
  return parts.join(' and ');
}

export function formatFigure(f: Figure): string {
  const spread = f.rounds > 1 ? `  (median of ${f.rounds}, ${formatValue(f.low, f.unit)} … ${formatValue(f.high, f.unit)})` : '';
  const met = goalMet(f);
  const goal = f.goal ? `  goal ${formatGoal(f.goal, f.unit)}: ${met ? 'met' : 'MISSED'}` : '';
  const detail = f.detail ? '  ' + Object.entries(f.detail).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  return `${f.name.padEnd(64)} ${formatValue(f.median, f.unit).padStart(16)}${spread}${goal}${detail}`;
}

export function formatResult(r: BenchOutput): string {
  if (isFigure(r)) return formatFigure(r);
  const mb = r.mbPerSec === undefined ? '' : `  ${r.mbPerSec.toFixed(1).padStart(8)} MB/s`;
  const extra = r.extra ? '  ' + Object.entries(r.extra).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  return `${r.name.padEnd(64)} ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)} ops/s${mb}  (median of ${r.rounds}, spread ×${r.spread.toFixed(2)})${extra}`;
}

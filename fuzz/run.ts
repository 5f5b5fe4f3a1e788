/**
 * `npm run fuzz`: property-based fuzzing of every parser (fast-check), then the linear-time check.
 *
 *   npm run fuzz                         1,000,000 inputs per target, then linearity
 *   npm run fuzz -- --inputs 20000       the CI smoke (.ci/run)
 *   npm run fuzz -- --only msrp,cpim     some targets; --seed N to replay; --no-linearity; --linearity-only;
 *                                        --ratio N for the linear-time threshold (default 12)
 *
 * A crash (a throw, or a broken invariant) is shrunk by fast-check to a small input, written to
 * fuzz/crashes/<target>-<hash>.bin and the run exits 1. Every input slower than 50 ms is reported.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { checkLinearity } from './linearity.ts';
import { TARGETS, type FuzzTarget } from './targets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const inputs = Number(option('--inputs') ?? 1_000_000);
const seed = Number(option('--seed') ?? Date.now() % 2 ** 31);
const only = option('--only')?.split(',');
const slowMs = 50;
const batch = 10_000;

interface Slow {
  ms: number;
  size: number;
}

interface TargetReport {
  name: string;
  inputs: number;
  seconds: number;
  slowest: Slow;
  slow: number;
  crash?: string;
}

/** Fastest of a few runs: the first run of an input may pay for JIT compilation or a GC pause. */
function remeasure(target: FuzzTarget<never>, input: never, times: number): number {
  let best = Infinity;
  for (let k = 0; k < times; k++) {
    const t = performance.now();
    target.run(input);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

function runTarget(target: FuzzTarget<never>): TargetReport {
  /** The slowest inputs by first measurement; re-measured at the end, since a first run may pay for JIT or GC. */
  let candidates: { ms: number; input: never }[] = [];
  let slow = 0;
  let done = 0;
  const started = performance.now();
  const timed = (input: never): void => {
    const t = performance.now();
    target.run(input);
    const ms = performance.now() - t;
    if (candidates.length < 8 || ms > candidates[candidates.length - 1]!.ms) {
      candidates.push({ ms, input });
      candidates.sort((a, b) => b.ms - a.ms);
      candidates = candidates.slice(0, 8);
    }
    if (ms > slowMs) {
      const again = remeasure(target, input, 2);
      if (again <= slowMs) return;
      slow++;
      const bytes = target.bytesOf(input);
      if (slow <= 5) process.stdout.write(`\n  slow input: ${target.name} ${bytes.length} B in ${again.toFixed(1)} ms (saved as ${save(target.name, bytes, 'slow')})\n`);
    }
  };
  const report = (crash?: string): TargetReport => {
    let measured: Slow = { ms: 0, size: 0 };
    for (const c of candidates) {
      const ms = remeasure(target, c.input, 3);
      if (ms > measured.ms) measured = { ms, size: target.bytesOf(c.input).length };
    }
    const r: TargetReport = { name: target.name, inputs: done, seconds: (performance.now() - started) / 1000, slowest: measured, slow };
    return crash === undefined ? r : { ...r, crash };
  };
  // Batches keep fast-check's bookkeeping small and let progress be printed.
  for (let b = 0; done < inputs; b++) {
    const runs = Math.min(batch, inputs - done);
    const result = fc.check(fc.property(target.arbitrary, (input) => timed(input)), { numRuns: runs, seed: seed + b });
    done += result.numRuns;
    if (result.failed) {
      const counterexample = result.counterexample?.[0] as never | undefined;
      const file = counterexample === undefined ? '(none)' : save(target.name, target.bytesOf(counterexample), 'crash');
      const error = result.errorInstance instanceof Error ? (result.errorInstance.stack ?? result.errorInstance.message) : String(result.errorInstance);
      return report(`${file}\n${error}\n  replay: npm run fuzz -- --only ${target.name} --seed ${seed + b} --inputs ${runs}`);
    }
    if (process.stdout.isTTY) process.stdout.write(`\r  ${target.name}: ${done.toLocaleString('en')} inputs`);
  }
  return report();
}

function save(target: string, bytes: Buffer, kind: 'crash' | 'slow'): string {
  const dir = join(here, kind === 'crash' ? 'crashes' : 'slow');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${target}-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}.bin`);
  writeFileSync(file, bytes);
  return file;
}

let failed = false;
if (!args.includes('--linearity-only')) {
  console.log(`fuzz: ${inputs.toLocaleString('en')} inputs per target, seed ${seed} (node ${process.version})`);
  for (const target of TARGETS.filter((t) => only === undefined || only.includes(t.name))) {
    const r = runTarget(target);
    const rate = Math.round(r.inputs / r.seconds).toLocaleString('en');
    const line = `${r.name.padEnd(16)} ${r.inputs.toLocaleString('en').padStart(10)} inputs  ${rate.padStart(7)} inputs/s  slowest ${r.slowest.size} B in ${r.slowest.ms.toFixed(2)} ms  over ${slowMs} ms: ${r.slow}`;
    process.stdout.write(`${process.stdout.isTTY ? '\r' : ''}${line}${r.crash ? `\n  CRASH ${r.crash}` : ''}\n`);
    if (r.crash) failed = true;
  }
}
if (!args.includes('--no-linearity')) {
  const ratio = option('--ratio');
  if (ratio !== undefined) process.env.LINEARITY_RATIO = ratio;
  console.log(`\nlinearity: pathological repetitions at N and 8N bytes (fails above ${process.env.LINEARITY_RATIO ?? 12}×)`);
  const problems = checkLinearity(only, (line) => console.log(line));
  if (problems > 0) failed = true;
}
process.exitCode = failed ? 1 : 0;

/**
 * `npm run bench`: runs every `bench/*.bench.ts` (each exports `run(): Promise<BenchOutput[]>`)
 * and prints one line per figure, then every goal of issue 11 with its median, spread and whether
 * it was met. `npm run bench -- sdp msrp` runs the files whose names contain those words;
 * `--json <file>` also writes the figures as JSON.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { formatGoal, formatResult, formatValue, goalMet, isFigure, type BenchOutput } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex === -1 ? undefined : args[jsonIndex + 1];
const only = args.filter((a, i) => !a.startsWith('--') && (jsonIndex === -1 || i !== jsonIndex + 1));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const all: BenchOutput[] = [];
const gc = typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'gc exposed' : 'no --expose-gc: memory figures are noisier';
console.log(`node ${process.version} on ${process.platform}/${process.arch}; figures are medians over interleaved rounds (low … high); ${gc}`);
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<BenchOutput[]> };
  console.log(`\n# ${file}`);
  for (const result of await mod.run()) {
    all.push(result);
    console.log(formatResult(result));
  }
}
const goals = all.filter(isFigure).filter((f) => f.goal !== undefined);
if (goals.length > 0) {
  console.log('\n# goals');
  for (const f of goals) {
    const spread = `${formatValue(f.low, f.unit)} … ${formatValue(f.high, f.unit)}`;
    console.log(`${goalMet(f) ? 'met   ' : 'MISSED'}  ${f.name.padEnd(64)} ${formatValue(f.median, f.unit).padStart(14)}  (${spread})  goal ${formatGoal(f.goal!, f.unit)}`);
  }
}
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(all, null, 2));

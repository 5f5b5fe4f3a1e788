/**
 * `npm run bench`: runs every `bench/*.bench.ts` (each exports `run(): Promise<BenchResult[]>`)
 * and prints one line per figure. `--json <file>` also writes the figures as JSON.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { formatResult, type BenchResult } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const jsonIndex = process.argv.indexOf('--json');
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const all: BenchResult[] = [];
console.log(`node ${process.version} on ${process.platform}/${process.arch}; figures are medians over rounds`);
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<BenchResult[]> };
  console.log(`\n# ${file}`);
  for (const result of await mod.run()) {
    all.push(result);
    console.log(formatResult(result));
  }
}
if (jsonIndex !== -1 && process.argv[jsonIndex + 1]) writeFileSync(process.argv[jsonIndex + 1]!, JSON.stringify(all, null, 2));

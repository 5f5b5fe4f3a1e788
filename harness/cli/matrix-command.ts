/**
 * `cpm-harness matrix`: runs the catalogue against the reference client and every mutant and
 * prints which cases each mutant fails and which requirements those failures cite, next to the
 * requirements the mutant is declared to break. A cell citing an undeclared requirement is a
 * finding against the harness itself.
 */
import { performance } from 'node:perf_hooks';
import { CATALOGUE } from '../../scenarios/index.ts';
import { discardTrace } from '../core/trace.ts';
import { createReferenceClientFactory } from '../reference-client/factory.ts';
import { MUTANTS } from '../reference-client/mutants.ts';
import { brokenRequirements, deviations, runMatrix, type MatrixRow } from '../runner/matrix.ts';
import { builtinConfig } from '../testcase/config.ts';
import { startParticipatingFunction } from './run-command.ts';

export interface MatrixArguments {
  json?: boolean;
  mutant?: string[];
  transport?: 'udp' | 'tcp';
}

export async function matrixCommand(args: MatrixArguments): Promise<number> {
  const wanted = args.mutant && args.mutant.length > 0 ? args.mutant : MUTANTS.map((m) => m.name);
  const unknown = wanted.filter((n) => !MUTANTS.some((m) => m.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`cpm-harness: unknown mutant(s) ${unknown.join(', ')}; see cpm-harness mutants\n`);
    return 2;
  }
  const clients = [
    { name: 'builtin', factory: createReferenceClientFactory({ trace: discardTrace }) },
    ...wanted.map((name) => ({ name, factory: createReferenceClientFactory({ mutant: name, trace: discardTrace }) })),
  ];
  const t0 = performance.now();
  const rows = await runMatrix({
    clients,
    cases: CATALOGUE,
    config: builtinConfig(args.transport ?? 'tcp'),
    startPf: startParticipatingFunction,
    onRow: (row) => {
      if (!args.json) process.stderr.write(`  ran ${row.client}\n`);
    },
  });
  const baseline = rows[0]!;
  let problems = 0;
  const report = rows.slice(1).map((row: MatrixRow) => {
    const mutant = MUTANTS.find((m) => m.name === row.client)!;
    const cells = deviations(row, baseline);
    const cited = [...new Set(row.results.filter((r) => r.id in cells).flatMap(brokenRequirements))];
    const undeclared = cited.filter((id) => !mutant.breaks.includes(id));
    const caught = Object.keys(cells).length > 0;
    if (!caught || undeclared.length > 0) problems++;
    return { mutant: mutant.name, breaks: mutant.breaks, cells, cited, undeclared, caught };
  });
  const baselineProblems = baseline.results.filter((r) => r.outcome === 'fail' || r.outcome === 'error' || r.outcome === 'warning');
  if (args.json) {
    process.stdout.write(JSON.stringify({ baseline: Object.fromEntries(baseline.results.map((r) => [r.id, r.outcome])), mutants: report }, null, 2) + '\n');
  } else {
    process.stdout.write(`reference client: ${baseline.results.length - baselineProblems.length}/${baseline.results.length} cases pass or inform\n`);
    for (const r of report) {
      const mark = !r.caught ? 'NOT CAUGHT' : r.undeclared.length > 0 ? `UNDECLARED ${r.undeclared.join(', ')}` : 'ok';
      process.stdout.write(`${r.mutant.padEnd(28)} ${mark.padEnd(12)} breaks ${r.breaks.join(', ')}\n`);
      for (const [id, outcome] of Object.entries(r.cells)) process.stdout.write(`    ${outcome.padEnd(8)} ${id}\n`);
    }
    process.stdout.write(`\n${report.length} mutants in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${problems} problem(s)\n`);
  }
  return problems > 0 || baselineProblems.length > 0 ? 1 : 0;
}

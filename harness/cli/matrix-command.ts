/**
 * `cpm-harness matrix`: runs the catalogue against the reference client and every mutant and
 * prints, per mutant, the rules it tripped next to the rules it is declared to break, and the
 * cases that changed; then every rule of the table that no mutant tripped. A mutant that trips
 * an undeclared rule, misses a declared one, or a rule nobody trips is a finding against the
 * harness itself (exit 1). `--json` prints fixtures/mutation-matrix.json.
 */
import { performance } from 'node:perf_hooks';
import { CATALOGUE } from '../../scenarios/index.ts';
import { discardTrace } from '../core/trace.ts';
import { createReferenceClientFactory } from '../reference-client/factory.ts';
import { MUTANTS } from '../reference-client/mutants.ts';
import { matrixFixture, runMatrix, type MatrixRow } from '../runner/matrix.ts';
import { declaredRules } from '../runner/mutant-rules.ts';
import { builtinConfig } from '../testcase/config.ts';
import { violableRules, type RuleId } from '../verdict/rules.ts';
import { startParticipatingFunction } from './run-command.ts';

export interface MatrixArguments {
  json?: boolean;
  mutant?: string[];
  transport?: 'udp' | 'tcp';
}

export interface MatrixReport {
  mutant: string;
  declared: RuleId[];
  tripped: RuleId[];
  /** Tripped but not declared. */
  undeclared: RuleId[];
  /** Declared but not tripped. */
  missed: RuleId[];
}

/** Per mutant: declared rules against tripped ones; and the violable rules no mutant tripped. */
export function judgeMatrix(rows: readonly MatrixRow[], everyMutant: boolean): { reports: MatrixReport[]; untripped: RuleId[] } {
  const fixture = matrixFixture(rows);
  const reports = rows.slice(1).map((row) => {
    const mutant = MUTANTS.find((m) => m.name === row.client)!;
    const declared = declaredRules(mutant);
    const tripped = Object.keys(fixture.mutants[row.client]!.rules) as RuleId[];
    return { mutant: mutant.name, declared, tripped, undeclared: tripped.filter((r) => !declared.includes(r)), missed: declared.filter((r) => !tripped.includes(r)) };
  });
  const trippedAny = new Set(reports.flatMap((r) => r.tripped));
  return { reports, untripped: everyMutant ? violableRules().filter((r) => !trippedAny.has(r)) : [] };
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
  const seconds = (performance.now() - t0) / 1000;
  const baseline = rows[0]!;
  const baselineProblems = baseline.results.filter((r) => !['pass', 'informative'].includes(r.outcome) || r.verdicts.some((v) => v.held === false));
  const { reports, untripped } = judgeMatrix(rows, wanted.length === MUTANTS.length);
  const bad = reports.filter((r) => r.tripped.length === 0 || r.undeclared.length > 0 || r.missed.length > 0);
  if (args.json) {
    process.stdout.write(JSON.stringify(matrixFixture(rows), null, 2) + '\n');
  } else {
    const fixture = matrixFixture(rows);
    process.stdout.write(`reference client: ${baseline.results.length - baselineProblems.length}/${baseline.results.length} cases pass or inform, no rule violated\n`);
    for (const r of reports) {
      const mark = r.tripped.length === 0 ? 'NOT CAUGHT' : r.undeclared.length > 0 || r.missed.length > 0 ? 'MISMATCH' : 'ok';
      process.stdout.write(`${r.mutant.padEnd(38)} ${mark.padEnd(10)} trips ${r.tripped.join(', ') || '(nothing)'}\n`);
      if (r.undeclared.length > 0) process.stdout.write(`    undeclared: ${r.undeclared.join(', ')}\n`);
      if (r.missed.length > 0) process.stdout.write(`    declared, not tripped: ${r.missed.join(', ')}\n`);
      for (const [id, outcome] of Object.entries(fixture.mutants[r.mutant]!.cases)) process.stdout.write(`    ${outcome.padEnd(12)} ${id}\n`);
    }
    if (untripped.length > 0) process.stdout.write(`\nrules no mutant trips: ${untripped.join(', ')}\n`);
    process.stdout.write(`\n${reports.length} mutants, ${violableRules().length} rules, in ${seconds.toFixed(1)} s; ${bad.length + untripped.length + baselineProblems.length} problem(s)\n`);
  }
  if (args.json && (bad.length > 0 || untripped.length > 0)) {
    process.stderr.write(`cpm-harness: ${bad.map((r) => r.mutant).join(', ')}${untripped.length > 0 ? `; untripped rules: ${untripped.join(', ')}` : ''}\n`);
  }
  return bad.length > 0 || untripped.length > 0 || baselineProblems.length > 0 ? 1 : 0;
}

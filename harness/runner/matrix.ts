/**
 * The mutation matrix: the catalogue run against the reference client and each mutant. It is how
 * the harness proves itself — every mutant must fail the cases of the requirement it breaks, and
 * every other cell must look like the reference client's.
 */
import type { ClientFactory } from '../client/types.ts';
import type { RunConfig } from '../testcase/config.ts';
import type { TestCaseDefinition } from '../testcase/definition.ts';
import type { RuleId } from '../verdict/rules.ts';
import { worse, type Outcome, type TestCaseResult } from '../verdict/verdict.ts';
import { runPool } from './pool.ts';
import { runSuite, type StartPf } from './runner.ts';

export interface MatrixRow {
  /** `builtin` or the mutant name. */
  client: string;
  results: TestCaseResult[];
}

export interface MatrixOptions {
  clients: { name: string; factory: ClientFactory }[];
  cases: readonly TestCaseDefinition[];
  config: RunConfig;
  startPf: StartPf;
  /** Suites at once and cases at once within a suite. */
  suites?: number;
  jobs?: number;
  onRow?: (row: MatrixRow) => void;
}

export async function runMatrix(options: MatrixOptions): Promise<MatrixRow[]> {
  return runPool(
    options.clients,
    options.suites ?? 6,
    async (client) => {
      const results = await runSuite({ cases: options.cases, client: client.factory, config: options.config, startPf: options.startPf, jobs: options.jobs ?? 4 });
      const row = { client: client.name, results };
      options.onRow?.(row);
      return row;
    },
    { notStarted: (client) => ({ client: client.name, results: [] }) },
  );
}

/** Cells that differ from the baseline row: `{ caseId: outcome }`. */
export function deviations(row: MatrixRow, baseline: MatrixRow): Record<string, Outcome> {
  const base = new Map(baseline.results.map((r) => [r.id, r.outcome]));
  const out: Record<string, Outcome> = {};
  for (const r of row.results) if (r.outcome !== base.get(r.id)) out[r.id] = r.outcome;
  return out;
}

/** Requirement IDs of the verdicts that made a case worse than pass. */
export function brokenRequirements(result: TestCaseResult): string[] {
  return [...new Set(result.verdicts.filter((v) => v.outcome === 'fail' || v.outcome === 'warning' || v.outcome === 'error').map((v) => v.requirement))];
}

/** Rules the results show violated (a finding that did not hold), with the worst outcome each gave. */
export function trippedRules(results: readonly TestCaseResult[]): Partial<Record<RuleId, Outcome>> {
  const out: Partial<Record<RuleId, Outcome>> = {};
  for (const r of results) {
    for (const v of r.verdicts) {
      if (v.rule === undefined || v.held !== false) continue;
      const before = out[v.rule];
      out[v.rule] = before === undefined ? v.outcome : worse(before, v.outcome);
    }
  }
  return sortedKeys(out);
}

function sortedKeys<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b))) as T;
}

/** fixtures/mutation-matrix.json: per mutant the rules it trips and the cases that differ from the reference client. */
export interface MatrixFixture {
  about: string;
  baseline: Record<string, Outcome>;
  mutants: Record<string, { rules: Partial<Record<RuleId, Outcome>>; cases: Record<string, Outcome> }>;
}

export const MATRIX_ABOUT =
  'Expected mutation matrix: the outcome of every test case against the reference client (baseline) and, per mutant, the rules it trips (a finding that did not hold, with the worst outcome it gave) and every case whose outcome differs from the baseline. A cell not listed under a mutant must equal the baseline; the rules must be exactly the ones the mutant declares (harness/reference-client/mutants.ts). Regenerate with `cpm-harness matrix --json > fixtures/mutation-matrix.json` and review the diff like code.';

export function matrixFixture(rows: readonly MatrixRow[]): MatrixFixture {
  const [baseline, ...mutants] = rows;
  if (!baseline) throw new Error('a matrix needs the reference client row');
  return {
    about: MATRIX_ABOUT,
    baseline: Object.fromEntries(baseline.results.map((r) => [r.id, r.outcome])),
    mutants: Object.fromEntries(mutants.map((row) => [row.client, { rules: trippedRules(row.results), cases: deviations(row, baseline) }])),
  };
}

/**
 * The mutation matrix: the catalogue run against the reference client and each mutant. It is how
 * the harness proves itself — every mutant must fail the cases of the requirement it breaks, and
 * every other cell must look like the reference client's.
 */
import type { ClientFactory } from '../client/types.ts';
import type { RunConfig } from '../testcase/config.ts';
import type { TestCaseDefinition } from '../testcase/definition.ts';
import type { Outcome, TestCaseResult } from '../verdict/verdict.ts';
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
    options.suites ?? 2,
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

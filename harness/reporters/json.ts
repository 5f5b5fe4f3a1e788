/** results.json: the whole run as data (verdicts with evidence as seq numbers and summaries, not bytes). */
import type { RunConfig } from '../testcase/config.ts';
import { totals, type TestCaseResult } from '../verdict/verdict.ts';

export function resultsJson(results: readonly TestCaseResult[], meta: { client: string; startedAt: string; wallMs: number; config: RunConfig }): string {
  return JSON.stringify(
    {
      tool: 'cpm-harness',
      client: meta.client,
      startedAt: meta.startedAt,
      wallMs: Math.round(meta.wallMs),
      config: meta.config,
      totals: totals(results),
      cases: results.map((r) => ({
        id: r.id,
        title: r.title,
        group: r.group,
        requirements: r.requirements,
        outcome: r.outcome,
        durationMs: Math.round(r.durationMs),
        skipReason: r.skipReason,
        error: r.error?.message,
        notes: r.notes,
        verdicts: r.verdicts.map((v) => ({
          requirement: v.requirement,
          level: v.level,
          outcome: v.outcome,
          reason: v.reason,
          marker: v.marker,
          evidence: v.evidence.map((e) => ({ seq: e.seq, summary: e.kind === 'message' ? `${e.direction} ${e.summary}` : `${e.state}: ${e.reason}` })),
        })),
      })),
    },
    null,
    2,
  );
}

/**
 * Verdict arithmetic. A test case collects verdict records, each bound to one requirement ID and
 * backed by the trace events that decided it; the case outcome is the worst of them. As in ETSI
 * suites a verdict only ever moves towards worse.
 */
import type { TraceElided, TraceEvent } from '../core/trace.ts';
import type { Level, RequirementId } from './requirements.ts';
import type { RuleId } from './rules.ts';

/**
 * `inconclusive` (ETSI `inconc`): the case could not test its purpose because a prerequisite failed
 * (the INVITE that only sets the stage, the subscription a later step needs). It is never a pass.
 */
export const OUTCOMES = ['pass', 'informative', 'inconclusive', 'warning', 'fail', 'error', 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Verdict {
  /** The rule table row that produced it; absent for an inconclusive verdict from a failed prerequisite. */
  readonly rule?: RuleId;
  /** Whether the rule held (false: a violation, whatever outcome the level gives it). */
  readonly held?: boolean;
  readonly requirement: RequirementId;
  readonly level: Level;
  readonly outcome: Outcome;
  /** One line: which requirement broke and why (or what was observed). */
  readonly reason: string;
  /** The messages that decided it. */
  readonly evidence: readonly TraceEvent[];
  /** Confidence of the rule applied: [V] verified, [I] implementations, [U] unconfirmed. */
  readonly marker?: 'V' | 'I' | 'U';
}

export interface TestCaseResult {
  readonly id: string;
  readonly title: string;
  readonly group: string;
  /** The case's requirement IDs (strings: a result may come back from a results.json file). */
  readonly requirements: readonly string[];
  readonly outcome: Outcome;
  readonly verdicts: readonly Verdict[];
  readonly startedAt: string;
  readonly durationMs: number;
  /** Every trace event of this case, in order (up to traceBytesPerCase: see traceElided). */
  readonly trace: readonly TraceEvent[];
  /** Messages left out of `trace` once it reached traceBytesPerCase. */
  readonly traceElided?: TraceElided;
  readonly notes: readonly string[];
  readonly skipReason?: string;
  /** Harness fault (exception in the harness, not a client failure). */
  readonly error?: { readonly message: string; readonly stack?: string };
}

const RANK: Record<Outcome, number> = { skipped: 0, informative: 1, pass: 2, inconclusive: 3, warning: 4, fail: 5, error: 6 };

/** Outcomes from worst to best, for reports that list the worst first. */
export const OUTCOMES_WORST_FIRST: readonly Outcome[] = [...OUTCOMES].sort((a, b) => RANK[b] - RANK[a]);

export function worse(a: Outcome, b: Outcome): Outcome {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The case outcome: worst verdict; `skipped` only when every verdict is skipped; a case that
 * produced no verdict at all is a harness error, so a forgotten expectation can never pass.
 */
export function aggregate(verdicts: readonly Verdict[]): Outcome {
  if (verdicts.length === 0) return 'error';
  if (verdicts.every((v) => v.outcome === 'skipped')) return 'skipped';
  const decided = verdicts.filter((v) => v.outcome !== 'skipped');
  const worst = decided.map((v) => v.outcome).reduce(worse, 'informative');
  return worst;
}

export type Totals = { total: number } & Record<Outcome, number>;

export function totals(results: readonly TestCaseResult[]): Totals {
  const t = { total: results.length } as Totals;
  for (const o of OUTCOMES) t[o] = 0;
  for (const r of results) t[r.outcome]++;
  return t;
}

/** Exit code policy: 0 when nothing failed, errored or was inconclusive (inconclusive never passes). */
export function runFailed(results: readonly TestCaseResult[]): boolean {
  return results.some((r) => r.outcome === 'fail' || r.outcome === 'error' || r.outcome === 'inconclusive');
}

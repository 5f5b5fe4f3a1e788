/**
 * One run as every reporter sees it: what was run against what (meta), and per selected test case
 * its result, its purpose and where it sits in the unsharded selection. JUnit, Markdown, HTML and
 * results.json are all built from this, and `cpm-harness merge` rebuilds it from results.json files.
 */
import { createHash } from 'node:crypto';
import type { TransportKind } from '../core/trace.ts';
import type { RunConfig } from '../testcase/config.ts';
import type { Level } from '../verdict/requirements.ts';
import { OUTCOMES, OUTCOMES_WORST_FIRST, runFailed, worse, type Outcome, type TestCaseResult } from '../verdict/verdict.ts';

export interface ShardSpec {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

/** A requirement as the run knew it, so a report rebuilt later does not depend on today's catalogue. */
export interface RequirementInfo {
  readonly id: string;
  readonly level: Level;
  readonly title: string;
}

export interface RunMeta {
  readonly version: string;
  readonly client: string;
  readonly transport: TransportKind;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly config: RunConfig;
  /** `sha256:<hex>` of the canonical JSON of `config`: equal digests, equal configuration. */
  readonly configDigest: string;
  /** Warnings fail the run. */
  readonly strict: boolean;
  /** Runs per selected case (`--repeat`). */
  readonly repeat: number;
  readonly shard?: ShardSpec;
  /** Cases selected before sharding (`--grep`): what the shards of one run add up to. */
  readonly selected: number;
  /** The signal or fault that stopped the run early, e.g. `SIGTERM`. */
  readonly interrupted?: string;
  /** Shards this report was merged from (`cpm-harness merge`). */
  readonly mergedFrom?: readonly string[];
  readonly requirements: readonly RequirementInfo[];
}

/** `--repeat`: how many runs of a case gave which outcome. */
export interface RepeatSummary {
  readonly runs: number;
  readonly outcomes: Readonly<Partial<Record<Outcome, number>>>;
  /** More than one outcome among the runs. */
  readonly flaky: boolean;
  /** Every run's outcome, duration and one-line reason, in run order. */
  readonly attempts: readonly { readonly outcome: Outcome; readonly durationMs: number; readonly headline: string }[];
}

export interface CaseReport {
  /** For a repeated case: the worst run (its verdicts and trace are what the reports show). */
  readonly result: TestCaseResult;
  readonly purpose: string;
  /** Position in the unsharded selection: merged shards sort back into one run's order. */
  readonly order: number;
  readonly repeat?: RepeatSummary;
  /** The case's capture, as the path `--pcap` wrote it (relative to where the harness ran). */
  readonly pcap?: string;
}

export interface RunReport {
  readonly meta: RunMeta;
  readonly cases: readonly CaseReport[];
}

/** JSON with object keys sorted at every level: the same configuration always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function configDigest(config: RunConfig): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}

/**
 * Folds the runs of one case (`--repeat`) into one report row: the worst run stands for the case
 * (strict in judgement: one failing run fails the case), the counts say how the others went.
 */
export function foldRepeats(runs: readonly TestCaseResult[], headlineOf: (r: TestCaseResult) => string): { result: TestCaseResult; repeat: RepeatSummary } {
  if (runs.length === 0) throw new Error('foldRepeats needs at least one run');
  let worst = runs[0]!;
  for (const r of runs) if (worse(worst.outcome, r.outcome) === r.outcome && r.outcome !== worst.outcome) worst = r;
  const outcomes: Partial<Record<Outcome, number>> = {};
  for (const o of OUTCOMES) {
    const n = runs.filter((r) => r.outcome === o).length;
    if (n > 0) outcomes[o] = n;
  }
  return {
    result: worst,
    repeat: {
      runs: runs.length,
      outcomes,
      flaky: Object.keys(outcomes).length > 1,
      attempts: runs.map((r) => ({ outcome: r.outcome, durationMs: r.durationMs, headline: headlineOf(r) })),
    },
  };
}

/** `pass 3, fail 1 of 4 runs (flaky)`. */
export function repeatText(repeat: RepeatSummary): string {
  const counts = OUTCOMES_WORST_FIRST.filter((o) => repeat.outcomes[o]).map((o) => `${o} ${repeat.outcomes[o]}`);
  return `${counts.join(', ')} of ${repeat.runs} runs${repeat.flaky ? ' (flaky)' : ''}`;
}

export function strictFailures(report: RunReport): number {
  return report.meta.strict ? report.cases.filter((c) => c.result.outcome === 'warning').length : 0;
}

/** Exit policy: fail, error or inconclusive fail the run; under --strict a warning does too. */
export function reportFailed(report: RunReport): boolean {
  return runFailed(report.cases.map((c) => c.result)) || strictFailures(report) > 0;
}

/** Cases worst outcome first, then in run order: what a person should look at first. */
export function worstFirst(cases: readonly CaseReport[]): CaseReport[] {
  const rank = (o: Outcome): number => OUTCOMES_WORST_FIRST.indexOf(o);
  return [...cases].sort((a, b) => rank(a.result.outcome) - rank(b.result.outcome) || a.order - b.order);
}

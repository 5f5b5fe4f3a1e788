/**
 * What a checker reports: one rule it applied, whether the observation met it, and what decided
 * it. A finding is neutral — it knows no requirement ID and no level; harness/verdict/rules.ts is
 * the only place that turns a rule into a verdict.
 */
export type FindingEvidenceItem = object | null | undefined;
export type FindingEvidence = FindingEvidenceItem | readonly FindingEvidenceItem[];

export interface Finding<R extends string = string> {
  /** Stable rule id, e.g. `imdn.status`; the rule table names the requirement it serves. */
  readonly rule: R;
  /** The observation met the rule. */
  readonly ok: boolean;
  /** One line: what was observed (ok) or what is wrong and why (not ok). */
  readonly detail: string;
  /** The messages, events or bytes that decided it; absent when the caller supplies them. */
  readonly evidence?: FindingEvidence;
}

export function finding<R extends string>(rule: R, ok: boolean, detail: string, evidence?: FindingEvidence): Finding<R> {
  return evidence === undefined ? { rule, ok, detail } : { rule, ok, detail, evidence };
}

/** The findings that did not hold. */
export function violations<R extends string>(findings: readonly Finding<R>[]): Finding<R>[] {
  return findings.filter((f) => !f.ok);
}

/**
 * What a test case sees: the PF, the upper tester, the windows, and the recorder of findings.
 * Every finding goes through the rule table (harness/verdict/rules.ts): its rule names the
 * requirement and the requirement's level decides what a violation means, so a case states the
 * observation and never picks a severity or a requirement ID by hand. A step the case's purpose
 * depends on (the preamble) is not a verdict: when it fails, `prerequisite()` ends the case and
 * the runner makes every requirement not yet judged inconclusive, naming the failed step.
 */
import type { UpperTester, UtOperation } from '../client/types.ts';
import type { Finding } from '../core/finding.ts';
import type { TraceEvent, TraceRecorder } from '../core/trace.ts';
import { headerValue, startLine, type SipMessage } from '../sip/message.ts';
import type { ParticipatingFunctionApi, PfEvent } from '../pf/types.ts';
import { requirement, type RequirementId } from '../verdict/requirements.ts';
import { heldOutcomeOf, isWireRule, ruleRow, violationOutcomeOf, type RuleId, type RuleRow } from '../verdict/rules.ts';
import type { Outcome, Verdict } from '../verdict/verdict.ts';
import { formatWindow, REAL_WINDOWS, type RunConfig, type WindowName, type Windows } from './config.ts';

/** Anything that points at messages: trace events, PF events, parsed messages (matched by identity). */
export type EvidenceItem = TraceEvent | PfEvent | object | null | undefined;
export type Evidence = EvidenceItem | readonly EvidenceItem[];

/**
 * Thrown into a case that is still running after the runner ended it (a fault of its boundary, the
 * hard limit, an interrupt): whatever it records from then on belongs to no result.
 */
export class CaseEnded extends Error {
  constructor() {
    super('the test case already ended');
    this.name = 'CaseEnded';
  }
}

/** Thrown by `t.skip()` to end a case as skipped; the runner catches it. */
export class SkipSignal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SkipSignal';
  }
}

/**
 * Thrown by `t.prerequisite()`: a step the case needs failed (the INVITE that only sets the stage,
 * the REGISTER, the subscription a later step needs). The runner catches it; every requirement of
 * the case without a verdict yet becomes inconclusive with this step named.
 */
export class PrerequisiteFailed extends Error {
  constructor(
    readonly prerequisite: string,
    readonly why: string,
    readonly evidence: readonly TraceEvent[] = [],
  ) {
    super(`prerequisite failed: ${prerequisite}: ${why}`);
    this.name = 'PrerequisiteFailed';
  }
}

export interface ObserveOptions {
  /**
   * The rule held because nothing was seen within this window (an absence check). For an external
   * client a window shorter than its real value proves nothing: the verdict is informative.
   */
  absenceWindow?: WindowName;
}

export interface TestContext {
  readonly pf: ParticipatingFunctionApi;
  readonly ut: UpperTester | null;
  readonly config: RunConfig;
  readonly windows: Windows;
  /** Every trace event of the case so far (timestamps of what was sent and received). */
  readonly trace: readonly TraceEvent[];
  /** Records findings, one verdict each, through the rule table; `evidence` backs findings that carry none. */
  record(findings: Finding<RuleId> | readonly Finding<RuleId>[], evidence?: Evidence, options?: ObserveOptions): void;
  /** One finding: `t.observe('reject.status', status === 488, detail, evidence)`. Returns `ok`. */
  observe(rule: RuleId, ok: boolean, detail: string, evidence?: Evidence, options?: ObserveOptions): boolean;
  /** A step the case depends on failed: ends the case; its unjudged requirements become inconclusive. */
  prerequisite(what: string, why: string, evidence?: Evidence): never;
  note(text: string): void;
  skip(reason: string): never;
  /** The upper tester with these operations, or skip with "needs upper tester". */
  requireUt(...operations: UtOperation[]): UpperTester;
  /** Resolves evidence to the trace events it names. */
  evidence(evidence: Evidence): TraceEvent[];
}

/**
 * A key that identifies a SIP message or MSRP frame by content, for messages whose trace event
 * holds a re-parsed copy (the stack parses what it sends, so identity does not match).
 */
function messageKey(x: object): string | undefined {
  const m = x as Partial<SipMessage> & { transactionId?: unknown; method?: unknown; status?: unknown };
  if ((m.kind === 'request' || m.kind === 'response') && Array.isArray(m.headers) && 'version' in m) {
    const sip = x as SipMessage;
    return `sip|${startLine(sip)}|${headerValue(sip, 'call-id') ?? ''}|${headerValue(sip, 'cseq') ?? ''}|${headerValue(sip, 'via') ?? ''}`;
  }
  if (typeof m.transactionId === 'string') return `msrp|${m.transactionId}|${String(m.method ?? m.status ?? '')}`;
  return undefined;
}

function isTraceEvent(x: object): x is TraceEvent {
  return 'kind' in x && 'monotonicMs' in x && 'bytes' in x;
}

function isPfEvent(x: object): x is PfEvent {
  return 'type' in x && 'seq' in x && 'at' in x;
}

/** Messages a PF event refers to, for evidence lookup. */
function messagesOf(e: PfEvent): object[] {
  const out: object[] = [];
  for (const key of ['request', 'response', 'frame'] as const) {
    const v = (e as Record<string, unknown>)[key];
    if (v && typeof v === 'object') out.push(v);
  }
  return out;
}

export class CaseContext implements TestContext {
  readonly verdicts: Verdict[] = [];
  readonly notes: string[] = [];
  private readonly rules: ReadonlySet<RuleId>;
  private sealed = false;

  constructor(
    readonly pf: ParticipatingFunctionApi,
    readonly ut: UpperTester | null,
    readonly config: RunConfig,
    private readonly recorder: TraceRecorder,
    declaredRules: readonly RuleId[],
    private readonly requirements: readonly RequirementId[],
  ) {
    this.rules = new Set(declaredRules);
  }

  get windows(): Windows {
    return this.config.windows;
  }

  get trace(): readonly TraceEvent[] {
    return this.recorder.events;
  }

  evidence(evidence: Evidence): TraceEvent[] {
    const items: EvidenceItem[] = Array.isArray(evidence) ? [...(evidence as readonly EvidenceItem[])] : [evidence as EvidenceItem];
    const found = new Set<TraceEvent>();
    const wanted = new Set<object>();
    for (const item of items) {
      if (!item) continue;
      if (isTraceEvent(item)) found.add(item);
      else if (isPfEvent(item)) for (const m of messagesOf(item)) wanted.add(m);
      else wanted.add(item);
    }
    if (wanted.size > 0) {
      const keys = new Set([...wanted].map(messageKey).filter((k): k is string => k !== undefined));
      for (const e of this.recorder.events) {
        if (e.kind !== 'message' || e.parsed === undefined || typeof e.parsed !== 'object' || e.parsed === null) continue;
        if (e.actor !== undefined && e.actor !== 'pf') continue;
        if (wanted.has(e.parsed)) found.add(e);
        else {
          const key = messageKey(e.parsed);
          if (key !== undefined && keys.has(key)) found.add(e);
        }
      }
    }
    return [...found].sort((a, b) => a.seq - b.seq);
  }

  record(findings: Finding<RuleId> | readonly Finding<RuleId>[], evidence?: Evidence, options: ObserveOptions = {}): void {
    if (this.sealed) throw new CaseEnded();
    const list: readonly Finding<RuleId>[] = Array.isArray(findings) ? findings : [findings as Finding<RuleId>];
    for (const f of list) this.verdicts.push(this.verdictOf(f, f.evidence ?? evidence, options));
  }

  observe(rule: RuleId, ok: boolean, detail: string, evidence?: Evidence, options?: ObserveOptions): boolean {
    this.record({ rule, ok, detail }, evidence, options);
    return ok;
  }

  private verdictOf(f: Finding<RuleId>, evidence: Evidence, options: ObserveOptions): Verdict {
    // Wire rules are the runner's, in every case (the fault boundary); a case declares the others.
    if (!this.rules.has(f.rule) && !isWireRule(f.rule)) throw new Error(`finding for rule ${f.rule}, which this test case does not declare`);
    const row: RuleRow = ruleRow(f.rule);
    let outcome: Outcome = f.ok ? heldOutcomeOf(f.rule) : violationOutcomeOf(f.rule);
    let reason = f.detail;
    if (!f.ok && outcome === 'warning' && requirement(row.requirement).level === 'SHALL') {
      reason += row.marker === 'U' ? ' (rule unconfirmed [U]: reported as a warning)' : ` (tolerated, ${row.advisory}: reported as a warning)`;
    }
    const window = options.absenceWindow;
    if (f.ok && window !== undefined && outcome === 'pass' && this.config.client === 'external' && this.windows[window] < REAL_WINDOWS[window]) {
      outcome = 'informative';
      reason += ` — not observed within ${formatWindow(this.windows[window])}; the real window is ${formatWindow(REAL_WINDOWS[window])} (${window} scaled), so this proves nothing`;
    }
    const base = { rule: f.rule, held: f.ok, requirement: row.requirement, level: requirement(row.requirement).level, outcome, reason, evidence: this.evidence(evidence) };
    const marker = row.marker ?? (row.verified === undefined ? undefined : ('V' as const));
    return marker === undefined ? base : { ...base, marker };
  }

  prerequisite(what: string, why: string, evidence?: Evidence): never {
    throw new PrerequisiteFailed(what, why, this.evidence(evidence));
  }

  /**
   * After a failed prerequisite: every declared requirement without a verdict is inconclusive, with
   * the step that failed named (never a pass, never a fail of something that was not tested).
   */
  inconclusive(failed: PrerequisiteFailed): void {
    this.note(`prerequisite failed: ${failed.prerequisite}: ${failed.why}`);
    const judged = new Set(this.verdicts.map((v) => v.requirement));
    for (const id of this.requirements) {
      if (judged.has(id)) continue;
      this.verdicts.push({ requirement: id, level: requirement(id).level, outcome: 'inconclusive', reason: `not judged: prerequisite failed: ${failed.prerequisite}: ${failed.why}`, evidence: [...failed.evidence] });
    }
  }

  /**
   * At the end of a case that ran to completion: when a rule was violated, the requirements the
   * case never got to are inconclusive (the failed step named) rather than silently absent.
   */
  complete(): void {
    const first = this.verdicts.find((v) => v.held === false && (v.outcome === 'fail' || v.outcome === 'warning'));
    if (!first) return;
    const judged = new Set(this.verdicts.map((v) => v.requirement));
    for (const id of this.requirements) {
      if (judged.has(id)) continue;
      this.verdicts.push({ requirement: id, level: requirement(id).level, outcome: 'inconclusive', reason: `not judged: the case stopped after ${first.rule}: ${first.reason}`, evidence: first.evidence });
    }
  }

  note(text: string): void {
    if (this.sealed) throw new CaseEnded();
    this.notes.push(text);
  }

  /**
   * The runner ended the case: a case function still running (the runner stopped waiting for it)
   * gets CaseEnded at its next record or note, so nothing lands in a result already reported.
   */
  seal(): void {
    this.sealed = true;
  }

  skip(reason: string): never {
    throw new SkipSignal(reason);
  }

  requireUt(...operations: UtOperation[]): UpperTester {
    if (!this.ut) this.skip(`needs upper tester (${operations.join(', ')}); none configured`);
    const missing = operations.filter((op) => !this.ut!.supports.has(op));
    if (missing.length > 0) this.skip(`needs upper tester operations the client's UT does not support: ${missing.join(', ')}`);
    return this.ut;
  }
}

/** Inconclusive verdicts for every requirement of a case that could not start (the client never registered). */
export function inconclusiveVerdicts(requirements: readonly RequirementId[], prerequisite: string, why: string): Verdict[] {
  return requirements.map((id) => ({ requirement: id, level: requirement(id).level, outcome: 'inconclusive', reason: `not judged: prerequisite failed: ${prerequisite}: ${why}`, evidence: [] }));
}

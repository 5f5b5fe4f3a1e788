/**
 * What a test case sees: the PF, the upper tester, the windows, and the verdict recorder. A
 * verdict is bound to a requirement ID; the requirement's level decides what a violation means
 * (SHALL → fail, SHOULD → warning, MAY/descriptive → informative), so a case states the
 * observation and never picks the severity by hand.
 */
import type { UpperTester, UtOperation } from '../client/types.ts';
import type { TraceEvent, TraceRecorder } from '../core/trace.ts';
import { headerValue, startLine, type SipMessage } from '../sip/message.ts';
import type { ParticipatingFunctionApi, PfEvent } from '../pf/types.ts';
import { findRequirement, violationOutcome } from '../verdict/requirements.ts';
import type { Outcome, Verdict } from '../verdict/verdict.ts';
import type { RunConfig, Windows } from './config.ts';

/** Anything that points at messages: trace events, PF events, parsed messages (matched by identity). */
export type EvidenceItem = TraceEvent | PfEvent | object | null | undefined;
export type Evidence = EvidenceItem | readonly EvidenceItem[];

export type Marker = 'V' | 'I' | 'U';

/** Thrown by `t.skip()` to end a case as skipped; the runner catches it. */
export class SkipSignal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SkipSignal';
  }
}

export interface TestContext {
  readonly pf: ParticipatingFunctionApi;
  readonly ut: UpperTester | null;
  readonly config: RunConfig;
  readonly windows: Windows;
  /** Records that the requirement was met. */
  pass(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void;
  /** Records a violation; its outcome follows the requirement's level. */
  violation(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void;
  /** Pass when `ok`, else a violation: `check(id, status === 488, 'got 488', `expected 488, got ${status}`)`. */
  check(requirement: string, ok: boolean, passReason: string, failReason: string, evidence?: Evidence, marker?: Marker): boolean;
  /** An observation with no pass/fail meaning (ambiguities, MAY behaviour). */
  inform(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void;
  /** A violation reported as a warning whatever the level ([U] rules: never hard-fail on them). */
  warn(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void;
  /**
   * The requirement could not be judged because a precondition failed (that failure carries its
   * own verdict): recorded as a skipped verdict with the reason, never as a pass.
   */
  notJudged(requirement: string, reason: string, evidence?: Evidence): void;
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

  constructor(
    readonly pf: ParticipatingFunctionApi,
    readonly ut: UpperTester | null,
    readonly config: RunConfig,
    private readonly recorder: TraceRecorder,
    private readonly declared: readonly string[],
  ) {}

  get windows(): Windows {
    return this.config.windows;
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

  private record(requirement: string, outcome: Outcome, reason: string, evidence: Evidence, marker?: Marker): void {
    const req = findRequirement(requirement);
    if (!req) throw new Error(`verdict for unknown requirement ${requirement}`);
    if (!this.declared.includes(requirement)) throw new Error(`verdict for ${requirement}, which this test case does not declare`);
    const verdict: Verdict = marker === undefined
      ? { requirement, level: req.level, outcome, reason, evidence: this.evidence(evidence) }
      : { requirement, level: req.level, outcome, reason, evidence: this.evidence(evidence), marker };
    this.verdicts.push(verdict);
  }

  pass(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void {
    const level = findRequirement(requirement)?.level;
    // A MAY or descriptive requirement cannot "pass": observing it is information.
    const outcome: Outcome = level === 'MAY' || level === 'descriptive' || level === 'informative' ? 'informative' : 'pass';
    this.record(requirement, outcome, reason, evidence, marker);
  }

  violation(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void {
    const level = findRequirement(requirement)?.level ?? 'SHALL';
    const outcome = marker === 'U' && level === 'SHALL' ? 'warning' : violationOutcome(level);
    this.record(requirement, outcome, marker === 'U' && level === 'SHALL' ? `${reason} (rule unconfirmed [U]: reported as a warning)` : reason, evidence, marker);
  }

  check(requirement: string, ok: boolean, passReason: string, failReason: string, evidence?: Evidence, marker?: Marker): boolean {
    if (ok) this.pass(requirement, passReason, evidence, marker);
    else this.violation(requirement, failReason, evidence, marker);
    return ok;
  }

  inform(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void {
    this.record(requirement, 'informative', reason, evidence, marker);
  }

  warn(requirement: string, reason: string, evidence?: Evidence, marker?: Marker): void {
    this.record(requirement, 'warning', reason, evidence, marker);
  }

  notJudged(requirement: string, reason: string, evidence?: Evidence): void {
    this.record(requirement, 'skipped', `not judged: ${reason}`, evidence);
  }

  note(text: string): void {
    this.notes.push(text);
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

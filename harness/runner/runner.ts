/**
 * Runs test cases against a client: each case gets a fresh PF, a fresh client and its own trace,
 * so any case can run alone. Every case yields exactly one result, whatever happens: a client
 * that never answers, a harness exception, a hard timeout or Ctrl-C all end as a result with a
 * reason, never as a missing row.
 */
import { performance } from 'node:perf_hooks';
import type { ClientFactory, ClientUnderTest } from '../client/types.ts';
import { formatDiagnostic, setDiagnosticTextLimit } from '../core/diagnostic.ts';
import { CaseScope, inScope, type FaultBoundary, type HarnessFault, type PeerWatch, type ScopeEnd, type WireFault } from '../core/scope.ts';
import { TraceRecorder, type TraceEvent, type TraceSink } from '../core/trace.ts';
import type { Binding, ParticipatingFunctionApi } from '../pf/types.ts';
import type { RunConfig, Windows } from '../testcase/config.ts';
import { CaseContext, inconclusiveVerdicts, PrerequisiteFailed, SkipSignal } from '../testcase/context.ts';
import type { TestCaseDefinition } from '../testcase/definition.ts';
import { requirement } from '../verdict/requirements.ts';
import { violationOutcomeOf, WIRE_RULES, type RuleId } from '../verdict/rules.ts';
import { aggregate, type Outcome, type TestCaseResult, type Verdict } from '../verdict/verdict.ts';
import { race, runPool } from './pool.ts';

export type StartPf = (options: {
  config: RunConfig;
  trace: TraceSink;
  actor: string;
  staleCallIds?: ReadonlySet<string>;
  /** The case's fault boundary and its watch on the client (core/scope.ts), for ParticipatingFunction.start. */
  boundary?: FaultBoundary;
  watch?: PeerWatch;
}) => Promise<ParticipatingFunctionApi>;

export interface RunOptions {
  cases: readonly TestCaseDefinition[];
  client: ClientFactory;
  config: RunConfig;
  startPf: StartPf;
  /** Cases run at once (each has its own ports). Default 1. */
  jobs?: number;
  /** Hard cap per case; default three times the sum of all windows. */
  caseTimeoutMs?: number;
  signal?: AbortSignal;
  onCaseStart?: (definition: TestCaseDefinition) => void;
  onCaseFinished?: (result: TestCaseResult) => void;
  /**
   * Call-IDs of earlier cases of a client that stays up; each new PF answers requests in them 481
   * (late retransmissions through a proxy, refreshes of old subscriptions). runSuite keeps one.
   */
  staleCallIds?: Set<string>;
}

const TEARDOWN_LIMIT_MS = 5_000;

/** The error of every case a stop signal interrupted, whatever step it was in (README "Commands"). */
export const RUNNING_INTERRUPTED = 'run interrupted while this case was running';
/** The skip reason of every case a stop signal kept from starting. */
export const NOT_STARTED_INTERRUPTED = 'run interrupted before this case started';

/** Thrown by a step of a case that the run's abort signal ended. */
class RunInterrupted extends Error {
  constructor() {
    super(RUNNING_INTERRUPTED);
    this.name = 'RunInterrupted';
  }
}

export function defaultCaseTimeout(windows: Windows): number {
  const sum = Object.entries(windows)
    .filter(([k]) => k.endsWith('Ms'))
    .reduce((s, [, v]) => s + v, 0);
  return 3 * sum;
}

interface Partial {
  verdicts: readonly Verdict[];
  notes: readonly string[];
  trace: TraceRecorder;
}

function finish(
  definition: TestCaseDefinition,
  startedAt: string,
  t0: number,
  part: Partial,
  outcome: Outcome,
  extra: { skipReason?: string; error?: { message: string; stack?: string } } = {},
): TestCaseResult {
  return {
    id: definition.id,
    title: definition.title,
    group: definition.group,
    requirements: definition.requirements,
    outcome,
    verdicts: part.verdicts,
    notes: part.notes,
    startedAt,
    durationMs: performance.now() - t0,
    trace: [...part.trace.events],
    ...(part.trace.elided === undefined ? {} : { traceElided: part.trace.elided }),
    ...extra,
  };
}

export function notStartedResult(definition: TestCaseDefinition, reason: string): TestCaseResult {
  return {
    id: definition.id,
    title: definition.title,
    group: definition.group,
    requirements: definition.requirements,
    outcome: 'skipped',
    verdicts: [],
    notes: [],
    startedAt: new Date().toISOString(),
    durationMs: 0,
    trace: [],
    skipReason: reason,
  };
}

async function bounded(p: Promise<unknown> | undefined): Promise<void> {
  if (p) await race(p, TEARDOWN_LIMIT_MS);
}

/** Thrown into the steps of a case by its scope's first fault (a race, never an unhandled rejection). */
class ScopeFault extends Error {
  constructor(readonly end: ScopeEnd) {
    super(end.kind === 'harness-fault' ? end.fault.message : end.fault.diagnostic.message);
    this.name = 'ScopeFault';
  }
}

/** The trace events a wire fault points at: the message that carried its diagnostic, else the connection's last event. */
function faultEvidence(recorder: TraceRecorder, fault: WireFault): TraceEvent[] {
  const events = recorder.events;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.kind === 'message' && e.diagnostics.includes(fault.diagnostic)) return [e];
  }
  if (fault.connectionId === undefined) return [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.connectionId === fault.connectionId && (e.kind === 'connection' || e.direction === 'in')) return [e];
  }
  return [];
}

/** Faults after the first are listed in the notes, up to this many. */
const LATER_FAULTS_SHOWN = 5;

function faultText(end: ScopeEnd): string {
  return end.kind === 'harness-fault' ? `harness fault in ${end.fault.where}: ${end.fault.message}` : formatDiagnostic(end.fault.diagnostic);
}

function harnessFaultError(fault: HarnessFault): { message: string; stack?: string } {
  const message = `harness fault in ${fault.where}: ${fault.message}`;
  return fault.stack === undefined ? { message } : { message, stack: fault.stack };
}

/**
 * One case, inside its own fault boundary (core/scope.ts): the PF, the client and every timer they
 * arm belong to the case's scope, so a fault ends this case — an `error` for a harness exception,
 * an early FAIL of a wire rule for a client that broke its stream or a limit — and the run goes on.
 */
export async function runCase(definition: TestCaseDefinition, options: RunOptions): Promise<TestCaseResult> {
  const scope = new CaseScope({ limits: options.config.limits, label: definition.id });
  return inScope(scope, () => runScoped(definition, options, scope));
}

async function runScoped(definition: TestCaseDefinition, options: RunOptions, scope: CaseScope): Promise<TestCaseResult> {
  const { config } = options;
  const recorder = new TraceRecorder({ budgetBytes: config.limits.traceBytesPerCase });
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const empty: Partial = { verdicts: [], notes: [], trace: recorder };
  // The first fault of the scope, as a rejection every step of the case races against.
  const faulted = scope.ended.then((end) => Promise.reject(new ScopeFault(end)));
  faulted.catch(() => {});
  const untilFault = <T>(step: Promise<T>): Promise<T> => Promise.race([step, faulted]);
  let pf: ParticipatingFunctionApi | undefined;
  let client: ClientUnderTest | undefined;
  let context: CaseContext | undefined;

  /** The case as its scope's first fault ended it: an error for a harness fault, a wire FAIL for a client fault. */
  const endedByFault = (end: ScopeEnd): TestCaseResult => {
    const result = endedBy(end);
    const later = scope.faults.slice(1, 1 + LATER_FAULTS_SHOWN).map((f) => `later fault, after the one that ended the case: ${faultText(f)}`);
    return later.length === 0 ? result : { ...result, notes: [...result.notes, ...later] };
  };
  const endedBy = (end: ScopeEnd): TestCaseResult => {
    if (end.kind === 'harness-fault') return finish(definition, startedAt, t0, context ? partOf(context, recorder) : empty, 'error', { error: harnessFaultError(end.fault) });
    if (context === undefined) {
      const verdict = wireVerdict(end.fault, faultEvidence(recorder, end.fault));
      const why = `the case stopped after ${verdict.rule}: ${verdict.reason}`;
      const rest = definition.requirements.map((id): Verdict => ({ requirement: id, level: requirement(id).level, outcome: 'inconclusive', reason: `not judged: ${why}`, evidence: verdict.evidence }));
      const verdicts = [verdict, ...rest];
      return finish(definition, startedAt, t0, { ...empty, verdicts }, aggregate(verdicts));
    }
    recordWireFault(context, end.fault, recorder);
    context.complete();
    return finish(definition, startedAt, t0, partOf(context, recorder), aggregate(context.verdicts));
  };

  /** A stop signal ended the case in any step: the same reason whatever the step (its verdicts so far kept). */
  const interrupted = (): TestCaseResult =>
    finish(definition, startedAt, t0, context ? partOf(context, recorder) : empty, 'error', { error: { message: RUNNING_INTERRUPTED } });

  try {
    const stale = options.staleCallIds ? { staleCallIds: options.staleCallIds } : {};
    const started = await race(untilFault(options.startPf({ config, trace: recorder.sink, actor: 'pf', boundary: scope, watch: scope, ...stale })), TEARDOWN_LIMIT_MS, options.signal);
    if (started.kind === 'threw' && started.error instanceof ScopeFault) return endedByFault(started.error.end);
    if (started.kind === 'aborted') return interrupted();
    if (started.kind !== 'done') {
      const why = started.kind === 'threw' ? String((started.error as Error)?.message ?? started.error) : started.kind;
      return finish(definition, startedAt, t0, empty, 'error', { error: { message: `could not start the Participating Function: ${why}` } });
    }
    pf = started.value;
    if (definition.needs.includes('msrp') && !config.pics.msrp) {
      return finish(definition, startedAt, t0, empty, 'skipped', { skipReason: 'needs MSRP; the client is declared SIP-only (pics.msrp: false)' });
    }
    client = options.client.create({ boundary: scope });
    const ut = client.upperTester;
    if (definition.upperTester.length > 0) {
      if (!ut) return finish(definition, startedAt, t0, empty, 'skipped', { skipReason: `needs upper tester (${definition.upperTester.join(', ')})` });
      const missing = definition.upperTester.filter((op) => !ut.supports.has(op));
      if (missing.length > 0) return finish(definition, startedAt, t0, empty, 'skipped', { skipReason: `needs upper tester operations not supported: ${missing.join(', ')}` });
    }
    const clientStart = await race(
      untilFault(client.start({ registrar: pf.registrar, aor: config.identities.clientAor, groupIdentity: config.identities.groupIdentity, timers: config.timers })),
      config.windows.registrationMs,
      options.signal,
    );
    if (clientStart.kind === 'threw' && clientStart.error instanceof ScopeFault) return endedByFault(clientStart.error.end);
    if (clientStart.kind === 'aborted') return interrupted();
    if (clientStart.kind !== 'done') {
      const why = clientStart.kind === 'threw' ? String((clientStart.error as Error)?.message ?? clientStart.error) : clientStart.kind;
      return finish(definition, startedAt, t0, empty, 'error', { error: { message: `could not start the client under test: ${why}` } });
    }
    const bound = await race(untilFault(bindClient(client, pf, config.windows.registrationMs, options.signal)), config.windows.registrationMs + 2 * TEARDOWN_LIMIT_MS);
    if (bound.kind === 'threw' && bound.error instanceof ScopeFault) return endedByFault(bound.error.end);
    if (bound.kind === 'threw' && bound.error instanceof RunInterrupted) return interrupted();
    if (bound.kind === 'threw') throw bound.error;
    const binding = bound.kind === 'done' ? bound.value : null;
    if (!binding) {
      // Client never registered: a failed preamble, not a harness fault (README "Outcomes").
      const why = `no REGISTER within ${config.windows.registrationMs} ms`;
      const verdicts = inconclusiveVerdicts(definition.requirements, 'the client registers', why);
      return finish(definition, startedAt, t0, { ...empty, verdicts, notes: [`prerequisite failed: the client registers: ${why}`] }, 'inconclusive');
    }
    context = new CaseContext(pf, ut, config, recorder, definition.rules, definition.requirements);
    const judged = context;
    // At the moment of the fault, inside the handler that found it: a wire fault is recorded so it
    // precedes what it then breaks, and the case function (which may still be running for a few
    // turns) can record nothing more.
    scope.onFirstFault((end) => {
      if (end.kind === 'wire-fault') recordWireFault(judged, end.fault, recorder);
      judged.seal();
    });
    // A client that stays up across cases starts each case clean (conformance preamble), when its UT can.
    if (client.persistent && ut?.reset && ut.supports.has('reset')) {
      const reset = await race(ut.reset(), config.windows.utMs, options.signal);
      if (reset.kind !== 'done' || !reset.value.ok) {
        const why = reset.kind === 'done' && !reset.value.ok ? reset.value.message : reset.kind;
        context.note(`upper tester reset failed (${why}): the client may carry state from the previous case`);
      }
    } else if (client.persistent) {
      context.note('the client stays up across cases and its upper tester has no reset: it may carry state from the previous case');
    }
    // Interrupted during the preamble (a reset of an external client's UT): the case function never starts.
    if (options.signal?.aborted) return interrupted();
    const part = (): Partial => partOf(context!, recorder);
    const limit = options.caseTimeoutMs ?? defaultCaseTimeout(config.windows);
    const ran = await race(untilFault(definition.run(context)), limit, options.signal);
    // A fault of the scope decides, even when the case function settled in the same turn (a wire
    // fault and the step it broke arrive in one read): the specific reason, never the consequence.
    if (scope.end !== undefined) return endedByFault(scope.end);
    switch (ran.kind) {
      case 'done':
        context.complete();
        return finish(definition, startedAt, t0, part(), aggregate(context.verdicts));
      case 'threw':
        if (ran.error instanceof SkipSignal) return finish(definition, startedAt, t0, part(), 'skipped', { skipReason: ran.error.reason });
        if (ran.error instanceof PrerequisiteFailed) {
          context.inconclusive(ran.error);
          return finish(definition, startedAt, t0, part(), aggregate(context.verdicts));
        }
        return finish(definition, startedAt, t0, part(), 'error', {
          error: { message: (ran.error as Error)?.message ?? String(ran.error), ...((ran.error as Error)?.stack ? { stack: (ran.error as Error).stack! } : {}) },
        });
      case 'timeout':
        return finish(definition, startedAt, t0, part(), 'error', { error: { message: `test case exceeded its hard limit of ${limit} ms` } });
      default:
        return finish(definition, startedAt, t0, part(), 'error', { error: { message: RUNNING_INTERRUPTED } });
    }
  } catch (error) {
    if (scope.end !== undefined) return endedByFault(scope.end);
    return finish(definition, startedAt, t0, context ? partOf(context, recorder) : empty, 'error', { error: { message: (error as Error)?.message ?? String(error) } });
  } finally {
    // Whatever the case function still does from here on belongs to no result.
    context?.seal();
    // A REGISTER refresh during the case moves the binding; the next case's PF must adopt that one.
    if (client?.persistent && pf) {
      const last = pf.carriedContact();
      if (last !== null) client.observedBinding?.(last);
      // A client whose stream broke gets no clean-up NOTIFYs: nothing it answers could be read.
      if (scope.end === undefined) await bounded(pf.endCase());
      for (const id of pf.callIds()) options.staleCallIds?.add(id);
    }
    await bounded(client?.stop());
    await bounded(pf?.close());
    // Anything of the case still open (a socket the PF lost track of, a timer) goes with it.
    await scope.close();
  }
}

/** The verdicts, notes and trace of a case, copied: a result never changes after it is reported. */
function partOf(context: CaseContext, recorder: TraceRecorder): Partial {
  return { verdicts: [...context.verdicts], notes: [...context.notes], trace: recorder };
}

function wireVerdict(fault: WireFault, evidence: TraceEvent[]): Verdict & { rule: RuleId } {
  const rule = WIRE_RULES[fault.kind];
  return { rule, held: false, requirement: 'wire', level: requirement('wire').level, outcome: violationOutcomeOf(rule), reason: formatDiagnostic(fault.diagnostic), evidence };
}

/** The wire fault as a finding of its rule, unless the case already recorded that very violation. */
function recordWireFault(context: CaseContext, fault: WireFault, recorder: TraceRecorder): void {
  const rule = WIRE_RULES[fault.kind];
  if (context.verdicts.some((v) => v.rule === rule && v.held === false)) return;
  context.record({ rule, ok: false, detail: formatDiagnostic(fault.diagnostic) }, faultEvidence(recorder, fault));
}

/**
 * The client's binding in this case's PF: adopted when the client says where it is (external
 * clients, or a registration carried over), else its REGISTER awaited — bounded and abortable.
 */
async function bindClient(client: ClientUnderTest, pf: ParticipatingFunctionApi, withinMs: number, signal: AbortSignal | undefined): Promise<Binding | null> {
  const known = client.contact;
  if (known !== undefined) return pf.adoptBinding(known);
  const stopCountdown = client.awaitingRegistration?.(withinMs);
  try {
    const waited = await race(pf.waitForRegistration(withinMs), withinMs + TEARDOWN_LIMIT_MS, signal);
    if (waited.kind === 'aborted') throw new RunInterrupted();
    if (waited.kind !== 'done' || waited.value === null) return null;
    client.observedBinding?.(pf.carriedContact() ?? waited.value.contact);
    return waited.value;
  } finally {
    stopCountdown?.();
  }
}

export async function runSuite(given: RunOptions): Promise<TestCaseResult[]> {
  const options: RunOptions = { ...given, staleCallIds: given.staleCallIds ?? new Set() };
  setDiagnosticTextLimit(options.config.limits.diagnosticTextBytes);
  return runPool(
    options.cases,
    options.jobs ?? 1,
    async (definition) => {
      options.onCaseStart?.(definition);
      const result = await runCase(definition, options);
      options.onCaseFinished?.(result);
      return result;
    },
    {
      ...(options.signal ? { signal: options.signal } : {}),
      notStarted: (definition) => {
        const result = notStartedResult(definition, NOT_STARTED_INTERRUPTED);
        options.onCaseFinished?.(result);
        return result;
      },
    },
  );
}

/**
 * Runs test cases against a client: each case gets a fresh PF, a fresh client and its own trace,
 * so any case can run alone. Every case yields exactly one result, whatever happens: a client
 * that never answers, a harness exception, a hard timeout or Ctrl-C all end as a result with a
 * reason, never as a missing row.
 */
import { performance } from 'node:perf_hooks';
import type { ClientFactory, ClientUnderTest } from '../client/types.ts';
import { setDiagnosticTextLimit } from '../core/diagnostic.ts';
import { TraceRecorder, type TraceSink } from '../core/trace.ts';
import type { Binding, ParticipatingFunctionApi } from '../pf/types.ts';
import type { RunConfig, Windows } from '../testcase/config.ts';
import { CaseContext, inconclusiveVerdicts, PrerequisiteFailed, SkipSignal } from '../testcase/context.ts';
import type { TestCaseDefinition } from '../testcase/definition.ts';
import { aggregate, type Outcome, type TestCaseResult, type Verdict } from '../verdict/verdict.ts';
import { race, runPool } from './pool.ts';

export type StartPf = (options: { config: RunConfig; trace: TraceSink; actor: string; staleCallIds?: ReadonlySet<string> }) => Promise<ParticipatingFunctionApi>;

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
    trace: part.trace.events,
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

export async function runCase(definition: TestCaseDefinition, options: RunOptions): Promise<TestCaseResult> {
  const { config } = options;
  const recorder = new TraceRecorder();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const empty: Partial = { verdicts: [], notes: [], trace: recorder };
  let pf: ParticipatingFunctionApi | undefined;
  let client: ClientUnderTest | undefined;
  try {
    const started = await race(options.startPf({ config, trace: recorder.sink, actor: 'pf', ...(options.staleCallIds ? { staleCallIds: options.staleCallIds } : {}) }), TEARDOWN_LIMIT_MS, options.signal);
    if (started.kind !== 'done') {
      const why = started.kind === 'threw' ? String((started.error as Error)?.message ?? started.error) : started.kind;
      return finish(definition, startedAt, t0, empty, 'error', { error: { message: `could not start the Participating Function: ${why}` } });
    }
    pf = started.value;
    if (definition.needs.includes('msrp') && !config.pics.msrp) {
      return finish(definition, startedAt, t0, empty, 'skipped', { skipReason: 'needs MSRP; the client is declared SIP-only (pics.msrp: false)' });
    }
    client = options.client.create();
    const ut = client.upperTester;
    if (definition.upperTester.length > 0) {
      if (!ut) return finish(definition, startedAt, t0, empty, 'skipped', { skipReason: `needs upper tester (${definition.upperTester.join(', ')})` });
      const missing = definition.upperTester.filter((op) => !ut.supports.has(op));
      if (missing.length > 0) return finish(definition, startedAt, t0, empty, 'skipped', { skipReason: `needs upper tester operations not supported: ${missing.join(', ')}` });
    }
    const clientStart = await race(
      client.start({ registrar: pf.registrar, aor: config.identities.clientAor, groupIdentity: config.identities.groupIdentity, timers: config.timers }),
      config.windows.registrationMs,
      options.signal,
    );
    if (clientStart.kind !== 'done') {
      const why = clientStart.kind === 'threw' ? String((clientStart.error as Error)?.message ?? clientStart.error) : clientStart.kind;
      return finish(definition, startedAt, t0, empty, 'error', { error: { message: `could not start the client under test: ${why}` } });
    }
    const binding = await bindClient(client, pf, config.windows.registrationMs, options.signal);
    if (!binding) {
      // Client never registered: a failed preamble, not a harness fault (README "Outcomes").
      const why = `no REGISTER within ${config.windows.registrationMs} ms`;
      const verdicts = inconclusiveVerdicts(definition.requirements, 'the client registers', why);
      return finish(definition, startedAt, t0, { ...empty, verdicts, notes: [`prerequisite failed: the client registers: ${why}`] }, 'inconclusive');
    }
    const context = new CaseContext(pf, ut, config, recorder, definition.rules, definition.requirements);
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
    const part: Partial = { verdicts: context.verdicts, notes: context.notes, trace: recorder };
    const limit = options.caseTimeoutMs ?? defaultCaseTimeout(config.windows);
    const ran = await race(definition.run(context), limit, options.signal);
    switch (ran.kind) {
      case 'done':
        context.complete();
        return finish(definition, startedAt, t0, part, aggregate(context.verdicts));
      case 'threw':
        if (ran.error instanceof SkipSignal) return finish(definition, startedAt, t0, part, 'skipped', { skipReason: ran.error.reason });
        if (ran.error instanceof PrerequisiteFailed) {
          context.inconclusive(ran.error);
          return finish(definition, startedAt, t0, part, aggregate(context.verdicts));
        }
        return finish(definition, startedAt, t0, part, 'error', {
          error: { message: (ran.error as Error)?.message ?? String(ran.error), ...((ran.error as Error)?.stack ? { stack: (ran.error as Error).stack! } : {}) },
        });
      case 'timeout':
        return finish(definition, startedAt, t0, part, 'error', { error: { message: `test case exceeded its hard limit of ${limit} ms` } });
      default:
        return finish(definition, startedAt, t0, part, 'error', { error: { message: 'run interrupted while this case was running' } });
    }
  } catch (error) {
    return finish(definition, startedAt, t0, empty, 'error', { error: { message: (error as Error)?.message ?? String(error) } });
  } finally {
    // A REGISTER refresh during the case moves the binding; the next case's PF must adopt that one.
    if (client?.persistent && pf) {
      const last = pf.carriedContact();
      if (last !== null) client.observedBinding?.(last);
      await bounded(pf.endCase());
      for (const id of pf.callIds()) options.staleCallIds?.add(id);
    }
    await bounded(client?.stop());
    await bounded(pf?.close());
  }
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
    if (waited.kind === 'aborted') throw new Error('run interrupted while waiting for the client to REGISTER');
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
        const result = notStartedResult(definition, 'run interrupted before this case started');
        options.onCaseFinished?.(result);
        return result;
      },
    },
  );
}

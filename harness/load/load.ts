/**
 * The load mode: N concurrent deferred-delivery group sessions held against one client — the
 * backlog of a long offline period, at scale. The PF opens sessions at a given rate; on each one
 * it delivers M deferred messages requesting a delivery IMDN (one in flight per session), and
 * every IMDN that comes back is matched with its message and checked (§2.10.1). All sessions stay
 * up until every backlog is delivered and answered (or the IMDN window closes), then the memory
 * they hold is measured and the PF ends them with BYE.
 *
 * It observes and counts; the thresholds (p99, every IMDN returned, no error) decide the outcome.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ClientFactory, ClientUnderTest } from '../client/types.ts';
import { discardTrace } from '../core/trace.ts';
import { parseCpim, type ParsedCpim } from '../cpim/cpim.ts';
import { checkNotification, requestedKinds } from '../imdn/checker.ts';
import { ParticipatingFunction } from '../pf/participating-function.ts';
import type { DeferredSession, PfEvent } from '../pf/types.ts';
import type { RunConfig } from '../testcase/config.ts';
import { violationOutcomeOf } from '../verdict/rules.ts';
import { LatencyHistogram, RateMeter, type LatencySummary } from './stats.ts';

export interface LoadOptions {
  /** Concurrent group sessions to open and hold. */
  sessions: number;
  /** Sessions opened per second. */
  rate: number;
  /** Deferred messages delivered on each session, each requesting a delivery IMDN. */
  backlog: number;
  config: RunConfig;
  client: ClientFactory;
  /** Threshold on the p99 of INVITE→200, SEND→200 and SEND→IMDN; none when absent. */
  maxP99Ms?: number;
  /** Whole-run limit: whatever is not done by then counts as an error. Default 300 s. */
  timeoutMs?: number;
  /** Called with live figures about every `progressEveryMs` (default 500 ms). */
  onProgress?: (snapshot: LoadSnapshot) => void;
  progressEveryMs?: number;
}

export interface LoadSnapshot {
  elapsedMs: number;
  sessionsUp: number;
  sessionsRequested: number;
  sessionsPerSec: number;
  messagesSent: number;
  messagesPerSec: number;
  imdnsReturned: number;
  inviteTo200: LatencySummary;
  sendTo200: LatencySummary;
  sendToImdn: LatencySummary;
  errors: number;
}

export interface LoadError {
  kind: string;
  count: number;
  /** The first one of its kind, as text. */
  example: string;
}

export interface LoadSummary extends LoadSnapshot {
  client: string;
  transport: string;
  backlog: number;
  rate: number;
  durationMs: number;
  imdnsRequested: number;
  sessionsFailed: number;
  /** JS heap + Buffers held per established session while all were up (after a full collection). */
  bytesPerHeldSession: number;
  heapUsedBytes: number;
  errorsByKind: LoadError[];
  thresholds: { maxP99Ms?: number; passed: boolean; failures: string[] };
}

class ErrorTally {
  private readonly kinds = new Map<string, LoadError>();
  total = 0;

  add(kind: string, example: string): void {
    this.total++;
    const known = this.kinds.get(kind);
    if (known) known.count++;
    else this.kinds.set(kind, { kind, count: 1, example });
  }

  list(): LoadError[] {
    return [...this.kinds.values()];
  }
}

/** A full collection, exposed on demand (node's --expose-gc, set at run time), so held bytes are live bytes. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

function heldBytes(): number {
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

type MessageEvent = Extract<PfEvent, { type: 'msrp-message' }>;

/** What one delivered message waits for: its delivery IMDN. */
interface Outstanding {
  original: ParsedCpim;
  sentAt: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const { config, sessions, backlog } = options;
  const started = performance.now();
  const deadline = started + (options.timeoutMs ?? 300_000);
  const errors = new ErrorTally();
  const inviteTo200 = new LatencyHistogram();
  const sendTo200 = new LatencyHistogram();
  const sendToImdn = new LatencyHistogram();
  const sessionRate = new RateMeter();
  const messageRate = new RateMeter();
  let sessionsUp = 0;
  let sessionsFailed = 0;
  let messagesSent = 0;
  let imdnsReturned = 0;
  const outstanding = new Map<string, Outstanding>();
  /** IMDNs that arrived before deliver() resolved (the 200 and the IMDN can share a read). */
  const early = new Map<string, { event: MessageEvent; at: number }>();
  const held: DeferredSession[] = [];
  const baseline = heldBytes();

  const pf = await ParticipatingFunction.start({ config, trace: discardTrace, actor: 'pf', retainEvents: false });
  let client: ClientUnderTest | undefined;
  const snapshot = (): LoadSnapshot => {
    const now = performance.now();
    return {
      elapsedMs: Math.round(now - started),
      sessionsUp,
      sessionsRequested: sessions,
      sessionsPerSec: sessionRate.rate(now),
      messagesSent,
      messagesPerSec: messageRate.rate(now),
      imdnsReturned,
      inviteTo200: inviteTo200.summary(),
      sendTo200: sendTo200.summary(),
      sendToImdn: sendToImdn.summary(),
      errors: errors.total,
    };
  };
  const progress = options.onProgress ? setInterval(() => options.onProgress!(snapshot()), options.progressEveryMs ?? 500) : undefined;

  const check = (outstandingMessage: Outstanding, event: MessageEvent, at: number): void => {
    imdnsReturned++;
    sendToImdn.record(at - outstandingMessage.sentAt);
    const findings = checkNotification(
      { cpim: outstandingMessage.original, requested: requestedKinds(outstandingMessage.original) },
      { cpim: event.cpim!, imdn: event.imdn! },
      { clientUri: config.identities.clientAor, groupUri: pf.group.identity },
    );
    // A rule whose violation fails a conformance run is an error here too; [U] rules only warn there.
    const failed = findings.find((f) => !f.ok && violationOutcomeOf(f.rule) === 'fail');
    if (failed !== undefined) errors.add('imdn-check', `${failed.rule}: ${failed.detail}`);
  };
  const stopListening = pf.events.onEvent((e) => {
    if (e.type !== 'msrp-message' || e.imdn?.kind !== 'delivery' || !e.cpim || e.imdn.messageId === undefined) return;
    const at = performance.now();
    const waiting = outstanding.get(e.imdn.messageId);
    if (waiting === undefined) {
      early.set(e.imdn.messageId, { event: e, at });
      return;
    }
    outstanding.delete(e.imdn.messageId);
    check(waiting, e, at);
  });

  const runSession = async (): Promise<void> => {
    const t0 = performance.now();
    const invite = await pf.invite();
    if (invite.final?.status !== 200 || !invite.session) {
      sessionsFailed++;
      errors.add('invite', invite.failure?.message ?? `INVITE answered ${invite.final?.status ?? 'nothing'}`);
      return;
    }
    inviteTo200.record(performance.now() - t0);
    const session = invite.session;
    held.push(session);
    const ready = await session.ready(config.windows.msrpConnectMs);
    if (!ready.ok) {
      sessionsFailed++;
      errors.add('msrp-bind', ready.reason);
      return;
    }
    sessionsUp++;
    sessionRate.mark(performance.now());
    for (let i = 0; i < backlog && performance.now() < deadline; i++) {
      const sentAt = performance.now();
      const delivery = await session.deliver({ disposition: ['positive-delivery'], successReport: 'no' });
      const answered = performance.now();
      if (delivery.failure) {
        errors.add('deliver', delivery.failure);
        return;
      }
      const chunk = delivery.chunks[0];
      if (chunk?.response?.status !== 200) {
        errors.add('send', chunk?.response ? `SEND answered ${chunk.response.status}` : `SEND ${chunk?.outcome ?? 'not sent'}`);
        continue;
      }
      messagesSent++;
      messageRate.mark(answered);
      sendTo200.record(answered - sentAt);
      const waiting: Outstanding = { original: parseCpim(delivery.cpim), sentAt };
      const arrived = early.get(delivery.imdnMessageId);
      if (arrived) {
        early.delete(delivery.imdnMessageId);
        check(waiting, arrived.event, arrived.at);
      } else outstanding.set(delivery.imdnMessageId, waiting);
    }
  };

  let heapUsedBytes = 0;
  let bytesPerHeldSession = 0;
  try {
    client = options.client.create();
    await client.start({ registrar: pf.registrar, aor: config.identities.clientAor, groupIdentity: config.identities.groupIdentity, timers: config.timers });
    const bound = client.contact !== undefined ? pf.adoptBinding(client.contact) : await pf.waitForRegistration(config.windows.registrationMs);
    if (bound === null) {
      errors.add('register', `the client did not REGISTER within ${config.windows.registrationMs} ms`);
    } else {
      const running: Promise<void>[] = [];
      const gapMs = 1000 / Math.max(options.rate, 0.001);
      for (let i = 0; i < sessions && performance.now() < deadline; i++) {
        const due = started + i * gapMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        running.push(runSession().catch((error: unknown) => errors.add('exception', String((error as Error)?.stack ?? error))));
      }
      await Promise.all(running);
      // Every IMDN still owed gets the IMDN window (bounded by the run limit).
      const imdnDeadline = Math.min(deadline, performance.now() + config.windows.imdnMs);
      while (outstanding.size > 0 && performance.now() < imdnDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
      heapUsedBytes = heldBytes();
      bytesPerHeldSession = sessionsUp > 0 ? Math.max(0, (heapUsedBytes - baseline) / sessionsUp) : 0;
      if (outstanding.size > 0) errors.add('imdn-missing', `${outstanding.size} delivery IMDNs not returned within ${config.windows.imdnMs} ms`);
      await Promise.all(held.map((s) => s.bye().catch(() => undefined)));
    }
  } finally {
    if (progress) clearInterval(progress);
    stopListening();
    await client?.stop();
    await pf.close();
  }

  const final = snapshot();
  const durationMs = performance.now() - started;
  const imdnsRequested = messagesSent;
  const failures: string[] = [];
  const p99s: [string, LatencySummary][] = [
    ['INVITE→200', final.inviteTo200],
    ['SEND→200', final.sendTo200],
    ['SEND→IMDN', final.sendToImdn],
  ];
  if (options.maxP99Ms !== undefined) {
    for (const [name, s] of p99s) if (s.count > 0 && s.p99 > options.maxP99Ms) failures.push(`${name} p99 ${s.p99} ms > ${options.maxP99Ms} ms`);
  }
  if (imdnsReturned < imdnsRequested) failures.push(`${imdnsRequested - imdnsReturned} of ${imdnsRequested} requested IMDNs not returned`);
  if (sessionsUp < sessions) failures.push(`${sessions - sessionsUp} of ${sessions} sessions not established`);
  if (errors.total > 0) failures.push(`${errors.total} errors`);
  return {
    ...final,
    // Rates over the whole run for the summary (the live ones cover the last two seconds).
    sessionsPerSec: sessionsUp / (durationMs / 1000),
    messagesPerSec: messagesSent / (durationMs / 1000),
    client: options.client.description,
    transport: config.transport,
    backlog,
    rate: options.rate,
    durationMs: Math.round(durationMs),
    imdnsRequested,
    sessionsFailed,
    bytesPerHeldSession: Math.round(bytesPerHeldSession),
    heapUsedBytes,
    errorsByKind: errors.list(),
    thresholds: { ...(options.maxP99Ms === undefined ? {} : { maxP99Ms: options.maxP99Ms }), passed: failures.length === 0, failures },
  };
}

/**
 * The fault boundary of one test case. The runner creates one CaseScope per case and hands it to
 * everything the case owns — the PF's transports and MSRP sessions, the built-in client, every
 * timer they arm — so whatever goes wrong is attributed to that case and ends it, never the run:
 *
 * - an exception in a socket handler, a timer callback or a detached promise (`guard`, `clock`,
 *   `detach`) is a harness fault: the case ends as `error`, with the stack;
 * - a client that breaks its stream for good (unframeable bytes, an oversized message, a message
 *   left unfinished for `framingTimeoutMs`) or crosses a runtime limit (`messagesPerSecond`,
 *   `connectionsPerCase`) is a wire fault (`wireFault`): the runner ends the case at once with a
 *   FAIL through the rule table, naming the diagnostic code and the clause;
 * - closing the scope closes every resource it owns and cancels every timer it armed.
 *
 * The first fault decides how the case ends; later ones are kept (`faults`) for the notes. A scope
 * also rides along the async context of the case (`inScope`), so a process-level handler can
 * still attribute an exception nobody guarded to the case it came from (`currentScope`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { diagnostic, type Diagnostic } from './diagnostic.ts';
import { DEFAULT_LIMITS, type Limits } from './limits.ts';
import type { Protocol } from './trace.ts';

/** What kind of wire fault: the runner maps each to one rule of the verdict table. */
export type WireFaultKind = 'sip-framing' | 'sip-size' | 'sip-incomplete' | 'msrp-framing' | 'msrp-size' | 'msrp-incomplete' | 'message-rate' | 'connections';

export interface WireFault {
  readonly kind: WireFaultKind;
  /** The code, clause and offending bytes (cut to the diagnostic text limit). */
  readonly diagnostic: Diagnostic;
  readonly protocol: Protocol;
  readonly connectionId?: string;
}

export interface HarnessFault {
  /** Which handler it escaped from, e.g. `sip/tcp data`, `timer`, `pf: re-join`. */
  readonly where: string;
  readonly message: string;
  readonly stack?: string;
}

export type ScopeEnd = { readonly kind: 'harness-fault'; readonly fault: HarnessFault } | { readonly kind: 'wire-fault'; readonly fault: WireFault };

export interface Closable {
  close(): Promise<void> | void;
}

/** What a component with sockets and timers needs to keep its faults inside its test case. */
export interface FaultBoundary {
  /** Timers whose callbacks are guarded, cancelled when the scope closes. */
  readonly clock: Clock;
  /** `fn` with every exception it throws turned into a fault of this scope. */
  guard<A extends unknown[]>(where: string, fn: (...args: A) => void): (...args: A) => void;
  /** A promise nobody awaits: its rejection becomes a fault of this scope instead of an unhandled rejection. */
  detach(where: string, promise: Promise<unknown>): void;
  fault(where: string, error: unknown): void;
  /** The scope closes this resource when it closes (unless the returned function disowns it first). */
  own(resource: Closable): () => void;
}

/** What watches the client under test (the PF's side only): its messages, connections and broken streams. */
export interface PeerWatch {
  /** One message from the client; false once messagesPerSecond is crossed (drop it). */
  admitMessage(protocol: Protocol, connectionId?: string): boolean;
  /** A connection the client opened; false once connectionsPerCase is crossed (refuse it). */
  admitConnection(protocol: Protocol, connectionId?: string): boolean;
  /** The client broke its stream for good, or left a message unfinished for framingTimeoutMs. */
  wireFault(fault: WireFault): void;
  /** How long a SIP or MSRP message may stay unfinished after its first octet. */
  readonly framingTimeoutMs: number;
}

/** Outside any test case (unit tests, serve-client): exceptions propagate as they always did. */
export const NO_BOUNDARY: FaultBoundary = {
  clock: systemClock,
  guard: (_where, fn) => fn,
  detach: (_where, promise) => void promise,
  fault: (_where, error) => {
    throw error;
  },
  own: () => () => {},
};

const TEARDOWN_MS = 5_000;
const ONE_SECOND = 1_000;

function describe(error: unknown): { message: string; stack?: string } {
  if (error instanceof Error) return error.stack === undefined ? { message: error.message } : { message: error.message, stack: error.stack };
  return { message: String(error) };
}

export interface CaseScopeOptions {
  limits?: Partial<Limits>;
  clock?: Clock;
  /** The case id, for messages about faults after the case ended. */
  label?: string;
}

export class CaseScope implements FaultBoundary, PeerWatch {
  readonly clock: Clock;
  readonly label: string;
  readonly framingTimeoutMs: number;
  /** Resolves with the first fault; never rejects, never resolves for a case without one. */
  readonly ended: Promise<ScopeEnd>;
  /** Every fault in order, the first one included. */
  readonly faults: ScopeEnd[] = [];

  private resolveEnded: (end: ScopeEnd) => void = () => {};
  private readonly base: Clock;
  private readonly timers = new Set<TimerHandle>();
  private readonly owned = new Set<Closable>();
  private readonly messageLimit: number;
  private readonly connectionLimit: number;
  /**
   * Arrival times of the last `messageLimit` messages, a ring once full (it grows with the messages
   * sent, so a huge limit costs nothing): one more within a second of the oldest crosses the limit.
   */
  private readonly arrivals: number[] = [];
  private arrivalCount = 0;
  private messagesRefused = false;
  private connections = 0;
  private closing: Promise<void> | undefined;
  private readonly listeners = new Set<(end: ScopeEnd) => void>();

  constructor(options: CaseScopeOptions = {}) {
    this.base = options.clock ?? systemClock;
    this.label = options.label ?? 'test case';
    this.framingTimeoutMs = options.limits?.framingTimeoutMs ?? DEFAULT_LIMITS.framingTimeoutMs;
    this.messageLimit = Math.max(1, Math.floor(options.limits?.messagesPerSecond ?? DEFAULT_LIMITS.messagesPerSecond));
    this.connectionLimit = Math.max(1, Math.floor(options.limits?.connectionsPerCase ?? DEFAULT_LIMITS.connectionsPerCase));
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    const base = this.base;
    this.clock = {
      now: () => base.now(),
      setTimer: (ms, fn) => this.track('timer', fn, (run) => base.setTimer(ms, run)),
      setWindow: (ms, fn) => this.track('window', fn, (run) => base.setWindow(ms, run)),
    };
  }

  /** A timer or window of the case: guarded, and cancelled when the case closes. */
  private track(where: string, fn: () => void, arm: (run: () => void) => TimerHandle): TimerHandle {
    const guarded = this.guard(where, fn);
    const handle: TimerHandle = arm(() => {
      this.timers.delete(handle);
      guarded();
    });
    this.timers.add(handle);
    return {
      cancel: () => {
        handle.cancel();
        this.timers.delete(handle);
      },
    };
  }

  /** The first fault, once there is one. */
  get end(): ScopeEnd | undefined {
    return this.faults[0];
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  guard<A extends unknown[]>(where: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (error) {
        this.fault(where, error);
      }
    };
  }

  detach(where: string, promise: Promise<unknown>): void {
    promise.catch((error: unknown) => this.fault(where, error));
  }

  fault(where: string, error: unknown): void {
    this.settle({ kind: 'harness-fault', fault: { where, ...describe(error) } });
  }

  wireFault(fault: WireFault): void {
    this.settle({ kind: 'wire-fault', fault });
  }

  /**
   * Called synchronously with the first fault, inside the handler that found it: a verdict recorded
   * there comes before whatever the fault then breaks (a transaction that fails, a wait that ends).
   */
  onFirstFault(listener: (end: ScopeEnd) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  own(resource: Closable): () => void {
    this.owned.add(resource);
    return () => this.owned.delete(resource);
  }

  admitMessage(protocol: Protocol, connectionId?: string): boolean {
    if (this.messagesRefused) return false;
    const limit = this.messageLimit;
    const now = this.base.now();
    const slot = this.arrivalCount % limit;
    // The slot holds the arrival `limit` messages ago: within a second, this one is one too many.
    if (this.arrivalCount >= limit && now - this.arrivals[slot]! < ONE_SECOND) {
      this.messagesRefused = true;
      const within = Math.max(0, Math.round(now - this.arrivals[slot]!));
      this.wireFault({
        kind: 'message-rate',
        protocol,
        ...(connectionId === undefined ? {} : { connectionId }),
        diagnostic: diagnostic(
          'LIMIT_MESSAGES_PER_SECOND',
          `the client sent ${limit + 1} messages within ${within} ms, more than the limit of ${limit} per second; the rest of its messages in this case were dropped unanswered`,
          'harness limit messagesPerSecond',
        ),
      });
      return false;
    }
    if (slot === this.arrivals.length) this.arrivals.push(now);
    else this.arrivals[slot] = now;
    this.arrivalCount++;
    return true;
  }

  admitConnection(protocol: Protocol, connectionId?: string): boolean {
    this.connections++;
    if (this.connections <= this.connectionLimit) return true;
    if (this.connections === this.connectionLimit + 1) {
      this.wireFault({
        kind: 'connections',
        protocol,
        ...(connectionId === undefined ? {} : { connectionId }),
        diagnostic: diagnostic(
          'LIMIT_CONNECTIONS_PER_CASE',
          `the client opened connection ${this.connections} in this case, more than the limit of ${this.connectionLimit}; it and every later one were refused`,
          'harness limit connectionsPerCase',
        ),
      });
    }
    return false;
  }

  /**
   * Closes every owned resource (each bounded, none may throw) and cancels every timer still armed.
   * Idempotent; resolves when done.
   */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    const resources = [...this.owned];
    this.owned.clear();
    await Promise.all(resources.map((r) => bounded(r)));
    for (const t of [...this.timers]) t.cancel();
    this.timers.clear();
  }

  private settle(end: ScopeEnd): void {
    this.faults.push(end);
    if (this.faults.length !== 1) return;
    this.resolveEnded(end);
    for (const listener of [...this.listeners]) {
      try {
        listener(end);
      } catch (error) {
        this.faults.push({ kind: 'harness-fault', fault: { where: 'fault listener', ...describe(error) } });
      }
    }
  }
}

async function bounded(resource: Closable): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(() => resource.close()),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, TEARDOWN_MS);
        timer.unref?.();
      }),
    ]);
  } catch {
    // closing must not throw; whatever failed to close is gone with the case
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const scopes = new AsyncLocalStorage<CaseScope>();

/** Runs `fn` with `scope` as the async context: timers, promises and sockets made inside carry it. */
export function inScope<T>(scope: CaseScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The scope of the test case whose async context is running now, if any. */
export function currentScope(): CaseScope | undefined {
  return scopes.getStore();
}

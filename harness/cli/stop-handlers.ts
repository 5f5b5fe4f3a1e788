/**
 * How a run ends early without losing a result. SIGINT, SIGTERM (what CI sends on a timeout) and
 * SIGHUP (the terminal went away) all stop the run the same way: the first one aborts it — running
 * cases end as interrupted, unstarted ones are skipped, every report is written — and the process
 * exits 128 + the signal number (130, 143, 129). A second signal writes the reports as they stand
 * and exits at once. The last-resort handler does the same for an exception nothing else caught —
 * unless `contain` can pin it on the test case it came from (its fault boundary, core/scope.ts):
 * then that case ends as an error and the run goes on.
 *
 * Loading the harness takes a few hundred milliseconds, and a signal then would kill the process
 * before `run` knows its cases. So the bin holds the stop signals first thing (`holdStopSignals`):
 * a signal during start-up is remembered, and `installStopHandlers` takes it over as the run's
 * first signal — every selected case is then reported as not started. Commands that write no
 * report release the hold (`releaseStopSignals`), and a signal held until then takes effect.
 */
import { constants } from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
export const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell convention: 128 + signal number (SIGHUP 129, SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/** The process as far as these handlers need it (tests pass an EventEmitter). */
export interface ProcessEvents {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface StopActions {
  /** First signal: stop starting cases, interrupt the running ones, let the run write its reports. */
  interrupt(signal: StopSignal): void;
  /** Second signal: write the reports as they stand and exit with this code. */
  exitNow(signal: StopSignal, code: number): void;
  /** An exception or rejection nothing caught: write the reports and exit non-zero. */
  fault(error: unknown, origin: 'uncaughtException' | 'unhandledRejection'): void;
  /** Asked first: true when the fault belongs to a test case, which it now ends (the run goes on). */
  contain?(error: unknown, origin: 'uncaughtException' | 'unhandledRejection'): boolean;
}

export interface StopHandlers {
  /** The first signal received, if any. */
  readonly signal: StopSignal | undefined;
  dispose(): void;
}

/** The stop signals held during start-up: the first one received, and how to let go. */
interface Hold {
  first: StopSignal | undefined;
  readonly target: ProcessEvents;
  readonly listeners: ReadonlyMap<StopSignal, () => void>;
  /** Exits at once: a second signal before anything could be written. */
  readonly exit: (code: number) => void;
}

let hold: Hold | undefined;

function letGo(h: Hold): void {
  for (const [signal, listener] of h.listeners) h.target.off(signal, listener);
  if (hold === h) hold = undefined;
}

/**
 * Start-up: from now on a stop signal is remembered, not fatal, until `installStopHandlers` takes
 * it over or `releaseStopSignals` lets it take effect. A second signal in that time exits at once
 * (nothing could be written yet). Idempotent.
 */
export function holdStopSignals(target: ProcessEvents = process, exit: (code: number) => void = (code) => process.exit(code)): void {
  if (hold !== undefined) return;
  const listeners = new Map<StopSignal, () => void>();
  const h: Hold = { first: undefined, target, listeners, exit };
  for (const signal of STOP_SIGNALS) {
    listeners.set(signal, () => {
      if (h.first === undefined) h.first = signal;
      else h.exit(signalExitCode(h.first));
    });
  }
  for (const [signal, listener] of listeners) target.on(signal, listener);
  hold = h;
}

/**
 * For a command that writes no report: the hold ends, and a signal held until now is raised again
 * on `raise` (the process by default), so it ends the command the way it would have without the hold.
 * Returns that signal, if any.
 */
export function releaseStopSignals(raise: (signal: StopSignal) => void = (signal) => void process.kill(process.pid, signal)): StopSignal | undefined {
  const h = hold;
  if (h === undefined) return undefined;
  letGo(h);
  if (h.first !== undefined) raise(h.first);
  return h.first;
}

export function installStopHandlers(actions: StopActions, target: ProcessEvents = process): StopHandlers {
  let first: StopSignal | undefined;
  let faulted = false;
  const listeners = new Map<string, (...args: unknown[]) => void>();
  for (const signal of STOP_SIGNALS) {
    listeners.set(signal, () => {
      if (first === undefined) {
        first = signal;
        actions.interrupt(signal);
        return;
      }
      actions.exitNow(signal, signalExitCode(first));
    });
  }
  const onFault = (origin: 'uncaughtException' | 'unhandledRejection') => (error: unknown) => {
    // A fault while handling a fault must not recurse into writing reports again.
    if (faulted) return;
    if (actions.contain?.(error, origin)) return;
    faulted = true;
    actions.fault(error, origin);
  };
  listeners.set('uncaughtException', onFault('uncaughtException'));
  listeners.set('unhandledRejection', onFault('unhandledRejection'));
  for (const [event, listener] of listeners) target.on(event, listener);
  // A signal held during start-up is this run's first signal: the run is interrupted before it starts.
  const held = hold?.target === target ? hold : undefined;
  if (held !== undefined) {
    letGo(held);
    if (held.first !== undefined) {
      first = held.first;
      actions.interrupt(held.first);
    }
  }
  return {
    get signal() {
      return first;
    },
    dispose() {
      for (const [event, listener] of listeners) target.off(event, listener);
    },
  };
}

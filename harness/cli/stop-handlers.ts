/**
 * How a run ends early without losing a result. SIGINT, SIGTERM (what CI sends on a timeout) and
 * SIGHUP (the terminal went away) all stop the run the same way: the first one aborts it — running
 * cases end as interrupted, unstarted ones are skipped, every report is written — and the process
 * exits 128 + the signal number (130, 143, 129). A second signal writes the reports as they stand
 * and exits at once. The last-resort handler does the same for an exception nothing else caught —
 * unless `contain` can pin it on the test case it came from (its fault boundary, core/scope.ts):
 * then that case ends as an error and the run goes on.
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
  return {
    get signal() {
      return first;
    },
    dispose() {
      for (const [event, listener] of listeners) target.off(event, listener);
    },
  };
}

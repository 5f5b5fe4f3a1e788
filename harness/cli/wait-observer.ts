/**
 * Tells the live status line when a case waits on the client: every observation window goes
 * through the PF's event log (`waitFor` / `expectNone` with `within`), every upper-tester step
 * through the UpperTester. Both are wrapped here, at the edge, so scenarios and the PF stay as
 * they are. The wrapped objects delegate everything else unchanged.
 */
import type { UpperTester, UtOperation } from '../client/types.ts';
import type { ParticipatingFunctionApi, PfEventLog } from '../pf/types.ts';
import type { Windows } from '../testcase/config.ts';

/** Starts showing a wait; returns what ends it. */
export type WaitReporter = (what: string, withinMs: number) => () => void;

/** Waits shorter than this are not worth a countdown (scaled windows, the built-in client). */
export const COUNTDOWN_MIN_MS = 3_000;

/** `quarantineMs window` when the wait is exactly a configured window, else `a 12 s window`. */
export function windowName(withinMs: number, windows: Windows): string {
  const named = Object.entries(windows).find(([key, value]) => key.endsWith('Ms') && value === withinMs);
  return named ? `the client (${named[0]} window)` : `the client (${Math.round(withinMs / 1000)} s window)`;
}

function observed<T>(promise: Promise<T>, withinMs: number, windows: Windows, report: WaitReporter): Promise<T> {
  if (withinMs < COUNTDOWN_MIN_MS) return promise;
  const end = report(windowName(withinMs, windows), withinMs);
  return promise.finally(end);
}

export function observeEventLog(log: PfEventLog, windows: Windows, report: WaitReporter): PfEventLog {
  return new Proxy(log, {
    get(target, property) {
      if (property === 'waitFor' || property === 'expectNone') {
        const original = target[property].bind(target) as PfEventLog['waitFor'];
        return ((predicate, options) => observed(original(predicate, options), options.within, windows, report)) as PfEventLog['waitFor'];
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The PF with its event log observed; every other member is the PF's own, bound to it. */
export function observePf(pf: ParticipatingFunctionApi, windows: Windows, report: WaitReporter): ParticipatingFunctionApi {
  const events = observeEventLog(pf.events, windows, report);
  return new Proxy(pf, {
    get(target, property) {
      if (property === 'events') return events;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const STEPS: readonly UtOperation[] = ['queueMessage', 'goOffline', 'goOnline', 'markDisplayed', 'state', 'reset'];

/** The upper tester with each step shown as a wait of up to `utMs`. */
export function observeUpperTester(ut: UpperTester, utMs: number, report: WaitReporter): UpperTester {
  return new Proxy(ut, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const bound = (value as (...a: unknown[]) => Promise<unknown>).bind(target);
      if (!STEPS.includes(property as UtOperation)) return bound;
      return (...args: unknown[]) => {
        const end = report(`the upper tester (${String(property)})`, utMs);
        return bound(...args).finally(end);
      };
    },
  });
}

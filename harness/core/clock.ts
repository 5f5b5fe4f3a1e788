/**
 * Time as a dependency: protocol timers (RFC 3261 A–K, MSRP transaction timeouts, observation
 * windows) take a Clock so tests can drive them with a FakeClock instead of sleeping.
 *
 * Two kinds of timer. `setTimer` is a protocol timer: it fires once `ms` have passed on `now()`,
 * never earlier. `setWindow` is an observation window (how long the harness waits to see, or to
 * not see, something from the client): it counts only time the harness could run. When the event
 * loop stalls (a loaded machine, a long GC, a busy callback), the window is extended by the stall,
 * so a slow harness never blames the client for its own delay and a verdict does not depend on how
 * fast the machine is. The extension is capped (`maxWindowExtensionMs`), a safety net only.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** A protocol timer: `fn` runs once `ms` have passed on `now()`, never earlier. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** An observation window: `fn` runs once the harness could run for `ms` (stalls do not count). */
  setWindow(ms: number, fn: () => void): TimerHandle;
}

/** A window is extended by at most this much: the larger of twice the window and 5 s. */
export function maxWindowExtensionMs(ms: number): number {
  return Math.max(2 * ms, 5_000);
}

/**
 * A window on `clock` that fires once `ms` minus the stalls measured since it opened have passed.
 * `stalledMs()` is the cumulative time the harness could not run, as of now (a stall still in
 * progress included); the window re-arms for what the stalls took from it, up to the cap.
 */
export function stallAwareWindow(clock: Pick<Clock, 'now' | 'setTimer'>, stalledMs: () => number, ms: number, fn: () => void, done: () => void = () => {}): TimerHandle {
  const opened = clock.now();
  const stalledAtOpen = stalledMs();
  const cap = maxWindowExtensionMs(ms);
  let handle: TimerHandle;
  let over = false;
  const check = (): void => {
    const stalled = Math.min(cap, stalledMs() - stalledAtOpen);
    const left = ms + stalled - (clock.now() - opened);
    // Less than a millisecond left is the timer's own rounding, not a stall.
    if (left >= 1) {
      handle = clock.setTimer(left, check);
      return;
    }
    over = true;
    done();
    fn();
  };
  handle = clock.setTimer(Math.max(0, ms), check);
  return {
    cancel: () => {
      handle.cancel();
      if (!over) {
        over = true;
        done();
      }
    },
  };
}

/**
 * Measures event-loop stalls while at least one window is open: a 10 ms tick that came more than
 * 4 ms late means the process could not run for the whole lateness. Unref'd: it never keeps the
 * process alive, and it does not tick at all while no window is open.
 */
class StallMeter {
  static readonly TICK_MS = 10;
  static readonly SLACK_MS = 4;
  /** The last stalls as [start, end, stalled ms] (flat, oldest first), for `stalledBetween`. */
  static readonly KEPT = 4096;
  private total = 0;
  private last = 0;
  private users = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private readonly stalls: number[] = [];

  acquire(): void {
    if (this.users++ > 0) return;
    this.last = performance.now();
    this.ticker = setInterval(() => this.sample(), StallMeter.TICK_MS);
    this.ticker.unref();
  }

  release(): void {
    if (--this.users > 0) return;
    this.users = 0;
    this.sample();
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Cumulative stalled ms, including a stall that is ending right now. */
  stalledMs(): number {
    if (this.users > 0) this.sample();
    return this.total;
  }

  /** Stalled ms of the stalls measured wholly inside [from, to] (a lower bound of the time lost in it). */
  stalledBetween(from: number, to: number): number {
    if (this.users > 0) this.sample();
    let sum = 0;
    for (let i = 0; i < this.stalls.length; i += 3) {
      if (this.stalls[i]! >= from && this.stalls[i + 1]! <= to) sum += this.stalls[i + 2]!;
    }
    return sum;
  }

  private sample(): void {
    const now = performance.now();
    const gap = now - this.last;
    if (gap > StallMeter.TICK_MS + StallMeter.SLACK_MS) {
      this.total += gap - StallMeter.TICK_MS;
      if (this.stalls.length >= 3 * StallMeter.KEPT) this.stalls.splice(0, 3);
      this.stalls.push(this.last, now, gap - StallMeter.TICK_MS);
    }
    this.last = now;
  }
}

const stallMeter = new StallMeter();

/** Event-loop stall time measured so far (ms, cumulative; only while windows are open): for reports and tests. */
export function measuredStallMs(): number {
  return stallMeter.stalledMs();
}

/**
 * Stall time measured wholly between two `performance.now()` instants (the last 4096 stalls): what
 * a judgement on trace stamps credits the client with, as its windows do. Only while windows are open.
 */
export function measuredStallBetween(from: number, to: number): number {
  return stallMeter.stalledBetween(from, to);
}

function systemTimer(ms: number, fn: () => void): TimerHandle {
  // Node's setTimeout counts from libuv's cached loop time, which lags `performance.now()` inside
  // a busy loop iteration and is truncated to whole ms: a timer could fire early on `now()`. It
  // re-arms for what is left, so a timer is never early on the clock its user reads.
  const due = performance.now() + ms;
  let t: ReturnType<typeof setTimeout>;
  const fire = (): void => {
    const left = due - performance.now();
    if (left > 0) t = setTimeout(fire, Math.ceil(left));
    else fn();
  };
  t = setTimeout(fire, ms);
  return { cancel: () => clearTimeout(t) };
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: systemTimer,
  setWindow(ms, fn) {
    stallMeter.acquire();
    return stallAwareWindow(systemClock, () => stallMeter.stalledMs(), ms, fn, () => stallMeter.release());
  },
};

interface Pending {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** Deterministic clock for timer tests: nothing fires until `advance` (or `stall`) is called. */
export class FakeClock implements Clock {
  private current = 0;
  private order = 0;
  private pending: Pending[] = [];
  private stalled = 0;

  now(): number {
    return this.current;
  }

  setWindow(ms: number, fn: () => void): TimerHandle {
    return stallAwareWindow(this, () => this.stalled, ms, fn);
  }

  /**
   * The harness could not run for `ms` (a loaded machine): time moves on, and timers due in the
   * meantime fire late, at the end, as they would after a real stall. Windows do not count it.
   */
  stall(ms: number): void {
    this.stalled += ms;
    this.current += ms;
    this.advance(0);
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const p: Pending = { at: this.current + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.pending.push(p);
    return { cancel: () => { p.cancelled = true; } };
  }

  /** Moves time forward, firing due timers in time order (timers set while firing are honoured). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.pending = this.pending.filter((p) => !p.cancelled);
      const due = this.pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.pending.splice(this.pending.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }

  get pendingCount(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }
}

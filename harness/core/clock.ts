/**
 * Time as a dependency: protocol timers (RFC 3261 A–K, MSRP transaction timeouts, observation
 * windows) take a Clock so tests can drive them with a FakeClock instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

interface Pending {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** Deterministic clock for timer tests: nothing fires until `advance` is called. */
export class FakeClock implements Clock {
  private current = 0;
  private order = 0;
  private pending: Pending[] = [];

  now(): number {
    return this.current;
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
      this.current = due.at;
      due.fn();
    }
    this.current = target;
  }

  get pendingCount(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }
}

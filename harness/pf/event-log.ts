/**
 * The PF's typed event log: append-only, totally ordered, with bounded waits. A wait never hangs:
 * each one is a timer on the Clock, and closing the log settles every pending wait.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { PfEvent, PfEventBody, PfEventLog } from './types.ts';

interface Waiter {
  predicate: (e: PfEvent) => boolean;
  /** expectNone waiters remember the first match but keep waiting for the whole window. */
  wholeWindow: boolean;
  found: PfEvent | null;
  timer: TimerHandle;
  settle: (e: PfEvent | null) => void;
}

export class EventLog implements PfEventLog {
  private readonly events: PfEvent[] = [];
  private readonly waiters = new Set<Waiter>();
  private closed = false;
  private readonly listeners = new Set<(e: PfEvent) => void>();
  private lastSeq = 0;

  /**
   * `retain: false` keeps no history (load mode: thousands of sessions, nobody reads the past):
   * listeners and pending waits still see every event, `all()`/`since()` see none.
   */
  constructor(
    private readonly clock: Clock,
    private readonly retain = true,
  ) {}

  /** `body` becomes the event (stamped in place, not copied): pass a fresh object, never one appended before. */
  append(body: PfEventBody): PfEvent {
    const event = body as PfEvent;
    event.seq = ++this.lastSeq;
    event.at = this.clock.now();
    if (this.retain) this.events.push(event);
    for (const listener of this.listeners) listener(event);
    if (this.waiters.size === 0) return event;
    for (const w of [...this.waiters]) {
      if (w.found !== null || !safeMatch(w.predicate, event)) continue;
      w.found = event;
      if (!w.wholeWindow) w.settle(event);
    }
    return event;
  }

  /** Every appended event, synchronously (for components that react to events, e.g. tests). */
  onEvent(listener: (e: PfEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  all(): readonly PfEvent[] {
    return this.events;
  }

  mark(): number {
    return this.lastSeq + 1;
  }

  since(mark: number): readonly PfEvent[] {
    return this.retain ? this.events.slice(Math.max(0, mark - 1)) : [];
  }

  /** Without `since`, only events logged after this call count. */
  waitFor(predicate: (e: PfEvent) => boolean, options: { within: number; since?: number }): Promise<PfEvent | null> {
    const earlier = this.since(options.since ?? this.mark()).find((e) => safeMatch(predicate, e));
    if (earlier !== undefined) return Promise.resolve(earlier);
    return this.wait(predicate, options.within, false, null);
  }

  /** Without `since`, only events logged after this call count. */
  expectNone(predicate: (e: PfEvent) => boolean, options: { within: number; since?: number }): Promise<PfEvent | null> {
    const earlier = this.since(options.since ?? this.mark()).find((e) => safeMatch(predicate, e)) ?? null;
    return this.wait(predicate, options.within, true, earlier);
  }

  /** Settles every pending wait now (waitFor with null, expectNone with what it found so far). */
  close(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w.settle(w.found);
  }

  private wait(predicate: (e: PfEvent) => boolean, within: number, wholeWindow: boolean, found: PfEvent | null): Promise<PfEvent | null> {
    if (this.closed) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        predicate,
        wholeWindow,
        found,
        timer: { cancel: () => {} },
        settle: (e) => {
          if (!this.waiters.delete(waiter)) return;
          waiter.timer.cancel();
          resolve(e);
        },
      };
      this.waiters.add(waiter);
      waiter.timer = this.clock.setWindow(Math.max(0, within), () => waiter.settle(waiter.found));
    });
  }
}

/** A predicate that throws (e.g. reads a field of the wrong event type) counts as no match. */
function safeMatch(predicate: (e: PfEvent) => boolean, event: PfEvent): boolean {
  try {
    return predicate(event);
  } catch {
    return false;
  }
}

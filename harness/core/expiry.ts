/**
 * Entries that each end a fixed delay after they were added (a SIP transaction's Timer M, K, J or
 * D; the UAC core's ACK record): one clock timer for the whole queue, armed for its oldest entry,
 * instead of one timer and one closure per entry. Every entry has the same delay, so the order
 * they were added in is the order they expire in: a FIFO, no heap.
 */
import type { Clock, TimerHandle } from './clock.ts';

export class ExpiryQueue<T> {
  private items: (T | undefined)[] = [];
  private due: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    readonly delayMs: number,
    /** Called once per entry when its delay has passed, with the deadline it was added for. */
    private readonly onExpire: (item: T, deadline: number) => void,
  ) {}

  /** Queues `item` to expire `delayMs` from now; returns that deadline. */
  add(item: T): number {
    const deadline = this.clock.now() + this.delayMs;
    this.items.push(item);
    this.due.push(deadline);
    if (this.timer === undefined) this.arm();
    return deadline;
  }

  /** Entries still queued (including ones their owner has since replaced). */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Drops every entry without expiring it, and the timer. */
  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.items = [];
    this.due = [];
    this.head = 0;
  }

  private arm(): void {
    // A system timer may fire a fraction of a millisecond before performance.now() reaches the
    // deadline; the sweep then finds nothing due and waits again, at least 1 ms.
    const wait = Math.max(0, Math.ceil(this.due[this.head]! - this.clock.now()));
    this.timer = this.clock.setTimer(wait, () => {
      this.timer = undefined;
      this.sweep();
    });
  }

  private sweep(): void {
    const now = this.clock.now();
    while (this.head < this.items.length && this.due[this.head]! <= now) {
      const item = this.items[this.head] as T;
      const deadline = this.due[this.head]!;
      this.items[this.head] = undefined;
      this.head++;
      this.onExpire(item, deadline);
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.due = this.due.slice(this.head);
      this.head = 0;
    }
    if (this.head < this.items.length) {
      if (this.timer === undefined) this.arm();
    } else {
      this.items = [];
      this.due = [];
      this.head = 0;
    }
  }
}

/** Expiry queues by delay: the SIP wait timers come in two or three lengths (64·T1, T4). */
export class ExpiryQueues<T> {
  private readonly queues = new Map<number, ExpiryQueue<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (item: T, deadline: number) => void,
  ) {}

  add(delayMs: number, item: T): number {
    let queue = this.queues.get(delayMs);
    if (queue === undefined) {
      queue = new ExpiryQueue(this.clock, delayMs, this.onExpire);
      this.queues.set(delayMs, queue);
    }
    return queue.add(item);
  }

  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  clear(): void {
    for (const q of this.queues.values()) q.clear();
    this.queues.clear();
  }
}

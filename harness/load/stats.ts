/**
 * Latency figures for the load mode in bounded memory: a log-bucketed histogram (2 % wide
 * buckets from 10 µs to 10 min), so a run of any length keeps a few hundred numbers, and
 * percentiles are read to within a bucket (nearest rank, reported as the bucket's upper edge).
 */
const MIN_MS = 0.01;
const GROWTH = 1.02;
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(GROWTH)) + 1;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  private readonly buckets = new Uint32Array(BUCKETS);
  private total = 0;
  private maxMs = 0;

  record(ms: number): void {
    const value = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const index = value <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(value / MIN_MS) / Math.log(GROWTH)));
    this.buckets[index]!++;
    this.total++;
    if (value > this.maxMs) this.maxMs = value;
  }

  get count(): number {
    return this.total;
  }

  /** Upper edge of the bucket holding the nearest-rank `p`-th percentile (0 when empty). */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.maxMs, MIN_MS * GROWTH ** i);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return { count: this.total, p50: round(this.percentile(50)), p95: round(this.percentile(95)), p99: round(this.percentile(99)), max: round(this.maxMs) };
  }
}

/** Events per second over the last two seconds, counted in 100 ms slots (bounded memory). */
export class RateMeter {
  private readonly slots = new Float64Array(20);
  private slotOf = new Float64Array(20).fill(-1);

  mark(now: number, count = 1): void {
    const slot = Math.floor(now / 100);
    const i = slot % 20;
    if (this.slotOf[i] !== slot) {
      this.slotOf[i] = slot;
      this.slots[i] = 0;
    }
    this.slots[i]! += count;
  }

  rate(now: number): number {
    const current = Math.floor(now / 100);
    let sum = 0;
    for (let i = 0; i < 20; i++) if (this.slotOf[i]! > current - 20) sum += this.slots[i]!;
    return sum / 2;
  }
}

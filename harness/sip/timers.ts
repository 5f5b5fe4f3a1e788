/**
 * RFC 3261 timer values (§17, Table 4 in Appendix A), derived from T1/T2/T4 so a test can shrink
 * the whole schedule at once (e.g. T1 = 20 ms) and keep the proportions the RFC prescribes.
 */
export interface SipTimers {
  /** RTT estimate, default 500 ms. */
  t1: number;
  /** Cap on non-INVITE request and INVITE response retransmission intervals, default 4 s. */
  t2: number;
  /** Maximum lifetime of a message in the network, default 5 s. */
  t4: number;
}

export const DEFAULT_TIMERS: Readonly<SipTimers> = { t1: 500, t2: 4000, t4: 5000 };

export function resolveTimers(partial: Partial<SipTimers> = {}): SipTimers {
  return { ...DEFAULT_TIMERS, ...partial };
}

/** Timers B, F, H (and RFC 6026 L, M): 64·T1 on every transport. */
export function transactionTimeout(t: SipTimers): number {
  return 64 * t.t1;
}

/**
 * Timer D: RFC 3261 asks for "at least 32 seconds" on unreliable transports, which is 64·T1 at the
 * default T1; we scale it with T1 so shortened test timers stay proportionate. Zero on TCP.
 */
export function timerD(t: SipTimers, reliable: boolean): number {
  return reliable ? 0 : 64 * t.t1;
}

/** Timers I and K: T4 on unreliable transports, zero on reliable ones. */
export function timerIK(t: SipTimers, reliable: boolean): number {
  return reliable ? 0 : t.t4;
}

/** Timer J: 64·T1 on unreliable transports, zero on reliable ones. */
export function timerJ(t: SipTimers, reliable: boolean): number {
  return reliable ? 0 : 64 * t.t1;
}

/** Next interval of a T1-doubling schedule capped at T2 (timers E, G and the 2xx retransmission). */
export function nextCappedInterval(current: number, t: SipTimers): number {
  return Math.min(2 * current, t.t2);
}

/** Default delay before an INVITE server transaction sends 100 Trying on its own (§17.2.1). */
export const AUTO_TRYING_AFTER_MS = 200;

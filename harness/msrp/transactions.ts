/**
 * The MSRP transactions this side started (RFC 4975 §7.1.1): a response is matched by
 * transaction id, every awaited transaction is bounded by a timeout, a transaction sent without
 * awaiting (a REPORT, Failure-Report: no) may still be answered without counting as unmatched,
 * and a connection that closes fails the transactions on it.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { harnessError, type HarnessError } from '../core/diagnostic.ts';
import type { MsrpResponse } from './frame.ts';

export type TransactionOutcome =
  | { ok: true; response: MsrpResponse | null }
  | { ok: false; error: HarnessError; response?: MsrpResponse };

interface Pending<C> {
  resolve: (outcome: TransactionOutcome) => void;
  timer: TimerHandle;
  connection: C;
}

export class MsrpTransactions<C> {
  private readonly pending = new Map<string, Pending<C>>();
  private readonly unawaited = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /**
   * A transaction about to be written on `connection`. `onTimeout` runs when no response came
   * within the timeout; `written` must be called with the write's result.
   */
  start(transactionId: string, connection: C, awaitResponse: boolean, onTimeout: () => void): { outcome: Promise<TransactionOutcome>; written: (result: { ok: true } | { ok: false; error: HarnessError }) => void } {
    let settle!: (outcome: TransactionOutcome) => void;
    const outcome = new Promise<TransactionOutcome>((resolve) => (settle = resolve));
    if (awaitResponse) {
      const timer = this.clock.setTimer(this.timeoutMs, () => {
        if (!this.pending.delete(transactionId)) return;
        onTimeout();
        settle({ ok: false, error: harnessError('MSRP_TRANSACTION_TIMEOUT', `no response to ${transactionId} within ${this.timeoutMs} ms`) });
      });
      this.pending.set(transactionId, { resolve: settle, timer, connection });
    } else {
      this.unawaited.add(transactionId);
    }
    const written = (result: { ok: true } | { ok: false; error: HarnessError }): void => {
      if (!result.ok) {
        const p = this.pending.get(transactionId);
        if (p) {
          this.pending.delete(transactionId);
          p.timer.cancel();
        }
        settle({ ok: false, error: result.error });
      } else if (!awaitResponse) settle({ ok: true, response: null });
    };
    return { outcome, written };
  }

  /** A response: settles its transaction (2xx ok, else an error with the response); false when nothing this side sent matches it. */
  settle(frame: MsrpResponse, raw: Buffer): boolean {
    const pending = this.pending.get(frame.transactionId);
    if (pending) {
      this.pending.delete(frame.transactionId);
      pending.timer.cancel();
      pending.resolve(frame.status >= 200 && frame.status < 300 ? { ok: true, response: frame } : { ok: false, error: harnessError('MSRP_ERROR_RESPONSE', `${frame.status} ${frame.comment ?? ''}`.trim(), raw), response: frame });
      return true;
    }
    return this.unawaited.delete(frame.transactionId);
  }

  /** Every transaction awaiting a response on a closed connection fails. */
  failConnection(connection: C, partial: Buffer): void {
    for (const [tid, p] of this.pending) {
      if (p.connection !== connection) continue;
      this.pending.delete(tid);
      p.timer.cancel();
      p.resolve({ ok: false, error: harnessError('MSRP_CONNECTION_CLOSED', `connection closed before the response to ${tid}`, partial) });
    }
  }
}

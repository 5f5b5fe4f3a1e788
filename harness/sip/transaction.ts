/**
 * RFC 3261 §17 transaction state machines (with the RFC 6026 "Accepted" states, so 2xx
 * retransmissions reach the UAC core and INVITE retransmissions after a 2xx are absorbed).
 *
 * The machines know nothing about sockets: each gets a `TransactionIo` that sends bytes to its peer
 * and a Clock, so every timer A–M can be driven by a FakeClock. Retransmission means re-sending the
 * exact bytes sent the first time.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Diagnostic, HarnessError } from '../core/diagnostic.ts';
import { diagnostic } from '../core/diagnostic.ts';
import { fail, ok } from '../core/result.ts';
import type { Result } from '../core/result.ts';
import { buildAckForNon2xx, buildResponse } from './build.ts';
import { parseCSeq, parseVia, tagOf } from './headers.ts';
import { firstHeaderValue, headerValue } from './message.ts';
import type { SipMessage, SipRequest, SipResponse } from './message.ts';
import type { ParsedSip } from './parser.ts';
import { serializeSipMessage } from './serializer.ts';
import { nextCappedInterval, timerD, timerIK, timerJ, transactionTimeout } from './timers.ts';
import type { SipTimers } from './timers.ts';
import type { Endpoint, TransportKind } from '../core/trace.ts';

export type SendOutcome = { ok: true } | { ok: false; error: HarnessError };

/** What a transaction needs from the world: a way to reach its peer, a clock and timer values. */
export interface TransactionIo {
  readonly clock: Clock;
  readonly timers: SipTimers;
  /** TCP: no retransmissions, timers D/I/J/K are zero (§17.1.1.2, §17.2.1). */
  readonly reliable: boolean;
  send(bytes: Buffer): Promise<SendOutcome>;
  /**
   * Given, a transaction entering its last wait state (Completed before Timer D, J or K, Accepted
   * before Timer L or M) hands over its Remnant instead of running that timer itself: the holder
   * keeps the remnant in its table, answers retransmissions with it and calls `expire()` after
   * `afterMs`. The transaction object is then only kept alive by whoever else holds it.
   */
  retire?(remnant: Remnant<ClientTransaction> | Remnant<ServerTransaction>, afterMs: number): void;
  /** Called once when the transaction reaches Terminated (the holder forgets it). */
  terminated?(txn: ClientTransaction | ServerTransaction): void;
}

const MAGIC_COOKIE = 'z9hG4bK';

export function serialize(message: SipMessage): Buffer {
  return serializeSipMessage(message, { contentLength: 'compute' });
}

// ---------------------------------------------------------------------------------------------
// Matching (§17.1.3, §17.2.3)

/** The fields of a message that matching needs, read once. */
export interface TransactionIdentity {
  readonly branch: string | undefined;
  /** `host:port` of the top Via, host lower-cased, port as written (empty when absent). */
  readonly sentBy: string;
  readonly cseqSeq: number;
  readonly cseqMethod: string;
}

export function transactionIdentity(message: SipMessage): Result<TransactionIdentity> {
  const viaValue = firstHeaderValue(message, 'via');
  if (viaValue === undefined) {
    return fail(diagnostic('SIP_TXN_NO_VIA', 'message has no Via, so no transaction can be matched', 'RFC 3261 §17.2.3'));
  }
  const via = parseVia(viaValue);
  if (!via.ok) return fail(...via.diagnostics);
  const cseqValue = headerValue(message, 'cseq');
  if (cseqValue === undefined) {
    return fail(diagnostic('SIP_TXN_NO_CSEQ', 'message has no CSeq, so no transaction can be matched', 'RFC 3261 §17.1.3'));
  }
  const cseq = parseCSeq(cseqValue);
  if (!cseq.ok) return fail(...cseq.diagnostics);
  const sentBy = `${via.value.host.toLowerCase()}:${via.value.port ?? ''}`;
  return ok({ branch: via.value.branch, sentBy, cseqSeq: cseq.value.seq, cseqMethod: cseq.value.method });
}

/** §17.1.3: branch of the top Via plus the CSeq method. */
export function clientKey(branch: string, cseqMethod: string): string {
  return `${branch}|${cseqMethod}`;
}

/**
 * §17.2.3: branch + sent-by + method, where ACK matches the INVITE. `asMethod` lets a CANCEL look up
 * the INVITE it cancels (§9.2). Branches without the magic cookie fall back to the RFC 2543 fields
 * (Request-URI, From tag, Call-ID, CSeq number, top Via); the To tag is left out so that the ACK
 * for a non-2xx (which carries the response's To tag) still matches.
 */
export function serverKey(request: SipRequest, id: TransactionIdentity, asMethod?: string): string {
  const raw = asMethod ?? request.method;
  const method = raw === 'ACK' ? 'INVITE' : raw;
  if (id.branch !== undefined && id.branch.startsWith(MAGIC_COOKIE)) return `${id.branch}|${id.sentBy}|${method}`;
  const fromTag = tagOf(headerValue(request, 'from') ?? '') ?? '';
  const callId = headerValue(request, 'call-id') ?? '';
  const topVia = firstHeaderValue(request, 'via') ?? '';
  return `2543|${request.uri}|${fromTag}|${callId}|${id.cseqSeq}|${topVia}|${method}`;
}

// ---------------------------------------------------------------------------------------------
// The last wait state, reduced to what retransmissions need

/** What a remnant may still do to its transaction, while something else keeps that object alive. */
interface RemnantOwner {
  /** The wait's timer ran out: Terminated. */
  endWait(): void;
  /** Sending the ACK or the final again failed: Terminated with transport-error. */
  failWait(error: HarnessError): void;
  /** RFC 6026 Accepted: a 2xx that repeats one already delivered goes to the TU. */
  repeatFinal?(response: SipResponse): void;
}

type RemnantRole = 'invite-client-accepted' | 'invite-client-completed' | 'non-invite-client-completed' | 'non-invite-server-completed';

/**
 * A transaction in its last wait state — Completed (§17.1.1.2 Timer D, §17.1.2.2 Timer K,
 * §17.2.2 Timer J) or Accepted (RFC 6026 Timer M) — reduced to its key, its state and the bytes a
 * retransmission is answered with (the non-2xx ACK, the last final), held as one-byte text. It
 * holds its transaction object only weakly unless somebody listens to that object's remaining
 * events, so a finished call costs a few hundred bytes until its timer, not its messages.
 */
export class Remnant<T extends RemnantOwner = ClientTransaction | ServerTransaction> {
  readonly key: string;
  readonly side: 'client' | 'server';
  readonly state: 'completed' | 'accepted';
  /** True once it has ended (timer, or a failed resend): the holder drops it. */
  ended = false;
  private readonly role: RemnantRole;
  private readonly resendText: string | undefined;
  private readonly io: TransactionIo | undefined;
  private readonly owner: WeakRef<T> | T;

  constructor(key: string, role: RemnantRole, owner: T, options: { resend?: Buffer; io?: TransactionIo; hold: boolean }) {
    this.key = key;
    this.role = role;
    this.side = role === 'non-invite-server-completed' ? 'server' : 'client';
    this.state = role === 'invite-client-accepted' ? 'accepted' : 'completed';
    this.resendText = options.resend?.toString('latin1');
    this.io = options.resend === undefined ? undefined : options.io;
    this.owner = options.hold ? owner : new WeakRef(owner);
  }

  /** The transaction object, while anything keeps it alive. */
  get transaction(): T | undefined {
    return this.owner instanceof WeakRef ? this.owner.deref() : this.owner;
  }

  /**
   * A message that matched the transaction in its wait state: a retransmitted non-2xx is ACKed
   * again, a retransmitted request gets the final again, a repeated 2xx goes to the TU, anything
   * else is absorbed.
   */
  receive(message: SipMessage): void {
    if (this.ended) return;
    switch (this.role) {
      case 'invite-client-accepted':
        if (message.kind === 'response' && message.status >= 200 && message.status < 300) this.transaction?.repeatFinal?.(message);
        return;
      case 'invite-client-completed':
        if (message.kind === 'response' && message.status >= 300) this.resend();
        return;
      case 'non-invite-server-completed':
        if (message.kind === 'request') this.resend();
        return;
      case 'non-invite-client-completed':
        return;
    }
  }

  /** The wait's timer ran out. */
  expire(): void {
    if (this.ended) return;
    this.ended = true;
    this.transaction?.endWait();
  }

  private resend(): void {
    if (this.resendText === undefined || this.io === undefined) return;
    void this.io.send(Buffer.from(this.resendText, 'latin1')).then((r) => {
      if (r.ok || this.ended) return;
      this.ended = true;
      this.transaction?.failWait(r.error);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Shared machinery

class TimerSet {
  private readonly handles = new Map<string, TimerHandle>();
  constructor(private readonly clock: Clock) {}

  set(name: string, ms: number, fn: () => void): void {
    this.cancel(name);
    const handle = this.clock.setTimer(ms, () => {
      this.handles.delete(name);
      fn();
    });
    this.handles.set(name, handle);
  }

  cancel(name: string): void {
    this.handles.get(name)?.cancel();
    this.handles.delete(name);
  }

  cancelAll(): void {
    for (const h of this.handles.values()) h.cancel();
    this.handles.clear();
  }

  get active(): string[] {
    return [...this.handles.keys()];
  }
}

export type ClientOutcome =
  | { kind: 'response'; response: SipResponse }
  | { kind: 'timeout' }
  | { kind: 'transport-error'; error: HarnessError };

export interface FinalInfo {
  /** True for a 2xx that repeats one already delivered (retransmission or another fork). */
  retransmission: boolean;
}

export interface ClientTransactionEvents {
  provisional: [response: SipResponse];
  final: [response: SipResponse, info: FinalInfo];
  timeout: [];
  'transport-error': [error: HarnessError];
  /** The non-2xx ACK this transaction sent (once; retransmissions of it are not repeated here). */
  'ack-sent': [ack: SipRequest];
  terminated: [];
}

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export abstract class ClientTransaction extends EventEmitter<ClientTransactionEvents> {
  readonly request: SipRequest;
  readonly requestBytes: Buffer;
  readonly key: string;
  /** First final response, or the failure; never rejects. */
  readonly result: Promise<ClientOutcome>;
  abstract readonly state: InviteClientState | NonInviteClientState;

  protected readonly timers: TimerSet;
  /** Set on entering the last wait state: it answers retransmissions from then on. */
  protected remnant: Remnant<ClientTransaction> | undefined;
  private settle!: (outcome: ClientOutcome) => void;
  private settled = false;
  private stopped = false;

  constructor(
    request: SipRequest,
    branch: string,
    protected readonly io: TransactionIo,
  ) {
    super();
    this.request = request;
    this.requestBytes = serialize(request);
    this.key = clientKey(branch, request.method);
    this.timers = new TimerSet(io.clock);
    this.result = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** Timers currently running, by letter: for tests and diagnostics. */
  get activeTimers(): string[] {
    return this.timers.active;
  }

  abstract start(): void;
  /** A response whose branch and CSeq method matched this transaction. */
  abstract receive(response: SipResponse): void;

  /** Stops all timers without telling anyone (stack shutdown). */
  stop(): void {
    this.stopped = true;
    this.timers.cancelAll();
  }

  /** Ends the transaction with a failure found outside it (unsendable request, no branch to match). */
  abort(error: HarnessError): void {
    this.transportError(error);
  }

  /** Its remnant's wait timer ran out (called by the remnant). */
  endWait(): void {
    if (this.state !== 'terminated') this.terminate();
  }

  /** Its remnant could not send the ACK again (called by the remnant). */
  failWait(error: HarnessError): void {
    this.transportError(error);
  }

  /**
   * Enters the last wait state's timer (`letter`, for activeTimers): itself, or handed to the io's
   * holder as a Remnant. The object stays tied to the remnant only if someone listens to it.
   */
  protected linger(role: 'invite-client-accepted' | 'invite-client-completed' | 'non-invite-client-completed', letter: string, ms: number, resend?: Buffer): void {
    if (this.stopped || this.state === 'terminated') return;
    const watched = this.listenerCount('terminated') + this.listenerCount('transport-error') + (role === 'invite-client-accepted' ? this.listenerCount('final') : 0) > 0;
    const remnant = new Remnant<ClientTransaction>(this.key, role, this, { ...(resend === undefined ? {} : { resend }), io: this.io, hold: this.io.retire === undefined || watched });
    this.remnant = remnant;
    if (this.io.retire === undefined) this.timers.set(letter, ms, () => remnant.expire());
    else this.io.retire(remnant, ms);
  }

  protected resolve(outcome: ClientOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(outcome);
  }

  protected transmit(bytes: Buffer): void {
    void this.io.send(bytes).then((r) => {
      if (!r.ok) this.transportError(r.error);
    });
  }

  protected transportError(error: HarnessError): void {
    if (this.state === 'terminated') return;
    this.terminate();
    this.emit('transport-error', error);
    this.resolve({ kind: 'transport-error', error });
  }

  protected terminate(): void {
    this.timers.cancelAll();
    if (this.remnant !== undefined) this.remnant.ended = true;
    this.setState('terminated');
    this.io.terminated?.(this);
    this.emit('terminated');
  }

  protected abstract setState(state: 'terminated'): void;
}

/** §17.1.1 (Figure 5) plus RFC 6026 Accepted/Timer M. */
export class InviteClientTransaction extends ClientTransaction {
  private current: InviteClientState = 'calling';
  private ackBytes: Buffer | undefined;
  private ack: SipRequest | undefined;

  get state(): InviteClientState {
    return this.current;
  }

  /** The ACK built for a 300–699 final, once sent. */
  get nonSuccessAck(): SipRequest | undefined {
    return this.ack;
  }

  start(): void {
    this.transmit(this.requestBytes);
    if (!this.io.reliable) this.armTimerA(this.io.timers.t1);
    this.timers.set('B', transactionTimeout(this.io.timers), () => {
      if (this.current !== 'calling') return;
      this.terminate();
      this.emit('timeout');
      this.resolve({ kind: 'timeout' });
    });
  }

  private armTimerA(interval: number): void {
    this.timers.set('A', interval, () => {
      if (this.current !== 'calling') return;
      this.transmit(this.requestBytes);
      this.armTimerA(2 * interval);
    });
  }

  receive(response: SipResponse): void {
    const status = response.status;
    switch (this.current) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          this.timers.cancel('A');
          this.timers.cancel('B');
          this.current = 'proceeding';
          this.emit('provisional', response);
        } else if (status < 300) {
          this.timers.cancelAll();
          this.current = 'accepted';
          this.resolve({ kind: 'response', response });
          this.emit('final', response, { retransmission: false });
          this.linger('invite-client-accepted', 'M', transactionTimeout(this.io.timers));
        } else {
          this.timers.cancelAll();
          this.current = 'completed';
          this.sendAck(response);
          const d = timerD(this.io.timers, this.io.reliable);
          this.resolve({ kind: 'response', response });
          this.emit('final', response, { retransmission: false });
          if (d === 0) this.terminate();
          else this.linger('invite-client-completed', 'D', d, this.ackBytes);
        }
        return;
      case 'completed':
      case 'accepted':
        // §17.1.1.2: a retransmitted final is answered with the same ACK, not passed up;
        // RFC 6026 §8.4: a 2xx in Accepted goes to the TU.
        this.remnant?.receive(response);
        return;
      case 'terminated':
        return;
    }
  }

  /** A 2xx repeated in Accepted (called by the remnant). */
  repeatFinal(response: SipResponse): void {
    if (this.current === 'accepted') this.emit('final', response, { retransmission: true });
  }

  private sendAck(response: SipResponse): void {
    const ack = buildAckForNon2xx(this.request, response);
    this.ack = ack;
    this.ackBytes = serialize(ack);
    this.transmit(this.ackBytes);
    this.emit('ack-sent', ack);
  }

  protected setState(state: 'terminated'): void {
    this.current = state;
  }
}

/** §17.1.2 (Figure 6). */
export class NonInviteClientTransaction extends ClientTransaction {
  private current: NonInviteClientState = 'trying';

  get state(): NonInviteClientState {
    return this.current;
  }

  start(): void {
    this.transmit(this.requestBytes);
    if (!this.io.reliable) this.armTimerE(this.io.timers.t1);
    this.timers.set('F', transactionTimeout(this.io.timers), () => {
      if (this.current !== 'trying' && this.current !== 'proceeding') return;
      this.terminate();
      this.emit('timeout');
      this.resolve({ kind: 'timeout' });
    });
  }

  private armTimerE(interval: number): void {
    this.timers.set('E', interval, () => {
      if (this.current !== 'trying' && this.current !== 'proceeding') return;
      this.transmit(this.requestBytes);
      // In Proceeding the interval is T2 straight away (§17.1.2.2).
      this.armTimerE(this.current === 'proceeding' ? this.io.timers.t2 : nextCappedInterval(interval, this.io.timers));
    });
  }

  receive(response: SipResponse): void {
    if (this.current === 'completed') this.remnant?.receive(response);
    if (this.current !== 'trying' && this.current !== 'proceeding') return;
    if (response.status < 200) {
      this.current = 'proceeding';
      this.emit('provisional', response);
      return;
    }
    this.timers.cancelAll();
    this.current = 'completed';
    this.resolve({ kind: 'response', response });
    this.emit('final', response, { retransmission: false });
    const k = timerIK(this.io.timers, this.io.reliable);
    if (k === 0) this.terminate();
    else this.linger('non-invite-client-completed', 'K', k);
  }

  protected setState(state: 'terminated'): void {
    this.current = state;
  }
}

// ---------------------------------------------------------------------------------------------
// Server transactions

export interface RequestSource {
  readonly transport: TransportKind;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly connectionId?: string;
}

export interface ServerTransactionEvents {
  /** ACK for a non-2xx (inside the transaction) or, via the stack's UAS core, for a 2xx. */
  ack: [ack: SipRequest];
  /** A CANCEL matched this INVITE; the argument is the CANCEL's own server transaction. */
  cancelled: [cancel: ServerTransaction];
  /** Timer H: no ACK for the non-2xx final. */
  timeout: [];
  /** 64·T1 passed after a 2xx without its ACK (§13.3.1.4), raised by the stack's UAS core. */
  'ack-timeout': [];
  'transport-error': [error: HarnessError];
  terminated: [];
}

export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ServerTransactionOptions {
  /** Send 100 Trying after this many ms unless the TU answered first; undefined = never. */
  tryingAfterMs?: number;
  /** Called when an INVITE server transaction sends a 2xx, so the UAS core can retransmit it. */
  onInvite2xx?: (txn: ServerTransaction, response: SipResponse, bytes: Buffer) => void;
}

export abstract class ServerTransaction extends EventEmitter<ServerTransactionEvents> {
  readonly request: SipRequest;
  readonly parsed: ParsedSip;
  readonly source: RequestSource;
  readonly key: string;
  /** Set false before a CANCEL arrives to answer the CANCEL and the INVITE yourself (§9.2). */
  autoCancel = true;
  abstract readonly state: InviteServerState | NonInviteServerState;

  protected readonly timers: TimerSet;
  /** Set on entering Completed (non-INVITE): it answers retransmissions from then on. */
  protected remnant: Remnant<ServerTransaction> | undefined;
  private stopped = false;
  protected lastProvisional: { bytes: Buffer; response: SipResponse } | undefined;
  protected lastFinal: { bytes: Buffer; response: SipResponse } | undefined;

  constructor(
    request: SipRequest,
    parsed: ParsedSip,
    source: RequestSource,
    key: string,
    protected readonly io: TransactionIo,
  ) {
    super();
    this.request = request;
    this.parsed = parsed;
    this.source = source;
    this.key = key;
    this.timers = new TimerSet(io.clock);
  }

  get diagnostics(): readonly Diagnostic[] {
    return this.parsed.diagnostics;
  }

  get activeTimers(): string[] {
    return this.timers.active;
  }

  /** The final response sent, if any. */
  get finalResponse(): SipResponse | undefined {
    return this.lastFinal?.response;
  }

  /** The latest provisional response sent, if any. */
  get provisionalResponse(): SipResponse | undefined {
    return this.lastProvisional?.response;
  }

  /**
   * Sends a response through the transaction. Returns false (and sends nothing) when the state
   * machine does not allow it, e.g. a second final; use the stack's `sendStateless` to break rules.
   */
  abstract respond(response: SipResponse): boolean;
  /** A request that matched this transaction: a retransmission, or an ACK for INVITE. */
  abstract receive(request: SipRequest): 'absorbed' | 'ack' | 'pass-to-core';

  stop(): void {
    this.stopped = true;
    this.timers.cancelAll();
  }

  /** Its remnant's wait timer ran out (called by the remnant). */
  endWait(): void {
    if (this.state !== 'terminated') this.terminate();
  }

  /** Its remnant could not send the final again (called by the remnant). */
  failWait(error: HarnessError): void {
    this.transportError(error);
  }

  /** As ClientTransaction.linger: Timer J's wait, itself or handed over as a Remnant. */
  protected linger(letter: string, ms: number, resend: Buffer): void {
    if (this.stopped || this.state === 'terminated') return;
    const watched = this.listenerCount('terminated') + this.listenerCount('transport-error') > 0;
    const remnant = new Remnant<ServerTransaction>(this.key, 'non-invite-server-completed', this, { resend, io: this.io, hold: this.io.retire === undefined || watched });
    this.remnant = remnant;
    if (this.io.retire === undefined) this.timers.set(letter, ms, () => remnant.expire());
    else this.io.retire(remnant, ms);
  }

  protected transmit(bytes: Buffer): void {
    void this.io.send(bytes).then((r) => {
      if (!r.ok) this.transportError(r.error);
    });
  }

  protected transportError(error: HarnessError): void {
    if (this.state === 'terminated') return;
    this.terminate();
    this.emit('transport-error', error);
  }

  protected terminate(): void {
    this.timers.cancelAll();
    if (this.remnant !== undefined) this.remnant.ended = true;
    this.setState('terminated');
    this.io.terminated?.(this);
    this.emit('terminated');
  }

  protected resend(sent: { bytes: Buffer; response: SipResponse } | undefined): void {
    if (sent !== undefined) this.transmit(sent.bytes);
  }

  protected abstract setState(state: 'terminated'): void;
}

function validStatus(response: SipResponse): boolean {
  return Number.isInteger(response.status) && response.status >= 100 && response.status <= 699;
}

/** §17.2.1 (Figure 7) plus RFC 6026 Accepted/Timer L. */
export class InviteServerTransaction extends ServerTransaction {
  private current: InviteServerState = 'proceeding';
  private readonly onInvite2xx: ServerTransactionOptions['onInvite2xx'];

  constructor(
    request: SipRequest,
    parsed: ParsedSip,
    source: RequestSource,
    key: string,
    io: TransactionIo,
    options: ServerTransactionOptions = {},
  ) {
    super(request, parsed, source, key, io);
    this.onInvite2xx = options.onInvite2xx;
    if (options.tryingAfterMs !== undefined) {
      this.timers.set('trying', options.tryingAfterMs, () => {
        if (this.current === 'proceeding' && this.lastProvisional === undefined) {
          this.respond(buildResponse(this.request, 100, 'Trying'));
        }
      });
    }
  }

  get state(): InviteServerState {
    return this.current;
  }

  respond(response: SipResponse): boolean {
    if (!validStatus(response)) return false;
    const status = response.status;
    if (this.current === 'accepted' && status >= 200 && status < 300) {
      // RFC 6026 §8.5: 2xx retransmissions from the TU go out through the Accepted transaction.
      this.transmit(serialize(response));
      return true;
    }
    if (this.current !== 'proceeding') return false;
    const bytes = serialize(response);
    if (status < 200) {
      this.timers.cancel('trying');
      this.lastProvisional = { bytes, response };
      this.transmit(bytes);
    } else if (status < 300) {
      this.timers.cancelAll();
      this.current = 'accepted';
      this.lastFinal = { bytes, response };
      this.transmit(bytes);
      this.timers.set('L', transactionTimeout(this.io.timers), () => this.terminate());
      this.onInvite2xx?.(this, response, bytes);
    } else {
      this.timers.cancelAll();
      this.current = 'completed';
      this.lastFinal = { bytes, response };
      this.transmit(bytes);
      if (!this.io.reliable) this.armTimerG(this.io.timers.t1);
      this.timers.set('H', transactionTimeout(this.io.timers), () => {
        if (this.current !== 'completed') return;
        this.terminate();
        this.emit('timeout');
      });
    }
    return true;
  }

  private armTimerG(interval: number): void {
    this.timers.set('G', interval, () => {
      if (this.current !== 'completed') return;
      this.resend(this.lastFinal);
      this.armTimerG(nextCappedInterval(interval, this.io.timers));
    });
  }

  receive(request: SipRequest): 'absorbed' | 'ack' | 'pass-to-core' {
    if (request.method === 'ACK') {
      if (this.current === 'completed') {
        this.timers.cancelAll();
        this.current = 'confirmed';
        this.emit('ack', request);
        const i = timerIK(this.io.timers, this.io.reliable);
        if (i === 0) this.terminate();
        else this.timers.set('I', i, () => this.terminate());
        return 'ack';
      }
      // An ACK for a 2xx that reuses the INVITE's branch belongs to the UAS core.
      return this.current === 'accepted' ? 'pass-to-core' : 'absorbed';
    }
    if (this.current === 'proceeding') this.resend(this.lastProvisional);
    else if (this.current === 'completed') this.resend(this.lastFinal);
    return 'absorbed';
  }

  protected setState(state: 'terminated'): void {
    this.current = state;
  }
}

/** §17.2.2 (Figure 8). */
export class NonInviteServerTransaction extends ServerTransaction {
  private current: NonInviteServerState = 'trying';

  get state(): NonInviteServerState {
    return this.current;
  }

  respond(response: SipResponse): boolean {
    if (!validStatus(response)) return false;
    if (this.current !== 'trying' && this.current !== 'proceeding') return false;
    const bytes = serialize(response);
    if (response.status < 200) {
      this.current = 'proceeding';
      this.lastProvisional = { bytes, response };
      this.transmit(bytes);
      return true;
    }
    this.current = 'completed';
    this.lastFinal = { bytes, response };
    this.transmit(bytes);
    const j = timerJ(this.io.timers, this.io.reliable);
    if (j === 0) this.terminate();
    else this.linger('J', j, bytes);
    return true;
  }

  receive(request: SipRequest): 'absorbed' {
    if (this.current === 'proceeding') this.resend(this.lastProvisional);
    else if (this.current === 'completed') this.remnant?.receive(request);
    return 'absorbed';
  }

  protected setState(state: 'terminated'): void {
    this.current = state;
  }
}

/**
 * The SIP stack facade: one transport, the transaction tables, and the UA core around them — the
 * UAS 2xx retransmission until ACK (§13.3.1.4), CANCEL handling (§9.2), the UAC's ACK and re-ACK of
 * 2xx (§13.2.2.4, uac-core.ts) and in-dialog requests with this stack's Via sent to the dialog's
 * next hop (§12.2.1.1). It resolves no names: a next hop must be an IP address. Everything it
 * sends goes out as exact bytes through SipTransport, so it all lands in the trace.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { systemClock } from '../core/clock.ts';
import { ExpiryQueues } from '../core/expiry.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { harnessError, hasErrors } from '../core/diagnostic.ts';
import { newBranch } from '../core/ids.ts';
import type { FaultBoundary, PeerWatch } from '../core/scope.ts';
import type { WireTap } from '../core/wire-tap.ts';
import type { TraceSink, TransportKind } from '../core/trace.ts';
import { buildResponse } from './build.ts';
import type { Dialog, InDialogRequestOptions } from './dialog.ts';
import { formatVia, parseNameAddr, parseVia, tagOf } from './headers.ts';
import type { Via } from './headers.ts';
import { firstHeaderValue, headerFields, headerValue, splitList } from './message.ts';
import type { SipHeaderField, SipMessage, SipRequest, SipResponse } from './message.ts';
import type { ParsedSip } from './parser.ts';
import { serializeSipMessage } from './serializer.ts';
import { AUTO_TRYING_AFTER_MS, resolveTimers, transactionTimeout } from './timers.ts';
import type { SipTimers } from './timers.ts';
import {
  clientKey,
  Remnant,
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteClientTransaction,
  NonInviteServerTransaction,
  serverKey,
  transactionIdentity,
} from './transaction.ts';
import type { ClientTransaction, RequestSource, SendOutcome, ServerTransaction, TransactionIo } from './transaction.ts';
import { bareAddress, SipTransport } from './transport.ts';
import { ackKey, UacCore, type AckPolicy, type AcceptedInvite } from './uac-core.ts';
import { parseSipUri } from './uri.ts';
import type { InboundMessage, SendResult, SipLimits, Target } from './transport.ts';

export type { ClientTransaction, ServerTransaction, RequestSource } from './transaction.ts';
export type { AckPolicy, AcceptedInvite } from './uac-core.ts';
export type { Target, SendResult } from './transport.ts';

export interface SipStackOptions {
  actor: string;
  address: string;
  /** Ports to bind (0 = ephemeral); when neither is given both UDP and TCP are bound ephemeral. */
  udpPort?: number;
  tcpPort?: number;
  timers?: Partial<SipTimers>;
  clock?: Clock;
  trace?: TraceSink;
  /** INVITE server transactions send 100 Trying when the TU is silent (§17.2.1). Default true. */
  autoTrying?: boolean;
  /** How long the TU may stay silent before that 100 Trying. Default 200 ms. */
  tryingAfterMs?: number;
  /** Message size and header-line limits for what the transport receives. */
  limits?: SipLimits;
  /** The test case's fault boundary, watch of the client, or chaos tap: passed to the transport. */
  boundary?: FaultBoundary;
  watch?: PeerWatch;
  tap?: WireTap;
}

export interface AckInfo {
  source: RequestSource;
  /** The INVITE server transaction whose 2xx this ACK acknowledges, when one matched. */
  transaction?: ServerTransaction;
}

export interface SipStackEvents {
  /** A new request (not ACK, not CANCEL); retransmissions are absorbed by its transaction. */
  request: [txn: ServerTransaction];
  /** ACK for a 2xx (or any ACK no transaction claimed), matched by Call-ID + CSeq number + To tag. */
  ack: [ack: SipRequest, info: AckInfo];
  /** 64·T1 after a 2xx to INVITE with no ACK (§13.3.1.4: the session SHOULD be ended with BYE). */
  'ack-timeout': [txn: ServerTransaction, response: SipResponse];
  /** A message with error diagnostics, or one no transaction logic can handle. */
  invalid: [parsed: ParsedSip, source: RequestSource];
  /**
   * A 2xx to INVITE that repeats one already delivered: the UAC core re-sends its ACK (§13.2.2.4).
   * `txn` is undefined once nothing but the stack held the finished transaction (it keeps only a Remnant).
   */
  '2xx-retransmission': [response: SipResponse, txn: ClientTransaction | undefined];
  /** A response no client transaction matched (including 2xx after the transaction ended). */
  'stray-response': [response: SipResponse, source: RequestSource];
  /** Every received CANCEL (not its retransmissions), with the INVITE transaction it matched. */
  cancel: [cancel: ServerTransaction, invite: ServerTransaction | undefined];
}

/** An INVITE whose 2xx the UAC core ACKs. */
export interface InviteClient {
  readonly transaction: ClientTransaction;
  /** The first 2xx's dialog and ACK (once the ACK is out, or at once with `ack: 'never'`); null for a non-2xx final or none. */
  readonly accepted: Promise<AcceptedInvite | null>;
}

/** An in-dialog request as built and, unless it had nowhere to go, its transaction. */
export type InDialogSend = { request: SipRequest; transaction: ClientTransaction } | { request: SipRequest; failure: string };

/** §13.3.1.4 state for one 2xx to INVITE. */
interface PendingAck {
  readonly txn: ServerTransaction;
  readonly response: SipResponse;
  acked: boolean;
  retransmit?: TimerHandle;
  deadline?: TimerHandle;
}

function isIpv6(address: string): boolean {
  return bareAddress(address).includes(':');
}

function hostText(address: string): string {
  return isIpv6(address) ? `[${bareAddress(address)}]` : address;
}

/**
 * §18.2.2 (with RFC 3581): TCP back on the request's connection (or, if it closed, to the source
 * address and sent-by port); UDP to the source address (= `received`) and sent-by port, or the
 * source port when the client asked for rport. maddr is not honoured: the harness answers unicast.
 */
export function responseTarget(source: RequestSource, via: Via): Target {
  const port = via.rport !== undefined ? source.remote.port : (via.port ?? 5060);
  const target: Target = { transport: source.transport, address: source.remote.address, port };
  if (source.transport === 'tcp' && source.connectionId !== undefined) target.connectionId = source.connectionId;
  return target;
}

/**
 * §18.2.1 and RFC 3581 §4: the server transport stamps the top Via with `received` (when sent-by is
 * not the source address) and fills an empty `rport`, so responses built from the request carry them.
 * Returns a copy; the parsed original stays as received.
 */
export function stampTopVia(request: SipRequest, via: Via, source: RequestSource): SipRequest {
  const needsReceived = bareAddress(via.host).toLowerCase() !== source.remote.address.toLowerCase();
  const needsRport = via.rport === true;
  if (!needsReceived && !needsRport) return request;
  const stamped: Via = { ...via };
  if (needsReceived) stamped.received = source.remote.address;
  if (needsRport) stamped.rport = source.remote.port;
  const first = headerFields(request, 'via')[0];
  if (first === undefined) return request;
  const values = splitList(first.value);
  const replacement: SipHeaderField = { name: first.name, value: [formatVia(stamped), ...values.slice(1)].join(', ') };
  return { ...request, headers: request.headers.map((h) => (h === first ? replacement : h)) };
}

export class SipStack extends EventEmitter<SipStackEvents> {
  readonly actor: string;
  readonly transport: SipTransport;
  readonly timers: SipTimers;
  readonly clock: Clock;

  private readonly autoTrying: boolean;
  private readonly tryingAfterMs: number;
  /** Live transactions, and finished ones reduced to Remnants until their last timer. */
  private readonly clientTxns = new Map<string, ClientTransaction | Remnant<ClientTransaction>>();
  private readonly serverTxns = new Map<string, ServerTransaction | Remnant<ServerTransaction>>();
  private readonly lingering: ExpiryQueues<Remnant<ClientTransaction> | Remnant<ServerTransaction>>;
  private readonly pendingAcks = new Map<string, PendingAck>();
  private readonly uac: UacCore;
  private closed = false;

  private constructor(actor: string, transport: SipTransport, options: SipStackOptions) {
    super();
    this.actor = actor;
    this.transport = transport;
    this.timers = resolveTimers(options.timers);
    this.clock = options.clock ?? options.boundary?.clock ?? systemClock;
    this.autoTrying = options.autoTrying ?? true;
    this.tryingAfterMs = options.tryingAfterMs ?? AUTO_TRYING_AFTER_MS;
    this.lingering = new ExpiryQueues(this.clock, (remnant) => {
      const table: Map<string, unknown> = remnant.side === 'client' ? this.clientTxns : this.serverTxns;
      if (table.get(remnant.key) === remnant) table.delete(remnant.key);
      remnant.expire();
    });
    this.uac = new UacCore({
      clock: this.clock,
      timers: this.timers,
      via: (kind) => this.viaFor(kind, newBranch()),
      send: (bytes, target) => this.transport.send(bytes, target),
      nextHop: (dialog) => this.dialogTarget(dialog),
      isOwnRoute: (route) => this.isOwnUri(route),
    });
    transport.on('message', (m) => this.dispatch(m));
  }

  static async start(options: SipStackOptions): Promise<SipStack> {
    const bindOptions: Parameters<typeof SipTransport.bind>[0] = { address: options.address, actor: options.actor };
    if (options.udpPort !== undefined) bindOptions.udpPort = options.udpPort;
    if (options.tcpPort !== undefined) bindOptions.tcpPort = options.tcpPort;
    if (options.trace !== undefined) bindOptions.trace = options.trace;
    if (options.limits !== undefined) bindOptions.limits = options.limits;
    if (options.boundary !== undefined) bindOptions.boundary = options.boundary;
    if (options.watch !== undefined) bindOptions.watch = options.watch;
    if (options.tap !== undefined) bindOptions.tap = options.tap;
    const transport = await SipTransport.bind(bindOptions);
    return new SipStack(options.actor, transport, options);
  }

  /** `sip:actor@127.0.0.1:5060;transport=tcp` for the bound socket of that transport. */
  contactFor(transport: TransportKind): string {
    const local = this.localEndpoint(transport);
    return `sip:${this.actor}@${hostText(local.address)}:${local.port};transport=${transport}`;
  }

  /** Top Via value for a request we send: `SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK…`. */
  viaFor(transport: TransportKind, branch: string): string {
    const local = this.localEndpoint(transport);
    return `SIP/2.0/${transport.toUpperCase()} ${hostText(local.address)}:${local.port};branch=${branch}`;
  }

  private localEndpoint(transport: TransportKind): { address: string; port: number } {
    const local = transport === 'udp' ? this.transport.udp : this.transport.tcp;
    return local ?? { address: '0.0.0.0', port: 0 };
  }

  // -------------------------------------------------------------------------------------------
  // Client side

  /** Starts a client transaction for the request as built (its top Via branch is the key). */
  sendRequest(request: SipRequest, target: Target): ClientTransaction {
    const io = this.ioFor({ ...target }, target.transport === 'tcp', this.clientTxns);
    const identity = transactionIdentity(request);
    const branch = identity.ok ? identity.value.branch : undefined;
    const txn = request.method === 'INVITE' ? new InviteClientTransaction(request, branch ?? '', io) : new NonInviteClientTransaction(request, branch ?? '', io);
    if (request.method === 'ACK') {
      txn.abort(harnessError('SIP_ACK_WITHOUT_TRANSACTION', 'ACK has no client transaction: use sendAck (2xx) or let the INVITE transaction ACK non-2xx'));
      return txn;
    }
    if (branch === undefined || this.closed) {
      const why = this.closed ? 'the stack is closed' : `no top Via branch to match responses on (${identity.diagnostics.map((d) => d.code).join(', ') || 'no branch'})`;
      txn.abort(harnessError('SIP_UNMATCHABLE_REQUEST', `cannot start a transaction: ${why}`, txn.requestBytes));
      return txn;
    }
    this.clientTxns.set(txn.key, txn);
    txn.start();
    return txn;
  }

  /**
   * An INVITE whose every 2xx the UAC core ACKs (§13.2.2.4) in the dialog it creates, with a fresh
   * branch, to the dialog's next hop, and re-ACKs when it is retransmitted; `ack` holds the first
   * ACK (`{ afterMs }`: retransmissions meanwhile go unanswered) or withholds it (`'never'`);
   * `onAck` sees the first ACK just before it goes out. A non-2xx final is ACKed by the transaction (§17.1.1.3).
   */
  sendInvite(request: SipRequest, target: Target, options: { ack?: AckPolicy; onAck?: (ack: SipRequest) => void } = {}): InviteClient {
    const transaction = this.sendRequest(request, target);
    const policy = options.ack ?? 'auto';
    let first: Promise<AcceptedInvite | null> | undefined;
    // The first final only: later 2xx (retransmissions, forks) reach the UAC core from onResponse.
    transaction.once('final', (response) => {
      if (response.status >= 200 && response.status < 300) first = this.uac.on2xx(request, response, target, policy, options.onAck);
    });
    const accepted = transaction.result.then((outcome) => (outcome.kind === 'response' && outcome.response.status < 300 && first !== undefined ? first : null));
    return { transaction, accepted };
  }

  /**
   * An in-dialog request (§12.2.1.1) with this stack's Via for the next hop's transport, sent to
   * the first route or the remote target. Without a usable next hop (a name, which the harness
   * never resolves; a tel: target; an unsupported transport) nothing is sent and `failure` says why.
   */
  sendInDialog(dialog: Dialog, method: string, options: Omit<InDialogRequestOptions, 'via'> = {}): InDialogSend {
    const hop = this.dialogTarget(dialog);
    const via = this.viaFor(typeof hop === 'string' ? 'udp' : hop.transport, newBranch());
    const request = dialog.createRequest(method, { ...options, via });
    if (typeof hop === 'string') return { request, failure: hop };
    return { request, transaction: this.sendRequest(request, hop) };
  }

  /** Where the dialog's next request goes, or why it cannot go anywhere (the harness resolves no names). */
  dialogTarget(dialog: Dialog): Target | string {
    const hop = dialog.nextHop();
    if (!hop.ok) return hop.diagnostics.map((d) => d.message).join('; ') || 'no next hop';
    if (isIP(hop.value.address) === 0) return `next hop ${hop.value.uri} names a host, and the harness resolves no names (RFC 3263 would need DNS): route the dialog through an address`;
    return { transport: hop.value.transport, address: hop.value.address, port: hop.value.port };
  }

  /** Whether a Route/Record-Route value (or URI) names one of this stack's own listen addresses. */
  isOwnUri(value: string): boolean {
    const named = parseNameAddr(value);
    const uri = parseSipUri(named.ok ? named.value.uri : value);
    if (!uri.ok || uri.value.scheme === 'tel') return false;
    const host = bareAddress(uri.value.host).toLowerCase();
    const port = uri.value.port ?? 5060;
    return [this.transport.udp, this.transport.tcp].some((local) => local !== undefined && local.port === port && bareAddress(local.address).toLowerCase() === host);
  }

  /** ACK for a 2xx sent by the caller itself, outside any transaction (§13.2.2.4); sendInvite does it for you. */
  sendAck(ack: SipRequest, target: Target): Promise<SendResult> {
    return this.transport.send(serializeSipMessage(ack, { contentLength: 'compute' }), target);
  }

  /** Exactly these bytes (a message is serialized verbatim, Content-Length as given). */
  sendStateless(message: SipMessage | Buffer, target: Target): Promise<SendResult> {
    const bytes = Buffer.isBuffer(message) ? message : serializeSipMessage(message, { contentLength: 'verbatim' });
    return this.transport.send(bytes, target);
  }

  /**
   * Transaction I/O towards one peer; on TCP it sticks to the connection the first send used. A
   * transaction entering its last wait state is replaced in `table` by its Remnant until the timer.
   */
  private ioFor<T extends ClientTransaction | ServerTransaction>(target: Target, reliable: boolean, table: Map<string, T | Remnant<T>>): TransactionIo {
    return {
      clock: this.clock,
      timers: this.timers,
      reliable,
      send: async (bytes: Buffer): Promise<SendOutcome> => {
        const sent = await this.transport.send(bytes, target);
        if (!sent.ok) return sent;
        if (sent.connectionId !== undefined) target.connectionId = sent.connectionId;
        return { ok: true };
      },
      retire: (remnant, afterMs) => {
        if (this.closed) return;
        const owned = remnant as Remnant<T>;
        if (table.get(owned.key) === owned.transaction) table.set(owned.key, owned);
        this.lingering.add(afterMs, remnant);
      },
      terminated: (txn) => {
        if (table.get(txn.key) === txn) table.delete(txn.key);
      },
    };
  }

  /** A table entry, or undefined for a remnant that has ended (a failed resend) and is dropped. */
  private static current<T extends ClientTransaction | ServerTransaction>(table: Map<string, T | Remnant<T>>, key: string): T | Remnant<T> | undefined {
    const entry = table.get(key);
    if (entry instanceof Remnant && entry.ended) {
      table.delete(key);
      return undefined;
    }
    return entry;
  }

  // -------------------------------------------------------------------------------------------
  // Inbound dispatch

  private dispatch(inbound: InboundMessage): void {
    if (this.closed) return;
    const source: RequestSource = {
      transport: inbound.transport,
      local: inbound.local,
      remote: inbound.remote,
      ...(inbound.connectionId !== undefined ? { connectionId: inbound.connectionId } : {}),
    };
    const { parsed } = inbound;
    const message = parsed.message;
    if (message === null) {
      this.emit('invalid', parsed, source);
      return;
    }
    if (hasErrors(parsed.diagnostics)) this.emit('invalid', parsed, source);
    if (message.kind === 'response') this.onResponse(message, parsed, source);
    else this.onRequest(message, parsed, source);
  }

  private onResponse(response: SipResponse, parsed: ParsedSip, source: RequestSource): void {
    const identity = transactionIdentity(response);
    const txn = identity.ok && identity.value.branch !== undefined ? SipStack.current(this.clientTxns, clientKey(identity.value.branch, identity.value.cseqMethod)) : undefined;
    if (!identity.ok && !hasErrors(parsed.diagnostics)) this.emit('invalid', { ...parsed, diagnostics: [...parsed.diagnostics, ...identity.diagnostics] }, source);
    const is2xx = response.status >= 200 && response.status < 300;
    if (txn === undefined) {
      // A 2xx retransmitted after its transaction ended still gets its ACK again (§13.2.2.4).
      if (is2xx && this.uac.knows(response)) this.uac.reAck(response);
      this.emit('stray-response', response, source);
      return;
    }
    const repeat2xx = txn.state === 'accepted' && is2xx;
    // RFC 6026 Accepted: the UAC core ACKs the repeat (or the fork) of an INVITE sent with sendInvite.
    if (repeat2xx && txn instanceof Remnant) this.uac.onRepeated2xx(response);
    txn.receive(response);
    if (repeat2xx) this.emit('2xx-retransmission', response, txn instanceof Remnant ? txn.transaction : txn);
  }

  private onRequest(request: SipRequest, parsed: ParsedSip, source: RequestSource): void {
    const identity = transactionIdentity(request);
    const viaValue = firstHeaderValue(request, 'via');
    const via = viaValue === undefined ? undefined : parseVia(viaValue);
    if (!identity.ok || via === undefined || !via.ok) {
      // Without a Via and CSeq there is no transaction and nowhere to answer: report only.
      if (!hasErrors(parsed.diagnostics)) this.emit('invalid', { ...parsed, diagnostics: [...parsed.diagnostics, ...identity.diagnostics] }, source);
      return;
    }
    const key = serverKey(request, identity.value);
    const existing = SipStack.current(this.serverTxns, key);
    if (request.method === 'ACK') {
      if (existing instanceof Remnant) {
        existing.receive(request);
        return;
      }
      const outcome = existing?.receive(request);
      if (outcome === undefined || outcome === 'pass-to-core') this.onAckFor2xx(request, source);
      return;
    }
    if (existing !== undefined) {
      existing.receive(request);
      return;
    }
    const stamped = stampTopVia(request, via.value, source);
    const io = this.ioFor(responseTarget(source, via.value), source.transport === 'tcp', this.serverTxns);
    const fatal = hasErrors(parsed.diagnostics);
    let txn: ServerTransaction;
    if (request.method === 'INVITE') {
      const options: ConstructorParameters<typeof InviteServerTransaction>[5] = { onInvite2xx: (t, r) => this.start2xxRetransmission(t, r, io) };
      // A request with fatal diagnostics is left entirely to the TU: no automatic 100.
      if (this.autoTrying && !fatal) options.tryingAfterMs = this.tryingAfterMs;
      txn = new InviteServerTransaction(stamped, parsed, source, key, io, options);
    } else {
      txn = new NonInviteServerTransaction(stamped, parsed, source, key, io);
    }
    this.serverTxns.set(key, txn);
    if (request.method === 'CANCEL') this.onCancel(txn, identity.value, fatal);
    else this.emit('request', txn);
  }

  /** §9.2: 200 to the CANCEL, 487 to the INVITE if it has no final yet; 481 when nothing matches. */
  private onCancel(cancel: ServerTransaction, identity: Parameters<typeof serverKey>[1], fatal: boolean): void {
    // INVITE server transactions are never reduced to remnants (the UAS core names them in its events).
    const found = this.serverTxns.get(serverKey(cancel.request, identity, 'INVITE'));
    const invite = found instanceof Remnant ? found.transaction : found;
    this.emit('cancel', cancel, invite);
    if (invite === undefined) {
      if (!fatal) cancel.respond(buildResponse(cancel.request, 481));
      return;
    }
    // A CANCEL after the final has no effect on the INVITE (§9.2) but is still answered 200.
    const pending = invite.state === 'proceeding';
    if (invite.autoCancel && !fatal) {
      // The CANCEL's 200 and the INVITE's 487 share the To tag of any provisional already sent.
      const toTag = tagOf(headerValue(invite.provisionalResponse ?? invite.request, 'to') ?? '');
      const tagOption = toTag === undefined ? {} : { toTag };
      cancel.respond(buildResponse(cancel.request, 200, undefined, tagOption));
      if (pending) invite.respond(buildResponse(invite.request, 487, undefined, tagOption));
    }
    if (pending || !invite.autoCancel) invite.emit('cancelled', cancel);
  }

  // -------------------------------------------------------------------------------------------
  // UAS core: 2xx reliability (§13.3.1.4)

  private start2xxRetransmission(txn: ServerTransaction, response: SipResponse, io: TransactionIo): void {
    const key = ackKey(response);
    if (key === undefined) return;
    const bytes = serializeSipMessage(response, { contentLength: 'compute' });
    const pending: PendingAck = { txn, response, acked: false };
    this.pendingAcks.get(key)?.retransmit?.cancel();
    this.pendingAcks.set(key, pending);
    // Independent of transport: the 2xx is retransmitted even over TCP.
    const arm = (interval: number): void => {
      pending.retransmit = this.clock.setTimer(interval, () => {
        if (pending.acked || this.closed) return;
        void io.send(bytes);
        arm(Math.min(2 * interval, this.timers.t2));
      });
    };
    arm(this.timers.t1);
    pending.deadline = this.clock.setTimer(transactionTimeout(this.timers), () => {
      pending.retransmit?.cancel();
      if (this.pendingAcks.get(key) === pending) this.pendingAcks.delete(key);
      if (pending.acked) return;
      txn.emit('ack-timeout');
      this.emit('ack-timeout', txn, response);
    });
  }

  private onAckFor2xx(ack: SipRequest, source: RequestSource): void {
    const key = ackKey(ack);
    const pending = key === undefined ? undefined : this.pendingAcks.get(key);
    if (pending === undefined) {
      this.emit('ack', ack, { source });
      return;
    }
    if (!pending.acked) {
      pending.acked = true;
      pending.retransmit?.cancel();
      pending.txn.emit('ack', ack);
    }
    // Kept until the deadline so a repeated ACK still names its transaction.
    this.emit('ack', ack, { source, transaction: pending.txn });
  }

  // -------------------------------------------------------------------------------------------

  /** Stops every timer and closes every socket; listeners are kept but nothing fires again. */
  async close(): Promise<void> {
    this.closed = true;
    this.uac.close();
    for (const txn of this.clientTxns.values()) if (!(txn instanceof Remnant)) txn.stop();
    for (const txn of this.serverTxns.values()) if (!(txn instanceof Remnant)) txn.stop();
    this.lingering.clear();
    for (const p of this.pendingAcks.values()) {
      p.retransmit?.cancel();
      p.deadline?.cancel();
    }
    this.clientTxns.clear();
    this.serverTxns.clear();
    this.pendingAcks.clear();
    await this.transport.close();
  }
}

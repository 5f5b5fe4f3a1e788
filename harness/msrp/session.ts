/**
 * MSRP session engine over TCP, symmetric: the fake network (PF) and a reference client both use it.
 * The pure codec does the protocol; this module owns sockets, timers, policy and trace events.
 * Every wait is bounded by a Clock timer, and operational failures are values (HarnessError).
 *
 * RFC behaviour, each switchable through MsrpPolicy for deliberately broken peers:
 * - the active side connects to the first URI of the peer's path and binds with a SEND (§5.4);
 * - an incoming request whose first To-Path URI is not the local URI gets 481 and binds nothing (§7.3);
 * - SEND: 200 unless Failure-Report is `no`; `partial` means errors only (§7.2);
 * - Success-Report: yes ⇒ one REPORT per complete message (§7.1.2); REPORTs get no response;
 * - unknown methods get 501.
 */
import net from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { diagnostic, harnessError, type Diagnostic, type HarnessError } from '../core/diagnostic.ts';
import { randomToken } from '../core/ids.ts';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';
import { NO_BOUNDARY, type FaultBoundary, type PeerWatch, type WireFaultKind } from '../core/scope.ts';
import { discardTrace, discardsMessages, stamp, type ConnectionState, type ConnectionTraceEvent, type Direction, type Endpoint, type MessageTraceEvent, type TraceSink } from '../core/trace.ts';
import { wireLink, type WireLink, type WireTap } from '../core/wire-tap.ts';
import { chunkMessage } from './chunker.ts';
import { msrpHeader, summarizeFrame, type FailureReport, type MsrpFrame, type MsrpHeader, type MsrpRequest, type MsrpResponse, type SuccessReport } from './frame.ts';
import { MsrpStreamParser, type ParsedMsrpFrame } from './parser.ts';
import { Reassembler } from './reassembly.ts';
import { answers, reportsSuccess, RFC_POLICY, sendAnswer, tooLargeAnswer, type MsrpPolicy } from './response-policy.ts';
import { MsrpTransactions, type TransactionOutcome } from './transactions.ts';
import { buildReport, buildResponse, buildSend, newMessageId, serializeMsrpFrame } from './serializer.ts';
import { formatMsrpUri, msrpUrisEqual, parseMsrpPath, parseMsrpUri, readMsrpPath, type MsrpUri } from './uri.ts';

export { RFC_POLICY, type MsrpPolicy, type SendResponder } from './response-policy.ts';
export type { TransactionOutcome } from './transactions.ts';

export interface MsrpSessionOptions {
  /** Host/port to listen on or advertise; port 0 = ephemeral (the real URI is known after listen/connect). */
  localUri: MsrpUri;
  role: 'active' | 'passive';
  remotePath?: MsrpUri[];
  actor?: string;
  trace?: TraceSink;
  clock?: Clock;
  /** Default 30000 (msrplib, msrp4j and rcsjta all use 30 s). */
  transactionTimeoutMs?: number;
  /** Default 2048 octets per chunk. */
  chunkSize?: number;
  policy?: Partial<MsrpPolicy>;
  /** Largest chunk body accepted; default limits.msrpChunkBytes. */
  maxBodyBytes?: number;
  /** msrpChunkBytes and msrpMessageBytes; default DEFAULT_LIMITS. */
  limits?: Partial<Pick<Limits, 'msrpChunkBytes' | 'msrpMessageBytes'>>;
  /** The a=max-size this side advertised in its SDP (RFC 4975 §8.6), if any. */
  maxSize?: number;
  /** The test case's fault boundary: socket handlers guarded, the session closed with the case. */
  boundary?: FaultBoundary;
  /** Set on the side that faces the client under test: its message rate, connections and broken frames. */
  watch?: PeerWatch;
  /** A chaos client's tap on its connections (core/wire-tap.ts). */
  tap?: WireTap;
}


export interface ChunkOutcome {
  transactionId: string;
  byteRange: string;
  flag: MsrpRequest['flag'];
  /** null when no response was expected (Failure-Report no/partial). */
  response: MsrpResponse | null;
  error?: HarnessError;
}

export interface SendOutcome {
  ok: boolean;
  messageId: string;
  chunks: ChunkOutcome[];
  error?: HarnessError;
}

export interface OutgoingMessage {
  body: Buffer;
  contentType: string;
  messageId?: string;
  successReport?: SuccessReport | null;
  failureReport?: FailureReport | null;
  extraHeaders?: MsrpHeader[];
}

export interface MsrpMessageEvent {
  messageId: string;
  body: Buffer;
  contentType: string | undefined;
  transactionIds: string[];
  frames: MsrpRequest[];
  diagnostics: Diagnostic[];
}

export interface MsrpSessionEvents {
  message: MsrpMessageEvent;
  chunk: { request: MsrpRequest; diagnostics: Diagnostic[] };
  response: MsrpResponse;
  report: MsrpRequest;
  frame: { direction: Direction; frame: MsrpFrame | null; raw: Buffer; diagnostics: Diagnostic[] };
  bound: { connectionId: string };
  closed: { by: 'peer' | 'local'; reason: string; connectionId: string; partialBytes?: Buffer };
  error: HarnessError;
  timeout: { transactionId: string };
}

export type EventResult<T> = { ok: true; value: T } | { ok: false; error: HarnessError };

type Listener<T> = (payload: T) => void;

interface Connection {
  id: string;
  socket: net.Socket;
  parser: MsrpStreamParser;
  local: Endpoint;
  remote: Endpoint;
  bound: boolean;
  closedLocally: boolean;
  errorCode?: string;
  done: Promise<void>;
  /** Armed while a frame is unfinished (watched side): framingTimeoutMs from its first octet. */
  framingTimer?: TimerHandle;
  link?: WireLink;
}


const EMPTY = Buffer.alloc(0);

export class MsrpSession {
  /** Set by close(): nothing may listen or connect afterwards. */
  private closed = false;
  private localUri: MsrpUri;
  private remotePath: MsrpUri[] | undefined;
  private readonly role: 'active' | 'passive';
  private readonly actor: string | undefined;
  private readonly trace: TraceSink;
  private readonly clock: Clock;
  private readonly transactionTimeoutMs: number;
  private readonly chunkSize: number;
  private readonly maxBodyBytes: number;
  private readonly policy: MsrpPolicy;
  private readonly listeners = new Map<keyof MsrpSessionEvents, Set<Listener<never>>>();
  private readonly connections = new Set<Connection>();
  private readonly transactions: MsrpTransactions<Connection>;
  /** Requests sent without waiting (Failure-Report no/partial): a late answer is not an error. */
  private readonly reassembler: Reassembler;
  private readonly messageDiagnostics = new Map<string, Diagnostic[]>();
  private server: net.Server | null = null;
  private connection: Connection | null = null;
  private readonly boundary: FaultBoundary;
  private readonly watch: PeerWatch | undefined;
  private readonly tap: WireTap | undefined;
  private readonly disown: () => void;

  private constructor(options: MsrpSessionOptions) {
    this.localUri = options.localUri;
    this.remotePath = options.remotePath;
    this.role = options.role;
    this.actor = options.actor;
    this.trace = options.trace ?? discardTrace;
    this.boundary = options.boundary ?? NO_BOUNDARY;
    this.watch = options.watch;
    this.tap = options.tap;
    this.clock = options.clock ?? options.boundary?.clock ?? systemClock;
    this.disown = this.boundary.own(this);
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 30000;
    this.transactions = new MsrpTransactions(this.clock, this.transactionTimeoutMs);
    this.chunkSize = options.chunkSize ?? 2048;
    this.maxBodyBytes = options.maxBodyBytes ?? options.limits?.msrpChunkBytes ?? DEFAULT_LIMITS.msrpChunkBytes;
    const maxMessageBytes = options.limits?.msrpMessageBytes ?? DEFAULT_LIMITS.msrpMessageBytes;
    this.reassembler = new Reassembler(options.maxSize === undefined ? { maxMessageBytes } : { maxMessageBytes, maxSize: options.maxSize });
    this.policy = { ...RFC_POLICY, ...options.policy };
  }

  static create(options: MsrpSessionOptions): MsrpSession {
    return new MsrpSession(options);
  }

  get uri(): MsrpUri {
    return this.localUri;
  }

  get isBound(): boolean {
    return this.connection !== null;
  }

  on<K extends keyof MsrpSessionEvents>(event: K, listener: Listener<MsrpSessionEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Next event of this kind (matching `filter`) within `timeoutMs` on the session's clock. */
  waitFor<K extends keyof MsrpSessionEvents>(
    event: K,
    timeoutMs: number,
    filter: (payload: MsrpSessionEvents[K]) => boolean = () => true,
  ): Promise<EventResult<MsrpSessionEvents[K]>> {
    return new Promise((resolve) => {
      const off = this.on(event, (payload) => {
        if (!filter(payload)) return;
        off();
        timer.cancel();
        resolve({ ok: true, value: payload });
      });
      const timer = this.clock.setWindow(timeoutMs, () => {
        off();
        resolve({ ok: false, error: harnessError('MSRP_WAIT_TIMEOUT', `no ${event} event within ${timeoutMs} ms`) });
      });
    });
  }

  setRemotePath(path: MsrpUri[]): void {
    this.remotePath = path;
  }

  /** Passive side: listen on localUri's host/port; resolves with the real URI (port filled in). */
  listen(): Promise<EventResult<MsrpUri>> {
    if (this.closed) return Promise.resolve({ ok: false, error: harnessError('MSRP_CLOSED', 'listen() on a closed MSRP session') });
    return new Promise((resolve) => {
      const server = net.createServer(this.boundary.guard('msrp accept', (socket: net.Socket) => this.accept(socket)));
      this.server = server;
      server.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: harnessError('MSRP_LISTEN_FAILED', err.message, EMPTY, err) }));
      server.listen(this.localUri.port ?? 2855, this.localUri.host.replace(/^\[|\]$/g, ''), () => {
        // close() ran while the socket was being bound: do not leave a listener behind.
        if (this.closed) {
          server.close();
          resolve({ ok: false, error: harnessError('MSRP_CLOSED', 'the MSRP session was closed while it started listening') });
          return;
        }
        const address = server.address() as net.AddressInfo;
        this.localUri = { ...this.localUri, port: address.port };
        const endpoint = { address: address.address, port: address.port };
        this.traceConnection('listening', `listening for ${formatMsrpUri(this.localUri)}`, endpoint, { address: '', port: 0 });
        resolve({ ok: true, value: this.localUri });
      });
    });
  }

  /**
   * Active side: TCP to the first URI of the peer's path, then the binding SEND (§5.4; empty unless
   * `bind: 'none'`), waiting for its response. A port-0 local URI takes the socket's local port.
   */
  async connect(remotePath: MsrpUri[], options: { bind?: 'empty-send' | 'none'; timeoutMs?: number } = {}): Promise<TransactionOutcome> {
    this.remotePath = remotePath;
    const target = remotePath[0];
    if (!target) return { ok: false, error: harnessError('MSRP_NO_PATH', 'empty remote path') };
    if (this.closed) return { ok: false, error: harnessError('MSRP_CLOSED', 'connect() on a closed MSRP session') };
    const timeoutMs = options.timeoutMs ?? this.transactionTimeoutMs;
    const socket = await new Promise<EventResult<net.Socket>>((resolve) => {
      const s = net.connect({ host: target.host.replace(/^\[|\]$/g, ''), port: target.port ?? 2855 });
      const timer = this.clock.setWindow(timeoutMs, () => {
        s.destroy();
        resolve({ ok: false, error: harnessError('MSRP_CONNECT_TIMEOUT', `no TCP connection to ${formatMsrpUri(target)} within ${timeoutMs} ms`) });
      });
      s.once('connect', () => {
        timer.cancel();
        resolve({ ok: true, value: s });
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        timer.cancel();
        this.traceConnection('error', err.code ?? err.message, { address: '', port: 0 }, { address: target.host, port: target.port ?? 2855 });
        resolve({ ok: false, error: harnessError('MSRP_CONNECT_FAILED', err.message, EMPTY, err) });
      });
    });
    if (!socket.ok) return socket;
    if (this.closed) {
      socket.value.destroy();
      return { ok: false, error: harnessError('MSRP_CLOSED', 'the MSRP session was closed while connecting') };
    }
    if (this.localUri.port === 0) this.localUri = { ...this.localUri, port: socket.value.localPort ?? 0 };
    const connection = this.adopt(socket.value, 'connected');
    this.bind(connection);
    if (options.bind === 'none') return { ok: true, response: null };
    const bindSend = buildSend({ toPath: remotePath, fromPath: this.localUri, body: null });
    return this.transact(connection, bindSend, true);
  }

  /** Chunks and sends a message, one transaction per chunk, stopping at the first failure. */
  async send(message: OutgoingMessage): Promise<SendOutcome> {
    const messageId = message.messageId ?? newMessageId();
    const connection = this.connection;
    if (!connection || !this.remotePath) {
      return { ok: false, messageId, chunks: [], error: harnessError('MSRP_NOT_BOUND', 'no bound connection or no remote path yet') };
    }
    const awaitResponse = (message.failureReport ?? 'yes') === 'yes';
    const chunks: ChunkOutcome[] = [];
    for (const chunk of chunkMessage(message.body, { chunkSize: this.chunkSize })) {
      const frame = buildSend({
        toPath: this.remotePath,
        fromPath: this.localUri,
        body: chunk.body,
        contentType: message.contentType,
        messageId,
        byteRange: chunk.byteRange,
        successReport: message.successReport ?? null,
        failureReport: message.failureReport ?? null,
        flag: chunk.flag,
        extraHeaders: message.extraHeaders ?? [],
      });
      const outcome = await this.transact(connection, frame, awaitResponse);
      const entry: ChunkOutcome = { transactionId: frame.transactionId, byteRange: chunk.byteRange, flag: chunk.flag, response: outcome.ok ? outcome.response : (outcome.response ?? null) };
      if (!outcome.ok) entry.error = outcome.error;
      chunks.push(entry);
      if (!outcome.ok) return { ok: false, messageId, chunks, error: outcome.error };
    }
    return { ok: true, messageId, chunks };
  }

  /** Sends any frame as built (requests wait for their response unless expectResponse is false). */
  sendFrame(frame: MsrpFrame, options: { verbatim?: boolean; expectResponse?: boolean } = {}): Promise<TransactionOutcome> {
    const connection = this.connection ?? [...this.connections][0];
    if (!connection) return Promise.resolve({ ok: false, error: harnessError('MSRP_NOT_CONNECTED', 'no connection') });
    const bytes = serializeMsrpFrame(frame, { verbatim: options.verbatim ?? false });
    if (frame.kind === 'response') return this.write(connection, bytes).then((r) => (r.ok ? { ok: true, response: null } : r));
    return this.transact(connection, frame, options.expectResponse ?? true, bytes);
  }

  /** Writes exact bytes (odd or malformed frames); traced as one outgoing message. */
  async sendRaw(bytes: Buffer): Promise<EventResult<void>> {
    const connection = this.connection ?? [...this.connections][0];
    if (!connection) return { ok: false, error: harnessError('MSRP_NOT_CONNECTED', 'no connection') };
    return this.write(connection, bytes);
  }

  /** Closes every connection and the listener; resolves when the sockets are closed. */
  async close(): Promise<void> {
    this.closed = true;
    this.disown();
    const closing = [...this.connections].map((c) => {
      c.closedLocally = true;
      c.socket.end();
      const timer = this.clock.setTimer(1000, () => c.socket.destroy());
      return c.done.then(() => timer.cancel());
    });
    if (this.server) {
      const server = this.server;
      this.server = null;
      closing.push(new Promise((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closing);
  }

  // ---- internals ----

  /** Listeners as they were when the event happened (one added or removed meanwhile does not change who hears it). */
  private emit<K extends keyof MsrpSessionEvents>(event: K, payload: MsrpSessionEvents[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined || set.size === 0) return;
    if (set.size === 1) {
      // The usual case: no snapshot array needed for one listener.
      for (const l of set) return (l as Listener<MsrpSessionEvents[K]>)(payload);
    }
    for (const l of [...set]) (l as Listener<MsrpSessionEvents[K]>)(payload);
  }

  /** An inbound connection: refused (and traced) once the client has opened more than connectionsPerCase. */
  private accept(socket: net.Socket): void {
    if (this.watch && !this.watch.admitConnection('msrp')) {
      const local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
      const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      socket.on('error', () => {});
      socket.destroy();
      this.traceConnection('error', 'refused: the client opened more connections than connectionsPerCase', local, remote);
      return;
    }
    this.adopt(socket, 'accepted');
  }

  private adopt(socket: net.Socket, state: 'accepted' | 'connected'): Connection {
    let markDone: () => void = () => {};
    const connection: Connection = {
      id: `msrp-${randomToken(4)}`,
      socket,
      parser: new MsrpStreamParser({ maxBodyBytes: this.maxBodyBytes }),
      local: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
      remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      bound: false,
      closedLocally: false,
      done: new Promise((resolve) => (markDone = resolve)),
    };
    this.connections.add(connection);
    socket.setNoDelay(true);
    this.traceConnection(state, state === 'accepted' ? 'incoming TCP connection' : 'TCP connection established', connection.local, connection.remote, connection.id);
    if (this.tap) {
      connection.link = wireLink('msrp', connection.id, socket);
      this.tap.opened?.(connection.link);
    }
    socket.on(
      'data',
      this.boundary.guard('msrp data', (data: Buffer) => {
        if (connection.link) this.tap?.inbound?.(data, connection.link);
        const items = connection.parser.push(data);
        for (const item of items) {
          // A client over messagesPerSecond: the rest of what it sends is dropped, unanswered.
          if (this.watch && !this.watch.admitMessage('msrp', connection.id)) continue;
          this.incoming(connection, item);
        }
        if (this.watch) this.watchFraming(connection, items.length > 0);
      }),
    );
    socket.on('end', () => socket.end());
    socket.on(
      'error',
      this.boundary.guard('msrp socket error', (err: NodeJS.ErrnoException) => {
        connection.errorCode = err.code ?? err.message;
        this.emit('error', harnessError('MSRP_SOCKET_ERROR', err.message, EMPTY, err));
      }),
    );
    socket.on('close', this.boundary.guard('msrp close', () => this.onClose(connection, markDone)));
    return connection;
  }

  /** A frame left unfinished framingTimeoutMs after its first octet, on the watched side, is a wire fault. */
  private watchFraming(connection: Connection, completed: boolean): void {
    const watch = this.watch!;
    const pending = connection.parser.pendingLength;
    if (pending === 0 || completed) {
      connection.framingTimer?.cancel();
      connection.framingTimer = undefined;
    }
    if (pending === 0 || connection.framingTimer !== undefined) return;
    const timeout = watch.framingTimeoutMs;
    connection.framingTimer = this.clock.setTimer(timeout, () => {
      connection.framingTimer = undefined;
      if (connection.socket.destroyed || connection.parser.pendingLength === 0) return;
      const left = connection.parser.pending();
      const garbage = !left.subarray(0, 5).equals(Buffer.from('MSRP ', 'latin1').subarray(0, Math.min(5, left.length)));
      watch.wireFault({
        kind: garbage ? 'msrp-framing' : 'msrp-incomplete',
        protocol: 'msrp',
        connectionId: connection.id,
        diagnostic: garbage
          ? diagnostic('MSRP_GARBAGE', `${left.length} octets that are not an MSRP frame, and no frame after them ${timeout} ms later (framingTimeoutMs)`, 'RFC 4975 §7.1', { bytes: left })
          : diagnostic('MSRP_INCOMPLETE_FRAME', `${left.length} octets of a frame without its end-line ${timeout} ms after its first octet (framingTimeoutMs)`, 'RFC 4975 §7.1', { bytes: left }),
      });
    });
  }

  /** A wire fault of the client, on the watched side. */
  private peerFault(connection: Connection, d: Diagnostic): void {
    const kind = MSRP_FAULTS[d.code];
    if (this.watch && kind !== undefined) this.watch.wireFault({ kind, protocol: 'msrp', connectionId: connection.id, diagnostic: d });
  }

  private onClose(connection: Connection, markDone: () => void): void {
    connection.framingTimer?.cancel();
    const leftovers = connection.parser.end();
    const partial = leftovers.length === 0 ? undefined : Buffer.concat(leftovers.map((l) => l.raw));
    for (const item of leftovers) this.emit('frame', { direction: 'in', frame: item.frame, raw: item.raw, diagnostics: item.diagnostics });
    const by = connection.closedLocally ? 'local' : 'peer';
    const reset = connection.errorCode === 'ECONNRESET';
    const reason =
      by === 'local'
        ? 'closed locally'
        : `${reset ? 'peer reset the connection' : 'peer closed the connection'}${partial ? ` mid-chunk (${partial.length} bytes of an unfinished frame)` : ''}`;
    const fields: Omit<ConnectionTraceEvent, 'seq' | 'monotonicMs' | 'wallClockMs'> = {
      kind: 'connection',
      protocol: 'msrp',
      transport: 'tcp',
      local: connection.local,
      remote: connection.remote,
      connectionId: connection.id,
      state: reset ? 'reset' : 'closed',
      reason,
      ...(this.actor === undefined ? {} : { actor: this.actor }),
      ...(partial === undefined ? {} : { bytes: partial }),
    };
    this.trace(stamp<ConnectionTraceEvent>(fields));
    this.connections.delete(connection);
    if (this.connection === connection) this.connection = null;
    // The client closed or reset the connection inside a frame: it broke the frame, not the PF.
    const broken = leftovers.flatMap((l) => l.diagnostics).find((d) => MSRP_FAULTS[d.code] !== undefined);
    if (by === 'peer' && broken !== undefined) this.peerFault(connection, broken);
    this.transactions.failConnection(connection, partial ?? EMPTY);
    this.emit('closed', { by, reason, connectionId: connection.id, ...(partial === undefined ? {} : { partialBytes: partial }) });
    markDone();
  }

  private bind(connection: Connection): void {
    connection.bound = true;
    this.connection = connection;
    this.emit('bound', { connectionId: connection.id });
  }

  private incoming(connection: Connection, item: ParsedMsrpFrame): void {
    const fatal = item.diagnostics.find((d) => MSRP_FAULTS[d.code] !== undefined);
    if (fatal !== undefined) this.peerFault(connection, fatal);
    if (item.frame === null) {
      this.traceConnection('garbage', item.diagnostics.map((d) => d.code).join(', '), connection.local, connection.remote, connection.id, item.raw);
      this.emit('frame', { direction: 'in', frame: null, raw: item.raw, diagnostics: item.diagnostics });
      const first = item.diagnostics[0];
      this.emit('error', harnessError(first?.code ?? 'MSRP_GARBAGE', first?.message ?? 'unparsable bytes', item.raw));
      return;
    }
    this.traceMessage(connection, 'in', item.raw, item.frame, item.diagnostics);
    this.emit('frame', { direction: 'in', frame: item.frame, raw: item.raw, diagnostics: item.diagnostics });
    const frame = item.frame;
    if (frame.kind === 'response') {
      if (!this.transactions.settle(frame, item.raw)) {
        this.emit('error', harnessError('MSRP_UNMATCHED_RESPONSE', `response to unknown transaction ${frame.transactionId}`, item.raw));
      }
      this.emit('response', frame);
      return;
    }
    this.request(connection, frame, item.diagnostics);
  }

  private request(connection: Connection, request: MsrpRequest, diagnostics: Diagnostic[]): void {
    const toPath = readMsrpPath(msrpHeader(request, 'To-Path') ?? '');
    const addressedToUs = toPath.ok && msrpUrisEqual(toPath.value[0]!, this.localUri);
    if (!addressedToUs) {
      this.answer(connection, request, 481, undefined, true);
      return;
    }
    if (!connection.bound) {
      if (this.connection && this.connection !== connection) {
        this.answer(connection, request, 506, undefined, true);
        return;
      }
      this.bind(connection);
      if (!this.remotePath) {
        const from = parseMsrpPath(msrpHeader(request, 'From-Path') ?? '');
        if (from.ok) this.remotePath = from.value;
      }
    }
    if (request.method === 'SEND') return this.handleSend(connection, request, diagnostics);
    if (request.method === 'REPORT') {
      this.emit('report', request);
      if (this.policy.respondToReport) this.answer(connection, request, 200, undefined, false);
      return;
    }
    this.answer(connection, request, this.policy.unknownMethodStatus, undefined, true);
  }

  private handleSend(connection: Connection, request: MsrpRequest, diagnostics: Diagnostic[]): void {
    const malformed = diagnostics.some((d) => d.severity === 'error' && /TO_PATH|FROM_PATH|BAD_URI|BAD_BYTE_RANGE|START_LINE/.test(d.code));
    const chunkTooLarge = diagnostics.some((d) => d.code === 'MSRP_CHUNK_TOO_LARGE' || d.code === 'MSRP_BODY_TOO_LARGE');
    // Reassembly first: a message that crosses a limit is answered 413, not 200 (RFC 4975 §7.3.1).
    const messageId = msrpHeader(request, 'Message-ID') ?? '';
    const result = request.body === null || malformed || chunkTooLarge ? undefined : this.reassembler.add(request);
    const tooLarge = chunkTooLarge || result?.refused !== undefined;
    const refusal = result?.refused === undefined ? undefined : result.diagnostics.find((d) => MSRP_FAULTS[d.code] !== undefined);
    if (refusal !== undefined) this.peerFault(connection, refusal);
    const decision = tooLarge ? tooLargeAnswer(this.policy, request) : sendAnswer(this.policy, request, malformed);
    if (decision) this.answer(connection, request, decision.status, decision.comment, decision.status >= 300);
    this.emit('chunk', { request, diagnostics: result?.refused ? [...diagnostics, ...result.diagnostics] : diagnostics });
    if (result === undefined) return;
    const collected = this.messageDiagnostics.get(messageId) ?? [];
    collected.push(...diagnostics);
    collected.push(...result.diagnostics);
    this.messageDiagnostics.set(messageId, collected);
    if (result.aborted || result.refused) this.messageDiagnostics.delete(messageId);
    if (!result.complete) return;
    this.messageDiagnostics.delete(messageId);
    const message = result.complete;
    this.emit('message', {
      messageId: message.messageId,
      body: message.body,
      contentType: message.contentType,
      transactionIds: message.frames.map((f) => f.transactionId),
      frames: message.frames,
      diagnostics: collected,
    });
    const first = message.frames[0]!;
    if (reportsSuccess(this.policy, first)) {
      const total = message.body.length;
      const report = buildReport(first, 200, { localUri: this.localUri, byteRange: { start: 1, end: total, total } });
      void this.transact(connection, report, false);
    }
  }

  /** Error answers (481, 501, 506) obey the SEND policy too, so a silent peer can be built. */
  private answer(connection: Connection, request: MsrpRequest, status: number, comment: string | undefined, isError: boolean): void {
    if (!answers(this.policy, request, isError)) return;
    const built = buildResponse(request, status, comment, { localUri: this.localUri });
    const response = this.policy.reshapeResponse ? this.policy.reshapeResponse(built, request) : built;
    void this.write(connection, serializeMsrpFrame(response), response);
  }

  private transact(connection: Connection, frame: MsrpRequest, awaitResponse: boolean, bytes = serializeMsrpFrame(frame)): Promise<TransactionOutcome> {
    const transaction = this.transactions.start(frame.transactionId, connection, awaitResponse, () => {
      this.traceConnection('timeout', `no response to transaction ${frame.transactionId} within ${this.transactionTimeoutMs} ms`, connection.local, connection.remote, connection.id);
      this.emit('timeout', { transactionId: frame.transactionId });
    });
    void this.write(connection, bytes, frame).then(transaction.written);
    return transaction.outcome;
  }

  /** One socket write per frame, so captures show one MSRP PDU per TCP segment. */
  private write(connection: Connection, bytes: Buffer, frame?: MsrpFrame): Promise<EventResult<void>> {
    let parsed: ParsedMsrpFrame[] = [];
    if (frame === undefined) {
      const parser = new MsrpStreamParser();
      parsed = [...parser.push(bytes), ...parser.end()];
    }
    const shown = frame ?? parsed.find((p) => p.frame !== null)?.frame ?? undefined;
    const diagnostics = frame === undefined ? parsed.flatMap((p) => p.diagnostics) : [];
    this.traceMessage(connection, 'out', bytes, shown, diagnostics);
    if (frame) this.emit('frame', { direction: 'out', frame, raw: bytes, diagnostics: [] });
    else for (const p of parsed) this.emit('frame', { direction: 'out', frame: p.frame, raw: p.raw, diagnostics: p.diagnostics });
    return new Promise((resolve) => {
      if (connection.socket.destroyed || !connection.socket.writable) {
        resolve({ ok: false, error: harnessError('MSRP_CONNECTION_CLOSED', 'write on a closed connection', bytes) });
        return;
      }
      // A chaos tap may write something else, later, or nothing: to the sender the frame went out.
      if (connection.link && this.tap?.outbound?.(bytes, connection.link)) {
        resolve({ ok: true, value: undefined });
        return;
      }
      connection.socket.write(bytes, (err) => {
        if (err) resolve({ ok: false, error: harnessError('MSRP_WRITE_FAILED', err.message, bytes, err) });
        else resolve({ ok: true, value: undefined });
      });
    });
  }

  private traceMessage(connection: Connection, direction: Direction, bytes: Buffer, frame: MsrpFrame | undefined, diagnostics: Diagnostic[]): void {
    if (discardsMessages(this.trace)) return;
    const fields: Omit<MessageTraceEvent, 'seq' | 'monotonicMs' | 'wallClockMs'> = {
      kind: 'message',
      protocol: 'msrp',
      transport: 'tcp',
      local: connection.local,
      remote: connection.remote,
      connectionId: connection.id,
      direction,
      bytes,
      summary: frame ? summarizeFrame(frame) : `MSRP ${bytes.length} unparsable bytes`,
      diagnostics,
      ...(frame === undefined ? {} : { parsed: frame }),
      ...(this.actor === undefined ? {} : { actor: this.actor }),
    };
    this.trace(stamp<MessageTraceEvent>(fields));
  }

  private traceConnection(state: ConnectionState, reason: string, local: Endpoint, remote: Endpoint, connectionId?: string, bytes?: Buffer): void {
    const fields: Omit<ConnectionTraceEvent, 'seq' | 'monotonicMs' | 'wallClockMs'> = {
      kind: 'connection',
      protocol: 'msrp',
      transport: 'tcp',
      local,
      remote,
      state,
      reason,
      ...(connectionId === undefined ? {} : { connectionId }),
      ...(bytes === undefined ? {} : { bytes }),
      ...(this.actor === undefined ? {} : { actor: this.actor }),
    };
    this.trace(stamp<ConnectionTraceEvent>(fields));
  }

}

/**
 * Frame diagnostics that are the client's wire faults: bytes that are no MSRP frame, a frame left
 * unfinished, a chunk or message over the limits (answered 413, RFC 4975 §7.3.1 / §8.6).
 */
const MSRP_FAULTS: Readonly<Record<string, WireFaultKind>> = {
  MSRP_GARBAGE: 'msrp-framing',
  MSRP_INCOMPLETE_FRAME: 'msrp-incomplete',
  MSRP_HEADERS_TOO_LARGE: 'msrp-size',
  MSRP_BODY_TOO_LARGE: 'msrp-size',
  MSRP_CHUNK_TOO_LARGE: 'msrp-size',
  MSRP_MESSAGE_TOO_LARGE: 'msrp-size',
};

/** Convenience: a local URI with a fresh session-id, e.g. `msrp://127.0.0.1:0/<id>;tcp`. */
export function localMsrpUri(host: string, port = 0): MsrpUri {
  const parsed = parseMsrpUri(`msrp://${host}:${port}/${randomToken(10)};tcp`);
  if (!parsed.ok) return { scheme: 'msrp', host, port, sessionId: randomToken(10), transport: 'tcp', params: [] };
  return parsed.value;
}

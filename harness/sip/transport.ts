/**
 * SIP over UDP and TCP (RFC 3261 §18): sockets in, parsed messages out, exact bytes both ways.
 * Every message in or out becomes one MessageTraceEvent and every connection change one
 * ConnectionTraceEvent. Nothing here throws on network trouble: send failures are values.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { createServer, connect, isIPv6 } from 'node:net';
import type { Server, Socket } from 'node:net';
import { diagnostic, harnessError, HarnessFailure, printable } from '../core/diagnostic.ts';
import type { Diagnostic, HarnessError } from '../core/diagnostic.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { Limits } from '../core/limits.ts';
import { NO_BOUNDARY, type FaultBoundary, type PeerWatch, type WireFaultKind } from '../core/scope.ts';
import { discardTrace, isDiscarding, stamp } from '../core/trace.ts';
import type { ConnectionState, ConnectionTraceEvent, Endpoint, MessageTraceEvent, TraceFields, TraceSink, TransportKind } from '../core/trace.ts';
import { udpLink, wireLink, type WireLink, type WireTap } from '../core/wire-tap.ts';
import { SipStreamFramer } from './framer.ts';
import { startLine } from './message.ts';
import { parseSipMessage } from './parser.ts';
import type { ParsedSip } from './parser.ts';

export interface Target {
  transport: TransportKind;
  /** IP address; IPv6 may be written with or without brackets. */
  address: string;
  port: number;
  /** TCP: send on this connection if it is still open. */
  connectionId?: string;
}

export type SendResult =
  | { ok: true; transport: TransportKind; local: Endpoint; remote: Endpoint; connectionId?: string }
  | { ok: false; error: HarnessError };

export interface InboundMessage {
  parsed: ParsedSip;
  transport: TransportKind;
  local: Endpoint;
  remote: Endpoint;
  connectionId?: string;
}

export interface SipTransportOptions {
  address: string;
  /** Bind UDP on this port (0 = ephemeral). When neither port is given both are bound ephemeral. */
  udpPort?: number;
  tcpPort?: number;
  actor?: string;
  trace?: TraceSink;
  /** Give up connecting after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  /** sipMessageBytes and sipHeaderLineBytes for framing and parsing what arrives (default DEFAULT_LIMITS). */
  limits?: SipLimits;
  /** The test case's fault boundary: socket handlers guarded, the transport closed with the case. */
  boundary?: FaultBoundary;
  /** Set on the side that faces the client under test: its message rate, connections and broken streams. */
  watch?: PeerWatch;
  /** A chaos client's tap on its TCP connections (core/wire-tap.ts). */
  tap?: WireTap;
}

export type SipLimits = Partial<Pick<Limits, 'sipMessageBytes' | 'sipHeaderLineBytes'>>;

export interface SipTransportEvents {
  message: [message: InboundMessage];
  connection: [event: ConnectionTraceEvent];
}

interface TcpConnection {
  readonly id: string;
  readonly socket: Socket;
  readonly framer: SipStreamFramer;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  open: boolean;
  closingLocally: boolean;
  error?: Error;
  /** Armed while a message is unfinished (watched side): framingTimeoutMs from its first octet. */
  framingTimer?: TimerHandle;
  link?: WireLink;
}

let nextConnection = 1;
const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;

/** `[::1]` → `::1`: sockets want bare addresses, SIP text brackets IPv6. */
export function bareAddress(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

function remoteKey(address: string, port: number): string {
  return `${bareAddress(address).toLowerCase()}|${port}`;
}

/** Start line for the trace, or the first line of the bytes when they did not parse. */
function summarize(parsed: ParsedSip): string {
  if (parsed.message) return startLine(parsed.message);
  const end = parsed.raw.indexOf('\r\n');
  const first = parsed.raw.subarray(0, end === -1 ? Math.min(parsed.raw.length, 80) : Math.min(end, 80));
  return `<unparsable ${parsed.raw.length} bytes: ${printable(first)}>`;
}

/** Framing diagnostics after which the stream cannot be read any further: the client broke it for good. */
const FRAMING_FAULTS: Readonly<Record<string, WireFaultKind>> = {
  SIP_STREAM_GARBAGE: 'sip-framing',
  SIP_MESSAGE_TOO_LARGE: 'sip-size',
  SIP_HEADER_LINE_TOO_LONG: 'sip-size',
};

/** On a stream: the framer gave up (garbage, a message or line over the limits). */
function streamFault(framing: readonly Diagnostic[]): { kind: WireFaultKind; diagnostic: Diagnostic } | undefined {
  const fatal = framing.find((d) => FRAMING_FAULTS[d.code] !== undefined);
  return fatal === undefined ? undefined : { kind: FRAMING_FAULTS[fatal.code]!, diagnostic: fatal };
}

/**
 * On a datagram: a message or header line over the limits (the parser left it out, or did not parse
 * at all), or a body shorter than its Content-Length (RFC 3261 §18.3: an error; a response MUST be
 * discarded). A datagram that is no SIP at all is dropped as RFC 3261 §18 has it, not judged:
 * clients send CRLF and other keep-alives over UDP.
 */
function datagramFault(diagnostics: readonly Diagnostic[]): { kind: WireFaultKind; diagnostic: Diagnostic } | undefined {
  const size = diagnostics.find((d) => d.code === 'SIP_MESSAGE_TOO_LARGE' || d.code === 'SIP_HEADER_LINE_TOO_LONG');
  if (size !== undefined) return { kind: 'sip-size', diagnostic: size };
  const short = diagnostics.find((d) => d.code === 'SIP_CONTENT_LENGTH_MISMATCH' && d.severity === 'error');
  return short === undefined ? undefined : { kind: 'sip-incomplete', diagnostic: short };
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : 'ERROR';
}

/**
 * A message the harness sent, as a trace event. Its bytes are parsed for the summary, the
 * diagnostics and the parsed message on first read (a report, a verdict's evidence): most sent
 * messages are never looked at, and parsing each one again was a share of every call's CPU.
 */
class SentSipEvent implements TraceFields<MessageTraceEvent> {
  readonly kind = 'message';
  readonly protocol = 'sip';
  readonly direction = 'out';
  readonly connectionId?: string;
  readonly actor?: string;
  #parsed: ParsedSip | undefined;

  constructor(
    readonly transport: TransportKind,
    readonly local: Endpoint,
    readonly remote: Endpoint,
    readonly bytes: Buffer,
    connectionId: string | undefined,
    actor: string | undefined,
  ) {
    if (connectionId !== undefined) this.connectionId = connectionId;
    if (actor !== undefined) this.actor = actor;
  }

  #parse(): ParsedSip {
    return (this.#parsed ??= parseSipMessage(this.bytes, { stream: this.transport === 'tcp' }));
  }

  get summary(): string {
    return summarize(this.#parse());
  }

  get diagnostics(): readonly Diagnostic[] {
    return this.#parse().diagnostics;
  }

  get parsed(): unknown {
    return this.#parse().message ?? undefined;
  }
}

export class SipTransport {
  udp?: Endpoint;
  tcp?: Endpoint;

  private udpSocket: UdpSocket | undefined;
  private tcpServer: Server | undefined;
  private readonly connections = new Map<string, TcpConnection>();
  /** Open connection per remote address:port, newest wins. */
  private readonly byRemote = new Map<string, string>();
  private readonly connecting = new Map<string, Promise<TcpConnection | HarnessError>>();
  private readonly actor: string | undefined;
  private readonly trace: TraceSink;
  private readonly connectTimeoutMs: number;
  private readonly limits: SipLimits;
  private readonly boundary: FaultBoundary;
  private readonly watch: PeerWatch | undefined;
  private readonly tap: WireTap | undefined;
  private disown: () => void = () => {};
  private closed = false;
  // Composed, not inherited: a static `bind` on an EventEmitter subclass would shadow Function.bind.
  private readonly events = new EventEmitter();

  private constructor(options: SipTransportOptions) {
    this.actor = options.actor;
    this.trace = options.trace ?? discardTrace;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.limits = options.limits ?? {};
    this.boundary = options.boundary ?? NO_BOUNDARY;
    this.watch = options.watch;
    this.tap = options.tap;
  }

  /** Binds the requested sockets; rejects (HarnessFailure) only when a bind fails. */
  static async bind(options: SipTransportOptions): Promise<SipTransport> {
    const transport = new SipTransport(options);
    transport.disown = transport.boundary.own(transport);
    const both = options.udpPort === undefined && options.tcpPort === undefined;
    const address = bareAddress(options.address);
    try {
      if (both || options.udpPort !== undefined) await transport.bindUdp(address, options.udpPort ?? 0);
      if (both || options.tcpPort !== undefined) await transport.bindTcp(address, options.tcpPort ?? 0);
    } catch (error) {
      await transport.close();
      throw new HarnessFailure(harnessError('SIP_BIND_FAILED', `cannot bind ${address}: ${errorCode(error)}`, Buffer.alloc(0), error));
    }
    return transport;
  }

  private bindUdp(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // A roomy receive buffer: a burst of datagrams on loopback otherwise overflows the kernel default and is lost.
      const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', recvBufferSize: UDP_RECEIVE_BUFFER });
      const onError = (error: Error): void => reject(error);
      socket.once('error', onError);
      socket.bind(port, address, () => {
        socket.off('error', onError);
        const bound = socket.address();
        const local = { address: bound.address, port: bound.port };
        this.udpSocket = socket;
        this.udp = local;
        socket.on(
          'message',
          this.boundary.guard('sip/udp message', (bytes: Buffer, rinfo: { address: string; port: number }) => {
            if (this.tap) this.tap.inbound?.(bytes, this.udpLinkTo({ address: rinfo.address, port: rinfo.port }));
            this.receive(bytes, [], 'udp', local, { address: rinfo.address, port: rinfo.port });
          }),
        );
        socket.on('error', this.boundary.guard('sip/udp error', (error: Error) => this.connectionEvent('udp', 'error', errorCode(error), local, local)));
        resolve();
      });
    });
  }

  private bindTcp(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer(this.boundary.guard('sip/tcp accept', (socket: Socket) => this.accept(socket)));
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen(port, address, () => {
        server.off('error', onError);
        const bound = server.address();
        if (bound === null || typeof bound === 'string') {
          reject(new Error('TCP server has no address'));
          return;
        }
        this.tcpServer = server;
        this.tcp = { address: bound.address, port: bound.port };
        server.on('error', (error) => {
          const local = this.tcp ?? { address, port };
          this.connectionEvent('tcp', 'error', errorCode(error), local, local);
        });
        resolve();
      });
    });
  }

  on(event: 'message', listener: (message: InboundMessage) => void): this;
  on(event: 'connection', listener: (event: ConnectionTraceEvent) => void): this;
  on(event: keyof SipTransportEvents, listener: (arg: InboundMessage & ConnectionTraceEvent) => void): this {
    this.events.on(event, listener);
    return this;
  }

  off(event: 'message', listener: (message: InboundMessage) => void): this;
  off(event: 'connection', listener: (event: ConnectionTraceEvent) => void): this;
  off(event: keyof SipTransportEvents, listener: (arg: InboundMessage & ConnectionTraceEvent) => void): this {
    this.events.off(event, listener);
    return this;
  }

  /** Open TCP connection ids (for tests and for responses on the request's connection). */
  get openConnections(): string[] {
    return [...this.connections.values()].filter((c) => c.open).map((c) => c.id);
  }

  isOpen(connectionId: string): boolean {
    return this.connections.get(connectionId)?.open === true;
  }

  /** Sends exactly these bytes; resolves with where they went or why they did not. */
  async send(bytes: Buffer, target: Target): Promise<SendResult> {
    if (this.closed) return { ok: false, error: harnessError('SIP_TRANSPORT_CLOSED', 'transport is closed', bytes) };
    return target.transport === 'udp' ? this.sendUdp(bytes, target) : this.sendTcp(bytes, target);
  }

  private sendUdp(bytes: Buffer, target: Target): Promise<SendResult> {
    const socket = this.udpSocket;
    const local = this.udp;
    if (socket === undefined || local === undefined) {
      return Promise.resolve({ ok: false, error: harnessError('SIP_NO_UDP', 'no UDP socket bound', bytes) });
    }
    const remote = { address: bareAddress(target.address), port: target.port };
    // A chaos tap may send other datagrams, later, or none: to the sender the message went out.
    if (this.tap?.outbound?.(bytes, this.udpLinkTo(remote))) {
      this.messageEvent('out', bytes, [], 'udp', local, remote);
      return Promise.resolve({ ok: true, transport: 'udp', local, remote });
    }
    return new Promise((resolve) => {
      try {
        socket.send(bytes, remote.port, remote.address, (error) => {
          if (error) {
            this.connectionEvent('udp', 'error', `send failed: ${errorCode(error)}`, local, remote, undefined, bytes);
            resolve({ ok: false, error: harnessError('SIP_SEND_FAILED', `UDP send to ${remote.address}:${remote.port} failed: ${errorCode(error)}`, bytes, error) });
            return;
          }
          this.messageEvent('out', bytes, [], 'udp', local, remote);
          resolve({ ok: true, transport: 'udp', local, remote });
        });
      } catch (error) {
        // dgram throws synchronously on a bad address or port.
        this.connectionEvent('udp', 'error', `send failed: ${errorCode(error)}`, local, remote, undefined, bytes);
        resolve({ ok: false, error: harnessError('SIP_SEND_FAILED', `UDP send to ${remote.address}:${remote.port} failed: ${String(error)}`, bytes, error) });
      }
    });
  }

  /** The tap's link to one remote address on the UDP socket (one datagram per write; send errors are dropped, as a lost datagram). */
  private udpLinkTo(remote: Endpoint): WireLink {
    return udpLink(
      `udp:${remote.address}:${remote.port}`,
      (bytes) => this.udpSocket?.send(bytes, remote.port, remote.address, () => {}),
      () => this.closed || this.udpSocket === undefined,
    );
  }

  private async sendTcp(bytes: Buffer, target: Target): Promise<SendResult> {
    if (this.tcpServer === undefined) return { ok: false, error: harnessError('SIP_NO_TCP', 'no TCP listener bound', bytes) };
    const connection = await this.connectionFor(target);
    if ('code' in connection) return { ok: false, error: { ...connection, bytes } };
    return new Promise((resolve) => {
      const done = (error?: Error | null): void => {
        if (error) {
          resolve({ ok: false, error: harnessError('SIP_SEND_FAILED', `TCP write on ${connection.id} failed: ${errorCode(error)}`, bytes, error) });
          return;
        }
        this.messageEvent('out', bytes, [], 'tcp', connection.local, connection.remote, connection.id);
        resolve({ ok: true, transport: 'tcp', local: connection.local, remote: connection.remote, connectionId: connection.id });
      };
      // A chaos tap may write something else, later, or nothing: to the sender the message went out.
      if (connection.link && this.tap?.outbound?.(bytes, connection.link)) {
        done();
        return;
      }
      connection.socket.write(bytes, done);
    });
  }

  private connectionFor(target: Target): Promise<TcpConnection | HarnessError> {
    if (target.connectionId !== undefined) {
      const given = this.connections.get(target.connectionId);
      if (given?.open) return Promise.resolve(given);
    }
    const key = remoteKey(target.address, target.port);
    const existing = this.byRemote.get(key);
    const open = existing === undefined ? undefined : this.connections.get(existing);
    if (open?.open) return Promise.resolve(open);
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const attempt = this.connectTo(bareAddress(target.address), target.port).finally(() => this.connecting.delete(key));
    this.connecting.set(key, attempt);
    return attempt;
  }

  private connectTo(address: string, port: number): Promise<TcpConnection | HarnessError> {
    return new Promise((resolve) => {
      const socket = connect({ host: address, port });
      const local = this.tcp ?? { address: '', port: 0 };
      const remote = { address, port };
      const fail = (reason: string, error?: unknown): void => {
        socket.destroy();
        this.connectionEvent('tcp', reason === 'timeout' ? 'timeout' : 'error', `connect to ${address}:${port}: ${reason}`, local, remote);
        resolve(harnessError('SIP_CONNECT_FAILED', `TCP connect to ${address}:${port} failed: ${reason}`, Buffer.alloc(0), error));
      };
      socket.setTimeout(this.connectTimeoutMs, () => fail('timeout'));
      socket.once('error', (error) => fail(errorCode(error), error));
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.removeAllListeners('error');
        socket.removeAllListeners('timeout');
        resolve(this.adopt(socket, 'connected'));
      });
    });
  }

  /** An inbound connection: refused (and traced) once the client has opened more than connectionsPerCase. */
  private accept(socket: Socket): void {
    const id = `tcp-${nextConnection}`;
    if (this.watch && !this.watch.admitConnection('sip', id)) {
      nextConnection++;
      const local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
      const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      socket.on('error', () => {});
      socket.destroy();
      this.connectionEvent('tcp', 'error', 'refused: the client opened more connections than connectionsPerCase', local, remote, id);
      return;
    }
    this.adopt(socket, 'accepted');
  }

  /** Registers a connected socket: framing, trace and clean-up. */
  private adopt(socket: Socket, state: 'connected' | 'accepted'): TcpConnection {
    const connection: TcpConnection = {
      id: `tcp-${nextConnection++}`,
      socket,
      framer: new SipStreamFramer({ limits: this.limits }),
      local: { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
      remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      open: true,
      closingLocally: false,
    };
    this.connections.set(connection.id, connection);
    this.byRemote.set(remoteKey(connection.remote.address, connection.remote.port), connection.id);
    this.connectionEvent('tcp', state, state === 'connected' ? 'outbound connection established' : 'inbound connection accepted', connection.local, connection.remote, connection.id);
    if (this.closed) {
      connection.closingLocally = true;
      socket.destroy();
    }
    if (this.tap) {
      connection.link = wireLink('sip', connection.id, socket);
      this.tap.opened?.(connection.link);
    }
    socket.on(
      'data',
      this.boundary.guard('sip/tcp data', (chunk: Buffer) => {
        if (connection.link) this.tap?.inbound?.(chunk, connection.link);
        const frames = connection.framer.push(chunk);
        for (const frame of frames) {
          this.receive(frame.raw, frame.diagnostics, 'tcp', connection.local, connection.remote, connection.id);
        }
        if (this.watch) this.watchFraming(connection, frames.length > 0);
      }),
    );
    socket.on('error', (error) => {
      connection.error = error;
    });
    socket.on('close', this.boundary.guard('sip/tcp close', () => this.forget(connection)));
    return connection;
  }

  /**
   * On the watched side: a stream the framer gave up on is a wire fault at once; an unfinished
   * message arms framingTimeoutMs from its first octet (restarted when a message completed).
   */
  private watchFraming(connection: TcpConnection, completed: boolean): void {
    const watch = this.watch!;
    const framer = connection.framer;
    if (framer.unframeable) {
      connection.framingTimer?.cancel();
      connection.framingTimer = undefined;
      return;
    }
    const pending = framer.pending().length;
    if (pending === 0 || completed) {
      connection.framingTimer?.cancel();
      connection.framingTimer = undefined;
    }
    if (pending === 0 || connection.framingTimer !== undefined) return;
    const timeout = watch.framingTimeoutMs;
    connection.framingTimer = this.boundary.clock.setTimer(timeout, () => {
      connection.framingTimer = undefined;
      const left = framer.pending();
      if (!connection.open || left.length === 0 || framer.unframeable) return;
      const declared = framer.awaitedLength;
      const why =
        declared === undefined
          ? `${left.length} octets of a message whose header section has not ended ${timeout} ms after its first octet`
          : `the body is shorter than its Content-Length: ${left.length} of ${declared} octets ${timeout} ms after the message's first octet`;
      watch.wireFault({
        kind: 'sip-incomplete',
        protocol: 'sip',
        connectionId: connection.id,
        diagnostic: diagnostic('SIP_INCOMPLETE_MESSAGE', `${why} (framingTimeoutMs)`, 'RFC 3261 §18.3', { bytes: left }),
      });
    });
  }

  private forget(connection: TcpConnection): void {
    connection.open = false;
    connection.framingTimer?.cancel();
    this.connections.delete(connection.id);
    const key = remoteKey(connection.remote.address, connection.remote.port);
    if (this.byRemote.get(key) === connection.id) this.byRemote.delete(key);
    const leftover = connection.framer.pending();
    const code = connection.error === undefined ? undefined : errorCode(connection.error);
    const state: ConnectionState = code === undefined ? 'closed' : code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'error';
    let reason = connection.closingLocally ? 'closed locally' : code ?? 'peer closed the connection';
    if (leftover.length > 0) reason += ` with ${leftover.length} bytes of an incomplete message pending`;
    this.connectionEvent('tcp', state, reason, connection.local, connection.remote, connection.id, leftover.length > 0 ? Buffer.from(leftover) : undefined);
  }

  private receive(raw: Buffer, framing: Diagnostic[], transport: TransportKind, local: Endpoint, remote: Endpoint, connectionId?: string): void {
    // A client over messagesPerSecond: the rest of what it sends is dropped, unparsed and unanswered.
    if (this.watch && !this.watch.admitMessage('sip', connectionId)) return;
    const result = parseSipMessage(raw, { stream: transport === 'tcp', limits: this.limits });
    const parsed: ParsedSip = framing.length === 0 ? result : { ...result, diagnostics: [...framing, ...result.diagnostics] };
    this.messageEvent('in', raw, parsed.diagnostics, transport, local, remote, connectionId, parsed);
    if (parsed.message === null) {
      this.connectionEvent(transport, 'garbage', `${raw.length} bytes that are not a SIP message`, local, remote, connectionId, raw);
    }
    if (this.watch) {
      const fault = transport === 'tcp' ? streamFault(framing) : datagramFault(parsed.diagnostics);
      if (fault !== undefined) this.watch.wireFault({ ...fault, protocol: 'sip', ...(connectionId === undefined ? {} : { connectionId }) });
    }
    const inbound: InboundMessage = { parsed, transport, local, remote };
    if (connectionId !== undefined) inbound.connectionId = connectionId;
    this.events.emit('message', inbound);
  }

  private messageEvent(
    direction: 'in' | 'out',
    bytes: Buffer,
    diagnostics: readonly Diagnostic[],
    transport: TransportKind,
    local: Endpoint,
    remote: Endpoint,
    connectionId?: string,
    parsedIn?: ParsedSip,
  ): void {
    if (isDiscarding(this.trace)) return;
    if (parsedIn === undefined) {
      // Outbound bytes are parsed too (odd messages carry their diagnostics), but only when read.
      this.trace(stamp<MessageTraceEvent>(new SentSipEvent(transport, local, remote, bytes, connectionId, this.actor)));
      return;
    }
    const fields: { -readonly [K in keyof TraceFields<MessageTraceEvent>]: TraceFields<MessageTraceEvent>[K] } = {
      kind: 'message',
      protocol: 'sip',
      transport,
      local,
      remote,
      direction,
      bytes,
      summary: summarize(parsedIn),
      diagnostics,
    };
    if (parsedIn.message) fields.parsed = parsedIn.message;
    if (connectionId !== undefined) fields.connectionId = connectionId;
    if (this.actor !== undefined) fields.actor = this.actor;
    this.trace(stamp<MessageTraceEvent>(fields));
  }

  private connectionEvent(
    transport: TransportKind,
    state: ConnectionState,
    reason: string,
    local: Endpoint,
    remote: Endpoint,
    connectionId?: string,
    bytes?: Buffer,
  ): void {
    const event = stamp<ConnectionTraceEvent>({
      kind: 'connection',
      protocol: 'sip',
      transport,
      local,
      remote,
      state,
      reason,
      ...(bytes !== undefined ? { bytes } : {}),
      ...(connectionId !== undefined ? { connectionId } : {}),
      ...(this.actor !== undefined ? { actor: this.actor } : {}),
    });
    this.trace(event);
    this.events.emit('connection', event);
  }

  /** Closes every socket and connection; resolves when all are closed. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.disown();
    const waits: Promise<void>[] = [];
    for (const connection of [...this.connections.values()]) {
      connection.closingLocally = true;
      waits.push(new Promise((resolve) => connection.socket.once('close', () => resolve())));
      connection.socket.destroy();
    }
    const server = this.tcpServer;
    this.tcpServer = undefined;
    if (server) waits.push(new Promise((resolve) => server.close(() => resolve())));
    const udp = this.udpSocket;
    this.udpSocket = undefined;
    if (udp) waits.push(new Promise((resolve) => udp.close(() => resolve())));
    await Promise.all(waits);
  }
}

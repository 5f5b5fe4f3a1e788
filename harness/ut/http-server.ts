/**
 * Serves any in-process UpperTester over the UT HTTP+JSON protocol, so the protocol is exercised
 * for real (the reference client is served with it) and a vendor has a working counterpart to
 * test a shim against. Strict on input: unknown path 404, wrong method 405 with Allow, non-JSON
 * 415/400, field errors 400 with the zod issue path, bodies over 64 KiB 413.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { UpperTester, UtResult } from '../client/types.ts';
import { discardTrace, stamp, type ConnectionTraceEvent, type ConnectionState, type Endpoint, type MessageTraceEvent, type TraceSink } from '../core/trace.ts';
import {
  describeIssues,
  httpStatusFor,
  UT_BODY_LIMIT,
  UT_PROTOCOL,
  UT_ROUTES,
  UT_VERSION,
  WIRE_OPERATIONS,
  type AcceptInvitationBody,
  type DisplayBody,
  type InvitationAccepting,
  type QueueMessageBody,
  type Route,
  type WireOperation,
} from './protocol.ts';

export interface ServeUpperTesterOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = ephemeral. */
  port?: number;
  /** Shown in `GET /ut/v1/capabilities` as `implementation`. */
  implementation?: string;
  trace?: TraceSink;
  actor?: string;
}

export interface ServedUpperTester {
  /** Base URL to give `connectHttpUpperTester` / `--ut`, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
interface Reply {
  status: number;
  body: Json;
  headers?: Record<string, string>;
}

function errorReply(code: string, message: string, extra: Json = {}, headers?: Record<string, string>): Reply {
  return { status: httpStatusFor(code), body: { ok: false, code, message, ...extra }, ...(headers ? { headers } : {}) };
}

function fromResult<T>(result: UtResult<T>, toBody: (value: T) => Json): Reply {
  return result.ok ? { status: 200, body: { ok: true, ...toBody(result.value) } } : errorReply(result.code, result.message);
}

function acceptsInvitations(ut: UpperTester): ut is UpperTester & InvitationAccepting {
  return typeof (ut as Partial<InvitationAccepting>).acceptInvitation === 'function';
}

/** Wire operations this UT implements: its `supports`, plus acceptInvitation when it has that method. */
export function servedOperations(ut: UpperTester): WireOperation[] {
  return WIRE_OPERATIONS.filter((op) =>
    op === 'acceptInvitation' ? acceptsInvitations(ut) : op === 'reset' ? ut.supports.has('reset') && typeof ut.reset === 'function' : ut.supports.has(op),
  );
}

async function invoke(ut: UpperTester, route: Route, body: unknown, implementation: string | undefined): Promise<Reply> {
  if (route.operation === 'capabilities') {
    return { status: 200, body: { ok: true, protocol: UT_PROTOCOL, version: UT_VERSION, operations: servedOperations(ut), ...(implementation ? { implementation } : {}) } };
  }
  if (!servedOperations(ut).includes(route.operation)) {
    return errorReply('UT_UNSUPPORTED', `this upper tester does not implement ${route.operation} (see GET /ut/v1/capabilities)`);
  }
  const none = (): Json => ({});
  switch (route.operation) {
    case 'queueMessage': {
      const b = body as QueueMessageBody;
      return fromResult(await ut.queueMessage(b.group, b.text), none);
    }
    case 'goOffline':
      return fromResult(await ut.goOffline(), none);
    case 'goOnline':
      return fromResult(await ut.goOnline(), none);
    case 'markDisplayed':
      return fromResult(await ut.markDisplayed((body as DisplayBody).imdnMessageId), none);
    case 'acceptInvitation':
      return fromResult(await (ut as UpperTester & InvitationAccepting).acceptInvitation((body as AcceptInvitationBody).group), none);
    case 'state':
      return fromResult(await ut.state(), (s) => ({ ...s }));
    case 'reset':
      return fromResult(await ut.reset!(), none);
  }
}

/** Reads at most UT_BODY_LIMIT octets; the rest is drained, not buffered, so the 413 reaches the client. */
function readBody(req: IncomingMessage): Promise<{ bytes: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > UT_BODY_LIMIT;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > UT_BODY_LIMIT) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

function isJsonMediaType(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

async function handle(ut: UpperTester, req: IncomingMessage, bytes: Buffer, tooLarge: boolean, implementation: string | undefined): Promise<Reply> {
  const path = new URL(req.url ?? '/', 'http://ut.invalid').pathname;
  const atPath = UT_ROUTES.filter((r) => r.path === path);
  if (atPath.length === 0) return errorReply('UT_NOT_FOUND', `no such path ${path}; the protocol lives under /ut/v1 (GET /ut/v1/capabilities)`);
  const route = atPath.find((r) => r.method === req.method);
  if (route === undefined) {
    const allow = atPath.map((r) => r.method).join(', ');
    return errorReply('UT_METHOD_NOT_ALLOWED', `${req.method ?? '?'} not allowed on ${path}; use ${allow}`, {}, { Allow: allow });
  }
  if (tooLarge) return errorReply('UT_BODY_TOO_LARGE', `request body over ${UT_BODY_LIMIT} octets`);
  if (route.body === null) {
    if (bytes.length > 0) return errorReply('UT_BAD_REQUEST', `${route.method} ${path} takes no body`);
    return invoke(ut, route, undefined, implementation);
  }
  let parsed: unknown = {};
  if (bytes.length > 0) {
    if (!isJsonMediaType(req.headers['content-type'])) {
      return errorReply('UT_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`);
    }
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      return errorReply('UT_BAD_REQUEST', `body is not valid JSON: ${(e as Error).message}`);
    }
  }
  const checked = route.body.safeParse(parsed);
  if (!checked.success) {
    const described = describeIssues(checked.error.issues);
    return errorReply('UT_BAD_REQUEST', described.message, { issues: described.issues });
  }
  return invoke(ut, route, checked.data, implementation);
}

export async function serveUpperTester(ut: UpperTester, options: ServeUpperTesterOptions = {}): Promise<ServedUpperTester> {
  const trace = options.trace ?? discardTrace;
  const actor = options.actor ?? 'ut-server';
  const host = options.host ?? '127.0.0.1';
  const sockets = new Map<Socket, string>();
  let nextConnection = 1;
  let local: Endpoint = { address: host, port: 0 };

  const remoteOf = (socket: Socket): Endpoint => ({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
  const connectionEvent = (state: ConnectionState, reason: string, socket?: Socket): void => {
    const connectionId = socket ? sockets.get(socket) : undefined;
    trace(stamp<ConnectionTraceEvent>({
      kind: 'connection', protocol: 'ut', transport: 'tcp', local, remote: socket ? remoteOf(socket) : { address: '', port: 0 },
      ...(connectionId ? { connectionId } : {}), actor, state, reason,
    }));
  };
  const messageEvent = (socket: Socket, direction: 'in' | 'out', summary: string, bytes: Buffer): void => {
    const connectionId = sockets.get(socket);
    trace(stamp<MessageTraceEvent>({
      kind: 'message', protocol: 'ut', transport: 'tcp', local, remote: remoteOf(socket), ...(connectionId ? { connectionId } : {}),
      actor, direction, bytes, summary, diagnostics: [],
    }));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const socket = req.socket;
      let reply: Reply;
      try {
        const { bytes, tooLarge } = await readBody(req);
        messageEvent(socket, 'in', `${req.method ?? '?'} ${req.url ?? ''}`, bytes);
        reply = await handle(ut, req, bytes, tooLarge, options.implementation);
      } catch (e) {
        // A throwing UT is a bug in the UT, reported as a value so the harness can say so.
        reply = errorReply('UT_INTERNAL', `the upper tester threw: ${(e as Error)?.message ?? String(e)}`);
      }
      if (res.destroyed || res.writableEnded) return;
      const payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
      res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(payload.length), 'Cache-Control': 'no-store', ...reply.headers });
      res.end(payload);
      messageEvent(socket, 'out', `${reply.status} ${req.method ?? '?'} ${req.url ?? ''}`, payload);
    })();
  });
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, `ut-${nextConnection++}`);
    connectionEvent('accepted', 'HTTP connection accepted', socket);
    socket.on('close', () => {
      connectionEvent('closed', 'HTTP connection closed', socket);
      sockets.delete(socket);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  local = { address: address.address, port: address.port };
  connectionEvent('listening', `UT HTTP server on ${host}:${address.port}`);
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A UT call that never returns must not keep the harness alive.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/**
 * The harness side of the UT protocol: an UpperTester whose operations are HTTP requests to the
 * client vendor's test shim (`--ut <url>`). It reads the capabilities first, so `supports` is
 * what the shim says it implements, and every outcome (refused, slow, garbage, oversized, the
 * shim's own error) comes back as a UtResult value with a `UT_…` code, never a throw or a hang:
 * the exchange is bounded by http-transport.ts, and each request by `timeoutMs` as a whole.
 */
import type { ClientState, UpperTester, UtOperation, UtResult } from '../client/types.ts';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { discardTrace, stamp, type Endpoint, type MessageTraceEvent, type TraceSink } from '../core/trace.ts';
import type { z } from 'zod';
import {
  CapabilitiesResponse,
  describeIssues,
  ErrorResponse,
  OkResponse,
  routeFor,
  StateResponse,
  UT_BASE_PATH,
  UT_PROTOCOL,
  UT_VERSION,
  utFailure,
  WIRE_OPERATIONS,
  type InvitationAccepting,
  type Route,
  type WireOperation,
} from './protocol.ts';
import { nodeHttpTransport, UT_RESPONSE_LIMITS, type UtHttpExchange, type UtHttpLimits, type UtHttpTransport } from './http-transport.ts';

export interface HttpUpperTesterOptions {
  /** Per request: connecting, sending, the response's headers and its whole body. */
  timeoutMs: number;
  /** How requests reach the shim (default node:http with the bounds below); tests inject one. */
  transport?: UtHttpTransport;
  /** Bounds on what a shim's response can make the harness hold (default UT_RESPONSE_LIMITS). */
  limits?: Partial<UtHttpLimits>;
  clock?: Clock;
  trace?: TraceSink;
  actor?: string;
}

/** `acceptInvitation` is present only when the shim lists it (presence = support, as for serveUpperTester). */
export interface HttpUpperTester extends UpperTester, Partial<InvitationAccepting> {
  /** The base URL requests go to (without `/ut/v1`). */
  readonly baseUrl: string;
  /** Everything the shim listed that this harness knows, including `acceptInvitation`. */
  readonly operations: ReadonlySet<WireOperation>;
  /** The shim's self-description from the capabilities, when it gave one. */
  readonly implementation?: string;
}

type Exchange<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

const SPEC_HINT = 'see docs/upper-tester.md';
/** Failures of the HTTP exchange itself (http-transport.ts), as opposed to what the body says. */
const TRANSPORT_CODES: ReadonlySet<string> = new Set(['UT_BAD_HTTP', 'UT_RESPONSE_TOO_LARGE', 'UT_RESPONSE_HEADERS_TOO_LARGE', 'UT_BAD_URL']);

/** `http://h:p`, `http://h:p/`, `http://h:p/ut/v1` and `http://h:p/shim/` all name the same kind of base. */
export function resolveUtBase(baseUrl: string): UtResult<string> {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return utFailure('UT_BAD_URL', `"${baseUrl}" is not a URL; give the shim's base URL, e.g. --ut http://192.0.2.7:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return utFailure('UT_BAD_URL', `"${baseUrl}" is not an http(s) URL; give the shim's base URL, e.g. --ut http://192.0.2.7:8080 (or --ut prompt for the operator)`);
  }
  if (url.search !== '' || url.hash !== '') return utFailure('UT_BAD_URL', `"${baseUrl}" has a query or fragment; give only scheme, host, port and an optional path prefix`);
  let path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith(UT_BASE_PATH)) path = path.slice(0, -UT_BASE_PATH.length);
  return { ok: true, value: `${url.protocol}//${url.host}${path}` };
}

function endpointOf(url: string): Endpoint {
  const u = new URL(url);
  const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { address: u.hostname.replace(/^\[|\]$/g, ''), port };
}

/** A shim's own error code: `UT_` and capitals, as docs/upper-tester.md defines them; anything else is no error body. */
const SHIM_CODE = /^UT_[A-Z0-9_]{1,60}$/;
/** Characters of a shim's error message kept for the reports. */
const SHIM_MESSAGE_CHARS = 2048;
/** Characters of a body shown when it is not what the protocol says. */
const BODY_EXCERPT_CHARS = 120;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

class Requester {
  private readonly transport: UtHttpTransport;
  private readonly limits: UtHttpLimits;
  private readonly clock: Clock;
  private readonly trace: TraceSink;
  private readonly actor: string;
  private readonly remote: Endpoint;

  constructor(
    readonly base: string,
    private readonly options: HttpUpperTesterOptions,
  ) {
    this.transport = options.transport ?? nodeHttpTransport;
    this.limits = { ...UT_RESPONSE_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.trace = options.trace ?? discardTrace;
    this.actor = options.actor ?? 'ut-client';
    this.remote = endpointOf(base);
  }

  /** One request within the timeout (every wait of it); the body is validated with `schema` when the shim says ok. */
  async call<S extends z.ZodType>(route: Route, body: unknown, schema: S): Promise<Exchange<z.infer<S>>> {
    const url = `${this.base}${route.path}`;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const controller = new AbortController();
    let timer: TimerHandle | undefined;
    // The transport ends its waits on the abort; the race makes sure of it whatever the transport.
    const deadline = new Promise<'timeout'>((resolve) => {
      // A window: time this harness could not run (a loaded machine) is not the shim's.
      timer = this.clock.setWindow(this.options.timeoutMs, () => {
        controller.abort();
        resolve('timeout');
      });
    });
    this.emit('out', `${route.method} ${route.path}`, payload ?? Buffer.alloc(0));
    const headers: Record<string, string> = payload === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' };
    let exchange: UtHttpExchange | 'timeout';
    try {
      exchange = await Promise.race([this.transport({ method: route.method, url, headers, ...(payload === undefined ? {} : { body: payload }) }, this.limits, controller.signal), deadline]);
    } catch (error) {
      // A transport must not throw; one that does is a shim we could not talk to, not a crash.
      exchange = utFailure('UT_UNREACHABLE', `${route.method} ${url}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      timer?.cancel();
    }
    if (exchange === 'timeout' || (!exchange.ok && controller.signal.aborted)) {
      return utFailure('UT_TIMEOUT', `${route.method} ${url}: no complete answer within ${this.options.timeoutMs} ms`);
    }
    if (!exchange.ok) return exchange;
    const { status, body: bytes } = exchange.response;
    this.emit('in', `${status} ${route.method} ${route.path}`, bytes);
    const where = `${route.method} ${url} → HTTP ${status}`;
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      return utFailure(status >= 200 && status < 300 ? 'UT_BAD_RESPONSE' : 'UT_HTTP_ERROR', `${where} with a body that is not UTF-8 (RFC 8259 §8.1)`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return utFailure(status >= 200 && status < 300 ? 'UT_BAD_RESPONSE' : 'UT_HTTP_ERROR', `${where} with a body that is not JSON: ${JSON.stringify(cut(text, BODY_EXCERPT_CHARS))}`);
    }
    const error = ErrorResponse.safeParse(json);
    if (error.success) {
      if (!SHIM_CODE.test(error.data.code)) return utFailure('UT_BAD_RESPONSE', `${where}: an error body whose code ${JSON.stringify(cut(error.data.code, 64))} is not UT_ and capitals (${SPEC_HINT})`);
      return utFailure(error.data.code, cut(error.data.message, SHIM_MESSAGE_CHARS));
    }
    if (status < 200 || status >= 300) return utFailure('UT_HTTP_ERROR', `${where} without an error body {ok:false, code, message}`);
    const checked = schema.safeParse(json);
    if (!checked.success) return utFailure('UT_BAD_RESPONSE', `${where}, body does not match the protocol: ${cut(describeIssues(checked.error.issues).message, SHIM_MESSAGE_CHARS)}`);
    return { ok: true, value: checked.data };
  }

  private emit(direction: 'in' | 'out', summary: string, bytes: Buffer): void {
    // One connection per request, its local port not kept: the trace says so rather than invent one.
    this.trace(stamp<MessageTraceEvent>({
      kind: 'message', protocol: 'ut', transport: 'tcp', local: { address: '', port: 0 }, remote: this.remote,
      actor: this.actor, direction, bytes, summary, diagnostics: [],
    }));
  }
}

const done = (r: Exchange<unknown>): UtResult => (r.ok ? { ok: true, value: undefined } : r);

export async function connectHttpUpperTester(baseUrl: string, options: HttpUpperTesterOptions): Promise<UtResult<HttpUpperTester>> {
  const base = resolveUtBase(baseUrl);
  if (!base.ok) return base;
  const requester = new Requester(base.value, options);
  const capabilities = await requester.call(routeFor('capabilities'), undefined, CapabilitiesResponse);
  const asked = `GET ${base.value}${UT_BASE_PATH}/capabilities`;
  if (!capabilities.ok) {
    if (capabilities.code === 'UT_UNREACHABLE') {
      return utFailure('UT_UNREACHABLE', `no upper tester answers at ${base.value} (${capabilities.message}); start the client's test build with its UT server, or correct --ut`);
    }
    if (capabilities.code === 'UT_TIMEOUT') {
      return utFailure('UT_TIMEOUT', `the upper tester at ${base.value} did not answer ${asked} within ${options.timeoutMs} ms; check the URL or raise the UT timeout`);
    }
    // Broken or oversized HTTP keeps its own code: the fix is in the shim's HTTP, not its protocol.
    if (TRANSPORT_CODES.has(capabilities.code)) return utFailure(capabilities.code, `the upper tester at ${base.value}: ${capabilities.message}`);
    return utFailure('UT_PROTOCOL_MISMATCH', `${base.value} does not speak ${UT_PROTOCOL} v${UT_VERSION}: ${capabilities.message}. ${asked} must answer {"ok":true,"protocol":"${UT_PROTOCOL}","version":${UT_VERSION},"operations":[…]}; ${SPEC_HINT}`);
  }
  const c = capabilities.value;
  if (c.protocol !== UT_PROTOCOL || c.version !== UT_VERSION) {
    return utFailure('UT_PROTOCOL_MISMATCH', `${base.value} speaks ${JSON.stringify(c.protocol)} version ${c.version}, this harness speaks ${UT_PROTOCOL} version ${UT_VERSION}; ${SPEC_HINT}`);
  }
  // Names this harness does not know (a newer shim) are ignored, not an error.
  const operations = new Set(WIRE_OPERATIONS.filter((op) => c.operations.includes(op)));
  const supports = new Set([...operations].filter((op): op is UtOperation => op !== 'acceptInvitation'));

  const guarded = async <T>(op: WireOperation, run: () => Promise<UtResult<T>>): Promise<UtResult<T>> =>
    operations.has(op) ? run() : utFailure('UT_UNSUPPORTED', `the upper tester at ${base.value} does not list ${op} in its capabilities`);

  const ut: HttpUpperTester = {
    baseUrl: base.value,
    operations,
    supports,
    ...(c.implementation === undefined ? {} : { implementation: cut(c.implementation, 200) }),
    queueMessage: (group, text) => guarded('queueMessage', async () => done(await requester.call(routeFor('queueMessage'), { group, text }, OkResponse))),
    goOffline: () => guarded('goOffline', async () => done(await requester.call(routeFor('goOffline'), {}, OkResponse))),
    goOnline: () => guarded('goOnline', async () => done(await requester.call(routeFor('goOnline'), {}, OkResponse))),
    markDisplayed: (imdnMessageId) => guarded('markDisplayed', async () => done(await requester.call(routeFor('markDisplayed'), { imdnMessageId }, OkResponse))),
    ...(operations.has('reset') ? { reset: () => guarded('reset', async () => done(await requester.call(routeFor('reset'), {}, OkResponse))) } : {}),
    ...(operations.has('acceptInvitation')
      ? { acceptInvitation: async (group: string) => done(await requester.call(routeFor('acceptInvitation'), { group }, OkResponse)) }
      : {}),
    state: () =>
      guarded('state', async (): Promise<UtResult<ClientState>> => {
        const r = await requester.call(routeFor('state'), undefined, StateResponse);
        if (!r.ok) return r;
        const { ok: _ok, ...state } = r.value;
        return { ok: true, value: state };
      }),
  };
  return { ok: true, value: ut };
}

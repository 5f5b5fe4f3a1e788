/**
 * The SIP header table (RFC 3261 §20 and the extensions CPM clients use): one row per header
 * with its compact form, whether it is a comma-separated list, its grammar's clause, real example
 * values and — for the headers the harness reads — the parser and the formatter side by side, in
 * the spirit of sdp-transform's grammar. The message parser keeps values as strings; a row turns
 * one value into a typed record on demand and back. Parsers return a Result with diagnostics and
 * never throw. The lexing lives in lex.ts, URIs in uri.ts, Accept-Contact in caller-prefs.ts.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { formatAcceptContact, parseAcceptContact, type AcceptContact } from './caller-prefs.ts';
import { deltaSeconds, endOfQuoted, formatHostPort, formatParams, getParam, isToken, isWs, parseHostPort, quote, scanHeaderParams, skipWs, tokenWithParams, unquote, type Param } from './lex.ts';

/** One header of the table. */
export interface HeaderKind<T> {
  /** The spelling the harness writes. */
  readonly name: string;
  /** RFC 3261 §7.3.3 (and extensions') compact form, lower-case. */
  readonly compact?: string;
  /** The grammar is `#(values)`: `Via: a, b` is two values (RFC 3261 §7.3.1). */
  readonly list: boolean;
  /** Where the value grammar is defined. */
  readonly clause: string;
  /** Real values; the first formats back byte-exactly, all of them round-trip (test/sip/headers.test.ts). */
  readonly examples: readonly string[];
  parse(value: string): Result<T>;
  format(value: T): string;
}

function bad(code: string, header: string, clause: string, value: string, why: string): Diagnostic {
  return diagnostic(code, `Malformed ${header}: ${why}`, clause, { bytes: value });
}

// ---------------------------------------------------------------------------------------------
// name-addr / addr-spec: the value grammar of From, To, Contact, Route, Record-Route, P-Asserted-Identity, Referred-By


export interface NameAddr {
  /** Unquoted display name, if any. */
  displayName?: string;
  /** The URI between `<` and `>` (or the bare addr-spec). */
  uri: string;
  /** Header params after the URI (`;tag=…`). */
  params: Param[];
}

function nameAddrDiag(value: string, why: string): Diagnostic {
  return diagnostic('SIP_BAD_NAME_ADDR', `Malformed name-addr: ${why}`, 'RFC 3261 §20.10/§25.1', { bytes: value });
}

/**
 * `"Alice" <sip:a@b>;tag=1`, `Alice <sip:a@b>`, `<sip:a@b>`, or bare `sip:a@b;tag=1` (in the bare
 * addr-spec form every `;param` is a header param, RFC 3261 §20.10).
 */
export function parseNameAddr(value: string): Result<NameAddr> {
  const text = value.trim();
  let i = 0;
  let displayName: string | undefined;
  let uri: string;
  if (text[0] === '"') {
    const end = endOfQuoted(text, 0);
    if (end === -1) return fail(nameAddrDiag(value, 'unterminated display name'));
    displayName = unquote(text.slice(0, end));
    i = skipWs(text, end);
    if (text[i] !== '<') return fail(nameAddrDiag(value, 'quoted display name not followed by <URI>'));
  }
  const lt = text.indexOf('<', i);
  if (lt !== -1 && (displayName !== undefined || !text.slice(0, lt).includes(';'))) {
    if (displayName === undefined) {
      const name = text.slice(0, lt).trim();
      if (name.length > 0) {
        if (!name.split(/[ \t]+/).every(isToken)) return fail(nameAddrDiag(value, 'display name is neither tokens nor a quoted string'));
        displayName = name;
      }
    }
    const gt = text.indexOf('>', lt);
    if (gt === -1) return fail(nameAddrDiag(value, 'missing ">"'));
    uri = text.slice(lt + 1, gt);
    i = gt + 1;
  } else {
    let j = 0;
    while (j < text.length && text[j] !== ';' && !isWs(text[j])) j++;
    uri = text.slice(0, j);
    i = j;
  }
  if (uri.length === 0 || !/^[A-Za-z][A-Za-z0-9+\-.]*:\S+$/.test(uri)) return fail(nameAddrDiag(value, `"${uri}" is not an absolute URI`));
  const scan = scanHeaderParams(text, i);
  if (scan.error !== undefined || scan.end !== text.length) return fail(nameAddrDiag(value, scan.error ?? `unexpected "${text.slice(scan.end)}"`));
  const result: NameAddr = { uri, params: scan.params };
  if (displayName !== undefined) result.displayName = displayName;
  return ok(result);
}

export function formatNameAddr(n: NameAddr): string {
  const name = n.displayName === undefined ? '' : `${quote(n.displayName)} `;
  return `${name}<${n.uri}>${formatParams(n.params)}`;
}

/** The `tag` param of a From/To value, or undefined (also when the value does not parse). */
export function tagOf(value: string): string | undefined {
  const parsed = parseNameAddr(value);
  if (!parsed.ok) return undefined;
  const tag = getParam(parsed.value.params, 'tag');
  return typeof tag === 'string' ? tag : undefined;
}

// ---------------------------------------------------------------------------------------------
// Value types of the typed rows

export interface Via {
  /** `SIP/2.0` */
  protocol: string;
  /** `UDP`, `TCP`, `TLS`, … upper-cased as written. */
  transport: string;
  host: string;
  port?: number;
  /** All params as written, in order (branch/received/rport included). */
  params: Param[];
  branch?: string;
  received?: string;
  rport?: number | true;
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface EventValue {
  package: string;
  params: Param[];
}

export interface SubscriptionState {
  state: 'active' | 'pending' | 'terminated' | string;
  expires?: number;
  reason?: string;
  retryAfter?: number;
  params: Param[];
}

export interface ContentType {
  /** Lower-cased. */
  type: string;
  /** Lower-cased. */
  subtype: string;
  params: Param[];
}

export interface Warning {
  code: number;
  agent: string;
  /** Unquoted warn-text. */
  text: string;
}

/**
 * Params with the typed fields written over them: a field replaces the param of the same name in
 * place, a field with no such param is appended, so `{…, params: [], branch}` formats as expected.
 */
function withFields(params: readonly Param[], fields: readonly Param[]): Param[] {
  const merged = params.map((p) => fields.find((f) => f.name === p.name.toLowerCase()) ?? p);
  for (const f of fields) if (!params.some((p) => p.name.toLowerCase() === f.name)) merged.push(f);
  return merged;
}

const SENT_PROTOCOL = /^[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+/;

/** A header the harness only copies: the value as a string, trimmed. */
function textHeader(name: string, clause: string, examples: readonly string[], extra: { compact?: string; list?: boolean } = {}): HeaderKind<string> {
  return {
    name,
    list: extra.list ?? false,
    clause,
    examples,
    ...(extra.compact === undefined ? {} : { compact: extra.compact }),
    parse: (value) => ok(value.trim()),
    format: (value) => value,
  };
}

function nameAddrHeader(name: string, clause: string, examples: readonly string[], extra: { compact?: string; list?: boolean } = {}): HeaderKind<NameAddr> {
  return { name, list: extra.list ?? false, clause, examples, ...(extra.compact === undefined ? {} : { compact: extra.compact }), parse: parseNameAddr, format: formatNameAddr };
}

// ---------------------------------------------------------------------------------------------
// The table

export const HEADERS = {
  via: {
    name: 'Via',
    compact: 'v',
    list: true,
    clause: 'RFC 3261 §20.42',
    examples: ['SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKpf-inv-1a2b3c', 'SIP / 2.0 / UDP [2001:db8::1]:5060;rport;branch=z9hG4bK77'],
    parse(value: string): Result<Via> {
      const fault = (why: string): Result<Via> => fail(bad('SIP_BAD_VIA', 'Via', 'RFC 3261 §20.42', value, why));
      const m = SENT_PROTOCOL.exec(value);
      if (!m) return fault('sent-protocol is not name/version/transport followed by whitespace');
      let i = m[0].length;
      const start = i;
      while (i < value.length && value[i] !== ';' && !isWs(value[i])) i++;
      const hostPort = parseHostPort(value.slice(start, i));
      if (!hostPort) return fault(`bad sent-by "${value.slice(start, i)}"`);
      const scan = scanHeaderParams(value, i);
      const rest = value.slice(scan.end).trim();
      if (scan.error !== undefined || rest.length > 0) return fault(scan.error ?? `unexpected "${rest}" (several Via values need headerValues)`);
      const via: Via = { protocol: `${m[1]}/${m[2]}`, transport: m[3]!, host: hostPort.host, params: scan.params };
      if (hostPort.port !== undefined) via.port = hostPort.port;
      const branch = getParam(scan.params, 'branch');
      if (typeof branch === 'string') via.branch = branch;
      const received = getParam(scan.params, 'received');
      if (typeof received === 'string') via.received = received;
      const rport = getParam(scan.params, 'rport');
      if (rport === true) via.rport = true;
      else if (rport !== undefined) {
        if (!/^[0-9]{1,5}$/.test(rport)) return fault(`rport "${rport}" is not a port`);
        via.rport = Number(rport);
      }
      return ok(via);
    },
    /** `branch`, `received` and `rport` fields win over params of the same name. */
    format(v: Via): string {
      const fields: Param[] = [];
      if (v.branch !== undefined) fields.push({ name: 'branch', value: v.branch });
      if (v.received !== undefined) fields.push({ name: 'received', value: v.received });
      if (v.rport !== undefined) fields.push(v.rport === true ? { name: 'rport' } : { name: 'rport', value: String(v.rport) });
      return `${v.protocol}/${v.transport} ${formatHostPort(v.host, v.port)}${formatParams(withFields(v.params, fields))}`;
    },
  } satisfies HeaderKind<Via>,

  cseq: {
    name: 'CSeq',
    list: false,
    clause: 'RFC 3261 §20.16',
    examples: ['1 INVITE', '  42   SUBSCRIBE '],
    parse(value: string): Result<CSeq> {
      const m = /^[ \t]*([0-9]{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*$/.exec(value);
      if (!m) return fail(bad('SIP_BAD_CSEQ', 'CSeq', 'RFC 3261 §20.16', value, 'not "<number> <method>"'));
      const seq = Number(m[1]);
      // §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer and less than 2**31.
      if (seq >= 2 ** 31) return fail(bad('SIP_BAD_CSEQ', 'CSeq', 'RFC 3261 §8.1.1.5', value, `sequence number ${seq} is not below 2^31`));
      return ok({ seq, method: m[2]! });
    },
    format: (c: CSeq): string => `${c.seq} ${c.method}`,
  } satisfies HeaderKind<CSeq>,

  event: {
    name: 'Event',
    compact: 'o',
    list: false,
    clause: 'RFC 6665 §8.2.1',
    examples: ['conference', 'presence;id=7'],
    parse(value: string): Result<EventValue> {
      const r = tokenWithParams(value);
      if (typeof r === 'string') return fail(bad('SIP_BAD_EVENT', 'Event', 'RFC 6665 §8.2.1', value, r));
      return ok({ package: r.token, params: r.params });
    },
    format: (e: EventValue): string => `${e.package}${formatParams(e.params)}`,
  } satisfies HeaderKind<EventValue>,

  expires: {
    name: 'Expires',
    list: false,
    clause: 'RFC 3261 §20.19',
    examples: ['3600', '0'],
    parse(value: string): Result<number> {
      const n = deltaSeconds(value.trim());
      return n === undefined ? fail(bad('SIP_BAD_EXPIRES', 'Expires', 'RFC 3261 §20.19', value, 'not delta-seconds')) : ok(n);
    },
    format: (seconds: number): string => String(seconds),
  } satisfies HeaderKind<number>,

  'subscription-state': {
    name: 'Subscription-State',
    list: false,
    clause: 'RFC 6665 §8.2.3',
    examples: ['active;expires=3600', 'terminated;reason=noresource;retry-after=30', 'terminated'],
    parse(value: string): Result<SubscriptionState> {
      const fault = (why: string): Result<SubscriptionState> => fail(bad('SIP_BAD_SUBSCRIPTION_STATE', 'Subscription-State', 'RFC 6665 §8.2.3', value, why));
      const r = tokenWithParams(value);
      if (typeof r === 'string') return fault(r);
      const out: SubscriptionState = { state: r.token.toLowerCase(), params: r.params };
      for (const [param, key] of [['expires', 'expires'], ['retry-after', 'retryAfter']] as const) {
        const v = getParam(r.params, param);
        if (v === undefined) continue;
        const n = typeof v === 'string' ? deltaSeconds(v) : undefined;
        if (n === undefined) return fault(`${param} is not delta-seconds`);
        out[key] = n;
      }
      const reason = getParam(r.params, 'reason');
      if (typeof reason === 'string') out.reason = reason;
      return ok(out);
    },
    /** `reason`, `expires` and `retry-after` fields win over params of the same name. */
    format(s: SubscriptionState): string {
      const fields: Param[] = [];
      if (s.reason !== undefined) fields.push({ name: 'reason', value: s.reason });
      if (s.expires !== undefined) fields.push({ name: 'expires', value: String(s.expires) });
      if (s.retryAfter !== undefined) fields.push({ name: 'retry-after', value: String(s.retryAfter) });
      return `${s.state}${formatParams(withFields(s.params, fields))}`;
    },
  } satisfies HeaderKind<SubscriptionState>,

  'content-type': {
    name: 'Content-Type',
    compact: 'c',
    list: false,
    clause: 'RFC 3261 §20.15',
    examples: ['application/sdp', 'multipart/mixed;boundary="b1"', 'application/conference-info+xml'],
    parse(value: string): Result<ContentType> {
      const fault = (why: string): Result<ContentType> => fail(bad('SIP_BAD_CONTENT_TYPE', 'Content-Type', 'RFC 3261 §20.15', value, why));
      const text = value.trim();
      const m = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)/.exec(text);
      if (!m) return fault('not type/subtype');
      const scan = scanHeaderParams(text, m[0].length);
      if (scan.error !== undefined || scan.end !== text.length) return fault(scan.error ?? `unexpected "${text.slice(scan.end)}"`);
      return ok({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), params: scan.params });
    },
    format: (c: ContentType): string => `${c.type}/${c.subtype}${formatParams(c.params)}`,
  } satisfies HeaderKind<ContentType>,

  warning: {
    name: 'Warning',
    list: true,
    clause: 'RFC 3261 §20.43',
    examples: ['399 192.0.2.50 "Deferred group delivery requires a=sendrecv"', '399 cpm-pf "no \\"usable\\" MSRP stream"'],
    parse(value: string): Result<Warning> {
      // A scan, not one regex: the quoted-string group backtracked over every character of an unterminated warn-text.
      const head = /^[ \t]*([0-9]{3})[ \t]+(\S+)[ \t]+/.exec(value);
      const quoteAt = head === null ? -1 : head[0].length;
      const end = quoteAt !== -1 && value[quoteAt] === '"' ? endOfQuoted(value, quoteAt) : -1;
      if (head === null || end === -1 || skipWs(value, end) !== value.length) {
        return fail(bad('SIP_BAD_WARNING', 'Warning', 'RFC 3261 §20.43', value, 'not warn-code SP warn-agent SP quoted warn-text'));
      }
      return ok({ code: Number(head[1]), agent: head[2]!, text: unquote(value.slice(quoteAt, end)) });
    },
    format: (w: Warning): string => `${w.code} ${w.agent} ${quote(w.text)}`,
  } satisfies HeaderKind<Warning>,

  'accept-contact': {
    name: 'Accept-Contact',
    compact: 'a',
    list: true,
    clause: 'RFC 3841 §9.2',
    examples: [
      '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"',
      '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session.group";require;explicit',
    ],
    parse: parseAcceptContact,
    format: formatAcceptContact,
  } satisfies HeaderKind<AcceptContact>,

  from: nameAddrHeader('From', 'RFC 3261 §20.20', ['<sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1', '"Alice" <sip:alice@example.com>;tag=9'], { compact: 'f' }),
  to: nameAddrHeader('To', 'RFC 3261 §20.39', ['<sip:+15551230002@ims.example.net>', 'sip:carol@example.com;tag=77'], { compact: 't' }),
  contact: nameAddrHeader('Contact', 'RFC 3261 §20.10', ['<sip:grp.7c1e9a@cpm-pf.example.net;transport=tcp>;isfocus'], { compact: 'm', list: true }),
  route: nameAddrHeader('Route', 'RFC 3261 §20.34', ['<sip:127.0.0.1:5070;transport=tcp;lr>'], { list: true }),
  'record-route': nameAddrHeader('Record-Route', 'RFC 3261 §20.30', ['<sip:127.0.0.1:5070;lr>'], { list: true }),
  'p-asserted-identity': nameAddrHeader('P-Asserted-Identity', 'RFC 3325 §9.1', ['<sip:grp.7c1e9a@cpm-pf.example.net>'], { list: true }),
  'referred-by': nameAddrHeader('Referred-By', 'RFC 3892 §3', ['<sip:+15551230001@ims.example.net>'], { compact: 'b' }),
  'refer-to': nameAddrHeader('Refer-To', 'RFC 3515 §2.1', ['<sip:grp.7c1e9a@cpm-pf.example.net>'], { compact: 'r' }),
  path: nameAddrHeader('Path', 'RFC 3327 §4', ['<sip:127.0.0.1:5070;lr>'], { list: true }),
  'service-route': nameAddrHeader('Service-Route', 'RFC 3608', ['<sip:127.0.0.1:5070;lr>'], { list: true }),

  'call-id': textHeader('Call-ID', 'RFC 3261 §20.8', ['f81d4fae-7dec-11d0-a765-00a0c91e6bf6@192.0.2.10'], { compact: 'i' }),
  'max-forwards': textHeader('Max-Forwards', 'RFC 3261 §20.22', ['70']),
  'content-length': textHeader('Content-Length', 'RFC 3261 §20.14', ['0'], { compact: 'l' }),
  'content-encoding': textHeader('Content-Encoding', 'RFC 3261 §20.12', ['gzip'], { compact: 'e', list: true }),
  subject: textHeader('Subject', 'RFC 3261 §20.36', ['Weekend plans'], { compact: 's' }),
  allow: textHeader('Allow', 'RFC 3261 §20.5', ['INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, MESSAGE'], { list: true }),
  'allow-events': textHeader('Allow-Events', 'RFC 6665 §8.2.2', ['conference'], { compact: 'u', list: true }),
  supported: textHeader('Supported', 'RFC 3261 §20.37', ['timer, path'], { compact: 'k', list: true }),
  require: textHeader('Require', 'RFC 3261 §20.32', ['100rel'], { list: true }),
  'proxy-require': textHeader('Proxy-Require', 'RFC 3261 §20.29', ['sec-agree'], { list: true }),
  unsupported: textHeader('Unsupported', 'RFC 3261 §20.40', ['100rel'], { list: true }),
  accept: textHeader('Accept', 'RFC 3261 §20.1', ['application/conference-info+xml'], { list: true }),
  'accept-encoding': textHeader('Accept-Encoding', 'RFC 3261 §20.2', ['gzip'], { list: true }),
  'accept-language': textHeader('Accept-Language', 'RFC 3261 §20.3', ['en'], { list: true }),
  'reject-contact': textHeader('Reject-Contact', 'RFC 3841 §9.2', ['*;actor="msg-taker"'], { compact: 'j', list: true }),
  'request-disposition': textHeader('Request-Disposition', 'RFC 3841 §9.1', ['proxy, recurse'], { compact: 'd' }),
  'session-expires': textHeader('Session-Expires', 'RFC 4028 §4', ['1800;refresher=uac'], { compact: 'x' }),
} as const;

export type HeaderName = keyof typeof HEADERS;

const ROWS: readonly HeaderKind<unknown>[] = Object.values(HEADERS) as readonly HeaderKind<unknown>[];

/** Compact form → lower-case full name, derived from the table (`v` → `via`). */
export const COMPACT_FORMS: ReadonlyMap<string, string> = new Map(ROWS.flatMap((row) => (row.compact === undefined ? [] : [[row.compact, row.name.toLowerCase()] as const])));

/** Lower-case names of the list headers, derived from the table. */
export const LIST_HEADER_NAMES: ReadonlySet<string> = new Set(ROWS.filter((row) => row.list).map((row) => row.name.toLowerCase()));

/** The row for a lower-case full header name, if the table has one. */
export function headerKind(name: string): HeaderKind<unknown> | undefined {
  const key = name.toLowerCase();
  return Object.hasOwn(HEADERS, key) ? (HEADERS as Record<string, HeaderKind<unknown>>)[key] : undefined;
}

// Named entry points of the rows the harness reads (stable names for callers).
export const parseVia = HEADERS.via.parse;
export const formatVia = HEADERS.via.format;
export const parseCSeq = HEADERS.cseq.parse;
export const formatCSeq = HEADERS.cseq.format;
export const parseEvent = HEADERS.event.parse;
export const formatEvent = HEADERS.event.format;
export const parseExpires = HEADERS.expires.parse;
export const parseSubscriptionState = HEADERS['subscription-state'].parse;
export const formatSubscriptionState = HEADERS['subscription-state'].format;
export const parseContentType = HEADERS['content-type'].parse;
export const formatContentType = HEADERS['content-type'].format;
export const parseWarning = HEADERS.warning.parse;
export const formatWarning = HEADERS.warning.format;

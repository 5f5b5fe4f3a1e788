/**
 * Header *value* parsers (RFC 3261 §20, §25.1; RFC 3840/3841; RFC 6665). The message parser keeps
 * values as strings; these turn one value into a typed record on demand. Each returns a Result with
 * diagnostics and never throws. Params keep their value exactly as written (quotes included) so a
 * formatted header says what was received; `getParam` gives the semantic (unquoted) value.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { fail, ok, type Result } from '../core/result.ts';

// ---------------------------------------------------------------------------------------------
// Character classes (RFC 3261 §25.1)

const TOKEN_CHARS = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') TOKEN_CHARS[c.charCodeAt(0)] = 1;

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

function skipWs(text: string, i: number): number {
  while (i < text.length && isWs(text[i])) i++;
  return i;
}

/** Reads a quoted-string starting at `i` (which must be `"`); returns the index after the closing quote or -1. */
function endOfQuoted(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  return -1;
}

/** `"a \"b\""` → `a "b"`; anything not quoted is returned unchanged. */
export function unquote(text: string): string {
  if (text.length < 2 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function quote(text: string): string {
  return `"${text.replace(/(["\\])/g, '\\$1')}"`;
}

// ---------------------------------------------------------------------------------------------
// Params

export interface Param {
  name: string;
  /** As written, quotes included; absent for a flag param (`;lr`, `;rport`). */
  value?: string;
}

/** Case-insensitive look-up; quoted values are unquoted; `true` for a flag param. */
export function getParam(params: readonly Param[], name: string): string | true | undefined {
  const want = name.toLowerCase();
  for (const p of params) {
    if (p.name.toLowerCase() === want) return p.value === undefined ? true : unquote(p.value);
  }
  return undefined;
}

export function formatParams(params: readonly Param[]): string {
  let out = '';
  for (const p of params) out += p.value === undefined ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

interface ParamScan {
  params: Param[];
  /** Index where scanning stopped (text.length when everything was consumed). */
  end: number;
  error?: string;
}

/**
 * Header params `*( SEMI generic-param )` from `i` (RFC 3261 §25.1: `generic-param = token
 * [ EQUAL gen-value ]`, `gen-value = token / host / quoted-string`). Stops at end of text or at
 * the first character that cannot continue the list.
 */
function scanHeaderParams(text: string, i: number): ParamScan {
  const params: Param[] = [];
  for (;;) {
    i = skipWs(text, i);
    if (i >= text.length || text[i] !== ';') return { params, end: i };
    i = skipWs(text, i + 1);
    const nameStart = i;
    while (i < text.length && text.charCodeAt(i) < 128 && TOKEN_CHARS[text.charCodeAt(i)] === 1) i++;
    if (i === nameStart) return { params, end: i, error: 'empty parameter name' };
    const name = text.slice(nameStart, i);
    const afterName = skipWs(text, i);
    if (text[afterName] !== '=') {
      params.push({ name });
      i = afterName;
      continue;
    }
    i = skipWs(text, afterName + 1);
    if (text[i] === '"') {
      const end = endOfQuoted(text, i);
      if (end === -1) return { params, end: i, error: `unterminated quoted value for ${name}` };
      params.push({ name, value: text.slice(i, end) });
      i = end;
      continue;
    }
    const valueStart = i;
    while (i < text.length && text[i] !== ';' && text[i] !== ',' && !isWs(text[i]) && text[i] !== '"') i++;
    if (i === valueStart) return { params, end: i, error: `empty value for ${name}` };
    params.push({ name, value: text.slice(valueStart, i) });
  }
}

// ---------------------------------------------------------------------------------------------
// Host and port

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV6_REFERENCE = /^\[[0-9A-Fa-f:.]+\]$/;

function isHost(host: string): boolean {
  return HOSTNAME.test(host) || (IPV6_REFERENCE.test(host) && host.includes(':'));
}

/** `host[:port]`, host may be an IPv6 reference. */
function parseHostPort(text: string): { host: string; port?: number } | undefined {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return undefined;
    host = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest.length > 0) {
      if (rest[0] !== ':') return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    if (colon !== -1) portText = text.slice(colon + 1);
  }
  if (!isHost(host)) return undefined;
  if (portText === undefined) return { host };
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { host, port };
}

// ---------------------------------------------------------------------------------------------
// URIs (RFC 3261 §19.1, RFC 3966 for tel)

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  /** Escaped as written. For `tel:` URIs absent (the number is in `host`). */
  user?: string;
  password?: string;
  /** Host as written (IPv6 with brackets); for `tel:` the telephone-subscriber number. */
  host: string;
  port?: number;
  /** URI parameters (`;transport=tcp`), values as written. */
  params: Param[];
  /** Header part after `?`, without the `?`; empty when absent. */
  headers: string;
}

function uriDiag(text: string, why: string): Diagnostic {
  return diagnostic('SIP_BAD_URI', `Malformed URI: ${why}`, 'RFC 3261 §19.1.1', { bytes: text });
}

/** URI params: `;name[=value]` with no whitespace (RFC 3261 §19.1.1 `uri-parameters`). */
function splitUriParams(text: string): Param[] | undefined {
  if (text.length === 0) return [];
  const params: Param[] = [];
  for (const piece of text.slice(1).split(';')) {
    if (piece.length === 0) return undefined;
    const eq = piece.indexOf('=');
    const name = eq === -1 ? piece : piece.slice(0, eq);
    if (!/^[A-Za-z0-9\-_.!~*'()%[\]/:&+$]+$/.test(name)) return undefined;
    if (eq === -1) params.push({ name });
    else {
      const value = piece.slice(eq + 1);
      if (!/^[A-Za-z0-9\-_.!~*'()%[\]/:&+$]+$/.test(value)) return undefined;
      params.push({ name, value });
    }
  }
  return params;
}

const USERINFO_CHARS = /^[A-Za-z0-9\-_.!~*'()%&=+$,;?/]+$/;

export function parseSipUri(text: string): Result<SipUri> {
  const colon = text.indexOf(':');
  if (colon === -1) return fail(uriDiag(text, 'no scheme'));
  const scheme = text.slice(0, colon).toLowerCase();
  const rest = text.slice(colon + 1);
  if (/\s/.test(text)) return fail(uriDiag(text, 'whitespace inside the URI'));
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi === -1 ? rest : rest.slice(0, semi);
    const params = splitUriParams(semi === -1 ? '' : rest.slice(semi));
    if (!/^\+?[0-9A-Fa-f*#().\-]+$/.test(number) || !params) return fail(uriDiag(text, 'not a telephone-subscriber (RFC 3966 §3)'));
    return ok({ scheme: 'tel', host: number, params, headers: '' });
  }
  if (scheme !== 'sip' && scheme !== 'sips') return fail(uriDiag(text, `scheme "${scheme}" is not sip, sips or tel`));
  const at = rest.indexOf('@');
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = rest;
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pw = userinfo.indexOf(':');
    user = pw === -1 ? userinfo : userinfo.slice(0, pw);
    if (pw !== -1) password = userinfo.slice(pw + 1);
    if (!USERINFO_CHARS.test(user)) return fail(uriDiag(text, 'bad user part'));
    if (password !== undefined && password.length > 0 && !/^[A-Za-z0-9\-_.!~*'()%&=+$,]+$/.test(password)) return fail(uriDiag(text, 'bad password'));
  }
  const q = hostPart.indexOf('?');
  const headers = q === -1 ? '' : hostPart.slice(q + 1);
  const beforeHeaders = q === -1 ? hostPart : hostPart.slice(0, q);
  // IPv6 references contain ':' but never ';', so the first ';' ends host:port.
  const semi = beforeHeaders.indexOf(';');
  const hostPortText = semi === -1 ? beforeHeaders : beforeHeaders.slice(0, semi);
  const hostPort = parseHostPort(hostPortText);
  if (!hostPort) return fail(uriDiag(text, `bad host or port "${hostPortText}"`));
  const params = splitUriParams(semi === -1 ? '' : beforeHeaders.slice(semi));
  if (!params) return fail(uriDiag(text, 'bad URI parameter'));
  if (q !== -1 && !/^[^=&]+=[^&]*(&[^=&]+=[^&]*)*$/.test(headers)) return fail(uriDiag(text, 'bad URI headers'));
  const uri: SipUri = { scheme, host: hostPort.host, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (hostPort.port !== undefined) uri.port = hostPort.port;
  return ok(uri);
}

export function formatSipUri(u: SipUri): string {
  if (u.scheme === 'tel') return `tel:${u.host}${formatParams(u.params)}`;
  const userinfo = u.user === undefined ? '' : `${u.user}${u.password === undefined ? '' : `:${u.password}`}@`;
  const port = u.port === undefined ? '' : `:${u.port}`;
  const headers = u.headers.length === 0 ? '' : `?${u.headers}`;
  return `${u.scheme}:${userinfo}${u.host}${port}${formatParams(u.params)}${headers}`;
}

/** Decodes %XX of unreserved characters only: RFC 3261 §19.1.4 treats those as equal to their escapes. */
function normaliseEscapes(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-_.!~*'()]/.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

const PARAMS_THAT_MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport'];

/** RFC 3261 §19.1.4 URI comparison; `tel:` URIs compare by number (visual separators ignored) and params. */
export function sipUrisEqual(a: string, b: string): boolean {
  const ra = parseSipUri(a);
  const rb = parseSipUri(b);
  if (!ra.ok || !rb.ok) return a === b;
  const x = ra.value;
  const y = rb.value;
  if (x.scheme !== y.scheme) return false;
  if (x.scheme === 'tel') {
    const digits = (n: string): string => n.replace(/[\-.()]/g, '').toLowerCase();
    if (digits(x.host) !== digits(y.host)) return false;
    const norm = (ps: Param[]): string => ps.map((p) => `${p.name.toLowerCase()}=${(p.value ?? '').toLowerCase()}`).sort().join(';');
    return norm(x.params) === norm(y.params);
  }
  // userinfo is case-sensitive; host is not; a missing port is not the default port.
  if (normaliseEscapes(x.user ?? '') !== normaliseEscapes(y.user ?? '') || (x.user === undefined) !== (y.user === undefined)) return false;
  if ((x.password ?? '') !== (y.password ?? '')) return false;
  if (x.host.toLowerCase() !== y.host.toLowerCase() || x.port !== y.port) return false;
  const px = new Map(x.params.map((p) => [p.name.toLowerCase(), normaliseEscapes(p.value ?? '').toLowerCase()]));
  const py = new Map(y.params.map((p) => [p.name.toLowerCase(), normaliseEscapes(p.value ?? '').toLowerCase()]));
  for (const name of PARAMS_THAT_MUST_MATCH) {
    if (px.has(name) !== py.has(name) || px.get(name) !== py.get(name)) return false;
  }
  for (const [name, value] of px) if (py.has(name) && py.get(name) !== value) return false;
  const hdrs = (h: string): string =>
    h.length === 0
      ? ''
      : h
          .split('&')
          .map((kv) => {
            const eq = kv.indexOf('=');
            return `${kv.slice(0, eq).toLowerCase()}=${normaliseEscapes(kv.slice(eq + 1))}`;
          })
          .sort()
          .join('&');
  return hdrs(x.headers) === hdrs(y.headers);
}

// ---------------------------------------------------------------------------------------------
// name-addr / addr-spec (From, To, Contact, Route, Record-Route, P-Asserted-Identity)

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
// Via (RFC 3261 §20.42)

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

function viaDiag(value: string, why: string): Diagnostic {
  return diagnostic('SIP_BAD_VIA', `Malformed Via: ${why}`, 'RFC 3261 §20.42', { bytes: value });
}

// Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKpf-inv-1a2b3c
// Via: SIP / 2.0 / UDP [2001:db8::1]:5060;rport;branch=z9hG4bK77
export function parseVia(value: string): Result<Via> {
  const m = /^[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+/.exec(value);
  if (!m) return fail(viaDiag(value, 'sent-protocol is not name/version/transport followed by whitespace'));
  let i = m[0].length;
  const start = i;
  while (i < value.length && value[i] !== ';' && !isWs(value[i])) i++;
  const hostPort = parseHostPort(value.slice(start, i));
  if (!hostPort) return fail(viaDiag(value, `bad sent-by "${value.slice(start, i)}"`));
  const scan = scanHeaderParams(value, i);
  const rest = value.slice(scan.end).trim();
  if (scan.error !== undefined || rest.length > 0) return fail(viaDiag(value, scan.error ?? `unexpected "${rest}" (several Via values need headerValues)`));
  const via: Via = { protocol: `${m[1]}/${m[2]}`, transport: m[3]!, host: hostPort.host, params: scan.params };
  if (hostPort.port !== undefined) via.port = hostPort.port;
  const branch = getParam(scan.params, 'branch');
  if (typeof branch === 'string') via.branch = branch;
  const received = getParam(scan.params, 'received');
  if (typeof received === 'string') via.received = received;
  const rport = getParam(scan.params, 'rport');
  if (rport === true) via.rport = true;
  else if (rport !== undefined) {
    if (!/^[0-9]{1,5}$/.test(rport)) return fail(viaDiag(value, `rport "${rport}" is not a port`));
    via.rport = Number(rport);
  }
  return ok(via);
}

/**
 * `branch`, `received` and `rport` fields win over params of the same name (replaced in place);
 * those set only as fields are appended, so `{…, params: [], branch}` formats as expected.
 */
export function formatVia(v: Via): string {
  const fields: Param[] = [];
  if (v.branch !== undefined) fields.push({ name: 'branch', value: v.branch });
  if (v.received !== undefined) fields.push({ name: 'received', value: v.received });
  if (v.rport !== undefined) fields.push(v.rport === true ? { name: 'rport' } : { name: 'rport', value: String(v.rport) });
  const params = v.params.map((p) => fields.find((f) => f.name === p.name.toLowerCase()) ?? p);
  for (const f of fields) if (!v.params.some((p) => p.name.toLowerCase() === f.name)) params.push(f);
  const port = v.port === undefined ? '' : `:${v.port}`;
  return `${v.protocol}/${v.transport} ${v.host}${port}${formatParams(params)}`;
}

// ---------------------------------------------------------------------------------------------
// Table of simple header kinds: each row's comment example is also a test (test/sip/headers.test.ts).

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

function bad(code: string, header: string, clause: string, value: string, why: string): Diagnostic {
  return diagnostic(code, `Malformed ${header}: ${why}`, clause, { bytes: value });
}

/** Leading token then header params, e.g. `conference;id=3`. */
function tokenWithParams(value: string): { token: string; params: Param[] } | string {
  const text = value.trim();
  let i = 0;
  while (i < text.length && text.charCodeAt(i) < 128 && TOKEN_CHARS[text.charCodeAt(i)] === 1) i++;
  if (i === 0) return 'does not start with a token';
  const scan = scanHeaderParams(text, i);
  if (scan.error !== undefined) return scan.error;
  if (scan.end !== text.length) return `unexpected "${text.slice(scan.end)}"`;
  return { token: text.slice(0, i), params: scan.params };
}

function deltaSeconds(text: string): number | undefined {
  return /^[0-9]{1,10}$/.test(text) ? Number(text) : undefined;
}

// CSeq: 1 INVITE
export function parseCSeq(value: string): Result<CSeq> {
  const m = /^[ \t]*([0-9]{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*$/.exec(value);
  if (!m) return fail(bad('SIP_BAD_CSEQ', 'CSeq', 'RFC 3261 §20.16', value, 'not "<number> <method>"'));
  const seq = Number(m[1]);
  // §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer and less than 2**31.
  if (seq >= 2 ** 31) return fail(bad('SIP_BAD_CSEQ', 'CSeq', 'RFC 3261 §8.1.1.5', value, `sequence number ${seq} is not below 2^31`));
  return ok({ seq, method: m[2]! });
}

// Event: conference
// Event: presence;id=7
export function parseEvent(value: string): Result<EventValue> {
  const r = tokenWithParams(value);
  if (typeof r === 'string') return fail(bad('SIP_BAD_EVENT', 'Event', 'RFC 6665 §8.2.1', value, r));
  return ok({ package: r.token, params: r.params });
}

// Expires: 3600
export function parseExpires(value: string): Result<number> {
  const n = deltaSeconds(value.trim());
  return n === undefined ? fail(bad('SIP_BAD_EXPIRES', 'Expires', 'RFC 3261 §20.19', value, 'not delta-seconds')) : ok(n);
}

// Subscription-State: active;expires=3600
// Subscription-State: terminated;reason=noresource;retry-after=30
export function parseSubscriptionState(value: string): Result<SubscriptionState> {
  const r = tokenWithParams(value);
  if (typeof r === 'string') return fail(bad('SIP_BAD_SUBSCRIPTION_STATE', 'Subscription-State', 'RFC 6665 §8.2.3', value, r));
  const out: SubscriptionState = { state: r.token.toLowerCase(), params: r.params };
  for (const [param, key] of [['expires', 'expires'], ['retry-after', 'retryAfter']] as const) {
    const v = getParam(r.params, param);
    if (v === undefined) continue;
    const n = typeof v === 'string' ? deltaSeconds(v) : undefined;
    if (n === undefined) return fail(bad('SIP_BAD_SUBSCRIPTION_STATE', 'Subscription-State', 'RFC 6665 §8.2.3', value, `${param} is not delta-seconds`));
    out[key] = n;
  }
  const reason = getParam(r.params, 'reason');
  if (typeof reason === 'string') out.reason = reason;
  return ok(out);
}

// Content-Type: application/sdp
// Content-Type: multipart/mixed;boundary="b1"
export function parseContentType(value: string): Result<ContentType> {
  const text = value.trim();
  const m = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)/.exec(text);
  if (!m) return fail(bad('SIP_BAD_CONTENT_TYPE', 'Content-Type', 'RFC 3261 §20.15', value, 'not type/subtype'));
  const scan = scanHeaderParams(text, m[0].length);
  if (scan.error !== undefined || scan.end !== text.length) {
    return fail(bad('SIP_BAD_CONTENT_TYPE', 'Content-Type', 'RFC 3261 §20.15', value, scan.error ?? `unexpected "${text.slice(scan.end)}"`));
  }
  return ok({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), params: scan.params });
}

// Warning: 399 192.0.2.50 "Deferred group delivery requires a=sendrecv"
export function parseWarning(value: string): Result<Warning> {
  const m = /^[ \t]*([0-9]{3})[ \t]+(\S+)[ \t]+("(?:[^"\\]|\\.)*")[ \t]*$/.exec(value);
  if (!m) return fail(bad('SIP_BAD_WARNING', 'Warning', 'RFC 3261 §20.43', value, 'not warn-code SP warn-agent SP quoted warn-text'));
  return ok({ code: Number(m[1]), agent: m[2]!, text: unquote(m[3]!) });
}

// ---------------------------------------------------------------------------------------------
// Accept-Contact (RFC 3841 §9.2) and feature tags (RFC 3840 §9)

export interface FeatureParam {
  /** As written, e.g. `+g.3gpp.icsi-ref`, `isfocus`. */
  name: string;
  /** Tag values as written inside the quotes (still percent-encoded), or `true` for a bare tag. */
  values: string[] | true;
  /** `!` before the value(s): the tag must NOT have that value. */
  negated?: boolean;
  /** The param exactly as written, e.g. `+g.3gpp.icsi-ref="urn%3A…"`. */
  raw: string;
}

export interface AcceptContact {
  params: FeatureParam[];
  require: boolean;
  explicit: boolean;
}

function acceptContactDiag(value: string, why: string): Diagnostic {
  return diagnostic('SIP_BAD_ACCEPT_CONTACT', `Malformed Accept-Contact: ${why}`, 'RFC 3841 §9.2', { bytes: value });
}

// Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"
// Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session.group";require;explicit
export function parseAcceptContact(value: string): Result<AcceptContact> {
  const text = value.trim();
  if (text[0] !== '*') return fail(acceptContactDiag(value, 'ac-value must start with "*"'));
  const scan = scanHeaderParams(text, 1);
  if (scan.error !== undefined || scan.end !== text.length) return fail(acceptContactDiag(value, scan.error ?? `unexpected "${text.slice(scan.end)}"`));
  const out: AcceptContact = { params: [], require: false, explicit: false };
  for (const p of scan.params) {
    const lower = p.name.toLowerCase();
    if (lower === 'require' && p.value === undefined) out.require = true;
    else if (lower === 'explicit' && p.value === undefined) out.explicit = true;
    else out.params.push(featureParam(p));
  }
  return ok(out);
}

function featureParam(p: Param): FeatureParam {
  const raw = p.value === undefined ? p.name : `${p.name}=${p.value}`;
  if (p.value === undefined) return { name: p.name, values: true, raw };
  const inner = p.value.startsWith('"') ? unquote(p.value) : p.value;
  // A string-value `<…>` is one value even if it contains commas.
  const values = inner.startsWith('<') ? [inner] : inner.split(',').map((v) => v.trim());
  const negated = values.length > 0 && values.every((v) => v.startsWith('!'));
  const result: FeatureParam = { name: p.name, values: negated ? values.map((v) => v.slice(1)) : values, raw };
  if (negated) result.negated = true;
  return result;
}

/** RFC 3840 §9 `token-nobang`: the characters allowed unencoded in a tag-value. */
const TOKEN_NOBANG = /^[A-Za-z0-9\-.%*_+`'~]+$/;

/** Canonical 3GPP TS 24.229 §7.2A.8 encoding: every character outside token-nobang as upper-case %XX. */
export function encodeIcsi(icsi: string): string {
  let out = '';
  for (const ch of icsi) out += /[A-Za-z0-9\-.*_+`'~]/.test(ch) ? ch : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

function percentDecode(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Whether any Accept-Contact value carries `icsi` in `+g.3gpp.icsi-ref`. Matching percent-decodes
 * (so `%3a` == `%3A` == an unencoded `:`); `exactEncoding` says whether the matching value was
 * written in the canonical upper-case encoding; an unencoded value gets SIP_FEATURE_TAG_NOT_ENCODED.
 */
export function hasIcsi(acceptContactValues: string[], icsi: string): { present: boolean; exactEncoding: boolean; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const canonical = encodeIcsi(icsi);
  let present = false;
  let exactEncoding = false;
  for (const value of acceptContactValues) {
    const parsed = parseAcceptContact(value);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.ok) continue;
    for (const fp of parsed.value.params) {
      if (fp.name.toLowerCase() !== '+g.3gpp.icsi-ref' || fp.values === true || fp.negated) continue;
      for (const v of fp.values) {
        if (!v.startsWith('<') && !TOKEN_NOBANG.test(v)) {
          diagnostics.push(
            diagnostic('SIP_FEATURE_TAG_NOT_ENCODED', `tag-value "${v}" has characters outside token-nobang; TS 24.229 §7.2A.8 wants them percent-encoded`, 'RFC 3840 §9', {
              bytes: v,
            }),
          );
        }
        if (percentDecode(v) === icsi) {
          present = true;
          if (v === canonical) exactEncoding = true;
        }
      }
    }
  }
  return { present, exactEncoding, diagnostics };
}

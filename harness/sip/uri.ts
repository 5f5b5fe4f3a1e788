/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966): parse, format and the §19.1.4 comparison.
 * Pure; every deviation is a SIP_BAD_URI diagnostic with the offending text.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { formatParams, parseHostPort, type Param } from './lex.ts';

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

/**
 * MSRP URIs (RFC 4975 §6, ABNF in §9):
 *   MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter )
 * e.g. `msrp://192.0.2.10:7394/pf8s3kq1;tcp`.
 */
import { diagnostic } from '../core/diagnostic.ts';
import { fail, ok, type Result } from '../core/result.ts';

export interface MsrpUriParam {
  name: string;
  value?: string;
}

export interface MsrpUri {
  scheme: 'msrp' | 'msrps';
  /** userinfo before `@`, if any (ignored by §6.1 comparison). */
  userinfo?: string;
  /** As written; IPv6 references keep their brackets. */
  host: string;
  port?: number;
  /** Empty when the URI has no session-id part (relay URIs); never equal to one that has one (§6.1). */
  sessionId: string;
  transport: string;
  /** URI parameters after the transport, in order. */
  params: MsrpUriParam[];
}

const CLAUSE = 'RFC 4975 §6';
// session-id = 1*( unreserved / "+" / "=" / "/" ); unreserved includes percent-escapes in practice.
const SESSION_ID = /^[A-Za-z0-9\-._~+=/%]+$/;
const TRANSPORT = /^[A-Za-z0-9]+$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,=]+)$/;

export function parseMsrpUri(text: string): Result<MsrpUri> {
  const bad = (message: string) => fail<MsrpUri>(diagnostic('MSRP_BAD_URI', message, CLAUSE, { bytes: text }));
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/;]*)(?:\/([^;]*))?;(.*)$/.exec(text);
  if (!m) return bad('not an MSRP URI: expected scheme://authority[/session-id];transport');
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'msrp' && scheme !== 'msrps') return bad(`scheme "${m[1]}" is neither msrp nor msrps`);
  let authority = m[2]!;
  let userinfo: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
  }
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (!hp || hp[1] === '' || !HOST.test(hp[1]!)) return bad(`bad host in authority "${m[2]}"`);
  let port: number | undefined;
  if (hp[2] !== undefined) {
    if (hp[2] === '' || Number(hp[2]) > 65535) return bad(`bad port "${hp[2]}"`);
    port = Number(hp[2]);
  }
  const sessionId = m[3] ?? '';
  if (m[3] !== undefined && !SESSION_ID.test(sessionId)) return bad(`bad session-id "${sessionId}"`);
  const [transport, ...rest] = m[4]!.split(';');
  if (!transport || !TRANSPORT.test(transport)) return bad(`bad transport "${transport ?? ''}"`);
  const params: MsrpUriParam[] = [];
  for (const p of rest) {
    if (p === '') return bad('empty URI parameter');
    const eq = p.indexOf('=');
    params.push(eq === -1 ? { name: p } : { name: p.slice(0, eq), value: p.slice(eq + 1) });
  }
  const uri: MsrpUri = { scheme, host: hp[1]!, sessionId, transport, params };
  if (userinfo !== undefined) uri.userinfo = userinfo;
  if (port !== undefined) uri.port = port;
  return ok(uri);
}

export function formatMsrpUri(uri: Readonly<MsrpUri>): string {
  const user = uri.userinfo === undefined ? '' : `${uri.userinfo}@`;
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  const sid = uri.sessionId === '' ? '' : `/${uri.sessionId}`;
  const params = uri.params.map((p) => (p.value === undefined ? `;${p.name}` : `;${p.name}=${p.value}`)).join('');
  return `${uri.scheme}://${user}${uri.host}${port}${sid};${uri.transport}${params}`;
}

function decodeUnreserved(host: string): string {
  return host.replace(/%([0-9A-Fa-f]{2})/g, (all, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : all;
  });
}

/**
 * RFC 4975 §6.1: scheme and host case-insensitive (percent-decoded unreserved characters, userinfo
 * ignored), an explicit port only equals the same explicit port, session-id case-sensitive,
 * transport case-insensitive; other parameters are not compared.
 */
export function msrpUrisEqual(a: MsrpUri, b: MsrpUri): boolean {
  return (
    a.scheme.toLowerCase() === b.scheme.toLowerCase() &&
    decodeUnreserved(a.host).toLowerCase() === decodeUnreserved(b.host).toLowerCase() &&
    a.port === b.port &&
    a.sessionId === b.sessionId &&
    a.transport.toLowerCase() === b.transport.toLowerCase()
  );
}

/**
 * Paths repeat on every frame of a session (three parses per frame between parser and session),
 * so results are remembered, bounded, and handed out as copies: callers may edit theirs.
 */
const pathCache = new Map<string, Result<MsrpUri[]>>();
const PATH_CACHE_ENTRIES = 512;

function copyPath(result: Result<MsrpUri[]>): Result<MsrpUri[]> {
  return result.ok ? ok(result.value.map((u) => ({ ...u, params: u.params.map((p) => ({ ...p })) }))) : fail(...result.diagnostics.map((d) => ({ ...d })));
}

/** A To-Path / From-Path value: one or more URIs separated by single spaces (§9). */
export function parseMsrpPath(value: string): Result<MsrpUri[]> {
  return copyPath(sharedPath(value));
}

/**
 * parseMsrpPath for readers that only look (the parser's checks, the session's To-Path match, a
 * response's To-Path): the remembered result itself, frozen, so no copy is made per frame.
 */
export function readMsrpPath(value: string): Result<readonly Readonly<MsrpUri>[]> {
  return sharedPath(value);
}

function sharedPath(value: string): Result<MsrpUri[]> {
  const known = pathCache.get(value);
  if (known !== undefined) return known;
  const parsed = freezeResult(parsePathUncached(value));
  if (pathCache.size >= PATH_CACHE_ENTRIES) pathCache.clear();
  pathCache.set(value, parsed);
  return parsed;
}

function freezeResult(result: Result<MsrpUri[]>): Result<MsrpUri[]> {
  if (result.ok) {
    for (const u of result.value) {
      for (const p of u.params) Object.freeze(p);
      Object.freeze(u.params);
      Object.freeze(u);
    }
    Object.freeze(result.value);
  } else for (const d of result.diagnostics) Object.freeze(d);
  Object.freeze(result.diagnostics);
  return Object.freeze(result);
}

function parsePathUncached(value: string): Result<MsrpUri[]> {
  const parts = value.split(' ');
  const uris: MsrpUri[] = [];
  for (const part of parts) {
    const r = parseMsrpUri(part);
    if (!r.ok) return fail(...r.diagnostics);
    uris.push(r.value);
  }
  return ok(uris);
}

export function formatMsrpPath(path: readonly Readonly<MsrpUri>[]): string {
  return path.map(formatMsrpUri).join(' ');
}


/**
 * URI equivalence for the IMDN checker: sip:/sips: per RFC 3261 §19.1.4, tel: by global number
 * (RFC 3966 §4, visual separators ignored), anything else by exact text with a case-insensitive scheme.
 * Accepts a bare URI or a name-addr (`"Alice" <sip:…>`): display names never take part.
 */
export function addrSpec(value: string): string {
  const open = value.indexOf('<');
  const close = value.lastIndexOf('>');
  return (open !== -1 && close > open ? value.slice(open + 1, close) : value).trim();
}

/** RFC 3261 §19.1.4: %-escapes of unreserved characters equal the characters themselves. */
function unescapeUnreserved(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (whole, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-_.!~*'()]/.test(c) ? c : whole.toUpperCase();
  });
}

interface SipUriParts {
  scheme: string;
  user?: string;
  host: string;
  port?: string;
  params: Map<string, string>;
  headers: Map<string, string>;
}

function parseSipUri(uri: string): SipUriParts | undefined {
  const m = /^(sips?):(?:([^@]*)@)?([^;?]+)(;[^?]*)?(?:\?(.*))?$/i.exec(uri);
  if (!m) return undefined;
  const hostPort = m[3]!;
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!hp) return undefined;
  const params = new Map<string, string>();
  for (const p of (m[4] ?? '').split(';').filter(Boolean)) {
    const eq = p.indexOf('=');
    const name = unescapeUnreserved(eq === -1 ? p : p.slice(0, eq)).toLowerCase();
    params.set(name, unescapeUnreserved(eq === -1 ? '' : p.slice(eq + 1)).toLowerCase());
  }
  const headers = new Map<string, string>();
  for (const h of (m[5] ?? '').split('&').filter(Boolean)) {
    const eq = h.indexOf('=');
    headers.set(unescapeUnreserved(eq === -1 ? h : h.slice(0, eq)).toLowerCase(), unescapeUnreserved(eq === -1 ? '' : h.slice(eq + 1)));
  }
  const parts: SipUriParts = { scheme: m[1]!.toLowerCase(), host: hp[1]!.toLowerCase(), params, headers };
  if (m[2] !== undefined) parts.user = unescapeUnreserved(m[2]);
  if (hp[2] !== undefined) parts.port = hp[2];
  return parts;
}

/** Parameters that never match when present in only one URI (RFC 3261 §19.1.4). */
const MUST_MATCH_IF_PRESENT = ['user', 'ttl', 'method', 'maddr', 'transport'];

export function sipUrisEquivalent(a: string, b: string): boolean {
  const x = parseSipUri(a);
  const y = parseSipUri(b);
  if (!x || !y) return false;
  if (x.scheme !== y.scheme || x.user !== y.user || x.host !== y.host || x.port !== y.port) return false;
  for (const name of MUST_MATCH_IF_PRESENT) if (x.params.get(name) !== y.params.get(name)) return false;
  for (const [name, value] of x.params) if (y.params.has(name) && y.params.get(name) !== value) return false;
  if (x.headers.size !== y.headers.size) return false;
  for (const [name, value] of x.headers) if (y.headers.get(name) !== value) return false;
  return true;
}

function telNumber(uri: string): string | undefined {
  const m = /^tel:([^;]+)(;.*)?$/i.exec(uri);
  return m ? m[1]!.replace(/[-.()]/g, '').toLowerCase() : undefined;
}

/** True when `a` and `b` name the same resource under the rules of their scheme. */
export function urisEquivalent(a: string, b: string): boolean {
  const x = addrSpec(a);
  const y = addrSpec(b);
  const scheme = (u: string) => u.slice(0, Math.max(0, u.indexOf(':'))).toLowerCase();
  if (scheme(x) !== scheme(y)) return false;
  if (scheme(x) === 'sip' || scheme(x) === 'sips') return sipUrisEquivalent(x, y);
  if (scheme(x) === 'tel') return telNumber(x) !== undefined && telNumber(x) === telNumber(y);
  return x.slice(scheme(x).length) === y.slice(scheme(y).length);
}

/** The anonymous identity of RFC 3323 §4.1.1.3 (`sip:anonymous@anonymous.invalid`). */
export function isAnonymousUri(value: string): boolean {
  const parts = parseSipUri(addrSpec(value));
  return parts !== undefined && parts.user?.toLowerCase() === 'anonymous' && parts.host === 'anonymous.invalid';
}

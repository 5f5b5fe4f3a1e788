/**
 * The lexical layer under every SIP header grammar (RFC 3261 §25.1): token characters, quoted
 * strings, `;name[=value]` parameter lists and host[:port]. Pure and linear; the header table
 * (headers.ts), the URI grammar (uri.ts) and caller preferences (caller-prefs.ts) are built on it.
 * Params keep their value exactly as written (quotes included) so a formatted header says what was
 * received; `getParam` gives the semantic (unquoted) value.
 */

const TOKEN_CHARS = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') TOKEN_CHARS[c.charCodeAt(0)] = 1;

function isTokenCode(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1;
}

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenCode(text.charCodeAt(i))) return false;
  return true;
}

/** Index after the run of token characters starting at `i`. */
export function endOfToken(text: string, i: number): number {
  while (i < text.length && isTokenCode(text.charCodeAt(i))) i++;
  return i;
}

export function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

export function skipWs(text: string, i: number): number {
  while (i < text.length && isWs(text[i])) i++;
  return i;
}

/** Reads a quoted-string starting at `i` (which must be `"`); returns the index after the closing quote or -1. */
export function endOfQuoted(text: string, i: number): number {
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

export interface ParamScan {
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
export function scanHeaderParams(text: string, i: number): ParamScan {
  const params: Param[] = [];
  for (;;) {
    i = skipWs(text, i);
    if (i >= text.length || text[i] !== ';') return { params, end: i };
    i = skipWs(text, i + 1);
    const nameStart = i;
    i = endOfToken(text, i);
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

/** Leading token then header params, e.g. `conference;id=3`; a string says what is wrong. */
export function tokenWithParams(value: string): { token: string; params: Param[] } | string {
  const text = value.trim();
  const i = endOfToken(text, 0);
  if (i === 0) return 'does not start with a token';
  const scan = scanHeaderParams(text, i);
  if (scan.error !== undefined) return scan.error;
  if (scan.end !== text.length) return `unexpected "${text.slice(scan.end)}"`;
  return { token: text.slice(0, i), params: scan.params };
}

/** RFC 3261 §25.1 `delta-seconds = 1*DIGIT` (bounded to 10 digits, so it fits a number exactly). */
export function deltaSeconds(text: string): number | undefined {
  return /^[0-9]{1,10}$/.test(text) ? Number(text) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Host and port (RFC 3261 §25.1 `hostport`)

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV6_REFERENCE = /^\[[0-9A-Fa-f:.]+\]$/;

function isHost(host: string): boolean {
  return HOSTNAME.test(host) || (IPV6_REFERENCE.test(host) && host.includes(':'));
}

/** `host[:port]`, host may be an IPv6 reference. */
export function parseHostPort(text: string): { host: string; port?: number } | undefined {
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

export function formatHostPort(host: string, port: number | undefined): string {
  return port === undefined ? host : `${host}:${port}`;
}

/**
 * The SIP message model (RFC 3261 §7). A message keeps its header fields in wire order with the
 * names exactly as written, so a parsed message re-serializes byte-identically and a verdict can
 * quote what the client really sent. Look-ups are case-insensitive and compact-form aware.
 */
import { COMPACT_FORMS, LIST_HEADER_NAMES } from './headers.ts';

export interface SipHeaderField {
  /** Name exactly as on the wire (`Via`, `v`, `CALL-ID`). */
  name: string;
  /** Value with leading/trailing whitespace removed and line folding (RFC 3261 §7.3.1) undone. */
  value: string;
}

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  version: string;
  headers: SipHeaderField[];
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  version: string;
  status: number;
  reason: string;
  headers: SipHeaderField[];
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** Lower-case full name for any spelling (compact forms from the header table): `v` → `via`, `Call-ID` → `call-id`. */
export function canonicalHeaderName(name: string): string {
  const known = canonicalSpellings.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const canonical = COMPACT_FORMS.get(lower) ?? lower;
  // Spellings repeat in every message; bounded, so hostile input cannot grow it without limit.
  if (canonicalSpellings.size < 1024) canonicalSpellings.set(name, canonical);
  return canonical;
}

/** Spelling as written → canonical name: look-ups run per header field per call. */
const canonicalSpellings = new Map<string, string>();

/** Whether a field spelled `name` can be the header whose canonical name is `want` (compact forms are one letter). */
function sameHeader(name: string, want: string): boolean {
  return (name.length === want.length || name.length === 1) && canonicalHeaderName(name) === want;
}

/** Whether the header table marks it `#(values)` (RFC 3261 §7.3.1), so `Via: a, b` counts as two values. */
export function isListHeader(name: string): boolean {
  return LIST_HEADER_NAMES.has(canonicalHeaderName(name));
}

/** Offset of the next comma outside double quotes and angle brackets at or after `from`, or value.length. */
function nextTopLevelComma(value: string, from: number): number {
  let depthAngle = 0;
  let inQuote = false;
  for (let i = from; i < value.length; i++) {
    const ch = value[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"') inQuote = true;
    else if (ch === '<') depthAngle++;
    else if (ch === '>') depthAngle = Math.max(0, depthAngle - 1);
    else if (ch === ',' && depthAngle === 0) return i;
  }
  return value.length;
}

/** Splits on commas outside double quotes and angle brackets. */
export function splitList(value: string): string[] {
  const parts: string[] = [];
  for (let start = 0; start <= value.length; ) {
    const cut = nextTopLevelComma(value, start);
    const part = value.slice(start, cut).trim();
    if (part.length > 0) parts.push(part);
    start = cut + 1;
  }
  return parts;
}

/** Every header field with this name (any spelling), in wire order. */
export function headerFields(msg: SipMessage, name: string): SipHeaderField[] {
  const want = canonicalHeaderName(name);
  return msg.headers.filter((h) => sameHeader(h.name, want));
}

/** First value of the header, unsplit, or undefined. */
export function headerValue(msg: SipMessage, name: string): string | undefined {
  const want = canonicalHeaderName(name);
  for (const h of msg.headers) if (sameHeader(h.name, want)) return h.value;
  return undefined;
}

/** All values of the header; list headers are split on top-level commas. */
export function headerValues(msg: SipMessage, name: string): string[] {
  const fields = headerFields(msg, name);
  if (!isListHeader(name)) return fields.map((f) => f.value);
  return fields.flatMap((f) => splitList(f.value));
}

/**
 * `headerValues(msg, name)[0]`, without splitting every field: the first non-empty top-level
 * value of the first field that has one (the top Via, the first Contact). Read per message on
 * every transaction match, where splitting all Via fields was a visible share of a call's CPU.
 */
export function firstHeaderValue(msg: SipMessage, name: string): string | undefined {
  const want = canonicalHeaderName(name);
  const list = LIST_HEADER_NAMES.has(want);
  for (const h of msg.headers) {
    if (!sameHeader(h.name, want)) continue;
    if (!list) return h.value;
    const first = firstListValue(h.value);
    if (first !== undefined) return first;
  }
  return undefined;
}

/** splitList(value)[0], scanning only as far as the first non-empty element. */
function firstListValue(value: string): string | undefined {
  for (let start = 0; start <= value.length; ) {
    const cut = nextTopLevelComma(value, start);
    const part = value.slice(start, cut).trim();
    if (part.length > 0) return part;
    start = cut + 1;
  }
  return undefined;
}

/** Replaces all fields of this header with one field (appended if absent, in place if present). */
export function setHeader(msg: SipMessage, name: string, value: string): void {
  const want = canonicalHeaderName(name);
  const index = msg.headers.findIndex((h) => canonicalHeaderName(h.name) === want);
  msg.headers = msg.headers.filter((h, i) => i === index || canonicalHeaderName(h.name) !== want);
  if (index === -1) msg.headers.push({ name, value });
  else msg.headers[index] = { name, value };
}

export function removeHeader(msg: SipMessage, name: string): void {
  const want = canonicalHeaderName(name);
  msg.headers = msg.headers.filter((h) => canonicalHeaderName(h.name) !== want);
}

export function startLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.uri} ${msg.version}` : `${msg.version} ${msg.status} ${msg.reason}`;
}

/** `INVITE` for requests, the CSeq method for responses. */
export function methodOf(msg: SipMessage): string {
  if (msg.kind === 'request') return msg.method;
  const cseq = headerValue(msg, 'cseq') ?? '';
  return cseq.trim().split(/\s+/)[1] ?? '';
}

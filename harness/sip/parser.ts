/**
 * SIP message parser (RFC 3261 §7): one pass over the bytes, header lines split at LF, values kept
 * as strings (typed on demand by headers.ts). Never throws: every deviation becomes a diagnostic
 * with the clause, the byte offset and the offending bytes. Only a garbage start line yields no message.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';
import { isToken, getParam } from './lex.ts';
import { parseCSeq, parseNameAddr, parseVia } from './headers.ts';
import { canonicalHeaderName, splitList, type SipHeaderField, type SipMessage } from './message.ts';

export interface ParsedSip {
  message: SipMessage | null;
  diagnostics: Diagnostic[];
  raw: Buffer;
}

export interface ParseOptions {
  /** Stream transport (TCP): Content-Length is mandatory (RFC 3261 §18.3). Default: datagram. */
  stream?: boolean;
  /**
   * sipMessageBytes: a larger message is not parsed at all (SIP_MESSAGE_TOO_LARGE);
   * sipHeaderLineBytes: a longer field (with its folds) is reported and left out (SIP_HEADER_LINE_TOO_LONG).
   */
  limits?: Partial<Pick<Limits, 'sipMessageBytes' | 'sipHeaderLineBytes'>>;
}

/**
 * A parsed field remembers where it came from, so the serializer can write the received bytes of a
 * field whose name and value are unchanged: odd-but-legal spellings (folding, `Via:x`, extra
 * spaces) round-trip byte-exactly, while any edit (or a copy, or a new object) falls back to
 * `Name: value`. Private fields keep this invisible to spreads, JSON and deep-equal.
 */
class ParsedHeaderField implements SipHeaderField {
  name: string;
  value: string;
  readonly #source: Buffer;
  readonly #start: number;
  #end: number;
  readonly #name: string;
  #value: string;

  constructor(name: string, value: string, source: Buffer, start: number, end: number) {
    this.name = name;
    this.value = value;
    this.#name = name;
    this.#value = value;
    this.#source = source;
    this.#start = start;
    this.#end = end;
  }

  /** A continuation line (§7.3.1) joins this field. */
  fold(value: string, end: number): void {
    this.value = value;
    this.#value = value;
    this.#end = end;
  }

  get offset(): number {
    return this.#start;
  }

  get bytes(): Buffer {
    return this.#source.subarray(this.#start, this.#end);
  }

  get unchanged(): boolean {
    return this.name === this.#name && this.value === this.#value;
  }
}

/** The received bytes of an unmodified parsed field, or undefined. */
export function wireBytesOf(field: SipHeaderField): Buffer | undefined {
  return field instanceof ParsedHeaderField && field.unchanged ? field.bytes : undefined;
}


/** Names repeat across messages; bounded so hostile input cannot grow it without limit. */
const canonicalCache = new Map<string, string>();
function canonicalName(name: string): string {
  let c = canonicalCache.get(name);
  if (c === undefined) {
    c = canonicalHeaderName(name);
    if (canonicalCache.size < 512) canonicalCache.set(name, c);
  }
  return c;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const EMPTY = Buffer.alloc(0);

const REQUIRED_IN_REQUEST = ['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards'];
const REQUIRED_IN_RESPONSE = ['via', 'from', 'to', 'call-id', 'cseq'];
const SINGLETONS = new Set(['from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'expires']);
const DISPLAY_NAMES: Record<string, string> = {
  via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq', 'max-forwards': 'Max-Forwards',
  'content-length': 'Content-Length', 'content-type': 'Content-Type', expires: 'Expires',
};

/**
 * UTF-8 text of a byte range, or null when the bytes are not valid UTF-8. Valid multi-byte
 * characters shorten the string and each invalid byte becomes one U+FFFD, so an equal length
 * means ASCII unless a U+FFFD shows up.
 */
function utf8OrNull(raw: Buffer, start: number, end: number): string | null {
  const s = raw.toString('utf8', start, end);
  if (s.indexOf('\uFFFD') !== -1) return null;
  return s.length === end - start || Buffer.byteLength(s, 'utf8') === end - start ? s : null;
}

/** Text of a header value range: UTF-8, or Latin-1 (so nothing is lost) with a warning. */
function valueText(raw: Buffer, start: number, end: number, diagnostics: Diagnostic[]): string {
  const s = utf8OrNull(raw, start, end);
  if (s !== null) return s;
  diagnostics.push(diagnostic('SIP_BAD_UTF8', 'Header value is not valid UTF-8', 'RFC 3261 §25.1', { severity: 'warning', offset: start, bytes: raw.subarray(start, end) }));
  return raw.toString('latin1', start, end);
}

function isTokenByte(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
    b === 0x2d || b === 0x2e || b === 0x21 || b === 0x25 || b === 0x2a || b === 0x5f || b === 0x2b || b === 0x60 || b === 0x27 || b === 0x7e
  );
}

/** Bare LFs reported one by one per message; a flood of them gets one closing note instead. */
const MAX_BARE_LF_REPORTS = 64;

function noteBareLf(raw: Buffer, lineStart: number, lf: number, diagnostics: Diagnostic[], count: { bareLf: number }): void {
  count.bareLf++;
  if (count.bareLf <= MAX_BARE_LF_REPORTS) {
    diagnostics.push(diagnostic('SIP_BARE_LF', 'Line ends in LF without CR', 'RFC 3261 §7', { offset: lf, bytes: raw.subarray(lineStart, lf + 1) }));
  } else if (count.bareLf === MAX_BARE_LF_REPORTS + 1) {
    diagnostics.push(diagnostic('SIP_BARE_LF', `More than ${MAX_BARE_LF_REPORTS} lines end in LF without CR; the rest are not reported one by one`, 'RFC 3261 §7', { offset: lf, bytes: raw.subarray(lineStart, lf + 1) }));
  }
}

/** Index of the CR (or bare LF, reported) ending the line that starts at `pos`, or raw.length. */
function lineEnd(raw: Buffer, pos: number, diagnostics: Diagnostic[], count: { bareLf: number }): number {
  const lf = raw.indexOf(LF, pos);
  if (lf === -1) return raw.length;
  if (lf > pos && raw[lf - 1] === CR) return lf - 1;
  noteBareLf(raw, pos, lf, diagnostics, count);
  return lf;
}

/** Index after the line end that starts at `end` (CRLF, LF, or nothing at end of input). */
function afterLineEnd(raw: Buffer, end: number): number {
  if (end >= raw.length) return raw.length;
  return raw[end] === CR ? end + 2 : end + 1;
}

interface HeaderIndex {
  headers: ParsedHeaderField[];
  /** Canonical (lower-case, full) name per field. */
  canonical: string[];
  firstIndex: Map<string, number>;
}

function fieldAt(h: HeaderIndex, k: number): { offset: number; bytes: Buffer } {
  const field = h.headers[k]!;
  return { offset: field.offset, bytes: field.bytes };
}

export function parseSipMessage(raw: Buffer, options: ParseOptions = {}): ParsedSip {
  const diagnostics: Diagnostic[] = [];
  const stream = options.stream === true;
  const length = raw.length;
  const maxMessage = options.limits?.sipMessageBytes ?? DEFAULT_LIMITS.sipMessageBytes;
  const maxLine = options.limits?.sipHeaderLineBytes ?? DEFAULT_LIMITS.sipHeaderLineBytes;
  if (length > maxMessage) {
    diagnostics.push(diagnostic('SIP_MESSAGE_TOO_LARGE', `message of ${length} octets exceeds the limit of ${maxMessage}`, 'RFC 3261 §21.5.14', { offset: 0, bytes: raw.subarray(0, 80) }));
    return { message: null, diagnostics, raw };
  }
  const lineTooLong = (start: number, end: number): void => {
    diagnostics.push(
      diagnostic('SIP_HEADER_LINE_TOO_LONG', `header field of ${end - start} octets exceeds the limit of ${maxLine}; it is left out`, 'RFC 3261 §7.3', {
        offset: start,
        bytes: raw.subarray(start, Math.min(end, start + 80)),
      }),
    );
  };

  const count = { bareLf: 0 };
  // §7.5: CRLFs before the start line are ignored (keep-alives on streams).
  let pos = 0;
  while (pos < length && (raw[pos] === CR || raw[pos] === LF)) {
    if (raw[pos] === LF && (pos === 0 || raw[pos - 1] !== CR)) noteBareLf(raw, pos, pos, diagnostics, count);
    pos++;
  }

  const startEnd = lineEnd(raw, pos, diagnostics, count);
  if (startEnd - pos > maxLine) {
    diagnostics.push(diagnostic('SIP_BAD_START_LINE', `start line of ${startEnd - pos} octets exceeds the limit of ${maxLine}`, 'RFC 3261 §7.1/§7.2', { offset: pos, bytes: raw.subarray(pos, pos + 80) }));
    return { message: null, diagnostics, raw };
  }
  const message = parseStartLine(raw.toString('utf8', pos, startEnd), pos, raw.subarray(pos, startEnd), diagnostics);
  if (message === null) return { message: null, diagnostics, raw };
  if (startEnd >= length) {
    diagnostics.push(diagnostic('SIP_BAD_HEADER_LINE', 'Message ends inside the start line (no CRLF)', 'RFC 3261 §7', { offset: startEnd, bytes: EMPTY }));
  }

  // Header section: each line is a field, a fold (starts with SP/HT) or the empty line ending it.
  const headers: ParsedHeaderField[] = [];
  const canonical: string[] = [];
  let bodyStart = -1;
  pos = afterLineEnd(raw, startEnd);
  let last: ParsedHeaderField | undefined;
  /** The folds of a field left out for its length are left out with it. */
  let droppingFolds = false;
  while (pos < length) {
    const end = lineEnd(raw, pos, diagnostics, count);
    const next = afterLineEnd(raw, end);
    if (end === pos) {
      bodyStart = next;
      break;
    }
    const b0 = raw[pos]!;
    if (b0 === SP || b0 === HT) {
      if (droppingFolds) {
        pos = next;
        continue;
      }
      if (last !== undefined && end - last.offset > maxLine) {
        lineTooLong(last.offset, end);
        headers.pop();
        canonical.pop();
        last = undefined;
        droppingFolds = true;
      } else if (last === undefined) {
        diagnostics.push(diagnostic('SIP_BAD_HEADER_LINE', 'Continuation line with no header field before it', 'RFC 3261 §7.3.1', { offset: pos, bytes: raw.subarray(pos, end) }));
      } else {
        // §7.3.1: a fold is equivalent to a single SP.
        const more = valueText(raw, pos, end, diagnostics).trim();
        const value = last.value.length === 0 ? more : more.length === 0 ? last.value : `${last.value} ${more}`;
        last.fold(value, end);
      }
      pos = next;
      continue;
    }
    droppingFolds = false;
    if (end - pos > maxLine) {
      lineTooLong(pos, end);
      last = undefined;
      droppingFolds = true;
      pos = next;
      continue;
    }
    let i = pos;
    while (i < end && isTokenByte(raw[i]!)) i++;
    const nameEnd = i;
    while (i < end && (raw[i] === SP || raw[i] === HT)) i++;
    if (nameEnd === pos || i >= end || raw[i] !== 0x3a) {
      diagnostics.push(diagnostic('SIP_BAD_HEADER_LINE', 'Header line is not "name: value"', 'RFC 3261 §7.3', { offset: pos, bytes: raw.subarray(pos, end) }));
      last = undefined;
      pos = next;
      continue;
    }
    // Trim the value on bytes so it is decoded once.
    let valueStart = i + 1;
    while (valueStart < end && (raw[valueStart] === SP || raw[valueStart] === HT)) valueStart++;
    let valueEnd = end;
    while (valueEnd > valueStart && (raw[valueEnd - 1] === SP || raw[valueEnd - 1] === HT)) valueEnd--;
    const name = raw.toString('latin1', pos, nameEnd);
    const field = new ParsedHeaderField(name, valueText(raw, valueStart, valueEnd, diagnostics), raw, pos, end);
    headers.push(field);
    canonical.push(canonicalName(name));
    last = field;
    pos = next;
  }
  if (bodyStart === -1) {
    diagnostics.push(diagnostic('SIP_BAD_HEADER_LINE', 'Header section does not end with an empty line', 'RFC 3261 §7', { offset: length, bytes: EMPTY }));
    bodyStart = length;
  }
  message.headers = headers;

  const firstIndex = new Map<string, number>();
  const index: HeaderIndex = { headers, canonical, firstIndex };
  for (let k = 0; k < canonical.length; k++) {
    const c = canonical[k]!;
    if (!firstIndex.has(c)) firstIndex.set(c, k);
    else if (SINGLETONS.has(c)) diagnostics.push(diagnostic('SIP_DUPLICATE_SINGLETON', `${DISPLAY_NAMES[c]} appears more than once`, 'RFC 3261 §7.3.1', fieldAt(index, k)));
  }

  message.body = raw.subarray(bodyStart, bodyEnd(raw, bodyStart, stream, index, diagnostics));
  checkMandatory(message, index, bodyStart, diagnostics);
  return { message, diagnostics, raw };
}

/** Body end by Content-Length in octets (§18.3, §20.14). */
function bodyEnd(raw: Buffer, bodyStart: number, stream: boolean, index: HeaderIndex, diagnostics: Diagnostic[]): number {
  const clIndex = index.firstIndex.get('content-length');
  const available = raw.length - bodyStart;
  if (clIndex === undefined) {
    if (!stream) return raw.length;
    diagnostics.push(diagnostic('SIP_MISSING_CONTENT_LENGTH', 'Content-Length is mandatory on stream transports', 'RFC 3261 §18.3', { offset: bodyStart, bytes: EMPTY }));
    return bodyStart;
  }
  const clText = index.headers[clIndex]!.value;
  if (!/^[0-9]{1,10}$/.test(clText)) {
    diagnostics.push(diagnostic('SIP_BAD_CONTENT_LENGTH', 'Content-Length is not a decimal number of octets', 'RFC 3261 §20.14', fieldAt(index, clIndex)));
    return raw.length;
  }
  const declared = Number(clText);
  if (declared > available) {
    diagnostics.push(diagnostic('SIP_CONTENT_LENGTH_MISMATCH', `Content-Length ${declared} but only ${available} body octets present`, 'RFC 3261 §18.3', fieldAt(index, clIndex)));
    return raw.length;
  }
  const end = bodyStart + declared;
  // On a datagram the extra octets MUST be discarded (§18.3); on a stream they should have been framed off.
  if (declared < available) {
    diagnostics.push(
      diagnostic('SIP_CONTENT_LENGTH_MISMATCH', `Content-Length ${declared} but ${available} octets follow the header section`, 'RFC 3261 §18.3', {
        offset: end,
        bytes: raw.subarray(end),
        severity: stream ? 'error' : 'warning',
      }),
    );
  }
  return end;
}

function badStartLine(why: string, offset: number, bytes: Buffer, diagnostics: Diagnostic[]): null {
  diagnostics.push(diagnostic('SIP_BAD_START_LINE', why, 'RFC 3261 §7.1/§7.2', { offset, bytes }));
  return null;
}

function checkVersion(version: string, offset: number, bytes: Buffer, diagnostics: Diagnostic[]): void {
  // §7.1: "SIP/2.0", case-insensitive.
  if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') {
    diagnostics.push(diagnostic('SIP_BAD_VERSION', `Version "${version}" is not SIP/2.0`, 'RFC 3261 §7.1', { offset, bytes }));
  }
}

const SIP_VERSION = /^SIP\/[0-9]+\.[0-9]+$/i;

function parseStartLine(line: string, offset: number, bytes: Buffer, diagnostics: Diagnostic[]): SipMessage | null {
  const parts = line.split(' ');
  if (parts.length < 3) {
    return badStartLine('Start line is neither "Method SP Request-URI SP SIP-Version" nor "SIP-Version SP Status-Code SP Reason-Phrase"', offset, bytes, diagnostics);
  }
  if (SIP_VERSION.test(parts[0]!)) {
    const statusText = parts[1]!;
    const reason = parts.length === 3 ? parts[2]! : parts.slice(2).join(' ');
    if (!/^[0-9]{3}$/.test(statusText)) return badStartLine(`Status code "${statusText}" is not three digits`, offset, bytes, diagnostics);
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(reason)) return badStartLine('Reason phrase contains control characters', offset, bytes, diagnostics);
    checkVersion(parts[0]!, offset, bytes, diagnostics);
    const status = Number(statusText);
    if (status < 100 || status > 699) diagnostics.push(diagnostic('SIP_BAD_STATUS', `Status ${status} is outside 100–699`, 'RFC 3261 §7.2', { offset, bytes }));
    return { kind: 'response', version: parts[0]!, status, reason, headers: [], body: EMPTY };
  }
  if (parts.length !== 3) return badStartLine('Request line must have exactly three space-separated parts', offset, bytes, diagnostics);
  const [method, uri, version] = parts as [string, string, string];
  if (!isToken(method)) return badStartLine(`Method "${method}" is not a token`, offset, bytes, diagnostics);
  if (!/^[A-Za-z][A-Za-z0-9+\-.]*:[^\s]+$/.test(uri)) return badStartLine(`Request-URI "${uri}" is not an absolute URI`, offset, bytes, diagnostics);
  // Another protocol's version (`SIP/3.0`, `HTTP/1.1`) is a bad version, not an unreadable line.
  if (!SIP_VERSION.test(version) && !/^[A-Za-z]+\/[0-9.]+$/.test(version)) return badStartLine(`"${version}" is not a SIP-Version`, offset, bytes, diagnostics);
  checkVersion(version, offset, bytes, diagnostics);
  return { kind: 'request', method, uri, version, headers: [], body: EMPTY };
}

function checkMandatory(message: SipMessage, index: HeaderIndex, bodyStart: number, diagnostics: Diagnostic[]): void {
  const { headers, canonical, firstIndex } = index;
  const isRequest = message.kind === 'request';
  for (const name of isRequest ? REQUIRED_IN_REQUEST : REQUIRED_IN_RESPONSE) {
    if (!firstIndex.has(name)) {
      diagnostics.push(diagnostic('SIP_MISSING_HEADER', `Mandatory header ${DISPLAY_NAMES[name]} is missing`, 'RFC 3261 §8.1.1', { offset: bodyStart, bytes: EMPTY }));
    }
  }

  const cseqIndex = firstIndex.get('cseq');
  if (cseqIndex !== undefined) {
    const cseq = parseCSeq(headers[cseqIndex]!.value);
    if (!cseq.ok) {
      const d = cseq.diagnostics[0]!;
      diagnostics.push(diagnostic('SIP_BAD_CSEQ', d.message, d.clause, fieldAt(index, cseqIndex)));
    } else if (isRequest && cseq.value.method !== message.method) {
      diagnostics.push(
        diagnostic('SIP_CSEQ_METHOD_MISMATCH', `CSeq method ${cseq.value.method} differs from request method ${message.method}`, 'RFC 3261 §8.1.1.5', fieldAt(index, cseqIndex)),
      );
    }
  }

  let firstVia = true;
  for (let k = 0; k < canonical.length; k++) {
    if (canonical[k] !== 'via') continue;
    const value = headers[k]!.value;
    if (value.length === 0) diagnostics.push(diagnostic('SIP_BAD_VIA', 'Empty Via', 'RFC 3261 §20.42', fieldAt(index, k)));
    for (const one of value.indexOf(',') === -1 ? [value] : splitList(value)) {
      const via = parseVia(one);
      if (!via.ok) {
        diagnostics.push(diagnostic('SIP_BAD_VIA', via.diagnostics[0]!.message, 'RFC 3261 §20.42', fieldAt(index, k)));
      } else if (firstVia && isRequest && !(via.value.branch ?? '').startsWith('z9hG4bK')) {
        diagnostics.push(diagnostic('SIP_BRANCH_NO_COOKIE', 'Top Via branch does not start with the magic cookie z9hG4bK', 'RFC 3261 §8.1.1.7', fieldAt(index, k)));
      }
      firstVia = false;
    }
  }

  for (const name of ['from', 'to'] as const) {
    const k = firstIndex.get(name);
    if (k === undefined) continue;
    const parsed = parseNameAddr(headers[k]!.value);
    if (!parsed.ok) {
      diagnostics.push(diagnostic('SIP_BAD_NAME_ADDR', parsed.diagnostics[0]!.message, 'RFC 3261 §20.20/§20.39', fieldAt(index, k)));
    } else if (name === 'from' && isRequest && typeof getParam(parsed.value.params, 'tag') !== 'string') {
      diagnostics.push(diagnostic('SIP_FROM_NO_TAG', 'From has no tag', 'RFC 3261 §8.1.1.3', fieldAt(index, k)));
    }
  }

  const mf = firstIndex.get('max-forwards');
  if (mf !== undefined) {
    const text = headers[mf]!.value;
    if (!/^[0-9]{1,3}$/.test(text) || Number(text) > 255) {
      diagnostics.push(diagnostic('SIP_BAD_MAX_FORWARDS', 'Max-Forwards is not a number 0–255', 'RFC 3261 §20.22', fieldAt(index, mf)));
    }
  }
}

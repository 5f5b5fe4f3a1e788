/**
 * message/cpim (RFC 3862): parser and builder. A CPIM body is a header block (`Name:;param=v value`,
 * names optionally namespaced as `prefix.Name` after an `NS: prefix <uri>` declaration), a blank line,
 * the MIME headers of the encapsulated content, a blank line and the content itself, kept byte-exact.
 * Header kinds are described once, in CPIM_HEADER_TABLE; each row's example line is a golden test.
 */
import { isAscii } from 'node:buffer';
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';
import { parseRfc3339 } from './datetime.ts';

/** Namespace of the headers RFC 3862 §4 defines (From, To, cc, DateTime, Subject, NS, Require). */
export const CPIM_NS = 'urn:ietf:params:cpim-headers:';
/** RFC 5438 §6.1 namespace of the imdn.* headers. */
export const IMDN_HEADERS_NS = 'urn:ietf:params:imdn';

export interface CpimParam {
  readonly name: string;
  readonly value?: string;
}

export interface CpimHeader {
  /** Name without prefix, as written (`Message-ID`). */
  readonly name: string;
  readonly value: string;
  /** Prefix as written (`imdn`); absent for unprefixed headers. */
  readonly prefix?: string;
  /** Resolved namespace; absent when the prefix was never declared. */
  readonly namespace?: string;
  /** RFC 3862 §3.3 parameters between the colon and the value (`Subject:;lang=fr …`). */
  readonly params: readonly CpimParam[];
  /** The header line exactly as received, without its line end. */
  readonly raw: Buffer;
  readonly offset: number;
}

export interface MimeHeader {
  readonly name: string;
  readonly value: string;
  readonly raw: Buffer;
  readonly offset: number;
}

export interface ParsedCpim {
  readonly headers: readonly CpimHeader[];
  /** Prefix → namespace URI as declared by NS headers ('' is the default namespace). */
  readonly namespaces: ReadonlyMap<string, string>;
  readonly mime: { readonly headers: readonly MimeHeader[]; readonly contentType?: string; readonly contentDisposition?: string };
  readonly content: Buffer;
  readonly contentOffset: number;
  readonly diagnostics: Diagnostic[];
}

const NAME = "[A-Za-z0-9!#$%&'*+\\-^_`|~]+";
/** Octets of NAME (RFC 3862 §3.6 token characters without "."), for the header-start scan. */
const NAME_CHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-^_`|~") NAME_CHAR[c.charCodeAt(0)] = 1;

function nameEnd(text: string, from: number): number {
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) break;
  }
  return i;
}

interface HeaderStart {
  prefix: string | undefined;
  name: string;
  /** Offset just past the colon. */
  end: number;
}

/** `[prefix "."] name ":"` at the line start (what `^(?:(NAME)\.)?(NAME):` matches), or null. Exported for its test. */
export function headerStart(text: string): HeaderStart | null {
  const first = nameEnd(text, 0);
  if (first === 0) return null;
  const c = text.charCodeAt(first);
  if (c === 0x3a) return { prefix: undefined, name: text.slice(0, first), end: first + 1 };
  if (c !== 0x2e) return null;
  const second = nameEnd(text, first + 1);
  if (second === first + 1 || text.charCodeAt(second) !== 0x3a) return null;
  return { prefix: text.slice(0, first), name: text.slice(first + 1, second), end: second + 1 };
}
const MIME_HEADER = /^([!#$%&'*+\-.^_`|~A-Za-z0-9]+):[ \t]*(.*)$/s;
/** `<` URI `>` at the end of the value: no other `<` before it, no `<`, `>` or space inside. */
const URI_CHARS = /^[^<>\s]+$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
// Sticky: matched at an index, so parameter lists are scanned without copying the rest of the line.
const PARAM_NAME = new RegExp(NAME, 'y');
const NS_VALUE = new RegExp(`^(?:(${NAME}) )?<([^<>\\s]+)>$`);
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;
const PARAM_TOKEN = /[^\s;"]+/y;
const DISPOSITION_TYPES = new Set(['positive-delivery', 'negative-delivery', 'display', 'processing']);

export interface CpimHeaderRule {
  readonly namespace: string;
  readonly name: string;
  readonly clause: string;
  /** A real line of this kind; the table test parses each one. */
  readonly example: string;
  /** Returns why the value is wrong, or undefined when it is fine. */
  readonly check: (value: string) => string | undefined;
}

/**
 * The URI of `[Formal-name] "<" URI ">"`, or undefined. A scan, not a regex: a value padded with
 * thousands of spaces used to cost quadratic backtracking (issue 9).
 */
function bracketedUri(value: string): string | undefined {
  const lt = value.indexOf('<');
  if (lt === -1 || value.charCodeAt(value.length - 1) !== 0x3e) return undefined;
  const uri = value.slice(lt + 1, -1);
  return URI_CHARS.test(uri) ? uri : undefined;
}

const uriValue = (value: string) => (bracketedUri(value) !== undefined ? undefined : 'expected [Formal-name] "<" URI ">"');

/** One row per known header kind: parser validation and the golden examples walk the same table. */
export const CPIM_HEADER_TABLE: readonly CpimHeaderRule[] = [
  // From: <sip:+15551230001@ims.example.net>
  { namespace: CPIM_NS, name: 'From', clause: 'RFC 3862 §4.1', example: 'From: <sip:+15551230001@ims.example.net>', check: uriValue },
  // To: "Weekend group" <sip:grp.7c1e9a@cpm-pf.example.net>
  { namespace: CPIM_NS, name: 'To', clause: 'RFC 3862 §4.2', example: 'To: "Weekend group" <sip:grp.7c1e9a@cpm-pf.example.net>', check: uriValue },
  // cc: <sip:+15551230003@ims.example.net>
  { namespace: CPIM_NS, name: 'cc', clause: 'RFC 3862 §4.3', example: 'cc: <sip:+15551230003@ims.example.net>', check: uriValue },
  // DateTime: 2024-05-06T09:15:03.000Z
  { namespace: CPIM_NS, name: 'DateTime', clause: 'RFC 3862 §4.4', example: 'DateTime: 2024-05-06T09:15:03.000Z', check: (v) => (parseRfc3339(v) ? undefined : 'not an RFC 3339 date-time') },
  // Subject:;lang=fr Objet du message
  { namespace: CPIM_NS, name: 'Subject', clause: 'RFC 3862 §4.5', example: 'Subject:;lang=fr Objet du message', check: () => undefined },
  // NS: imdn <urn:ietf:params:imdn>
  { namespace: CPIM_NS, name: 'NS', clause: 'RFC 3862 §4.6', example: 'NS: imdn <urn:ietf:params:imdn>', check: (v) => (parseNsValue(v) ? undefined : 'expected [prefix SP] "<" URI ">"') },
  // Require: imdn.Disposition-Notification
  { namespace: CPIM_NS, name: 'Require', clause: 'RFC 3862 §4.7', example: 'Require: imdn.Disposition-Notification', check: () => undefined },
  // imdn.Message-ID: Msg7hQ2xLp0aZ
  { namespace: IMDN_HEADERS_NS, name: 'Message-ID', clause: 'RFC 5438 §6.3', example: 'imdn.Message-ID: Msg7hQ2xLp0aZ', check: (v) => (TOKEN.test(v) ? undefined : 'expected a token') },
  // imdn.Disposition-Notification: positive-delivery, display
  {
    namespace: IMDN_HEADERS_NS,
    name: 'Disposition-Notification',
    clause: 'RFC 5438 §6.2',
    example: 'imdn.Disposition-Notification: positive-delivery, display',
    check: (v) => {
      const unknown = splitList(v).filter((t) => !DISPOSITION_TYPES.has(t.toLowerCase()));
      return unknown.length === 0 ? undefined : `unknown disposition type(s): ${unknown.join(', ')}`;
    },
  },
  // imdn.Original-To: <sip:grp.7c1e9a@cpm-pf.example.net>
  { namespace: IMDN_HEADERS_NS, name: 'Original-To', clause: 'RFC 5438 §6.4', example: 'imdn.Original-To: <sip:grp.7c1e9a@cpm-pf.example.net>', check: uriValue },
  // imdn.IMDN-Record-Route: <sip:pf.example.net>
  { namespace: IMDN_HEADERS_NS, name: 'IMDN-Record-Route', clause: 'RFC 5438 §6.5', example: 'imdn.IMDN-Record-Route: <sip:pf.example.net>', check: uriValue },
  // imdn.IMDN-Route: <sip:pf.example.net>
  { namespace: IMDN_HEADERS_NS, name: 'IMDN-Route', clause: 'RFC 5438 §6.6', example: 'imdn.IMDN-Route: <sip:pf.example.net>', check: uriValue },
];

/** Namespace → lower-case name → rule; two levels, so a look-up hashes no concatenated key. */
const RULES = new Map<string, Map<string, CpimHeaderRule>>();
for (const r of CPIM_HEADER_TABLE) {
  const names = RULES.get(r.namespace) ?? new Map<string, CpimHeaderRule>();
  names.set(r.name.toLowerCase(), r);
  RULES.set(r.namespace, names);
}

function splitList(value: string): string[] {
  return value.split(',').map((t) => t.trim()).filter(Boolean);
}

/** `imdn <urn:ietf:params:imdn>` → prefix and URI; `<uri>` alone sets the default namespace. */
export function parseNsValue(value: string): { prefix: string; uri: string } | undefined {
  const m = NS_VALUE.exec(value);
  return m ? { prefix: m[1] ?? '', uri: m[2]! } : undefined;
}

/** The URI inside `[Formal-name] <uri>`, or the trimmed value when there are no brackets. */
export function headerUri(value: string): string {
  return bracketedUri(value) ?? value.trim();
}

interface Line {
  start: number;
  end: number;
  /** Offset just after the line end. */
  next: number;
  bareLf: boolean;
}

/**
 * The text of lines [from, to) of body: decoded once when those bytes are ASCII (then a line's
 * text is a slice at its byte offsets, the same string UTF-8 decoding gives), else undefined and
 * each line is decoded on its own.
 */
function asciiText(body: Buffer, from: number, to: number): string | undefined {
  const bytes = body.subarray(from, to);
  return isAscii(bytes) ? bytes.toString('latin1') : undefined;
}

/** Lines up to and including the first empty one; `terminated` is false when input ran out first. */
function readBlock(body: Buffer, from: number): { lines: Line[]; next: number; terminated: boolean } {
  const lines: Line[] = [];
  let pos = from;
  while (pos < body.length) {
    const lf = body.indexOf(0x0a, pos);
    if (lf === -1) {
      lines.push({ start: pos, end: body.length, next: body.length, bareLf: false });
      return { lines, next: body.length, terminated: false };
    }
    const crlf = lf > pos && body[lf - 1] === 0x0d;
    const line = { start: pos, end: crlf ? lf - 1 : lf, next: lf + 1, bareLf: !crlf };
    if (line.end === line.start) {
      lines.push(line);
      return { lines, next: line.next, terminated: true };
    }
    lines.push(line);
    pos = line.next;
  }
  return { lines, next: pos, terminated: false };
}

function stickyAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

/** Shared by every header without parameters (the usual case); never written to. */
const NO_PARAMS: readonly CpimParam[] = Object.freeze([]);

function parseParams(text: string, from: number): { params: readonly CpimParam[]; rest: number } | undefined {
  if (text.charCodeAt(from) !== 0x3b) return { params: NO_PARAMS, rest: from };
  const params: CpimParam[] = [];
  let i = from;
  while (text[i] === ';') {
    const n = stickyAt(PARAM_NAME, text, i + 1);
    if (!n) return undefined;
    i += 1 + n[0].length;
    if (text[i] !== '=') {
      params.push({ name: n[0] });
      continue;
    }
    i++;
    if (text[i] === '"') {
      const close = stickyAt(QUOTED, text, i);
      if (!close) return undefined;
      params.push({ name: n[0], value: close[1]! });
      i += close[0].length;
    } else {
      const token = stickyAt(PARAM_TOKEN, text, i);
      if (!token) return undefined;
      params.push({ name: n[0], value: token[0] });
      i += token[0].length;
    }
  }
  return { params, rest: i };
}

function noteBareLf(line: Line, diagnostics: Diagnostic[]): void {
  if (line.bareLf) diagnostics.push(diagnostic('CPIM_BARE_LF', 'header line ends in LF without CR', 'RFC 3862 §3.6', { offset: line.end, bytes: '\n' }));
}

export interface CpimParseOptions {
  /** cpimHeaderBytes: longer header lines (CPIM or MIME) are reported and not interpreted. */
  limits?: Partial<Pick<Limits, 'cpimHeaderBytes'>>;
}

/**
 * A header line of the message body whose `raw` is a view made when asked for (a Buffer view per
 * header line was a large share of what parsing allocated and what a retained event keeps); it is
 * a getter, so a copy made by spreading loses it, and nothing in the harness copies headers that way.
 */
abstract class LazyRawLine {
  readonly #body: Buffer;
  readonly #end: number;

  constructor(
    readonly offset: number,
    body: Buffer,
    end: number,
  ) {
    this.#body = body;
    this.#end = end;
  }

  get raw(): Buffer {
    return this.#body.subarray(this.offset, this.#end);
  }
}

/** A parsed CPIM header. */
class CpimHeaderLine extends LazyRawLine implements CpimHeader {
  // Declared only: set when known, absent otherwise (as on the object literal this replaced).
  declare prefix?: string;
  declare namespace?: string;

  constructor(
    readonly name: string,
    readonly value: string,
    readonly params: readonly CpimParam[],
    offset: number,
    body: Buffer,
    end: number,
  ) {
    super(offset, body, end);
  }
}

/** A MIME header of the content; `raw` is its line, or lines when folded. */
class HeaderLines extends LazyRawLine implements MimeHeader {
  constructor(
    readonly name: string,
    readonly value: string,
    offset: number,
    body: Buffer,
    end: number,
  ) {
    super(offset, body, end);
  }
}

/** True (and reported) when a header line is over the limit: it is then skipped, never parsed. */
function tooLong(body: Buffer, line: Line, maxLine: number, diagnostics: Diagnostic[]): boolean {
  if (line.end - line.start <= maxLine) return false;
  diagnostics.push(
    diagnostic('CPIM_HEADER_TOO_LONG', `header line of ${line.end - line.start} octets exceeds the limit of ${maxLine}`, 'RFC 3862 §3', {
      offset: line.start,
      bytes: body.subarray(line.start, line.start + 80),
    }),
  );
  return true;
}

/** Parses a message/cpim body. Never throws: every deviation is a diagnostic. */
export function parseCpim(body: Buffer, options: CpimParseOptions = {}): ParsedCpim {
  const diagnostics: Diagnostic[] = [];
  const maxLine = options.limits?.cpimHeaderBytes ?? DEFAULT_LIMITS.cpimHeaderBytes;
  const headers: CpimHeader[] = [];
  const namespaces = new Map<string, string>();
  namespaces.set('', CPIM_NS);
  const seenPrefixesLater: string[] = [];

  let fromSeen = false;
  let toSeen = false;
  let dateTimeSeen = false;
  let requestsImdn = false;

  const cpimBlock = readBlock(body, 0);
  const cpimText = asciiText(body, 0, cpimBlock.next);
  for (const line of cpimBlock.lines) {
    noteBareLf(line, diagnostics);
    if (line.end === line.start || tooLong(body, line, maxLine, diagnostics)) continue;
    // The line's bytes are viewed (body.subarray) only where a diagnostic quotes them.
    const text = cpimText === undefined ? body.toString('utf8', line.start, line.end) : cpimText.slice(line.start, line.end);
    const start = headerStart(text);
    const parsedParams = start ? parseParams(text, start.end) : undefined;
    if (!start || !parsedParams || text[parsedParams.rest] !== ' ') {
      diagnostics.push(
        diagnostic('CPIM_BAD_HEADER_LINE', /^[ \t]/.test(text) ? 'CPIM headers cannot be folded' : 'expected Name ":" *(";" Parameter) SP Value', 'RFC 3862 §3.6', {
          offset: line.start,
          bytes: body.subarray(line.start, line.end),
        }),
      );
      if (!start) continue;
    }
    const prefix = start.prefix;
    const name = start.name;
    const params = parsedParams?.params ?? [];
    const valueStart = parsedParams && text[parsedParams.rest] === ' ' ? parsedParams.rest + 1 : (parsedParams?.rest ?? start.end);
    const value = text.slice(valueStart);
    const namespace = namespaces.get(prefix ?? '');
    if (prefix !== undefined && namespace === undefined) {
      seenPrefixesLater.push(prefix);
      diagnostics.push(diagnostic('CPIM_UNDECLARED_PREFIX', `prefix "${prefix}" is used before any NS header declares it`, 'RFC 3862 §3.4', { offset: line.start, bytes: body.subarray(line.start, line.end) }));
    }
    const header = new CpimHeaderLine(name, value, params, line.start, body, line.end);
    if (prefix !== undefined) header.prefix = prefix;
    if (namespace !== undefined) header.namespace = namespace;
    headers.push(header);
    const lowerName = name.toLowerCase();
    if (namespace === IMDN_HEADERS_NS) {
      if (lowerName === 'disposition-notification') requestsImdn = true;
    }
    else if (namespace === CPIM_NS) {
      if (lowerName === 'from') fromSeen = true;
      else if (lowerName === 'to') toSeen = true;
      else if (lowerName === 'datetime') dateTimeSeen = true;
    }
    if (namespace === CPIM_NS && name === 'NS') {
      const ns = parseNsValue(value);
      if (ns) namespaces.set(ns.prefix, ns.uri);
    }
    if (namespace === CPIM_NS && lowerName === 'content-disposition') {
      diagnostics.push(
        diagnostic('CPIM_DISPOSITION_IN_CPIM_HEADERS', 'Content-Disposition belongs to the MIME headers of the content, not the CPIM header block', 'RFC 3862 §2.4', {
          severity: 'warning',
          offset: line.start,
          bytes: body.subarray(line.start, line.end),
        }),
      );
    }
    const rule = namespace === undefined ? undefined : RULES.get(namespace)?.get(lowerName);
    if (rule) {
      if (rule.name !== name) {
        diagnostics.push(diagnostic('CPIM_HEADER_NAME_CASE', `header name written "${name}", defined as "${rule.name}"`, rule.clause, { severity: 'warning', offset: line.start, bytes: body.subarray(line.start, line.end) }));
      }
      const problem = rule.check(value);
      if (problem) {
        const code = rule.name === 'DateTime' ? 'CPIM_BAD_DATETIME' : 'CPIM_BAD_HEADER_VALUE';
        diagnostics.push(diagnostic(code, `${rule.name}: ${problem}`, rule.clause, { offset: line.start + Buffer.byteLength(text.slice(0, valueStart)), bytes: Buffer.from(value, 'utf8') }));
      }
    }
  }
  // Usually none: no Set is made then.
  for (const prefix of seenPrefixesLater.length === 0 ? seenPrefixesLater : new Set(seenPrefixesLater)) {
    if (namespaces.has(prefix)) {
      diagnostics.push(diagnostic('CPIM_UNDECLARED_PREFIX', `prefix "${prefix}" is declared only after headers that use it`, 'RFC 3862 §3.4', { bytes: prefix }));
    }
  }

  if (!fromSeen) diagnostics.push(diagnostic('CPIM_MISSING_HEADER', 'no From header: the sender is mandatory', 'RFC 3862 §4.1', { severity: 'error' }));
  if (!toSeen) diagnostics.push(diagnostic('CPIM_MISSING_HEADER', 'no To header: at least one recipient is mandatory', 'RFC 3862 §4.2', { severity: 'error' }));
  if (!dateTimeSeen) {
    diagnostics.push(
      // An IM requesting IMDNs carries DateTime (RFC 5438 §7.1.1.1: the IMDN's <datetime> echoes it).
      // For an IMDN itself no MUST could be re-read (docs/rfc-checks.md): recommended only.
      requestsImdn
        ? diagnostic('CPIM_MISSING_HEADER', 'no DateTime header: a message requesting IMDNs must carry DateTime', 'RFC 5438 §7.1.1.1', { severity: 'error' })
        : diagnostic('CPIM_MISSING_HEADER', 'no DateTime header: recommended', 'RFC 3862 §4.4', { severity: 'warning' }),
    );
  }

  if (!cpimBlock.terminated) {
    diagnostics.push(diagnostic('CPIM_NO_HEADER_END', 'the CPIM header block is not ended by an empty line', 'RFC 3862 §2', { offset: body.length, bytes: body.subarray(Math.max(0, body.length - 40)) }));
    return { headers, namespaces, mime: { headers: [] }, content: Buffer.alloc(0), contentOffset: body.length, diagnostics };
  }

  const mimeBlock = readBlock(body, cpimBlock.next);
  const mimeText = asciiText(body, cpimBlock.next, mimeBlock.next);
  const mimeHeaders: MimeHeader[] = [];
  /** Folds of a field left out for its length are left out with it. */
  let droppingFolds = false;
  for (const line of mimeBlock.lines) {
    noteBareLf(line, diagnostics);
    const folded = body[line.start] === 0x20 || body[line.start] === 0x09;
    if (folded && droppingFolds) continue;
    droppingFolds = false;
    if (line.end === line.start || tooLong(body, line, maxLine, diagnostics)) {
      droppingFolds = line.end !== line.start;
      continue;
    }
    const previous = mimeHeaders[mimeHeaders.length - 1];
    if (folded && previous) {
      // MIME headers may be folded (RFC 5322 §2.2.3): unfold into the previous field; the whole field counts against the limit.
      if (tooLong(body, { ...line, start: previous.offset }, maxLine, diagnostics)) {
        mimeHeaders.pop();
        droppingFolds = true;
        continue;
      }
      const text = body.toString('utf8', line.start, line.end);
      mimeHeaders[mimeHeaders.length - 1] = new HeaderLines(previous.name, `${previous.value} ${text.trim()}`, previous.offset, body, line.end);
      continue;
    }
    const text = mimeText === undefined ? body.toString('utf8', line.start, line.end) : mimeText.slice(line.start - cpimBlock.next, line.end - cpimBlock.next);
    const m = MIME_HEADER.exec(text);
    if (!m) {
      diagnostics.push(diagnostic('CPIM_BAD_HEADER_LINE', 'expected a MIME header "Name: value"', 'RFC 2045 §3', { offset: line.start, bytes: body.subarray(line.start, line.end) }));
      continue;
    }
    mimeHeaders.push(new HeaderLines(m[1]!, m[2]!.trimEnd(), line.start, body, line.end));
  }
  if (!mimeBlock.terminated) {
    diagnostics.push(diagnostic('CPIM_NO_HEADER_END', 'the MIME header block is not ended by an empty line', 'RFC 3862 §2', { offset: body.length, bytes: body.subarray(Math.max(0, body.length - 40)) }));
  }
  let contentType: string | undefined;
  let contentDisposition: string | undefined;
  let contentLength: string | undefined;
  for (const h of mimeHeaders) {
    const lower = h.name.toLowerCase();
    if (lower === 'content-type') contentType ??= h.value;
    else if (lower === 'content-disposition') contentDisposition ??= h.value;
    else if (lower === 'content-length') contentLength ??= h.value;
  }
  const content = mimeBlock.terminated ? body.subarray(mimeBlock.next) : Buffer.alloc(0);
  if (contentType === undefined) {
    diagnostics.push(diagnostic('CPIM_MISSING_CONTENT_TYPE', 'the encapsulated MIME headers carry no Content-Type', 'RFC 3862 §2.4', { offset: cpimBlock.next }));
  }
  if (contentLength !== undefined && (!/^\d+$/.test(contentLength) || Number(contentLength) !== content.length)) {
    diagnostics.push(
      diagnostic('CPIM_CONTENT_LENGTH_MISMATCH', `Content-Length says ${contentLength} octets, content has ${content.length}`, 'RFC 3862 §2.4', {
        offset: mimeBlock.next,
        bytes: content.subarray(0, 80),
      }),
    );
  }
  const mime: { headers: MimeHeader[]; contentType?: string; contentDisposition?: string } = { headers: mimeHeaders };
  if (contentType !== undefined) mime.contentType = contentType;
  if (contentDisposition !== undefined) mime.contentDisposition = contentDisposition;
  return { headers, namespaces, mime, content, contentOffset: mimeBlock.terminated ? mimeBlock.next : body.length, diagnostics };
}

/** Case-insensitive name match; the exact spelling is tried first (it is almost always that). */
function named(h: CpimHeader, namespace: string, name: string, lower: string): boolean {
  return h.namespace === namespace && (h.name === name || (h.name.length === name.length && h.name.toLowerCase() === lower));
}

/** First header of the RFC 3862 default namespace named `name` (case-insensitive). */
export function cpimHeader(parsed: ParsedCpim, name: string): CpimHeader | undefined {
  const lower = name.toLowerCase();
  for (const h of parsed.headers) if (named(h, CPIM_NS, name, lower)) return h;
  return undefined;
}

export function cpimHeaders(parsed: ParsedCpim, name: string): CpimHeader[] {
  const lower = name.toLowerCase();
  const found: CpimHeader[] = [];
  for (const h of parsed.headers) if (named(h, CPIM_NS, name, lower)) found.push(h);
  return found;
}

/** Header of the IMDN namespace, whatever prefix the sender bound it to (`imdn.Message-ID`, `x.Message-ID`). */
export function imdnHeader(parsed: ParsedCpim, name: string): CpimHeader | undefined {
  const lower = name.toLowerCase();
  for (const h of parsed.headers) if (named(h, IMDN_HEADERS_NS, name, lower)) return h;
  return undefined;
}

/** Disposition types requested by `imdn.Disposition-Notification` (lower case), empty when absent. */
export function requestedDispositions(parsed: ParsedCpim): Set<string> {
  const header = imdnHeader(parsed, 'Disposition-Notification');
  return new Set(header ? splitList(header.value).map((t) => t.toLowerCase()) : []);
}

export interface CpimBuildOptions {
  /** URI (wrapped in <>) or a full name-addr value. */
  from: string;
  to: string | readonly string[];
  dateTime?: string | Date;
  /** Puts DateTime after the extra headers (the layout of PROTOCOLS §2.9) instead of after To. */
  dateTimeLast?: boolean;
  ns?: readonly { prefix: string; uri: string }[];
  /** Extra CPIM headers in order, names as written (`imdn.Message-ID`). */
  headers?: readonly { name: string; value: string }[];
  contentType: string;
  contentDisposition?: string;
  /** Write Content-Length (octets of content); default true. */
  contentLength?: boolean;
  content: Buffer | string;
  /** Default CRLF; '\n' only to build deliberately malformed samples. */
  lineEnding?: string;
}

function nameAddr(value: string): string {
  return value.includes('<') ? value : `<${value}>`;
}

/** Builds the exact bytes of a message/cpim body. */
export function buildCpim(options: CpimBuildOptions): Buffer {
  // One string, appended line by line (no arrays to join): the layout is what it always was.
  const eol = options.lineEnding ?? '\r\n';
  let head = `From: ${nameAddr(options.from)}`;
  if (typeof options.to === 'string') head += `${eol}To: ${nameAddr(options.to)}`;
  else for (const to of options.to) head += `${eol}To: ${nameAddr(to)}`;
  const dateTime = options.dateTime === undefined ? undefined : typeof options.dateTime === 'string' ? options.dateTime : options.dateTime.toISOString();
  if (dateTime !== undefined && !options.dateTimeLast) head += `${eol}DateTime: ${dateTime}`;
  if (options.ns) for (const ns of options.ns) head += `${eol}NS: ${ns.prefix === '' ? '' : `${ns.prefix} `}<${ns.uri}>`;
  if (options.headers) for (const h of options.headers) head += `${eol}${h.name}: ${h.value}`;
  if (dateTime !== undefined && options.dateTimeLast) head += `${eol}DateTime: ${dateTime}`;
  const text = typeof options.content === 'string' ? options.content : undefined;
  const contentOctets = text === undefined ? (options.content as Buffer).length : Buffer.byteLength(text, 'utf8');
  head += `${eol}${eol}Content-Type: ${options.contentType}`;
  if (options.contentDisposition !== undefined) head += `${eol}Content-Disposition: ${options.contentDisposition}`;
  if (options.contentLength ?? true) head += `${eol}Content-Length: ${contentOctets}`;
  head += eol + eol;
  // Text content goes into the same encode: one Buffer, no concatenation.
  if (text !== undefined) return Buffer.from(head + text, 'utf8');
  return Buffer.concat([Buffer.from(head, 'utf8'), options.content as Buffer]);
}

export type DispositionType = 'positive-delivery' | 'negative-delivery' | 'display' | 'processing';

export interface GroupChatMessageOptions {
  from: string;
  to: string;
  dateTime: string | Date;
  imdnMessageId: string;
  /** Requested notifications; null/undefined/empty writes no Disposition-Notification header. */
  dispositionNotification?: readonly DispositionType[] | null;
  text: string;
}

/** A group chat message as the PF delivers it (PROTOCOLS §2.7 layout). */
export function buildGroupChatMessage(options: GroupChatMessageOptions): Buffer {
  const headers = [{ name: 'imdn.Message-ID', value: options.imdnMessageId }];
  if (options.dispositionNotification && options.dispositionNotification.length > 0) {
    headers.push({ name: 'imdn.Disposition-Notification', value: options.dispositionNotification.join(', ') });
  }
  return buildCpim({
    from: options.from,
    to: options.to,
    dateTime: options.dateTime,
    ns: [{ prefix: 'imdn', uri: IMDN_HEADERS_NS }],
    headers,
    contentType: 'text/plain; charset=utf-8',
    content: options.text,
  });
}

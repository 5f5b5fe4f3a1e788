/**
 * TCP stream framing (RFC 3261 §18.3): cut a byte stream into messages by the empty line and
 * Content-Length. Framing diagnostics only; parse each `raw` with parseSipMessage(raw, {stream: true}).
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';

export interface FramedSip {
  raw: Buffer;
  diagnostics: Diagnostic[];
}

export interface SipFramerOptions {
  /** sipMessageBytes bounds a whole message (headers + declared body), sipHeaderLineBytes one line. */
  limits?: Partial<Pick<Limits, 'sipMessageBytes' | 'sipHeaderLineBytes'>>;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/**
 * Nothing is buffered beyond the limits: a header line longer than sipHeaderLineBytes, a header
 * section or a declared Content-Length that would make the message longer than sipMessageBytes
 * ends framing at once with a specific diagnostic (the stream cannot be resynchronised). So does a
 * first line that is no SIP start line (RFC 3261 §7.1, §7.2): bytes that are not SIP at all (a
 * body longer than its Content-Length, binary junk, another protocol) are refused as soon as their
 * first line is in, not when a header section that never comes would have ended.
 */
export class SipStreamFramer {
  /** Unframed bytes are store[start, end); the store grows geometrically, so many small reads cost linear time. */
  private store: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  /** False while the store is a caller's chunk, which must never be written to. */
  private owned = false;
  /** Where to resume looking for the end of the header section (avoids rescanning on every chunk). */
  private scanFrom = 0;
  /** Start of the header line being scanned, relative to the buffer. */
  private lineStart = 0;
  /** After a non-numeric Content-Length or a limit the stream can no longer be framed; everything is dropped. */
  private garbage = false;
  /** Total octets consumed so far: diagnostics carry stream offsets. */
  private consumed = 0;
  private readonly maxMessage: number;
  private readonly maxLine: number;
  /** Length and framing diagnostics of the message whose header section is in but whose body is not. */
  private waiting: { total: number; diagnostics: Diagnostic[] } | undefined;

  constructor(options: SipFramerOptions = {}) {
    this.maxMessage = options.limits?.sipMessageBytes ?? DEFAULT_LIMITS.sipMessageBytes;
    this.maxLine = options.limits?.sipHeaderLineBytes ?? DEFAULT_LIMITS.sipHeaderLineBytes;
  }

  push(chunk: Buffer): FramedSip[] {
    if (this.garbage) return [];
    this.append(chunk);
    const out: FramedSip[] = [];
    for (;;) {
      if (this.waiting === undefined) this.skipKeepAlives();
      if (this.end === this.start) break;
      // The header section was framed on an earlier read: only the body is awaited, nothing is rescanned.
      if (this.waiting !== undefined) {
        if (this.end - this.start < this.waiting.total) break;
        this.emitMessage(out, this.waiting.total, this.waiting.diagnostics);
        continue;
      }
      const headerEnd = this.findHeaderEnd();
      if (headerEnd === 'line-too-long') {
        out.push(this.toGarbage('SIP_HEADER_LINE_TOO_LONG', `a header line is longer than the limit of ${this.maxLine} octets`, 'RFC 3261 §7.3'));
        break;
      }
      if (headerEnd === 'not-sip') {
        out.push(this.toGarbage('SIP_STREAM_GARBAGE', 'the first line is neither a Request-Line nor a Status-Line: the stream cannot be framed', 'RFC 3261 §7.1, §7.2'));
        break;
      }
      if (headerEnd === -1) {
        if (this.buffer.length > this.maxMessage) {
          out.push(this.toGarbage('SIP_MESSAGE_TOO_LARGE', `no end of header section within the limit of ${this.maxMessage} octets`, 'RFC 3261 §21.5.14'));
        }
        break;
      }
      const length = contentLength(this.buffer, headerEnd);
      const diagnostics: Diagnostic[] = [];
      let bodyLength = 0;
      if (length === 'missing') {
        diagnostics.push(
          diagnostic('SIP_MISSING_CONTENT_LENGTH', 'No Content-Length on a stream: body taken as empty', 'RFC 3261 §18.3', { offset: this.consumed + headerEnd, bytes: EMPTY }),
        );
      } else if (length === 'bad') {
        out.push(this.toGarbage('SIP_STREAM_GARBAGE', 'Content-Length is not a number: the rest of the stream cannot be framed', 'RFC 3261 §18.3'));
        break;
      } else bodyLength = length;
      const total = headerEnd + bodyLength;
      // Decided on the declared length, before waiting for (or buffering) a single body octet.
      if (total > this.maxMessage) {
        out.push(this.toGarbage('SIP_MESSAGE_TOO_LARGE', `message of ${total} octets (Content-Length ${bodyLength}) exceeds the limit of ${this.maxMessage}`, 'RFC 3261 §21.5.14'));
        break;
      }
      if (this.end - this.start < total) {
        this.waiting = { total, diagnostics };
        break;
      }
      this.emitMessage(out, total, diagnostics);
    }
    return out;
  }

  private emitMessage(out: FramedSip[], total: number, diagnostics: Diagnostic[]): void {
    // Copy: the caller keeps messages while the store moves on.
    out.push({ raw: Buffer.from(this.store.subarray(this.start, this.start + total)), diagnostics });
    this.advance(total);
  }

  /** Bytes received but not yet returned as a message (a partial message at close). */
  pending(): Buffer {
    return this.buffer;
  }

  /** True once framing has ended for good (garbage or a limit): every later byte is dropped. */
  get unframeable(): boolean {
    return this.garbage;
  }

  /** The declared length of the message whose header section is in and whose body is awaited. */
  get awaitedLength(): number | undefined {
    return this.waiting?.total;
  }

  private get buffer(): Buffer {
    return this.store.subarray(this.start, this.end);
  }

  private append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.start === this.end) {
      this.store = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.owned = false;
      return;
    }
    if (this.owned && this.end + chunk.length <= this.store.length) {
      chunk.copy(this.store, this.end);
      this.end += chunk.length;
      return;
    }
    const used = this.end - this.start;
    const next = Buffer.allocUnsafe(Math.max(2 * (used + chunk.length), 4096));
    this.store.copy(next, 0, this.start, this.end);
    chunk.copy(next, used);
    this.store = next;
    this.owned = true;
    this.start = 0;
    this.end = used + chunk.length;
  }

  private advance(n: number): void {
    this.start += n;
    this.consumed += n;
    this.scanFrom = 0;
    this.lineStart = 0;
    this.waiting = undefined;
    if (this.start === this.end) {
      this.store = EMPTY;
      this.owned = false;
      this.start = 0;
      this.end = 0;
    }
  }

  /** RFC 5626 §3.5.1: CRLFCRLF pings and CRLF pongs between messages are not messages. */
  private skipKeepAlives(): void {
    const store = this.store;
    let i = this.start;
    while (i < this.end && (store[i] === CR || store[i] === LF)) i++;
    if (i > this.start) this.advance(i - this.start);
  }

  /**
   * Index just after the empty line ending the header section (CRLF CRLF, or bare LFs leniently),
   * -1 when it has not arrived yet, 'line-too-long', or 'not-sip' (the first line is no start line).
   * Each byte is looked at once across reads.
   */
  private findHeaderEnd(): number | 'line-too-long' | 'not-sip' {
    const b = this.buffer;
    let lf = b.indexOf(LF, this.scanFrom);
    while (lf !== -1) {
      const start = this.lineStart;
      if (lf - start > this.maxLine) return 'line-too-long';
      if (start === 0 && !isStartLine(b, lf)) return 'not-sip';
      if (lf === start || (lf === start + 1 && b[start] === CR)) return lf + 1;
      this.lineStart = lf + 1;
      lf = b.indexOf(LF, lf + 1);
    }
    if (b.length - this.lineStart > this.maxLine) return 'line-too-long';
    this.scanFrom = b.length;
    return -1;
  }

  private toGarbage(code: string, why: string, clause: string): FramedSip {
    const raw = this.buffer;
    const d = diagnostic(code, why, clause, { offset: this.consumed, bytes: raw });
    this.garbage = true;
    this.store = EMPTY;
    this.start = 0;
    this.end = 0;
    return { raw, diagnostics: [d] };
  }
}

/** `SIP/` at `at`, any case. */
function sipVersionAt(b: Buffer, at: number, end: number): boolean {
  return at + 4 <= end && (b[at]! | 0x20) === 0x73 && (b[at + 1]! | 0x20) === 0x69 && (b[at + 2]! | 0x20) === 0x70 && b[at + 3] === 0x2f;
}

/**
 * Whether the line ending at `lf` looks like a SIP start line: a Status-Line starts with SIP/,
 * a Request-Line is a token, a space and, after the Request-URI, a space and SIP/. Lenient on
 * everything the parser reports in detail (case, extra spaces); only bytes that cannot be SIP fail.
 */
function isStartLine(b: Buffer, lf: number): boolean {
  const end = lf > 0 && b[lf - 1] === CR ? lf - 1 : lf;
  if (sipVersionAt(b, 0, end)) return true;
  let i = 0;
  while (i < end && isTokenChar(b[i]!)) i++;
  if (i === 0 || i >= end || b[i] !== 0x20) return false;
  for (let j = end - 4; j > i; j--) if (b[j - 1] === 0x20 && sipVersionAt(b, j, end)) return true;
  return false;
}

/** RFC 3261 §25.1 token characters. */
function isTokenChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x21 || c === 0x25 || c === 0x2a || c === 0x5f || c === 0x2b || c === 0x60 || c === 0x27 || c === 0x7e;
}

/** First Content-Length (or `l`) in the header section; folding of this header is not supported. */
function contentLength(buf: Buffer, headerEnd: number): number | 'missing' | 'bad' {
  let pos = 0;
  while (pos < headerEnd) {
    let lf = buf.indexOf(LF, pos);
    if (lf === -1 || lf >= headerEnd) lf = headerEnd;
    const first = buf[pos];
    // Cheap pre-filter: only lines starting with c/C/l/L can be Content-Length.
    if (first === 0x63 || first === 0x43 || first === 0x6c || first === 0x4c) {
      const line = buf.toString('latin1', pos, lf);
      const m = /^(content-length|l)[ \t]*:(.*)$/i.exec(line.replace(/\r$/, ''));
      if (m) {
        const value = m[2]!.trim();
        return /^[0-9]{1,10}$/.test(value) ? Number(value) : 'bad';
      }
    }
    pos = lf + 1;
  }
  return 'missing';
}

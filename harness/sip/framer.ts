/**
 * TCP stream framing (RFC 3261 §18.3): cut a byte stream into messages by the empty line and
 * Content-Length. Framing diagnostics only; parse each `raw` with parseSipMessage(raw, {stream: true}).
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';

export interface FramedSip {
  raw: Buffer;
  diagnostics: Diagnostic[];
}

/** Header sections larger than this are treated as garbage (nothing legitimate comes near it). */
export const MAX_HEADER_SECTION = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

export class SipStreamFramer {
  private buffer: Buffer = EMPTY;
  /** Where to resume looking for the end of the header section (avoids rescanning on every chunk). */
  private scanFrom = 0;
  /** After a non-numeric Content-Length the stream can no longer be framed; everything is dropped. */
  private garbage = false;
  /** Total octets consumed so far: diagnostics carry stream offsets. */
  private consumed = 0;

  push(chunk: Buffer): FramedSip[] {
    if (this.garbage) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FramedSip[] = [];
    for (;;) {
      this.skipKeepAlives();
      if (this.buffer.length === 0) break;
      const headerEnd = this.findHeaderEnd();
      if (headerEnd === -1) {
        if (this.buffer.length > MAX_HEADER_SECTION) out.push(this.toGarbage(`no end of header section within ${MAX_HEADER_SECTION} octets`));
        break;
      }
      if (headerEnd > MAX_HEADER_SECTION) {
        out.push(this.toGarbage(`header section of ${headerEnd} octets exceeds ${MAX_HEADER_SECTION}`));
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
        out.push(this.toGarbage('Content-Length is not a number: the rest of the stream cannot be framed'));
        break;
      } else bodyLength = length;
      const total = headerEnd + bodyLength;
      if (this.buffer.length < total) break;
      // Copy: the caller keeps messages while the big buffer moves on.
      out.push({ raw: Buffer.from(this.buffer.subarray(0, total)), diagnostics });
      this.advance(total);
    }
    return out;
  }

  /** Bytes received but not yet returned as a message (a partial message at close). */
  pending(): Buffer {
    return this.buffer;
  }

  private advance(n: number): void {
    this.buffer = this.buffer.subarray(n);
    this.consumed += n;
    this.scanFrom = 0;
  }

  /** RFC 5626 §3.5.1: CRLFCRLF pings and CRLF pongs between messages are not messages. */
  private skipKeepAlives(): void {
    let i = 0;
    while (i < this.buffer.length && (this.buffer[i] === CR || this.buffer[i] === LF)) i++;
    if (i > 0) this.advance(i);
  }

  /** Index just after the empty line ending the header section (CRLF CRLF, or bare LFs leniently), or -1. */
  private findHeaderEnd(): number {
    const b = this.buffer;
    let lf = b.indexOf(LF, this.scanFrom);
    while (lf !== -1) {
      const next = lf + 1;
      if (next < b.length && b[next] === LF) return next + 1;
      if (next + 1 < b.length && b[next] === CR && b[next + 1] === LF) return next + 2;
      if (next + 1 >= b.length) break;
      lf = b.indexOf(LF, next);
    }
    // Resume a little before the end so a terminator split across chunks is still seen.
    this.scanFrom = Math.max(0, b.length - 3);
    return -1;
  }

  private toGarbage(why: string): FramedSip {
    const raw = this.buffer;
    const d = diagnostic('SIP_STREAM_GARBAGE', why, 'RFC 3261 §18.3', { offset: this.consumed, bytes: raw });
    this.garbage = true;
    this.buffer = EMPTY;
    return { raw, diagnostics: [d] };
  }
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

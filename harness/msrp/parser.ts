/**
 * Incremental MSRP stream parser (RFC 4975 §7.1, §9). MSRP has no Content-Length: a body ends at
 * `CRLF "-------" transact-id flag CRLF`, so the body is found by a byte search for that end-line,
 * which may be split anywhere across reads. Never throws: every deviation is a diagnostic, and every
 * byte pushed comes back out in exactly one ParsedMsrpFrame.raw (frames, garbage or leftovers).
 *
 * Resynchronisation rules (all independent of how the stream is split into reads):
 * - Bytes that do not start with `MSRP ` are garbage up to the next `MSRP ` at a line start
 *   (one MSRP_GARBAGE frame); held until that point, `end()`, or the header limit.
 * - A body ends at the first of: its own end-line anywhere, or a complete end-line with a different
 *   transaction id exactly where Byte-Range says the body ends (MSRP_ENDLINE_MISMATCH).
 * - If neither arrives before the body limit or `end()`, the first end-line with any other id after
 *   the headers ends the frame (MSRP_ENDLINE_MISMATCH); failing that the bytes are reported as too
 *   large / incomplete and parsing resumes as garbage.
 * - Without a body the end-line is the first line starting with `-------`; a different id there is
 *   MSRP_ENDLINE_MISMATCH and the frame still ends at that line.
 * Diagnostic offsets are relative to the start of the frame's raw bytes.
 *
 * A pending body is held as the list of its reads (small reads copied into an owned tail), each
 * read searched for the end-line on arrival (seams through a carry of fewer than 45 bytes), and
 * joined into one buffer once, when body() can decide the frame: then only the frame's bytes are
 * copied and the rest of the last read is parsed without a copy. The decisions are body()'s own,
 * over the joined bytes, so the frames do not depend on the reads.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { DEFAULT_LIMITS } from '../core/limits.ts';
import type { Result } from '../core/result.ts';
import {
  IDENT,
  KNOWN_METHODS,
  MAX_NON_SEND_BODY,
  msrpHeader,
  msrpHeaderIndex,
  parseByteRange,
  parseStatusHeader,
  type ByteRange,
  type MsrpFlag,
  type MsrpFrame,
  type MsrpHeader,
} from './frame.ts';
import { readMsrpPath } from './uri.ts';

export interface ParsedMsrpFrame {
  frame: MsrpFrame | null;
  /** Exactly the bytes this item covers in the stream. */
  raw: Buffer;
  diagnostics: Diagnostic[];
  /** Offset of raw[0] in the whole stream. */
  streamOffset: number;
}

export interface MsrpParserOptions {
  /** Start line plus headers; default 16384. */
  maxHeaderBytes?: number;
  /** Body bytes of one frame; default DEFAULT_LIMITS.msrpChunkBytes. A larger declared Byte-Range is MSRP_CHUNK_TOO_LARGE. */
  maxBodyBytes?: number;
}

const S7_1 = 'RFC 4975 §7.1';
const S9 = 'RFC 4975 §9';
const MSRP_SP = Buffer.from('MSRP ', 'latin1');
const LF_MSRP_SP = Buffer.from('\nMSRP ', 'latin1');
const CRLF_HYPHENS = Buffer.from('\r\n-------', 'latin1');
const HYPHENS = '-------';
const EMPTY = Buffer.alloc(0);
const CR = 13;
const LF = 10;
const FLAGS = new Set([0x24, 0x2b, 0x23]); // $ + #
const HNAME = /^[A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*$/;
// Longest possible end-line after CRLF: 7 hyphens + 32-char id + flag + CRLF.
const MAX_ENDLINE_TAIL = 7 + 32 + 1 + 2;
/** Bytes from an end-line's first octet that decide probeEndLine: CRLF, the tail, one more for the LF check. */
const PROBE_WINDOW = 2 + MAX_ENDLINE_TAIL + 1;
/** While a body is pending, reads at least this long are kept by reference, shorter ones copied. */
const COPY_READS_BELOW = 32768;
const TAIL_BYTES = 65536;

interface Head {
  frame: MsrpFrame;
  diagnostics: Diagnostic[];
  /** Offset of the first body byte, or -1 when the end-line follows the headers. */
  bodyStart: number;
  /** No-body frames: offset just past the end-line. */
  end: number;
  /** Declared body length from a numeric Byte-Range, if any. */
  declaredLength?: number;
  /** The request's Byte-Range, parsed once for every check of this frame (undefined: none or a response). */
  range: ParsedRange | undefined;
  needle: Buffer;
  /** Body search resumes here (avoids rescanning on every read). */
  scanFrom: number;
}

type HeadOutcome = { kind: 'head'; head: Head } | { kind: 'more' } | { kind: 'too-large'; diagnostic: Diagnostic };

type EndLineProbe = { kind: 'yes'; end: number; tid: string; flag: MsrpFlag } | { kind: 'no' } | { kind: 'more' };

export class MsrpStreamParser {
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;
  /** Bytes [start, len) of store are unparsed. Regions before len are never written again (raw slices alias them). */
  private store: Buffer = EMPTY;
  private start = 0;
  private len = 0;
  private consumed = 0;
  private head: Head | null = null;
  /** A start line and headers read so far, across reads: each line is parsed once. */
  private partialHead: PartialHead | null = null;
  /** Garbage: where the search for the next `LF MSRP ` resumes. */
  private garbageScanFrom = 0;
  /** False while the store is a caller's buffer, which must never be written to. */
  private storeOwned = false;
  /**
   * While a body is pending: the unparsed bytes as a list of reads (the first is the store's
   * unparsed region), searched read by read and joined once, when the frame's end is known.
   * Null otherwise (the store holds every unparsed byte).
   */
  private parts: Buffer[] | null = null;
  /** Total length of `parts`. */
  private partsLength = 0;
  /** Probe of the end-line where Byte-Range says the body ends: 'no' once decided (it cannot change). */
  private probeDecided = false;
  /** Owned buffer that small reads are copied into while in parts mode (dropped at the join: raw slices may alias it). */
  private tail: Buffer | null = null;
  private tailUsed = 0;
  /** Index in parts of the view over the tail that small reads extend, or -1. */
  private tailPart = -1;
  private tailPartStart = 0;

  constructor(options: MsrpParserOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16384;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_LIMITS.msrpChunkBytes;
  }

  push(chunk: Buffer): ParsedMsrpFrame[] {
    const out: ParsedMsrpFrame[] = [];
    if (this.parts !== null) {
      if (chunk.length === 0) return out;
      const cut = this.bodyRead(chunk);
      if (cut === -1) return out;
      this.join(out, cut, false);
      return out;
    }
    this.append(chunk);
    this.drain(out, false);
    return out;
  }

  /** Unparsed bytes (a partial frame or held garbage), copied. */
  pending(): Buffer {
    if (this.parts !== null) return Buffer.concat(this.parts, this.partsLength);
    return Buffer.from(this.store.subarray(this.start, this.len));
  }

  /** How many bytes are unparsed, without copying them. */
  get pendingLength(): number {
    return this.parts !== null ? this.partsLength : this.len - this.start;
  }

  /** The stream closed: whatever is left becomes frames with diagnostics; the parser is reset. */
  end(): ParsedMsrpFrame[] {
    const out: ParsedMsrpFrame[] = [];
    if (this.parts !== null) this.join(out, this.partsLength, true);
    else this.drain(out, true);
    const left = this.store.subarray(this.start, this.len);
    if (left.length > 0) {
      const garbage = !startsWithPrefix(left, MSRP_SP);
      const d = garbage
        ? diagnostic('MSRP_GARBAGE', 'bytes at close that are not an MSRP frame', S7_1, { offset: 0, bytes: left })
        : diagnostic('MSRP_INCOMPLETE_FRAME', 'connection ended inside a frame (no end-line)', S7_1, { offset: 0, bytes: left });
      this.emit(out, null, left.length, [d]);
    }
    this.head = null;
    this.partialHead = null;
    this.garbageScanFrom = 0;
    return out;
  }

  private append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.start === this.len) {
      // Adopt the read as the store: zero-copy for whole-frame reads. It is never written to.
      this.store = chunk;
      this.start = 0;
      this.len = chunk.length;
      return;
    }
    if (this.len + chunk.length <= this.store.length && this.storeOwned) {
      chunk.copy(this.store, this.len);
      this.len += chunk.length;
      return;
    }
    const used = this.len - this.start;
    const next = Buffer.allocUnsafe(Math.max(2 * (used + chunk.length), 65536));
    this.store.copy(next, 0, this.start, this.len);
    chunk.copy(next, used);
    this.store = next;
    this.storeOwned = true;
    this.start = 0;
    // Head offsets are relative to `start`, so a pending head survives the move unchanged.
    this.len = used + chunk.length;
  }

  /**
   * One read while a body is pending (parts mode): looks for the frame's end in the new bytes
   * only, exactly as body() would over the joined bytes, without joining them. Returns how many
   * leading bytes to join so that body() decides the frame (-1: body() would wait; nothing is
   * joined, the read is kept by reference).
   */
  private bodyRead(chunk: Buffer): number {
    const head = this.head!;
    const needle = head.needle;
    const base = this.partsLength;
    // Bytes [scanFrom, base) are fewer than needle + 3 (a seam or a candidate waiting for its flag).
    const carryLength = base - head.scanFrom;
    const stored = this.addPart(chunk);
    const total = this.partsLength;
    const last = this.parts![this.parts!.length - 1]!;
    const lastStart = total - last.length;
    let found: Scan;
    if (head.scanFrom >= lastStart) {
      // The carry and the read are contiguous (one read, or small reads copied into the tail).
      found = scanOwn(last, head.scanFrom - lastStart, lastStart, needle);
    } else {
      found = { kind: 'none', at: -1 };
      if (carryLength > 0) {
        // Candidates that start in the carry: searched in carry + the read's first bytes.
        const seam = this.slice(head.scanFrom, Math.min(total, base + needle.length + 2));
        const s = scanOwn(seam.subarray(0, Math.min(seam.length, carryLength + needle.length + 2)), 0, head.scanFrom, needle, carryLength);
        if (s.kind !== 'none') found = s;
      }
      if (found.kind === 'none') found = scanOwn(stored, 0, base, needle);
    }
    if (found.kind === 'none') head.scanFrom = Math.max(head.bodyStart, total - needle.length + 1);
    else head.scanFrom = found.at;
    return this.waitOrCut(found.kind === 'own' ? found.at : -1, total);
  }

  /**
   * Keeps a read in the parts: by reference when it is large, copied into an owned tail buffer
   * when it is small (so a body trickling in tiny reads holds about its own size, not one Buffer
   * object, or one socket buffer, per read). Returns the read's bytes as stored.
   */
  private addPart(chunk: Buffer): Buffer {
    const parts = this.parts!;
    this.partsLength += chunk.length;
    if (chunk.length >= COPY_READS_BELOW) {
      parts.push(chunk);
      return chunk;
    }
    if (this.tail === null || this.tailUsed + chunk.length > this.tail.length) {
      this.tail = Buffer.allocUnsafe(TAIL_BYTES);
      this.tailUsed = 0;
      this.tailPart = -1;
    }
    const tail = this.tail;
    chunk.copy(tail, this.tailUsed);
    const stored = tail.subarray(this.tailUsed, this.tailUsed + chunk.length);
    if (this.tailPart === parts.length - 1) parts[this.tailPart] = tail.subarray(this.tailPartStart, this.tailUsed + chunk.length);
    else {
      this.tailPart = parts.length;
      this.tailPartStart = this.tailUsed;
      parts.push(stored);
    }
    this.tailUsed += chunk.length;
    return stored;
  }

  /** Whether body() would decide the frame now, and over how many leading bytes; -1 to wait. */
  private waitOrCut(own: number, total: number): number {
    const head = this.head!;
    const expectedAt = head.declaredLength === undefined ? -1 : head.bodyStart + head.declaredLength;
    let probe: EndLineProbe['kind'] | 'skip' = 'skip';
    if (expectedAt !== -1 && (own === -1 || own > expectedAt)) {
      if (this.probeDecided) probe = 'no';
      else {
        const result = probeEndLine(this.slice(expectedAt, Math.min(total, expectedAt + PROBE_WINDOW)), 0);
        if (result.kind === 'yes' && result.tid !== head.frame.transactionId) return total;
        probe = result.kind;
        if (probe === 'no' || probe === 'yes') this.probeDecided = true;
      }
    }
    if (own !== -1) {
      const ownEnd = own + head.needle.length + 3;
      // body() may still look at the probe window after its own end-line.
      return probe === 'skip' ? ownEnd : Math.min(total, Math.max(ownEnd, expectedAt + PROBE_WINDOW));
    }
    if (probe === 'more') return -1;
    const overLimit = total - head.bodyStart > this.maxBodyBytes + head.needle.length + 3;
    return overLimit ? total : -1;
  }

  /** Bytes [from, to) of the parts, copied when they span reads; walks back from the last read (ranges near the end only). */
  private slice(from: number, to: number): Buffer {
    const parts = this.parts!;
    if (from >= to) return EMPTY;
    let i = parts.length - 1;
    let partStart = this.partsLength - parts[i]!.length;
    while (partStart > from) partStart -= parts[--i]!.length;
    const first = parts[i]!;
    if (to - partStart <= first.length) return first.subarray(from - partStart, to - partStart);
    const out = Buffer.allocUnsafe(to - from);
    let written = first.copy(out, 0, from - partStart);
    while (written < out.length) written += parts[++i]!.copy(out, written, 0, out.length - written);
    return out;
  }

  /**
   * Leaves parts mode: the first `cut` bytes become the store (one copy, or none when they lie in
   * one read), body() decides the frame over them, and the bytes after the cut are parsed as
   * further reads (adopted without a copy once the store is empty).
   */
  private join(out: ParsedMsrpFrame[], cut: number, atEnd: boolean): void {
    const parts = this.parts!;
    this.parts = null;
    this.partsLength = 0;
    this.probeDecided = false;
    this.tail = null;
    this.tailPart = -1;
    let joined: Buffer;
    const rest: Buffer[] = [];
    if (cut <= parts[0]!.length) {
      joined = parts[0]!.subarray(0, cut);
      if (cut < parts[0]!.length) rest.push(parts[0]!.subarray(cut));
      for (let i = 1; i < parts.length; i++) rest.push(parts[i]!);
    } else {
      joined = Buffer.allocUnsafe(cut);
      let written = 0;
      for (const part of parts) {
        if (written < cut) {
          const n = part.copy(joined, written, 0, Math.min(part.length, cut - written));
          written += n;
          if (n < part.length) rest.push(part.subarray(n));
        } else rest.push(part);
      }
    }
    this.store = joined;
    this.storeOwned = false;
    this.start = 0;
    this.len = joined.length;
    this.drain(out, atEnd && rest.length === 0);
    for (let i = 0; i < rest.length; i++) {
      const last = i === rest.length - 1;
      if (this.parts !== null) {
        const c = this.bodyRead(rest[i]!);
        if (c !== -1) this.join(out, c, atEnd && last);
        else if (atEnd && last) this.join(out, this.partsLength, true);
        continue;
      }
      this.append(rest[i]!);
      this.drain(out, atEnd && last);
    }
  }

  private emit(out: ParsedMsrpFrame[], frame: MsrpFrame | null, length: number, diagnostics: Diagnostic[]): void {
    const raw = this.store.subarray(this.start, this.start + length);
    out.push({ frame, raw, diagnostics, streamOffset: this.consumed });
    this.start += length;
    this.consumed += length;
    if (this.start === this.len) {
      this.store = EMPTY;
      this.storeOwned = false;
      this.start = 0;
      this.len = 0;
    }
  }

  private drain(out: ParsedMsrpFrame[], atEnd: boolean): void {
    while (this.start < this.len) {
      const data = this.store.subarray(this.start, this.len);
      if (this.head === null) {
        if (!startsWithPrefix(data, MSRP_SP)) {
          if (data.length < MSRP_SP.length && MSRP_SP.subarray(0, data.length).equals(data) && !atEnd) return;
          if (!this.garbage(out, data, atEnd)) return;
          continue;
        }
        this.partialHead ??= { pos: 0, frame: null, diags: [], offsets: [] };
        const outcome = parseHead(data, this.partialHead, this.maxHeaderBytes, this.maxBodyBytes);
        if (outcome.kind === 'more') return;
        this.partialHead = null;
        if (outcome.kind === 'too-large') {
          // Report what was held and resume as garbage after the start line's "MSRP ".
          this.emit(out, null, Math.min(data.length, this.maxHeaderBytes), [outcome.diagnostic]);
          continue;
        }
        if (outcome.head.bodyStart === -1) {
          this.emit(out, outcome.head.frame, outcome.head.end, outcome.head.diagnostics);
          continue;
        }
        this.head = outcome.head;
      }
      if (!this.body(out, data, this.head, atEnd)) {
        // Wait for the end-line with the reads kept by reference, not copied into the store.
        if (!atEnd) {
          this.parts = [data];
          this.partsLength = data.length;
          this.probeDecided = false;
          this.tail = null;
          this.tailPart = -1;
        }
        return;
      }
    }
  }

  /** Emits garbage up to the next `MSRP ` at a line start; false when it must wait for more bytes. */
  private garbage(out: ParsedMsrpFrame[], data: Buffer, atEnd: boolean): boolean {
    const at = data.indexOf(LF_MSRP_SP, this.garbageScanFrom);
    let length: number;
    if (at !== -1) length = at + 1;
    else if (atEnd) return false;
    else if (data.length > this.maxHeaderBytes) length = data.length - (LF_MSRP_SP.length - 1);
    else {
      // Resume where a `LF MSRP ` split across reads could still start.
      this.garbageScanFrom = Math.max(0, data.length - (LF_MSRP_SP.length - 1));
      return false;
    }
    this.garbageScanFrom = 0;
    this.emit(out, null, length, [
      diagnostic('MSRP_GARBAGE', 'bytes that are not an MSRP frame (skipped to the next "MSRP " at a line start)', S7_1, {
        offset: 0,
        bytes: data.subarray(0, length),
      }),
    ]);
    return true;
  }

  /** Looks for the end of the body; emits the frame and returns true, or false to wait. */
  private body(out: ParsedMsrpFrame[], data: Buffer, head: Head, atEnd: boolean): boolean {
    const needle = head.needle;
    let from = head.scanFrom;
    let own = -1;
    let ownEnd = -1;
    let ownFlag: MsrpFlag = '$';
    for (;;) {
      const p = data.indexOf(needle, from);
      if (p === -1) {
        head.scanFrom = Math.max(head.bodyStart, data.length - needle.length + 1);
        break;
      }
      const f = p + needle.length;
      if (data.length < f + 3) {
        head.scanFrom = p;
        break;
      }
      if (FLAGS.has(data[f]!) && data[f + 1] === CR && data[f + 2] === LF) {
        own = p;
        ownEnd = f + 3;
        ownFlag = String.fromCharCode(data[f]!) as MsrpFlag;
        break;
      }
      from = p + 1;
    }
    const expectedAt = head.declaredLength === undefined ? -1 : head.bodyStart + head.declaredLength;
    if (expectedAt !== -1 && (own === -1 || own > expectedAt)) {
      const probe = probeEndLine(data, expectedAt);
      if (probe.kind === 'yes' && probe.tid !== head.frame.transactionId) {
        this.finish(out, data, head, expectedAt, probe.end, probe.flag, probe.tid);
        return true;
      }
      if (probe.kind === 'more' && own === -1 && !atEnd) return false;
    }
    if (own !== -1) {
      this.finish(out, data, head, own, ownEnd, ownFlag, head.frame.transactionId);
      return true;
    }
    const overLimit = data.length - head.bodyStart > this.maxBodyBytes + needle.length + 3;
    if (!atEnd && !overLimit) return false;
    const foreign = firstForeignEndLine(data, head.bodyStart, head.frame.transactionId);
    if (foreign !== null) {
      this.finish(out, data, head, foreign.at, foreign.end, foreign.flag, foreign.tid);
      return true;
    }
    if (atEnd) return false; // end() reports the leftovers as an incomplete frame
    this.head = null;
    this.emit(out, null, data.length, [
      ...head.diagnostics,
      diagnostic('MSRP_BODY_TOO_LARGE', `no end-line within ${this.maxBodyBytes} body bytes`, S7_1, {
        offset: head.bodyStart,
        bytes: data.subarray(head.bodyStart, head.bodyStart + 64),
      }),
    ]);
    return true;
  }

  private finish(out: ParsedMsrpFrame[], data: Buffer, head: Head, bodyEnd: number, frameEnd: number, flag: MsrpFlag, tid: string): void {
    const body = data.subarray(head.bodyStart, bodyEnd);
    const frame = head.frame;
    frame.flag = flag;
    const diags = [...head.diagnostics];
    if (tid !== frame.transactionId) {
      diags.push(
        diagnostic('MSRP_ENDLINE_MISMATCH', `end-line id "${tid}" differs from start-line id "${frame.transactionId}"`, S7_1, {
          offset: bodyEnd + 2,
          bytes: data.subarray(bodyEnd + 2, frameEnd - 2),
        }),
      );
    }
    if (frame.kind === 'request') frame.body = body;
    diags.push(...bodyChecks(frame, body, head.bodyStart, head.range));
    this.head = null;
    this.emit(out, frame, frameEnd, diags);
  }
}

type Scan = { kind: 'own' | 'more' | 'none'; at: number };

/**
 * First own end-line candidate in buf from `from` (starting before `below`): 'own' when its flag
 * and CRLF are there, 'more' when they have not arrived; candidates with a wrong flag are skipped,
 * as body() does. `at` is the candidate's offset plus `origin`.
 */
function scanOwn(buf: Buffer, from: number, origin: number, needle: Buffer, below = Infinity): Scan {
  for (;;) {
    const p = buf.indexOf(needle, from);
    if (p === -1 || p >= below) return { kind: 'none', at: -1 };
    const verdict = ownEndLineAt(buf, p + needle.length);
    if (verdict === 'yes') return { kind: 'own', at: origin + p };
    if (verdict === 'more') return { kind: 'more', at: origin + p };
    from = p + 1;
  }
}

/** Is there a flag and CRLF at `f` (just past an own-id needle)? 'more' until the three bytes are in. */
function ownEndLineAt(data: Buffer, f: number): 'yes' | 'no' | 'more' {
  if (data.length < f + 3) return 'more';
  return FLAGS.has(data[f]!) && data[f + 1] === CR && data[f + 2] === LF ? 'yes' : 'no';
}

function startsWithPrefix(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** `CRLF ------- ident flag CRLF` at `at`? */
function probeEndLine(data: Buffer, at: number): EndLineProbe {
  const have = Math.min(data.length - at, CRLF_HYPHENS.length);
  if (have < 0) return { kind: 'more' };
  if (data.compare(CRLF_HYPHENS, 0, have, at, at + have) !== 0) return { kind: 'no' };
  if (have < CRLF_HYPHENS.length) return { kind: 'more' };
  const idStart = at + CRLF_HYPHENS.length;
  const limit = Math.min(data.length, idStart + MAX_ENDLINE_TAIL);
  for (let i = idStart; i < limit; i++) {
    const c = data[i]!;
    if (c === CR) {
      if (i + 1 >= data.length) return { kind: 'more' };
      if (data[i + 1] !== LF || i - 1 <= idStart) return { kind: 'no' };
      const flag = data[i - 1]!;
      const tid = data.toString('latin1', idStart, i - 1);
      if (!FLAGS.has(flag) || !IDENT.test(tid)) return { kind: 'no' };
      return { kind: 'yes', end: i + 2, tid, flag: String.fromCharCode(flag) as MsrpFlag };
    }
  }
  return limit - idStart >= MAX_ENDLINE_TAIL ? { kind: 'no' } : { kind: 'more' };
}

function firstForeignEndLine(data: Buffer, from: number, ownTid: string): { at: number; end: number; tid: string; flag: MsrpFlag } | null {
  let p = data.indexOf(CRLF_HYPHENS, from);
  while (p !== -1) {
    const probe = probeEndLine(data, p);
    if (probe.kind === 'yes' && probe.tid !== ownTid) return { at: p, end: probe.end, tid: probe.tid, flag: probe.flag };
    p = data.indexOf(CRLF_HYPHENS, p + 1);
  }
  return null;
}

interface PartialHead {
  /** Offset of the next unparsed line. */
  pos: number;
  frame: MsrpFrame | null;
  diags: Diagnostic[];
  offsets: number[];
}

/** Start line and headers up to the blank line or a header-less end-line, resuming at `state.pos`. */
function parseHead(data: Buffer, state: PartialHead, maxHeaderBytes: number, maxBodyBytes: number): HeadOutcome {
  const diags = state.diags;
  const headerOffsets = state.offsets;
  for (;;) {
    const pos = state.pos;
    const nl = data.indexOf(LF, pos);
    if (nl === -1 || nl + 1 > maxHeaderBytes) {
      if (data.length <= maxHeaderBytes && nl === -1) return { kind: 'more' };
      return {
        kind: 'too-large',
        diagnostic: diagnostic('MSRP_HEADERS_TOO_LARGE', `start line and headers exceed ${maxHeaderBytes} bytes`, S7_1, {
          offset: 0,
          bytes: data.subarray(0, Math.min(data.length, 80)),
        }),
      };
    }
    const crlf = nl > pos && data[nl - 1] === CR;
    if (!crlf) diags.push(diagnostic('MSRP_BARE_LF', 'line ends in LF without CR', S9, { offset: nl, bytes: data.subarray(pos, nl + 1) }));
    const line = data.toString('latin1', pos, crlf ? nl - 1 : nl);
    const frame = state.frame;
    if (frame === null) {
      state.frame = parseStartLine(line, diags);
    } else if (line === '') {
      return { kind: 'head', head: makeHead(frame, diags, headerOffsets, nl + 1, -1, maxBodyBytes) };
    } else if (line.startsWith(HYPHENS)) {
      const endLine = line.slice(HYPHENS.length);
      const flagChar = endLine.slice(-1);
      const tid = endLine.slice(0, -1);
      if (flagChar === '$' || flagChar === '+' || flagChar === '#') frame.flag = flagChar;
      else diags.push(diagnostic('MSRP_BAD_END_LINE', 'end-line does not end in "$", "+" or "#"', S9, { offset: pos, bytes: line }));
      if (tid !== frame.transactionId) {
        diags.push(
          diagnostic('MSRP_ENDLINE_MISMATCH', `end-line id "${tid}" differs from start-line id "${frame.transactionId}"`, S7_1, {
            offset: pos,
            bytes: line,
          }),
        );
      }
      return { kind: 'head', head: makeHead(frame, diags, headerOffsets, -1, nl + 1, maxBodyBytes) };
    } else {
      parseHeaderLine(line, pos, frame.headers, headerOffsets, diags);
    }
    state.pos = nl + 1;
  }
}

function parseStartLine(line: string, diags: Diagnostic[]): MsrpFrame {
  const rest = line.slice(5);
  const sp = rest.indexOf(' ');
  const tid = sp === -1 ? rest : rest.slice(0, sp);
  const after = sp === -1 ? '' : rest.slice(sp + 1);
  if (!IDENT.test(tid)) {
    diags.push(diagnostic('MSRP_BAD_TRANSACTION_ID', 'transaction id is not 4-32 ident characters starting alphanumeric', S9, { offset: 5, bytes: tid }));
  }
  if (sp === -1 || after === '') {
    diags.push(diagnostic('MSRP_BAD_START_LINE', 'start line has no method or status code', S9, { offset: 0, bytes: line }));
    return { kind: 'request', transactionId: tid, method: '', headers: [], body: null, flag: '$' };
  }
  if (/^[0-9]/.test(after)) {
    const m = /^(\d{3})(?: (.*))?$/.exec(after);
    const response: MsrpFrame = { kind: 'response', transactionId: tid, status: 0, headers: [], flag: '$' };
    if (!m) {
      diags.push(diagnostic('MSRP_BAD_STATUS', 'status code is not 3 digits followed by SP or the line end', S9, { offset: 6 + tid.length, bytes: after }));
      const text = after.indexOf(' ');
      if (text !== -1) response.comment = after.slice(text + 1);
      return response;
    }
    response.status = Number(m[1]);
    if (m[2] !== undefined) response.comment = m[2];
    if (response.status < 200 || response.status > 599) {
      diags.push(diagnostic('MSRP_BAD_STATUS', `status ${m[1]} is outside 200-599`, 'RFC 4975 §10', { offset: 6 + tid.length, bytes: m[1]! }));
    }
    return response;
  }
  if (!/^[A-Z]+$/.test(after)) {
    diags.push(diagnostic('MSRP_BAD_START_LINE', 'method is not upper-case letters only', S9, { offset: 6 + tid.length, bytes: after }));
  } else if (!KNOWN_METHODS.has(after)) {
    diags.push(
      diagnostic('MSRP_UNKNOWN_METHOD', `unknown method ${after} (the answer is 501)`, 'RFC 4975 §7.3', {
        severity: 'warning',
        offset: 6 + tid.length,
        bytes: after,
      }),
    );
  }
  return { kind: 'request', transactionId: tid, method: after, headers: [], body: null, flag: '$' };
}

function parseHeaderLine(line: string, offset: number, headers: MsrpHeader[], offsets: number[], diags: Diagnostic[]): void {
  const colon = line.indexOf(':');
  if (colon <= 0 || !HNAME.test(line.slice(0, colon))) {
    diags.push(diagnostic('MSRP_BAD_HEADER', 'header line is not hname ":" SP hval', S9, { offset, bytes: line }));
    return;
  }
  let value: string;
  if (line.charCodeAt(colon + 1) === 0x20) value = line.slice(colon + 2);
  else {
    diags.push(diagnostic('MSRP_BAD_HEADER', 'no SP after the header colon', S9, { severity: 'warning', offset, bytes: line }));
    value = line.slice(colon + 1).trimStart();
  }
  headers.push({ name: line.slice(0, colon), value });
  offsets.push(offset);
}

/** A Byte-Range header value and its parse. */
interface ParsedRange {
  text: string;
  result: Result<ByteRange>;
}

function makeHead(frame: MsrpFrame, diags: Diagnostic[], offsets: number[], bodyStart: number, end: number, maxBodyBytes: number): Head {
  const rangeText = frame.kind === 'request' ? msrpHeader(frame, 'Byte-Range') : undefined;
  const parsedRange = rangeText === undefined ? undefined : { text: rangeText, result: parseByteRange(rangeText) };
  diags.push(...headerChecks(frame, offsets, parsedRange));
  const head: Head = {
    frame,
    diagnostics: diags,
    bodyStart,
    end,
    needle: Buffer.from(`\r\n-------${frame.transactionId}`, 'latin1'),
    scanFrom: bodyStart,
    range: parsedRange,
  };
  const range = frame.kind === 'request' && frame.method === 'SEND' ? parsedRange?.text : undefined;
  if (range !== undefined) {
    const r = parsedRange!.result;
    if (r.ok && r.value.end !== '*') {
      const declared = r.value.end - r.value.start + 1;
      // The number is only compared, never used to size anything; above the limit it is not trusted at all.
      if (declared > maxBodyBytes) {
        diags.push(
          diagnostic('MSRP_CHUNK_TOO_LARGE', `Byte-Range ${range} declares a ${declared}-octet chunk, above the limit of ${maxBodyBytes}`, S7_1, { bytes: range }),
        );
      } else head.declaredLength = declared;
    }
  }
  if (bodyStart === -1) diags.push(...bodyChecks(frame, null, end, parsedRange));
  return head;
}

function headerChecks(frame: MsrpFrame, offsets: number[], range: ParsedRange | undefined): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const to = msrpHeaderIndex(frame.headers, 'To-Path');
  const from = msrpHeaderIndex(frame.headers, 'From-Path');
  if (to === -1) diags.push(diagnostic('MSRP_MISSING_TO_PATH', 'no To-Path header', S9));
  if (from === -1) diags.push(diagnostic('MSRP_MISSING_FROM_PATH', 'no From-Path header', S9));
  if ((to !== -1 && to !== 0) || (from !== -1 && from !== 1)) {
    const at = to > 0 ? to : from;
    diags.push(
      diagnostic('MSRP_HEADER_ORDER', 'To-Path must be the first header and From-Path the second', S7_1, {
        offset: offsets[at],
        bytes: `${frame.headers[at]!.name}: ${frame.headers[at]!.value}`,
      }),
    );
  }
  for (const i of [to, from]) {
    if (i === -1) continue;
    const r = readMsrpPath(frame.headers[i]!.value);
    if (!r.ok) for (const d of r.diagnostics) diags.push({ ...d, offset: offsets[i] });
  }
  if (frame.kind === 'request') {
    if (range !== undefined && !range.result.ok) diags.push(...range.result.diagnostics);
    const messageId = msrpHeader(frame, 'Message-ID');
    if (messageId !== undefined && !IDENT.test(messageId)) {
      diags.push(diagnostic('MSRP_BAD_MESSAGE_ID', 'Message-ID is not an ident', S9, { bytes: messageId }));
    }
    if (messageId === undefined && frame.method === 'SEND') {
      diags.push(diagnostic('MSRP_MISSING_MESSAGE_ID', 'SEND without Message-ID', 'RFC 4975 §7.1.1', { severity: 'warning' }));
    }
    const status = msrpHeader(frame, 'Status');
    if (status !== undefined) {
      const r = parseStatusHeader(status);
      if (!r.ok) diags.push(...r.diagnostics);
    }
  }
  return diags;
}

function bodyChecks(frame: MsrpFrame, body: Buffer | null, bodyOffset: number, parsedRange: ParsedRange | undefined): Diagnostic[] {
  const diags: Diagnostic[] = [];
  if (frame.kind === 'response') {
    if (body !== null) diags.push(diagnostic('MSRP_RESPONSE_BODY', 'responses carry no body', S9, { offset: bodyOffset, bytes: body.subarray(0, 64) }));
    return diags;
  }
  const contentTypeAt = msrpHeaderIndex(frame.headers, 'Content-Type');
  if (body !== null && contentTypeAt === -1) {
    diags.push(diagnostic('MSRP_MISSING_CONTENT_TYPE', 'a body without Content-Type', S9, { offset: bodyOffset }));
  }
  if (body !== null && contentTypeAt !== -1 && contentTypeAt !== frame.headers.length - 1) {
    diags.push(diagnostic('MSRP_HEADER_ORDER', 'Content-Type should be the last header before the body', S9, { severity: 'warning' }));
  }
  if (body !== null && frame.method !== 'SEND' && body.length > MAX_NON_SEND_BODY) {
    diags.push(
      diagnostic('MSRP_NON_SEND_BODY_TOO_LARGE', `${frame.method} body of ${body.length} octets exceeds 10240`, S7_1, {
        offset: bodyOffset,
        bytes: body.subarray(0, 64),
      }),
    );
  }
  // A REPORT's Byte-Range describes the reported message, not its own body (§7.1.2).
  const range = frame.method === 'SEND' ? parsedRange?.text : undefined;
  if (range !== undefined) {
    const r = parsedRange!.result;
    const length = body === null ? 0 : body.length;
    if (r.ok && r.value.end !== '*' && r.value.end - r.value.start + 1 !== length) {
      // An interrupted chunk (+ or #) may legitimately stop short of the range it announced.
      diags.push(
        diagnostic('MSRP_BYTE_RANGE_MISMATCH', `body is ${length} octets, Byte-Range ${range} says ${r.value.end - r.value.start + 1}`, S7_1, {
          severity: frame.flag === '$' ? 'error' : 'warning',
          bytes: range,
        }),
      );
    }
  }
  return diags;
}

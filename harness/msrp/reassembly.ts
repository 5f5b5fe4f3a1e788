/**
 * Reassembles SEND chunks into messages by Message-ID (RFC 4975 §5.1, §7.3.1): chunks of several
 * messages may interleave on one connection and arrive out of order; `#` aborts a message.
 * Overlaps, gaps and inconsistent totals are diagnostics, never throws.
 *
 * Nothing is allocated from a number the sender wrote: a declared Byte-Range total or end above
 * the message limit (or the receiver's a=max-size) refuses the message before any byte of it is
 * stored, and storage only ever grows with the bytes actually received. Received bytes are kept as
 * disjoint ranges sorted by offset; a chunk that continues a range is appended to it in amortized
 * constant time, so an in-order message costs O(log n) per chunk whatever its chunk size.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { DEFAULT_LIMITS } from '../core/limits.ts';
import { msrpHeader, parseByteRange, type MsrpRequest } from './frame.ts';

export interface ReassembledMessage {
  messageId: string;
  body: Buffer;
  contentType: string | undefined;
  chunks: number;
  frames: MsrpRequest[];
}

export interface ReassemblyResult {
  complete?: ReassembledMessage;
  aborted?: { messageId: string; receivedBytes: number; frames: MsrpRequest[] };
  /** The message crossed a limit: the receiver answers 413 and drops it (RFC 4975 §7.3.1). */
  refused?: { messageId: string; code: string };
  diagnostics: Diagnostic[];
}

export interface ReassemblerOptions {
  /** Largest message accepted, declared or received; default DEFAULT_LIMITS.msrpMessageBytes. */
  maxMessageBytes?: number;
  /** a=max-size this side advertised (RFC 4975 §8.6), if any: lowers the limit. */
  maxSize?: number;
}

/** Received bytes [lo, lo + length) of a message, 0-based; `data` may have spare capacity. */
interface Piece {
  lo: number;
  length: number;
  data: Buffer;
}

interface Partial {
  /** Disjoint, sorted by lo; a stretch that continues a piece is appended to it, not added. */
  pieces: Piece[];
  frames: MsrpRequest[];
  /** Known total length: a numeric total, or the end of the `$` chunk. */
  total: number | null;
  contentType: string | undefined;
  /** Distinct octets received (overlaps counted once). */
  received: number;
  overlapReports: number;
}

const S = 'RFC 4975 §7.3.1';
/** A message arriving in more separate ranges than this is refused (in-order chunks make one range). */
export const MAX_RANGES_PER_MESSAGE = 4096;
/** Overlap diagnostics per message; beyond it overlaps are still handled, only not reported again. */
const MAX_OVERLAP_REPORTS = 16;
/** Refused Message-IDs remembered, so their later chunks are refused too. */
const MAX_REFUSED_REMEMBERED = 256;

export class Reassembler {
  private readonly partials = new Map<string, Partial>();
  private readonly refused = new Set<string>();
  private readonly limit: number;
  private readonly limitClause: string;
  private readonly limitName: string;

  constructor(options: ReassemblerOptions | number = {}) {
    const given = typeof options === 'number' ? { maxMessageBytes: options } : options;
    const base = given.maxMessageBytes ?? DEFAULT_LIMITS.msrpMessageBytes;
    const maxSize = given.maxSize;
    if (maxSize !== undefined && maxSize < base) {
      this.limit = maxSize;
      this.limitClause = 'RFC 4975 §8.6';
      this.limitName = `a=max-size ${maxSize}`;
    } else {
      this.limit = base;
      this.limitClause = S;
      this.limitName = `the limit of ${base} octets`;
    }
  }

  add(frame: MsrpRequest): ReassemblyResult {
    const diagnostics: Diagnostic[] = [];
    const body = frame.body ?? Buffer.alloc(0);
    const messageId = msrpHeader(frame, 'Message-ID') ?? '';
    const header = msrpHeader(frame, 'Byte-Range');
    if (this.refused.has(messageId)) return this.refuse(messageId, diagnostics, 'a chunk of a message already refused as too large', header);
    let start = 1;
    let total: number | null = null;
    let declaredEnd: number | null = null;
    const partial = this.partials.get(messageId);
    if (header === undefined) {
      if (partial) {
        diagnostics.push(diagnostic('MSRP_MISSING_BYTE_RANGE', 'a chunk after the first without Byte-Range', 'RFC 4975 §7.1', { bytes: messageId }));
        const last = partial.pieces[partial.pieces.length - 1];
        start = last === undefined ? 1 : last.lo + last.length + 1;
      }
    } else {
      const r = parseByteRange(header);
      if (!r.ok) return { diagnostics: [...diagnostics, ...r.diagnostics] };
      start = r.value.start;
      if (r.value.total !== '*') total = r.value.total;
      if (r.value.end !== '*') declaredEnd = r.value.end;
    }
    // Every number the sender wrote is checked before it can size or index anything.
    const reach = Math.max(total ?? 0, declaredEnd ?? 0, start - 1 + body.length);
    if (reach > this.limit) {
      const what = total !== null && total > this.limit ? `declared total ${total}` : `bytes up to ${reach}`;
      return this.refuse(messageId, diagnostics, `${what} exceeds ${this.limitName}`, header);
    }
    if (frame.flag === '$') {
      const end = start + body.length - 1;
      if (total !== null && end !== total) {
        diagnostics.push(diagnostic('MSRP_TOTAL_MISMATCH', `last chunk ends at ${end}, total says ${total}`, S, { bytes: header ?? '' }));
      }
      total ??= end;
    }
    const state: Partial = partial ?? { pieces: [], frames: [], total: null, contentType: undefined, received: 0, overlapReports: 0 };
    if (!partial) this.partials.set(messageId, state);
    if (total !== null) {
      if (state.total !== null && state.total !== total) {
        diagnostics.push(diagnostic('MSRP_TOTAL_MISMATCH', `total ${total} differs from earlier ${state.total}`, S, { bytes: header ?? '' }));
      }
      if (state.total === null) {
        state.total = total;
        clipTo(state, total);
      }
    }
    state.frames.push(frame);
    const contentType = msrpHeader(frame, 'Content-Type');
    state.contentType ??= contentType;
    if (start === 1 && contentType !== undefined) state.contentType = contentType;
    const lo = start - 1;
    const stored = state.total === null ? body : body.subarray(0, Math.max(0, Math.min(body.length, state.total - lo)));
    if (stored.length > 0) insert(state, lo, stored, header ?? '', diagnostics);
    if (state.pieces.length > MAX_RANGES_PER_MESSAGE) {
      return this.refuse(messageId, diagnostics, `the message arrives in more than ${MAX_RANGES_PER_MESSAGE} separate byte ranges`, header);
    }
    if (frame.flag === '#') {
      this.partials.delete(messageId);
      diagnostics.push(diagnostic('MSRP_MESSAGE_ABORTED', 'the sender aborted the message (#)', 'RFC 4975 §7.1', { severity: 'warning', bytes: messageId }));
      return { aborted: { messageId, receivedBytes: state.received, frames: state.frames }, diagnostics };
    }
    if (state.total === null || state.received < state.total) return { diagnostics };
    this.partials.delete(messageId);
    return {
      complete: { messageId, body: assemble(state.pieces, state.total), contentType: state.contentType, chunks: state.frames.length, frames: state.frames },
      diagnostics,
    };
  }

  /** Messages still incomplete, each with a gap diagnostic (for reporting at close). */
  incomplete(): { messageId: string; receivedBytes: number; diagnostics: Diagnostic[] }[] {
    return [...this.partials].map(([messageId, state]) => ({
      messageId,
      receivedBytes: state.received,
      diagnostics: gaps(state).map((g) => diagnostic('MSRP_CHUNK_GAP', `bytes ${g} never arrived`, S, { bytes: messageId })),
    }));
  }

  private refuse(messageId: string, diagnostics: Diagnostic[], why: string, header: string | undefined): ReassemblyResult {
    this.partials.delete(messageId);
    if (!this.refused.has(messageId)) {
      if (this.refused.size >= MAX_REFUSED_REMEMBERED) this.refused.delete(this.refused.values().next().value as string);
      this.refused.add(messageId);
    }
    diagnostics.push(
      diagnostic('MSRP_MESSAGE_TOO_LARGE', `message ${messageId}: ${why}; refused (413)`, this.limitClause, { bytes: header === undefined ? messageId : `Byte-Range: ${header}` }),
    );
    return { refused: { messageId, code: 'MSRP_MESSAGE_TOO_LARGE' }, diagnostics };
  }
}

/** Index of the first piece ending after `lo` (pieces are disjoint and sorted). */
function firstEndingAfter(pieces: readonly Piece[], lo: number): number {
  let a = 0;
  let b = pieces.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    const p = pieces[mid]!;
    if (p.lo + p.length <= lo) a = mid + 1;
    else b = mid;
  }
  return a;
}

function newPiece(lo: number, bytes: Buffer): Piece {
  return { lo, length: bytes.length, data: Buffer.from(bytes) };
}

/** Appends to a piece, growing its storage geometrically (bounded by the bytes received so far, times two). */
function extend(piece: Piece, bytes: Buffer): void {
  const needed = piece.length + bytes.length;
  if (needed > piece.data.length) {
    const grown = Buffer.allocUnsafe(Math.max(needed, 2 * piece.data.length, 4096));
    piece.data.copy(grown, 0, 0, piece.length);
    piece.data = grown;
  }
  bytes.copy(piece.data, piece.length);
  piece.length = needed;
}

/** Stores the bytes of [lo, lo + bytes.length) not yet received; reports overlaps with what was. */
function insert(state: Partial, lo: number, bytes: Buffer, header: string, diagnostics: Diagnostic[]): void {
  const pieces = state.pieces;
  const hi = lo + bytes.length;
  let i = firstEndingAfter(pieces, lo);
  // Only the uncovered stretches of the new bytes are stored; overlapping ones are compared.
  let cursor = lo;
  const fresh: { lo: number; bytes: Buffer }[] = [];
  let j = i;
  for (; j < pieces.length && pieces[j]!.lo < hi; j++) {
    const p = pieces[j]!;
    if (p.lo > cursor) fresh.push({ lo: cursor, bytes: bytes.subarray(cursor - lo, p.lo - lo) });
    const oLo = Math.max(p.lo, lo);
    const oHi = Math.min(p.lo + p.length, hi);
    if (state.overlapReports < MAX_OVERLAP_REPORTS) {
      state.overlapReports++;
      const same = p.data.subarray(oLo - p.lo, oHi - p.lo).equals(bytes.subarray(oLo - lo, oHi - lo));
      diagnostics.push(
        diagnostic('MSRP_CHUNK_OVERLAP', `bytes ${oLo + 1}-${oHi} received twice${same ? ' (identical)' : ' with different content'}`, S, {
          severity: same ? 'warning' : 'error',
          bytes: header,
        }),
      );
    }
    cursor = Math.max(cursor, p.lo + p.length);
  }
  if (cursor < hi) fresh.push({ lo: cursor, bytes: bytes.subarray(cursor - lo) });
  for (const f of fresh) {
    state.received += f.bytes.length;
    // Find where this stretch goes: after every piece that ends at or before it.
    i = firstEndingAfter(pieces, f.lo);
    const before = i > 0 ? pieces[i - 1]! : undefined;
    if (before !== undefined && before.lo + before.length === f.lo) extend(before, f.bytes);
    else pieces.splice(i, 0, newPiece(f.lo, f.bytes));
  }
}

/** Once the total is known, bytes beyond it are not part of the message. */
function clipTo(state: Partial, total: number): void {
  while (state.pieces.length > 0) {
    const last = state.pieces[state.pieces.length - 1]!;
    if (last.lo + last.length <= total) return;
    const keep = Math.max(0, total - last.lo);
    state.received -= last.length - keep;
    if (keep === 0) state.pieces.pop();
    else last.length = keep;
  }
}

/** Called when the received bytes equal the total: the disjoint pieces then cover 0..total exactly. */
function assemble(pieces: readonly Piece[], total: number): Buffer {
  if (pieces.length === 1 && pieces[0]!.length === total) return pieces[0]!.data.subarray(0, total);
  const out = Buffer.allocUnsafe(total);
  for (const p of pieces) p.data.copy(out, p.lo, 0, p.length);
  return out;
}

function gaps(state: Partial): string[] {
  const result: string[] = [];
  let covered = 0;
  for (const p of state.pieces) {
    if (p.lo > covered) result.push(`${covered + 1}-${p.lo}`);
    covered = Math.max(covered, p.lo + p.length);
  }
  const total = state.total;
  if (total === null) result.push(`${covered + 1}-*`);
  else if (covered < total) result.push(`${covered + 1}-${total}`);
  return result;
}

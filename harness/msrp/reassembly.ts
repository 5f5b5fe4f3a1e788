/**
 * Reassembles SEND chunks into messages by Message-ID (RFC 4975 §5.1, §7.3.1): chunks of several
 * messages may interleave on one connection and arrive out of order; `#` aborts a message.
 * Overlaps, gaps and inconsistent totals are diagnostics, never throws.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
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
  diagnostics: Diagnostic[];
}

interface Piece {
  start: number;
  body: Buffer;
}

interface Partial {
  pieces: Piece[];
  frames: MsrpRequest[];
  /** Known total length: a numeric total, or the end of the `$` chunk. */
  total: number | null;
  contentType: string | undefined;
  received: number;
}

const S = 'RFC 4975 §7.3.1';

export class Reassembler {
  private readonly partials = new Map<string, Partial>();

  constructor(private readonly maxMessageBytes = 64 * 1024 * 1024) {}

  add(frame: MsrpRequest): ReassemblyResult {
    const diagnostics: Diagnostic[] = [];
    const body = frame.body ?? Buffer.alloc(0);
    const messageId = msrpHeader(frame, 'Message-ID') ?? '';
    const header = msrpHeader(frame, 'Byte-Range');
    let start = 1;
    let total: number | null = null;
    const partial = this.partials.get(messageId);
    if (header === undefined) {
      if (partial) {
        diagnostics.push(diagnostic('MSRP_MISSING_BYTE_RANGE', 'a chunk after the first without Byte-Range', 'RFC 4975 §7.1', { bytes: messageId }));
        start = partial.pieces.reduce((max, p) => Math.max(max, p.start + p.body.length), 1);
      }
    } else {
      const r = parseByteRange(header);
      if (!r.ok) return { diagnostics: [...diagnostics, ...r.diagnostics] };
      start = r.value.start;
      if (r.value.total !== '*') total = r.value.total;
    }
    if (frame.flag === '$') {
      const end = start + body.length - 1;
      if (total !== null && end !== total) {
        diagnostics.push(diagnostic('MSRP_TOTAL_MISMATCH', `last chunk ends at ${end}, total says ${total}`, S, { bytes: header ?? '' }));
      }
      total ??= end;
    }
    const state: Partial = partial ?? { pieces: [], frames: [], total: null, contentType: undefined, received: 0 };
    if (!partial) this.partials.set(messageId, state);
    if (total !== null) {
      if (state.total !== null && state.total !== total) {
        diagnostics.push(diagnostic('MSRP_TOTAL_MISMATCH', `total ${total} differs from earlier ${state.total}`, S, { bytes: header ?? '' }));
      }
      state.total ??= total;
    }
    state.frames.push(frame);
    state.contentType ??= msrpHeader(frame, 'Content-Type');
    if (start === 1 && msrpHeader(frame, 'Content-Type') !== undefined) state.contentType = msrpHeader(frame, 'Content-Type');
    const duplicate = state.pieces.some((p) => p.start === start && p.body.equals(body));
    if (body.length > 0) {
      for (const p of state.pieces) {
        const lo = Math.max(p.start, start);
        const hi = Math.min(p.start + p.body.length, start + body.length);
        if (lo >= hi) continue;
        const same = p.body.subarray(lo - p.start, hi - p.start).equals(body.subarray(lo - start, hi - start));
        diagnostics.push(
          diagnostic('MSRP_CHUNK_OVERLAP', `bytes ${lo}-${hi - 1} received twice${same ? ' (identical)' : ' with different content'}`, S, {
            severity: same ? 'warning' : 'error',
            bytes: header ?? '',
          }),
        );
      }
      if (!duplicate) {
        state.pieces.push({ start, body });
        state.received += body.length;
      }
    }
    if (state.received > this.maxMessageBytes) {
      this.partials.delete(messageId);
      diagnostics.push(diagnostic('MSRP_MESSAGE_TOO_LARGE', `message exceeds ${this.maxMessageBytes} octets`, S, { bytes: messageId }));
      return { diagnostics };
    }
    if (frame.flag === '#') {
      this.partials.delete(messageId);
      diagnostics.push(diagnostic('MSRP_MESSAGE_ABORTED', 'the sender aborted the message (#)', 'RFC 4975 §7.1', { severity: 'warning', bytes: messageId }));
      return { aborted: { messageId, receivedBytes: state.received, frames: state.frames }, diagnostics };
    }
    if (state.total === null) return { diagnostics };
    const assembled = assemble(state.pieces, state.total);
    if (assembled === null) return { diagnostics };
    this.partials.delete(messageId);
    return {
      complete: { messageId, body: assembled, contentType: state.contentType, chunks: state.frames.length, frames: state.frames },
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
}

/** The body if pieces cover 1..total without holes, else null. */
function assemble(pieces: readonly Piece[], total: number): Buffer | null {
  const out = Buffer.alloc(total);
  const sorted = [...pieces].sort((a, b) => a.start - b.start);
  let covered = 0;
  for (const p of sorted) {
    if (p.start - 1 > covered) return null;
    const end = Math.min(total, p.start - 1 + p.body.length);
    if (end > covered) {
      p.body.copy(out, covered, covered - (p.start - 1), end - (p.start - 1));
      covered = end;
    }
  }
  return covered >= total ? out : null;
}

function gaps(state: Partial): string[] {
  const sorted = [...state.pieces].sort((a, b) => a.start - b.start);
  const result: string[] = [];
  let covered = 0;
  for (const p of sorted) {
    if (p.start - 1 > covered) result.push(`${covered + 1}-${p.start - 1}`);
    covered = Math.max(covered, p.start - 1 + p.body.length);
  }
  const total = state.total;
  if (total === null) result.push(`${covered + 1}-*`);
  else if (covered < total) result.push(`${covered + 1}-${total}`);
  return result;
}

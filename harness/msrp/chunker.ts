/**
 * Splits a message body into SEND chunks (RFC 4975 §5.1, §7.1): Byte-Range values are 1-based and
 * inclusive; the last chunk ends in `$`, the others in `+`, an aborted message's last one in `#`.
 */
import type { ByteRange, MsrpFlag } from './frame.ts';

export interface ChunkSpec {
  range: ByteRange;
  /** The Byte-Range header value, e.g. `201-328/328` or `1-*` + `/*`. */
  byteRange: string;
  flag: MsrpFlag;
  /** A view of the message body (not a copy). */
  body: Buffer;
}

export interface ChunkOptions {
  /** Octets per chunk (at least 1). */
  chunkSize: number;
  /** Write `start-*` + `/*` on every chunk, as a sender that streams without knowing the size. */
  unknownTotal?: boolean;
  /** Stop after this many chunks and flag the last one `#` (message aborted). */
  abortAfter?: number;
}

export function chunkMessage(body: Buffer, options: ChunkOptions): ChunkSpec[] {
  const size = Math.max(1, Math.floor(options.chunkSize));
  const total = body.length;
  const unknown = options.unknownTotal === true;
  if (total === 0) return [chunk(1, body, options.abortAfter !== undefined ? '#' : '$', total, unknown)];
  const chunks: ChunkSpec[] = [];
  for (let offset = 0; offset < total; offset += size) {
    const piece = body.subarray(offset, Math.min(total, offset + size));
    const last = offset + size >= total;
    chunks.push(chunk(offset + 1, piece, last ? '$' : '+', total, unknown));
    if (options.abortAfter !== undefined && chunks.length >= options.abortAfter) {
      chunks[chunks.length - 1]!.flag = '#';
      break;
    }
  }
  return chunks;
}

function chunk(start: number, piece: Buffer, flag: MsrpFlag, total: number, unknownTotal: boolean): ChunkSpec {
  const range: ByteRange = unknownTotal ? { start, end: '*', total: '*' } : { start, end: start + piece.length - 1, total };
  return { range, byteRange: `${range.start}-${range.end}/${range.total}`, flag, body: piece };
}

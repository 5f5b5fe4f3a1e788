/**
 * MSRP frame model (RFC 4975 §7, ABNF §9) and pure readers of the header values the engine needs.
 * Headers stay a list in wire order with names as written, so odd frames survive a round trip.
 */
import { diagnostic } from '../core/diagnostic.ts';
import { fail, ok, type Result } from '../core/result.ts';

export type MsrpFlag = '$' | '+' | '#';

export interface MsrpHeader {
  name: string;
  value: string;
}

export interface MsrpRequest {
  kind: 'request';
  transactionId: string;
  method: string;
  headers: MsrpHeader[];
  /** null = no body (end-line right after the headers); an empty Buffer = blank line then empty body. */
  body: Buffer | null;
  flag: MsrpFlag;
}

export interface MsrpResponse {
  kind: 'response';
  transactionId: string;
  /** 0 when the start line carried no parsable 3-digit code (see MSRP_BAD_STATUS). */
  status: number;
  comment?: string;
  headers: MsrpHeader[];
  flag: MsrpFlag;
}

export type MsrpFrame = MsrpRequest | MsrpResponse;

/** Methods registered with IANA: RFC 4975 (SEND, REPORT), RFC 4976 (AUTH), RFC 7701 (NICKNAME). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(['SEND', 'REPORT', 'AUTH', 'NICKNAME']);

/** ident = ALPHANUM 3*31ident-char; ident-char = ALPHANUM / "." / "-" / "+" / "%" / "=" (§9). */
export const IDENT = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}$/;

/** RFC 4975 §7.1: non-SEND request bodies MUST NOT be larger than 10240 octets. */
export const MAX_NON_SEND_BODY = 10240;

export const REASON_PHRASES: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Message Too Large',
  415: 'Unsupported Media Type',
  423: 'Parameter Out Of Bounds',
  481: 'No Such Session',
  501: 'Method Not Implemented',
  506: 'Session Already Bound',
};

/** First header with this name (case-insensitive: ABNF literals are case-insensitive). */
export function msrpHeader(frame: { headers: readonly MsrpHeader[] }, name: string): string | undefined {
  const i = msrpHeaderIndex(frame.headers, name);
  return i === -1 ? undefined : frame.headers[i]!.value;
}

/** Index of the first header with this name (case-insensitive), or -1; the spelling as given is tried first. */
export function msrpHeaderIndex(headers: readonly MsrpHeader[], name: string): number {
  let lower: string | undefined;
  for (let i = 0; i < headers.length; i++) {
    const n = headers[i]!.name;
    if (n === name) return i;
    if (n.length === name.length && n.toLowerCase() === (lower ??= name.toLowerCase())) return i;
  }
  return -1;
}

export interface ByteRange {
  start: number;
  end: number | '*';
  total: number | '*';
}

/** `Byte-Range: 1-328/328` → { start: 1, end: 328, total: 328 }; `*` allowed for end and total (§9). */
export function parseByteRange(value: string): Result<ByteRange> {
  const m = /^(\d+)-(\d+|\*)\/(\d+|\*)$/.exec(value);
  if (!m) return badByteRange(value, 'Byte-Range is not range-start "-" range-end "/" total');
  const start = Number(m[1]);
  const end = m[2] === '*' ? '*' : Number(m[2]);
  const total = m[3] === '*' ? '*' : Number(m[3]);
  // Digits beyond 2^53 cannot be represented exactly: no real message comes near (the limits are far lower).
  if (!Number.isSafeInteger(start) || (end !== '*' && !Number.isSafeInteger(end)) || (total !== '*' && !Number.isSafeInteger(total))) {
    return badByteRange(value, 'a Byte-Range number exceeds 2^53 - 1');
  }
  if (start < 1) return badByteRange(value, 'range-start is 1-based and must be at least 1');
  // 1-0/0 is the empty message (§7.1.1); otherwise end may not precede start.
  if (end !== '*' && end < start - 1) return badByteRange(value, 'range-end precedes range-start');
  if (end !== '*' && total !== '*' && end > total) return badByteRange(value, 'range-end exceeds total');
  return ok({ start, end, total });
}

function badByteRange(value: string, why: string): Result<ByteRange> {
  return fail<ByteRange>(diagnostic('MSRP_BAD_BYTE_RANGE', why, 'RFC 4975 §9', { bytes: value }));
}

export function formatByteRange(range: ByteRange): string {
  return `${range.start}-${range.end}/${range.total}`;
}

export interface MsrpStatus {
  namespace: string;
  code: number;
  comment?: string;
}

/** `Status: 000 200 OK` (§8.1, namespace 000 for RFC 4975 codes). */
export function parseStatusHeader(value: string): Result<MsrpStatus> {
  const m = /^(\d{3}) (\d{3})(?: (.*))?$/.exec(value);
  if (!m) return fail(diagnostic('MSRP_BAD_STATUS_HEADER', 'Status is not namespace SP status-code [SP comment]', 'RFC 4975 §9', { bytes: value }));
  const status: MsrpStatus = { namespace: m[1]!, code: Number(m[2]) };
  if (m[3] !== undefined) status.comment = m[3];
  return ok(status);
}

export type SuccessReport = 'yes' | 'no';
export type FailureReport = 'yes' | 'no' | 'partial';

/**
 * Success-Report value; absent means `no` (§7.1.1). Unknown values fall back to the default. The
 * values are ABNF quoted strings (§9), which RFC 5234 §2.3 makes case-insensitive: `Yes` is `yes`.
 */
export function successReportOf(frame: MsrpFrame): SuccessReport {
  const v = msrpHeader(frame, 'Success-Report')?.trim().toLowerCase();
  return v === 'yes' ? 'yes' : 'no';
}

/** Failure-Report value; absent means `yes` (§7.1.1); case-insensitive like Success-Report. */
export function failureReportOf(frame: MsrpFrame): FailureReport {
  const v = msrpHeader(frame, 'Failure-Report')?.trim().toLowerCase();
  return v === 'no' || v === 'partial' ? v : 'yes';
}

/** One line for traces: `MSRP a1b2 SEND 1-328/328$`, `MSRP a1b2 200 OK`. */
export function summarizeFrame(frame: MsrpFrame): string {
  if (frame.kind === 'response') return `MSRP ${frame.transactionId} ${frame.status}${frame.comment === undefined ? '' : ` ${frame.comment}`}`;
  const range = msrpHeader(frame, 'Byte-Range');
  return `MSRP ${frame.transactionId} ${frame.method}${range === undefined ? '' : ` ${range}`}${frame.flag}`;
}

/**
 * MSRP frame builders and the serializer (RFC 4975 §7.1, §7.2, §8.1, §9). Exact bytes: header values
 * are written as latin1 so a parsed frame serializes back to the identical octets.
 */
import { randomToken } from '../core/ids.ts';
import {
  formatByteRange,
  msrpHeader,
  parseByteRange,
  REASON_PHRASES,
  type ByteRange,
  type FailureReport,
  type MsrpFlag,
  type MsrpFrame,
  type MsrpHeader,
  type MsrpRequest,
  type MsrpResponse,
  type SuccessReport,
} from './frame.ts';
import { formatMsrpPath, readMsrpPath, type MsrpUri } from './uri.ts';

const CRLF = '\r\n';

/** 64 bits of randomness (RFC 4975 §7.1: transaction ids MUST contain at least 64 bits). */
export function newTransactionId(): string {
  return randomToken(8);
}

export function newMessageId(): string {
  return randomToken(8);
}

/** To-Path, From-Path, the rest in given order, Content-* MIME headers next, Content-Type last (§7.1, §9 content-stuff). */
export function canonicalHeaderOrder(headers: readonly MsrpHeader[]): readonly MsrpHeader[] {
  // Frames built here are already in this order: then the list is returned as it is (a stable sort would not change it).
  let sorted = true;
  for (let i = 1; i < headers.length && sorted; i++) sorted = headerRank(headers[i - 1]!) <= headerRank(headers[i]!);
  if (sorted) return headers;
  return headers
    .map((h, i) => ({ h, i }))
    .sort((a, b) => headerRank(a.h) - headerRank(b.h) || a.i - b.i)
    .map((x) => x.h);
}

function headerRank(h: MsrpHeader): number {
  const n = h.name.toLowerCase();
  if (n === 'to-path') return 0;
  if (n === 'from-path') return 1;
  if (n === 'content-type') return 4;
  if (n.startsWith('content-')) return 3;
  return 2;
}

/**
 * Wire bytes of a frame. A body (requests only; an empty Buffer counts) gets the blank line, the
 * body and the CRLF before the end-line. `verbatim` writes headers exactly in the given order.
 */
export function serializeMsrpFrame(frame: MsrpFrame, options: { verbatim?: boolean } = {}): Buffer {
  const start =
    frame.kind === 'request'
      ? `MSRP ${frame.transactionId} ${frame.method}`
      : `MSRP ${frame.transactionId} ${String(frame.status).padStart(3, '0')}${frame.comment === undefined ? '' : ` ${frame.comment}`}`;
  const headers = options.verbatim ? frame.headers : canonicalHeaderOrder(frame.headers);
  let head = start + CRLF;
  for (const h of headers) head += `${h.name}: ${h.value}${CRLF}`;
  const endLine = `-------${frame.transactionId}${frame.flag}${CRLF}`;
  const body = frame.kind === 'request' ? frame.body : null;
  if (body === null) return Buffer.from(head + endLine, 'latin1');
  // One allocation: latin1 writes one octet per character, so the text lengths are the octet counts.
  const out = Buffer.allocUnsafe(head.length + 2 + body.length + 2 + endLine.length);
  let at = out.write(head + CRLF, 0, 'latin1');
  at += body.copy(out, at);
  out.write(CRLF + endLine, at, 'latin1');
  return out;
}

type PathInput = MsrpUri | readonly MsrpUri[] | string;

function pathText(path: PathInput): string {
  if (typeof path === 'string') return path;
  return formatMsrpPath(Array.isArray(path) ? (path as readonly MsrpUri[]) : [path as MsrpUri]);
}

export interface SendSpec {
  toPath: PathInput;
  fromPath: PathInput;
  /** null = empty SEND without body (bind / keep-alive). */
  body: Buffer | null;
  contentType?: string;
  transactionId?: string;
  /** null omits the header (e.g. rcsjta-style bind SEND). */
  messageId?: string | null;
  /** Defaults to the whole body (`1-0/0` for no body); null omits the header. */
  byteRange?: ByteRange | string | null;
  successReport?: SuccessReport | null;
  failureReport?: FailureReport | null;
  flag?: MsrpFlag;
  /** Inserted after the report headers, before Byte-Range and Content-Type. */
  extraHeaders?: MsrpHeader[];
}

/** A SEND in the order seen in interoperable stacks: paths, Message-ID, reports, Byte-Range, Content-Type. */
export function buildSend(spec: SendSpec): MsrpRequest {
  const headers: MsrpHeader[] = [
    { name: 'To-Path', value: pathText(spec.toPath) },
    { name: 'From-Path', value: pathText(spec.fromPath) },
  ];
  const messageId = spec.messageId === undefined ? newMessageId() : spec.messageId;
  if (messageId !== null) headers.push({ name: 'Message-ID', value: messageId });
  if (spec.successReport) headers.push({ name: 'Success-Report', value: spec.successReport });
  if (spec.failureReport) headers.push({ name: 'Failure-Report', value: spec.failureReport });
  headers.push(...(spec.extraHeaders ?? []));
  if (spec.byteRange !== null) {
    const length = spec.body === null ? 0 : spec.body.length;
    const range = spec.byteRange === undefined ? { start: 1, end: length, total: length } : spec.byteRange;
    headers.push({ name: 'Byte-Range', value: typeof range === 'string' ? range : formatByteRange(range) });
  }
  if (spec.body !== null) headers.push({ name: 'Content-Type', value: spec.contentType ?? 'text/plain' });
  return {
    kind: 'request',
    transactionId: spec.transactionId ?? newTransactionId(),
    method: 'SEND',
    headers,
    body: spec.body,
    flag: spec.flag ?? '$',
  };
}

/** First URI of a request's From-Path (as written), for addressing the answer to it. */
function firstFromPathUri(request: MsrpRequest): string {
  const from = msrpHeader(request, 'From-Path') ?? '';
  const parsed = readMsrpPath(from);
  return parsed.ok ? formatMsrpPath([parsed.value[0]!]) : (from.split(' ')[0] ?? '');
}

/**
 * Transaction response (§7.2): same transaction id, To-Path = the first URI of the request's
 * From-Path, From-Path = own URI, no Message-ID or Byte-Range.
 */
export function buildResponse(request: MsrpRequest, status: number, comment: string | undefined, options: { localUri: MsrpUri | string }): MsrpResponse {
  const response: MsrpResponse = {
    kind: 'response',
    transactionId: request.transactionId,
    status,
    headers: [
      { name: 'To-Path', value: firstFromPathUri(request) },
      { name: 'From-Path', value: pathText(options.localUri) },
    ],
    flag: '$',
  };
  const text = comment ?? REASON_PHRASES[status];
  if (text !== undefined) response.comment = text;
  return response;
}

/**
 * REPORT for a SEND (§7.1.2, §8.1): To-Path = the SEND's From-Path, From-Path = own URI, same
 * Message-ID, Byte-Range of what is reported (default: the SEND's chunk), `Status: 000 <code> <text>`.
 */
export function buildReport(
  send: MsrpRequest,
  status: number,
  options: { localUri: MsrpUri | string; byteRange?: ByteRange; comment?: string; transactionId?: string },
): MsrpRequest {
  const headers: MsrpHeader[] = [
    { name: 'To-Path', value: msrpHeader(send, 'From-Path') ?? '' },
    { name: 'From-Path', value: pathText(options.localUri) },
  ];
  const messageId = msrpHeader(send, 'Message-ID');
  if (messageId !== undefined) headers.push({ name: 'Message-ID', value: messageId });
  headers.push({ name: 'Byte-Range', value: formatByteRange(options.byteRange ?? chunkRange(send)) });
  const text = options.comment ?? REASON_PHRASES[status];
  headers.push({ name: 'Status', value: `000 ${status}${text === undefined ? '' : ` ${text}`}` });
  return { kind: 'request', transactionId: options.transactionId ?? newTransactionId(), method: 'REPORT', headers, body: null, flag: '$' };
}

/** The byte range a SEND actually carried, with `*` resolved from the body length. */
function chunkRange(send: MsrpRequest): ByteRange {
  const length = send.body === null ? 0 : send.body.length;
  const header = msrpHeader(send, 'Byte-Range');
  const parsed = header === undefined ? null : parseByteRange(header);
  if (parsed === null || !parsed.ok) return { start: 1, end: length, total: length };
  const end = parsed.value.start + length - 1;
  return { start: parsed.value.start, end, total: parsed.value.total === '*' ? end : parsed.value.total };
}

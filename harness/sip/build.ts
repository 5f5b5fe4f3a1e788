/**
 * Message builders: RFC 3261-correct by default, every field overridable by passing it. Pure
 * except for the To-tag that buildResponse generates when none is given.
 */
import { newTag } from '../core/ids.ts';
import { formatVia, tagOf, type Via } from './headers.ts';
import { firstHeaderValue, headerFields, headerValue, headerValues, type SipHeaderField, type SipRequest, type SipResponse } from './message.ts';

/** RFC 3261 §21 (plus 204/3xx-6xx codes from RFC 3265/4412/5079/6665/6086 that CPM clients send). */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

/** The RFC reason phrase, or a class default (`Client Error`) for unlisted codes. */
export function reasonPhrase(status: number): string {
  const known = REASON_PHRASES[status];
  if (known !== undefined) return known;
  const byClass: Record<number, string> = { 1: 'Provisional', 2: 'Success', 3: 'Redirection', 4: 'Client Error', 5: 'Server Error', 6: 'Global Failure' };
  return byClass[Math.floor(status / 100)] ?? 'Unknown';
}

function bodyBuffer(body: Buffer | string | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Content-Type (when given) and Content-Length in octets, always last. */
function trailer(body: Buffer, contentType: string | undefined): SipHeaderField[] {
  const fields: SipHeaderField[] = [];
  if (contentType !== undefined) fields.push({ name: 'Content-Type', value: contentType });
  fields.push({ name: 'Content-Length', value: String(body.length) });
  return fields;
}

export interface RequestFields {
  method: string;
  uri: string;
  via: Via | string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  /** Default 70 (RFC 3261 §8.1.1.6). */
  maxForwards?: number;
  contact?: string;
  /** Extra fields, placed after Contact in the order given. */
  headers?: SipHeaderField[];
  body?: Buffer | string;
  contentType?: string;
}

/** Header order: Via, Max-Forwards, From, To, Call-ID, CSeq, Contact, extra…, Content-Type, Content-Length. */
export function buildRequest(fields: RequestFields): SipRequest {
  const body = bodyBuffer(fields.body);
  const headers: SipHeaderField[] = [
    { name: 'Via', value: typeof fields.via === 'string' ? fields.via : formatVia(fields.via) },
    { name: 'Max-Forwards', value: String(fields.maxForwards ?? 70) },
    { name: 'From', value: fields.from },
    { name: 'To', value: fields.to },
    { name: 'Call-ID', value: fields.callId },
    { name: 'CSeq', value: `${fields.cseq} ${fields.method}` },
  ];
  if (fields.contact !== undefined) headers.push({ name: 'Contact', value: fields.contact });
  if (fields.headers) headers.push(...fields.headers.map((h) => ({ ...h })));
  headers.push(...trailer(body, fields.contentType));
  return { kind: 'request', method: fields.method, uri: fields.uri, version: 'SIP/2.0', headers, body };
}

export interface ResponseOptions {
  /** To-tag to add; default a fresh tag (not added to a 100 unless given). Ignored if To already has a tag. */
  toTag?: string;
  headers?: SipHeaderField[];
  body?: Buffer | string;
  contentType?: string;
  contact?: string;
  /** Record-Route values this UAS adds above the ones copied from the request (a 101–299 only). */
  recordRoute?: readonly string[];
}

/**
 * RFC 3261 §8.2.6.2: every Via in order, From, To (+tag unless 100 or already tagged), Call-ID and
 * CSeq copied from the request. A 101–299 response also copies Record-Route (§12.1.1), in order.
 */
export function buildResponse(request: SipRequest, status: number, reason?: string, options: ResponseOptions = {}): SipResponse {
  const body = bodyBuffer(options.body);
  const headers: SipHeaderField[] = headerFields(request, 'via').map((h) => ({ name: 'Via', value: h.value }));
  if (status > 100 && status < 300) {
    for (const value of options.recordRoute ?? []) headers.push({ name: 'Record-Route', value });
    headers.push(...headerFields(request, 'record-route').map((h) => ({ name: 'Record-Route', value: h.value })));
  }
  headers.push({ name: 'From', value: headerValue(request, 'from') ?? '' });
  let to = headerValue(request, 'to') ?? '';
  if (tagOf(to) === undefined && (status !== 100 || options.toTag !== undefined)) to = `${to};tag=${options.toTag ?? newTag()}`;
  headers.push({ name: 'To', value: to });
  headers.push({ name: 'Call-ID', value: headerValue(request, 'call-id') ?? '' });
  headers.push({ name: 'CSeq', value: headerValue(request, 'cseq') ?? '' });
  if (options.contact !== undefined) headers.push({ name: 'Contact', value: options.contact });
  if (options.headers) headers.push(...options.headers.map((h) => ({ ...h })));
  headers.push(...trailer(body, options.contentType));
  return { kind: 'response', version: 'SIP/2.0', status, reason: reason ?? reasonPhrase(status), headers, body };
}

function cseqNumber(msg: SipRequest): string {
  return (headerValue(msg, 'cseq') ?? '').trim().split(/[ \t]+/)[0] ?? '';
}

/** Route values of the request, each as its own field, in order. */
function routes(msg: SipRequest): SipHeaderField[] {
  return headerValues(msg, 'route').map((value) => ({ name: 'Route', value }));
}

/** RFC 3261 §9.1: Request-URI, Call-ID, To, From, CSeq number of the INVITE; only its top Via; Route copied. */
export function buildCancel(invite: SipRequest): SipRequest {
  const headers: SipHeaderField[] = [
    { name: 'Via', value: firstHeaderValue(invite, 'via') ?? '' },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: headerValue(invite, 'from') ?? '' },
    { name: 'To', value: headerValue(invite, 'to') ?? '' },
    { name: 'Call-ID', value: headerValue(invite, 'call-id') ?? '' },
    { name: 'CSeq', value: `${cseqNumber(invite)} CANCEL` },
    ...routes(invite),
    { name: 'Content-Length', value: '0' },
  ];
  return { kind: 'request', method: 'CANCEL', uri: invite.uri, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/**
 * RFC 3261 §17.1.1.3: same Request-URI, Call-ID and From as the INVITE, its top Via only (same
 * branch), To from the response (with its tag), CSeq number + ACK, Route copied.
 */
export function buildAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: SipHeaderField[] = [
    { name: 'Via', value: firstHeaderValue(invite, 'via') ?? '' },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: headerValue(invite, 'from') ?? '' },
    { name: 'To', value: headerValue(response, 'to') ?? '' },
    { name: 'Call-ID', value: headerValue(invite, 'call-id') ?? '' },
    { name: 'CSeq', value: `${cseqNumber(invite)} ACK` },
    ...routes(invite),
    { name: 'Content-Length', value: '0' },
  ];
  return { kind: 'request', method: 'ACK', uri: invite.uri, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/**
 * SIP dialogs (RFC 3261 §12; RFC 6665 §4.1.2 for SUBSCRIBE-created dialogs): the state a UA keeps
 * between the request that creates a dialog and the BYE or final NOTIFY that ends it, and the
 * rules for building in-dialog requests and judging the peer's. Pure: no sockets, no timers.
 */
import { diagnostic, hasErrors } from '../core/diagnostic.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import { newBranch } from '../core/ids.ts';
import { fail, ok } from '../core/result.ts';
import type { Result } from '../core/result.ts';
import { buildRequest } from './build.ts';
import { getParam } from './lex.ts';
import { formatSipUri, parseSipUri } from './uri.ts';
import { formatNameAddr, parseCSeq, parseNameAddr } from './headers.ts';
import type { NameAddr } from './headers.ts';
import { firstHeaderValue, headerValue, headerValues, methodOf } from './message.ts';
import type { SipHeaderField, SipMessage, SipRequest, SipResponse } from './message.ts';

/** Our role in the transaction a message belongs to: we sent the request (uac) or received it (uas). */
export type DialogSide = 'uac' | 'uas';
export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface DialogId {
  callId: string;
  localTag: string;
  /** Empty when the peer sent no tag (RFC 2543 peers, §12.1.2 / §12.1.1 "null" tag). */
  remoteTag: string;
}

/** Where to send an in-dialog request: a stack `Target` plus the URI it was resolved from. */
export interface NextHop {
  uri: string;
  transport: 'udp' | 'tcp';
  address: string;
  port: number;
}

export interface InDialogRequestOptions {
  /** Extra header fields, after Contact and Route. */
  headers?: SipHeaderField[];
  body?: Buffer | string;
  contentType?: string;
  /** Top Via; default `SIP/2.0/<next-hop transport> <local contact host:port>;branch=<fresh>`. */
  via?: string;
  /** Overrides the dialog's local Contact on target-refresh requests. */
  contact?: string;
}

/** RFC 3261 §12.2 plus RFC 3311 (UPDATE) and RFC 6665 §4.1.2 (SUBSCRIBE/NOTIFY). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY']);
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE']);

/** `Call-ID` plus both tags, as seen from our side of the transaction the message belongs to. */
export function dialogIdOf(message: SipMessage, side: DialogSide): DialogId | undefined {
  const callId = headerValue(message, 'call-id');
  const from = headerValue(message, 'from');
  const to = headerValue(message, 'to');
  if (callId === undefined || from === undefined || to === undefined) return undefined;
  const fromTag = tagParam(from) ?? '';
  const toTag = tagParam(to) ?? '';
  return side === 'uac' ? { callId, localTag: fromTag, remoteTag: toTag } : { callId, localTag: toTag, remoteTag: fromTag };
}

/** Map key for a dialog id. */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

function tagParam(value: string): string | undefined {
  const parsed = parseNameAddr(value);
  if (!parsed.ok) return undefined;
  const tag = getParam(parsed.value.params, 'tag');
  return typeof tag === 'string' ? tag : undefined;
}

function withoutTag(n: NameAddr): NameAddr {
  return { ...n, params: n.params.filter((p) => p.name.toLowerCase() !== 'tag') };
}

function withTag(n: NameAddr, tag: string): string {
  return formatNameAddr(tag.length === 0 ? n : { ...n, params: [...n.params, { name: 'tag', value: tag }] });
}

function cseqNumberOf(message: SipMessage): Result<{ seq: number; method: string }> {
  const value = headerValue(message, 'cseq');
  if (value === undefined) return fail(diagnostic('SIP_DIALOG_NO_CSEQ', 'message has no CSeq', 'RFC 3261 §8.1.1.5'));
  return parseCSeq(value);
}

interface Parties {
  callId: string;
  fromNameAddr: NameAddr;
  fromTag: string | undefined;
  toNameAddr: NameAddr;
  toTag: string | undefined;
}

function parties(request: SipRequest, response: SipResponse, diagnostics: Diagnostic[]): Parties | undefined {
  const callId = headerValue(request, 'call-id');
  if (callId === undefined) {
    diagnostics.push(diagnostic('SIP_DIALOG_NO_CALL_ID', 'request has no Call-ID, so no dialog can be identified', 'RFC 3261 §12.1'));
    return undefined;
  }
  const responseCallId = headerValue(response, 'call-id');
  if (responseCallId !== callId) {
    diagnostics.push(diagnostic('SIP_DIALOG_CALL_ID_MISMATCH', `response Call-ID "${responseCallId ?? ''}" differs from the request's`, 'RFC 3261 §8.2.6.2', { bytes: responseCallId ?? '' }));
    return undefined;
  }
  const from = parseNameAddr(headerValue(request, 'from') ?? '');
  const to = parseNameAddr(headerValue(response, 'to') ?? '');
  diagnostics.push(...from.diagnostics, ...to.diagnostics);
  if (!from.ok || !to.ok) return undefined;
  const fromTag = getParam(from.value.params, 'tag');
  const toTag = getParam(to.value.params, 'tag');
  return {
    callId,
    fromNameAddr: withoutTag(from.value),
    fromTag: typeof fromTag === 'string' ? fromTag : undefined,
    toNameAddr: withoutTag(to.value),
    toTag: typeof toTag === 'string' ? toTag : undefined,
  };
}

/** First Contact value of a message, with a diagnostic when it is missing or not a single SIP URI. */
function contactOf(message: SipMessage, clause: string, diagnostics: Diagnostic[], severity: 'error' | 'warning'): string | undefined {
  const contacts = headerValues(message, 'contact');
  const what = message.kind === 'request' ? message.method : `${message.status} response`;
  if (contacts.length === 0) {
    diagnostics.push(diagnostic('SIP_DIALOG_NO_CONTACT', `${what} that creates a dialog has no Contact`, clause, { severity }));
    return undefined;
  }
  if (contacts.length > 1) {
    diagnostics.push(diagnostic('SIP_DIALOG_MULTIPLE_CONTACTS', `${what} carries ${contacts.length} Contact values; a dialog has one remote target`, clause, { severity: 'warning', bytes: contacts.join(', ') }));
  }
  const parsed = parseNameAddr(contacts[0]);
  if (!parsed.ok) {
    diagnostics.push(...parsed.diagnostics.map((d) => ({ ...d, severity })));
    return undefined;
  }
  const uri = parseSipUri(parsed.value.uri);
  if (!uri.ok || uri.value.scheme === 'tel') {
    diagnostics.push(diagnostic('SIP_DIALOG_CONTACT_NOT_SIP', `Contact "${parsed.value.uri}" is not a SIP or SIPS URI`, clause, { severity, bytes: contacts[0] }));
    return undefined;
  }
  return parsed.value.uri;
}

function recordRoutes(message: SipMessage, diagnostics: Diagnostic[]): string[] {
  const values = headerValues(message, 'record-route');
  for (const value of values) {
    const parsed = parseNameAddr(value);
    if (!parsed.ok) diagnostics.push(...parsed.diagnostics);
  }
  return values;
}

interface DialogInit {
  role: DialogSide;
  state: DialogState;
  callId: string;
  localTag: string;
  remoteTag: string;
  local: NameAddr;
  remote: NameAddr;
  remoteTarget: string;
  localContact: string | undefined;
  routeSet: string[];
  localSeq: number | undefined;
  remoteSeq: number | undefined;
  secure: boolean;
  inviteSeq: number | undefined;
  remoteInviteSeq: number | undefined;
}

export class Dialog {
  /** Who created the dialog: we sent the creating request (uac) or received it (uas). */
  readonly role: DialogSide;
  state: DialogState;
  readonly callId: string;
  readonly localTag: string;
  /** May change once, from empty, for an early UAC dialog confirmed by a tagged 2xx. */
  remoteTag: string;
  /** From (uac) or To (uas) of the creating request, without tag. */
  readonly local: NameAddr;
  readonly remote: NameAddr;
  /** Contact URI of the peer; replaced by target-refresh requests and responses. */
  remoteTarget: string;
  /** Our Contact value, sent on target-refresh requests. */
  localContact: string | undefined;
  /** Route header values in the order they go into requests. */
  routeSet: string[];
  /** Last CSeq number we used; undefined until we send a request (UAS side). */
  localSeq: number | undefined;
  /** Highest CSeq number accepted from the peer; undefined until the peer sends one (UAC side). */
  remoteSeq: number | undefined;
  readonly secure: boolean;
  /** CSeq number of our last INVITE in this dialog (the 2xx ACK reuses it, §13.2.2.4). */
  private inviteSeq: number | undefined;
  /** CSeq number of the peer's last INVITE (its ACK carries it). */
  private remoteInviteSeq: number | undefined;

  private constructor(init: DialogInit) {
    this.role = init.role;
    this.state = init.state;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.local = init.local;
    this.remote = init.remote;
    this.remoteTarget = init.remoteTarget;
    this.localContact = init.localContact;
    this.routeSet = init.routeSet;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.secure = init.secure;
    this.inviteSeq = init.inviteSeq;
    this.remoteInviteSeq = init.remoteInviteSeq;
  }

  /**
   * §12.1.2: the dialog a UAC holds after a 101–199 (with To tag: early) or 2xx (confirmed) to
   * its INVITE or SUBSCRIBE. Route set = Record-Route of the response, reversed.
   */
  static fromUac(request: SipRequest, response: SipResponse, options: { overTls?: boolean } = {}): Result<Dialog> {
    const diagnostics: Diagnostic[] = [];
    const common = creatingExchange(request, response, diagnostics);
    if (!common) return fail(...diagnostics);
    const p = parties(request, response, diagnostics);
    if (!p) return fail(...diagnostics);
    if (p.fromTag === undefined) {
      diagnostics.push(diagnostic('SIP_DIALOG_NO_FROM_TAG', 'our request has no From tag', 'RFC 3261 §8.1.1.3'));
      return fail(...diagnostics);
    }
    const early = response.status < 200;
    if (p.toTag === undefined) {
      // An early dialog needs the To tag; a tagless 2xx is tolerated as an RFC 2543 peer (§12.1.2).
      const severity = early ? 'error' : 'warning';
      diagnostics.push(diagnostic('SIP_DIALOG_NO_TO_TAG', `${response.status} response has no To tag`, 'RFC 3261 §8.2.6.2', { severity, bytes: headerValue(response, 'to') ?? '' }));
      if (early) return fail(...diagnostics);
    }
    const severity = early ? 'warning' : 'error';
    const target = contactOf(response, request.method === 'SUBSCRIBE' ? 'RFC 6665 §4.1.2' : 'RFC 3261 §12.1.1', diagnostics, severity);
    const dialog = new Dialog({
      role: 'uac',
      state: early ? 'early' : 'confirmed',
      callId: p.callId,
      localTag: p.fromTag,
      remoteTag: p.toTag ?? '',
      local: p.fromNameAddr,
      remote: p.toNameAddr,
      remoteTarget: target ?? request.uri,
      localContact: firstHeaderValue(request, 'contact'),
      routeSet: recordRoutes(response, diagnostics).reverse(),
      localSeq: common.seq,
      remoteSeq: undefined,
      secure: (options.overTls ?? false) && request.uri.toLowerCase().startsWith('sips:'),
      inviteSeq: request.method === 'INVITE' ? common.seq : undefined,
      remoteInviteSeq: undefined,
    });
    return ok(dialog, diagnostics);
  }

  /**
   * §12.1.1: the dialog a UAS holds once it sends a 101–199 or 2xx (with To tag) to an INVITE or
   * SUBSCRIBE. Route set = Record-Route of the request, in order. `response` is ours.
   */
  static fromUas(request: SipRequest, response: SipResponse, options: { overTls?: boolean } = {}): Result<Dialog> {
    const diagnostics: Diagnostic[] = [];
    const common = creatingExchange(request, response, diagnostics);
    if (!common) return fail(...diagnostics);
    const p = parties(request, response, diagnostics);
    if (!p) return fail(...diagnostics);
    if (p.toTag === undefined) {
      diagnostics.push(diagnostic('SIP_DIALOG_NO_TO_TAG', `our ${response.status} response has no To tag`, 'RFC 3261 §12.1.1'));
      return fail(...diagnostics);
    }
    if (p.fromTag === undefined) {
      diagnostics.push(diagnostic('SIP_DIALOG_NO_FROM_TAG', `${request.method} has no From tag (treated as null)`, 'RFC 3261 §8.1.1.3', { severity: 'warning', bytes: headerValue(request, 'from') ?? '' }));
    }
    const target = contactOf(request, 'RFC 3261 §8.1.1.8', diagnostics, 'error');
    const dialog = new Dialog({
      role: 'uas',
      state: response.status < 200 ? 'early' : 'confirmed',
      callId: p.callId,
      localTag: p.toTag,
      remoteTag: p.fromTag ?? '',
      local: p.toNameAddr,
      remote: p.fromNameAddr,
      remoteTarget: target ?? p.fromNameAddr.uri,
      localContact: firstHeaderValue(response, 'contact'),
      routeSet: recordRoutes(request, diagnostics),
      localSeq: undefined,
      remoteSeq: common.seq,
      secure: (options.overTls ?? false) && request.uri.toLowerCase().startsWith('sips:'),
      inviteSeq: undefined,
      remoteInviteSeq: request.method === 'INVITE' ? common.seq : undefined,
    });
    return ok(dialog, diagnostics);
  }

  get id(): DialogId {
    return { callId: this.callId, localTag: this.localTag, remoteTag: this.remoteTag };
  }

  get key(): string {
    return dialogKey(this.id);
  }

  /** Whether an incoming message (a request to us, or a response to our request) belongs here. */
  matches(message: SipMessage): boolean {
    const id = dialogIdOf(message, message.kind === 'request' ? 'uas' : 'uac');
    if (!id || id.callId !== this.callId || id.localTag !== this.localTag) return false;
    // An early UAC dialog without remote tag accepts the first tag it sees (§12.1.2, RFC 2543 peers).
    return id.remoteTag === this.remoteTag || (this.remoteTag === '' && message.kind === 'response');
  }

  /**
   * §12.2.1.1 loose/strict routing: Request-URI and Route values for the next in-dialog request.
   * With a loose first route (`;lr`) the Request-URI is the remote target; with a strict one it is
   * that route's URI, and the remote target goes last in Route.
   */
  routing(): { requestUri: string; routes: string[] } {
    if (this.routeSet.length === 0) return { requestUri: this.remoteTarget, routes: [] };
    const first = parseNameAddr(this.routeSet[0]);
    const firstUri = first.ok ? first.value.uri : this.routeSet[0];
    const parsedFirst = parseSipUri(firstUri);
    const loose = parsedFirst.ok && getParam(parsedFirst.value.params, 'lr') !== undefined;
    if (loose || !parsedFirst.ok) return { requestUri: this.remoteTarget, routes: [...this.routeSet] };
    return { requestUri: requestUriForm(firstUri), routes: [...this.routeSet.slice(1), `<${this.remoteTarget}>`] };
  }

  /**
   * An in-dialog request (§12.2.1.1): To/From from the dialog, Call-ID, CSeq = local + 1, Route
   * set, Contact on target-refresh methods. `ACK` is delegated to `createAck`. CANCEL is not an
   * in-dialog request (§9.1): build it from the INVITE with `buildCancel`; asking here throws.
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    const upper = method.toUpperCase();
    if (upper === 'CANCEL') throw new TypeError('CANCEL is not an in-dialog request: use buildCancel(invite) (RFC 3261 §9.1)');
    if (upper === 'ACK') return this.createAck(undefined, options);
    // §12.2.1.1: an empty local sequence starts from an initial value (§8.1.1.5); 1 keeps traces readable.
    const seq = this.localSeq === undefined ? 1 : this.localSeq + 1;
    this.localSeq = seq;
    if (upper === 'INVITE') this.inviteSeq = seq;
    const contact = TARGET_REFRESH.has(upper) ? (options.contact ?? this.localContact) : undefined;
    return this.build(upper, seq, options, contact);
  }

  /** §13.2.2.4: ACK for a 2xx is in-dialog, new branch, CSeq number of the INVITE it acknowledges. */
  createAck(invite2xxCSeq?: number, options: InDialogRequestOptions = {}): SipRequest {
    const seq = invite2xxCSeq ?? this.inviteSeq ?? this.localSeq ?? 1;
    return this.build('ACK', seq, options, undefined);
  }

  private build(method: string, seq: number, options: InDialogRequestOptions, contact: string | undefined): SipRequest {
    const { requestUri, routes } = this.routing();
    const headers: SipHeaderField[] = routes.map((value) => ({ name: 'Route', value }));
    if (options.headers) headers.push(...options.headers);
    const fields: Parameters<typeof buildRequest>[0] = {
      method,
      uri: requestUri,
      via: options.via ?? this.defaultVia(),
      from: withTag(this.local, this.localTag),
      to: withTag(this.remote, this.remoteTag),
      callId: this.callId,
      cseq: seq,
      headers,
    };
    if (contact !== undefined) fields.contact = contact;
    if (options.body !== undefined) fields.body = options.body;
    if (options.contentType !== undefined) fields.contentType = options.contentType;
    return buildRequest(fields);
  }

  private defaultVia(): string {
    const hop = this.nextHop();
    const transport = hop.ok ? hop.value.transport.toUpperCase() : 'UDP';
    const contact = this.localContact === undefined ? undefined : parseNameAddr(this.localContact);
    const uri = contact?.ok ? parseSipUri(contact.value.uri) : undefined;
    const sentBy = uri?.ok ? `${uri.value.host}${uri.value.port === undefined ? '' : `:${uri.value.port}`}` : 'invalid.invalid';
    return `SIP/2.0/${transport} ${sentBy};branch=${newBranch()}`;
  }

  /**
   * Where the next in-dialog request goes (§8.1.2, §12.2.1.1): the first Route URI, or the remote
   * target when there is none; `maddr`, `transport` (default udp) and port (default 5060) as in
   * RFC 3263 without DNS, which the harness never needs on loopback.
   */
  nextHop(): Result<NextHop> {
    let uriText = this.remoteTarget;
    if (this.routeSet.length > 0) {
      const first = parseNameAddr(this.routeSet[0]);
      if (!first.ok) return fail(...first.diagnostics);
      uriText = first.value.uri;
    }
    const parsed = parseSipUri(uriText);
    if (!parsed.ok) return fail(...parsed.diagnostics);
    const uri = parsed.value;
    if (uri.scheme === 'tel') return fail(diagnostic('SIP_DIALOG_TEL_TARGET', `cannot send to "${uriText}"`, 'RFC 3261 §8.1.2', { bytes: uriText }));
    const transportParam = getParam(uri.params, 'transport');
    const transport = typeof transportParam === 'string' ? transportParam.toLowerCase() : uri.scheme === 'sips' ? 'tcp' : 'udp';
    if (transport !== 'udp' && transport !== 'tcp') {
      return fail(diagnostic('SIP_DIALOG_UNSUPPORTED_TRANSPORT', `transport "${transport}" is not supported by the harness`, 'RFC 3263 §4.1', { bytes: uriText }));
    }
    const maddr = getParam(uri.params, 'maddr');
    const host = typeof maddr === 'string' ? maddr : uri.host;
    const address = host.startsWith('[') ? host.slice(1, -1) : host;
    return ok({ uri: uriText, transport, address, port: uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060) });
  }

  /**
   * §12.2.2 checks on a request from the peer in this dialog, applied to the dialog state when no
   * error: a lower CSeq is out of order (answer 500); a target refresh replaces the remote target;
   * BYE terminates. An `error` diagnostic means the request must be rejected.
   */
  acceptRemoteRequest(request: SipRequest): Diagnostic[] {
    const diagnostics: Diagnostic[] = [];
    if (!this.matches(request)) {
      const id = dialogIdOf(request, 'uas');
      diagnostics.push(diagnostic('SIP_DIALOG_MISMATCH', `request does not match dialog ${this.callId} (Call-ID/tags differ; answer 481)`, 'RFC 3261 §12.2.2', { bytes: id ? `${id.callId};${id.localTag};${id.remoteTag}` : '' }));
      return diagnostics;
    }
    const cseq = cseqNumberOf(request);
    if (!cseq.ok) return cseq.diagnostics;
    const { seq, method } = cseq.value;
    const cseqBytes = headerValue(request, 'cseq') ?? '';
    if (method !== request.method) {
      diagnostics.push(diagnostic('SIP_DIALOG_CSEQ_METHOD', `CSeq method ${method} differs from request method ${request.method}`, 'RFC 3261 §8.1.1.5', { bytes: cseqBytes }));
      return diagnostics;
    }
    if (request.method === 'ACK') {
      // Not ordered (a late retransmission may follow newer requests) and cannot be refused: advisory only.
      if (this.remoteInviteSeq !== undefined && seq !== this.remoteInviteSeq) {
        diagnostics.push(diagnostic('SIP_DIALOG_ACK_CSEQ', `ACK CSeq ${seq} is not the last INVITE's ${this.remoteInviteSeq}`, 'RFC 3261 §13.2.2.4', { severity: 'warning', bytes: cseqBytes }));
      }
      return diagnostics;
    }
    if (request.method === 'CANCEL') return diagnostics;
    if (this.remoteSeq !== undefined && seq < this.remoteSeq) {
      diagnostics.push(diagnostic('SIP_DIALOG_CSEQ_OUT_OF_ORDER', `CSeq ${seq} is lower than the dialog's remote sequence ${this.remoteSeq} (answer 500)`, 'RFC 3261 §12.2.2', { bytes: cseqBytes }));
      return diagnostics;
    }
    if (this.remoteSeq !== undefined && seq === this.remoteSeq) {
      // §12.2.2 only rejects lower numbers; an equal one breaks the sender's "increment by one" rule.
      diagnostics.push(diagnostic('SIP_DIALOG_CSEQ_NOT_INCREMENTED', `new request reuses CSeq ${seq}`, 'RFC 3261 §12.2.1.1', { severity: 'warning', bytes: cseqBytes }));
    }
    this.remoteSeq = seq;
    if (request.method === 'INVITE') this.remoteInviteSeq = seq;
    if (TARGET_REFRESH.has(request.method)) {
      const contact = firstHeaderValue(request, 'contact');
      if (contact !== undefined) {
        const parsed = parseNameAddr(contact);
        if (parsed.ok) this.remoteTarget = parsed.value.uri;
        else diagnostics.push(...parsed.diagnostics.map((d) => ({ ...d, severity: 'warning' as const })));
      }
    }
    if (request.method === 'BYE') this.state = 'terminated';
    return diagnostics;
  }

  /**
   * A response to a request we sent in this dialog (or to the creating one): a 2xx to INVITE
   * confirms an early dialog and recomputes its route set (§13.2.2.4); a 2xx to a target refresh
   * replaces the remote target (§12.2.1.2); a 481 or 408 to an in-dialog request ends it (§12.2.1.2).
   */
  acceptResponse(response: SipResponse): Diagnostic[] {
    const diagnostics: Diagnostic[] = [];
    if (!this.matches(response)) {
      diagnostics.push(diagnostic('SIP_DIALOG_MISMATCH', `response does not match dialog ${this.callId}`, 'RFC 3261 §12.2.1.2'));
      return diagnostics;
    }
    const method = methodOf(response);
    const success = response.status >= 200 && response.status < 300;
    if (success && method === 'INVITE' && this.state === 'early') {
      this.state = 'confirmed';
      this.routeSet = recordRoutes(response, diagnostics).reverse();
      if (this.remoteTag === '') this.remoteTag = tagParam(headerValue(response, 'to') ?? '') ?? '';
    }
    if (success && TARGET_REFRESH.has(method)) {
      const contact = firstHeaderValue(response, 'contact');
      const parsed = contact === undefined ? undefined : parseNameAddr(contact);
      if (parsed?.ok) this.remoteTarget = parsed.value.uri;
    }
    if (response.status === 481 || response.status === 408) this.state = 'terminated';
    return diagnostics;
  }

  terminate(): void {
    this.state = 'terminated';
  }
}

/** Checks shared by both constructors; returns the creating request's CSeq. */
function creatingExchange(request: SipRequest, response: SipResponse, diagnostics: Diagnostic[]): { seq: number } | undefined {
  if (!DIALOG_CREATING.has(request.method)) {
    diagnostics.push(diagnostic('SIP_DIALOG_NOT_CREATING', `${request.method} does not create a dialog`, 'RFC 3261 §12.1', { bytes: request.method }));
  }
  if (response.status <= 100 || response.status >= 300) {
    diagnostics.push(diagnostic('SIP_DIALOG_STATUS', `a ${response.status} response does not create a dialog (101–299 do)`, 'RFC 3261 §12.1', { bytes: String(response.status) }));
  }
  const cseq = cseqNumberOf(request);
  diagnostics.push(...cseq.diagnostics);
  if (hasErrors(diagnostics) || !cseq.ok) return undefined;
  const responseCSeq = cseqNumberOf(response);
  if (!responseCSeq.ok || responseCSeq.value.seq !== cseq.value.seq || responseCSeq.value.method !== request.method) {
    diagnostics.push(diagnostic('SIP_DIALOG_CSEQ_MISMATCH', 'response CSeq differs from the request\'s', 'RFC 3261 §8.2.6.2', { bytes: headerValue(response, 'cseq') ?? '' }));
    return undefined;
  }
  return { seq: cseq.value.seq };
}

/** §12.2.1.1: a strict route URI becomes the Request-URI without params a Request-URI may not carry (§19.1.1). */
function requestUriForm(uriText: string): string {
  const parsed = parseSipUri(uriText);
  if (!parsed.ok) return uriText;
  return formatSipUri({ ...parsed.value, params: parsed.value.params.filter((p) => p.name.toLowerCase() !== 'method'), headers: '' });
}

/**
 * The reference client's decisions as pure functions of their inputs and a Behaviour. The client
 * (client.ts) only does I/O around these, so every conforming rule and every mutant is a table
 * test here. RFC/requirement references sit beside each rule.
 */
import { buildCpim, IMDN_HEADERS_NS } from '../cpim/cpim.ts';
import { buildImdn, IMDN_CONTENT_TYPE, type ImdnKind } from '../imdn/imdn.ts';
import { resolveDirection } from '../sdp/direction.ts';
import { findMsrpMedia } from '../sdp/msrp-media.ts';
import { answerSetupFor } from '../sdp/setup.ts';
import type { Direction, MediaView, ParsedSdp, SetupValue } from '../sdp/types.ts';
import { parseSipUri } from '../sip/uri.ts';
import { CPM_ACCEPT_CONTACT, CPM_SESSION_ICSI, encodeIcsi, hasIcsi } from '../sip/caller-prefs.ts';
import type { MsrpSdpOptions } from '../sdp/build.ts';
import { CONFORMING, type Behaviour } from './behaviour.ts';

// ---------------------------------------------------------------------------------------------
// INVITE (7.3.12-1a, 1a-i, 1a-ii)

export interface AcceptDecision {
  readonly kind: 'accept';
  readonly media: MediaView;
  readonly direction: Direction;
  readonly directionText: string;
  /** Our a=setup in the answer. */
  readonly setup: 'active' | 'passive' | 'holdconn';
}

export interface RejectDecision {
  readonly kind: 'reject';
  readonly status: number;
  /** Warning header value (RFC 3261 §20.43), absent when the behaviour omits it. */
  readonly warning?: string;
  readonly why: string;
  /** Subscribe to the group all the same (a mutant's side effect). */
  readonly subscribe?: boolean;
  /** Send a BYE for the rejected INVITE all the same (a mutant's side effect). */
  readonly bye?: boolean;
}

/** No response at all (a client whose dispatcher drops INVITEs it does not recognise). */
export interface IgnoreDecision {
  readonly kind: 'ignore';
  readonly why: string;
}

export type InviteDecision = AcceptDecision | RejectDecision | IgnoreDecision;

export interface InviteInput {
  /** Every Accept-Contact value (any spelling, `a:` included). */
  readonly acceptContact: readonly string[];
  readonly sdp: ParsedSdp | null;
  /** warn-agent (RFC 3261 §20.43): our host. */
  readonly agent: string;
  /** Every header name as written (the compact `a` form included), when the caller has them. */
  readonly headerNames?: readonly string[];
}

function warningText(text: string): string {
  return `"${text.replace(/["\\]/g, '')}"`;
}

function reject(status: number, code: number, agent: string, why: string, warning: Behaviour['rejectWarning']): RejectDecision {
  if (warning === 'none') return { kind: 'reject', status, why };
  // `malformed`: only the text, no warn-code and warn-agent (RFC 3261 §20.43 violated).
  return { kind: 'reject', status, warning: warning === 'rfc' ? `${code} ${agent} ${warningText(why)}` : warningText(why), why };
}

/** Effective direction of an m= line under the behaviour's reading. */
export function effectiveDirection(sdp: ParsedSdp, media: MediaView, b: Behaviour): { direction: Direction; decidedBy: 'media' | 'session' | 'default'; text: string } {
  const session = sdp.sessionDirections[0];
  if (b.directionScope === 'session-first' && session) {
    return { direction: session.value, decidedBy: 'session', text: `session-level a=${session.value} (taken over the media level)` };
  }
  if (b.directionScope === 'media-only') {
    const first = media.directions[0];
    return first
      ? { direction: first.value, decidedBy: 'media', text: `media-level a=${first.value} (session level not looked at)` }
      : { direction: 'sendrecv', decidedBy: 'default', text: 'no media-level direction; sendrecv assumed (session level not looked at)' };
  }
  const resolved = resolveDirection(sdp, media.index);
  return { direction: resolved.direction, decidedBy: resolved.decidedBy, text: resolved.text };
}

export function answerSetup(offer: SetupValue | undefined, b: Behaviour): 'active' | 'passive' | 'holdconn' {
  return b.setupAnswer === 'always-active' ? 'active' : answerSetupFor(offer);
}

export function isCpmInvite(acceptContact: readonly string[]): boolean {
  return hasIcsi([...acceptContact], CPM_SESSION_ICSI).present;
}

/** The canonical percent-encoded form (TS 24.229 §7.2A.8), as a byte-matching stack looks for it. */
const CANONICAL_ICSI_BYTES = encodeIcsi(CPM_SESSION_ICSI);

/** Whether the behaviour recognises the INVITE as a CPM group INVITE (PROTOCOLS.md N4). */
export function recognisesCpmInvite(input: Pick<InviteInput, 'acceptContact' | 'headerNames'>, b: Behaviour): boolean {
  if (b.icsiMatch === 'exact-urn-bytes') return input.acceptContact.some((v) => v.includes(CANONICAL_ICSI_BYTES));
  if (b.icsiMatch === 'long-form-only' && (input.headerNames ?? []).some((n) => n.toLowerCase() === 'a')) return false;
  return isCpmInvite(input.acceptContact);
}

/** 2xx with an MSRP answer, the rejection, or (a mutant) silence, for an initial INVITE. */
export function decideInvite(input: InviteInput, b: Behaviour): InviteDecision {
  if (!recognisesCpmInvite(input, b)) {
    if (b.unrecognisedInvite === 'ignore') return { kind: 'ignore', why: 'not recognised as a CPM group INVITE' };
    return reject(488, 399, input.agent, 'no CPM session ICSI in Accept-Contact', 'rfc');
  }
  const media = input.sdp === null ? undefined : findMsrpMedia(input.sdp).find((m) => m.port !== 0);
  if (input.sdp === null || media === undefined) {
    return reject(488, 304, input.agent, 'no usable MSRP media stream in the offer', 'rfc');
  }
  const { direction, decidedBy, text } = effectiveDirection(input.sdp, media, b);
  const rejected = (why: string): RejectDecision => {
    const r = reject(b.rejectStatus, 399, input.agent, why, b.rejectWarning);
    return { ...r, ...(b.subscribeOnReject ? { subscribe: true } : {}), ...(b.byeOnReject ? { bye: true } : {}) };
  };
  if (decidedBy === 'default' && b.noDirection === 'literal') return rejected('Deferred group delivery requires a=sendrecv; the offer has no direction attribute');
  if (!b.acceptDirections.includes(direction)) return rejected(`Deferred group delivery requires a=sendrecv; ${text}`);
  return { kind: 'accept', media, direction, directionText: text, setup: answerSetup(media.setup, b) };
}

/** The RFC 4145 discard port: nothing listens there, so a connection to it is refused. */
export const DISCARD_PORT = 9;

export interface AnswerShape {
  /** Overrides of the conforming answer (sdp/build.ts MsrpSdpOptions). */
  readonly options: Partial<Pick<MsrpSdpOptions, 'port' | 'path' | 'acceptTypes' | 'acceptWrappedTypes' | 'setup' | 'mediaDirection' | 'extraMedia'>>;
  /** Role forced on the MSRP side (dead-port: passive, but nobody listens). */
  readonly role?: 'passive';
  /** Do not listen for the PF's connection. */
  readonly listen: boolean;
}

/** The SDP answer the behaviour writes to an accepted offer: conforming, or one fault (7.3.12-1a-i). */
export function answerShape(b: Behaviour, uri: { host: string; sessionId: string }): AnswerShape {
  switch (b.answer) {
    case 'conforming':
      return { options: {}, listen: true };
    case 'extra-media':
      return { options: { extraMedia: ['m=audio 0 RTP/AVP 0'] }, listen: true };
    case 'port-zero':
      return { options: { port: 0 }, listen: true };
    case 'recvonly':
      return { options: { mediaDirection: 'recvonly' }, listen: true };
    case 'no-path':
      return { options: { path: [] }, listen: true };
    case 'no-cpim':
      return { options: { acceptTypes: ['text/plain'] }, listen: true };
    case 'wildcard-accept-types':
      return { options: { acceptTypes: ['*'] }, listen: true };
    case 'no-imdn-wrapped':
      return { options: { acceptWrappedTypes: ['text/plain'] }, listen: true };
    case 'setup-actpass':
      return { options: { setup: 'actpass' }, listen: true };
    case 'dead-port':
      return { options: { setup: 'passive', port: DISCARD_PORT, path: [`msrp://${uri.host}:${DISCARD_PORT}/${uri.sessionId};tcp`] }, role: 'passive', listen: false };
  }
}

// ---------------------------------------------------------------------------------------------
// Conference subscription (7.3.12-1b-sub, 1b-i-b, 1d-ii)

export function whenToSubscribe(b: Behaviour): 'after-ack' | 'before-ack' | 'never' {
  return b.subscribe;
}

export interface SubscribeOutcome {
  readonly groupState: 'active' | 'inactive' | 'unknown';
  /** Send a new initial SUBSCRIBE (only the N5 mutant does after a 404). */
  readonly resubscribe: boolean;
  /** Hang up the group's session (only a mutant does, after a 404). */
  readonly hangUp?: boolean;
}

/** Final response (or none: null) to an initial SUBSCRIBE. */
export function onSubscribeResponse(status: number | null, b: Behaviour): SubscribeOutcome {
  if (status !== null && status >= 200 && status < 300) return { groupState: 'active', resubscribe: false };
  // 7.3.12-1b-i-b: 404 means the group session is inactive; no new SUBSCRIBE to it.
  if (status === 404) {
    switch (b.on404) {
      case 'inactive':
        return { groupState: 'inactive', resubscribe: false };
      case 'resubscribe':
        return { groupState: 'unknown', resubscribe: true };
      case 'bye':
        return { groupState: 'inactive', resubscribe: false, hangUp: true };
      case 'ignore':
        return { groupState: 'active', resubscribe: false };
    }
  }
  return { groupState: 'unknown', resubscribe: false };
}

/** The SUBSCRIBE's Event package and Request-URI. */
export function subscribeRequest(b: Behaviour, focus: string, ownAor: string): { event: string; uri: string } {
  return { event: b.subscribeEvent, uri: b.subscribeTarget === 'own-aor' ? ownAor : focus };
}

/** How a due refresh is sent: in the subscription's dialog (RFC 6665 §4.1.2.1) or as a new initial SUBSCRIBE. */
export function refreshMethod(b: Behaviour): 'in-dialog' | 'new-subscribe' {
  return b.refreshBy;
}

/** The answer to a conference NOTIFY, and whether the client then leaves the session (N7, N28). */
export function onConferenceNotify(body: Buffer, b: Behaviour): { status: number; leave: boolean } {
  if (body.length === 0) return { status: 200, leave: false };
  const xml = body.toString('utf8');
  const root = /<conference-info\b[^>]*>/.exec(xml)?.[0] ?? '';
  if (b.conferenceInfo === 'rejects-without-state' && !/\sstate\s*=/.test(root)) return { status: 400, leave: false };
  if (b.conferenceInfo === 'leaves-without-description' && !xml.includes('conference-description')) return { status: 200, leave: true };
  return { status: 200, leave: false };
}

/** When to refresh a subscription granted for `grantedSeconds`; null = never. */
export function refreshDelayMs(grantedSeconds: number, b: Behaviour): number | null {
  if (b.refreshAt === null || !(grantedSeconds > 0)) return null;
  return Math.max(1, Math.floor(grantedSeconds * 1000 * b.refreshAt));
}

/** A NOTIFY's Subscription-State (RFC 6665 §4.1.3): keep, group gone, or subscribe anew while participating. */
export function onSubscriptionState(state: string, reason: string | undefined, b: Behaviour = CONFORMING): 'keep' | 'inactive' | 'resubscribe' {
  if (state.toLowerCase() !== 'terminated') return 'keep';
  const r = (reason ?? '').toLowerCase();
  if (r === 'noresource' && b.onNoresource === 'resubscribe') return 'resubscribe';
  if (r === 'noresource' || r === 'rejected' || r === 'giveup' || r === '') return 'inactive';
  return 'resubscribe';
}

// ---------------------------------------------------------------------------------------------
// IMDN (7.3.12-1b-ii, 1c-ii, imdn-*)

export type ImdnTrigger = 'chunk' | 'complete' | 'displayed';

/**
 * Which notifications a trigger produces. `requested` is the lower-cased list from
 * imdn.Disposition-Notification (RFC 5438 §6). Conforming: delivery once on the complete message,
 * display once when the user displayed it, never a kind that was not requested.
 */
export function notificationsFor(requested: ReadonlySet<string>, trigger: ImdnTrigger, b: Behaviour): ImdnKind[] {
  const wantsDelivery = requested.has('positive-delivery') || b.imdnWhen === 'always';
  const displayOnReceipt = b.displayNotification === 'on-receipt' && requested.has('display');
  if (trigger === 'displayed') return requested.has('display') && !displayOnReceipt ? ['display'] : [];
  const deliveryTrigger: ImdnTrigger = b.imdnPer === 'chunk' ? 'chunk' : 'complete';
  const kinds: ImdnKind[] = trigger === deliveryTrigger && wantsDelivery ? ['delivery'] : [];
  if (trigger === 'complete' && displayOnReceipt) kinds.push('display');
  return kinds;
}

export function imdnRoute(b: Behaviour): 'msrp' | 'sip-message' | 'none' {
  return b.imdnRoute;
}

/** What the client knows about the message it notifies about (from its CPIM). */
export interface OriginalMessage {
  /** URI of CPIM From (the original sender). */
  readonly from: string;
  /** URI of CPIM To (the group, as the PF delivered it). */
  readonly to: string;
  readonly imdnMessageId: string;
  /** CPIM DateTime as written. */
  readonly dateTime: string;
}

export interface ImdnContext {
  readonly ownAor: string;
  readonly groupIdentity: string;
  /** Fresh imdn.Message-ID for the notification itself. */
  readonly ownImdnMessageId: string;
  readonly now: Date;
}

export interface ImdnEnvelope {
  readonly from: string;
  readonly to: string;
  readonly imdnMessageId: string;
  readonly dateTime: string;
  readonly contentDisposition?: string;
  readonly xml: { messageId: string; datetime: string; recipientUri: string; originalRecipientUri: string; kind: ImdnKind; status: string };
  /** How the XML is spoiled (mutants only). */
  readonly xmlFault: Behaviour['imdnXml'];
  /** How the CPIM around it is spoiled (mutants only). */
  readonly envelopeFault: Behaviour['imdnEnvelopeFault'];
}

export const ANONYMOUS_URI = 'sip:anonymous@anonymous.invalid';

/** RFC 5438 §7 / PROTOCOLS §2.9: the fields of one notification. */
export function imdnEnvelope(original: OriginalMessage, kind: ImdnKind, ctx: ImdnContext, b: Behaviour): ImdnEnvelope {
  const nowText = ctx.now.toISOString();
  const fault = b.imdnEnvelopeFault;
  const base = {
    from: fault === 'anonymous-from' ? ANONYMOUS_URI : ctx.ownAor,
    to: b.imdnTo === 'group' ? ctx.groupIdentity : original.from,
    imdnMessageId: fault === 'reuses-message-id' ? original.imdnMessageId : ctx.ownImdnMessageId,
    // RFC 3339 wants the "T" and a zone; a space and no zone is what a sloppy formatter writes.
    dateTime: fault === 'bad-datetime' ? nowText.replace('T', ' ').replace(/\.\d+Z$/, '') : nowText,
    xml: {
      messageId: b.imdnXmlMessageId === 'original' ? original.imdnMessageId : ctx.ownImdnMessageId,
      datetime: b.imdnDateTime === 'original' ? original.dateTime : nowText,
      recipientUri: b.imdnRecipient === 'sender' ? original.from : ctx.ownAor,
      originalRecipientUri: b.imdnOriginalRecipient === 'client' ? ctx.ownAor : original.to,
      kind,
      status: kind === 'delivery' ? b.imdnStatus : kind === 'display' ? 'displayed' : 'processed',
    },
    xmlFault: b.imdnXml,
    envelopeFault: fault,
  };
  return b.imdnContentDisposition ? { ...base, contentDisposition: 'notification' } : base;
}

function imdnXml(envelope: ImdnEnvelope): string {
  const xml = buildImdn(envelope.xml);
  if (envelope.xmlFault === 'unparsable') return xml.replace('</imdn>', '');
  if (envelope.xmlFault === 'misordered') {
    // <datetime> after <recipient-uri>: the RFC 5438 schema wants message-id, datetime, then the URIs.
    const lines = xml.split('\r\n');
    const at = lines.findIndex((l) => l.includes('<datetime>'));
    const [datetime] = lines.splice(at, 1);
    lines.splice(at + 1, 0, datetime!);
    return lines.join('\r\n');
  }
  return xml;
}

/** The MSRP payload of a notification: CPIM-wrapped (PROTOCOLS §2.9 layout) unless a mutant spoils it. */
export function imdnPayload(envelope: ImdnEnvelope): { body: Buffer; contentType: string } {
  const fault = envelope.envelopeFault;
  const xml = imdnXml(envelope);
  if (fault === 'not-cpim-wrapped') return { body: Buffer.from(xml, 'utf8'), contentType: IMDN_CONTENT_TYPE };
  const headers = [{ name: 'imdn.Message-ID', value: envelope.imdnMessageId }];
  if (fault === 'requests-imdn') headers.push({ name: 'imdn.Disposition-Notification', value: 'positive-delivery' });
  if (fault === 'disposition-in-cpim' && envelope.contentDisposition !== undefined) headers.push({ name: 'Content-Disposition', value: envelope.contentDisposition });
  const options = {
    from: envelope.from,
    to: envelope.to,
    ns: [{ prefix: 'imdn', uri: fault === 'wrong-namespace' ? 'urn:ietf:params:imdn:v1' : IMDN_HEADERS_NS }],
    headers,
    dateTime: envelope.dateTime,
    dateTimeLast: true,
    contentType: fault === 'wrong-content-type' ? 'application/xml' : IMDN_CONTENT_TYPE,
    content: xml,
  };
  const mimeDisposition = fault === 'disposition-in-cpim' ? undefined : envelope.contentDisposition;
  let body = buildCpim(mimeDisposition === undefined ? options : { ...options, contentDisposition: mimeDisposition });
  // A header line without the ": " separator (RFC 3862 §3.6: Name ":" SP Value).
  if (fault === 'bad-header-line') body = Buffer.from(body.toString('utf8').replace('\r\nNS: ', '\r\nSubject delivery report\r\nNS: '), 'utf8');
  return { body, contentType: 'message/cpim' };
}

/** The CPIM body of a notification (PROTOCOLS §2.9 layout). */
export function buildImdnBody(envelope: ImdnEnvelope): Buffer {
  return imdnPayload(envelope).body;
}

// ---------------------------------------------------------------------------------------------
// MSRP (msrp-response, msrp-report)

/**
 * RFC 4975 §7.2: a 200 to a SEND chunk unless Failure-Report is `no` (or `partial`: errors only).
 * `hasContent` is false for the empty bind SEND.
 */
export function respondToSend(failureReport: 'yes' | 'no' | 'partial', b: Behaviour, hasContent = true): boolean {
  if (b.msrpRespond === 'never-to-content' && hasContent) return false;
  if (b.msrpRespond === 'always') return true;
  return failureReport === 'yes';
}

/** RFC 4975 §7.1.2: a success REPORT when the message asked Success-Report: yes. */
export function sendSuccessReport(successReport: 'yes' | 'no', b: Behaviour): boolean {
  return b.msrpReports === 'rfc' && successReport === 'yes';
}

/** RFC 4975 §7.2: a response's To-Path is the request's From-Path and its From-Path our URI; a mutant copies the request's. */
export function responsePaths(b: Behaviour): 'swapped' | 'copied' {
  return b.msrpResponsePaths;
}

/** RFC 4975 §7.1.2: REPORT requests are never answered. */
export function respondToReport(b: Behaviour): boolean {
  return b.msrpRespondToReport;
}

// ---------------------------------------------------------------------------------------------
// Session end (7.3.12-1c-i) and re-join (7.3.12-1d-i, 2a, NOTE)

/** Status for the PF's BYE (RFC 3261 §15.1.2: 2xx); null = no answer. */
export function byeResponse(b: Behaviour): number | null {
  return b.pfByeResponse;
}

/** After the received messages are handled and nothing is left to send; `frames` is the message's chunk count. */
export function afterDelivery(b: Behaviour, frames = 1): 'wait-for-pf' | 'bye' | 'close-msrp' {
  if (b.byeAfterDelivery) return 'bye';
  return b.closeMsrpAfterChunked && frames > 1 ? 'close-msrp' : 'wait-for-pf';
}

/** How long the client waits for the first deferred message before it gives up; null = as long as the PF takes. */
export function patienceMs(b: Behaviour): number | null {
  return b.byeIfNothingReceivedMs;
}

/** Whether one more chat message goes out on the session once the PF's BYE arrived. */
export function sendsAfterBye(b: Behaviour): boolean {
  return b.sendAfterBye;
}

/** On (re-)registration: re-join after the glare grace period, or wait for the PF. */
export function onRegistered(input: { queued: number; sessionUp: boolean }, b: Behaviour): 'rejoin-after-grace' | 'wait' {
  if (input.sessionUp) return 'wait';
  if (input.queued > 0 || b.rejoinOnline === 'always') return 'rejoin-after-grace';
  return 'wait';
}

/** Where a composed message goes now. */
export function routeOutgoing(input: { sessionUp: boolean; registered: boolean }, b: Behaviour): 'session' | 'rejoin' | 'queue' {
  if (input.sessionUp) return b.sendWhileSessionUp === 'session' ? 'session' : 'rejoin';
  return input.registered && b.sendWithoutSession === 'rejoin' ? 'rejoin' : 'queue';
}

/** The Accept-Contact of a re-join INVITE (7.3.1.5 as digested: the CPM feature tag), or none. */
export function rejoinAcceptContact(b: Behaviour): string | null {
  return b.rejoinFeatureTag ? CPM_ACCEPT_CONTACT : null;
}

/** Whether the queued messages go on a session the client re-joined. */
export function sendQueuedOnRejoin(b: Behaviour): boolean {
  return b.rejoinSendsQueued;
}

// ---------------------------------------------------------------------------------------------
// Identities

/** Same group identity: scheme, user and host (case-insensitive) — URI params such as transport ignored. */
export function sameIdentity(a: string, b: string): boolean {
  const x = parseSipUri(a);
  const y = parseSipUri(b);
  if (!x.ok || !y.ok) return a === b;
  return x.value.scheme === y.value.scheme && (x.value.user ?? '') === (y.value.user ?? '') && x.value.host.toLowerCase() === y.value.host.toLowerCase();
}

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
import { CPM_SESSION_ICSI, hasIcsi } from '../sip/caller-prefs.ts';
import type { Behaviour } from './behaviour.ts';

/** The CPM session ICSI (OMA CPM; encoded in Accept-Contact per TS 24.229 §7.2A.8). */

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
}

export type InviteDecision = AcceptDecision | RejectDecision;

export interface InviteInput {
  /** Every Accept-Contact value (any spelling, `a:` included). */
  readonly acceptContact: readonly string[];
  readonly sdp: ParsedSdp | null;
  /** warn-agent (RFC 3261 §20.43): our host. */
  readonly agent: string;
}

function warningText(text: string): string {
  return `"${text.replace(/["\\]/g, '')}"`;
}

function reject(status: number, code: number, agent: string, why: string, withWarning: boolean): RejectDecision {
  return withWarning ? { kind: 'reject', status, warning: `${code} ${agent} ${warningText(why)}`, why } : { kind: 'reject', status, why };
}

/** Effective direction of an m= line under the behaviour's reading. */
export function effectiveDirection(sdp: ParsedSdp, media: MediaView, b: Behaviour): { direction: Direction; decidedBy: 'media' | 'session' | 'default'; text: string } {
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

/** 2xx with an MSRP answer, or the rejection, for an initial INVITE. */
export function decideInvite(input: InviteInput, b: Behaviour): InviteDecision {
  if (!isCpmInvite(input.acceptContact)) {
    return reject(488, 399, input.agent, 'no CPM session ICSI in Accept-Contact', true);
  }
  const media = input.sdp === null ? undefined : findMsrpMedia(input.sdp).find((m) => m.port !== 0);
  if (input.sdp === null || media === undefined) {
    return reject(488, 304, input.agent, 'no usable MSRP media stream in the offer', true);
  }
  const { direction, decidedBy, text } = effectiveDirection(input.sdp, media, b);
  if (decidedBy === 'default' && b.noDirection === 'literal') {
    return reject(b.rejectStatus, 399, input.agent, `Deferred group delivery requires a=sendrecv; the offer has no direction attribute`, b.rejectWarning);
  }
  if (!b.acceptDirections.includes(direction)) {
    return reject(b.rejectStatus, 399, input.agent, `Deferred group delivery requires a=sendrecv; ${text}`, b.rejectWarning);
  }
  return { kind: 'accept', media, direction, directionText: text, setup: answerSetup(media.setup, b) };
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
}

/** Final response (or none: null) to an initial SUBSCRIBE. */
export function onSubscribeResponse(status: number | null, b: Behaviour): SubscribeOutcome {
  if (status !== null && status >= 200 && status < 300) return { groupState: 'active', resubscribe: false };
  // 7.3.12-1b-i-b: 404 means the group session is inactive; no new SUBSCRIBE to it.
  if (status === 404) return b.on404 === 'inactive' ? { groupState: 'inactive', resubscribe: false } : { groupState: 'unknown', resubscribe: true };
  return { groupState: 'unknown', resubscribe: false };
}

/** When to refresh a subscription granted for `grantedSeconds`; null = never. */
export function refreshDelayMs(grantedSeconds: number, b: Behaviour): number | null {
  if (b.refreshAt === null || !(grantedSeconds > 0)) return null;
  return Math.max(1, Math.floor(grantedSeconds * 1000 * b.refreshAt));
}

/** A NOTIFY's Subscription-State (RFC 6665 §4.1.3): keep, group gone, or subscribe anew while participating. */
export function onSubscriptionState(state: string, reason: string | undefined): 'keep' | 'inactive' | 'resubscribe' {
  if (state.toLowerCase() !== 'terminated') return 'keep';
  const r = (reason ?? '').toLowerCase();
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
  if (trigger === 'displayed') return requested.has('display') ? ['display'] : [];
  const deliveryTrigger: ImdnTrigger = b.imdnPer === 'chunk' ? 'chunk' : 'complete';
  return trigger === deliveryTrigger && wantsDelivery ? ['delivery'] : [];
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
}

/** RFC 5438 §7 / PROTOCOLS §2.9: the fields of one notification. */
export function imdnEnvelope(original: OriginalMessage, kind: ImdnKind, ctx: ImdnContext, b: Behaviour): ImdnEnvelope {
  const nowText = ctx.now.toISOString();
  const base = {
    from: ctx.ownAor,
    to: b.imdnTo === 'group' ? ctx.groupIdentity : original.from,
    imdnMessageId: ctx.ownImdnMessageId,
    dateTime: nowText,
    xml: {
      messageId: b.imdnXmlMessageId === 'original' ? original.imdnMessageId : ctx.ownImdnMessageId,
      datetime: b.imdnDateTime === 'original' ? original.dateTime : nowText,
      recipientUri: ctx.ownAor,
      originalRecipientUri: original.to,
      kind,
      status: kind === 'delivery' ? 'delivered' : kind === 'display' ? 'displayed' : 'processed',
    },
  };
  return b.imdnContentDisposition ? { ...base, contentDisposition: 'notification' } : base;
}

/** The CPIM body of a notification (PROTOCOLS §2.9 layout). */
export function buildImdnBody(envelope: ImdnEnvelope): Buffer {
  const options = {
    from: envelope.from,
    to: envelope.to,
    ns: [{ prefix: 'imdn', uri: IMDN_HEADERS_NS }],
    headers: [{ name: 'imdn.Message-ID', value: envelope.imdnMessageId }],
    dateTime: envelope.dateTime,
    dateTimeLast: true,
    contentType: IMDN_CONTENT_TYPE,
    content: buildImdn(envelope.xml),
  };
  return buildCpim(envelope.contentDisposition === undefined ? options : { ...options, contentDisposition: envelope.contentDisposition });
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

/** After the received messages are handled and nothing is left to send. */
export function afterDelivery(b: Behaviour): 'wait-for-pf' | 'bye' {
  return b.byeAfterDelivery ? 'bye' : 'wait-for-pf';
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
  return input.registered ? 'rejoin' : 'queue';
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

/**
 * The PF as conference-event notifier (RFC 6665, RFC 4575; PROTOCOLS §2.11–§2.12, H7/H8): pure
 * decisions on a SUBSCRIBE and the NOTIFY documents. The I/O lives in participating-function.ts.
 */
import { buildConferenceInfo, CONFERENCE_INFO_CONTENT_TYPE, type ConferenceInfo, type ConferenceUser } from '../conference/conference-info.ts';
import { formatSipUri, parseSipUri, sipUrisEqual } from '../sip/uri.ts';
import { parseEvent, parseExpires } from '../sip/headers.ts';
import { headerValue, type SipRequest } from '../sip/message.ts';
import type { ConferenceDocumentVariant, ConferencePolicy, GroupSpec, Participant } from './types.ts';

export const CONFERENCE_EVENT = 'conference';
/** RFC 4575 does not fix a default duration; 3600 s is what clients ask for in practice [U]. */
export const DEFAULT_SUBSCRIPTION_SECONDS = 3600;
export const MAX_SUBSCRIPTION_SECONDS = 3600;

/** RFC 3261 §19.1.4 comparison with the transport parameter ignored (PROTOCOLS §1.2 1b-sub harness rule). */
export function isGroupUri(candidate: string, groupIdentity: string): boolean {
  const strip = (text: string): string | undefined => {
    const parsed = parseSipUri(text);
    if (!parsed.ok) return undefined;
    return formatSipUri({ ...parsed.value, params: parsed.value.params.filter((p) => p.name.toLowerCase() !== 'transport') });
  };
  const a = strip(candidate);
  const b = strip(groupIdentity);
  return a !== undefined && b !== undefined && sipUrisEqual(a, b);
}

export interface SubscribeDecision {
  status: number;
  /** Seconds granted (200 only); 0 = an unsubscribe, answered 200 and a terminated NOTIFY. */
  expires: number;
  /** Whether the Request-URI names the group. */
  matchedGroup: boolean;
  /** One sentence for the log. */
  why: string;
}

/**
 * An initial SUBSCRIBE (no To tag): 489 for any package but conference (RFC 6665 §4.2.1), 404 for
 * another resource or an inactive group (7.3.12-1b-i-b), else 200 with the granted duration.
 */
export function decideSubscribe(request: SipRequest, group: GroupSpec, policy: ConferencePolicy): SubscribeDecision {
  const matchedGroup = isGroupUri(request.uri, group.identity);
  const eventValue = headerValue(request, 'event');
  const event = eventValue === undefined ? undefined : parseEvent(eventValue);
  if (!event?.ok || event.value.package.toLowerCase() !== CONFERENCE_EVENT) {
    return { status: 489, expires: 0, matchedGroup, why: `Event ${eventValue ?? '(absent)'} is not the conference package` };
  }
  if (!matchedGroup) return { status: 404, expires: 0, matchedGroup, why: `${request.uri} is not the group identity ${group.identity}` };
  if (policy.mode === 'inactive-404') return { status: 404, expires: 0, matchedGroup, why: 'group session inactive (policy inactive-404)' };
  return { status: 200, expires: grantedExpires(request, policy), matchedGroup, why: `accepted (policy ${policy.mode})` };
}

/** What the client asked (default 3600), capped at 3600, unless the policy grants a fixed value. */
export function grantedExpires(request: SipRequest, policy: ConferencePolicy): number {
  const asked = requestedExpires(request);
  if (asked === 0) return 0;
  if (policy.grantExpires !== undefined) return policy.grantExpires;
  return Math.min(asked, MAX_SUBSCRIPTION_SECONDS);
}

export function requestedExpires(request: SipRequest): number {
  const value = headerValue(request, 'expires');
  if (value === undefined) return DEFAULT_SUBSCRIPTION_SECONDS;
  const parsed = parseExpires(value);
  return parsed.ok ? parsed.value : DEFAULT_SUBSCRIPTION_SECONDS;
}

function userOf(p: Participant & { deleted?: boolean }): ConferenceUser {
  if (p.deleted) return { entity: p.uri, state: 'deleted' };
  const user: ConferenceUser = { entity: p.uri, state: 'full' };
  if (p.displayName !== undefined) user.displayText = p.displayName;
  user.endpoints = [
    p.status === 'connected'
      ? { entity: p.uri, status: 'connected' }
      : { entity: p.uri, status: 'disconnected', disconnectionMethod: 'departed' },
  ];
  return user;
}

export interface ConferenceDocumentOptions {
  version: number;
  documentState?: 'full' | 'partial';
  participants?: readonly (Participant & { deleted?: boolean })[];
  variant?: ConferenceDocumentVariant;
}

/** The conference-info body of a NOTIFY (PROTOCOLS §2.11 layout). */
export function conferenceDocument(group: GroupSpec, options: ConferenceDocumentOptions): { contentType: string; body: Buffer } {
  const doc: ConferenceInfo = {
    entity: group.identity,
    state: options.documentState ?? 'full',
    version: options.version,
    description: { subject: group.subject },
    users: (options.participants ?? group.participants).map(userOf),
  };
  const variant = options.variant ?? 'standard';
  const xml = buildConferenceInfo(doc, {
    omitState: variant === 'no-state-attribute',
    omitUserEntity: variant === 'user-without-entity',
    omitConferenceDescription: variant === 'no-conference-description',
  });
  return { contentType: CONFERENCE_INFO_CONTENT_TYPE, body: Buffer.from(xml, 'utf8') };
}

/** `Subscription-State` value (RFC 6665 §8.2.3). */
export function subscriptionStateValue(state: 'active' | 'pending' | 'terminated', options: { expires?: number; reason?: string }): string {
  if (state === 'terminated') return options.reason === undefined ? 'terminated' : `terminated;reason=${options.reason}`;
  return options.expires === undefined ? state : `${state};expires=${Math.max(0, Math.round(options.expires))}`;
}

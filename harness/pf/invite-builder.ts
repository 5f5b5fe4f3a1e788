/**
 * The PF's network-initiated group-session INVITE (PROTOCOLS §1.3 H1–H4, §2.1): pure, so the
 * exact bytes can be compared with the golden sample. Every variant a test needs (direction
 * placement, setup, header sets, Accept-Contact encodings, mode-B participant list) is a field.
 */
import { buildRequest } from '../sip/build.ts';
import { CPM_ACCEPT_CONTACT, CPM_FEATURE_TAG } from '../sip/caller-prefs.ts';
import type { SipHeaderField, SipRequest } from '../sip/message.ts';
import { buildMsrpOffer } from '../sdp/build.ts';
import { escapeXml } from '../xml/safe-xml.ts';
import type { GroupSpec, InviteSpec, Participant } from './types.ts';

/** RFC 3261 §20.5: the methods the PF supports — SUBSCRIBE too, since it is the conference notifier. */
export const PF_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, MESSAGE, UPDATE, SUBSCRIBE';
/**
 * RFC 6665 §4.4.4: a UA that can act as a notifier "SHOULD include an appropriate Allow-Events header
 * field indicating all supported events in all methods which initiate dialogs and their responses
 * (such as INVITE) and OPTIONS responses"; if present it MUST list every package it notifies.
 * The PF notifies only the conference package (RFC 4575).
 */
export const PF_ALLOW_EVENTS = 'conference';

export interface GroupInviteParams {
  spec: InviteSpec;
  group: GroupSpec;
  /** The client's registered contact (RFC 3261 §8.2.2.1). */
  requestUri: string;
  /** The client's address of record (To). */
  clientAor: string;
  /** The original sender: default Referred-By in the full header set. */
  originalSender: string;
  transport: 'udp' | 'tcp';
  /** Complete Via value including branch, e.g. `SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK…`. */
  via: string;
  fromTag: string;
  callId: string;
  cseq?: number;
  /** What the offer advertises: c=/o= address, m= port and the a=path URI (kept consistent, §2.1 field notes). */
  msrp: { address: string; port: number; path: string };
  /** o= session id and version. */
  sdpSessionId: number | string;
  /** multipart boundary for mode B; default a fixed token. */
  boundary?: string;
  /** Pre-existing route set (outbound proxy, RFC 3261 §8.1.2): Route values, in order, before Accept-Contact. */
  route?: readonly string[];
  /** The PF's own loose route (it stands in for the record-routing IMS core), after the Route values. */
  recordRoute?: string;
}

export interface BuiltInvite {
  request: SipRequest;
  /** The SDP offer text (also inside the multipart body in mode B). */
  sdp: string;
}

function angle(uri: string): string {
  return uri.startsWith('<') ? uri : `<${uri}>`;
}

function withTransport(uri: string, transport: 'udp' | 'tcp'): string {
  return /;transport=/i.test(uri) ? uri : `${uri};transport=${transport}`;
}

export function buildOfferSdp(params: Pick<GroupInviteParams, 'spec' | 'msrp' | 'sdpSessionId'>): string {
  const { spec, msrp } = params;
  const direction = spec.direction ?? { media: 'sendrecv' };
  return buildMsrpOffer({
    address: msrp.address,
    port: spec.msrpPortZero ? 0 : msrp.port,
    path: [msrp.path],
    setup: spec.setup === undefined ? 'actpass' : spec.setup,
    sessionDirection: direction.session ?? null,
    mediaDirection: direction.media ?? null,
    sessionId: params.sdpSessionId,
    ...(spec.extraMedia ? { extraMedia: spec.extraMedia } : {}),
    ...(spec.extraSdpAttributes ? { extraAttributes: spec.extraSdpAttributes } : {}),
  });
}

/** RFC 4826 resource list of the last participants (mode B of 7.3.12-1b-i-c). */
export function buildResourceList(participants: readonly Participant[]): string {
  const entries = participants.map((p) => {
    const name = p.displayName === undefined ? '' : `\r\n      <display-name>${escapeXml(p.displayName)}</display-name>\r\n    `;
    return `    <entry uri="${escapeXml(p.uri)}">${name}</entry>\r\n`;
  });
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\r\n' +
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">\r\n' +
    '  <list>\r\n' +
    entries.join('') +
    '  </list>\r\n' +
    '</resource-lists>\r\n'
  );
}

/** RFC 2046 §5.1 multipart/mixed: SDP first, then the recipient list (RFC 5366 disposition). */
export function buildMultipartBody(sdp: string, resourceList: string, boundary: string): Buffer {
  const text =
    `--${boundary}\r\n` +
    'Content-Type: application/sdp\r\n' +
    `Content-Length: ${Buffer.byteLength(sdp)}\r\n\r\n` +
    sdp +
    `\r\n--${boundary}\r\n` +
    'Content-Type: application/resource-lists+xml\r\n' +
    'Content-Disposition: recipient-list\r\n' +
    `Content-Length: ${Buffer.byteLength(resourceList)}\r\n\r\n` +
    resourceList +
    `\r\n--${boundary}--\r\n`;
  return Buffer.from(text, 'utf8');
}

export function buildGroupInvite(params: GroupInviteParams): BuiltInvite {
  const { spec, group, transport } = params;
  const full = (spec.headerSet ?? 'full') === 'full';
  const sdp = buildOfferSdp(params);
  const contactUri = withTransport(spec.contactUri ?? group.identity, transport);
  const headers: SipHeaderField[] = (params.route ?? []).map((value) => ({ name: 'Route', value }));
  if (params.recordRoute !== undefined) headers.push({ name: 'Record-Route', value: params.recordRoute });
  headers.push({ name: spec.acceptContact?.headerName ?? 'Accept-Contact', value: spec.acceptContact?.value ?? CPM_ACCEPT_CONTACT });
  if (full) {
    headers.push({ name: 'P-Asserted-Identity', value: angle(group.identity) });
    headers.push({ name: 'Conversation-ID', value: group.conversationId });
    headers.push({ name: 'Contribution-ID', value: group.contributionId });
    headers.push({ name: 'Subject', value: group.subject });
  }
  const referredBy = spec.referredBy === undefined ? (full ? params.originalSender : null) : spec.referredBy;
  if (referredBy !== null) headers.push({ name: 'Referred-By', value: angle(referredBy) });
  if (full) headers.push({ name: 'Allow', value: PF_ALLOW });
  if (full) headers.push({ name: 'Allow-Events', value: PF_ALLOW_EVENTS });

  let body: Buffer | string = sdp;
  let contentType = 'application/sdp';
  if (spec.participantsInBody) {
    const boundary = params.boundary ?? 'pf-boundary-7c1e9a';
    body = buildMultipartBody(sdp, buildResourceList(group.participants), boundary);
    contentType = `multipart/mixed;boundary=${boundary}`;
  }

  const request = buildRequest({
    method: 'INVITE',
    uri: params.requestUri,
    via: params.via,
    from: `${angle(spec.fromUri ?? group.identity)};tag=${params.fromTag}`,
    to: angle(params.clientAor),
    callId: params.callId,
    cseq: params.cseq ?? 1,
    contact: `${angle(contactUri)};isfocus;${CPM_FEATURE_TAG}`,
    headers,
    body,
    contentType,
  });
  return { request, sdp };
}

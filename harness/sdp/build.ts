/**
 * Builders for the SDP the harness sends (PROTOCOLS §2.1) and the answers a reference client
 * sends (§2.3). Exact text, CRLF line ends, fixed line order, no normalisation: deliberately odd
 * descriptions (two direction attributes, no a=setup, port 0, extra m=audio …) are expressible.
 */
import { msrpAttributeLine, type MsrpAttributeField } from './msrp-attributes.ts';
import type { Direction, SetupValue } from './types.ts';

export interface MsrpSdpOptions {
  /** Used in o= and the session-level c=. */
  address: string;
  /** m= port; 0 disables the stream, 9 is the RFC 4145 discard port an active endpoint may use. */
  port: number;
  /** `a=path` URIs (joined by SP); an empty list omits the line. */
  path: string[];
  /** Defaults: message/cpim application/im-iscomposing+xml; an empty list omits the line. */
  acceptTypes?: string[];
  /** Defaults: text/plain message/imdn+xml; an empty list omits the line. */
  acceptWrappedTypes?: string[];
  /** Default: 'actpass' in an offer, 'active' in an answer; null omits a=setup. */
  setup?: SetupValue | null;
  /** Session-level direction (before m=); default omitted. */
  sessionDirection?: Direction | null;
  /** Media-level direction; default 'sendrecv', null omits it. */
  mediaDirection?: Direction | null;
  maxSize?: number;
  sessionId?: string | number;
  /** Default: the session id. */
  sessionVersion?: string | number;
  username?: string;
  sessionName?: string;
  /** Raw m= blocks (lines separated by CRLF), e.g. 'm=audio 49170 RTP/AVP 0'. */
  extraMedia?: string[];
  /** Where extra m= blocks go relative to m=message; default 'after'. */
  extraMediaPosition?: 'before' | 'after';
  /** Whole lines (without CRLF) appended to the session block or the m=message block. */
  extraAttributes?: { level: 'session' | 'media'; line: string }[];
  protocol?: 'TCP/MSRP' | 'TCP/TLS/MSRP';
}

const CRLF = '\r\n';
export const DEFAULT_ACCEPT_TYPES = ['message/cpim', 'application/im-iscomposing+xml'];
export const DEFAULT_ACCEPT_WRAPPED_TYPES = ['text/plain', 'message/imdn+xml'];

type Role = 'offer' | 'answer';

function build(options: MsrpSdpOptions, role: Role): string {
  const ipVersion = options.address.includes(':') ? 'IP6' : 'IP4';
  const sessionId = String(options.sessionId ?? 0);
  const sessionVersion = String(options.sessionVersion ?? sessionId);
  const setup = options.setup === undefined ? (role === 'offer' ? 'actpass' : 'active') : options.setup;
  const mediaDirection = options.mediaDirection === undefined ? 'sendrecv' : options.mediaDirection;
  const extra = (level: 'session' | 'media'): string[] => (options.extraAttributes ?? []).filter((a) => a.level === level).map((a) => a.line);

  const session = [
    'v=0',
    `o=${options.username ?? '-'} ${sessionId} ${sessionVersion} IN ${ipVersion} ${options.address}`,
    `s=${options.sessionName ?? '-'}`,
    `c=IN ${ipVersion} ${options.address}`,
    't=0 0',
  ];
  if (options.sessionDirection) session.push(`a=${options.sessionDirection}`);
  session.push(...extra('session'));

  const setupLine = setup === null ? [] : [`a=setup:${setup}`];
  const listLine = (field: Exclude<MsrpAttributeField, 'maxSize'>, values: string[]): string[] => (values.length > 0 ? [msrpAttributeLine(field, values)] : []);
  const media = [
    `m=message ${options.port} ${options.protocol ?? 'TCP/MSRP'} *`,
    ...listLine('acceptTypes', options.acceptTypes ?? DEFAULT_ACCEPT_TYPES),
    ...listLine('acceptWrappedTypes', options.acceptWrappedTypes ?? DEFAULT_ACCEPT_WRAPPED_TYPES),
    // §2.1 (PF offer) writes path before setup; §2.3 (client answer, as rcsjta does) setup before path.
    ...(role === 'offer' ? [...listLine('path', options.path), ...setupLine] : [...setupLine, ...listLine('path', options.path)]),
  ];
  if (options.maxSize !== undefined) media.push(msrpAttributeLine('maxSize', options.maxSize));
  if (mediaDirection) media.push(`a=${mediaDirection}`);
  media.push(...extra('media'));

  const extraMedia = (options.extraMedia ?? []).map((block) => (block.endsWith(CRLF) ? block : block + CRLF));
  const messageBlock = media.map((l) => l + CRLF).join('');
  const before = options.extraMediaPosition === 'before' ? extraMedia.join('') : '';
  const after = options.extraMediaPosition === 'before' ? '' : extraMedia.join('');
  return session.map((l) => l + CRLF).join('') + before + messageBlock + after;
}

/** The PF's offer (PROTOCOLS §2.1 line order). */
export function buildMsrpOffer(options: MsrpSdpOptions): string {
  return build(options, 'offer');
}

/** An answer as a client sends it (PROTOCOLS §2.3 line order: a=setup before a=path). */
export function buildMsrpAnswer(options: MsrpSdpOptions): string {
  return build(options, 'answer');
}

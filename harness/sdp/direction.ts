/**
 * RFC 8866 §6.7: a direction attribute in a media description applies to it; otherwise the
 * session-level one applies; with neither, sendrecv is assumed. The result says which level
 * decided and why, in one sentence a verdict can quote.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import type { Direction, DirectionAttribute, ParsedSdp } from './types.ts';

export interface ResolvedDirection {
  direction: Direction;
  decidedBy: 'media' | 'session' | 'default';
  text: string;
  diagnostics: Diagnostic[];
}

const CLAUSE = 'RFC 8866 §6.7';

function duplicates(attrs: DirectionAttribute[], where: string): Diagnostic[] {
  if (attrs.length < 2) return [];
  const list = attrs.map((a) => `a=${a.value}`).join(', ');
  return [
    diagnostic('SDP_MULTIPLE_DIRECTIONS', `${attrs.length} direction attributes at ${where} (${list}); the first, a=${attrs[0]!.value}, is used`, CLAUSE, {
      offset: attrs[1]!.offset,
      bytes: attrs[1]!.bytes,
    }),
  ];
}

export function resolveDirection(sdp: ParsedSdp, mediaIndex: number): ResolvedDirection {
  const media = sdp.media[mediaIndex];
  const session = sdp.sessionDirections;
  if (!media) {
    return {
      direction: 'sendrecv',
      decidedBy: 'default',
      text: `there is no m= line ${mediaIndex}; nothing to resolve`,
      diagnostics: [diagnostic('SDP_NO_SUCH_MEDIA', `no m= line with index ${mediaIndex} (there are ${sdp.media.length})`, CLAUSE)],
    };
  }
  const [mediaFirst] = media.directions;
  const [sessionFirst] = session;
  if (mediaFirst) {
    let text: string;
    if (!sessionFirst) text = `media-level a=${mediaFirst.value} applies; there is no session-level direction (${CLAUSE})`;
    else if (sessionFirst.value === mediaFirst.value) text = `media-level a=${mediaFirst.value} applies, the same as session-level a=${sessionFirst.value} (${CLAUSE})`;
    else text = `media-level a=${mediaFirst.value} overrides session-level a=${sessionFirst.value} (${CLAUSE})`;
    return { direction: mediaFirst.value, decidedBy: 'media', text, diagnostics: duplicates(media.directions, `m= line ${mediaIndex}`) };
  }
  if (sessionFirst) {
    return {
      direction: sessionFirst.value,
      decidedBy: 'session',
      text: `no media-level direction on m= line ${mediaIndex}; session-level a=${sessionFirst.value} applies (${CLAUSE})`,
      diagnostics: duplicates(session, 'session level'),
    };
  }
  return {
    direction: 'sendrecv',
    decidedBy: 'default',
    text: `no direction attribute at media or session level; sendrecv is assumed by default (${CLAUSE})`,
    diagnostics: [],
  };
}

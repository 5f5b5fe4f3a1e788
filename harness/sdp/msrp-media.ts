/**
 * MSRP specifics of SDP (RFC 4975 §8): which m= lines are MSRP, and whether the `a=path` URIs are
 * MSRP URIs — checked with the MSRP layer's own URI parser, so SDP and MSRP cannot disagree.
 */
import type { Diagnostic } from '../core/diagnostic.ts';
import { parseMsrpUri } from '../msrp/uri.ts';
import type { MediaView, ParsedSdp } from './types.ts';

export const MSRP_PROTOCOLS = ['TCP/MSRP', 'TCP/TLS/MSRP'] as const;

export function isMsrpMedia(media: MediaView): boolean {
  return media.type === 'message' && MSRP_PROTOCOLS.some((p) => p.toLowerCase() === media.protocol.toLowerCase());
}

/** The m=message lines carrying TCP/MSRP or TCP/TLS/MSRP, in wire order. */
export function findMsrpMedia(sdp: ParsedSdp): MediaView[] {
  return sdp.media.filter(isMsrpMedia);
}

/** One diagnostic per `a=path` URI that is not an MSRP URI (the MSRP layer's parser decides). */
export function msrpPathDiagnostics(media: MediaView): Diagnostic[] {
  return media.path.flatMap((text) => {
    const r = parseMsrpUri(text);
    return r.ok ? [] : r.diagnostics;
  });
}

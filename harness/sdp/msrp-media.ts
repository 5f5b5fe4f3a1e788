/**
 * MSRP specifics of SDP (RFC 4975 §8): which m= lines are MSRP, and a syntax check of the
 * `a=path` URIs (RFC 4975 §9 MSRP-URI). Only what SDP checks need; the MSRP layer owns full URI handling.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { fail, ok, type Result } from '../core/result.ts';
import type { MediaView, ParsedSdp } from './types.ts';

export const MSRP_PROTOCOLS = ['TCP/MSRP', 'TCP/TLS/MSRP'] as const;

export function isMsrpMedia(media: MediaView): boolean {
  return media.type === 'message' && MSRP_PROTOCOLS.some((p) => p.toLowerCase() === media.protocol.toLowerCase());
}

/** The m=message lines carrying TCP/MSRP or TCP/TLS/MSRP, in wire order. */
export function findMsrpMedia(sdp: ParsedSdp): MediaView[] {
  return sdp.media.filter(isMsrpMedia);
}

export interface MsrpPathUri {
  scheme: 'msrp' | 'msrps';
  host: string;
  port?: number;
  sessionId?: string;
  transport: string;
}

// MSRP-URI = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter )
const MSRP_URI =
  /^(msrps?):\/\/(?:[A-Za-z0-9\-._~%!$&'()*+,;=:]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,=]+)(?::(\d{1,5}))?(?:\/([A-Za-z0-9\-._~+=/]+))?;([A-Za-z0-9]+)((?:;[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+(?:=[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+)?)*)$/i;

/** Syntax check of one MSRP URI as it appears in `a=path`. */
export function parseMsrpPathUri(text: string): Result<MsrpPathUri> {
  const m = MSRP_URI.exec(text);
  if (!m) {
    return fail(diagnostic('MSRP_PATH_URI_INVALID', `"${text}" is not an MSRP URI (msrp[s]://host[:port]/session-id;transport)`, 'RFC 4975 §9', { bytes: text }));
  }
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) {
    return fail(diagnostic('MSRP_PATH_URI_INVALID', `port ${port} in "${text}" is out of range`, 'RFC 4975 §9', { bytes: text }));
  }
  const uri: MsrpPathUri = { scheme: m[1]!.toLowerCase() as 'msrp' | 'msrps', host: m[2]!, transport: m[5]! };
  if (port !== undefined) uri.port = port;
  if (m[4] !== undefined) uri.sessionId = m[4];
  return ok(uri);
}

/** Every URI of a media's `a=path`, with one diagnostic per unparsable URI. */
export function parseMsrpPath(media: MediaView): { uris: MsrpPathUri[]; diagnostics: Diagnostic[] } {
  const uris: MsrpPathUri[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const text of media.path) {
    const r = parseMsrpPathUri(text);
    if (r.ok) uris.push(r.value);
    else diagnostics.push(...r.diagnostics);
  }
  return { uris, diagnostics };
}

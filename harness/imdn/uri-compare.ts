/**
 * URI equivalence for the IMDN checker. The comparison itself is the SIP layer's (RFC 3261
 * §19.1.4 for sip:/sips:, tel: by number); this only accepts name-addrs (`"Alice" <sip:…>`) as
 * they appear in CPIM headers, where display names never take part.
 */
import { parseSipUri, sipUrisEqual } from '../sip/uri.ts';

export function addrSpec(value: string): string {
  const open = value.indexOf('<');
  const close = value.lastIndexOf('>');
  return (open !== -1 && close > open ? value.slice(open + 1, close) : value).trim();
}

/** True when `a` and `b` name the same resource under the rules of their scheme. */
export function urisEquivalent(a: string, b: string): boolean {
  const x = addrSpec(a);
  const y = addrSpec(b);
  // The comparison is reflexive for URIs and for unparsable text alike: equal text needs no parse.
  return x === y || sipUrisEqual(x, y);
}

/** The anonymous identity of RFC 3323 §4.1.1.3 (`sip:anonymous@anonymous.invalid`). */
export function isAnonymousUri(value: string): boolean {
  // User and host must both say "anonymous": most values do not contain it at all.
  if (!/anonymous/i.test(value)) return false;
  const parsed = parseSipUri(addrSpec(value));
  return parsed.ok && parsed.value.user?.toLowerCase() === 'anonymous' && parsed.value.host.toLowerCase() === 'anonymous.invalid';
}

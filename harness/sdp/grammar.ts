/**
 * Typed wrapper around sdp-transform. sdp-transform keeps attributes it has no row for in
 * `invalid[]`; the RFC 4975 §8 attributes (msrp-attributes.ts) are lifted from there into fields of
 * the same object. sdp-transform's grammar is a module singleton shared with every other user of
 * the library, so it is only ever read here, never extended.
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { msrpAttribute } from './msrp-attributes.ts';

/** One row of sdp-transform's table (`lib/grammar.js`); @types does not declare it. */
export interface GrammarRule {
  name?: string;
  push?: string;
  reg: RegExp;
  names?: string[];
  format: string | ((o: Record<string, unknown>) => string);
}

type Grammar = Readonly<Record<string, readonly GrammarRule[]>>;

/** The fields the MSRP attributes add to a media (or session) object. */
export interface MsrpAttributeFields {
  path?: string;
  acceptTypes?: string;
  acceptWrappedTypes?: string;
  /** An all-digit value becomes a number, as sdp-transform does for its own fields. */
  maxSize?: number | string;
}

export type MsrpMediaDescription = MediaDescription & MsrpAttributeFields;
export type MsrpSessionDescription = Omit<SessionDescription, 'media'> & MsrpAttributeFields & { media: MsrpMediaDescription[] };

const grammar = (sdpTransform as unknown as { grammar: Grammar }).grammar;

type Level = { invalid?: { value: string }[] } & MsrpAttributeFields;

/** Moves `invalid[]` entries that are MSRP attributes into their fields (the last one wins, as in sdp-transform). */
function liftMsrpAttributes(level: Level): void {
  if (level.invalid === undefined) return;
  const rest: { value: string }[] = [];
  for (const entry of level.invalid) {
    const colon = entry.value.indexOf(':');
    const row = colon === -1 ? undefined : msrpAttribute(entry.value.slice(0, colon));
    if (row === undefined) {
      rest.push(entry);
      continue;
    }
    const value = entry.value.slice(colon + 1);
    if (row.field === 'maxSize') level.maxSize = String(Number(value)) === value ? Number(value) : value;
    else level[row.field] = value;
  }
  if (rest.length === 0) delete level.invalid;
  else level.invalid = rest;
}

/** sdp-transform's parse, with the MSRP attributes as fields. */
export function transformParse(text: string): MsrpSessionDescription {
  const session = sdpTransform.parse(text) as unknown as MsrpSessionDescription;
  liftMsrpAttributes(session as Level);
  for (const media of session.media) liftMsrpAttributes(media as Level);
  return session;
}

/**
 * Name of the grammar row sdp-transform would use for the value of an `a=` line, or undefined
 * when only the catch-all matches (the attribute would land in `invalid[]`).
 */
export function attributeRuleName(content: string): string | undefined {
  const rows = grammar.a!;
  for (let i = 0; i < rows.length - 1; i++) {
    const row = rows[i]!;
    if (row.reg.test(content)) return row.name ?? row.push;
  }
  return undefined;
}

/**
 * Typed wrapper around sdp-transform's grammar table, extended with the RFC 4975 §8 attributes
 * MSRP needs. sdp-transform keeps unknown attributes in `invalid[]`; these rows make them fields.
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';

/** One row of sdp-transform's table (`lib/grammar.js`); @types does not declare it. */
export interface GrammarRule {
  name?: string;
  push?: string;
  reg: RegExp;
  names?: string[];
  format: string | ((o: Record<string, unknown>) => string);
}

type Grammar = Record<string, GrammarRule[]>;

/** The fields the MSRP rows below add to a media (or session) object. */
export interface MsrpAttributeFields {
  path?: string;
  acceptTypes?: string;
  acceptWrappedTypes?: string;
  /** sdp-transform turns an all-digit value into a number. */
  maxSize?: number | string;
}

export type MsrpMediaDescription = MediaDescription & MsrpAttributeFields;
export type MsrpSessionDescription = Omit<SessionDescription, 'media'> & MsrpAttributeFields & { media: MsrpMediaDescription[] };

const grammar = (sdpTransform as unknown as { grammar: Grammar }).grammar;

const msrpRows: GrammarRule[] = [
  // a=path:msrp://192.0.2.10:7394/pf8s3kq1;tcp
  { name: 'path', reg: /^path:(.*)/, format: 'path:%s' },
  // a=accept-types:message/cpim application/im-iscomposing+xml
  { name: 'acceptTypes', reg: /^accept-types:(.*)/, format: 'accept-types:%s' },
  // a=accept-wrapped-types:text/plain message/imdn+xml
  { name: 'acceptWrappedTypes', reg: /^accept-wrapped-types:(.*)/, format: 'accept-wrapped-types:%s' },
  // a=max-size:65536
  { name: 'maxSize', reg: /^max-size:(.*)/, format: 'max-size:%s' },
];

/** Idempotent: the grammar is a module singleton, so install each row once, before the catch-all. */
export function installMsrpRows(): void {
  const rows = grammar.a!;
  for (const row of msrpRows) {
    if (rows.some((r) => r.name === row.name)) continue;
    rows.splice(rows.length - 1, 0, row);
  }
}
installMsrpRows();

/** sdp-transform's parse with the MSRP rows installed. */
export function transformParse(text: string): MsrpSessionDescription {
  return sdpTransform.parse(text) as unknown as MsrpSessionDescription;
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

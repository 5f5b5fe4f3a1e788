/**
 * Caller preferences (RFC 3841 §9.2 Accept-Contact) and feature tags (RFC 3840 §9), with the
 * 3GPP TS 24.229 §7.2A.8 ICSI encoding. Pure; the Accept-Contact row of the header table
 * (headers.ts) parses and formats with these functions.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { scanHeaderParams, unquote, type Param } from './lex.ts';


export interface FeatureParam {
  /** As written, e.g. `+g.3gpp.icsi-ref`, `isfocus`. */
  name: string;
  /** Tag values as written inside the quotes (still percent-encoded), or `true` for a bare tag. */
  values: string[] | true;
  /** `!` before the value(s): the tag must NOT have that value. */
  negated?: boolean;
  /** The param exactly as written, e.g. `+g.3gpp.icsi-ref="urn%3A…"`. */
  raw: string;
}

export interface AcceptContact {
  params: FeatureParam[];
  require: boolean;
  explicit: boolean;
}

function acceptContactDiag(value: string, why: string): Diagnostic {
  return diagnostic('SIP_BAD_ACCEPT_CONTACT', `Malformed Accept-Contact: ${why}`, 'RFC 3841 §9.2', { bytes: value });
}

/** `*` then feature params and the `require` / `explicit` flags (RFC 3841 §9.2 `ac-value`). */
export function parseAcceptContact(value: string): Result<AcceptContact> {
  const text = value.trim();
  if (text[0] !== '*') return fail(acceptContactDiag(value, 'ac-value must start with "*"'));
  const scan = scanHeaderParams(text, 1);
  if (scan.error !== undefined || scan.end !== text.length) return fail(acceptContactDiag(value, scan.error ?? `unexpected "${text.slice(scan.end)}"`));
  const out: AcceptContact = { params: [], require: false, explicit: false };
  for (const p of scan.params) {
    const lower = p.name.toLowerCase();
    if (lower === 'require' && p.value === undefined) out.require = true;
    else if (lower === 'explicit' && p.value === undefined) out.explicit = true;
    else out.params.push(featureParam(p));
  }
  return ok(out);
}

/** Feature params as written, then `;require` and `;explicit`. */
export function formatAcceptContact(ac: AcceptContact): string {
  let out = '*';
  for (const p of ac.params) out += `;${p.raw}`;
  if (ac.require) out += ';require';
  if (ac.explicit) out += ';explicit';
  return out;
}

function featureParam(p: Param): FeatureParam {
  const raw = p.value === undefined ? p.name : `${p.name}=${p.value}`;
  if (p.value === undefined) return { name: p.name, values: true, raw };
  const inner = p.value.startsWith('"') ? unquote(p.value) : p.value;
  // A string-value `<…>` is one value even if it contains commas.
  const values = inner.startsWith('<') ? [inner] : inner.split(',').map((v) => v.trim());
  const negated = values.length > 0 && values.every((v) => v.startsWith('!'));
  const result: FeatureParam = { name: p.name, values: negated ? values.map((v) => v.slice(1)) : values, raw };
  if (negated) result.negated = true;
  return result;
}

/** RFC 3840 §9 `token-nobang`: the characters allowed unencoded in a tag-value. */
const TOKEN_NOBANG = /^[A-Za-z0-9\-.%*_+`'~]+$/;

/** Canonical 3GPP TS 24.229 §7.2A.8 encoding: every character outside token-nobang as upper-case %XX. */
export function encodeIcsi(icsi: string): string {
  let out = '';
  for (const ch of icsi) out += /[A-Za-z0-9\-.*_+`'~]/.test(ch) ? ch : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** `+g.3gpp.icsi-ref="<encoded ICSI>"`: the feature tag that names an IMS communication service (TS 24.229 §7.2A.8). */
export function icsiFeatureTag(icsi: string): string {
  return `+g.3gpp.icsi-ref="${encodeIcsi(icsi)}"`;
}

/** The CPM Feature Tag of OMA CPM Conversation Functions (§7.3.12: "the CPM Feature Tag 'urn:urn-7:…'"), defined once for the harness. */
export const CPM_SESSION_ICSI = 'urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session';
/** `+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"`, for Contact and Accept-Contact. */
export const CPM_FEATURE_TAG = icsiFeatureTag(CPM_SESSION_ICSI);
/** `Accept-Contact: *;+g.3gpp.icsi-ref="…"`, the canonical form (H1). */
export const CPM_ACCEPT_CONTACT = `*;${CPM_FEATURE_TAG}`;

function percentDecode(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Whether any Accept-Contact value carries `icsi` in `+g.3gpp.icsi-ref`. Matching percent-decodes
 * (so `%3a` == `%3A` == an unencoded `:`); `exactEncoding` says whether the matching value was
 * written in the canonical upper-case encoding; an unencoded value gets SIP_FEATURE_TAG_NOT_ENCODED.
 */
export function hasIcsi(acceptContactValues: string[], icsi: string): { present: boolean; exactEncoding: boolean; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const canonical = encodeIcsi(icsi);
  let present = false;
  let exactEncoding = false;
  for (const value of acceptContactValues) {
    const parsed = parseAcceptContact(value);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.ok) continue;
    for (const fp of parsed.value.params) {
      if (fp.name.toLowerCase() !== '+g.3gpp.icsi-ref' || fp.values === true || fp.negated) continue;
      // One diagnostic per feature tag, not per value: `"a,,,,…"` must not become 100,000 of them.
      let unencoded: string | undefined;
      let unencodedCount = 0;
      for (const v of fp.values) {
        if (!v.startsWith('<') && !TOKEN_NOBANG.test(v)) {
          unencoded ??= v;
          unencodedCount++;
        }
        if (percentDecode(v) === icsi) {
          present = true;
          if (v === canonical) exactEncoding = true;
        }
      }
      if (unencoded !== undefined) {
        const more = unencodedCount > 1 ? ` (and ${unencodedCount - 1} more values)` : '';
        diagnostics.push(
          diagnostic('SIP_FEATURE_TAG_NOT_ENCODED', `tag-value "${unencoded}"${more} has characters outside token-nobang; TS 24.229 §7.2A.8 wants them percent-encoded`, 'RFC 3840 §9', {
            bytes: unencoded,
          }),
        );
      }
    }
  }
  return { present, exactEncoding, diagnostics };
}

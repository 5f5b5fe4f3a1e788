/**
 * What the harness checks in a client's SDP answer to its MSRP offer (OMA CPM §7.3.12 1)a)i,
 * RFC 3264 §6, RFC 4975 §8, RFC 4145 §4.1). Parse diagnostics of the answer are not repeated here.
 * Deliberately NOT checked: m= port equal to the a=path port (rcsjta advertises 9, PROTOCOLS §2.3).
 * `checkMsrpAnswer` gives the diagnostics; `answerFindings` the neutral findings per rule (no
 * requirement IDs, no levels: harness/verdict/rules.ts maps them).
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import type { Finding } from '../core/finding.ts';
import { resolveDirection } from './direction.ts';
import { findMsrpMedia, msrpPathDiagnostics } from './msrp-media.ts';
import { negotiateSetup } from './setup.ts';
import type { Direction, MediaView, ParsedSdp } from './types.ts';

const CR_CLAUSE = 'OMA CPM §7.3.12 1)a)i';

// RFC 3264 §6.1: what an answer may say for each offered direction.
const ALLOWED_ANSWERS: Record<Direction, Direction[]> = {
  sendrecv: ['sendrecv', 'sendonly', 'recvonly', 'inactive'],
  sendonly: ['recvonly', 'inactive'],
  recvonly: ['sendonly', 'inactive'],
  inactive: ['inactive'],
};

function lineOf(media: MediaView): { offset: number; bytes: Buffer } {
  return { offset: media.line.offset, bytes: media.line.bytes };
}

function attributeBytes(media: MediaView, name: string): { offset: number; bytes: Buffer } {
  const attr = media.attributes.find((a) => a.name === name);
  return attr ? { offset: attr.offset, bytes: attr.bytes } : lineOf(media);
}

function accepts(types: string[], wanted: string): 'exact' | 'wildcard' | 'no' {
  const lower = types.map((t) => t.toLowerCase());
  if (lower.includes(wanted)) return 'exact';
  const [major] = wanted.split('/');
  return lower.includes('*') || lower.includes(`${major}/*`) ? 'wildcard' : 'no';
}

export function checkMsrpAnswer(answer: ParsedSdp, offer: ParsedSdp): Diagnostic[] {
  const out: Diagnostic[] = [];
  const [offered] = findMsrpMedia(offer);
  if (!offered) {
    return [diagnostic('ANSWER_CHECK_NO_MSRP_OFFER', 'the offer has no m=message TCP/MSRP line to check an answer against', 'RFC 4975 §8.1')];
  }
  if (answer.media.length !== offer.media.length) {
    out.push(
      diagnostic('ANSWER_MLINE_COUNT', `the answer has ${answer.media.length} m= lines, the offer ${offer.media.length}; they must match one to one`, 'RFC 3264 §6', {
        bytes: answer.raw,
      }),
    );
  }
  const answered = answer.media[offered.index];
  if (!answered || answered.type !== offered.type || answered.protocol.toLowerCase() !== offered.protocol.toLowerCase()) {
    const seen = answered ? `"m=${answered.type} ${answered.port} ${answered.protocol}"` : 'nothing';
    out.push(
      diagnostic('ANSWER_NO_MSRP_MEDIA', `m= line ${offered.index} of the answer should be m=message ${offered.protocol}, found ${seen}`, 'RFC 3264 §6', answered ? lineOf(answered) : { bytes: answer.raw }),
    );
    return out;
  }
  if (answered.port === 0) {
    out.push(diagnostic('ANSWER_MSRP_PORT_ZERO', 'the answer rejects the MSRP stream (m= port 0)', 'RFC 3264 §6', lineOf(answered)));
  }

  const offeredDirection = resolveDirection(offer, offered.index);
  const answeredDirection = resolveDirection(answer, answered.index);
  out.push(...answeredDirection.diagnostics);
  if (!ALLOWED_ANSWERS[offeredDirection.direction].includes(answeredDirection.direction)) {
    out.push(
      diagnostic('ANSWER_DIRECTION_INCOMPATIBLE', `offer is ${offeredDirection.direction}, answer ${answeredDirection.direction}: not allowed (${answeredDirection.text})`, 'RFC 3264 §6.1', attributeBytes(answered, answeredDirection.direction)),
    );
  } else if (offeredDirection.direction === 'sendrecv' && answeredDirection.direction !== 'sendrecv') {
    out.push(
      diagnostic('ANSWER_DIRECTION_NOT_SENDRECV', `a sendrecv group session must be accepted sendrecv, the answer is ${answeredDirection.direction} (${answeredDirection.text})`, CR_CLAUSE, attributeBytes(answered, answeredDirection.direction)),
    );
  }

  if (answered.path.length === 0) {
    out.push(diagnostic('ANSWER_PATH_MISSING', 'the answer has no a=path for the MSRP stream', 'RFC 4975 §8.2', lineOf(answered)));
  } else {
    const where = attributeBytes(answered, 'path');
    for (const d of msrpPathDiagnostics(answered)) out.push(diagnostic('ANSWER_PATH_INVALID', d.message, 'RFC 4975 §8.2', where));
  }

  if (answered.acceptTypes.length === 0) {
    out.push(diagnostic('ANSWER_ACCEPT_TYPES_MISSING', 'the answer has no a=accept-types for the MSRP stream', 'RFC 4975 §8.6', lineOf(answered)));
  } else {
    const cpim = accepts(answered.acceptTypes, 'message/cpim');
    const where = attributeBytes(answered, 'accept-types');
    if (cpim === 'no') out.push(diagnostic('ANSWER_ACCEPT_TYPES_NO_CPIM', 'a=accept-types does not include message/cpim', 'RFC 4975 §8.6', where));
    if (cpim === 'wildcard') out.push(diagnostic('ANSWER_ACCEPT_TYPES_CPIM_WILDCARD', 'a=accept-types covers message/cpim only by a wildcard', 'RFC 4975 §8.6', { ...where, severity: 'warning' }));
  }
  if (accepts(answered.acceptWrappedTypes, 'message/imdn+xml') !== 'exact') {
    out.push(
      diagnostic('ANSWER_NO_IMDN_WRAPPED_TYPE', 'a=accept-wrapped-types does not list message/imdn+xml: the PF cannot deliver IMDNs of others (PROTOCOLS N12)', 'RFC 4975 §8.6', {
        ...attributeBytes(answered, 'accept-wrapped-types'),
        severity: 'warning',
      }),
    );
  }

  if (answered.setupRaw !== undefined && answered.setup === undefined) {
    out.push(diagnostic('ANSWER_SETUP_INVALID', `a=setup:${answered.setupRaw} is not a valid value`, 'RFC 4145 §4', attributeBytes(answered, 'setup')));
  } else {
    out.push(...negotiateSetup(offered.setup, answered.setup).diagnostics);
  }
  return out;
}

/** The rules the answer check applies, in the order they are reported. */
export const ANSWER_RULES = [
  'sdp.answer.media',
  'sdp.answer.port',
  'sdp.answer.direction',
  'sdp.answer.path',
  'sdp.answer.accept-types',
  'sdp.answer.accept-types-wildcard',
  'sdp.answer.imdn-wrapped',
  'sdp.answer.setup',
] as const;

export type AnswerRule = (typeof ANSWER_RULES)[number];

const RULE_OF_CODE: Readonly<Record<string, AnswerRule>> = {
  ANSWER_CHECK_NO_MSRP_OFFER: 'sdp.answer.media',
  ANSWER_MLINE_COUNT: 'sdp.answer.media',
  ANSWER_NO_MSRP_MEDIA: 'sdp.answer.media',
  ANSWER_MSRP_PORT_ZERO: 'sdp.answer.port',
  SDP_MULTIPLE_DIRECTIONS: 'sdp.answer.direction',
  ANSWER_DIRECTION_INCOMPATIBLE: 'sdp.answer.direction',
  ANSWER_DIRECTION_NOT_SENDRECV: 'sdp.answer.direction',
  ANSWER_PATH_MISSING: 'sdp.answer.path',
  ANSWER_PATH_INVALID: 'sdp.answer.path',
  ANSWER_ACCEPT_TYPES_MISSING: 'sdp.answer.accept-types',
  ANSWER_ACCEPT_TYPES_NO_CPIM: 'sdp.answer.accept-types',
  ANSWER_ACCEPT_TYPES_CPIM_WILDCARD: 'sdp.answer.accept-types-wildcard',
  ANSWER_NO_IMDN_WRAPPED_TYPE: 'sdp.answer.imdn-wrapped',
};

const HELD: Readonly<Record<AnswerRule, string>> = {
  'sdp.answer.media': 'm= lines answer the offer one to one, MSRP at its place',
  'sdp.answer.port': 'MSRP stream not rejected',
  'sdp.answer.direction': 'answer direction sendrecv',
  'sdp.answer.path': 'a=path valid',
  'sdp.answer.accept-types': 'a=accept-types includes message/cpim',
  'sdp.answer.accept-types-wildcard': 'message/cpim named in a=accept-types',
  'sdp.answer.imdn-wrapped': 'a=accept-wrapped-types lists message/imdn+xml',
  'sdp.answer.setup': 'a=setup valid for the offer',
};

/** One finding per answer rule: held, or the diagnostics that broke it (codes and sentences). */
export function answerFindings(answer: ParsedSdp, offer: ParsedSdp): Finding<AnswerRule>[] {
  const broken = new Map<AnswerRule, Diagnostic[]>();
  for (const d of checkMsrpAnswer(answer, offer)) {
    // Every diagnostic not named above is about a=setup (RFC 4145 negotiation and syntax).
    const rule = RULE_OF_CODE[d.code] ?? 'sdp.answer.setup';
    broken.set(rule, [...(broken.get(rule) ?? []), d]);
  }
  return ANSWER_RULES.map((rule) => {
    const ds = broken.get(rule);
    if (!ds) return { rule, ok: true, detail: HELD[rule] };
    return { rule, ok: false, detail: ds.map((d) => `${d.code}: ${d.message}`).join('; ') };
  });
}

/** SDP for MSRP sessions: builders, strict parser, direction resolver, setup negotiation, answer checks. */
export { buildMsrpAnswer, buildMsrpOffer, DEFAULT_ACCEPT_TYPES, DEFAULT_ACCEPT_WRAPPED_TYPES, type MsrpSdpOptions } from './build.ts';
export { parseSdp, SDP_PARSE_CODES } from './parse.ts';
export { resolveDirection, type ResolvedDirection } from './direction.ts';
export { findMsrpMedia, isMsrpMedia, msrpPathDiagnostics, MSRP_PROTOCOLS } from './msrp-media.ts';
export { answerSetupFor, negotiateSetup, type ConnectionRole, type SetupNegotiation } from './setup.ts';
export { ANSWER_RULES, answerFindings, checkMsrpAnswer, type AnswerRule } from './answer-check.ts';
export { DIRECTIONS, SETUP_VALUES, type AttributeLine, type Direction, type DirectionAttribute, type Level, type LineRef, type MediaView, type ParsedSdp, type SetupValue } from './types.ts';
export type { MsrpMediaDescription, MsrpSessionDescription } from './grammar.ts';

/**
 * The rule table: the only route from an observation to a verdict. A checker or a scenario states
 * a finding `{ rule, ok, detail, evidence }`; the row of its rule names the requirement it serves,
 * and the requirement's level (REQUIREMENTS.md) decides what a violation means: SHALL → fail,
 * SHOULD / SHOULD NOT → warning, MAY / descriptive / informative → informative. A rule the digest
 * marks unconfirmed ([U], PROTOCOLS.md §0.1) or a documented tolerance (`advisory`) reports a
 * violation as a warning at most — never a hard failure.
 *
 * Every rule that can be violated is tripped by at least one mutant of the reference client
 * (fixtures/mutation-matrix.json, asserted by npm test); `cpm-harness rules` lists them.
 */
import type { WireFaultKind } from '../core/scope.ts';
import type { ImdnRule } from '../imdn/checker.ts';
import type { AnswerRule } from '../sdp/answer-check.ts';
import { requirement, violationOutcome, type Level, type RequirementId } from './requirements.ts';

export interface RuleRow {
  readonly requirement: RequirementId;
  /** One line: what the client must do (or, for an observation, what is recorded). */
  readonly text: string;
  /** PROTOCOLS.md marks the fact unconfirmed: a violation is reported as a warning, never a fail. */
  readonly marker?: 'U';
  /**
   * The RFC clause the fact was checked against (docs/rfc-checks.md): the rule is verified [V].
   * The level still comes from the requirement; an RFC SHOULD / SHOULD NOT is an `advisory`.
   */
  readonly verified?: string;
  /** A tolerance the digest asks for (with its reason): a violation is a warning at most. */
  readonly advisory?: string;
  /** Records what the client did; it has no violation (e.g. an ambiguity, a MAY), so no mutant trips it. */
  readonly observation?: true;
  /**
   * Judged in every case by the runner from the case's fault boundary (core/scope.ts), never
   * declared by a case: the client broke its stream or a runtime limit. Tripped by the chaos
   * clients (reference-client/chaos.ts), not by the mutants.
   */
  readonly wire?: true;
}

export const RULES = {
  // 7.3.12-1a: a final response to the group INVITE
  'invite.final-response': { requirement: '7.3.12-1a', text: 'the group INVITE gets a final response (before Timer B; within the final-response window after a 1xx)' },
  'invite.icsi-variant': { requirement: '7.3.12-1a', text: 'a legal spelling of the CPM feature tag (value list [V] RFC 3840, compact a: [I]) is handled as a group INVITE' },
  'invite.icsi-variant-unconfirmed': {
    requirement: '7.3.12-1a',
    text: 'the CPM feature tag with lower-case percent escapes or ;require;explicit is handled as a group INVITE',
    marker: 'U',
  },

  // 7.3.12-1a-i: accept an effective sendrecv offer with a usable MSRP answer
  'invite.accepted': { requirement: '7.3.12-1a-i', text: 'a group INVITE whose effective MSRP direction is sendrecv gets a 2xx with an SDP answer' },
  'invite.accepted.no-direction': {
    requirement: '7.3.12-1a-i',
    text: 'an offer without any direction attribute (RFC 8866 §6.7 default sendrecv) is accepted; the CR reading is ambiguous (E2)',
    marker: 'U',
  },
  'sdp.answer.media': { requirement: '7.3.12-1a-i', text: 'the answer has the offer\'s m= lines, the MSRP stream answered as m=message with the same protocol (RFC 3264 §6)' },
  'sdp.answer.port': { requirement: '7.3.12-1a-i', text: 'the answer does not reject the MSRP stream with port 0' },
  'sdp.answer.direction': { requirement: '7.3.12-1a-i', text: 'the answer\'s MSRP direction is sendrecv (RFC 3264 §6.1 and the CR)' },
  'sdp.answer.path': {
    requirement: '7.3.12-1a-i',
    text: 'the answer has a valid a=path (RFC 4975 §8.2)',
    verified: 'RFC 4975 §8.2: the SDP of an MSRP media line MUST carry a path attribute',
  },
  'sdp.answer.accept-types': {
    requirement: '7.3.12-1a-i',
    text: 'the answer\'s a=accept-types includes message/cpim (RFC 4975 §8.6)',
    verified: 'RFC 4975 §8.6: the accept-types attribute MUST be present; the PF offers only message/cpim at the top level',
  },
  'sdp.answer.accept-types-wildcard': {
    requirement: '7.3.12-1a-i',
    text: 'a=accept-types names message/cpim rather than covering it by a wildcard',
    advisory: 'a wildcard is legal RFC 4975 and interoperates',
  },
  'sdp.answer.imdn-wrapped': {
    requirement: '7.3.12-1a-i',
    text: 'a=accept-wrapped-types lists message/imdn+xml, so the PF can deliver others\' IMDNs (N12)',
    advisory: 'PROTOCOLS.md N12: WARN',
  },
  'sdp.answer.setup': { requirement: '7.3.12-1a-i', text: 'the answer\'s a=setup is valid and completes the RFC 4145 §4.1 role negotiation' },
  'msrp.bound': { requirement: '7.3.12-1a-i', text: 'after the 2xx the MSRP session comes up and binds within the MSRP connect window' },

  // 7.3.12-1a-ii / -warning: exactly 488, with a Warning, and nothing else
  'reject.status': { requirement: '7.3.12-1a-ii', text: 'an offer whose effective direction is not sendrecv gets exactly 488 Not Acceptable Here' },
  'reject.side-effects': {
    requirement: '7.3.12-1a-ii',
    text: 'after the 488: no BYE, no 488 retransmission after the ACK',
    verified: 'RFC 3261 §15: "A UA MUST NOT send a BYE outside of a dialog"; §17.2.1: the ACK moves the server transaction to Confirmed, which stops Timer G',
  },
  'reject.no-follow-up': {
    requirement: '7.3.12-1a-ii',
    text: 'after the 488: no MSRP connection, no SUBSCRIBE (the rejected session never existed; 1b needs an established one)',
    marker: 'U',
  },
  'reject.warning': { requirement: '7.3.12-1a-ii-warning', text: 'the 488 carries a Warning header (RFC 3261 §13.3.1.3)' },
  'reject.warning-syntax': { requirement: '7.3.12-1a-ii-warning', text: 'the Warning header is warn-code SP warn-agent SP warn-text (RFC 3261 §20.43)' },

  // 7.3.12-1a-i-absent: no direction attribute anywhere
  'sdp.no-direction.answer': { requirement: '7.3.12-1a-i-absent', text: 'the answer to an offer without any direction attribute, as observed', observation: true },

  // 7.3.12-1a-i-1 / -2 / -3: use this session
  'msrp.send-200': { requirement: '7.3.12-1a-i-1', text: '200 to every SEND chunk of a deferred message (RFC 4975 §7.2)' },
  'imdn.session': { requirement: '7.3.12-1a-i-2', text: 'the delivery notification is sent on the PF-initiated session (not SIP MESSAGE, not another session)' },
  'outgoing.on-session': { requirement: '7.3.12-1a-i-3', text: 'a message composed during the session is sent via MSRP on it (not by re-join or SIP MESSAGE)' },

  // 7.3.12-1b-sub: subscribe once the session is established
  'sub.sent': { requirement: '7.3.12-1b-sub', text: 'an initial SUBSCRIBE follows the established session within the subscribe window' },
  'sub.event': { requirement: '7.3.12-1b-sub', text: 'the SUBSCRIBE is for Event: conference (RFC 4575)', verified: 'RFC 4575 §3.1: event package name "conference"' },
  'sub.target': { requirement: '7.3.12-1b-sub', text: 'the SUBSCRIBE targets the group session identity (RFC 3261 §19.1.4, transport ignored)' },
  'sub.after-ack': { requirement: '7.3.12-1b-sub', text: 'the SUBSCRIBE comes after the PF\'s ACK ("once the SIP session is established")', marker: 'U' },

  // 7.3.12-1b-wait
  'session.kept-while-delayed': { requirement: '7.3.12-1b-wait', text: 'no BYE, MSRP close or re-INVITE while the PF delays the deferred delivery' },

  // 7.3.12-1b-i-a (descriptive)
  'notify.answered': { requirement: '7.3.12-1b-i-a', text: 'a NOTIFY with the participant information (also schema-legal odd documents, N7/N28) is answered 200' },
  'notify.session-kept': { requirement: '7.3.12-1b-i-a', text: 'after the NOTIFY the client keeps the session (no BYE, no MSRP close)' },

  // 7.3.12-1b-i-b: 404 means inactive
  'sub404.no-resubscribe': { requirement: '7.3.12-1b-i-b', text: 'after a 404 to the SUBSCRIBE, no new initial SUBSCRIBE to the group within the quarantine window' },
  'sub404.no-bye': { requirement: '7.3.12-1b-i-b', text: 'the 404 alone is no reason to BYE the deferred-delivery session', marker: 'U' },
  'sub404.ut-inactive': { requirement: '7.3.12-1b-i-b', text: 'after the 404 the upper tester does not report the group as active' },
  'sub404.rejoin-later': { requirement: '7.3.12-1b-i-b', text: 'after the 404 and the PF\'s BYE, a later message goes through a re-join INVITE', marker: 'U' },
  'noresource.no-resubscribe': {
    requirement: '7.3.12-1b-i-b',
    text: 'after terminated;reason=noresource (the last participants delivered), no new initial SUBSCRIBE',
    verified: 'RFC 6665 §4.1.3: noresource — "Clients SHOULD NOT attempt to re-subscribe"',
    advisory: 'RFC 6665 §4.1.3 says SHOULD NOT',
  },

  // 7.3.12-1b-ii: the requested IMDNs via MSRP
  'imdn.returned': { requirement: '7.3.12-1b-ii', text: 'a requested notification naming the message arrives within the IMDN window' },
  'imdn.route': { requirement: '7.3.12-1b-ii', text: 'the notification is returned via MSRP on the deferred-delivery session, not as SIP MESSAGE' },
  'imdn.kind': { requirement: '7.3.12-1b-ii', text: 'only requested notification kinds; a display notification only after the user displayed the message' },
  'imdn.status': { requirement: '7.3.12-1b-ii', text: 'the status is <delivered/> for a delivered message, <displayed/> for a displayed one' },

  // 7.3.12-1c-i: wait for the PF; 2xx to its BYE
  'session.kept': { requirement: '7.3.12-1c-i', text: 'after the deferred delivery, no MSRP close, BYE or re-INVITE before the PF ends the session' },
  'bye.answered': { requirement: '7.3.12-1c-i', text: 'the PF\'s BYE gets a 2xx (RFC 3261 §15.1.2)' },
  'bye.media-stops': {
    requirement: '7.3.12-1c-i',
    text: 'nothing more is sent on the MSRP session once the PF\'s BYE arrived',
    verified: 'RFC 3261 §15.1.2: the UAS "SHOULD terminate the session (and therefore stop sending and listening for media)"',
    advisory: 'RFC 3261 §15.1.2 says SHOULD',
  },

  // 7.3.12-1c-ii / -1c-iii / -1d-i / -1d-ii
  'nothing-to-send.imdn.returned': { requirement: '7.3.12-1c-ii', text: 'with nothing to send, every requested delivery notification comes back via MSRP on the session' },
  'nothing-to-send.subscribed': { requirement: '7.3.12-1c-iii', text: 'with nothing to send, the client subscribes (Event: conference, group identity) within the window' },
  'queued.on-session': { requirement: '7.3.12-1d-i', text: 'a message queued while offline is sent via MSRP on the PF-initiated session' },
  'with-queued.subscribed': { requirement: '7.3.12-1d-ii', text: 'with a queued message, the client still subscribes (Event: conference, group identity)' },
  'sub.refreshed': {
    requirement: '7.3.12-1d-ii',
    text: 'a short subscription is refreshed in-dialog strictly before it expires (RFC 6665 §4.1.2.1)',
    verified: 'RFC 6665 §4.1.2.1/§4.1.2.2: a refresh is a SUBSCRIBE on the same dialog before the subscription expires; an expired one is over (the CR: maintain it)',
  },
  'sub.single': {
    requirement: '7.3.12-1d-ii',
    text: 'no second initial SUBSCRIBE to the group while the first subscription is active',
    advisory: 'no RFC forbids it (RFC 6665 lets a subscriber hold several subscriptions); PROTOCOLS.md §1.2 1b-sub says WARN',
  },

  // 7.3.12-2a (MAY) and NOTE (SHOULD NOT)
  'rejoin.observed': { requirement: '7.3.12-2a', text: 'whether the client re-joins when it comes back online with a queued message', observation: true },
  'rejoin.form': { requirement: '7.3.12-2a', text: 'a re-join INVITE goes to the group identity with the CPM feature tag (7.3.1.5 as digested)' },
  'rejoin.message-follows': { requirement: '7.3.12-2a', text: 'after a re-join the queued message is sent via MSRP on the new session' },
  'rejoin.idle': { requirement: '7.3.12-NOTE', text: 'back online with nothing to send: no re-join INVITE within the observation window' },

  // imdn-fields: the XML of the notification
  'imdn.fields.schema': { requirement: 'imdn-fields', text: 'the IMDN document is valid RFC 5438 XML' },
  'imdn.fields.message-id': {
    requirement: 'imdn-fields',
    text: '<message-id> is the original imdn.Message-ID, exactly',
    verified: 'RFC 5438 §7.2.1.1: <message-id> is mandatory and carries the Message-ID of the IM it reports on',
  },
  'imdn.fields.datetime': {
    requirement: 'imdn-fields',
    text: '<datetime> is the original CPIM DateTime as an instant (N10)',
    verified: 'RFC 5438 §7.2.1.2: <datetime> is mandatory and carries the date and time the IM was sent (not the IMDN), taken from the IM\'s DateTime',
  },
  'imdn.fields.recipient-uri': {
    requirement: 'imdn-fields',
    text: '<recipient-uri>, when present, is the client\'s identity or the IM\'s CPIM To',
    marker: 'U',
  },
  'imdn.fields.original-recipient-uri': {
    requirement: 'imdn-fields',
    text: '<original-recipient-uri> is the IM\'s imdn.Original-To when it carried one (and then present), else, when present, its CPIM To',
    marker: 'U',
  },

  // imdn-envelope: the CPIM around it
  'imdn.envelope.parsable': { requirement: 'imdn-envelope', text: 'the notification parses as CPIM carrying an IMDN document' },
  'imdn.envelope.syntax': {
    requirement: 'imdn-envelope',
    text: 'the CPIM header block is well-formed (RFC 3862)',
    verified: 'RFC 3862 §3 header grammar; §4.1/§4.2 From and To (MSRP carries CPIM with both)',
  },
  'imdn.envelope.ns': {
    requirement: 'imdn-envelope',
    text: 'an NS header declares urn:ietf:params:imdn before the imdn.* headers',
    verified: 'RFC 3862 §3.4: a header name prefix is bound by an earlier NS header; RFC 5438 §6.1: the imdn headers\' namespace is urn:ietf:params:imdn',
  },
  'imdn.envelope.message-id': {
    requirement: 'imdn-envelope',
    text: 'the notification has its own imdn.Message-ID, not the original\'s and not a repeat',
    verified: 'RFC 5438 §6.3: imdn.Message-ID identifies one message uniquely; an IMDN is a message of its own',
  },
  'imdn.envelope.to': {
    requirement: 'imdn-envelope',
    text: 'CPIM To is the original message\'s CPIM From (RFC 5438 §7)',
    verified: 'RFC 5438 §7.2.1.1: the IMDN is addressed to the IM\'s sender, its CPIM To taken from the IM\'s From',
  },
  'imdn.envelope.from': { requirement: 'imdn-envelope', text: 'CPIM From is the client\'s public identity, not anonymous', marker: 'U' },
  'imdn.envelope.datetime': {
    requirement: 'imdn-envelope',
    text: 'CPIM DateTime is present and RFC 3339',
    marker: 'U',
  },
  'imdn.envelope.no-disposition-notification': { requirement: 'imdn-envelope', text: 'the notification does not itself request notifications', marker: 'U' },
  'imdn.envelope.content-type': {
    requirement: 'imdn-envelope',
    text: 'MIME Content-Type is message/imdn+xml',
    verified: 'RFC 5438 §7.2.1, §10: an IMDN is a message/imdn+xml payload',
  },
  'imdn.envelope.content-disposition': {
    requirement: 'imdn-envelope',
    text: 'Content-Disposition: notification is present',
    verified: 'RFC 5438 §7.2.1: the IMDN MUST carry Content-Disposition "notification"',
  },
  'imdn.envelope.disposition-placement': {
    requirement: 'imdn-envelope',
    text: 'Content-Disposition is in the MIME headers, not the CPIM header block (N22)',
    advisory: 'PROTOCOLS.md §2.10.1: accept with WARN (seen in a real capture)',
  },

  // imdn-not-requested, imdn-once
  'imdn.unsolicited': { requirement: 'imdn-not-requested', text: 'no notification of a kind the message did not request (N9)' },
  'imdn.once': { requirement: 'imdn-once', text: 'one notification per message and kind, also for a chunked message' },

  // msrp-response, msrp-setup, msrp-report
  'msrp.response.form': {
    requirement: 'msrp-response',
    text: 'each 200 carries the SEND\'s transaction id; To-Path = the SEND\'s From-Path, From-Path = the client\'s URI',
    verified: 'RFC 4975 §7.2: a response carries the request\'s transaction id, its To-Path the previous hop (first URI of the request\'s From-Path), its From-Path the responder',
  },
  'msrp.failure-report-no': {
    requirement: 'msrp-response',
    text: 'no transaction response to a SEND with Failure-Report: no (RFC 4975 §7.2)',
    advisory: 'the RFC 4975 wording could not be re-read (PROTOCOLS.md marks it [U]; msrplib and msrp-java send none): docs/rfc-checks.md',
  },
  'msrp.setup.answer': {
    requirement: 'msrp-setup',
    text: 'the answer\'s a=setup fits the offer (absent in the offer: the offerer is active; RFC 4145 §4.1)',
    verified: 'RFC 4145 §4.1: "the default value of the setup attribute in an offer/answer exchange is \'active\' in the offer and \'passive\' in the answer"',
  },
  'msrp.setup.connection': {
    requirement: 'msrp-setup',
    text: 'the TCP connection is opened by the active side and accepted by the passive one (RFC 4145, RFC 6135)',
    verified: 'RFC 4145 §4: the active endpoint initiates the connection, the passive one accepts it',
  },
  'msrp.success-report': { requirement: 'msrp-report', text: 'a REPORT with Status 000 200 when the SEND asked Success-Report: yes (RFC 4975 §7.1.2)' },
  'msrp.report-unanswered': {
    requirement: 'msrp-response',
    text: 'no transaction response to a REPORT (RFC 4975 §7.1.2)',
    verified: 'RFC 4975 §7.1.2: endpoints MUST NOT send MSRP responses to REPORT requests (a MUST NOT, so judged under msrp-response, not the SHOULD of msrp-report)',
  },

  // wire: judged in every case, the moment the client breaks its stream or a runtime limit
  'wire.sip.framing': {
    requirement: 'wire',
    text: 'the SIP stream over TCP can be framed: every message starts with a Request-Line or Status-Line and carries a numeric Content-Length (RFC 3261 §7, §18.3)',
    wire: true,
  },
  'wire.sip.size': {
    requirement: 'wire',
    text: 'a SIP message within sipMessageBytes, each header line within sipHeaderLineBytes (RFC 3261 §21.4.13, §21.5.14: a server may refuse larger ones)',
    wire: true,
  },
  'wire.sip.complete': { requirement: 'wire', text: 'a SIP message arrives whole, its declared Content-Length included: over TCP within framingTimeoutMs of its first octet, over UDP in its datagram (RFC 3261 §18.3)', wire: true },
  'wire.msrp.framing': { requirement: 'wire', text: 'every octet on the MSRP connection belongs to a frame (RFC 4975 §7.1, §9)', wire: true },
  'wire.msrp.size': {
    requirement: 'wire',
    text: 'an MSRP chunk within msrpChunkBytes, a message (its declared Byte-Range total) within msrpMessageBytes and the receiver\'s a=max-size (RFC 4975 §7.3.1, §8.6: answered 413)',
    wire: true,
  },
  'wire.msrp.complete': {
    requirement: 'wire',
    text: 'an MSRP frame arrives whole, end-line included, within framingTimeoutMs; the client never closes or resets the connection inside a frame (RFC 4975 §7.1)',
    wire: true,
  },
  'wire.message-rate': { requirement: 'wire', text: 'at most messagesPerSecond messages (SIP and MSRP) from the client within any one second (harness limit)', wire: true },
  'wire.connections': { requirement: 'wire', text: 'at most connectionsPerCase TCP connections opened by the client per case (harness limit)', wire: true },
} as const satisfies Record<string, RuleRow>;

export type RuleId = keyof typeof RULES;

/** Compile-time proof that the checkers only emit rules of this table. */
export type CheckerRules = ImdnRule | AnswerRule;
export type CheckerRulesAreInTheTable = CheckerRules extends RuleId ? true : never;
export const CHECKER_RULES_ARE_IN_THE_TABLE: CheckerRulesAreInTheTable = true;

export const RULE_IDS = Object.keys(RULES) as RuleId[];

export function ruleRow(id: RuleId): RuleRow {
  return RULES[id];
}

export function isRuleId(id: string): id is RuleId {
  return Object.hasOwn(RULES, id);
}

export function ruleLevel(id: RuleId): Level {
  return requirement(RULES[id].requirement).level;
}

/** What a violation of this rule amounts to. */
export function violationOutcomeOf(id: RuleId): 'fail' | 'warning' | 'informative' {
  const row: RuleRow = RULES[id];
  if (row.observation) return 'informative';
  const outcome = violationOutcome(ruleLevel(id));
  return outcome === 'fail' && (row.marker === 'U' || row.advisory !== undefined) ? 'warning' : outcome;
}

/** What a rule that held amounts to: a MAY, descriptive or informative requirement cannot "pass". */
export function heldOutcomeOf(id: RuleId): 'pass' | 'informative' {
  const row: RuleRow = RULES[id];
  if (row.observation) return 'informative';
  return violationOutcome(ruleLevel(id)) === 'informative' ? 'informative' : 'pass';
}

/** Rules a mutant can trip (everything but observations and the wire rules, which chaos clients trip). */
export function violableRules(): RuleId[] {
  return RULE_IDS.filter((id) => !(RULES[id] as RuleRow).observation && !(RULES[id] as RuleRow).wire);
}

export function isWireRule(id: RuleId): boolean {
  return (RULES[id] as RuleRow).wire === true;
}

/** The wire rules, judged by the runner in every case. */
export function wireRules(): RuleId[] {
  return RULE_IDS.filter(isWireRule);
}

/** The rule a wire fault of the case's boundary breaks. */
export const WIRE_RULES: Readonly<Record<WireFaultKind, RuleId>> = {
  'sip-framing': 'wire.sip.framing',
  'sip-size': 'wire.sip.size',
  'sip-incomplete': 'wire.sip.complete',
  'msrp-framing': 'wire.msrp.framing',
  'msrp-size': 'wire.msrp.size',
  'msrp-incomplete': 'wire.msrp.complete',
  'message-rate': 'wire.message-rate',
  'connections': 'wire.connections',
};

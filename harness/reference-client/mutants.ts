/**
 * Named mutants of the reference client: each breaks a rule the harness must catch. A mutant is
 * only a set of Behaviour knobs; `breaks` lists the rule ids (harness/verdict/rules.ts) it trips —
 * exactly those, asserted cell by cell by the mutation matrix — and `ncase` the PROTOCOLS.md §4
 * failure mode it reproduces. Every rule of the table is tripped by at least one mutant.
 */
import type { Behaviour } from './behaviour.ts';

export interface Mutant {
  readonly name: string;
  readonly description: string;
  /** Rule ids of harness/verdict/rules.ts (checked against the table where the table is visible: harness/runner/mutant-rules.ts). */
  readonly breaks: readonly string[];
  readonly ncase?: string;
  readonly behaviour: Partial<Behaviour>;
}

const MUTANT_TABLE = [
  {
    name: 'accept-sendonly',
    description: '2xx to an offer whose effective MSRP direction is sendonly',
    breaks: ['reject.status'],
    ncase: 'N1',
    behaviour: { acceptDirections: ['sendrecv', 'sendonly'] },
  },
  {
    name: 'accept-recvonly',
    description: '2xx to an offer whose effective MSRP direction is recvonly',
    breaks: ['reject.status'],
    ncase: 'N1',
    behaviour: { acceptDirections: ['sendrecv', 'recvonly'] },
  },
  {
    name: 'accept-inactive',
    description: '2xx to an offer whose effective MSRP direction is inactive',
    breaks: ['reject.status'],
    ncase: 'N1',
    behaviour: { acceptDirections: ['sendrecv', 'inactive'] },
  },
  {
    name: 'ignore-session-direction',
    description: 'looks at media-level direction only (session-level a=inactive etc. ignored, default sendrecv)',
    breaks: ['reject.status'],
    ncase: 'N2',
    behaviour: { directionScope: 'media-only' },
  },
  {
    name: 'reject-486',
    description: 'rejects a non-sendrecv offer with 486 Busy Here instead of 488',
    breaks: ['reject.status'],
    behaviour: { rejectStatus: 486 },
  },
  {
    name: 'reject-415',
    description: 'rejects a non-sendrecv offer with 415 Unsupported Media Type instead of 488',
    breaks: ['reject.status'],
    ncase: 'N25',
    behaviour: { rejectStatus: 415 },
  },
  {
    name: 'reject-no-warning',
    description: '488 without a Warning header',
    breaks: ['reject.warning'],
    behaviour: { rejectWarning: 'none' },
  },
  {
    name: 'literal-sendrecv',
    description: '488 when the offer has no direction attribute at all (literal reading of the CR)',
    breaks: ['invite.accepted.no-direction'],
    ncase: 'N21',
    behaviour: { noDirection: 'literal' },
  },
  {
    name: 'never-subscribe',
    description: 'never subscribes to the conference event package',
    breaks: ['sub.sent', 'nothing-to-send.subscribed', 'with-queued.subscribed'],
    behaviour: { subscribe: 'never' },
  },
  {
    name: 'subscribe-before-ack',
    description: 'sends the conference SUBSCRIBE together with its 2xx, before the ACK arrives',
    breaks: ['sub.after-ack'],
    behaviour: { subscribe: 'before-ack' },
  },
  {
    name: 'resubscribe-after-404',
    description: 'treats 404 to SUBSCRIBE as transient and sends a new initial SUBSCRIBE',
    breaks: ['sub404.no-resubscribe'],
    ncase: 'N5',
    behaviour: { on404: 'resubscribe' },
  },
  {
    name: 'imdn-wrong-message-id',
    description: 'IMDN XML <message-id> is the IMDN\'s own id, not the original imdn.Message-ID',
    breaks: ['imdn.returned', 'imdn.fields.message-id', 'nothing-to-send.imdn.returned'],
    behaviour: { imdnXmlMessageId: 'own' },
  },
  {
    name: 'imdn-receipt-time',
    description: 'IMDN XML <datetime> is the receipt time, not the original DateTime',
    breaks: ['imdn.fields.datetime'],
    ncase: 'N10',
    behaviour: { imdnDateTime: 'receipt' },
  },
  {
    name: 'imdn-via-sip-message',
    description: 'sends IMDNs as SIP MESSAGE (pager mode) to the original sender via the PF',
    breaks: ['imdn.session', 'imdn.route', 'nothing-to-send.imdn.returned'],
    ncase: 'N11',
    behaviour: { imdnRoute: 'sip-message' },
  },
  {
    name: 'no-imdn',
    description: 'sends no IMDN at all',
    breaks: ['imdn.returned', 'nothing-to-send.imdn.returned'],
    ncase: 'N26',
    behaviour: { imdnRoute: 'none' },
  },
  {
    name: 'unsolicited-imdn',
    description: 'sends a delivery IMDN although none was requested',
    breaks: ['imdn.unsolicited'],
    ncase: 'N9',
    behaviour: { imdnWhen: 'always' },
  },
  {
    name: 'imdn-per-chunk',
    description: 'sends a delivery IMDN for every SEND chunk instead of once per message',
    breaks: ['imdn.once'],
    behaviour: { imdnPer: 'chunk' },
  },
  {
    name: 'bye-before-pf',
    description: 'hangs up (BYE) itself once the deferred messages are handled',
    breaks: ['session.kept'],
    ncase: 'N13',
    behaviour: { byeAfterDelivery: true },
  },
  {
    name: 'ignore-pf-bye',
    description: 'does not answer the PF\'s BYE and keeps the MSRP session open',
    breaks: ['bye.answered'],
    ncase: 'N14',
    behaviour: { pfByeResponse: null },
  },
  {
    name: 'subscription-lapses',
    description: 'never refreshes the conference subscription',
    breaks: ['sub.refreshed'],
    behaviour: { refreshAt: null },
  },
  {
    name: 'rejoin-while-session-up',
    description: 'sends a composed message by a new re-join INVITE although the PF session is up',
    breaks: ['outgoing.on-session', 'queued.on-session'],
    behaviour: { sendWhileSessionUp: 'rejoin' },
  },
  {
    name: 'idle-rejoin',
    description: 're-joins the group on registration with nothing queued',
    breaks: ['rejoin.idle'],
    ncase: 'N15',
    behaviour: { rejoinOnline: 'always' },
  },
  {
    name: 'setup-always-active',
    description: 'answers a=setup:active whatever the offer says (also when the offer has no a=setup)',
    breaks: ['msrp.setup.answer'],
    ncase: 'N3',
    behaviour: { setupAnswer: 'always-active' },
  },
  {
    name: 'no-200-to-send',
    description: 'never answers MSRP SEND chunks that carry content (the empty bind SEND still gets its 200)',
    breaks: ['msrp.send-200'],
    behaviour: { msrpRespond: 'never-to-content' },
  },
  {
    name: 'responds-to-report',
    description: 'answers MSRP REPORT requests with 200',
    breaks: ['msrp.report-unanswered'],
    ncase: 'N17',
    behaviour: { msrpRespondToReport: true },
  },
  {
    name: 'ignore-failure-report-no',
    description: 'answers 200 to SEND chunks even with Failure-Report: no',
    breaks: ['msrp.failure-report-no'],
    ncase: 'N18',
    behaviour: { msrpRespond: 'always' },
  },
  {
    name: 'no-success-report',
    description: 'sends no REPORT although the SEND asked Success-Report: yes',
    breaks: ['msrp.success-report'],
    ncase: 'N24',
    behaviour: { msrpReports: 'never' },
  },
  {
    name: 'imdn-missing-disposition',
    description: 'IMDN without Content-Disposition: notification',
    breaks: ['imdn.envelope.content-disposition'],
    behaviour: { imdnContentDisposition: false },
  },
  {
    name: 'imdn-to-group',
    description: 'IMDN CPIM To is the group identity instead of the original sender',
    breaks: ['imdn.envelope.to'],
    behaviour: { imdnTo: 'group' },
  },
  // --- added for a mutant per rule (issue 8, issue 12) ---
  {
    name: 'icsi-exact-bytes',
    description: 'recognises the CPM feature tag only by the exact bytes urn%3Aurn-7%3A…, so lower-case %3a is answered 488',
    breaks: ['invite.icsi-variant-unconfirmed'],
    ncase: 'N4',
    behaviour: { icsiMatch: 'exact-urn-bytes' },
  },
  {
    name: 'no-compact-accept-contact',
    description: 'does not read the compact header form a: for Accept-Contact, so such an INVITE is answered 488',
    breaks: ['invite.icsi-variant'],
    ncase: 'N4',
    behaviour: { icsiMatch: 'long-form-only' },
  },
  {
    name: 'drops-unrecognised-invite',
    description: 'drops an INVITE it does not recognise as CPM (exact-byte feature tag match) without any final response',
    breaks: ['invite.final-response'],
    ncase: 'N4',
    behaviour: { icsiMatch: 'exact-urn-bytes', unrecognisedInvite: 'ignore' },
  },
  {
    name: 'session-level-wins',
    description: 'lets a session-level direction attribute override the media level (RFC 8866 §6.7 says the opposite)',
    breaks: ['invite.accepted', 'reject.status'],
    behaviour: { directionScope: 'session-first' },
  },
  {
    name: 'answer-extra-media',
    description: 'adds an m=audio line to its SDP answer that the offer did not have',
    breaks: ['sdp.answer.media'],
    behaviour: { answer: 'extra-media' },
  },
  {
    name: 'answer-port-zero',
    description: 'accepts with 2xx but rejects the MSRP stream with m= port 0',
    breaks: ['sdp.answer.port', 'msrp.bound'],
    behaviour: { answer: 'port-zero' },
  },
  {
    name: 'answer-recvonly',
    description: 'accepts a sendrecv offer with an a=recvonly answer (RFC 3264 allows it, the CR does not)',
    breaks: ['sdp.answer.direction'],
    behaviour: { answer: 'recvonly' },
  },
  {
    name: 'answer-no-path',
    description: 'SDP answer without a=path (a PF that must connect cannot)',
    breaks: ['sdp.answer.path', 'msrp.setup.connection'],
    behaviour: { answer: 'no-path' },
  },
  {
    name: 'answer-no-cpim',
    description: 'a=accept-types without message/cpim',
    breaks: ['sdp.answer.accept-types'],
    behaviour: { answer: 'no-cpim' },
  },
  {
    name: 'answer-wildcard-accept-types',
    description: 'a=accept-types:* (message/cpim only by wildcard)',
    breaks: ['sdp.answer.accept-types-wildcard'],
    behaviour: { answer: 'wildcard-accept-types' },
  },
  {
    name: 'answer-no-imdn-wrapped',
    description: 'a=accept-wrapped-types without message/imdn+xml',
    breaks: ['sdp.answer.imdn-wrapped'],
    ncase: 'N12',
    behaviour: { answer: 'no-imdn-wrapped' },
  },
  {
    name: 'answer-setup-actpass',
    description: 'answers a=setup:actpass, which only an offer may say (RFC 4145 §4.1)',
    breaks: ['sdp.answer.setup', 'msrp.setup.answer'],
    behaviour: { answer: 'setup-actpass' },
  },
  {
    name: 'msrp-dead-port',
    description: 'answers a=setup:passive with an a=path where nothing listens, so the MSRP session never comes up',
    breaks: ['msrp.bound', 'msrp.setup.connection'],
    behaviour: { answer: 'dead-port' },
  },
  {
    name: 'subscribe-after-reject',
    description: 'answers 488 and then subscribes to the group all the same',
    breaks: ['reject.no-follow-up'],
    behaviour: { subscribeOnReject: true },
  },
  {
    name: 'bye-after-reject',
    description: 'answers 488 and then sends a BYE for it, outside any dialog',
    breaks: ['reject.side-effects'],
    behaviour: { byeOnReject: true },
  },
  {
    name: 'reject-bad-warning',
    description: '488 with a Warning header that is only a quoted text (no warn-code, no warn-agent)',
    breaks: ['reject.warning-syntax'],
    behaviour: { rejectWarning: 'malformed' },
  },
  {
    name: 'subscribe-wrong-event',
    description: 'subscribes with Event: presence instead of conference',
    breaks: ['sub.event', 'nothing-to-send.subscribed', 'with-queued.subscribed'],
    behaviour: { subscribeEvent: 'presence' },
  },
  {
    name: 'subscribe-own-aor',
    description: 'sends the conference SUBSCRIBE to its own AOR instead of the group session identity',
    breaks: ['sub.target', 'nothing-to-send.subscribed', 'with-queued.subscribed'],
    ncase: 'N23',
    behaviour: { subscribeTarget: 'own-aor' },
  },
  {
    name: 'impatient-bye',
    description: 'hangs up when no deferred message arrived within 700 ms of the session (does not wait while the PF delays)',
    breaks: ['session.kept-while-delayed'],
    behaviour: { byeIfNothingReceivedMs: 700 },
  },
  {
    name: 'needs-state-attribute',
    description: 'answers 400 to a conference-info document without the (schema-optional) state attribute',
    breaks: ['notify.answered'],
    ncase: 'N7',
    behaviour: { conferenceInfo: 'rejects-without-state' },
  },
  {
    name: 'leaves-without-conference-description',
    description: 'fails on a conference-info without conference-description and leaves the session',
    breaks: ['notify.session-kept'],
    ncase: 'N28',
    behaviour: { conferenceInfo: 'leaves-without-description' },
  },
  {
    name: 'bye-on-404',
    description: 'hangs up the deferred-delivery session when its SUBSCRIBE is answered 404',
    breaks: ['sub404.no-bye'],
    behaviour: { on404: 'bye' },
  },
  {
    name: 'ignores-404',
    description: 'treats a 404 to SUBSCRIBE as a generic failure: the group stays active',
    breaks: ['sub404.ut-inactive'],
    ncase: 'N6',
    behaviour: { on404: 'ignore' },
  },
  {
    name: 'waits-for-pf-after-404',
    description: 'with no session up it keeps a composed message until the PF invites, instead of re-joining',
    breaks: ['sub404.rejoin-later'],
    behaviour: { sendWithoutSession: 'wait-for-pf' },
  },
  {
    name: 'resubscribe-on-noresource',
    description: 'subscribes again after NOTIFY terminated;reason=noresource',
    breaks: ['noresource.no-resubscribe'],
    behaviour: { onNoresource: 'resubscribe' },
  },
  {
    name: 'imdn-status-failed',
    description: 'delivery notification with <failed/> for a message it received (the false pass of issue 8)',
    breaks: ['imdn.status'],
    behaviour: { imdnStatus: 'failed' },
  },
  {
    name: 'imdn-status-forbidden',
    description: 'delivery notification with <forbidden/> for a message it received',
    breaks: ['imdn.status'],
    behaviour: { imdnStatus: 'forbidden' },
  },
  {
    name: 'imdn-status-error',
    description: 'delivery notification with <error/> for a message it received',
    breaks: ['imdn.status'],
    behaviour: { imdnStatus: 'error' },
  },
  {
    name: 'display-on-receipt',
    description: 'sends the display notification when the message arrives, before the user displayed it',
    breaks: ['imdn.kind'],
    behaviour: { displayNotification: 'on-receipt' },
  },
  {
    name: 'imdn-wrong-recipient',
    description: 'IMDN XML <recipient-uri> is the original sender, neither the client nor the IM\'s CPIM To',
    breaks: ['imdn.fields.recipient-uri'],
    behaviour: { imdnRecipient: 'sender' },
  },
  {
    name: 'imdn-wrong-original-recipient',
    description: 'IMDN XML <original-recipient-uri> is the client itself, not the original To',
    breaks: ['imdn.fields.original-recipient-uri'],
    behaviour: { imdnOriginalRecipient: 'client' },
  },
  {
    name: 'imdn-schema-invalid',
    description: 'IMDN XML with <datetime> after <recipient-uri> (out of RFC 5438 schema order)',
    breaks: ['imdn.fields.schema'],
    behaviour: { imdnXml: 'misordered' },
  },
  {
    name: 'imdn-not-cpim-wrapped',
    description: 'sends the IMDN XML as the MSRP body (Content-Type: message/imdn+xml) without the CPIM envelope',
    breaks: ['imdn.envelope.parsable'],
    behaviour: { imdnEnvelopeFault: 'not-cpim-wrapped' },
  },
  {
    name: 'imdn-bad-header-line',
    description: 'IMDN CPIM header block with a line that is not Name ": " Value',
    breaks: ['imdn.envelope.syntax'],
    behaviour: { imdnEnvelopeFault: 'bad-header-line' },
  },
  {
    name: 'imdn-wrong-namespace',
    description: 'IMDN CPIM NS binds the imdn prefix to urn:ietf:params:imdn:v1 instead of urn:ietf:params:imdn (so its imdn.Message-ID is in no known namespace)',
    breaks: ['imdn.envelope.ns', 'imdn.envelope.message-id'],
    behaviour: { imdnEnvelopeFault: 'wrong-namespace' },
  },
  {
    name: 'imdn-reuses-message-id',
    description: 'the IMDN carries the original message\'s imdn.Message-ID as its own',
    breaks: ['imdn.envelope.message-id'],
    behaviour: { imdnEnvelopeFault: 'reuses-message-id' },
  },
  {
    name: 'imdn-anonymous-from',
    description: 'IMDN CPIM From is sip:anonymous@anonymous.invalid',
    breaks: ['imdn.envelope.from'],
    behaviour: { imdnEnvelopeFault: 'anonymous-from' },
  },
  {
    name: 'imdn-bad-cpim-datetime',
    description: 'IMDN CPIM DateTime not RFC 3339 (space instead of T, no time zone)',
    breaks: ['imdn.envelope.datetime', 'imdn.envelope.syntax'],
    behaviour: { imdnEnvelopeFault: 'bad-datetime' },
  },
  {
    name: 'imdn-requests-imdn',
    description: 'the IMDN itself carries imdn.Disposition-Notification',
    breaks: ['imdn.envelope.no-disposition-notification'],
    behaviour: { imdnEnvelopeFault: 'requests-imdn' },
  },
  {
    name: 'imdn-wrong-content-type',
    description: 'IMDN MIME Content-Type application/xml instead of message/imdn+xml',
    breaks: ['imdn.envelope.content-type'],
    behaviour: { imdnEnvelopeFault: 'wrong-content-type' },
  },
  {
    name: 'imdn-disposition-in-cpim',
    description: 'Content-Disposition: notification in the CPIM header block instead of the MIME headers',
    breaks: ['imdn.envelope.disposition-placement'],
    ncase: 'N22',
    behaviour: { imdnEnvelopeFault: 'disposition-in-cpim' },
  },
  {
    name: 'close-msrp-after-chunked',
    description: 'closes the MSRP connection right after a chunked message (a chat stream that crashed), before the PF\'s BYE',
    breaks: ['session.kept'],
    behaviour: { closeMsrpAfterChunked: true },
  },
  {
    name: 'sends-after-bye',
    description: 'on the PF\'s BYE sends one more message on the MSRP session before answering',
    breaks: ['bye.media-stops'],
    ncase: 'N14',
    behaviour: { sendAfterBye: true },
  },
  {
    name: 'refresh-at-expiry',
    description: 'refreshes the subscription only when it expires (RFC 6665 §4.1.2.1: before)',
    breaks: ['sub.refreshed'],
    behaviour: { refreshAt: 1 },
  },
  {
    name: 'refresh-by-new-subscribe',
    description: 'refreshes by a new initial SUBSCRIBE instead of in the subscription\'s dialog',
    breaks: ['sub.refreshed', 'sub.single'],
    behaviour: { refreshBy: 'new-subscribe' },
  },
  {
    name: 'msrp-response-paths-copied',
    description: 'MSRP 200 responses copy To-Path and From-Path from the SEND instead of swapping them',
    breaks: ['msrp.response.form'],
    behaviour: { msrpResponsePaths: 'copied' },
  },
  {
    name: 'rejoin-without-feature-tag',
    description: 're-join INVITE without the CPM feature tag in Accept-Contact',
    breaks: ['rejoin.form'],
    behaviour: { rejoinFeatureTag: false },
  },
  {
    name: 'rejoin-forgets-queued',
    description: 're-joins the group with a queued message but never sends it',
    breaks: ['rejoin.message-follows'],
    behaviour: { rejoinSendsQueued: false },
  },
] as const satisfies readonly Mutant[];

export const MUTANTS: readonly Mutant[] = MUTANT_TABLE;

/** Every rule id some mutant declares, as a type: harness/runner/mutant-rules.ts checks them against the rule table. */
export type MutantRule = (typeof MUTANT_TABLE)[number]['breaks'][number];

const byName = new Map<string, Mutant>(MUTANTS.map((m) => [m.name, m]));

export function findMutant(name: string): Mutant | undefined {
  return byName.get(name);
}

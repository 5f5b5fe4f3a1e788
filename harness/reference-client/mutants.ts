/**
 * Named mutants of the reference client: each breaks one rule the harness must catch. A mutant
 * is only a set of Behaviour knobs; `breaks` lists the REQUIREMENTS.md IDs it violates and
 * `ncase` the PROTOCOLS.md §4 failure mode it reproduces.
 */
import type { Behaviour } from './behaviour.ts';

export interface Mutant {
  readonly name: string;
  readonly description: string;
  readonly breaks: readonly string[];
  readonly ncase?: string;
  readonly behaviour: Partial<Behaviour>;
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'accept-sendonly',
    description: '2xx to an offer whose effective MSRP direction is sendonly',
    breaks: ['7.3.12-1a-ii'],
    ncase: 'N1',
    behaviour: { acceptDirections: ['sendrecv', 'sendonly'] },
  },
  {
    name: 'accept-recvonly',
    description: '2xx to an offer whose effective MSRP direction is recvonly',
    breaks: ['7.3.12-1a-ii'],
    ncase: 'N1',
    behaviour: { acceptDirections: ['sendrecv', 'recvonly'] },
  },
  {
    name: 'accept-inactive',
    description: '2xx to an offer whose effective MSRP direction is inactive',
    breaks: ['7.3.12-1a-ii'],
    ncase: 'N1',
    behaviour: { acceptDirections: ['sendrecv', 'inactive'] },
  },
  {
    name: 'ignore-session-direction',
    description: 'looks at media-level direction only (session-level a=inactive etc. ignored, default sendrecv)',
    breaks: ['7.3.12-1a-ii'],
    ncase: 'N2',
    behaviour: { directionScope: 'media-only' },
  },
  {
    name: 'reject-486',
    description: 'rejects a non-sendrecv offer with 486 Busy Here instead of 488',
    breaks: ['7.3.12-1a-ii'],
    behaviour: { rejectStatus: 486 },
  },
  {
    name: 'reject-415',
    description: 'rejects a non-sendrecv offer with 415 Unsupported Media Type instead of 488',
    breaks: ['7.3.12-1a-ii'],
    ncase: 'N25',
    behaviour: { rejectStatus: 415 },
  },
  {
    name: 'reject-no-warning',
    description: '488 without a Warning header',
    breaks: ['7.3.12-1a-ii-warning'],
    behaviour: { rejectWarning: false },
  },
  {
    name: 'literal-sendrecv',
    description: '488 when the offer has no direction attribute at all (literal reading of the CR)',
    breaks: ['7.3.12-1a-i-absent'],
    ncase: 'N21',
    behaviour: { noDirection: 'literal' },
  },
  {
    name: 'never-subscribe',
    description: 'never subscribes to the conference event package',
    breaks: ['7.3.12-1b-sub', '7.3.12-1c-iii', '7.3.12-1d-ii'],
    behaviour: { subscribe: 'never' },
  },
  {
    name: 'subscribe-before-ack',
    description: 'sends the conference SUBSCRIBE together with its 2xx, before the ACK arrives',
    breaks: ['7.3.12-1b-sub'],
    behaviour: { subscribe: 'before-ack' },
  },
  {
    name: 'resubscribe-after-404',
    description: 'treats 404 to SUBSCRIBE as transient and sends a new initial SUBSCRIBE',
    breaks: ['7.3.12-1b-i-b'],
    ncase: 'N5',
    behaviour: { on404: 'resubscribe' },
  },
  {
    name: 'imdn-wrong-message-id',
    description: 'IMDN XML <message-id> is the IMDN\'s own id, not the original imdn.Message-ID',
    // A notification naming another message is not the requested IMDN either (1b-ii, 1c-ii).
    breaks: ['imdn-fields', '7.3.12-1b-ii', '7.3.12-1c-ii'],
    behaviour: { imdnXmlMessageId: 'own' },
  },
  {
    name: 'imdn-receipt-time',
    description: 'IMDN XML <datetime> is the receipt time, not the original DateTime',
    breaks: ['imdn-fields'],
    ncase: 'N10',
    behaviour: { imdnDateTime: 'receipt' },
  },
  {
    name: 'imdn-via-sip-message',
    description: 'sends IMDNs as SIP MESSAGE (pager mode) to the original sender via the PF',
    breaks: ['7.3.12-1a-i-2', '7.3.12-1b-ii', '7.3.12-1c-ii'],
    ncase: 'N11',
    behaviour: { imdnRoute: 'sip-message' },
  },
  {
    name: 'no-imdn',
    description: 'sends no IMDN at all',
    breaks: ['7.3.12-1a-i-2', '7.3.12-1b-ii', '7.3.12-1c-ii'],
    ncase: 'N26',
    behaviour: { imdnRoute: 'none' },
  },
  {
    name: 'unsolicited-imdn',
    description: 'sends a delivery IMDN although none was requested',
    breaks: ['imdn-not-requested'],
    ncase: 'N9',
    behaviour: { imdnWhen: 'always' },
  },
  {
    name: 'imdn-per-chunk',
    description: 'sends a delivery IMDN for every SEND chunk instead of once per message',
    breaks: ['imdn-once'],
    behaviour: { imdnPer: 'chunk' },
  },
  {
    name: 'bye-before-pf',
    description: 'hangs up (BYE) itself once the deferred messages are handled',
    breaks: ['7.3.12-1c-i'],
    ncase: 'N13',
    behaviour: { byeAfterDelivery: true },
  },
  {
    name: 'ignore-pf-bye',
    description: 'does not answer the PF\'s BYE and keeps the MSRP session open',
    breaks: ['7.3.12-1c-i'],
    ncase: 'N14',
    behaviour: { pfByeResponse: null },
  },
  {
    name: 'subscription-lapses',
    description: 'never refreshes the conference subscription',
    breaks: ['7.3.12-1d-ii'],
    behaviour: { refreshAt: null },
  },
  {
    name: 'rejoin-while-session-up',
    description: 'sends a composed message by a new re-join INVITE although the PF session is up',
    breaks: ['7.3.12-1d-i', '7.3.12-1a-i-3'],
    behaviour: { sendWhileSessionUp: 'rejoin' },
  },
  {
    name: 'idle-rejoin',
    description: 're-joins the group on registration with nothing queued',
    breaks: ['7.3.12-NOTE'],
    ncase: 'N15',
    behaviour: { rejoinOnline: 'always' },
  },
  {
    name: 'setup-always-active',
    description: 'answers a=setup:active whatever the offer says (also when the offer has no a=setup)',
    breaks: ['msrp-setup'],
    ncase: 'N3',
    behaviour: { setupAnswer: 'always-active' },
  },
  {
    name: 'no-200-to-send',
    description: 'never answers MSRP SEND chunks that carry content (the empty bind SEND still gets its 200)',
    breaks: ['msrp-response', '7.3.12-1a-i-1'],
    behaviour: { msrpRespond: 'never-to-content' },
  },
  {
    name: 'responds-to-report',
    description: 'answers MSRP REPORT requests with 200',
    breaks: ['msrp-report'],
    ncase: 'N17',
    behaviour: { msrpRespondToReport: true },
  },
  {
    name: 'ignore-failure-report-no',
    description: 'answers 200 to SEND chunks even with Failure-Report: no',
    breaks: ['msrp-response'],
    ncase: 'N18',
    behaviour: { msrpRespond: 'always' },
  },
  {
    name: 'no-success-report',
    description: 'sends no REPORT although the SEND asked Success-Report: yes',
    breaks: ['msrp-report'],
    ncase: 'N24',
    behaviour: { msrpReports: 'never' },
  },
  {
    name: 'imdn-missing-disposition',
    description: 'IMDN without Content-Disposition: notification',
    breaks: ['imdn-envelope'],
    behaviour: { imdnContentDisposition: false },
  },
  {
    name: 'imdn-to-group',
    description: 'IMDN CPIM To is the group identity instead of the original sender',
    breaks: ['imdn-envelope'],
    behaviour: { imdnTo: 'group' },
  },
];

const byName = new Map(MUTANTS.map((m) => [m.name, m]));

export function findMutant(name: string): Mutant | undefined {
  return byName.get(name);
}

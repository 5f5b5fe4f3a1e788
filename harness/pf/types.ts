/**
 * The API of the fake CPM Participating Function (PF): what test cases in `scenarios/` drive.
 * The PF plays the network (registrar, group focus, conference notifier, deferred delivery) and
 * records everything it sees as typed events. It never judges: verdicts are the scenarios' job.
 */
import type {
  Binding,
  Clock,
  Diagnostic,
  Dialog,
  Direction as SdpDirection,
  FaultBoundary,
  MsrpFrame,
  MsrpRequest,
  MsrpResponse,
  MsrpSession,
  ParsedCpim,
  ParsedImdn,
  ParsedSdp,
  PeerWatch,
  PfConfig,
  SipRequest,
  SipResponse,
  TraceSink,
  TransportAddress,
} from './lower.ts';

export type { Binding, Dialog, MsrpSession, ParsedCpim, ParsedImdn };

export type Direction = SdpDirection;

export type ParticipantStatus = 'connected' | 'disconnected';

export interface Participant {
  uri: string;
  displayName?: string;
  status: ParticipantStatus;
}

export interface GroupSpec {
  /** Group Session Identity: From, P-Asserted-Identity and Contact (with isfocus) of the PF's INVITE; SUBSCRIBE target. */
  identity: string;
  conversationId: string;
  contributionId: string;
  subject: string;
  /** The last participants (7.3.12-1b-i-c): NOTIFY bodies and the mode-B resource list. */
  participants: Participant[];
}

export interface PfOptions {
  config: PfConfig;
  trace: TraceSink;
  /** Trace actor name; default 'pf'. */
  actor?: string;
  group?: Partial<GroupSpec>;
  /** For SIP timers and waits; default the boundary's clock, else the system clock. */
  clock?: Clock;
  /**
   * The test case's fault boundary (core/scope.ts): every socket handler, timer and detached
   * promise of the PF is guarded by it, so a fault ends this case, not the run.
   */
  boundary?: FaultBoundary;
  /** Watches the client under test: message rate, connections, broken SIP and MSRP streams. */
  watch?: PeerWatch;
  /**
   * Call-IDs of earlier test cases (a client that stays up on fixed ports): a request in one of
   * them — a late retransmission, a refresh of an old subscription — is answered 481 and logged as
   * `stale-request`, so it can never count as this case's behaviour.
   */
  staleCallIds?: ReadonlySet<string>;
  /** Keep the event history (default true); the load mode turns it off so memory stays per live session. */
  retainEvents?: boolean;
}

export type ConferenceDocumentVariant = 'standard' | 'no-state-attribute' | 'user-without-entity' | 'no-conference-description';

export interface ConferencePolicy {
  /** active: 200 + NOTIFY (full) | inactive-404: 404, no dialog | notify-then-terminate: 200 + NOTIFY full (last participants) + NOTIFY terminated;reason=noresource (1b-i-c mode A). */
  mode: 'active' | 'inactive-404' | 'notify-then-terminate';
  /** Expires in the 200 and in Subscription-State (short subscription for 1d-ii); default: what the client asked, capped at 3600. */
  grantExpires?: number;
  /** N7/N28 robustness variants of the conference-info document. */
  documentVariant?: ConferenceDocumentVariant;
}

export interface InviteSpec {
  /** Default { media: 'sendrecv' }; null or absent at a level = no direction attribute there. */
  direction?: { session?: Direction | null; media?: Direction | null };
  /** Default 'actpass'; null = omit a=setup (RFC 4145 default: the PF is active, N3); 'active' = the PF connects to the client's a=path (N29). */
  setup?: 'actpass' | 'active' | 'passive' | null;
  /** Raw extra m= blocks (e.g. `m=audio 49170 RTP/AVP 0`), appended after the MSRP media. */
  extraMedia?: string[];
  extraSdpAttributes?: { level: 'session' | 'media'; line: string }[];
  /** m=message 0 (disabled stream, E9). */
  msrpPortZero?: boolean;
  /** full = Conversation-ID, Contribution-ID, Subject, Referred-By; minimal = only what H1/H2 need. Default 'full'. */
  headerSet?: 'full' | 'minimal';
  /** Referred-By value (the original sender by default in 'full'); null = omit. */
  referredBy?: string | null;
  /** N4 variants; default `Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"`. */
  acceptContact?: { headerName?: string /* 'Accept-Contact' | 'a' */; value?: string };
  /** From URI; default the group identity. N23: From ≠ Contact. */
  fromUri?: string;
  /** Contact URI (isfocus and the ICSI are appended); default the group identity. */
  contactUri?: string;
  /** 1b-i-c mode B: multipart/mixed with application/sdp and application/resource-lists+xml (the last participants). */
  participantsInBody?: boolean;
  /** ACK a 2xx automatically (default true). A non-2xx final is always ACKed by the transaction. */
  autoAck?: boolean;
  /**
   * Hold the ACK for a 2xx this long (2xx retransmissions meanwhile go unanswered), so what the
   * client does before the session is confirmed becomes visible (1b-sub: SUBSCRIBE before ACK).
   */
  ackDelayMs?: number;
}

export interface InviteResult {
  request: SipRequest;
  provisional: SipResponse[];
  final: SipResponse | null;
  failure?: { kind: 'timeout' | 'final-timeout' | 'transport-error'; message: string };
  /** The ACK the PF sent (2xx: by the core; non-2xx: inside the transaction). */
  ack?: SipRequest;
  /** The client's SDP answer (2xx with a body). */
  answer?: ParsedSdp;
  /** Present for an accepted session (2xx with a usable MSRP answer, or any 2xx: see msrp). */
  session?: DeferredSession;
  /** Event-log mark taken before the INVITE was sent: `pf.events.since(result.startSeq)`. */
  startSeq: number;
}

export type DispositionKind = 'positive-delivery' | 'negative-delivery' | 'display';

export interface DeferredMessageSpec {
  /** text/plain content; default a short sentence. */
  text?: string;
  /** CPIM From; default config.identities.originalSender. */
  from?: string;
  /** CPIM To; default the group identity. */
  to?: string;
  /** CPIM DateTime; default 1 day ago, RFC 3339. */
  dateTime?: string;
  /** Default a fresh token. */
  imdnMessageId?: string;
  /** Default ['positive-delivery','display']; null = no imdn.Disposition-Notification header. */
  disposition?: DispositionKind[] | null;
  /** Chunk size in octets; default: one chunk. */
  chunkSize?: number;
  /** Byte-Range `start-*` + `/*` on every chunk (RFC 4975 §7.1 unknown end and total). */
  unknownTotal?: boolean;
  successReport?: 'yes' | 'no' | null;
  failureReport?: 'yes' | 'no' | 'partial' | null;
}

export interface ChunkOutcome {
  transactionId: string;
  byteRange: string;
  response: MsrpResponse | null;
  outcome: 'response' | 'timeout' | 'not-expected' | 'closed';
}

export interface DeliveryResult {
  imdnMessageId: string;
  msrpMessageId: string;
  /** The exact CPIM body sent. */
  cpim: Buffer;
  dateTime: string;
  chunks: ChunkOutcome[];
  /** Event-log mark taken before the first chunk. */
  startSeq: number;
  /** Set when the session was not ready (no bound MSRP connection): nothing was sent. */
  failure?: string;
}

export interface ReportSpec {
  messageId: string;
  byteRange: string;
  /** Status header value; default `000 200 OK`. */
  status?: string;
}

export type SendOutcomeValue = { ok: true; bytes: Buffer } | { ok: false; reason: string };

export type SessionState = 'established' | 'terminated-by-pf' | 'terminated-by-client';

export interface DeferredSession {
  readonly id: string;
  readonly dialog: Dialog;
  readonly msrp: MsrpSession | null;
  /** The PF's MSRP URI (its a=path). */
  readonly localPath: string;
  /** The client's a=path URIs from its SDP. */
  readonly remotePath: readonly string[];
  /** Who opens the MSRP connection after negotiation. */
  readonly pfRole: 'active' | 'passive';
  readonly state: SessionState;
  /** MSRP connected and bound (either direction per a=setup), within the window. */
  ready(withinMs: number): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** A CPIM-wrapped deferred group message with IMDN request; only after the session is bound (H5). */
  deliver(spec?: DeferredMessageSpec): Promise<DeliveryResult>;
  /** A REPORT frame (e.g. to see whether the client answers it, N17). */
  sendReport(spec: ReportSpec): Promise<SendOutcomeValue & { transactionId?: string }>;
  /** Exact bytes on the MSRP connection, for odd frames. */
  sendMsrpRaw(bytes: Buffer): Promise<SendOutcomeValue>;
  /** In-dialog BYE (H6); closes the MSRP connection after the BYE transaction completes. */
  bye(options?: { headers?: { name: string; value: string }[] }): Promise<{ response: SipResponse | null; failure?: string }>;
}

export type PfEventBody =
  /** One per binding change; expires 0 = de-registered. A rejected REGISTER is a client-request. */
  | { type: 'register'; request: SipRequest; binding: Binding; expires: number }
  /** subscriptionId is '' when no subscription exists (404, 489, 481). */
  | { type: 'subscribe'; request: SipRequest; initial: boolean; answeredWith: number; subscriptionId: string; matchedGroup: boolean; expires: number }
  | { type: 'notify-sent'; request: SipRequest; subscriptionId: string }
  | { type: 'notify-answered'; request: SipRequest; response: SipResponse | null; subscriptionId: string; failure?: string }
  /** Re-join or any client INVITE (incl. re-INVITE in dialog). */
  | { type: 'client-invite'; request: SipRequest; answeredWith: number; session?: DeferredSession; inDialog: boolean }
  | { type: 'client-bye'; request: SipRequest; sessionId?: string }
  /** MESSAGE (pager IMDNs!), OPTIONS, CANCEL, anything else. */
  | { type: 'client-request'; request: SipRequest; answeredWith: number }
  /** Requests the PF sent outside NOTIFY: INVITE, ACK, BYE. */
  | { type: 'request-sent'; request: SipRequest; sessionId?: string }
  /** Every response to PF INVITEs incl. 488 retransmissions after ACK and 2xx retransmissions. */
  | { type: 'invite-response'; response: SipResponse; retransmission: boolean }
  | { type: 'sip-invalid'; diagnostics: Diagnostic[]; bytes: Buffer }
  /** A request in a dialog or transaction of an earlier test case (see PfOptions.staleCallIds). */
  | { type: 'stale-request'; request: SipRequest; answeredWith: number }
  | { type: 'msrp-connection'; sessionId: string; state: 'connected' | 'accepted' | 'closed'; by?: 'peer' | 'local'; reason?: string }
  | {
      type: 'msrp-message';
      sessionId: string;
      contentType: string;
      body: Buffer;
      messageId: string;
      chunks: number;
      transactionIds: string[];
      cpim?: ParsedCpim;
      imdn?: ParsedImdn;
      diagnostics: Diagnostic[];
    }
  | { type: 'msrp-report'; sessionId: string; frame: MsrpRequest }
  /** Responses the client sent (incl. unexpected ones, e.g. to a REPORT). */
  | { type: 'msrp-response'; sessionId: string; frame: MsrpResponse }
  /** Every frame the client sent; frame null = bytes that were not a frame (raw has them). */
  | { type: 'msrp-frame-in'; sessionId: string; frame: MsrpFrame | null; raw: Buffer; diagnostics: Diagnostic[] };

export type PfEventType = PfEventBody['type'];

/** `seq`: log order (1-based); `at`: clock time in ms. */
export type PfEvent = { seq: number; at: number } & PfEventBody;

/** Narrow an event by type: `events.waitFor(ofType('subscribe'), …)` yields `PfEventOf<'subscribe'>`. */
export type PfEventOf<T extends PfEventType> = PfEvent & { type: T };

export interface PfEventLog {
  all(): readonly PfEvent[];
  /** The seq the next event will get: `since(mark)` returns everything logged after this call. */
  mark(): number;
  since(mark: number): readonly PfEvent[];
  /** First event matching (already logged since `since`, or arriving within `within` ms), else null. Never hangs. */
  waitFor(predicate: (e: PfEvent) => boolean, options: { within: number; since?: number }): Promise<PfEvent | null>;
  /** Waits the WHOLE window; returns the first matching event (a violation) or null. For "must not happen" checks. */
  expectNone(predicate: (e: PfEvent) => boolean, options: { within: number; since?: number }): Promise<PfEvent | null>;
  /** Every event as it is appended (load mode, benches); returns the unsubscribe function. */
  onEvent(listener: (e: PfEvent) => void): () => void;
}

export interface NotifyOptions {
  /** Subscription-State; default 'active'. */
  state?: 'active' | 'pending' | 'terminated';
  /** expires= for active/pending; default the remaining granted time. */
  expires?: number;
  /** reason= for terminated (noresource, deactivated, timeout, …). */
  reason?: string;
  /** conference-info document state; default 'full'. */
  documentState?: 'full' | 'partial';
  /** Participants listed; default the group's. In a partial document a participant may be marked deleted. */
  participants?: (Participant & { deleted?: boolean })[];
  documentVariant?: ConferenceDocumentVariant;
  /** Exact body instead of a built document; null = no body. */
  body?: Buffer | null;
}

export interface NotifyResult {
  request: SipRequest;
  response: SipResponse | null;
  failure?: string;
}

export interface SubscriptionInfo {
  readonly id: string;
  readonly dialog: Dialog;
  /** Absolute clock time (ms) the subscription expires. */
  readonly expiresAt: number;
  readonly state: 'active' | 'terminated';
  /** Next conference-info version number. */
  readonly version: number;
}

/** What `ParticipatingFunction` (harness/pf/participating-function.ts) implements. */
export interface ParticipatingFunctionApi {
  /** Where the client REGISTERs: the PF's own listen address over the run's transport. */
  readonly registrar: TransportAddress;
  readonly group: GroupSpec;
  readonly events: PfEventLog;
  readonly config: PfConfig;
  /** Mutable between steps. */
  conference: ConferencePolicy;
  /** Client-initiated INVITE to the group identity: accept (200 + MSRP, then a DeferredSession) or answer with a status. */
  rejoin: { answer: 'accept' | number };
  /** The client's binding (registered or adopted) right now; resolves at once when one exists. */
  waitForRegistration(withinMs: number): Promise<Binding | null>;
  /**
   * Installs a binding for `config.identities.clientAor` without a REGISTER: a client at a known
   * contact (`sip:…` or `<sip:…>;params`), or a registration carried over from the previous case's
   * PF. Not logged as a `register` event (the client sent nothing). Throws HarnessFailure
   * (PF_BAD_CONTACT) when the contact is not a usable SIP URI.
   */
  adoptBinding(contact: string): Binding;
  /** The binding INVITEs go to (the newest of registered and adopted), or null. */
  currentBinding(): Binding | null;
  /**
   * To the client's registered contact, over config.transport; with `config.proxy` it goes to the
   * proxy with `Route: <sip:proxy;lr>` (RFC 3261 §8.1.2), and the ACK for a 2xx follows the dialog's route set.
   */
  invite(spec?: InviteSpec): Promise<InviteResult>;
  /** Extra NOTIFYs (partial, terminated, N8 variants). */
  sendNotify(subscriptionId: string, options?: NotifyOptions): Promise<NotifyResult>;
  subscriptions(): readonly SubscriptionInfo[];
  /** Every Call-ID this PF sent or received a request in (to mark them stale for the next case). */
  callIds(): readonly string[];
  /** The current binding's Contact as the client registered it (feature tags kept), for the next case's PF to adopt; null when unbound. */
  carriedContact(): string | null;
  /**
   * The case is over, the client stays up: every active conference subscription gets NOTIFY
   * terminated;reason=noresource (RFC 6665 §4.1.3: the resource is gone, do not retry it), so the
   * client's next session subscribes afresh. Never throws; settles when every NOTIFY is answered or timed out.
   */
  endCase(): Promise<void>;
  /** Closes everything; never throws; no leaked handles. */
  close(): Promise<void>;
}

/**
 * Every decision the reference client makes that a real client has been seen to get wrong, as one
 * typed knob. The defaults are the conforming behaviour; a mutant (mutants.ts) overrides a few
 * knobs, and the decision functions (decisions.ts) read them. No monkey patching anywhere.
 */
import type { Direction } from '../sdp/types.ts';

export interface Behaviour {
  // --- the PF-initiated INVITE (7.3.12-1a) ---
  /**
   * How the CPM feature tag is recognised: `rfc` (any legal spelling), `exact-urn-bytes` (the
   * canonical percent-encoded URN as a substring, N4 rust-rcs), `long-form-only` (the compact `a:`
   * header not read).
   */
  readonly icsiMatch: 'rfc' | 'exact-urn-bytes' | 'long-form-only';
  /** An INVITE not recognised as a CPM group INVITE: rejected with 488, or dropped without any answer. */
  readonly unrecognisedInvite: 'reject' | 'ignore';
  /** Effective directions that get a 2xx; everything else is rejected. */
  readonly acceptDirections: readonly Direction[];
  /**
   * `rfc8866`: media level > session level > default (RFC 8866 §6.7); `media-only`: session level
   * ignored (N2); `session-first`: a session-level attribute overrides the media level.
   */
  readonly directionScope: 'rfc8866' | 'media-only' | 'session-first';
  /** No direction attribute anywhere: `sdp-default` accepts (RFC 8866 §6.7), `literal` rejects (N21). */
  readonly noDirection: 'sdp-default' | 'literal';
  /** Final status for an unusable offer (7.3.12-1a-ii wants 488). */
  readonly rejectStatus: number;
  /** RFC 3261 §13.3.1.3: the rejection explains itself in a Warning header (`malformed`: text only, no warn-code). */
  readonly rejectWarning: 'rfc' | 'none' | 'malformed';
  /** Subscribe to the group although the INVITE was rejected (a follow-up 7.3.12-1a-ii rules out [U]). */
  readonly subscribeOnReject: boolean;
  /** Send a BYE after the 488, outside any dialog (RFC 3261 §15: a UA MUST NOT). */
  readonly byeOnReject: boolean;
  /** The SDP answer to an accepted INVITE: conforming, or one fault of it (7.3.12-1a-i). */
  readonly answer: 'conforming' | 'extra-media' | 'port-zero' | 'recvonly' | 'no-path' | 'no-cpim' | 'wildcard-accept-types' | 'no-imdn-wrapped' | 'setup-actpass' | 'dead-port';
  /** `rfc4145`: answerSetupFor (actpass → active, active/absent → passive); `always-active` (N3). */
  readonly setupAnswer: 'rfc4145' | 'always-active';

  // --- conference subscription (7.3.12-1b-sub, 1b-i-b, 1d-ii) ---
  readonly subscribe: 'after-ack' | 'before-ack' | 'never';
  /** The event package the SUBSCRIBE names (RFC 4575: conference). */
  readonly subscribeEvent: 'conference' | 'presence';
  /** Where the SUBSCRIBE goes: the group focus of the INVITE, or (wrongly) the client's own AOR. */
  readonly subscribeTarget: 'focus' | 'own-aor';
  /** 404 to SUBSCRIBE: `inactive` (7.3.12-1b-i-b), `resubscribe` (N5), `bye` (hangs up), `ignore` (group still active, N6). */
  readonly on404: 'inactive' | 'resubscribe' | 'bye' | 'ignore';
  /** NOTIFY terminated;reason=noresource: the group is gone, or subscribe again. */
  readonly onNoresource: 'inactive' | 'resubscribe';
  /** Refresh the subscription at this fraction of the granted time; null = let it lapse (1 = at expiry: too late). */
  readonly refreshAt: number | null;
  /** A refresh in the subscription's dialog, or (wrongly) a new initial SUBSCRIBE. */
  readonly refreshBy: 'in-dialog' | 'new-subscribe';
  /** Schema-legal conference-info the client fails on: N7 (no state attribute → 400), N28 (no description → it leaves). */
  readonly conferenceInfo: 'tolerant' | 'rejects-without-state' | 'leaves-without-description';

  // --- IMDNs (7.3.12-1b-ii, imdn-*) ---
  readonly imdnRoute: 'msrp' | 'sip-message' | 'none';
  /** `requested`: only the kinds in imdn.Disposition-Notification; `always`: delivery even when not asked (N9). */
  readonly imdnWhen: 'requested' | 'always';
  /** `message`: one delivery IMDN per complete message; `chunk`: one per SEND chunk. */
  readonly imdnPer: 'message' | 'chunk';
  /** Display notification when the user displayed the message, or (wrongly) on receipt. */
  readonly displayNotification: 'when-displayed' | 'on-receipt';
  /** XML message-id: the original imdn.Message-ID, or a wrong one (the IMDN's own id). */
  readonly imdnXmlMessageId: 'original' | 'own';
  /** XML datetime: the original CPIM DateTime, or the receipt time (N10). */
  readonly imdnDateTime: 'original' | 'receipt';
  /** Status of a delivery notification for a message that was delivered: `delivered`, or a wrong one. */
  readonly imdnStatus: 'delivered' | 'failed' | 'forbidden' | 'error';
  /**
   * XML recipient-uri: the client, or the original sender (neither the final recipient nor the
   * IM's CPIM To, the two readings of RFC 5438 §7.2.1.3).
   */
  readonly imdnRecipient: 'client' | 'sender';
  /** XML original-recipient-uri: the original CPIM To, or the client itself. */
  readonly imdnOriginalRecipient: 'original-to' | 'client';
  /** The XML document: valid, elements out of schema order, or not XML at all. */
  readonly imdnXml: 'valid' | 'misordered' | 'unparsable';
  readonly imdnContentDisposition: boolean;
  /** CPIM To of the IMDN: the original sender, or the group identity. */
  readonly imdnTo: 'original-sender' | 'group';
  /** One fault of the CPIM envelope around the IMDN (RFC 5438 §7, RFC 3862), or none. */
  readonly imdnEnvelopeFault:
    | 'none'
    | 'not-cpim-wrapped'
    | 'bad-header-line'
    | 'wrong-namespace'
    | 'reuses-message-id'
    | 'anonymous-from'
    | 'bad-datetime'
    | 'requests-imdn'
    | 'wrong-content-type'
    | 'disposition-in-cpim';

  // --- MSRP (msrp-response, msrp-report) ---
  /** `rfc`: 200 unless Failure-Report: no (or partial); `never` / `always` break it. */
  readonly msrpRespond: 'rfc' | 'never-to-content' | 'always';
  readonly msrpReports: 'rfc' | 'never';
  readonly msrpRespondToReport: boolean;
  /** The paths of a transaction response: swapped (RFC 4975 §7.2), or (wrongly) copied from the request. */
  readonly msrpResponsePaths: 'swapped' | 'copied';

  // --- session end (7.3.12-1b-wait, 7.3.12-1c-i) ---
  /** Hang up by itself once the received messages are handled (N13). */
  readonly byeAfterDelivery: boolean;
  /** Close the MSRP connection right after a chunked message (a crashing chat stream, issue 12). */
  readonly closeMsrpAfterChunked: boolean;
  /** Hang up when no deferred message arrived this long after the session started; null = wait (1b-wait). */
  readonly byeIfNothingReceivedMs: number | null;
  /** Status for the PF's BYE; null = no response at all (N14). */
  readonly pfByeResponse: number | null;
  /** Send one more chat message on the MSRP session after the PF's BYE arrived, before answering it. */
  readonly sendAfterBye: boolean;

  // --- re-join (7.3.12-1d-i, 2a, NOTE) ---
  /** `queued-only`: re-join only with a queued message; `always`: also with nothing queued (N15). */
  readonly rejoinOnline: 'queued-only' | 'always';
  /** A composed message while a PF session is up: `session` (7.3.12-1d-i) or a new re-join INVITE. */
  readonly sendWhileSessionUp: 'session' | 'rejoin';
  /** A composed message with no session up: re-join (7.3.1.5), or keep it until the PF invites. */
  readonly sendWithoutSession: 'rejoin' | 'wait-for-pf';
  /** The re-join INVITE carries the CPM feature tag in Accept-Contact (7.3.1.5 as digested). */
  readonly rejoinFeatureTag: boolean;
  /** After a re-join the queued messages go on the new session, or are (wrongly) dropped. */
  readonly rejoinSendsQueued: boolean;
}

export const CONFORMING: Behaviour = {
  icsiMatch: 'rfc',
  unrecognisedInvite: 'reject',
  acceptDirections: ['sendrecv'],
  directionScope: 'rfc8866',
  noDirection: 'sdp-default',
  rejectStatus: 488,
  rejectWarning: 'rfc',
  subscribeOnReject: false,
  byeOnReject: false,
  answer: 'conforming',
  setupAnswer: 'rfc4145',
  subscribe: 'after-ack',
  subscribeEvent: 'conference',
  subscribeTarget: 'focus',
  on404: 'inactive',
  onNoresource: 'inactive',
  refreshAt: 0.5,
  refreshBy: 'in-dialog',
  conferenceInfo: 'tolerant',
  imdnRoute: 'msrp',
  imdnWhen: 'requested',
  imdnPer: 'message',
  displayNotification: 'when-displayed',
  imdnXmlMessageId: 'original',
  imdnDateTime: 'original',
  imdnStatus: 'delivered',
  imdnRecipient: 'client',
  imdnOriginalRecipient: 'original-to',
  imdnXml: 'valid',
  imdnContentDisposition: true,
  imdnTo: 'original-sender',
  imdnEnvelopeFault: 'none',
  msrpRespond: 'rfc',
  msrpReports: 'rfc',
  msrpRespondToReport: false,
  msrpResponsePaths: 'swapped',
  byeAfterDelivery: false,
  closeMsrpAfterChunked: false,
  byeIfNothingReceivedMs: null,
  pfByeResponse: 200,
  sendAfterBye: false,
  rejoinOnline: 'queued-only',
  sendWhileSessionUp: 'session',
  sendWithoutSession: 'rejoin',
  rejoinFeatureTag: true,
  rejoinSendsQueued: true,
};

export function behaviourWith(overrides: Partial<Behaviour> = {}): Behaviour {
  return { ...CONFORMING, ...overrides };
}

/**
 * Every decision the reference client makes that a real client has been seen to get wrong, as one
 * typed knob. The defaults are the conforming behaviour; a mutant (mutants.ts) overrides a few
 * knobs, and the decision functions (decisions.ts) read them. No monkey patching anywhere.
 */
import type { Direction } from '../sdp/types.ts';

export interface Behaviour {
  // --- the PF-initiated INVITE (7.3.12-1a) ---
  /** Effective directions that get a 2xx; everything else is rejected. */
  readonly acceptDirections: readonly Direction[];
  /** `rfc8866`: media level > session level > default (RFC 8866 §6.7); `media-only`: session level ignored (N2). */
  readonly directionScope: 'rfc8866' | 'media-only';
  /** No direction attribute anywhere: `sdp-default` accepts (RFC 8866 §6.7), `literal` rejects (N21). */
  readonly noDirection: 'sdp-default' | 'literal';
  /** Final status for an unusable offer (7.3.12-1a-ii wants 488). */
  readonly rejectStatus: number;
  /** RFC 3261 §13.3.1.3: the rejection explains itself in a Warning header. */
  readonly rejectWarning: boolean;
  /** `rfc4145`: answerSetupFor (actpass → active, active/absent → passive); `always-active` (N3). */
  readonly setupAnswer: 'rfc4145' | 'always-active';

  // --- conference subscription (7.3.12-1b-sub, 1b-i-b, 1d-ii) ---
  readonly subscribe: 'after-ack' | 'before-ack' | 'never';
  /** 404 to SUBSCRIBE: `inactive` (7.3.12-1b-i-b) or `resubscribe` (N5). */
  readonly on404: 'inactive' | 'resubscribe';
  /** Refresh the subscription at this fraction of the granted time; null = let it lapse. */
  readonly refreshAt: number | null;

  // --- IMDNs (7.3.12-1b-ii, imdn-*) ---
  readonly imdnRoute: 'msrp' | 'sip-message' | 'none';
  /** `requested`: only the kinds in imdn.Disposition-Notification; `always`: delivery even when not asked (N9). */
  readonly imdnWhen: 'requested' | 'always';
  /** `message`: one delivery IMDN per complete message; `chunk`: one per SEND chunk. */
  readonly imdnPer: 'message' | 'chunk';
  /** XML message-id: the original imdn.Message-ID, or a wrong one (the IMDN's own id). */
  readonly imdnXmlMessageId: 'original' | 'own';
  /** XML datetime: the original CPIM DateTime, or the receipt time (N10). */
  readonly imdnDateTime: 'original' | 'receipt';
  readonly imdnContentDisposition: boolean;
  /** CPIM To of the IMDN: the original sender, or the group identity. */
  readonly imdnTo: 'original-sender' | 'group';

  // --- MSRP (msrp-response, msrp-report) ---
  /** `rfc`: 200 unless Failure-Report: no (or partial); `never` / `always` break it. */
  readonly msrpRespond: 'rfc' | 'never-to-content' | 'always';
  readonly msrpReports: 'rfc' | 'never';
  readonly msrpRespondToReport: boolean;

  // --- session end (7.3.12-1c-i) ---
  /** Hang up by itself once the received messages are handled (N13). */
  readonly byeAfterDelivery: boolean;
  /** Status for the PF's BYE; null = no response at all (N14). */
  readonly pfByeResponse: number | null;

  // --- re-join (7.3.12-1d-i, 2a, NOTE) ---
  /** `queued-only`: re-join only with a queued message; `always`: also with nothing queued (N15). */
  readonly rejoinOnline: 'queued-only' | 'always';
  /** A composed message while a PF session is up: `session` (7.3.12-1d-i) or a new re-join INVITE. */
  readonly sendWhileSessionUp: 'session' | 'rejoin';
}

export const CONFORMING: Behaviour = {
  acceptDirections: ['sendrecv'],
  directionScope: 'rfc8866',
  noDirection: 'sdp-default',
  rejectStatus: 488,
  rejectWarning: true,
  setupAnswer: 'rfc4145',
  subscribe: 'after-ack',
  on404: 'inactive',
  refreshAt: 0.5,
  imdnRoute: 'msrp',
  imdnWhen: 'requested',
  imdnPer: 'message',
  imdnXmlMessageId: 'original',
  imdnDateTime: 'original',
  imdnContentDisposition: true,
  imdnTo: 'original-sender',
  msrpRespond: 'rfc',
  msrpReports: 'rfc',
  msrpRespondToReport: false,
  byeAfterDelivery: false,
  pfByeResponse: 200,
  rejoinOnline: 'queued-only',
  sendWhileSessionUp: 'session',
};

export function behaviourWith(overrides: Partial<Behaviour> = {}): Behaviour {
  return { ...CONFORMING, ...overrides };
}

/**
 * PIXIT-style run parameters: timers, observation windows, identities and how to read the
 * spec's ambiguities. Test cases read these; they never hard-code a duration.
 */
import { DEFAULT_LIMITS } from '../core/limits.ts';
import type { TransportKind } from '../core/trace.ts';
import type { Identities, PfConfig, PfWindows } from '../pf/config.ts';
import type { SipTimers } from '../sip/timers.ts';

export { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';

export type SipTimerValues = SipTimers;

/** Every wait of a test case, in milliseconds (the PF's own waits included). */
export interface Windows extends PfWindows {
  /** Client REGISTER after start (or after UT goOnline). */
  registrationMs: number;
  /** SUBSCRIBE after the ACK (7.3.12-1b-sub). */
  subscribeMs: number;
  /** Requested IMDN after the message's 200 (7.3.12-1b-ii). */
  imdnMs: number;
  /** Quiet time: no BYE/close/re-INVITE by the client before the PF's BYE (7.3.12-1c-i). */
  idleMs: number;
  /** After a 404 to SUBSCRIBE: no new SUBSCRIBE to the group (7.3.12-1b-i-b). */
  quarantineMs: number;
  /** After a 488: no MSRP connection, BYE or SUBSCRIBE (7.3.12-1a-ii); over UDP no 488 retransmission after ACK. */
  sideEffectMs: number;
  /** Back online: re-join INVITE expected (2a) or not (NOTE). */
  rejoinObserveMs: number;
  /** A short conference subscription granted to force a refresh (7.3.12-1d-ii), in seconds on the wire. */
  shortSubscriptionSeconds: number;
  /** Upper-tester operation timeout. */
  utMs: number;
}

export type NoDirectionReading = 'observe' | 'sdp-default' | 'literal';
export type ParticipantsOn404Mode = 'notify-then-terminate' | 'invite-resource-list';

export type { Identities };

/** What the client under test implements (the PICS of a conformance suite). */
export interface Pics {
  /** MSRP sessions: false for a SIP-only stand-in (e.g. a SIPp script); cases that need MSRP are skipped. */
  msrp: boolean;
}

/** The PF's part (listen address, proxy, timers, identities, limits) plus what the test cases read. */
export interface RunConfig extends PfConfig {
  pics: Pics;
  windows: Windows;
  ambiguity: {
    /** E2: SDP offer without any direction attribute (PROTOCOLS §1.2). */
    noDirection: NoDirectionReading;
    /** 7.3.12-1b-i-c: how the PF delivers the last participants on 404. */
    participantsOn404: ParticipantsOn404Mode;
  };
}

/** Windows for a real client on a lab network (PROTOCOLS.md proposals). */
export const REAL_WINDOWS: Windows = {
  registrationMs: 60_000,
  finalResponseMs: 60_000,
  msrpConnectMs: 30_000,
  msrpTransactionMs: 30_000,
  subscribeMs: 10_000,
  imdnMs: 10_000,
  idleMs: 30_000,
  quarantineMs: 300_000,
  sideEffectMs: 5_000,
  rejoinObserveMs: 60_000,
  shortSubscriptionSeconds: 60,
  utMs: 10_000,
};

/**
 * Windows for the built-in clients on loopback: same shape, scaled down so the whole catalogue
 * runs in seconds. Absence checks stay meaningful because the built-in client acts within a
 * few milliseconds.
 */
export const SCALED_WINDOWS: Windows = {
  registrationMs: 2_000,
  finalResponseMs: 2_000,
  msrpConnectMs: 2_000,
  msrpTransactionMs: 1_000,
  subscribeMs: 1_000,
  imdnMs: 500,
  idleMs: 150,
  quarantineMs: 250,
  sideEffectMs: 150,
  rejoinObserveMs: 250,
  shortSubscriptionSeconds: 1,
  utMs: 1_000,
};

export const DEFAULT_IDENTITIES: Identities = {
  clientAor: 'sip:+15551230002@ims.example.net',
  originalSender: 'sip:+15551230001@ims.example.net',
  groupIdentity: 'sip:grp.7c1e9a@cpm-pf.example.net',
  pfDomain: 'cpm-pf.example.net',
};

export function builtinConfig(transport: TransportKind = 'tcp'): RunConfig {
  return {
    transport,
    address: '127.0.0.1',
    listen: { udpPort: 0, tcpPort: 0 },
    pics: { msrp: true },
    timers: { t1: 50, t2: 400, t4: 500 },
    windows: { ...SCALED_WINDOWS },
    identities: { ...DEFAULT_IDENTITIES },
    ambiguity: { noDirection: 'observe', participantsOn404: 'notify-then-terminate' },
    limits: { ...DEFAULT_LIMITS },
  };
}

export function externalConfig(transport: TransportKind = 'tcp'): RunConfig {
  return {
    transport,
    address: '127.0.0.1',
    listen: { udpPort: 0, tcpPort: 0 },
    pics: { msrp: true },
    timers: { t1: 500, t2: 4_000, t4: 5_000 },
    windows: { ...REAL_WINDOWS },
    identities: { ...DEFAULT_IDENTITIES },
    ambiguity: { noDirection: 'observe', participantsOn404: 'notify-then-terminate' },
    limits: { ...DEFAULT_LIMITS },
  };
}

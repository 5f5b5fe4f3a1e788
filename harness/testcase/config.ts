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

/**
 * Every wait of a test case, in milliseconds (the PF's own waits included, harness/pf/config.ts).
 * The real value of each (REAL_WINDOWS) says where it comes from: an RFC timer, the digest's
 * proposal (PROTOCOLS.md, marked [U-policy] there), or an implementation's timeout.
 */
export interface Windows extends PfWindows {
  /** Client REGISTER after start (or after UT goOnline). Real 60 s: harness policy, a phone's boot-to-register time. */
  registrationMs: number;
  /** SUBSCRIBE after the ACK (7.3.12-1b-sub). Real 10 s: PROTOCOLS §1.2 1b-sub proposal ("10 s after ACK"). */
  subscribeMs: number;
  /** Requested IMDN after the message's 200 (7.3.12-1b-ii). Real 10 s: PROTOCOLS §1.2 1b-ii proposal. */
  imdnMs: number;
  /** Quiet time: no BYE/close/re-INVITE by the client before the PF's BYE (7.3.12-1c-i). Real 30 s: PROTOCOLS T_idle proposal. */
  idleMs: number;
  /**
   * Liveness after every deferred delivery, before the PF ends the session (7.3.12-1c-i): a client
   * that closes MSRP or hangs up right after its last 200 shows here. Real 5 s: harness policy; a
   * crashing stream closes within milliseconds of its last response.
   */
  livenessMs: number;
  /** How long the PF delays the deferred delivery in the 1b-wait case. Real 30 s: the T_idle proposal, as for idleMs. */
  deliveryDelayMs: number;
  /** After a 404 to SUBSCRIBE: no new SUBSCRIBE to the group (7.3.12-1b-i-b). Real 300 s: PROTOCOLS §1.2 1b-i-b ("≥ 5 min"); python-sipsimple retries after 60–180 s. */
  quarantineMs: number;
  /** After a 488: no MSRP connection, BYE or SUBSCRIBE (7.3.12-1a-ii); over UDP no 488 retransmission after ACK. Real 5 s: T4 (RFC 3261 Table 4), the longest a retransmission can be in flight. */
  sideEffectMs: number;
  /** Back online: re-join INVITE expected (2a) or not (NOTE). Real 60 s: PROTOCOLS §1.2 NOTE T_observe proposal. */
  rejoinObserveMs: number;
  /** A short conference subscription granted to force a refresh (7.3.12-1d-ii), in seconds on the wire. Real 60 s: PROTOCOLS §1.2 1d-ii ("Expires: 60"). */
  shortSubscriptionSeconds: number;
  /** Upper-tester operation timeout. Real 10 s: harness policy for a test shim or an operator prompt. */
  utMs: number;
}

/** A window in milliseconds (every field but the subscription length). */
export type WindowName = Exclude<keyof Windows, 'shortSubscriptionSeconds'>;

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
  /**
   * The built-in reference client (acts within milliseconds, so scaled windows prove absence) or an
   * external one (an absence seen in a window shorter than its real value is only informative).
   */
  client: 'builtin' | 'external';
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
  livenessMs: 5_000,
  deliveryDelayMs: 30_000,
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
  livenessMs: 100,
  deliveryDelayMs: 1_000,
  quarantineMs: 250,
  sideEffectMs: 150,
  rejoinObserveMs: 1_000,
  shortSubscriptionSeconds: 1,
  utMs: 1_000,
};

/**
 * The framing timeout of built-in runs: like their SIP timers (T1 50 ms), scaled to a client that
 * answers within milliseconds, so an unfinished message fails at 1 s, before Timer B (3.2 s).
 */
export const SCALED_FRAMING_TIMEOUT_MS = 1_000;

export const DEFAULT_IDENTITIES: Identities = {
  clientAor: 'sip:+15551230002@ims.example.net',
  originalSender: 'sip:+15551230001@ims.example.net',
  groupIdentity: 'sip:grp.7c1e9a@cpm-pf.example.net',
  pfDomain: 'cpm-pf.example.net',
};

export function builtinConfig(transport: TransportKind = 'tcp'): RunConfig {
  return {
    client: 'builtin',
    transport,
    address: '127.0.0.1',
    listen: { udpPort: 0, tcpPort: 0 },
    pics: { msrp: true },
    timers: { t1: 50, t2: 400, t4: 500 },
    windows: { ...SCALED_WINDOWS },
    identities: { ...DEFAULT_IDENTITIES },
    ambiguity: { noDirection: 'observe', participantsOn404: 'notify-then-terminate' },
    limits: { ...DEFAULT_LIMITS, framingTimeoutMs: SCALED_FRAMING_TIMEOUT_MS },
  };
}

export function externalConfig(transport: TransportKind = 'tcp'): RunConfig {
  return {
    client: 'external',
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

/** `300000` → `300 s`, `250` → `250 ms`. */
export function formatWindow(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The windows test cases wait out to prove that something did not happen. */
export const ABSENCE_WINDOWS: readonly WindowName[] = ['sideEffectMs', 'imdnMs', 'idleMs', 'livenessMs', 'deliveryDelayMs', 'quarantineMs', 'rejoinObserveMs'];

/** Absence windows shorter than their real value; for an external client their absence checks are only informative. */
export function scaledWindows(windows: Windows): { name: WindowName; ms: number; realMs: number }[] {
  return ABSENCE_WINDOWS.filter((name) => windows[name] < REAL_WINDOWS[name]).map((name) => ({ name, ms: windows[name], realMs: REAL_WINDOWS[name] }));
}

/**
 * The start-up line for an external client run with scaled windows, or null: which windows are
 * shorter than real, so the operator knows which absence checks prove nothing.
 */
export function scaledWindowsNotice(config: RunConfig): string | null {
  if (config.client !== 'external') return null;
  const scaled = scaledWindows(config.windows);
  if (scaled.length === 0) return null;
  const list = scaled.map((w) => `${w.name} ${formatWindow(w.ms)} (real ${formatWindow(w.realMs)})`).join(', ');
  return `scaled absence windows: ${list}; an absence seen only within a scaled window is reported as informative, not pass`;
}

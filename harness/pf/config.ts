/**
 * What the PF reads of the run configuration: where it listens, the outbound proxy, its SIP
 * timers, the identities it plays and the few waits it owns. The run configuration of a test
 * case (testcase/config.ts, `RunConfig`) extends this, so a RunConfig is a PfConfig; the PF never
 * sees the PICS, the ambiguity readings or the test-case windows.
 */
import type { Limits } from '../core/limits.ts';
import type { TransportKind } from '../core/trace.ts';
import type { SipTimers } from '../sip/timers.ts';

export interface Identities {
  /** The client's public identity. */
  clientAor: string;
  /** CPIM From of the deferred messages (the original sender). */
  originalSender: string;
  /** Group Session Identity (From/Contact of the PF's INVITE, SUBSCRIBE target). */
  groupIdentity: string;
  /** Host part used in PF Call-IDs etc. */
  pfDomain: string;
}

/** The waits the PF itself bounds, in milliseconds. */
export interface PfWindows {
  /** INVITE final response once a provisional arrived (RFC 3261 sets none: harness policy, PROTOCOLS §1.2 1a). */
  finalResponseMs: number;
  /** Client TCP connect + bind SEND, or its acceptance of ours (msrplib uses 30 s). */
  msrpConnectMs: number;
  /** MSRP transaction response (RFC 4975 implementations: 30 s). */
  msrpTransactionMs: number;
}

export interface PfConfig {
  transport: TransportKind;
  /** Address the PF binds (loopback by default). */
  address: string;
  /** Fixed SIP ports of the PF (`--listen`, for clients that must be told where to REGISTER); 0 = ephemeral. */
  listen: { udpPort: number; tcpPort: number };
  /** Outbound proxy for the PF's requests (an IMS core or Kamailio between harness and client). */
  proxy?: { address: string; port: number };
  timers: SipTimers;
  windows: PfWindows;
  identities: Identities;
  /** What a client can make the harness hold, parse or write (core/limits.ts documents each). */
  limits: Limits;
}

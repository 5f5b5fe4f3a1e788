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
  /** INVITE final response once a provisional arrived. Real 60 s: RFC 3261 sets none after a 1xx (PROTOCOLS §1.2 1a proposal); §13.3.1.1 wants a 1xx every minute. */
  finalResponseMs: number;
  /** Client TCP connect + bind SEND, or its acceptance of ours. Real 30 s: msrplib's connect/accept/bind timeouts (PROTOCOLS §3.2). */
  msrpConnectMs: number;
  /** MSRP transaction response. Real 30 s: msrplib, msrp4j and rcsjta all give up after 30 s (PROTOCOLS §3.2). */
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

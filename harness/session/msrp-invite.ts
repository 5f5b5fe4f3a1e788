/**
 * The MSRP INVITE session, written once for both sides and both directions: the PF's group
 * INVITE, the PF's acceptance of a re-join, and the reference client's answer and re-join.
 *
 * - Offerer (RFC 3264 §5, RFC 4145 §4): listen before offering, so the peer may connect as soon
 *   as it has the offer; send the INVITE through the stack's UAC core (it ACKs the 2xx and re-ACKs
 *   retransmissions); read the answer's MSRP media and take the role its a=setup leaves us.
 * - Answerer (RFC 3264 §6, RFC 4145 §4.1, RFC 6135): the a=setup it answers decides who connects;
 *   it listens when passive (or always, when it wants a real port in its SDP), writes the answer.
 * - Either side: the active one connects to the peer's a=path and binds (RFC 4975 §5.4), once.
 * The SIP message contents (headers, the SDP's other lines) stay with the callers.
 */
import type { HarnessError } from '../core/diagnostic.ts';
import type { MsrpSession, TransactionOutcome } from '../msrp/session.ts';
import { formatMsrpUri, parseMsrpPath, type MsrpUri } from '../msrp/uri.ts';
import { findMsrpMedia } from '../sdp/msrp-media.ts';
import { negotiateSetup } from '../sdp/setup.ts';
import type { MediaView, ParsedSdp, SetupValue } from '../sdp/types.ts';
import type { Dialog } from '../sip/dialog.ts';
import type { InviteClient } from '../sip/stack.ts';

/** Who opens the MSRP TCP connection. */
export type MsrpRole = 'active' | 'passive';

/** The local MSRP endpoint an offer or answer advertises. */
export interface MsrpLocal {
  /** Listening (or, for an active answerer that does not listen, the URI it will connect from). */
  readonly uri: MsrpUri;
  /** `a=path` value. */
  readonly path: string;
  /** Set when listening was asked for and failed. */
  readonly error?: HarnessError;
}

/** What the peer's SDP says about the MSRP stream. */
export interface MsrpRemote {
  /** The first MSRP media with a port (RFC 3264 §6: port 0 = rejected stream), if any. */
  readonly media: MediaView | undefined;
  /** The peer's `a=path` URIs as written, and parsed (empty when absent or invalid). */
  readonly path: readonly string[];
  readonly uris: readonly MsrpUri[];
}

export function remoteOf(sdp: ParsedSdp | null | undefined): MsrpRemote {
  const media = sdp == null ? undefined : findMsrpMedia(sdp).find((m) => m.port !== 0);
  const path = media?.path ?? [];
  const parsed = path.length === 0 ? undefined : parseMsrpPath(path.join(' '));
  return { media, path, uris: parsed?.ok ? parsed.value : [] };
}

/** Listens on the session's local URI and gives the `a=path` to advertise. */
export async function listenLocal(msrp: MsrpSession): Promise<MsrpLocal> {
  const listening = await msrp.listen();
  const uri = listening.ok ? listening.value : msrp.uri;
  return { uri, path: formatMsrpUri(uri), ...(listening.ok ? {} : { error: listening.error }) };
}

/** The local endpoint as it stands, without listening (an active answerer, which connects out). */
export function localOf(msrp: MsrpSession): MsrpLocal {
  return { uri: msrp.uri, path: formatMsrpUri(msrp.uri) };
}

/** The answerer's role for the a=setup it answers with (RFC 4145 §4.1: active connects). */
export function answererRole(setup: SetupValue | null | undefined): MsrpRole {
  return setup === 'active' ? 'active' : 'passive';
}

/** The offerer's role once the answer is in (RFC 4145 §4.1; no a=setup in the offer means the offerer is active, N3). */
export function offererRole(offered: SetupValue | null | undefined, remote: MsrpRemote): MsrpRole {
  return negotiateSetup(offered ?? undefined, remote.media?.setup).offererRole === 'active' ? 'active' : 'passive';
}

/**
 * One MSRP INVITE session once offer and answer are exchanged: the dialog, the MSRP engine, the
 * role each side ended up with and the peer's path. `connect()` is the active side's only move.
 */
export class MsrpInviteSession {
  readonly dialog: Dialog | null;
  readonly msrp: MsrpSession;
  readonly role: MsrpRole;
  readonly local: MsrpLocal;
  readonly remote: MsrpRemote;
  private connecting: Promise<TransactionOutcome> | null = null;

  constructor(init: { dialog: Dialog | null; msrp: MsrpSession; role: MsrpRole; local: MsrpLocal; remote: MsrpRemote }) {
    this.dialog = init.dialog;
    this.msrp = init.msrp;
    this.role = init.role;
    this.local = init.local;
    this.remote = init.remote;
  }

  /** Whether the SDP exchange left a usable MSRP stream (a media with a port on the peer's side). */
  get usable(): boolean {
    return this.remote.media !== undefined;
  }

  /**
   * The active side connects to the first URI of the peer's a=path and binds (RFC 4975 §5.4);
   * once — a second call returns the same attempt. Null for the passive side.
   */
  connect(timeoutMs: number): Promise<TransactionOutcome> | null {
    if (this.role !== 'active') return null;
    if (this.connecting !== null) return this.connecting;
    if (this.remote.uris.length === 0) {
      this.connecting = Promise.resolve({ ok: false, error: { code: 'MSRP_NO_PATH', message: 'the peer\'s SDP has no usable a=path', bytes: Buffer.alloc(0) } });
    } else {
      this.connecting = this.msrp.connect([...this.remote.uris], { timeoutMs });
    }
    return this.connecting;
  }

  /** The attempt `connect()` started, if any. */
  get connection(): Promise<TransactionOutcome> | null {
    return this.connecting;
  }

  /**
   * Offerer: the 2xx to our INVITE is in. The UAC core made the dialog and ACKed (or held the
   * ACK); the answer decides the role. The peer's path is handed to the MSRP engine.
   */
  static async fromAnswer(invite: InviteClient, answer: ParsedSdp | undefined, offered: SetupValue | null | undefined, msrp: MsrpSession, local: MsrpLocal): Promise<MsrpInviteSession> {
    const accepted = await invite.accepted;
    const remote = remoteOf(answer);
    if (remote.uris.length > 0) msrp.setRemotePath([...remote.uris]);
    return new MsrpInviteSession({ dialog: accepted?.dialog ?? null, msrp, role: offererRole(offered, remote), local, remote });
  }
}

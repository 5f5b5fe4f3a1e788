/**
 * The UAC core above the INVITE client transaction (RFC 3261 §13.2.2.4): a 2xx to an INVITE is
 * ACKed by the core, not the transaction — in the dialog it creates, with a fresh branch, to the
 * dialog's next hop — and every retransmission of that 2xx (while the transaction waits in
 * Timer M, or as a stray response after it) gets the same ACK bytes again. A 2xx with another To
 * tag (a fork) is ACKed in its own dialog. Drivers only say when to ACK: at once, after a hold
 * (the test exposes what the peer does before the ACK), or never.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { ExpiryQueue } from '../core/expiry.ts';
import { buildRequest } from './build.ts';
import { Dialog } from './dialog.ts';
import { tagOf } from './headers.ts';
import { canonicalHeaderName, headerValue } from './message.ts';
import type { SipHeaderField, SipMessage, SipRequest, SipResponse } from './message.ts';
import { serializeSipMessage } from './serializer.ts';
import { transactionTimeout, type SipTimers } from './timers.ts';
import type { SendResult, Target } from './transport.ts';

/** When the core ACKs the first 2xx of a dialog. */
export type AckPolicy = 'auto' | { afterMs: number } | 'never';

/** The first 2xx of a dialog, as the core handled it. */
export interface AcceptedInvite {
  /** The dialog the 2xx created (null when the 2xx cannot make one, e.g. no Contact: it is ACKed all the same). */
  readonly dialog: Dialog | null;
  /** The ACK sent (null with `'never'`). */
  readonly ack: SipRequest | null;
}

/** What the core needs from the stack: its clock, timers, a Via for a hop and a raw send. */
export interface UacCoreIo {
  readonly clock: Clock;
  readonly timers: SipTimers;
  via(transport: Target['transport']): string;
  send(bytes: Buffer, target: Target): Promise<SendResult>;
  /** Where an in-dialog request of this dialog goes; a string says why it cannot be sent. */
  nextHop(dialog: Dialog): Target | string;
  /** Route-set entries that name this stack itself (dropped from the dialogs it holds as UAC). */
  isOwnRoute(route: string): boolean;
}

/** One dialog's ACK: the bytes as one-byte text (re-sent for each retransmitted 2xx) and where they go. */
interface DialogAck {
  readonly tag: string;
  ack: string | undefined;
  target: Target | undefined;
  hold: TimerHandle | undefined;
}

/**
 * One INVITE whose 2xx the core ACKs, kept 64·T1 after its latest ACK (as long as the UAS may
 * retransmit, like Timer M): the INVITE reduced to what a forked 2xx's dialog takes from it, and
 * one ACK per dialog (almost always one).
 */
interface InviteAcks {
  readonly key: string;
  /** dialogBasis() of the INVITE. */
  readonly basis: string;
  readonly fallback: Target;
  readonly policy: AckPolicy;
  readonly first: DialogAck;
  /** Dialogs of forked 2xx (§13.2.2.4), rare. */
  forks: DialogAck[] | undefined;
  deadline: number;
}

/** The header fields of an INVITE that Dialog.fromUac and an ACK without dialog read. */
const DIALOG_FIELDS = new Set(['from', 'call-id', 'cseq', 'contact']);
const EMPTY = Buffer.alloc(0);

/**
 * The INVITE without Via, body and the other fields, as one string (start-line parts, then names
 * and values, LF-separated: unfolded values hold no LF): a fork's dialog is built from it and its 2xx.
 */
export function dialogBasis(invite: SipRequest): string {
  const parts = [invite.method, invite.uri, invite.version];
  for (const h of invite.headers) if (DIALOG_FIELDS.has(canonicalHeaderName(h.name))) parts.push(h.name, h.value);
  return parts.join('\n');
}

export function requestFromBasis(basis: string): SipRequest {
  const [method = '', uri = '', version = '', ...fields] = basis.split('\n');
  const headers: SipHeaderField[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) headers.push({ name: fields[i]!, value: fields[i + 1]! });
  return { kind: 'request', method, uri, version, headers, body: EMPTY };
}

/**
 * A copy of a short string that keeps nothing else alive: V8 makes a substring of 13 or more
 * characters (a To tag, say) a view into the whole header value it was cut from.
 */
function ownCopy(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

function dialogsOf(entry: InviteAcks): DialogAck[] {
  return entry.forks === undefined ? [entry.first] : [entry.first, ...entry.forks];
}

function newDialogAck(tag: string): DialogAck {
  return { tag, ack: undefined, target: undefined, hold: undefined };
}

/** `Call-ID|CSeq number`: the INVITE a 2xx answers. */
function inviteKey(message: SipMessage): string | undefined {
  const callId = headerValue(message, 'call-id');
  const seq = (headerValue(message, 'cseq') ?? '').trim().split(/[ \t]+/)[0];
  if (callId === undefined || seq === undefined || seq === '') return undefined;
  return `${callId}|${seq}`;
}

/** `Call-ID|CSeq number|To tag`: one 2xx and its ACK (and their retransmissions) per dialog, on either side. */
export function ackKey(message: SipMessage): string | undefined {
  const callId = headerValue(message, 'call-id');
  const seq = (headerValue(message, 'cseq') ?? '').trim().split(/[ \t]+/)[0];
  const toTag = tagOf(headerValue(message, 'to') ?? '');
  if (callId === undefined || seq === undefined || seq === '' || toTag === undefined) return undefined;
  return `${callId}|${seq}|${toTag}`;
}

/** A 2xx that cannot make a dialog still gets an ACK: the INVITE's Request-URI, From, Call-ID, CSeq; the 2xx's To. */
function ackWithoutDialog(invite: SipRequest, response: SipResponse, via: string): SipRequest {
  const seq = Number((headerValue(invite, 'cseq') ?? '1').trim().split(/[ \t]+/)[0]) || 1;
  return buildRequest({
    method: 'ACK',
    uri: invite.uri,
    via,
    from: headerValue(invite, 'from') ?? '',
    to: headerValue(response, 'to') ?? '',
    callId: headerValue(invite, 'call-id') ?? '',
    cseq: seq,
  });
}

export class UacCore {
  private readonly invites = new Map<string, InviteAcks>();
  private readonly expiries: ExpiryQueue<InviteAcks>;
  private closed = false;

  constructor(private readonly io: UacCoreIo) {
    this.expiries = new ExpiryQueue(io.clock, transactionTimeout(io.timers), (entry, deadline) => {
      if (entry.deadline !== deadline || this.invites.get(entry.key) !== entry) return;
      this.invites.delete(entry.key);
      for (const d of dialogsOf(entry)) d.hold?.cancel();
    });
  }

  /**
   * A 2xx to an INVITE sent through the core (first, retransmitted or forked). Returns the ACK
   * when this call sent the first one for its dialog; retransmissions are answered from the table.
   */
  on2xx(invite: SipRequest, response: SipResponse, fallback: Target, policy: AckPolicy, onAck?: (ack: SipRequest) => void): Promise<AcceptedInvite | null> {
    const key = inviteKey(response) ?? `${headerValue(response, 'call-id') ?? ''}|untagged`;
    const entry = this.invites.get(key);
    if (entry !== undefined) return this.answer(entry, response, undefined, undefined) ?? Promise.resolve(null);
    const tag = ownCopy(tagOf(headerValue(response, 'to') ?? '') ?? '');
    const created: InviteAcks = { key, basis: dialogBasis(invite), fallback, policy, first: newDialogAck(tag), forks: undefined, deadline: 0 };
    this.invites.set(key, created);
    return this.newDialog(created, created.first, invite, response, onAck);
  }

  /**
   * A later 2xx to an INVITE the core has ACKed (its transaction in Accepted): the same ACK again
   * for a retransmission, a new dialog and ACK for a fork (§13.2.2.4). False when the INVITE is unknown.
   */
  onRepeated2xx(response: SipResponse): boolean {
    const key = inviteKey(response);
    const entry = key === undefined ? undefined : this.invites.get(key);
    if (entry === undefined) return false;
    void this.answer(entry, response, undefined, undefined);
    return true;
  }

  /** Whether a response is a 2xx this core has seen (so a stray one is a retransmission to re-ACK). */
  knows(response: SipResponse): boolean {
    return this.dialogOf(response) !== undefined;
  }

  /** Re-sends the ACK of a known 2xx (a stray retransmission after the transaction ended). */
  reAck(response: SipResponse): void {
    const known = this.dialogOf(response);
    if (known !== undefined) this.resend(known);
  }

  close(): void {
    this.closed = true;
    for (const entry of this.invites.values()) for (const d of dialogsOf(entry)) d.hold?.cancel();
    this.invites.clear();
    this.expiries.clear();
  }

  private dialogOf(response: SipResponse): DialogAck | undefined {
    const key = inviteKey(response);
    const entry = key === undefined ? undefined : this.invites.get(key);
    const tag = tagOf(headerValue(response, 'to') ?? '');
    return tag === undefined || entry === undefined ? undefined : dialogsOf(entry).find((d) => d.tag === tag);
  }

  private resend(known: DialogAck): void {
    // Before a held ACK has gone out the retransmission stays unanswered.
    if (known.ack !== undefined && known.target !== undefined && !this.closed) void this.io.send(Buffer.from(known.ack, 'latin1'), known.target);
  }

  /** Kept 64·T1 from now (the latest ACK or dialog of this INVITE), then forgotten. */
  private keep(entry: InviteAcks): void {
    entry.deadline = this.expiries.add(entry);
  }

  /** A later 2xx: undefined for a dialog already answered (its ACK re-sent); otherwise the fork's outcome. */
  private answer(entry: InviteAcks, response: SipResponse, invite: SipRequest | undefined, onAck: ((ack: SipRequest) => void) | undefined): Promise<AcceptedInvite | null> | undefined {
    const tag = tagOf(headerValue(response, 'to') ?? '') ?? '';
    const known = dialogsOf(entry).find((d) => d.tag === tag);
    if (known !== undefined) {
      // §13.2.2.4: the same ACK again.
      this.resend(known);
      return undefined;
    }
    const fork = newDialogAck(ownCopy(tag));
    (entry.forks ??= []).push(fork);
    return this.newDialog(entry, fork, invite ?? requestFromBasis(entry.basis), response, onAck);
  }

  /** §13.2.2.4: the dialog a 2xx creates and its ACK, sent now, after the hold, or never. */
  private newDialog(entry: InviteAcks, dialogAck: DialogAck, invite: SipRequest, response: SipResponse, onAck: ((ack: SipRequest) => void) | undefined): Promise<AcceptedInvite | null> {
    const created = Dialog.fromUac(invite, response);
    const dialog = created.ok ? created.value : null;
    // Our own Record-Route entry (the PF stands in for the IMS core that record-routes) is not a hop for us.
    if (dialog !== null) dialog.routeSet = dialog.routeSet.filter((route) => !this.io.isOwnRoute(route));
    if (entry.policy === 'never') {
      this.keep(entry);
      return Promise.resolve({ dialog, ack: null });
    }
    const sendFirst = (): AcceptedInvite => {
      if (this.closed) return { dialog, ack: null };
      const hop = dialog === null ? entry.fallback : this.io.nextHop(dialog);
      const target = typeof hop === 'string' ? entry.fallback : hop;
      const via = this.io.via(target.transport);
      const ack = dialog === null ? ackWithoutDialog(invite, response, via) : dialog.createAck(undefined, { via });
      const bytes = serializeSipMessage(ack, { contentLength: 'compute' });
      dialogAck.ack = bytes.toString('latin1');
      dialogAck.target = target;
      this.keep(entry);
      onAck?.(ack);
      // Not awaited: the caller gets the dialog before any I/O callback (the peer may act on the ACK at once).
      void this.io.send(bytes, target);
      return { dialog, ack };
    };
    if (entry.policy === 'auto') return Promise.resolve(sendFirst());
    this.keep(entry);
    const afterMs = entry.policy.afterMs;
    return new Promise((resolve) => {
      dialogAck.hold = this.io.clock.setTimer(afterMs, () => {
        dialogAck.hold = undefined;
        resolve(sendFirst());
      });
    });
  }
}

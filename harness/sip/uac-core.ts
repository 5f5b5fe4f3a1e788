/**
 * The UAC core above the INVITE client transaction (RFC 3261 §13.2.2.4): a 2xx to an INVITE is
 * ACKed by the core, not the transaction — in the dialog it creates, with a fresh branch, to the
 * dialog's next hop — and every retransmission of that 2xx (while the transaction waits in
 * Timer M, or as a stray response after it) gets the same ACK bytes again. A 2xx with another To
 * tag (a fork) is ACKed in its own dialog. Drivers only say when to ACK: at once, after a hold
 * (the test exposes what the peer does before the ACK), or never.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { buildRequest } from './build.ts';
import { Dialog } from './dialog.ts';
import { tagOf } from './headers.ts';
import { headerValue } from './message.ts';
import type { SipMessage, SipRequest, SipResponse } from './message.ts';
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

interface AckEntry {
  bytes?: Buffer;
  target?: Target;
  expiry?: TimerHandle;
  hold?: TimerHandle;
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
  private readonly acks = new Map<string, AckEntry>();
  private closed = false;

  constructor(private readonly io: UacCoreIo) {}

  /**
   * A 2xx to an INVITE sent through the core (first, retransmitted or forked). Returns the ACK
   * when this call sent the first one for its dialog; retransmissions are answered from the table.
   */
  on2xx(invite: SipRequest, response: SipResponse, fallback: Target, policy: AckPolicy, onAck?: (ack: SipRequest) => void): Promise<AcceptedInvite | null> {
    const key = ackKey(response) ?? `${headerValue(response, 'call-id') ?? ''}|untagged`;
    const known = this.acks.get(key);
    if (known !== undefined) {
      // §13.2.2.4: the same ACK again; before a held ACK has gone out the retransmission stays unanswered.
      if (known.bytes !== undefined && known.target !== undefined && !this.closed) void this.io.send(known.bytes, known.target);
      return Promise.resolve(null);
    }
    const entry: AckEntry = {};
    this.acks.set(key, entry);
    // Kept as long as the UAS may retransmit (64·T1, like Timer M), then forgotten.
    const keep = (): void => {
      entry.expiry?.cancel();
      entry.expiry = this.io.clock.setTimer(transactionTimeout(this.io.timers), () => {
        if (this.acks.get(key) === entry) this.acks.delete(key);
      });
    };
    const created = Dialog.fromUac(invite, response);
    const dialog = created.ok ? created.value : null;
    // Our own Record-Route entry (the PF stands in for the IMS core that record-routes) is not a hop for us.
    if (dialog !== null) dialog.routeSet = dialog.routeSet.filter((route) => !this.io.isOwnRoute(route));
    if (policy === 'never') {
      keep();
      return Promise.resolve({ dialog, ack: null });
    }
    const sendFirst = (): AcceptedInvite => {
      if (this.closed) return { dialog, ack: null };
      const hop = dialog === null ? fallback : this.io.nextHop(dialog);
      const target = typeof hop === 'string' ? fallback : hop;
      const via = this.io.via(target.transport);
      const ack = dialog === null ? ackWithoutDialog(invite, response, via) : dialog.createAck(undefined, { via });
      entry.bytes = serializeSipMessage(ack, { contentLength: 'compute' });
      entry.target = target;
      keep();
      onAck?.(ack);
      // Not awaited: the caller gets the dialog before any I/O callback (the peer may act on the ACK at once).
      void this.io.send(entry.bytes, target);
      return { dialog, ack };
    };
    if (policy === 'auto') return Promise.resolve(sendFirst());
    keep();
    return new Promise((resolve) => {
      entry.hold = this.io.clock.setTimer(policy.afterMs, () => resolve(sendFirst()));
    });
  }

  /** Whether a response is a 2xx this core has seen (so a stray one is a retransmission to re-ACK). */
  knows(response: SipResponse): boolean {
    const key = ackKey(response);
    return key !== undefined && this.acks.has(key);
  }

  /** Re-sends the ACK of a known 2xx (a stray retransmission after the transaction ended). */
  reAck(response: SipResponse): void {
    const key = ackKey(response);
    const entry = key === undefined ? undefined : this.acks.get(key);
    if (entry?.bytes !== undefined && entry.target !== undefined && !this.closed) void this.io.send(entry.bytes, entry.target);
  }

  close(): void {
    this.closed = true;
    for (const entry of this.acks.values()) {
      entry.expiry?.cancel();
      entry.hold?.cancel();
    }
    this.acks.clear();
  }
}


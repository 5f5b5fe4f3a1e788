/**
 * The PF's sessions, shared by its outgoing INVITE and its request routing: every deferred
 * session by id, every MSRP engine it opened (a rejected INVITE's too, so a late connect stays
 * visible and close() reaches it), and the Call-IDs of its INVITEs for retransmission detection.
 */
import { localMsrpUri, MsrpSession } from '../msrp/session.ts';
import type { SipRequest } from '../sip/message.ts';
import type { MsrpInviteSession } from '../session/msrp-invite.ts';
import type { PfContext } from './context.ts';
import { msrpTraceTap, PfDeferredSession } from './deferred-session.ts';

export class PfSessionTable {
  private readonly sessions = new Map<string, PfDeferredSession>();
  private readonly engines: MsrpSession[] = [];
  /** Call-IDs of PF INVITEs, and the INVITE responses seen per call. */
  readonly inviteCalls = new Map<string, Set<string>>();
  private counter = 0;

  constructor(private readonly ctx: PfContext) {}

  /** `s1`, `s2`, …: the id of the next session (its MSRP trace is tagged with it from the start). */
  nextId(): string {
    return `s${++this.counter}`;
  }

  /** A passive MSRP engine for session `id`, on the PF's address, traced and closed with the PF. */
  newMsrp(id: string): MsrpSession {
    const { config } = this.ctx;
    const msrp = MsrpSession.create({
      localUri: localMsrpUri(config.address),
      role: 'passive',
      actor: this.ctx.actor,
      trace: msrpTraceTap(this.ctx, () => id),
      clock: this.ctx.clock,
      transactionTimeoutMs: config.windows.msrpTransactionMs,
      limits: config.limits,
      // The case's fault boundary, and its watch on the client: the MSRP side of the fault boundary.
      boundary: this.ctx.boundary,
      ...(this.ctx.watch === undefined ? {} : { watch: this.ctx.watch }),
    });
    this.engines.push(msrp);
    return msrp;
  }

  /** The PF's side of an MSRP INVITE session (either direction): connecting at once when it is the active one. */
  open(id: string, media: MsrpInviteSession): PfDeferredSession {
    const session = new PfDeferredSession(this.ctx, { id, media });
    this.sessions.set(id, session);
    session.startConnecting();
    return session;
  }

  /** The session whose dialog the request belongs to. */
  sessionOf(request: SipRequest): PfDeferredSession | undefined {
    for (const s of this.sessions.values()) if (s.dialog.matches(request)) return s;
    return undefined;
  }

  async closeAll(): Promise<void> {
    const closing = [...this.sessions.values()].map((s) => s.close().catch(() => undefined));
    closing.push(...this.engines.map((m) => m.close().catch(() => undefined)));
    await Promise.all(closing);
  }
}

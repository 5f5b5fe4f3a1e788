/**
 * One SIP dialog + MSRP session of the PF (the deferred-delivery session it invited the client to,
 * or a re-join it accepted). Delivers CPIM-wrapped deferred messages only once the MSRP session is
 * bound (H5), one transaction per chunk, and ends with BYE (H6). MSRP activity goes to the log.
 */
import { connectionsOnly, isDiscarding, type ConnectionTraceEvent, type TraceEvent, type TraceSink } from '../core/trace.ts';
import { buildGroupChatMessage, parseCpim, cpimHeader } from '../cpim/cpim.ts';
import { formatRfc3339 } from '../cpim/datetime.ts';
import { randomToken } from '../core/ids.ts';
import { IMDN_CONTENT_TYPE, parseImdnXml } from '../imdn/imdn.ts';
import { chunkMessage } from '../msrp/chunker.ts';
import { failureReportOf } from '../msrp/frame.ts';
import { buildReport, buildSend, newMessageId } from '../msrp/serializer.ts';
import type { MsrpSession, TransactionOutcome } from '../msrp/session.ts';
import type { MsrpInviteSession } from '../session/msrp-invite.ts';
import { buildResponse } from '../sip/build.ts';
import type { Dialog } from '../sip/dialog.ts';
import type { SipResponse } from '../sip/message.ts';
import type { ServerTransaction } from '../sip/stack.ts';
import type { PfContext } from './context.ts';
import type {
  ChunkOutcome,
  DeferredMessageSpec,
  DeferredSession,
  DeliveryResult,
  ReportSpec,
  SendOutcomeValue,
  SessionState,
} from './types.ts';

const DAY_MS = 86_400_000;
const READY: { ok: true } = { ok: true };

/**
 * A trace sink for one MSRP session: forwards everything, and turns TCP connects/accepts into
 * `msrp-connection` events (the session engine reports closes itself, with who and why).
 */
export function msrpTraceTap(ctx: PfContext, sessionId: () => string): TraceSink {
  const tap = (event: TraceEvent) => {
    ctx.trace(event);
    if (event.kind !== 'connection' || event.protocol !== 'msrp') return;
    const state = (event as ConnectionTraceEvent).state;
    if (state === 'connected' || state === 'accepted') {
      ctx.log.append({ type: 'msrp-connection', sessionId: sessionId(), state, reason: event.reason });
    }
  };
  // In front of a discarding trace the tap needs only connection events: message events are not built.
  return isDiscarding(ctx.trace) ? connectionsOnly(tap) : tap;
}

export interface SessionInit {
  id: string;
  /** The negotiated MSRP INVITE session; its dialog must exist. */
  media: MsrpInviteSession;
}

export class PfDeferredSession implements DeferredSession {
  readonly id: string;
  readonly dialog: Dialog;
  readonly msrp: MsrpSession | null;
  readonly localPath: string;
  readonly remotePath: readonly string[];
  readonly pfRole: 'active' | 'passive';
  private current: SessionState = 'established';
  private readonly media: MsrpInviteSession;
  private connecting: Promise<TransactionOutcome> | null = null;
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly ctx: PfContext,
    init: SessionInit,
  ) {
    this.id = init.id;
    this.media = init.media;
    this.dialog = init.media.dialog!;
    // No usable MSRP stream in the SDP exchange: the session has no MSRP side at all.
    this.msrp = init.media.usable ? init.media.msrp : null;
    this.localPath = init.media.local.path;
    this.remotePath = init.media.remote.path;
    this.pfRole = init.media.role;
    if (this.msrp) this.observe(this.msrp);
  }

  get state(): SessionState {
    return this.current;
  }

  /** PF active (a=setup roles): connect to the first URI of the client's a=path and bind. */
  startConnecting(): void {
    if (!this.msrp || this.connecting) return;
    this.connecting = this.media.connect(this.ctx.config.windows.msrpConnectMs);
  }

  async ready(withinMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (this.current !== 'established') return { ok: false, reason: `session ${this.current}` };
    if (!this.msrp) return { ok: false, reason: 'no usable MSRP stream in the SDP exchange' };
    if (this.msrp.isBound) return { ok: true };
    if (this.connecting) {
      let timer: { cancel(): void } = { cancel: () => {} };
      const timeout = new Promise<'timeout'>((resolve) => (timer = this.ctx.clock.setWindow(withinMs, () => resolve('timeout'))));
      const outcome = await Promise.race([this.connecting, timeout]);
      timer.cancel();
      if (outcome === 'timeout') return { ok: false, reason: `MSRP connection not bound within ${withinMs} ms` };
      if (!outcome.ok) return { ok: false, reason: `PF could not connect and bind: ${outcome.error.message}` };
      return this.msrp.isBound ? { ok: true } : { ok: false, reason: 'bind SEND answered but the connection is not bound' };
    }
    const bound = await this.msrp.waitFor('bound', withinMs);
    return bound.ok ? { ok: true } : { ok: false, reason: `the client did not connect and bind within ${withinMs} ms` };
  }

  async deliver(spec: DeferredMessageSpec = {}): Promise<DeliveryResult> {
    const startSeq = this.ctx.log.mark();
    const dateTime = spec.dateTime ?? formatRfc3339(new Date(Date.now() - DAY_MS));
    const imdnMessageId = spec.imdnMessageId ?? randomToken(8);
    const disposition = spec.disposition === undefined ? (['positive-delivery', 'display'] as const) : spec.disposition;
    const cpim = buildGroupChatMessage({
      from: `<${spec.from ?? this.ctx.config.identities.originalSender}>`,
      to: `<${spec.to ?? this.ctx.group.identity}>`,
      dateTime,
      imdnMessageId,
      dispositionNotification: disposition,
      text: spec.text ?? 'Hi all, see you at 8',
    });
    const msrpMessageId = newMessageId();
    const result: DeliveryResult = { imdnMessageId, msrpMessageId, cpim, dateTime, chunks: [], startSeq };
    // A bound, established session is ready now: only the other cases wait (one await less per message).
    const ready = this.current === 'established' && this.msrp?.isBound === true ? READY : await this.ready(this.ctx.config.windows.msrpConnectMs);
    if (!ready.ok || !this.msrp) return { ...result, failure: ready.ok ? 'no MSRP session' : ready.reason };
    const successReport = spec.successReport === undefined ? 'no' : spec.successReport;
    const failureReport = spec.failureReport === undefined ? 'yes' : spec.failureReport;
    const chunks = chunkMessage(cpim, { chunkSize: spec.chunkSize ?? cpim.length, ...(spec.unknownTotal ? { unknownTotal: true } : {}) });
    for (const chunk of chunks) {
      const frame = buildSend({
        toPath: this.remotePath.join(' '),
        fromPath: this.localPath,
        body: chunk.body,
        contentType: 'message/cpim',
        messageId: msrpMessageId,
        byteRange: chunk.byteRange,
        successReport,
        failureReport,
        flag: chunk.flag,
      });
      const expectResponse = failureReportOf(frame) === 'yes';
      const outcome = await this.msrp.sendFrame(frame, { expectResponse });
      const entry = chunkOutcome(frame.transactionId, chunk.byteRange, outcome, expectResponse);
      result.chunks.push(entry);
      if (entry.outcome === 'closed' || entry.outcome === 'timeout') break;
    }
    return result;
  }

  async sendReport(spec: ReportSpec): Promise<SendOutcomeValue & { transactionId?: string }> {
    if (!this.msrp) return { ok: false, reason: 'no MSRP session' };
    const send = buildSend({ toPath: this.localPath, fromPath: this.remotePath.join(' '), body: null, messageId: spec.messageId, byteRange: spec.byteRange });
    const report = buildReport(send, 200, { localUri: this.localPath });
    if (spec.status !== undefined) report.headers = report.headers.map((h) => (h.name === 'Status' ? { name: 'Status', value: spec.status! } : h));
    report.headers = report.headers.map((h) => (h.name === 'Byte-Range' ? { name: 'Byte-Range', value: spec.byteRange } : h));
    const outcome = await this.msrp.sendFrame(report, { expectResponse: false });
    if (!outcome.ok) return { ok: false, reason: outcome.error.message, transactionId: report.transactionId };
    return { ok: true, bytes: Buffer.alloc(0), transactionId: report.transactionId };
  }

  async sendMsrpRaw(bytes: Buffer): Promise<SendOutcomeValue> {
    if (!this.msrp) return { ok: false, reason: 'no MSRP session' };
    const written = await this.msrp.sendRaw(bytes);
    return written.ok ? { ok: true, bytes } : { ok: false, reason: written.error.message };
  }

  async bye(options: { headers?: { name: string; value: string }[] } = {}): Promise<{ response: SipResponse | null; failure?: string }> {
    if (this.current !== 'established') return { response: null, failure: `session already ${this.current}` };
    const sent = this.ctx.stack.sendInDialog(this.dialog, 'BYE', options.headers ? { headers: options.headers } : {});
    this.current = 'terminated-by-pf';
    if ('failure' in sent) {
      await this.closeMsrp();
      return { response: null, failure: sent.failure };
    }
    this.ctx.log.append({ type: 'request-sent', request: sent.request, sessionId: this.id });
    const outcome = await sent.transaction.result;
    this.dialog.terminate();
    // PROTOCOLS §2.13: the MSRP connection goes once the BYE transaction has completed.
    await this.closeMsrp();
    if (outcome.kind === 'response') return { response: outcome.response };
    return { response: null, failure: outcome.kind === 'timeout' ? `no response to the BYE within Timer F (64·T1 = ${64 * this.ctx.stack.timers.t1} ms, RFC 3261 §17.1.2.2)` : outcome.error.message };
  }

  /** The client's BYE in this dialog: 200 (or 500 on a CSeq violation), then MSRP goes. */
  onClientBye(txn: ServerTransaction): number {
    const problems = this.dialog.acceptRemoteRequest(txn.request).filter((d) => d.severity === 'error');
    const status = problems.length > 0 ? 500 : 200;
    txn.respond(buildResponse(txn.request, status));
    if (status === 200 && this.current === 'established') {
      this.current = 'terminated-by-client';
      this.ctx.boundary.detach('pf: MSRP close after BYE', this.closeMsrp());
    }
    return status;
  }

  async close(): Promise<void> {
    for (const off of this.detach) off();
    await this.closeMsrp();
  }

  private async closeMsrp(): Promise<void> {
    if (!this.msrp) return;
    try {
      await this.msrp.close();
    } catch {
      // close() must never throw; the trace already holds whatever went wrong.
    }
  }

  private observe(msrp: MsrpSession): void {
    const log = this.ctx.log;
    const sessionId = this.id;
    this.detach.push(
      msrp.on('frame', (f) => {
        if (f.direction === 'in') log.append({ type: 'msrp-frame-in', sessionId, frame: f.frame, raw: f.raw, diagnostics: f.diagnostics });
      }),
      msrp.on('response', (frame) => log.append({ type: 'msrp-response', sessionId, frame })),
      msrp.on('report', (frame) => log.append({ type: 'msrp-report', sessionId, frame })),
      msrp.on('closed', (c) => log.append({ type: 'msrp-connection', sessionId, state: 'closed', by: c.by, reason: c.reason })),
      msrp.on('message', (m) => {
        const contentType = m.contentType ?? '';
        const event: Extract<Parameters<typeof log.append>[0], { type: 'msrp-message' }> = {
          type: 'msrp-message',
          sessionId,
          contentType,
          body: m.body,
          messageId: m.messageId,
          chunks: m.frames.length,
          transactionIds: m.transactionIds,
          diagnostics: [...m.diagnostics],
        };
        if (/^message\/cpim\b/i.test(contentType.trim())) {
          const cpim = parseCpim(m.body, { limits: this.ctx.config.limits });
          event.cpim = cpim;
          event.diagnostics.push(...cpim.diagnostics);
          const inner = cpim.mime.contentType ?? cpimHeader(cpim, 'Content-Type')?.value;
          if (inner !== undefined && inner.toLowerCase().startsWith(IMDN_CONTENT_TYPE)) {
            const imdn = parseImdnXml(cpim.content, { limits: this.ctx.config.limits });
            event.imdn = imdn;
            event.diagnostics.push(...imdn.diagnostics);
          }
        }
        log.append(event);
      }),
    );
  }
}

function chunkOutcome(transactionId: string, byteRange: string, outcome: TransactionOutcome, expectResponse: boolean): ChunkOutcome {
  if (outcome.ok) return { transactionId, byteRange, response: outcome.response, outcome: expectResponse ? 'response' : 'not-expected' };
  if (outcome.response) return { transactionId, byteRange, response: outcome.response, outcome: 'response' };
  const code = outcome.error.code;
  return { transactionId, byteRange, response: null, outcome: code === 'MSRP_TRANSACTION_TIMEOUT' ? 'timeout' : 'closed' };
}

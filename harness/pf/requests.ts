/**
 * Everything the client sends the PF, routed by method: REGISTER to the registrar, SUBSCRIBE to
 * the conference notifier, INVITE (a re-join to accept or refuse per policy, a re-INVITE to
 * refuse), BYE to its session, the rest answered per dialog; requests in an earlier case's
 * Call-ID are answered 481 as stale. The transport tap logs every INVITE response and parser
 * diagnostic. Every answer is logged as a PfEvent; nothing here judges the client.
 */
import { buildMsrpAnswer } from '../sdp/build.ts';
import { parseSdp } from '../sdp/parse.ts';
import { answerSetupFor } from '../sdp/setup.ts';
import { answererRole, listenLocal, MsrpInviteSession, remoteOf } from '../session/msrp-invite.ts';
import { buildResponse } from '../sip/build.ts';
import { Dialog } from '../sip/dialog.ts';
import { tagOf } from '../sip/headers.ts';
import { headerValue, type SipRequest, type SipResponse } from '../sip/message.ts';
import type { Registrar } from '../sip/registrar.ts';
import type { ServerTransaction } from '../sip/stack.ts';
import type { InboundMessage } from '../sip/transport.ts';
import { isGroupUri } from './conference.ts';
import { groupContact, pfRecordRoute, type PfContext } from './context.ts';
import { PF_ALLOW_EVENTS } from './invite-builder.ts';
import type { ConferenceNotifier } from './notifier.ts';
import type { PfSessionTable } from './session-table.ts';

export function isSdp(message: SipRequest | SipResponse): boolean {
  return (headerValue(message, 'content-type') ?? '').trim().toLowerCase().startsWith('application/sdp') && message.body.length > 0;
}

export interface PfRequestDeps {
  readonly registrar: Registrar;
  readonly notifier: ConferenceNotifier;
  readonly staleCallIds: ReadonlySet<string>;
  /** The current re-join policy (mutable between steps). */
  rejoin(): { answer: 'accept' | number };
  closed(): boolean;
}

export class PfRequests {
  constructor(
    private readonly ctx: PfContext,
    private readonly table: PfSessionTable,
    private readonly deps: PfRequestDeps,
  ) {}

  /** Logs every INVITE response (incl. retransmissions) and every parser diagnostic. */
  tap(inbound: InboundMessage): void {
    if (this.deps.closed()) return;
    const { parsed } = inbound;
    if (parsed.diagnostics.length > 0 || parsed.message === null) {
      this.ctx.log.append({ type: 'sip-invalid', diagnostics: [...parsed.diagnostics], bytes: parsed.raw });
    }
    const message = parsed.message;
    if (message === null || message.kind !== 'response') return;
    const seen = this.table.inviteCalls.get(headerValue(message, 'call-id') ?? '');
    const cseq = headerValue(message, 'cseq') ?? '';
    if (seen === undefined || !/\bINVITE\s*$/i.test(cseq)) return;
    const key = `${message.status}|${tagOf(headerValue(message, 'to') ?? '') ?? ''}|${cseq}`;
    const retransmission = seen.has(key);
    seen.add(key);
    this.ctx.log.append({ type: 'invite-response', response: message, retransmission });
  }

  /** Every request the client sends, answered per the current policy and logged. */
  onRequest(txn: ServerTransaction): void {
    if (this.deps.closed()) return;
    const request = txn.request;
    // REGISTER refreshes legitimately keep their Call-ID across cases (RFC 3261 §10.2.4).
    if (request.method !== 'REGISTER' && this.deps.staleCallIds.has(headerValue(request, 'call-id') ?? '')) {
      txn.respond(buildResponse(request, 481));
      this.ctx.log.append({ type: 'stale-request', request, answeredWith: 481 });
      return;
    }
    switch (request.method) {
      case 'REGISTER':
        return this.onRegister(txn);
      case 'SUBSCRIBE':
        return this.deps.notifier.handleSubscribe(txn);
      case 'INVITE':
        return this.onInvite(txn);
      case 'BYE':
        return this.onBye(txn);
      default:
        return this.onOther(txn);
    }
  }

  private onRegister(txn: ServerTransaction): void {
    const decision = this.deps.registrar.handleRegister(txn.request, txn.source);
    txn.respond(decision.response);
    if (decision.changes.length === 0) {
      this.ctx.log.append({ type: 'client-request', request: txn.request, answeredWith: decision.response.status });
      return;
    }
    for (const change of decision.changes) {
      const expires = change.kind === 'unregistered' ? 0 : change.binding.expires;
      this.ctx.log.append({ type: 'register', request: txn.request, binding: change.binding, expires });
    }
  }

  private onBye(txn: ServerTransaction): void {
    const session = this.table.sessionOf(txn.request);
    if (session === undefined) {
      txn.respond(buildResponse(txn.request, 481));
      this.ctx.log.append({ type: 'client-bye', request: txn.request });
      return;
    }
    session.onClientBye(txn);
    this.ctx.log.append({ type: 'client-bye', request: txn.request, sessionId: session.id });
  }

  private onInvite(txn: ServerTransaction): void {
    const request = txn.request;
    if (tagOf(headerValue(request, 'to') ?? '') !== undefined) {
      // A re-INVITE: the PF keeps the session as it is (RFC 3261 §14.2: rejecting leaves it unchanged).
      const session = this.table.sessionOf(request);
      const status = session === undefined ? 481 : 488;
      if (session) session.dialog.acceptRemoteRequest(request);
      txn.respond(buildResponse(request, status));
      this.ctx.log.append({ type: 'client-invite', request, answeredWith: status, inDialog: true });
      return;
    }
    if (!isGroupUri(request.uri, this.ctx.group.identity)) {
      txn.respond(buildResponse(request, 404));
      this.ctx.log.append({ type: 'client-invite', request, answeredWith: 404, inDialog: false });
      return;
    }
    const policy = this.deps.rejoin().answer;
    if (policy !== 'accept') {
      const status = policy;
      txn.respond(buildResponse(request, status));
      this.ctx.log.append({ type: 'client-invite', request, answeredWith: status, inDialog: false });
      return;
    }
    this.ctx.boundary.detach('pf: re-join INVITE', this.acceptRejoin(txn));
  }

  /** 7.3.12-2a: a re-join to the group identity, answered 200 with an MSRP answer. */
  private async acceptRejoin(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    const remote = remoteOf(isSdp(request) ? parseSdp(request.body) : undefined);
    if (remote.media === undefined || remote.path.length === 0) {
      txn.respond(buildResponse(request, 488, undefined, { headers: [{ name: 'Warning', value: '399 cpm-pf "no usable MSRP stream in the offer"' }] }));
      this.ctx.log.append({ type: 'client-invite', request, answeredWith: 488, inDialog: false });
      return;
    }
    const id = this.table.nextId();
    const msrp = this.table.newMsrp(id);
    // The PF listens even when it answers active, so its SDP always names a real port.
    const local = await listenLocal(msrp);
    if (local.error !== undefined || this.deps.closed()) {
      txn.respond(buildResponse(request, 500));
      this.ctx.log.append({ type: 'client-invite', request, answeredWith: 500, inDialog: false });
      return;
    }
    const setup = answerSetupFor(remote.media.setup);
    const sdp = buildMsrpAnswer({
      address: this.ctx.config.address,
      port: local.uri.port ?? 0,
      path: [local.path],
      setup: setup === 'holdconn' ? 'passive' : setup,
      mediaDirection: 'sendrecv',
      sessionId: Math.floor(Math.random() * 2 ** 31),
    });
    const response = buildResponse(request, 200, undefined, {
      contact: groupContact(this.ctx, true),
      recordRoute: [pfRecordRoute(this.ctx)],
      headers: [{ name: 'Allow-Events', value: PF_ALLOW_EVENTS }],
      body: sdp,
      contentType: 'application/sdp',
    });
    txn.respond(response);
    const dialog = Dialog.fromUas(request, response);
    if (!dialog.ok) {
      this.ctx.log.append({ type: 'client-invite', request, answeredWith: 200, inDialog: false });
      return;
    }
    const session = this.table.open(id, new MsrpInviteSession({ dialog: dialog.value, msrp, role: answererRole(setup), local, remote }));
    this.ctx.log.append({ type: 'client-invite', request, answeredWith: 200, session, inDialog: false });
  }

  /** MESSAGE (pager-mode IMDNs are evidence), OPTIONS: 200; in-dialog others per dialog; rest 501. */
  private onOther(txn: ServerTransaction): void {
    const request = txn.request;
    let status: number;
    if (request.method === 'MESSAGE' || request.method === 'OPTIONS') status = 200;
    else if (request.method === 'NOTIFY' || request.method === 'UPDATE' || request.method === 'INFO') {
      status = this.table.sessionOf(request) === undefined && !this.deps.notifier.owns(request) ? 481 : 200;
    } else status = 501;
    // RFC 6665 §4.4.4: OPTIONS responses name the packages the PF notifies.
    const allowEvents = request.method === 'OPTIONS' && status === 200 ? { headers: [{ name: 'Allow-Events', value: PF_ALLOW_EVENTS }] } : {};
    txn.respond(buildResponse(request, status, undefined, allowEvents));
    this.ctx.log.append({ type: 'client-request', request, answeredWith: status });
  }
}

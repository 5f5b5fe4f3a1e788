/**
 * The group sessions of the reference client: answering the PF's INVITE (7.3.12-1a), the re-join
 * (7.3.12-2a), both through the MSRP INVITE-session block; the messages on a session — every chunk
 * answered, the requested IMDNs, the outbox flushed once bound — and the BYEs either way.
 */
import { newBranch, newCallId, newTag, randomToken } from '../core/ids.ts';
import { buildGroupChatMessage, cpimHeader, headerUri, imdnHeader, parseCpim, requestedDispositions } from '../cpim/cpim.ts';
import { formatRfc3339 } from '../cpim/datetime.ts';
import type { ImdnKind } from '../imdn/imdn.ts';
import { localMsrpUri, MsrpSession, type MsrpMessageEvent, type MsrpPolicy } from '../msrp/session.ts';
import type { MsrpUri } from '../msrp/uri.ts';
import { buildMsrpAnswer, buildMsrpOffer } from '../sdp/build.ts';
import { parseSdp } from '../sdp/parse.ts';
import { answererRole, listenLocal, localOf, MsrpInviteSession, remoteOf } from '../session/msrp-invite.ts';
import { buildRequest, buildResponse } from '../sip/build.ts';
import { Dialog } from '../sip/dialog.ts';
import { parseContentType } from '../sip/headers.ts';
import { headerValue, headerValues, type SipHeaderField, type SipRequest } from '../sip/message.ts';
import type { ServerTransaction } from '../sip/stack.ts';
import { afterDelivery, answerShape, byeResponse, decideInvite, imdnEnvelope, imdnPayload, imdnRoute, notificationsFor, patienceMs, rejoinAcceptContact, respondToSend, responsePaths, routeOutgoing, sameIdentity, sendQueuedOnRejoin, sendsAfterBye, whenToSubscribe, type OriginalMessage } from './decisions.ts';
import { ClientCore, ALLOW, DISCARD_PORT, angle, copyRequestPaths, tagOfTo, type Group, type Session } from './core.ts';
import type { Subscriber } from './subscriber.ts';

export class GroupSessions {
  constructor(private readonly core: ClientCore, private readonly subscriber: Subscriber) {}

  async onInvite(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    const env = this.core.env;
    if (env === null) return;
    // A re-INVITE changes nothing here; rejecting it leaves the session as it was (RFC 3261 §14.2).
    if (tagOfTo(request) !== undefined) {
      const known = this.core.sessions.some((s) => s.dialog?.matches(request));
      txn.respond(buildResponse(request, known ? 488 : 481, undefined, known ? { headers: [{ name: 'Warning', value: `399 ${env.registrar.address} "session modification not supported"` }] } : {}));
      return;
    }
    const contentType = headerValue(request, 'content-type');
    const type = contentType === undefined ? undefined : parseContentType(contentType);
    const isSdp = type?.ok === true && type.value.type === 'application' && type.value.subtype === 'sdp' && request.body.length > 0;
    const offer = isSdp ? parseSdp(request.body) : null;
    const decision = decideInvite({ acceptContact: headerValues(request, 'accept-contact'), sdp: offer, agent: env.registrar.address, headerNames: request.headers.map((h) => h.name) }, this.core.b);
    if (decision.kind === 'ignore') return;
    if (decision.kind === 'reject') {
      const headers: SipHeaderField[] = decision.warning === undefined ? [] : [{ name: 'Warning', value: decision.warning }];
      const response = buildResponse(request, decision.status, undefined, { headers });
      txn.respond(response);
      if (decision.subscribe) this.core.track(this.subscriber.subscribe(this.core.groupFor(this.core.focusOf(request))));
      if (decision.bye) this.core.track(this.byeOutsideDialog(request, headerValue(response, 'to') ?? ''));
      return;
    }

    const group = this.core.groupFor(this.core.focusOf(request));
    group.target = this.core.focusOf(request);
    const contribution = headerValue(request, 'contribution-id');
    const conversation = headerValue(request, 'conversation-id');
    if (contribution !== undefined) group.contributionId = contribution;
    if (conversation !== undefined) group.conversationId = conversation;

    const remote = remoteOf(offer);
    const host = env.registrar.address;
    const shape = answerShape(this.core.b, { host, sessionId: randomToken(10) });
    const role = shape.role ?? answererRole(decision.setup);
    const msrp = this.newMsrpSession(role, role === 'active' ? DISCARD_PORT : 0, [...remote.uris]);
    let local = localOf(msrp);
    if (role === 'passive' && shape.listen) {
      local = await listenLocal(msrp);
      if (local.error !== undefined || this.core.closed) {
        await msrp.close();
        txn.respond(buildResponse(request, 500, undefined, { headers: [{ name: 'Warning', value: `399 ${host} "cannot listen for MSRP"` }] }));
        return;
      }
    }
    const answer = buildMsrpAnswer({
      address: host,
      port: role === 'active' ? DISCARD_PORT : (local.uri.port ?? 0),
      path: [local.path],
      setup: decision.setup,
      sessionId: Date.now(),
      ...shape.options,
    });
    const response = buildResponse(request, 200, undefined, {
      contact: this.core.contactValue(),
      headers: [{ name: 'Allow', value: ALLOW }],
      body: answer,
      contentType: 'application/sdp',
    });
    const dialog = Dialog.fromUas(request, response);
    const session: Session = {
      id: randomToken(4),
      group,
      origin: 'pf',
      dialog: dialog.ok ? dialog.value : null,
      msrp,
      media: new MsrpInviteSession({ dialog: dialog.ok ? dialog.value : null, msrp, role, local, remote }),
      state: 'early',
    };
    this.core.sessions.push(session);
    this.wireSession(session);
    txn.on('ack', () => this.core.track(this.onSessionConfirmed(session)));
    txn.on('ack-timeout', () => this.core.track(this.hangUp(session)));
    txn.respond(response);
    if (whenToSubscribe(this.core.b) === 'before-ack') this.core.track(this.subscriber.subscribe(group));
  }

  /** ACK received: the session is established (7.3.12-1b-sub "once the SIP session is established"). */
  async onSessionConfirmed(session: Session): Promise<void> {
    if (session.state !== 'early') return;
    session.state = 'established';
    const patience = patienceMs(this.core.b);
    if (patience !== null) this.core.later(patience, () => void (this.core.received.length === 0 && this.core.track(this.hangUp(session))));
    if (whenToSubscribe(this.core.b) === 'after-ack') this.core.track(this.subscriber.subscribe(session.group));
    // The answerer that chose a=setup:active connects once the session is confirmed.
    await session.media.connect(this.core.waitMs());
  }

  async onBye(txn: ServerTransaction): Promise<void> {
    const session = this.core.sessions.find((s) => s.state !== 'terminated' && s.dialog?.matches(txn.request));
    if (session === undefined) {
      txn.respond(buildResponse(txn.request, 481));
      return;
    }
    const status = byeResponse(this.core.b);
    if (status === null) return;
    if (sendsAfterBye(this.core.b)) await this.sendChat(session, 'Still here after your BYE');
    txn.respond(buildResponse(txn.request, status));
    if (status >= 200 && status < 300) await this.endSession(session);
  }

  newMsrpSession(role: 'active' | 'passive', port: number, remotePath: MsrpUri[]): MsrpSession {
    const host = this.core.env?.registrar.address ?? '127.0.0.1';
    const session = MsrpSession.create({
      localUri: localMsrpUri(host, port),
      role,
      remotePath,
      actor: this.core.actor,
      trace: this.core.trace,
      clock: this.core.clock,
      transactionTimeoutMs: this.core.waitMs(),
      policy: this.msrpPolicy(),
      ...this.core.wiring,
    });
    // Every MSRP session, bound to a SIP session yet or not, is closed by stop().
    this.core.allMsrp.add(session);
    if (this.core.closed) void session.close();
    return session;
  }

  /** RFC 4975 §7.1.2/§7.2 behaviour of the engine, decided by the same functions the tests table. */
  msrpPolicy(): Partial<MsrpPolicy> {
    const b = this.core.b;
    return {
      respondToSend: (request) => {
        const value = (request.headers.find((h) => h.name.toLowerCase() === 'failure-report')?.value ?? 'yes').trim().toLowerCase();
        const failureReport = value === 'no' || value === 'partial' ? value : 'yes';
        return respondToSend(failureReport, b, (request.body?.length ?? 0) > 0) ? { status: 200 } : null;
      },
      sendReports: b.msrpReports,
      respondToReport: b.msrpRespondToReport,
      ...(responsePaths(b) === 'copied' ? { reshapeResponse: copyRequestPaths } : {}),
    };
  }

  wireSession(session: Session): void {
    session.msrp.on('message', (event) => this.core.track(this.onMsrpMessage(session, event)));
    session.msrp.on('bound', () => this.core.track(this.flushOutbox(session)));
  }

  async onMsrpMessage(session: Session, event: MsrpMessageEvent): Promise<void> {
    if (!/^message\/cpim\b/i.test(event.contentType ?? '')) return;
    const cpim = parseCpim(event.body);
    const inner = (cpim.mime.contentType ?? '').toLowerCase();
    // Notifications about our own messages are not notified back (RFC 5438 §7).
    if (inner.startsWith('message/imdn+xml')) return;
    const from = cpimHeader(cpim, 'From');
    const to = cpimHeader(cpim, 'To');
    const messageId = imdnHeader(cpim, 'Message-ID')?.value.trim();
    const original: OriginalMessage = {
      from: from ? headerUri(from.value) : '',
      to: to ? headerUri(to.value) : session.group.identity,
      imdnMessageId: messageId ?? '',
      dateTime: cpimHeader(cpim, 'DateTime')?.value.trim() ?? '',
    };
    this.core.received.push({ group: session.group.identity, from: original.from, text: cpim.content.toString('utf8'), ...(messageId ? { imdnMessageId: messageId } : {}) });
    if (messageId === undefined || messageId === '') return;
    const requested = requestedDispositions(cpim);
    if (!this.core.displayable.has(messageId)) this.core.displayable.set(messageId, { original, requested, session, displayed: false });
    const kinds: ImdnKind[] = [];
    for (let i = 0; i < event.frames.length; i++) kinds.push(...notificationsFor(requested, 'chunk', this.core.b));
    kinds.push(...notificationsFor(requested, 'complete', this.core.b));
    for (const kind of kinds) await this.sendImdn(session, original, kind);
    const after = this.core.outbox.length === 0 ? afterDelivery(this.core.b, event.frames.length) : 'wait-for-pf';
    if (after === 'bye') await this.hangUp(session);
    else if (after === 'close-msrp') await session.msrp.close();
  }

  async sendImdn(session: Session, original: OriginalMessage, kind: ImdnKind): Promise<void> {
    const env = this.core.env;
    const stack = this.core.stack;
    if (env === null || stack === null || this.core.closed) return;
    const route = imdnRoute(this.core.b);
    if (route === 'none') return;
    const envelope = imdnEnvelope(original, kind, { ownAor: env.aor, groupIdentity: session.group.identity, ownImdnMessageId: randomToken(8), now: new Date() }, this.core.b);
    const { body, contentType } = imdnPayload(envelope);
    if (route === 'msrp') {
      // Only on this session while it lasts (7.3.12-1a-i-2); never on a session the PF has ended (N11).
      if (session.state !== 'terminated' && session.msrp.isBound) await session.msrp.send({ body, contentType });
      return;
    }
    const request = buildRequest({
      method: 'MESSAGE',
      uri: original.from,
      via: stack.viaFor(env.registrar.transport, newBranch()),
      from: `${angle(env.aor)};tag=${newTag()}`,
      to: angle(original.from),
      callId: newCallId(env.registrar.address),
      cseq: 1,
      body,
      contentType: 'message/cpim',
    });
    await stack.sendRequest(request, this.core.registrarTarget()).result;
  }

  /** A mutant's BYE for an INVITE it rejected: no dialog exists (RFC 3261 §15 forbids it). */
  private async byeOutsideDialog(invite: SipRequest, ourTo: string): Promise<void> {
    const env = this.core.env;
    const stack = this.core.stack;
    if (env === null || stack === null || this.core.closed) return;
    const request = buildRequest({
      method: 'BYE',
      uri: this.core.focusOf(invite),
      via: stack.viaFor(env.registrar.transport, newBranch()),
      from: ourTo,
      to: headerValue(invite, 'from') ?? '',
      callId: headerValue(invite, 'call-id') ?? '',
      cseq: 1,
    });
    await stack.sendRequest(request, this.core.registrarTarget()).result;
  }

  /** Sends the group's queued messages: on this session, or (mutant) by a new re-join. */
  async flushOutbox(session: Session): Promise<void> {
    const group = session.group;
    const queued = this.core.outbox.filter((e) => sameIdentity(e.group, group.identity));
    if (queued.length === 0 || session.state === 'terminated') return;
    if (session.origin === 'pf' && routeOutgoing({ sessionUp: true, registered: this.core.registered }, this.core.b) === 'rejoin') {
      this.core.track(this.rejoin(group, true));
      return;
    }
    if (session.origin === 'rejoin' && !sendQueuedOnRejoin(this.core.b)) {
      for (const entry of queued) this.core.outbox.splice(this.core.outbox.indexOf(entry), 1);
      return;
    }
    for (const entry of queued) {
      const index = this.core.outbox.indexOf(entry);
      if (index === -1) continue;
      this.core.outbox.splice(index, 1);
      const sent = await this.sendChat(session, entry.text);
      if (!sent) this.core.outbox.push(entry);
    }
  }

  async sendChat(session: Session, text: string): Promise<boolean> {
    const env = this.core.env;
    if (env === null || !session.msrp.isBound) return false;
    const body = buildGroupChatMessage({
      from: env.aor,
      to: session.group.identity,
      dateTime: formatRfc3339(new Date()),
      imdnMessageId: randomToken(8),
      dispositionNotification: ['positive-delivery', 'display'],
      text,
    });
    const outcome = await session.msrp.send({ body, contentType: 'message/cpim' });
    return outcome.ok;
  }

  async rejoin(group: Group, evenWithSession: boolean): Promise<void> {
    const env = this.core.env;
    const stack = this.core.stack;
    if (env === null || stack === null || this.core.closed || group.joining) return;
    if (!evenWithSession && this.core.liveSession(group) !== undefined) return;
    group.joining = true;
    try {
      const msrp = this.newMsrpSession('passive', 0, []);
      const local = await listenLocal(msrp);
      if (local.error !== undefined || this.core.closed) {
        await msrp.close();
        return;
      }
      const offer = buildMsrpOffer({ address: env.registrar.address, port: local.uri.port ?? 0, path: [local.path], setup: 'actpass', sessionId: Date.now() });
      group.contributionId ??= randomToken(16);
      const acceptContact = rejoinAcceptContact(this.core.b);
      const headers: SipHeaderField[] = [
        ...(acceptContact === null ? [] : [{ name: 'Accept-Contact', value: acceptContact }]),
        { name: 'Contribution-ID', value: group.contributionId },
      ];
      if (group.conversationId !== undefined) headers.push({ name: 'Conversation-ID', value: group.conversationId });
      headers.push({ name: 'Allow', value: ALLOW });
      const invite = buildRequest({
        method: 'INVITE',
        uri: group.target,
        via: stack.viaFor(env.registrar.transport, newBranch()),
        from: `${angle(env.aor)};tag=${newTag()}`,
        to: angle(group.identity),
        callId: newCallId(env.registrar.address),
        cseq: 1,
        contact: this.core.contactValue(),
        headers,
        body: offer,
        contentType: 'application/sdp',
      });
      // The stack's UAC core ACKs the 2xx (and re-ACKs its retransmissions).
      const sent = stack.sendInvite(invite, this.core.registrarTarget());
      const outcome = await sent.transaction.result;
      if (outcome.kind !== 'response' || outcome.response.status < 200 || outcome.response.status >= 300) {
        await msrp.close();
        if (outcome.kind === 'response' && outcome.response.status === 404) group.state = 'inactive';
        return;
      }
      const media = await MsrpInviteSession.fromAnswer(sent, parseSdp(outcome.response.body), 'actpass', msrp, local);
      const session: Session = { id: randomToken(4), group, origin: 'rejoin', dialog: media.dialog, msrp, media, state: 'established' };
      this.core.sessions.push(session);
      this.wireSession(session);
      group.state = 'active';
      if (whenToSubscribe(this.core.b) !== 'never') this.core.track(this.subscriber.subscribe(group));
      await media.connect(this.core.waitMs());
    } finally {
      group.joining = false;
    }
  }

  /** Our own BYE (only the bye-before-pf mutant, or a 2xx never ACKed per §13.3.1.4). */
  async hangUp(session: Session): Promise<void> {
    const env = this.core.env;
    const stack = this.core.stack;
    if (env === null || stack === null || session.state === 'terminated' || session.dialog === null) return;
    session.state = 'terminated';
    const sent = stack.sendInDialog(session.dialog, 'BYE');
    if ('transaction' in sent) await sent.transaction.result;
    await this.endSession(session);
  }

  async endSession(session: Session): Promise<void> {
    session.state = 'terminated';
    if (!this.core.participating(session.group)) this.subscriber.cancelSubscriptionTimers(session.group.subscription);
    await session.msrp.close();
  }
}

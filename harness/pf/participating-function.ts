/**
 * The fake CPM Participating Function: registrar for the client, group focus that invites it to
 * the deferred-delivery session (H1–H6), conference notifier (H7/H8), acceptor of re-join INVITEs.
 * It plays the network and records everything as PfEvents; verdicts belong to the scenarios.
 */
import { systemClock } from '../core/clock.ts';
import { harnessError, HarnessFailure } from '../core/diagnostic.ts';
import { newCallId, newTag } from '../core/ids.ts';
import type { TransportAddress, TransportKind } from '../core/trace.ts';
import { localMsrpUri, MsrpSession } from '../msrp/session.ts';
import { buildMsrpAnswer } from '../sdp/build.ts';
import { answererRole, listenLocal, MsrpInviteSession, remoteOf } from '../session/msrp-invite.ts';
import { parseSdp } from '../sdp/parse.ts';
import { answerSetupFor } from '../sdp/setup.ts';
import { buildCancel, buildRequest, buildResponse } from '../sip/build.ts';
import { Dialog } from '../sip/dialog.ts';
import { getParam } from '../sip/lex.ts';
import { parseSipUri } from '../sip/uri.ts';
import { formatNameAddr, parseNameAddr, tagOf } from '../sip/headers.ts';
import { headerValue, type SipRequest, type SipResponse } from '../sip/message.ts';
import { Registrar, registeredContact, type Binding } from '../sip/registrar.ts';
import { SipStack, type ServerTransaction, type Target } from '../sip/stack.ts';
import type { InboundMessage } from '../sip/transport.ts';
import { isGroupUri } from './conference.ts';
import type { PfConfig } from './config.ts';
import { groupContact, looseRoute, pfRecordRoute, pfVia, type PfContext } from './context.ts';
import { msrpTraceTap, PfDeferredSession } from './deferred-session.ts';
import { EventLog } from './event-log.ts';
import { buildGroupInvite } from './invite-builder.ts';
import { ConferenceNotifier } from './notifier.ts';
import type {
  ConferencePolicy,
  GroupSpec,
  InviteResult,
  InviteSpec,
  NotifyOptions,
  NotifyResult,
  ParticipatingFunctionApi,
  PfEventLog,
  PfOptions,
  SubscriptionInfo,
} from './types.ts';

/** The §2.11 group: Alice (original sender) and the client connected, Carol departed. */
export function defaultGroup(config: PfConfig, overrides: Partial<GroupSpec> = {}): GroupSpec {
  return {
    identity: config.identities.groupIdentity,
    conversationId: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    contributionId: '5e3c1b20-9d4f-4c8e-8a71-0f2d6b9e4c11',
    subject: 'Weekend plans',
    participants: [
      { uri: config.identities.originalSender, displayName: 'Alice', status: 'connected' },
      { uri: config.identities.clientAor, status: 'connected' },
      { uri: 'sip:+15551230003@ims.example.net', displayName: 'Carol', status: 'disconnected' },
    ],
    ...overrides,
  };
}

/** Where a request to a registered contact goes: its host/port, over the run's transport. */
function targetOfContact(contact: string, transport: TransportKind): Target | undefined {
  const parsed = parseSipUri(contact);
  if (!parsed.ok || parsed.value.scheme === 'tel') return undefined;
  const host = parsed.value.host.replace(/^\[|\]$/g, '');
  const maddr = getParam(parsed.value.params, 'maddr');
  return { transport, address: typeof maddr === 'string' ? maddr : host, port: parsed.value.port ?? 5060 };
}

/** `<sip:host:port;transport=…;lr>` for the outbound proxy: a loose route (RFC 3261 §16.12). */
export function proxyRoute(proxy: { address: string; port: number }, transport: TransportKind): string {
  return looseRoute(proxy, transport);
}

/** Lifetime of an adopted binding: a run never lasts this long, and no expiry NOTIFY/timer fires meanwhile. */
const ADOPTED_EXPIRES_SECONDS = 7200;

function isSdp(message: SipRequest | SipResponse): boolean {
  return (headerValue(message, 'content-type') ?? '').trim().toLowerCase().startsWith('application/sdp') && message.body.length > 0;
}

export class ParticipatingFunction implements ParticipatingFunctionApi {
  readonly registrar: TransportAddress;
  readonly group: GroupSpec;
  readonly config: PfConfig;
  conference: ConferencePolicy = { mode: 'active' };
  rejoin: { answer: 'accept' | number } = { answer: 'accept' };

  private readonly log: EventLog;
  private readonly ctx: PfContext;
  private readonly staleCallIds: ReadonlySet<string>;
  private readonly registrarCore: Registrar;
  private readonly notifier: ConferenceNotifier;
  private readonly sessions = new Map<string, PfDeferredSession>();
  /** Every MSRP session opened (including ones of rejected INVITEs: a late connect stays visible). */
  private readonly msrpSessions: MsrpSession[] = [];
  /** Call-IDs of PF INVITEs, and the INVITE responses seen per call, for retransmission detection. */
  private readonly inviteCalls = new Map<string, Set<string>>();
  private counter = 0;
  private closed = false;

  private constructor(private readonly stack: SipStack, options: PfOptions, log: EventLog) {
    this.config = options.config;
    this.group = defaultGroup(options.config, options.group);
    this.log = log;
    this.staleCallIds = options.staleCallIds ?? new Set();
    const clock = options.clock ?? systemClock;
    this.ctx = {
      stack,
      log,
      config: options.config,
      clock,
      trace: options.trace,
      actor: options.actor ?? 'pf',
      transport: options.config.transport,
      group: this.group,
    };
    const endpoint = options.config.transport === 'udp' ? stack.transport.udp : stack.transport.tcp;
    this.registrar = { transport: options.config.transport, address: endpoint?.address ?? options.config.address, port: endpoint?.port ?? 0 };
    // minExpires 1: scaled built-in runs register for seconds; a 423 would only get in the way.
    this.registrarCore = new Registrar({ clock, minExpires: 1 });
    this.notifier = new ConferenceNotifier(this.ctx, () => this.conference);
    stack.transport.on('message', (m) => this.tap(m));
    stack.on('request', (txn) => this.onRequest(txn));
  }

  static async start(options: PfOptions): Promise<ParticipatingFunction> {
    const clock = options.clock ?? systemClock;
    // Both ports are always passed: 0 binds an ephemeral port, so the stack binds UDP and TCP either way.
    const stack = await SipStack.start({
      actor: options.actor ?? 'pf',
      address: options.config.address,
      udpPort: options.config.listen.udpPort,
      tcpPort: options.config.listen.tcpPort,
      timers: options.config.timers,
      clock,
      trace: options.trace,
      limits: options.config.limits,
    });
    return new ParticipatingFunction(stack, options, new EventLog(clock, options.retainEvents ?? true));
  }

  get events(): PfEventLog {
    return this.log;
  }

  subscriptions(): readonly SubscriptionInfo[] {
    return this.notifier.list();
  }

  adoptBinding(contact: string): Binding {
    const { config } = this;
    // A bare `sip:…;transport=tcp` is a URI with its parameters (not a Contact addr-spec, whose
    // `;…` would be header params, RFC 3261 §20); `<sip:…>;params` is a name-addr.
    const bracketed = contact.includes('<');
    const named = bracketed ? parseNameAddr(contact) : undefined;
    const uri = named === undefined ? contact.trim() : named.ok ? named.value.uri : contact;
    const params = named?.ok ? named.value.params.filter((p) => p.name.toLowerCase() !== 'expires') : [];
    const nameAddr = formatNameAddr({ uri, params });
    const target = targetOfContact(uri, config.transport);
    if (target === undefined) {
      throw new HarnessFailure(harnessError('PF_BAD_CONTACT', `cannot adopt a binding for "${contact}": not a SIP URI the PF can route to`, Buffer.from(contact)));
    }
    // The registrar is fed a REGISTER the client never sent, so an adopted binding is refreshed,
    // replaced or removed by the client's real REGISTERs exactly like a registered one (§10.3).
    const request = buildRequest({
      method: 'REGISTER',
      uri: `sip:${config.identities.pfDomain}`,
      via: pfVia(this.ctx),
      from: `<${config.identities.clientAor}>;tag=${newTag()}`,
      to: `<${config.identities.clientAor}>`,
      callId: `adopted-${newCallId(config.identities.pfDomain)}`,
      cseq: 1,
      contact: nameAddr,
      headers: [{ name: 'Expires', value: String(ADOPTED_EXPIRES_SECONDS) }],
    });
    const local = this.registrar;
    const decision = this.registrarCore.handleRegister(request, {
      transport: config.transport,
      local: { address: local.address, port: local.port },
      remote: { address: target.address, port: target.port },
    });
    const adopted = decision.changes.find((c) => c.kind !== 'unregistered')?.binding;
    if (decision.response.status !== 200 || adopted === undefined) {
      const why = decision.diagnostics.map((d) => d.message).join('; ') || `registrar answered ${decision.response.status}`;
      throw new HarnessFailure(harnessError('PF_BAD_CONTACT', `cannot adopt a binding for "${contact}": ${why}`, Buffer.from(contact)));
    }
    return adopted;
  }

  currentBinding(): Binding | null {
    return this.registrarCore.binding(this.config.identities.clientAor) ?? null;
  }

  async waitForRegistration(withinMs: number): Promise<Binding | null> {
    const wait = await this.registrarCore.waitForRegistration(this.config.identities.clientAor, withinMs);
    return wait.kind === 'registered' ? wait.binding : null;
  }

  sendNotify(subscriptionId: string, options: NotifyOptions = {}): Promise<NotifyResult> {
    return this.notifier.sendNotify(subscriptionId, options);
  }

  carriedContact(): string | null {
    const binding = this.currentBinding();
    return binding === null ? null : registeredContact(binding);
  }

  async endCase(): Promise<void> {
    const active = this.notifier.list().filter((s) => s.state === 'active');
    await Promise.all(active.map((s) => this.notifier.sendNotify(s.id, { state: 'terminated', reason: 'noresource', body: null }).catch(() => undefined)));
  }

  // -------------------------------------------------------------------------------------------
  // PF-initiated group-session INVITE

  async invite(spec: InviteSpec = {}): Promise<InviteResult> {
    const startSeq = this.log.mark();
    const { config } = this;
    const binding = this.registrarCore.binding(config.identities.clientAor);
    const id = `s${++this.counter}`;
    const msrp = MsrpSession.create({
      localUri: localMsrpUri(config.address),
      role: 'passive',
      actor: this.ctx.actor,
      trace: msrpTraceTap(this.ctx, () => id),
      clock: this.ctx.clock,
      transactionTimeoutMs: config.windows.msrpTransactionMs,
      limits: config.limits,
    });
    this.msrpSessions.push(msrp);
    // Listen before offering (actpass): the client may connect as soon as it has the offer.
    const local = await listenLocal(msrp);
    const built = buildGroupInvite({
      spec,
      group: this.group,
      requestUri: binding?.contact ?? config.identities.clientAor,
      clientAor: config.identities.clientAor,
      originalSender: config.identities.originalSender,
      transport: config.transport,
      via: pfVia(this.ctx),
      fromTag: newTag(),
      callId: newCallId(config.identities.pfDomain),
      msrp: { address: config.address, port: local.uri.port ?? 0, path: local.path },
      sdpSessionId: Math.floor(Math.random() * 2 ** 31),
      ...(config.proxy === undefined ? {} : { route: [proxyRoute(config.proxy, config.transport)] }),
      recordRoute: pfRecordRoute(this.ctx),
    });
    const request = built.request;
    const result: InviteResult = { request, provisional: [], final: null, startSeq };
    // §8.1.2: with an outbound proxy the request goes to it; the Route header carries it there.
    const contactTarget = binding === undefined ? undefined : targetOfContact(binding.contact, config.transport);
    const target = contactTarget === undefined || config.proxy === undefined ? contactTarget : { transport: config.transport, address: config.proxy.address, port: config.proxy.port };
    if (local.error !== undefined) {
      result.failure = { kind: 'transport-error', message: `cannot listen for MSRP: ${local.error.message}` };
      return result;
    }
    if (target === undefined) {
      result.failure = { kind: 'transport-error', message: binding === undefined ? `${config.identities.clientAor} is not registered` : `cannot route to contact ${binding.contact}` };
      return result;
    }
    const callId = headerValue(request, 'call-id') ?? '';
    this.inviteCalls.set(callId, new Set());
    this.log.append({ type: 'request-sent', request, sessionId: id });
    const ackPolicy = (spec.autoAck ?? true) === false ? 'never' : (spec.ackDelayMs ?? 0) > 0 ? { afterMs: spec.ackDelayMs! } : 'auto';
    // The stack ACKs inside its dispatch, before the tap logs the response itself: log the ACK just after.
    const logAck = (ack: SipRequest): void => {
      result.ack = ack;
      queueMicrotask(() => this.log.append({ type: 'request-sent', request: ack, sessionId: id }));
    };
    const invite = this.stack.sendInvite(request, target, { ack: ackPolicy, onAck: logAck });
    const txn = invite.transaction;
    txn.on('ack-sent', logAck);

    // Timer B bounds the wait until a provisional; after one, the harness policy window does.
    let finalTimer: { cancel(): void } | undefined;
    const finalTimeout = new Promise<'final-timeout'>((resolve) => {
      txn.on('provisional', (response) => {
        result.provisional.push(response);
        if (finalTimer === undefined) finalTimer = this.ctx.clock.setTimer(config.windows.finalResponseMs, () => resolve('final-timeout'));
      });
    });
    const outcome = await Promise.race([txn.result, finalTimeout]);
    finalTimer?.cancel();
    if (outcome === 'final-timeout') {
      result.failure = { kind: 'final-timeout', message: `no final response within ${config.windows.finalResponseMs} ms after the first provisional` };
      // §9.1: a provisional arrived, so CANCEL is allowed; the 487 is ACKed by the transaction.
      const cancel = buildCancel(request);
      this.log.append({ type: 'request-sent', request: cancel, sessionId: id });
      this.stack.sendRequest(cancel, target);
      return result;
    }
    if (outcome.kind === 'timeout') {
      result.failure = { kind: 'timeout', message: `no response within Timer B (64·T1 = ${64 * this.stack.timers.t1} ms)` };
      return result;
    }
    if (outcome.kind === 'transport-error') {
      result.failure = { kind: 'transport-error', message: outcome.error.message };
      return result;
    }
    const response = outcome.response;
    result.final = response;
    if (response.status >= 300) return result; // the transaction ACKed it (ack-sent above)
    if (isSdp(response)) result.answer = parseSdp(response.body);
    // The UAC core ACKs the 2xx (held or withheld per the spec) and every retransmission of it.
    const media = await MsrpInviteSession.fromAnswer(invite, result.answer, spec.setup === undefined ? 'actpass' : spec.setup, msrp, local);
    if (media.dialog === null) return result;
    result.session = this.deferredSession(id, media);
    return result;
  }

  /** The PF's side of an MSRP INVITE session (either direction): connecting at once when it is the active one. */
  private deferredSession(id: string, media: MsrpInviteSession): PfDeferredSession {
    const session = new PfDeferredSession(this.ctx, { id, media });
    this.sessions.set(id, session);
    session.startConnecting();
    return session;
  }

  // -------------------------------------------------------------------------------------------
  // Everything the client sends

  /** Logs every INVITE response (incl. retransmissions) and every parser diagnostic. */
  private tap(inbound: InboundMessage): void {
    if (this.closed) return;
    const { parsed } = inbound;
    if (parsed.diagnostics.length > 0 || parsed.message === null) {
      this.log.append({ type: 'sip-invalid', diagnostics: [...parsed.diagnostics], bytes: parsed.raw });
    }
    const message = parsed.message;
    if (message === null || message.kind !== 'response') return;
    const seen = this.inviteCalls.get(headerValue(message, 'call-id') ?? '');
    const cseq = headerValue(message, 'cseq') ?? '';
    if (seen === undefined || !/\bINVITE\s*$/i.test(cseq)) return;
    const key = `${message.status}|${tagOf(headerValue(message, 'to') ?? '') ?? ''}|${cseq}`;
    const retransmission = seen.has(key);
    seen.add(key);
    this.log.append({ type: 'invite-response', response: message, retransmission });
  }

  callIds(): readonly string[] {
    const ids = new Set<string>();
    for (const e of this.log.all()) {
      const request = (e as { request?: SipRequest }).request;
      const callId = request === undefined ? undefined : headerValue(request, 'call-id');
      if (callId !== undefined) ids.add(callId);
    }
    return [...ids];
  }

  private onRequest(txn: ServerTransaction): void {
    if (this.closed) return;
    const request = txn.request;
    // REGISTER refreshes legitimately keep their Call-ID across cases (RFC 3261 §10.2.4).
    if (request.method !== 'REGISTER' && this.staleCallIds.has(headerValue(request, 'call-id') ?? '')) {
      txn.respond(buildResponse(request, 481));
      this.log.append({ type: 'stale-request', request, answeredWith: 481 });
      return;
    }
    switch (request.method) {
      case 'REGISTER':
        return this.onRegister(txn);
      case 'SUBSCRIBE':
        return this.notifier.handleSubscribe(txn);
      case 'INVITE':
        return this.onInvite(txn);
      case 'BYE':
        return this.onBye(txn);
      default:
        return this.onOther(txn);
    }
  }

  private onRegister(txn: ServerTransaction): void {
    const decision = this.registrarCore.handleRegister(txn.request, txn.source);
    txn.respond(decision.response);
    if (decision.changes.length === 0) {
      this.log.append({ type: 'client-request', request: txn.request, answeredWith: decision.response.status });
      return;
    }
    for (const change of decision.changes) {
      const expires = change.kind === 'unregistered' ? 0 : change.binding.expires;
      this.log.append({ type: 'register', request: txn.request, binding: change.binding, expires });
    }
  }

  private sessionOf(request: SipRequest): PfDeferredSession | undefined {
    for (const s of this.sessions.values()) if (s.dialog.matches(request)) return s;
    return undefined;
  }

  private onBye(txn: ServerTransaction): void {
    const session = this.sessionOf(txn.request);
    if (session === undefined) {
      txn.respond(buildResponse(txn.request, 481));
      this.log.append({ type: 'client-bye', request: txn.request });
      return;
    }
    session.onClientBye(txn);
    this.log.append({ type: 'client-bye', request: txn.request, sessionId: session.id });
  }

  private onInvite(txn: ServerTransaction): void {
    const request = txn.request;
    if (tagOf(headerValue(request, 'to') ?? '') !== undefined) {
      // A re-INVITE: the PF keeps the session as it is (RFC 3261 §14.2: rejecting leaves it unchanged).
      const session = this.sessionOf(request);
      const status = session === undefined ? 481 : 488;
      if (session) session.dialog.acceptRemoteRequest(request);
      txn.respond(buildResponse(request, status));
      this.log.append({ type: 'client-invite', request, answeredWith: status, inDialog: true });
      return;
    }
    if (!isGroupUri(request.uri, this.group.identity)) {
      txn.respond(buildResponse(request, 404));
      this.log.append({ type: 'client-invite', request, answeredWith: 404, inDialog: false });
      return;
    }
    if (this.rejoin.answer !== 'accept') {
      const status = this.rejoin.answer;
      txn.respond(buildResponse(request, status));
      this.log.append({ type: 'client-invite', request, answeredWith: status, inDialog: false });
      return;
    }
    void this.acceptRejoin(txn);
  }

  /** 7.3.12-2a: a re-join to the group identity, answered 200 with an MSRP answer. */
  private async acceptRejoin(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    const remote = remoteOf(isSdp(request) ? parseSdp(request.body) : undefined);
    if (remote.media === undefined || remote.path.length === 0) {
      txn.respond(buildResponse(request, 488, undefined, { headers: [{ name: 'Warning', value: '399 cpm-pf "no usable MSRP stream in the offer"' }] }));
      this.log.append({ type: 'client-invite', request, answeredWith: 488, inDialog: false });
      return;
    }
    const id = `s${++this.counter}`;
    const msrp = MsrpSession.create({
      localUri: localMsrpUri(this.config.address),
      role: 'passive',
      actor: this.ctx.actor,
      trace: msrpTraceTap(this.ctx, () => id),
      clock: this.ctx.clock,
      transactionTimeoutMs: this.config.windows.msrpTransactionMs,
      limits: this.config.limits,
    });
    this.msrpSessions.push(msrp);
    // The PF listens even when it answers active, so its SDP always names a real port.
    const local = await listenLocal(msrp);
    if (local.error !== undefined || this.closed) {
      txn.respond(buildResponse(request, 500));
      this.log.append({ type: 'client-invite', request, answeredWith: 500, inDialog: false });
      return;
    }
    const setup = answerSetupFor(remote.media.setup);
    const sdp = buildMsrpAnswer({
      address: this.config.address,
      port: local.uri.port ?? 0,
      path: [local.path],
      setup: setup === 'holdconn' ? 'passive' : setup,
      mediaDirection: 'sendrecv',
      sessionId: Math.floor(Math.random() * 2 ** 31),
    });
    const response = buildResponse(request, 200, undefined, { contact: groupContact(this.ctx, true), recordRoute: [pfRecordRoute(this.ctx)], body: sdp, contentType: 'application/sdp' });
    txn.respond(response);
    const dialog = Dialog.fromUas(request, response);
    if (!dialog.ok) {
      this.log.append({ type: 'client-invite', request, answeredWith: 200, inDialog: false });
      return;
    }
    const session = this.deferredSession(id, new MsrpInviteSession({ dialog: dialog.value, msrp, role: answererRole(setup), local, remote }));
    this.log.append({ type: 'client-invite', request, answeredWith: 200, session, inDialog: false });
  }

  /** MESSAGE (pager-mode IMDNs are evidence), OPTIONS: 200; in-dialog others per dialog; rest 501. */
  private onOther(txn: ServerTransaction): void {
    const request = txn.request;
    let status: number;
    if (request.method === 'MESSAGE' || request.method === 'OPTIONS') status = 200;
    else if (request.method === 'NOTIFY' || request.method === 'UPDATE' || request.method === 'INFO') {
      status = this.sessionOf(request) === undefined && !this.notifier.owns(request) ? 481 : 200;
    } else status = 501;
    txn.respond(buildResponse(request, status));
    this.log.append({ type: 'client-request', request, answeredWith: status });
  }

  /** Closes everything; never throws. Pending waits on the log settle at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    this.notifier.close();
    this.registrarCore.clear();
    const closing = [...this.sessions.values()].map((s) => s.close().catch(() => undefined));
    closing.push(...this.msrpSessions.map((m) => m.close().catch(() => undefined)));
    await Promise.all(closing);
    try {
      await this.stack.close();
    } catch {
      // never throw from close(); the trace holds the socket errors
    }
  }
}

/**
 * The fake CPM Participating Function: registrar for the client, group focus that invites it to
 * the deferred-delivery session (H1–H6), conference notifier (H7/H8), acceptor of re-join INVITEs.
 * It plays the network and records everything as PfEvents; verdicts belong to the scenarios.
 * This file is the API and the PF's own group INVITE; requests.ts routes what the client sends,
 * session-table.ts keeps the sessions both share.
 */
import { isIP } from 'node:net';
import { systemClock } from '../core/clock.ts';
import { NO_BOUNDARY } from '../core/scope.ts';
import { harnessError, HarnessFailure } from '../core/diagnostic.ts';
import { newCallId, newTag } from '../core/ids.ts';
import type { TransportAddress, TransportKind } from '../core/trace.ts';
import { listenLocal, MsrpInviteSession } from '../session/msrp-invite.ts';
import { parseSdp } from '../sdp/parse.ts';
import { buildCancel, buildRequest } from '../sip/build.ts';
import { getParam } from '../sip/lex.ts';
import { parseSipUri } from '../sip/uri.ts';
import { formatNameAddr, parseNameAddr } from '../sip/headers.ts';
import { headerValue, type SipRequest } from '../sip/message.ts';
import { Registrar, registeredContact, type Binding } from '../sip/registrar.ts';
import { SipStack, type Target } from '../sip/stack.ts';
import type { PfConfig } from './config.ts';
import { looseRoute, pfRecordRoute, pfVia, type PfContext } from './context.ts';
import { EventLog } from './event-log.ts';
import { buildGroupInvite } from './invite-builder.ts';
import { ConferenceNotifier } from './notifier.ts';
import { isSdp, PfRequests } from './requests.ts';
import { PfSessionTable } from './session-table.ts';
import type { ConferencePolicy, GroupSpec, InviteResult, InviteSpec, NotifyOptions, NotifyResult, ParticipatingFunctionApi, PfEventLog, PfOptions, SubscriptionInfo } from './types.ts';

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

/**
 * Where a request to a registered contact goes: its host (or maddr) and port, over the run's
 * transport. Undefined for a tel: URI or a host name: the harness resolves no names (a client
 * registers the address it listens on).
 */
function targetOfContact(contact: string, transport: TransportKind): Target | undefined {
  const parsed = parseSipUri(contact);
  if (!parsed.ok || parsed.value.scheme === 'tel') return undefined;
  const host = parsed.value.host.replace(/^\[|\]$/g, '');
  const maddr = getParam(parsed.value.params, 'maddr');
  const address = typeof maddr === 'string' ? maddr : host;
  if (isIP(address) === 0) return undefined;
  return { transport, address, port: parsed.value.port ?? 5060 };
}

/** `<sip:host:port;transport=…;lr>` for the outbound proxy: a loose route (RFC 3261 §16.12). */
export function proxyRoute(proxy: { address: string; port: number }, transport: TransportKind): string {
  return looseRoute(proxy, transport);
}

/** Lifetime of an adopted binding: a run never lasts this long, and no expiry NOTIFY/timer fires meanwhile. */
const ADOPTED_EXPIRES_SECONDS = 7200;


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
  private readonly table: PfSessionTable;
  private readonly requests: PfRequests;
  private closed = false;

  private constructor(private readonly stack: SipStack, options: PfOptions, log: EventLog) {
    this.config = options.config;
    this.group = defaultGroup(options.config, options.group);
    this.log = log;
    this.staleCallIds = options.staleCallIds ?? new Set();
    const clock = options.clock ?? options.boundary?.clock ?? systemClock;
    this.ctx = {
      stack,
      log,
      config: options.config,
      clock,
      boundary: options.boundary ?? NO_BOUNDARY,
      watch: options.watch,
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
    this.table = new PfSessionTable(this.ctx);
    this.requests = new PfRequests(this.ctx, this.table, {
      registrar: this.registrarCore,
      notifier: this.notifier,
      staleCallIds: this.staleCallIds,
      rejoin: () => this.rejoin,
      closed: () => this.closed,
    });
    stack.transport.on('message', (m) => this.requests.tap(m));
    stack.on('request', (txn) => this.requests.onRequest(txn));
  }

  static async start(options: PfOptions): Promise<ParticipatingFunction> {
    const clock = options.clock ?? options.boundary?.clock ?? systemClock;
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
      ...(options.boundary === undefined ? {} : { boundary: options.boundary }),
      ...(options.watch === undefined ? {} : { watch: options.watch }),
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
      throw new HarnessFailure(harnessError('PF_BAD_CONTACT', `cannot adopt a binding for "${contact}": not a SIP URI with an IP address the PF can route to (the harness resolves no names)`, Buffer.from(contact)));
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
    const id = this.table.nextId();
    const msrp = this.table.newMsrp(id);
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
      result.failure = { kind: 'transport-error', message: binding === undefined ? `${config.identities.clientAor} is not registered` : `cannot route to contact ${binding.contact} (a SIP URI with an IP address; the harness resolves no names)` };
      return result;
    }
    const callId = headerValue(request, 'call-id') ?? '';
    this.table.inviteCalls.set(callId, new Set());
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
        if (finalTimer === undefined) finalTimer = this.ctx.clock.setWindow(config.windows.finalResponseMs, () => resolve('final-timeout'));
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
      result.failure = { kind: 'timeout', message: `no response within Timer B (64·T1 = ${64 * this.stack.timers.t1} ms, RFC 3261 §17.1.1.2)` };
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
    result.session = this.table.open(id, media);
    return result;
  }

  // -------------------------------------------------------------------------------------------

  callIds(): readonly string[] {
    const ids = new Set<string>();
    for (const e of this.log.all()) {
      const request = (e as { request?: SipRequest }).request;
      const callId = request === undefined ? undefined : headerValue(request, 'call-id');
      if (callId !== undefined) ids.add(callId);
    }
    return [...ids];
  }

  /** Closes everything; never throws. Pending waits on the log settle at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
    this.notifier.close();
    this.registrarCore.clear();
    await this.table.closeAll();
    try {
      await this.stack.close();
    } catch {
      // never throw from close(); the trace holds the socket errors
    }
  }
}

/**
 * The built-in reference CPM client: a conforming client of OMA CPM §7.3.12 over the project's own
 * SIP stack and MSRP engine, on real loopback sockets, with an in-process upper tester. All rules
 * live in decisions.ts (pure); this module does the I/O around them. Nothing waits without a bound
 * and stop() releases every socket and timer.
 */
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import { newBranch, newCallId, newTag, randomToken } from '../core/ids.ts';
import type { TraceSink, TransportKind } from '../core/trace.ts';
import type { ClientEnvironment, ClientState, ClientUnderTest, GroupView, OutboxEntry, ReceivedMessage, UpperTester, UtOperation, UtResult } from '../client/types.ts';
import { applyConferenceUpdate, parseConferenceInfo, participantEntities, type ConferenceInfo } from '../conference/conference-info.ts';
import { buildGroupChatMessage, cpimHeader, headerUri, imdnHeader, parseCpim, requestedDispositions } from '../cpim/cpim.ts';
import { formatRfc3339 } from '../cpim/datetime.ts';
import type { ImdnKind } from '../imdn/imdn.ts';
import type { MsrpRequest, MsrpResponse } from '../msrp/frame.ts';
import { localMsrpUri, MsrpSession, type MsrpMessageEvent, type MsrpPolicy } from '../msrp/session.ts';
import type { MsrpUri } from '../msrp/uri.ts';
import { buildMsrpAnswer, buildMsrpOffer } from '../sdp/build.ts';
import { parseSdp } from '../sdp/parse.ts';
import { answererRole, listenLocal, localOf, MsrpInviteSession, remoteOf } from '../session/msrp-invite.ts';
import { buildRequest, buildResponse } from '../sip/build.ts';
import { Dialog } from '../sip/dialog.ts';
import { CPM_FEATURE_TAG } from '../sip/caller-prefs.ts';
import { getParam } from '../sip/lex.ts';
import { parseSipUri } from '../sip/uri.ts';
import { parseContentType, parseExpires, parseNameAddr, parseSubscriptionState } from '../sip/headers.ts';
import { headerValue, headerValues, type SipHeaderField, type SipRequest, type SipResponse } from '../sip/message.ts';
import { SipStack, type ServerTransaction, type Target } from '../sip/stack.ts';
import type { Behaviour } from './behaviour.ts';
import {
  afterDelivery,
  answerShape,
  byeResponse,
  decideInvite,
  imdnEnvelope,
  imdnPayload,
  imdnRoute,
  notificationsFor,
  onConferenceNotify,
  onRegistered,
  onSubscribeResponse,
  onSubscriptionState,
  patienceMs,
  refreshDelayMs,
  refreshMethod,
  rejoinAcceptContact,
  respondToSend,
  responsePaths,
  routeOutgoing,
  sameIdentity,
  sendQueuedOnRejoin,
  sendsAfterBye,
  subscribeRequest,
  whenToSubscribe,
  type OriginalMessage,
} from './decisions.ts';

export interface ReferenceClientOptions {
  readonly behaviour: Behaviour;
  readonly trace: TraceSink;
  readonly description: string;
  readonly actor?: string;
  readonly clock?: Clock;
  /** Wait after registration before a re-join, so a PF INVITE arriving first wins (glare). Default max(20, 10·T1). */
  readonly rejoinGraceMs?: number;
  /** REGISTER Expires (s). Default 3600. */
  readonly registrationExpires?: number;
  /** SUBSCRIBE Expires (s). Default 3600. */
  readonly subscriptionExpires?: number;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, MESSAGE';
const CONFERENCE_INFO = 'application/conference-info+xml';
/** RFC 4145 §4 / rcsjta: an active endpoint may put the discard port in m=; a=path carries the URI. */
const DISCARD_PORT = 9;
/** A resubscribing mutant must still stop somewhere. */
const MAX_RESUBSCRIBES = 3;

interface Group {
  readonly identity: string;
  /** Where SUBSCRIBEs and re-joins go (the focus URI the PF gave, else the identity). */
  target: string;
  contributionId?: string;
  conversationId?: string;
  state: GroupView['state'];
  conference?: ConferenceInfo;
  subscription?: Subscription;
  resubscribes: number;
  joining: boolean;
}

interface Subscription {
  readonly callId: string;
  readonly localTag: string;
  dialog?: Dialog;
  state: 'pending' | 'active' | 'terminated';
  refresh?: TimerHandle;
  lapse?: TimerHandle;
}

interface Session {
  readonly id: string;
  readonly group: Group;
  readonly origin: 'pf' | 'rejoin';
  dialog: Dialog | null;
  readonly msrp: MsrpSession;
  /** The SDP exchange's outcome: role, paths, and the active side's connect. */
  readonly media: MsrpInviteSession;
  state: 'early' | 'established' | 'terminated';
}

interface Displayable {
  readonly original: OriginalMessage;
  readonly requested: ReadonlySet<string>;
  readonly session: Session;
  displayed: boolean;
}

function ok(): UtResult {
  return { ok: true, value: undefined };
}

function utFailure(code: string, message: string): UtResult {
  return { ok: false, code, message };
}

function angle(uri: string): string {
  return uri.startsWith('<') ? uri : `<${uri}>`;
}

function uriOf(nameAddr: string | undefined): string | undefined {
  if (nameAddr === undefined) return undefined;
  const parsed = parseNameAddr(nameAddr);
  return parsed.ok ? parsed.value.uri : undefined;
}

function grantedSeconds(response: SipResponse, fallback: number): number {
  const value = headerValue(response, 'expires');
  const parsed = value === undefined ? undefined : parseExpires(value);
  return parsed?.ok ? parsed.value : fallback;
}

export class ReferenceClient implements ClientUnderTest, UpperTester {
  readonly description: string;
  readonly supports: ReadonlySet<UtOperation> = new Set<UtOperation>(['queueMessage', 'goOffline', 'goOnline', 'markDisplayed', 'state', 'reset']);

  private readonly b: Behaviour;
  private readonly trace: TraceSink;
  private readonly actor: string;
  private readonly clock: Clock;
  private readonly options: ReferenceClientOptions;

  private env: ClientEnvironment | null = null;
  private stack: SipStack | null = null;
  private closed = false;
  private registered = false;
  private online = false;
  private readonly registration = { callId: '', tag: newTag(), cseq: 0 };
  private registrationRefresh: TimerHandle | undefined;
  private readonly timers = new Set<TimerHandle>();
  private readonly groups: Group[] = [];
  private readonly sessions: Session[] = [];
  private readonly outbox: OutboxEntry[] = [];
  private readonly received: ReceivedMessage[] = [];
  private readonly displayable = new Map<string, Displayable>();
  private readonly work = new Set<Promise<unknown>>();
  /** `Call-ID|local tag` of subscriptions this client ended, whose final NOTIFY may still come. */
  private readonly unsubscribed = new Set<string>();

  constructor(options: ReferenceClientOptions) {
    this.options = options;
    this.b = options.behaviour;
    this.trace = options.trace;
    this.description = options.description;
    this.actor = options.actor ?? 'client';
    this.clock = options.clock ?? systemClock;
  }

  get upperTester(): UpperTester {
    return this;
  }

  // ===========================================================================================
  // ClientUnderTest

  async start(env: ClientEnvironment): Promise<void> {
    this.env = env;
    this.registration.callId = newCallId(env.registrar.address.replace(/[[\]]/g, ''));
    const ports = env.registrar.transport === 'udp' ? { udpPort: 0 } : { tcpPort: 0 };
    this.stack = await SipStack.start({ actor: this.actor, address: env.registrar.address, ...ports, timers: env.timers, clock: this.clock, trace: this.trace });
    this.stack.on('request', (txn) => this.track(this.onRequest(txn)));
    this.groupFor(env.groupIdentity);
    this.online = true;
    await this.registerAndMaybeRejoin();
  }

  private readonly allMsrp = new Set<MsrpSession>();

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.registrationRefresh?.cancel();
    for (const g of this.groups) this.cancelSubscriptionTimers(g.subscription);
    try {
      await Promise.all([...this.allMsrp].map((m) => m.close()));
      await this.stack?.close();
    } catch {
      // stop() must not throw; the sockets are gone either way.
    }
  }

  // ===========================================================================================
  // UpperTester

  async queueMessage(group: string, text: string): Promise<UtResult> {
    if (this.closed || this.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    const g = this.groupFor(group);
    this.outbox.push({ group: g.identity, text });
    const session = this.liveSession(g);
    const route = routeOutgoing({ sessionUp: session !== undefined, registered: this.registered }, this.b);
    if (route === 'session' && session?.msrp.isBound) await this.flushOutbox(session);
    else if (route === 'rejoin') this.track(this.rejoin(g, session !== undefined));
    return ok();
  }

  async goOffline(): Promise<UtResult> {
    if (this.closed || this.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    this.online = false;
    this.registrationRefresh?.cancel();
    for (const g of this.groups) this.cancelSubscriptionTimers(g.subscription);
    const done = await this.register(0);
    this.registered = false;
    return done ? ok() : utFailure('UT_DEREGISTER_FAILED', 'the de-REGISTER got no 2xx');
  }

  async goOnline(): Promise<UtResult> {
    if (this.closed || this.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    this.online = true;
    const registered = await this.registerAndMaybeRejoin();
    return registered ? ok() : utFailure('UT_REGISTER_FAILED', 'the REGISTER got no 2xx');
  }

  async markDisplayed(imdnMessageId: string): Promise<UtResult> {
    const entry = this.displayable.get(imdnMessageId);
    if (entry === undefined) return utFailure('UT_UNKNOWN_MESSAGE', `no received message with imdn.Message-ID ${imdnMessageId}`);
    if (entry.displayed) return ok();
    entry.displayed = true;
    for (const kind of notificationsFor(entry.requested, 'displayed', this.b)) await this.sendImdn(entry.session, entry.original, kind);
    return ok();
  }

  /** UT preamble: forget groups, sessions, subscriptions, outbox and received messages; keep the registration. */
  async reset(): Promise<UtResult> {
    if (this.closed || this.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    // A subscription the client forgets is ended first (RFC 6665 §4.1.2.3: SUBSCRIBE with Expires: 0).
    await Promise.all(this.groups.map((g) => this.unsubscribe(g.subscription)));
    for (const g of this.groups) this.cancelSubscriptionTimers(g.subscription);
    const sessions = this.sessions.splice(0);
    await Promise.all(sessions.map((s) => s.msrp.close().catch(() => undefined)));
    this.groups.length = 0;
    this.outbox.length = 0;
    this.received.length = 0;
    return ok();
  }

  async state(): Promise<UtResult<ClientState>> {
    const groups: GroupView[] = this.groups.map((g) => ({
      identity: g.identity,
      ...(g.contributionId === undefined ? {} : { contributionId: g.contributionId }),
      state: g.state,
      participants: g.conference ? participantEntities(g.conference) : [],
    }));
    return { ok: true, value: { registered: this.registered, online: this.online, groups, outbox: [...this.outbox], received: [...this.received] } };
  }

  // ===========================================================================================
  // Registration (RFC 3261 §10.2) and re-join on coming online (7.3.12-2a, NOTE)

  private async registerAndMaybeRejoin(): Promise<boolean> {
    const registered = await this.register(this.options.registrationExpires ?? 3600);
    if (!registered) return false;
    for (const g of this.groups) {
      const queued = this.outbox.filter((e) => sameIdentity(e.group, g.identity)).length;
      if (onRegistered({ queued, sessionUp: this.liveSession(g) !== undefined }, this.b) !== 'rejoin-after-grace') continue;
      // 10·T1: the PF's INVITE right after our REGISTER must win even on a loaded machine.
      const grace = this.options.rejoinGraceMs ?? Math.max(20, 10 * (this.env?.timers.t1 ?? 20));
      this.later(grace, () => {
        // A PF session that arrived during the grace period wins; a queued message then goes there.
        // Still queued now: a message that went on a PF session meanwhile is no reason to re-join.
        const queuedNow = this.outbox.some((e) => sameIdentity(e.group, g.identity));
        if (this.liveSession(g) === undefined && this.online && (queuedNow || this.b.rejoinOnline === 'always')) this.track(this.rejoin(g, false));
      });
    }
    return true;
  }

  private async register(expires: number): Promise<boolean> {
    const env = this.env;
    const stack = this.stack;
    if (env === null || stack === null || this.closed) return false;
    const aor = parseSipUri(env.aor);
    const domain = aor.ok ? `${aor.value.scheme}:${aor.value.host}` : env.aor;
    this.registration.cseq += 1;
    const request = buildRequest({
      method: 'REGISTER',
      uri: domain,
      via: stack.viaFor(env.registrar.transport, newBranch()),
      from: `${angle(env.aor)};tag=${this.registration.tag}`,
      to: angle(env.aor),
      callId: this.registration.callId,
      cseq: this.registration.cseq,
      contact: `${this.contactValue()};expires=${expires}`,
      headers: [{ name: 'Expires', value: String(expires) }],
    });
    const outcome = await stack.sendRequest(request, this.registrarTarget()).result;
    if (outcome.kind !== 'response' || outcome.response.status < 200 || outcome.response.status >= 300) return false;
    if (expires === 0) return true;
    this.registered = true;
    const granted = this.grantedRegistration(outcome.response, expires);
    this.registrationRefresh?.cancel();
    if (granted > 0) {
      this.registrationRefresh = this.later(Math.max(1, granted * 500), () => {
        if (this.online) this.track(this.register(expires));
      });
    }
    return true;
  }

  /** Our binding's expires in the 200 (Contact param), else its Expires header, else what we asked. */
  private grantedRegistration(response: SipResponse, asked: number): number {
    const own = this.ownContactUri();
    for (const value of headerValues(response, 'contact')) {
      const parsed = parseNameAddr(value);
      if (!parsed.ok || parsed.value.uri !== own) continue;
      const e = getParam(parsed.value.params, 'expires');
      if (typeof e === 'string' && /^\d+$/.test(e)) return Number(e);
    }
    return grantedSeconds(response, asked);
  }

  // ===========================================================================================
  // Incoming requests

  private async onRequest(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    switch (request.method) {
      case 'INVITE':
        return this.onInvite(txn);
      case 'BYE':
        return this.onBye(txn);
      case 'NOTIFY':
        return this.onNotify(txn);
      case 'OPTIONS':
      case 'MESSAGE':
        txn.respond(buildResponse(request, 200));
        return;
      default:
        txn.respond(buildResponse(request, 501, undefined, { headers: [{ name: 'Allow', value: ALLOW }] }));
    }
  }

  private async onInvite(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    const env = this.env;
    if (env === null) return;
    // A re-INVITE changes nothing here; rejecting it leaves the session as it was (RFC 3261 §14.2).
    if (tagOfTo(request) !== undefined) {
      const known = this.sessions.some((s) => s.dialog?.matches(request));
      txn.respond(buildResponse(request, known ? 488 : 481, undefined, known ? { headers: [{ name: 'Warning', value: `399 ${env.registrar.address} "session modification not supported"` }] } : {}));
      return;
    }
    const contentType = headerValue(request, 'content-type');
    const type = contentType === undefined ? undefined : parseContentType(contentType);
    const isSdp = type?.ok === true && type.value.type === 'application' && type.value.subtype === 'sdp' && request.body.length > 0;
    const offer = isSdp ? parseSdp(request.body) : null;
    const decision = decideInvite({ acceptContact: headerValues(request, 'accept-contact'), sdp: offer, agent: env.registrar.address, headerNames: request.headers.map((h) => h.name) }, this.b);
    if (decision.kind === 'ignore') return;
    if (decision.kind === 'reject') {
      const headers: SipHeaderField[] = decision.warning === undefined ? [] : [{ name: 'Warning', value: decision.warning }];
      txn.respond(buildResponse(request, decision.status, undefined, { headers }));
      if (decision.subscribe) this.track(this.subscribe(this.groupFor(this.focusOf(request))));
      return;
    }

    const group = this.groupFor(this.focusOf(request));
    group.target = this.focusOf(request);
    const contribution = headerValue(request, 'contribution-id');
    const conversation = headerValue(request, 'conversation-id');
    if (contribution !== undefined) group.contributionId = contribution;
    if (conversation !== undefined) group.conversationId = conversation;

    const remote = remoteOf(offer);
    const host = env.registrar.address;
    const shape = answerShape(this.b, { host, sessionId: randomToken(10) });
    const role = shape.role ?? answererRole(decision.setup);
    const msrp = this.newMsrpSession(role, role === 'active' ? DISCARD_PORT : 0, [...remote.uris]);
    let local = localOf(msrp);
    if (role === 'passive' && shape.listen) {
      local = await listenLocal(msrp);
      if (local.error !== undefined || this.closed) {
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
      contact: this.contactValue(),
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
    this.sessions.push(session);
    this.wireSession(session);
    txn.on('ack', () => this.track(this.onSessionConfirmed(session)));
    txn.on('ack-timeout', () => this.track(this.hangUp(session)));
    txn.respond(response);
    if (whenToSubscribe(this.b) === 'before-ack') this.track(this.subscribe(group));
  }

  /** ACK received: the session is established (7.3.12-1b-sub "once the SIP session is established"). */
  private async onSessionConfirmed(session: Session): Promise<void> {
    if (session.state !== 'early') return;
    session.state = 'established';
    const patience = patienceMs(this.b);
    if (patience !== null) this.later(patience, () => void (this.received.length === 0 && this.track(this.hangUp(session))));
    if (whenToSubscribe(this.b) === 'after-ack') this.track(this.subscribe(session.group));
    // The answerer that chose a=setup:active connects once the session is confirmed.
    await session.media.connect(this.waitMs());
  }

  private async onBye(txn: ServerTransaction): Promise<void> {
    const session = this.sessions.find((s) => s.state !== 'terminated' && s.dialog?.matches(txn.request));
    if (session === undefined) {
      txn.respond(buildResponse(txn.request, 481));
      return;
    }
    const status = byeResponse(this.b);
    if (status === null) return;
    if (sendsAfterBye(this.b)) await this.sendChat(session, 'Still here after your BYE');
    txn.respond(buildResponse(txn.request, status));
    if (status >= 200 && status < 300) await this.endSession(session);
  }

  private async onNotify(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    const callId = headerValue(request, 'call-id');
    const localTag = tagOfTo(request);
    const group = this.groups.find((g) => g.subscription !== undefined && g.subscription.callId === callId && g.subscription.localTag === localTag);
    if (group === undefined && this.unsubscribed.has(`${callId}|${localTag}`)) {
      // The notifier's last NOTIFY after our un-SUBSCRIBE (RFC 6665 §4.1.2.3): acknowledged, nothing to update.
      txn.respond(buildResponse(request, 200));
      return;
    }
    const event = headerValue(request, 'event');
    if (group === undefined || group.subscription === undefined || event === undefined || event.split(';')[0]!.trim().toLowerCase() !== 'conference') {
      txn.respond(buildResponse(request, 481));
      return;
    }
    const reaction = onConferenceNotify(request.body, this.b);
    txn.respond(buildResponse(request, reaction.status));
    if (reaction.leave) {
      const live = this.liveSession(group);
      if (live) this.track(this.hangUp(live));
    }
    if (reaction.status >= 300) return;
    if (request.body.length > 0) {
      const parsed = parseConferenceInfo(request.body);
      if (parsed.doc) {
        group.conference = applyConferenceUpdate(group.conference, parsed.doc).doc;
        group.state = 'active';
      }
    }
    const stateValue = headerValue(request, 'subscription-state');
    const state = stateValue === undefined ? undefined : parseSubscriptionState(stateValue);
    if (!state?.ok) return;
    const next = onSubscriptionState(state.value.state, state.value.reason, this.b);
    if (next === 'keep') return;
    const sub = group.subscription;
    this.cancelSubscriptionTimers(sub);
    sub.state = 'terminated';
    if (next === 'inactive') group.state = 'inactive';
    else if (this.participating(group)) this.track(this.subscribe(group));
  }

  // ===========================================================================================
  // MSRP: received messages, IMDNs, outgoing messages

  private newMsrpSession(role: 'active' | 'passive', port: number, remotePath: MsrpUri[]): MsrpSession {
    const host = this.env?.registrar.address ?? '127.0.0.1';
    const session = MsrpSession.create({
      localUri: localMsrpUri(host, port),
      role,
      remotePath,
      actor: this.actor,
      trace: this.trace,
      clock: this.clock,
      transactionTimeoutMs: this.waitMs(),
      policy: this.msrpPolicy(),
    });
    // Every MSRP session, bound to a SIP session yet or not, is closed by stop().
    this.allMsrp.add(session);
    if (this.closed) void session.close();
    return session;
  }

  /** RFC 4975 §7.1.2/§7.2 behaviour of the engine, decided by the same functions the tests table. */
  private msrpPolicy(): Partial<MsrpPolicy> {
    const b = this.b;
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

  private wireSession(session: Session): void {
    session.msrp.on('message', (event) => this.track(this.onMsrpMessage(session, event)));
    session.msrp.on('bound', () => this.track(this.flushOutbox(session)));
  }

  private async onMsrpMessage(session: Session, event: MsrpMessageEvent): Promise<void> {
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
    this.received.push({ group: session.group.identity, from: original.from, text: cpim.content.toString('utf8'), ...(messageId ? { imdnMessageId: messageId } : {}) });
    if (messageId === undefined || messageId === '') return;
    const requested = requestedDispositions(cpim);
    if (!this.displayable.has(messageId)) this.displayable.set(messageId, { original, requested, session, displayed: false });
    const kinds: ImdnKind[] = [];
    for (let i = 0; i < event.frames.length; i++) kinds.push(...notificationsFor(requested, 'chunk', this.b));
    kinds.push(...notificationsFor(requested, 'complete', this.b));
    for (const kind of kinds) await this.sendImdn(session, original, kind);
    const after = this.outbox.length === 0 ? afterDelivery(this.b, event.frames.length) : 'wait-for-pf';
    if (after === 'bye') await this.hangUp(session);
    else if (after === 'close-msrp') await session.msrp.close();
  }

  private async sendImdn(session: Session, original: OriginalMessage, kind: ImdnKind): Promise<void> {
    const env = this.env;
    const stack = this.stack;
    if (env === null || stack === null || this.closed) return;
    const route = imdnRoute(this.b);
    if (route === 'none') return;
    const envelope = imdnEnvelope(original, kind, { ownAor: env.aor, groupIdentity: session.group.identity, ownImdnMessageId: randomToken(8), now: new Date() }, this.b);
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
    await stack.sendRequest(request, this.registrarTarget()).result;
  }

  /** Sends the group's queued messages: on this session, or (mutant) by a new re-join. */
  private async flushOutbox(session: Session): Promise<void> {
    const group = session.group;
    const queued = this.outbox.filter((e) => sameIdentity(e.group, group.identity));
    if (queued.length === 0 || session.state === 'terminated') return;
    if (session.origin === 'pf' && routeOutgoing({ sessionUp: true, registered: this.registered }, this.b) === 'rejoin') {
      this.track(this.rejoin(group, true));
      return;
    }
    if (session.origin === 'rejoin' && !sendQueuedOnRejoin(this.b)) {
      for (const entry of queued) this.outbox.splice(this.outbox.indexOf(entry), 1);
      return;
    }
    for (const entry of queued) {
      const index = this.outbox.indexOf(entry);
      if (index === -1) continue;
      this.outbox.splice(index, 1);
      const sent = await this.sendChat(session, entry.text);
      if (!sent) this.outbox.push(entry);
    }
  }

  private async sendChat(session: Session, text: string): Promise<boolean> {
    const env = this.env;
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

  // ===========================================================================================
  // Conference subscription (7.3.12-1b-sub, 1b-i-b, 1d-ii)

  private async subscribe(group: Group, anew = false): Promise<void> {
    const env = this.env;
    const stack = this.stack;
    if (env === null || stack === null || this.closed) return;
    // Never two subscriptions to one group: an existing live one is kept (unless a mutant subscribes anew).
    if (!anew && group.subscription !== undefined && group.subscription.state !== 'terminated') return;
    const expires = this.options.subscriptionExpires ?? 3600;
    const sub: Subscription = { callId: newCallId(env.registrar.address), localTag: newTag(), state: 'pending' };
    group.subscription = sub;
    const target = subscribeRequest(this.b, group.target, env.aor);
    const request = buildRequest({
      method: 'SUBSCRIBE',
      uri: target.uri,
      via: stack.viaFor(env.registrar.transport, newBranch()),
      from: `${angle(env.aor)};tag=${sub.localTag}`,
      to: angle(group.identity),
      callId: sub.callId,
      cseq: 1,
      contact: this.contactValue(),
      headers: subscribeHeaders(expires, target.event),
    });
    const outcome = await stack.sendRequest(request, this.registrarTarget()).result;
    const status = outcome.kind === 'response' ? outcome.response.status : null;
    const decided = onSubscribeResponse(status, this.b);
    if (outcome.kind === 'response' && status !== null && status >= 200 && status < 300) {
      const dialog = Dialog.fromUac(request, outcome.response);
      if (dialog.ok) sub.dialog = dialog.value;
      if (sub.state === 'pending') sub.state = 'active';
      if (group.state !== 'inactive') group.state = decided.groupState;
      this.scheduleRefresh(group, sub, grantedSeconds(outcome.response, expires));
      return;
    }
    sub.state = 'terminated';
    group.state = decided.groupState === 'unknown' && group.state !== 'unknown' ? group.state : decided.groupState;
    const live = decided.hangUp ? this.liveSession(group) : undefined;
    if (live) await this.hangUp(live);
    if (decided.resubscribe && group.resubscribes < MAX_RESUBSCRIBES) {
      group.resubscribes += 1;
      this.later(2 * (env.timers.t1 || 20), () => this.track(this.subscribe(group)));
    }
  }

  private scheduleRefresh(group: Group, sub: Subscription, granted: number): void {
    this.cancelSubscriptionTimers(sub);
    if (granted <= 0) {
      sub.state = 'terminated';
      return;
    }
    // The refresh is armed first: one due exactly at expiry (a mutant) fires before the lapse.
    const delay = refreshDelayMs(granted, this.b);
    if (delay !== null) {
      sub.refresh = this.later(delay, () => {
        if (!this.participating(group)) return;
        if (refreshMethod(this.b) === 'in-dialog') this.track(this.refreshSubscription(group, sub, granted));
        else this.track(this.subscribe(group, true));
      });
    }
    sub.lapse = this.later(granted * 1000, () => {
      if (sub.state === 'active') sub.state = 'terminated';
    });
  }

  private async refreshSubscription(group: Group, sub: Subscription, previousGrant: number): Promise<void> {
    const env = this.env;
    const stack = this.stack;
    if (env === null || stack === null || sub.dialog === undefined || sub.state !== 'active') return;
    const expires = this.options.subscriptionExpires ?? 3600;
    // In-dialog: the route set (the PF's Record-Route) or the remote target, never a name to resolve.
    const sent = stack.sendInDialog(sub.dialog, 'SUBSCRIBE', { headers: subscribeHeaders(expires) });
    const outcome = 'failure' in sent ? undefined : await sent.transaction.result;
    if (outcome?.kind === 'response' && outcome.response.status >= 200 && outcome.response.status < 300) {
      this.scheduleRefresh(group, sub, grantedSeconds(outcome.response, previousGrant));
    } else {
      this.cancelSubscriptionTimers(sub);
      sub.state = 'terminated';
    }
  }

  /** RFC 6665 §4.1.2.3: ends an active subscription in its dialog; the notifier's final NOTIFY is answered by onNotify. */
  private async unsubscribe(sub: Subscription | undefined): Promise<void> {
    const stack = this.stack;
    if (stack === null || sub?.dialog === undefined || sub.state !== 'active') return;
    this.cancelSubscriptionTimers(sub);
    sub.state = 'terminated';
    this.unsubscribed.add(`${sub.callId}|${sub.localTag}`);
    const sent = stack.sendInDialog(sub.dialog, 'SUBSCRIBE', { headers: subscribeHeaders(0) });
    if ('transaction' in sent) await sent.transaction.result;
  }

  private cancelSubscriptionTimers(sub: Subscription | undefined): void {
    sub?.refresh?.cancel();
    sub?.lapse?.cancel();
  }

  // ===========================================================================================
  // Re-join (7.3.12-2a via §7.3.1.5) and session end

  private async rejoin(group: Group, evenWithSession: boolean): Promise<void> {
    const env = this.env;
    const stack = this.stack;
    if (env === null || stack === null || this.closed || group.joining) return;
    if (!evenWithSession && this.liveSession(group) !== undefined) return;
    group.joining = true;
    try {
      const msrp = this.newMsrpSession('passive', 0, []);
      const local = await listenLocal(msrp);
      if (local.error !== undefined || this.closed) {
        await msrp.close();
        return;
      }
      const offer = buildMsrpOffer({ address: env.registrar.address, port: local.uri.port ?? 0, path: [local.path], setup: 'actpass', sessionId: Date.now() });
      group.contributionId ??= randomToken(16);
      const acceptContact = rejoinAcceptContact(this.b);
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
        contact: this.contactValue(),
        headers,
        body: offer,
        contentType: 'application/sdp',
      });
      // The stack's UAC core ACKs the 2xx (and re-ACKs its retransmissions).
      const sent = stack.sendInvite(invite, this.registrarTarget());
      const outcome = await sent.transaction.result;
      if (outcome.kind !== 'response' || outcome.response.status < 200 || outcome.response.status >= 300) {
        await msrp.close();
        if (outcome.kind === 'response' && outcome.response.status === 404) group.state = 'inactive';
        return;
      }
      const media = await MsrpInviteSession.fromAnswer(sent, parseSdp(outcome.response.body), 'actpass', msrp, local);
      const session: Session = { id: randomToken(4), group, origin: 'rejoin', dialog: media.dialog, msrp, media, state: 'established' };
      this.sessions.push(session);
      this.wireSession(session);
      group.state = 'active';
      if (whenToSubscribe(this.b) !== 'never') this.track(this.subscribe(group));
      await media.connect(this.waitMs());
    } finally {
      group.joining = false;
    }
  }

  /** Our own BYE (only the bye-before-pf mutant, or a 2xx never ACKed per §13.3.1.4). */
  private async hangUp(session: Session): Promise<void> {
    const env = this.env;
    const stack = this.stack;
    if (env === null || stack === null || session.state === 'terminated' || session.dialog === null) return;
    session.state = 'terminated';
    const sent = stack.sendInDialog(session.dialog, 'BYE');
    if ('transaction' in sent) await sent.transaction.result;
    await this.endSession(session);
  }

  private async endSession(session: Session): Promise<void> {
    session.state = 'terminated';
    if (!this.participating(session.group)) this.cancelSubscriptionTimers(session.group.subscription);
    await session.msrp.close();
  }

  // ===========================================================================================
  // Helpers

  private groupFor(identity: string): Group {
    const existing = this.groups.find((g) => sameIdentity(g.identity, identity));
    if (existing) return existing;
    const group: Group = { identity: this.env && sameIdentity(this.env.groupIdentity, identity) ? this.env.groupIdentity : identity, target: identity, state: 'unknown', resubscribes: 0, joining: false };
    this.groups.push(group);
    return group;
  }

  /** The group focus of a PF INVITE: the Contact URI when it carries isfocus, else From (PROTOCOLS §1.2 1b-sub, N23). */
  private focusOf(request: SipRequest): string {
    const contact = headerValues(request, 'contact')[0];
    const parsed = contact === undefined ? undefined : parseNameAddr(contact);
    if (parsed?.ok && getParam(parsed.value.params, 'isfocus') !== undefined) return parsed.value.uri;
    return uriOf(headerValue(request, 'from')) ?? this.env?.groupIdentity ?? '';
  }

  private liveSession(group: Group): Session | undefined {
    return this.sessions.find((s) => s.group === group && s.state !== 'terminated');
  }

  private participating(group: Group): boolean {
    return this.liveSession(group) !== undefined;
  }

  private registrarTarget(): Target {
    const r = this.env!.registrar;
    return { transport: r.transport, address: r.address, port: r.port };
  }

  private ownContactUri(): string {
    const env = this.env!;
    const stack = this.stack!;
    const local = env.registrar.transport === 'udp' ? stack.transport.udp : stack.transport.tcp;
    const aor = parseSipUri(env.aor);
    const user = aor.ok && aor.value.user !== undefined ? `${aor.value.user}@` : '';
    const host = local?.address.includes(':') ? `[${local.address}]` : (local?.address ?? env.registrar.address);
    return `sip:${user}${host}:${local?.port ?? 0};transport=${env.registrar.transport as TransportKind}`;
  }

  private contactValue(): string {
    return `<${this.ownContactUri()}>;${CPM_FEATURE_TAG}`;
  }

  /** Bounded wait for MSRP connects and transactions: Timer F (64·T1). */
  private waitMs(): number {
    return 64 * (this.env?.timers.t1 ?? 500);
  }

  /** Every timer of the client: tracked so stop() cancels it, and never armed after stop(). */
  private later(ms: number, fn: () => void): TimerHandle {
    if (this.closed) return { cancel: () => {} };
    const handle = this.clock.setTimer(ms, () => {
      this.timers.delete(handle);
      if (!this.closed) fn();
    });
    this.timers.add(handle);
    return {
      cancel: () => {
        handle.cancel();
        this.timers.delete(handle);
      },
    };
  }

  /** Background work: errors are contained (a client never crashes the run); stop() does not wait for it. */
  private track(promise: Promise<unknown>): void {
    const p = promise.catch(() => undefined).finally(() => this.work.delete(p));
    this.work.add(p);
  }
}

/** A mutant's response: To-Path and From-Path copied from the request instead of swapped. */
function copyRequestPaths(response: MsrpResponse, request: MsrpRequest): MsrpResponse {
  const path = (name: string) => request.headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';
  const headers = response.headers.map((h) => (h.name === 'To-Path' ? { ...h, value: path('to-path') } : h.name === 'From-Path' ? { ...h, value: path('from-path') } : h));
  return { ...response, headers };
}

/** Event (a mutant may name another package), Accept and Expires of every conference SUBSCRIBE (RFC 4575 §3). */
function subscribeHeaders(expires: number, event = 'conference'): SipHeaderField[] {
  return [
    { name: 'Event', value: event },
    { name: 'Accept', value: CONFERENCE_INFO },
    { name: 'Expires', value: String(expires) },
  ];
}

function tagOfTo(request: SipRequest): string | undefined {
  const to = headerValue(request, 'to');
  const parsed = to === undefined ? undefined : parseNameAddr(to);
  if (!parsed?.ok) return undefined;
  const tag = getParam(parsed.value.params, 'tag');
  return typeof tag === 'string' ? tag : undefined;
}

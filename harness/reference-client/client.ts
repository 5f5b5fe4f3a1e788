/**
 * The built-in reference CPM client: a conforming client of OMA CPM §7.3.12 over the project's own
 * SIP stack and MSRP engine, on real loopback sockets, with an in-process upper tester. All rules
 * live in decisions.ts (pure); the I/O around them is in registration.ts, subscriber.ts and
 * group-session.ts over the shared core.ts. This file is the facade: ClientUnderTest for the
 * runner, UpperTester for the test cases, and the routing of incoming requests. Nothing waits
 * without a bound and stop() releases every socket and timer.
 */
import { newCallId } from '../core/ids.ts';
import type { ClientEnvironment, ClientState, ClientUnderTest, GroupView, UpperTester, UtOperation, UtResult } from '../client/types.ts';
import { participantEntities } from '../conference/conference-info.ts';
import { buildResponse } from '../sip/build.ts';
import { SipStack, type ServerTransaction } from '../sip/stack.ts';
import { notificationsFor, routeOutgoing } from './decisions.ts';
import { ClientCore, ALLOW, ok, utFailure, type ReferenceClientOptions } from './core.ts';
import { GroupSessions } from './group-session.ts';
import { Registration } from './registration.ts';
import { Subscriber } from './subscriber.ts';

export type { ReferenceClientOptions } from './core.ts';

export class ReferenceClient implements ClientUnderTest, UpperTester {

  readonly description: string;
  readonly supports: ReadonlySet<UtOperation> = new Set<UtOperation>(['queueMessage', 'goOffline', 'goOnline', 'markDisplayed', 'state', 'reset']);

  private readonly core: ClientCore;
  private readonly registration: Registration;
  private readonly subscriber: Subscriber;
  private readonly calls: GroupSessions;

  constructor(options: ReferenceClientOptions) {
    this.description = options.description;
    this.core = new ClientCore(options);
    // The subscriber hangs up a session (a mutant's reaction to a 404) through the sessions part, built after it.
    this.subscriber = new Subscriber(this.core, { hangUp: (session) => this.calls.hangUp(session) });
    this.calls = new GroupSessions(this.core, this.subscriber);
    this.registration = new Registration(this.core, this.calls);
  }

  // ===========================================================================================
  // ClientUnderTest and UpperTester

  get upperTester(): UpperTester {
    return this;
  }

  async start(env: ClientEnvironment): Promise<void> {
    this.core.env = env;
    this.registration.state.callId = newCallId(env.registrar.address.replace(/[[\]]/g, ''));
    const ports = env.registrar.transport === 'udp' ? { udpPort: 0 } : { tcpPort: 0 };
    this.core.stack = await SipStack.start({ actor: this.core.actor, address: env.registrar.address, ...ports, timers: env.timers, clock: this.core.clock, trace: this.core.trace, ...this.core.wiring });
    this.core.stack.on('request', (txn) => this.core.track(this.onRequest(txn)));
    this.core.groupFor(env.groupIdentity);
    this.core.online = true;
    await this.registration.registerAndMaybeRejoin();
  }

  async stop(): Promise<void> {
    if (this.core.closed) return;
    this.core.closed = true;
    for (const t of this.core.timers) t.cancel();
    this.core.timers.clear();
    this.registration.refresh?.cancel();
    for (const g of this.core.groups) this.subscriber.cancelSubscriptionTimers(g.subscription);
    try {
      await Promise.all([...this.core.allMsrp].map((m) => m.close()));
      await this.core.stack?.close();
    } catch {
      // stop() must not throw; the sockets are gone either way.
    }
  }

  async queueMessage(group: string, text: string): Promise<UtResult> {
    if (this.core.closed || this.core.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    const g = this.core.groupFor(group);
    this.core.outbox.push({ group: g.identity, text });
    const session = this.core.liveSession(g);
    const route = routeOutgoing({ sessionUp: session !== undefined, registered: this.core.registered }, this.core.b);
    if (route === 'session' && session?.msrp.isBound) await this.calls.flushOutbox(session);
    else if (route === 'rejoin') this.core.track(this.calls.rejoin(g, session !== undefined));
    return ok();
  }

  async goOffline(): Promise<UtResult> {
    if (this.core.closed || this.core.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    this.core.online = false;
    this.registration.refresh?.cancel();
    for (const g of this.core.groups) this.subscriber.cancelSubscriptionTimers(g.subscription);
    const done = await this.registration.register(0);
    this.core.registered = false;
    return done ? ok() : utFailure('UT_DEREGISTER_FAILED', 'the de-REGISTER got no 2xx');
  }

  async goOnline(): Promise<UtResult> {
    if (this.core.closed || this.core.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    this.core.online = true;
    const registered = await this.registration.registerAndMaybeRejoin();
    return registered ? ok() : utFailure('UT_REGISTER_FAILED', 'the REGISTER got no 2xx');
  }

  async markDisplayed(imdnMessageId: string): Promise<UtResult> {
    const entry = this.core.displayable.get(imdnMessageId);
    if (entry === undefined) return utFailure('UT_UNKNOWN_MESSAGE', `no received message with imdn.Message-ID ${imdnMessageId}`);
    if (entry.displayed) return ok();
    entry.displayed = true;
    for (const kind of notificationsFor(entry.requested, 'displayed', this.core.b)) await this.calls.sendImdn(entry.session, entry.original, kind);
    return ok();
  }

  /** UT preamble: forget groups, sessions, subscriptions, outbox and received messages; keep the registration. */
  async reset(): Promise<UtResult> {
    if (this.core.closed || this.core.env === null) return utFailure('UT_NOT_RUNNING', 'the client is not running');
    // A subscription the client forgets is ended first (RFC 6665 §4.1.2.3: SUBSCRIBE with Expires: 0).
    await Promise.all(this.core.groups.map((g) => this.subscriber.unsubscribe(g.subscription)));
    for (const g of this.core.groups) this.subscriber.cancelSubscriptionTimers(g.subscription);
    const sessions = this.core.sessions.splice(0);
    await Promise.all(sessions.map((s) => s.msrp.close().catch(() => undefined)));
    this.core.groups.length = 0;
    this.core.outbox.length = 0;
    this.core.received.length = 0;
    return ok();
  }

  async state(): Promise<UtResult<ClientState>> {
    const groups: GroupView[] = this.core.groups.map((g) => ({
      identity: g.identity,
      ...(g.contributionId === undefined ? {} : { contributionId: g.contributionId }),
      state: g.state,
      participants: g.conference ? participantEntities(g.conference) : [],
    }));
    return { ok: true, value: { registered: this.core.registered, online: this.core.online, groups, outbox: [...this.core.outbox], received: [...this.core.received] } };
  }

  async onRequest(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    switch (request.method) {
      case 'INVITE':
        return this.calls.onInvite(txn);
      case 'BYE':
        return this.calls.onBye(txn);
      case 'NOTIFY':
        return this.subscriber.onNotify(txn);
      case 'OPTIONS':
      case 'MESSAGE':
        txn.respond(buildResponse(request, 200));
        return;
      default:
        txn.respond(buildResponse(request, 501, undefined, { headers: [{ name: 'Allow', value: ALLOW }] }));
    }
  }
}

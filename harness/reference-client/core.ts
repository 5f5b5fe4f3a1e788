/**
 * What the parts of the reference client share: its behaviour and options, the environment and
 * SIP stack of the running case, the groups, sessions, outbox and received messages, and the
 * helpers every part uses (timers that stop() cancels, contained background work, the Contact and
 * the registrar target). The parts: registration.ts, subscriber.ts, group-session.ts; client.ts
 * is the facade (ClientUnderTest and the upper tester).
 */
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import type { FaultBoundary } from '../core/scope.ts';
import type { WireTap } from '../core/wire-tap.ts';
import type { TraceSink, TransportKind } from '../core/trace.ts';
import type { ClientEnvironment, ClientUnderTest, GroupView, OutboxEntry, ReceivedMessage, UtResult } from '../client/types.ts';
import type { ConferenceInfo } from '../conference/conference-info.ts';
import type { MsrpRequest, MsrpResponse } from '../msrp/frame.ts';
import { MsrpSession } from '../msrp/session.ts';
import { MsrpInviteSession } from '../session/msrp-invite.ts';
import { Dialog } from '../sip/dialog.ts';
import { CPM_FEATURE_TAG } from '../sip/caller-prefs.ts';
import { getParam } from '../sip/lex.ts';
import { parseSipUri } from '../sip/uri.ts';
import { parseExpires, parseNameAddr } from '../sip/headers.ts';
import { headerValue, headerValues, type SipHeaderField, type SipRequest, type SipResponse } from '../sip/message.ts';
import { SipStack, type Target } from '../sip/stack.ts';
import type { Behaviour } from './behaviour.ts';
import { sameIdentity, type OriginalMessage } from './decisions.ts';

export interface ReferenceClientOptions {
  readonly behaviour: Behaviour;
  readonly trace: TraceSink;
  readonly description: string;
  readonly actor?: string;
  readonly clock?: Clock;
  /** The test case's fault boundary (sockets, timers); default none: exceptions propagate. */
  readonly boundary?: FaultBoundary;
  /** A chaos client's tap on its TCP connections, SIP and MSRP (chaos.ts). */
  readonly tap?: WireTap;
  /** Wait after registration before a re-join, so a PF INVITE arriving first wins (glare). Default max(20, 10·T1). */
  readonly rejoinGraceMs?: number;
  /** REGISTER Expires (s). Default 3600. */
  readonly registrationExpires?: number;
  /** SUBSCRIBE Expires (s). Default 3600. */
  readonly subscriptionExpires?: number;
}

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, MESSAGE';
export const CONFERENCE_INFO = 'application/conference-info+xml';
/** RFC 4145 §4 / rcsjta: an active endpoint may put the discard port in m=; a=path carries the URI. */
export const DISCARD_PORT = 9;
/** A resubscribing mutant must still stop somewhere. */
export const MAX_RESUBSCRIBES = 3;

export interface Group {
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

export interface Subscription {
  readonly callId: string;
  readonly localTag: string;
  dialog?: Dialog;
  state: 'pending' | 'active' | 'terminated';
  refresh?: TimerHandle;
  lapse?: TimerHandle;
}

export interface Session {
  readonly id: string;
  readonly group: Group;
  readonly origin: 'pf' | 'rejoin';
  dialog: Dialog | null;
  readonly msrp: MsrpSession;
  /** The SDP exchange's outcome: role, paths, and the active side's connect. */
  readonly media: MsrpInviteSession;
  state: 'early' | 'established' | 'terminated';
}

export interface Displayable {
  readonly original: OriginalMessage;
  readonly requested: ReadonlySet<string>;
  readonly session: Session;
  displayed: boolean;
}

export function ok(): UtResult {
  return { ok: true, value: undefined };
}

export function utFailure(code: string, message: string): UtResult {
  return { ok: false, code, message };
}

export function angle(uri: string): string {
  return uri.startsWith('<') ? uri : `<${uri}>`;
}

export function uriOf(nameAddr: string | undefined): string | undefined {
  if (nameAddr === undefined) return undefined;
  const parsed = parseNameAddr(nameAddr);
  return parsed.ok ? parsed.value.uri : undefined;
}

export function grantedSeconds(response: SipResponse, fallback: number): number {
  const value = headerValue(response, 'expires');
  const parsed = value === undefined ? undefined : parseExpires(value);
  return parsed?.ok ? parsed.value : fallback;
}

export class ClientCore {
  readonly b: Behaviour;
  readonly trace: TraceSink;
  readonly actor: string;
  readonly clock: Clock;
  readonly options: ReferenceClientOptions;
  /** Boundary and tap for every transport the client opens. */
  readonly wiring: { boundary?: FaultBoundary; tap?: WireTap };

  env: ClientEnvironment | null = null;
  stack: SipStack | null = null;
  closed = false;
  registered = false;
  online = false;
  readonly timers = new Set<TimerHandle>();
  readonly groups: Group[] = [];
  readonly sessions: Session[] = [];
  readonly outbox: OutboxEntry[] = [];
  readonly received: ReceivedMessage[] = [];
  readonly displayable = new Map<string, Displayable>();
  readonly work = new Set<Promise<unknown>>();
  readonly allMsrp = new Set<MsrpSession>();

  constructor(options: ReferenceClientOptions) {
    this.options = options;
    this.b = options.behaviour;
    this.trace = options.trace;
    this.actor = options.actor ?? 'client';
    this.clock = options.clock ?? options.boundary?.clock ?? systemClock;
    this.wiring = {
      ...(options.boundary === undefined ? {} : { boundary: options.boundary }),
      ...(options.tap === undefined ? {} : { tap: options.tap }),
    };
  }

  groupFor(identity: string): Group {
    const existing = this.groups.find((g) => sameIdentity(g.identity, identity));
    if (existing) return existing;
    const group: Group = { identity: this.env && sameIdentity(this.env.groupIdentity, identity) ? this.env.groupIdentity : identity, target: identity, state: 'unknown', resubscribes: 0, joining: false };
    this.groups.push(group);
    return group;
  }

  /** The group focus of a PF INVITE: the Contact URI when it carries isfocus, else From (PROTOCOLS §1.2 1b-sub, N23). */
  focusOf(request: SipRequest): string {
    const contact = headerValues(request, 'contact')[0];
    const parsed = contact === undefined ? undefined : parseNameAddr(contact);
    if (parsed?.ok && getParam(parsed.value.params, 'isfocus') !== undefined) return parsed.value.uri;
    return uriOf(headerValue(request, 'from')) ?? this.env?.groupIdentity ?? '';
  }

  liveSession(group: Group): Session | undefined {
    return this.sessions.find((s) => s.group === group && s.state !== 'terminated');
  }

  participating(group: Group): boolean {
    return this.liveSession(group) !== undefined;
  }

  registrarTarget(): Target {
    const r = this.env!.registrar;
    return { transport: r.transport, address: r.address, port: r.port };
  }

  ownContactUri(): string {
    const env = this.env!;
    const stack = this.stack!;
    const local = env.registrar.transport === 'udp' ? stack.transport.udp : stack.transport.tcp;
    const aor = parseSipUri(env.aor);
    const user = aor.ok && aor.value.user !== undefined ? `${aor.value.user}@` : '';
    const host = local?.address.includes(':') ? `[${local.address}]` : (local?.address ?? env.registrar.address);
    return `sip:${user}${host}:${local?.port ?? 0};transport=${env.registrar.transport as TransportKind}`;
  }

  contactValue(): string {
    return `<${this.ownContactUri()}>;${CPM_FEATURE_TAG}`;
  }

  /** Bounded wait for MSRP connects and transactions: Timer F (64·T1). */
  waitMs(): number {
    return 64 * (this.env?.timers.t1 ?? 500);
  }

  /** Every timer of the client: tracked so stop() cancels it, and never armed after stop(). */
  later(ms: number, fn: () => void): TimerHandle {
    if (this.closed) return { cancel: () => {} };
    // A window, not a protocol timer: this in-process client shares the harness's event loop, so
    // its behaviour (refresh at half the grant, give up after 700 ms…) counts the time it could run,
    // as the harness's windows do; a loaded machine does not move it relative to them.
    const handle = this.clock.setWindow(ms, () => {
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

  /**
   * Background work; stop() does not wait for it. A rejection while the client runs is a fault of
   * its test case (an `error` outcome with the stack, never an unhandled rejection, never silently
   * dropped: a bug of the reference client must not read as a verdict on the harness or a pass).
   * After stop(), work cut short by the closed sockets is expected and dropped. Outside a test case
   * (no boundary: unit tests, serve-client) it is dropped as before.
   */
  track(promise: Promise<unknown>): void {
    const boundary = this.options.boundary;
    const p = promise
      .then(
        () => undefined,
        (error: unknown) => {
          if (boundary !== undefined && !this.closed) boundary.fault('reference client: background work', error);
        },
      )
      .finally(() => this.work.delete(p));
    this.work.add(p);
  }
}

/** A mutant's response: To-Path and From-Path copied from the request instead of swapped. */
export function copyRequestPaths(response: MsrpResponse, request: MsrpRequest): MsrpResponse {
  const path = (name: string) => request.headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';
  const headers = response.headers.map((h) => (h.name === 'To-Path' ? { ...h, value: path('to-path') } : h.name === 'From-Path' ? { ...h, value: path('from-path') } : h));
  return { ...response, headers };
}

/** Event (a mutant may name another package), Accept and Expires of every conference SUBSCRIBE (RFC 4575 §3). */
export function subscribeHeaders(expires: number, event = 'conference'): SipHeaderField[] {
  return [
    { name: 'Event', value: event },
    { name: 'Accept', value: CONFERENCE_INFO },
    { name: 'Expires', value: String(expires) },
  ];
}

export function tagOfTo(request: SipRequest): string | undefined {
  const to = headerValue(request, 'to');
  const parsed = to === undefined ? undefined : parseNameAddr(to);
  if (!parsed?.ok) return undefined;
  const tag = getParam(parsed.value.params, 'tag');
  return typeof tag === 'string' ? tag : undefined;
}

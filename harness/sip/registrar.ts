/**
 * A registrar (RFC 3261 §10.3) without authentication: the harness is the client's IMS core, so
 * it must accept REGISTER, remember where the client can be reached, and answer exactly. The
 * decision is a pure function over the current bindings (`decideRegister`); `Registrar` holds the
 * bindings, expires them on a Clock, emits events and can attach to a SipStack.
 */
import { EventEmitter } from 'node:events';
import { systemClock } from '../core/clock.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { diagnostic } from '../core/diagnostic.ts';
import type { Diagnostic } from '../core/diagnostic.ts';
import type { Endpoint, TransportKind } from '../core/trace.ts';
import { buildResponse } from './build.ts';
import { getParam } from './lex.ts';
import { parseSipUri, sipUrisEqual } from './uri.ts';
import { formatNameAddr, parseCSeq, parseExpires, parseNameAddr } from './headers.ts';
import type { Param } from './lex.ts';
import { headerValue, headerValues } from './message.ts';
import type { SipRequest, SipResponse } from './message.ts';
import type { RequestSource, SipStack } from './stack.ts';
import type { ServerTransaction } from './transaction.ts';

export interface Binding {
  /** Canonical address-of-record (§10.3 step 5): `sip:user@host[:port]`, no parameters. */
  readonly aor: string;
  /** The contact URI. */
  readonly contact: string;
  /** Contact header params as sent (feature tags such as `+g.3gpp.icsi-ref`), without `expires`. */
  readonly contactParams: readonly Param[];
  /** Seconds granted. */
  readonly expires: number;
  /** Clock time (ms) at which the binding lapses. */
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  readonly transport: TransportKind;
  /** Where the REGISTER came from (may differ from the contact behind NAT). */
  readonly source: Endpoint;
  readonly connectionId?: string;
  /** Clock time of the first registration of this contact. */
  readonly registeredAt: number;
}

/** The Contact as the client registered it (`<uri>;feature-tags`, no `expires`), or the bare URI when it had no params. */
export function registeredContact(binding: Binding): string {
  return binding.contactParams.length === 0 ? binding.contact : formatNameAddr({ uri: binding.contact, params: [...binding.contactParams] });
}

export type UnregisterReason = 'removed' | 'expired';

export type RegistrationChange =
  | { kind: 'registered'; binding: Binding }
  | { kind: 'refreshed'; binding: Binding; previous: Binding }
  | { kind: 'unregistered'; binding: Binding; reason: UnregisterReason };

export interface RegistrarPolicy {
  /** Granted when neither the Contact `expires` param nor an Expires header asks. Default 3600. */
  defaultExpires: number;
  /** Shorter non-zero requests (below one hour) get 423 with Min-Expires (§10.3 step 7). Default 60. */
  minExpires: number;
  /** Longer requests are shortened to this. Default 7200. */
  maxExpires: number;
  /** Option-tags accepted in Require (§10.3 step 2); anything else gets 420. Default none. */
  supportedExtensions: readonly string[];
}

export const DEFAULT_REGISTRAR_POLICY: Readonly<RegistrarPolicy> = {
  defaultExpires: 3600,
  minExpires: 60,
  maxExpires: 7200,
  supportedExtensions: [],
};

export interface RegisterDecision {
  response: SipResponse;
  /** The AOR's bindings after the request (unchanged when it was rejected). */
  bindings: Binding[];
  changes: RegistrationChange[];
  diagnostics: Diagnostic[];
}

/** §10.3 step 5: scheme, user and host (lower-cased) of a SIP URI, no parameters or headers. */
export function canonicalAor(uri: string): string | undefined {
  const parsed = parseSipUri(uri);
  if (!parsed.ok || parsed.value.scheme === 'tel') return undefined;
  const u = parsed.value;
  const user = u.user === undefined ? '' : `${decodeURIComponentSafe(u.user)}@`;
  const port = u.port === undefined ? '' : `:${u.port}`;
  return `${u.scheme}:${user}${u.host.toLowerCase()}${port}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function reject(request: SipRequest, status: number, existing: Binding[], diagnostics: Diagnostic[], headers: { name: string; value: string }[] = []): RegisterDecision {
  return { response: buildResponse(request, status, undefined, { headers }), bindings: existing, changes: [], diagnostics };
}

interface RequestedContact {
  uri: string;
  params: Param[];
  expires: number;
}

/**
 * §10.3 steps 2 and 5–8 for one REGISTER against the AOR's current bindings. All updates are
 * applied or none (step 7). `existing` must be the bindings of the request's AOR.
 */
export function decideRegister(
  request: SipRequest,
  source: RequestSource,
  existing: readonly Binding[],
  now: number,
  policy: RegistrarPolicy = DEFAULT_REGISTRAR_POLICY,
): RegisterDecision {
  const diagnostics: Diagnostic[] = [];
  const current = [...existing];

  // Step 2: Require.
  const required = headerValues(request, 'require').map((t) => t.trim());
  const unsupported = required.filter((tag) => !policy.supportedExtensions.some((s) => s.toLowerCase() === tag.toLowerCase()));
  if (unsupported.length > 0) {
    diagnostics.push(diagnostic('SIP_REG_UNSUPPORTED_REQUIRE', `REGISTER requires unsupported extensions: ${unsupported.join(', ')}`, 'RFC 3261 §10.3 step 2', { severity: 'warning', bytes: unsupported.join(', ') }));
    return reject(request, 420, current, diagnostics, [{ name: 'Unsupported', value: unsupported.join(', ') }]);
  }

  // Step 5: the AOR is the To URI.
  const to = parseNameAddr(headerValue(request, 'to') ?? '');
  const aor = to.ok ? canonicalAor(to.value.uri) : undefined;
  if (aor === undefined) {
    diagnostics.push(...to.diagnostics, diagnostic('SIP_REG_BAD_AOR', 'To of REGISTER is not a SIP or SIPS address-of-record', 'RFC 3261 §10.3 step 5', { bytes: headerValue(request, 'to') ?? '' }));
    return reject(request, 404, current, diagnostics);
  }
  const callId = headerValue(request, 'call-id');
  const cseq = parseCSeq(headerValue(request, 'cseq') ?? '');
  if (callId === undefined || !cseq.ok) {
    diagnostics.push(...cseq.diagnostics, diagnostic('SIP_REG_BAD_REQUEST', 'REGISTER lacks a Call-ID or a valid CSeq', 'RFC 3261 §10.2', { bytes: headerValue(request, 'cseq') ?? '' }));
    return reject(request, 400, current, diagnostics);
  }

  let headerExpires: number | undefined;
  const expiresValue = headerValue(request, 'expires');
  if (expiresValue !== undefined) {
    const parsed = parseExpires(expiresValue);
    if (!parsed.ok) {
      diagnostics.push(...parsed.diagnostics);
      return reject(request, 400, current, diagnostics);
    }
    headerExpires = parsed.value;
  }

  // Step 6: Contact "*" removes everything, only with Expires: 0 and alone.
  const contactValues = headerValues(request, 'contact');
  const ordering = (binding: Binding): Diagnostic | undefined =>
    binding.callId === callId && cseq.value.seq <= binding.cseq
      ? diagnostic('SIP_REG_CSEQ_OUT_OF_ORDER', `CSeq ${cseq.value.seq} is not above ${binding.cseq} for the same Call-ID`, 'RFC 3261 §10.3 step 6/7', { bytes: headerValue(request, 'cseq') ?? '' })
      : undefined;
  if (contactValues.some((v) => v.trim() === '*')) {
    if (contactValues.length !== 1 || headerExpires !== 0) {
      diagnostics.push(diagnostic('SIP_REG_BAD_WILDCARD', 'Contact "*" needs Expires: 0 and no other Contact', 'RFC 3261 §10.3 step 6', { bytes: contactValues.join(', ') }));
      return reject(request, 400, current, diagnostics);
    }
    const outOfOrder = current.map(ordering).filter((d): d is Diagnostic => d !== undefined);
    if (outOfOrder.length > 0) return reject(request, 500, current, [...diagnostics, ...outOfOrder]);
    const changes: RegistrationChange[] = current.map((binding) => ({ kind: 'unregistered', binding, reason: 'removed' }));
    return { response: okResponse(request, [], now), bindings: [], changes, diagnostics };
  }

  // Step 7: each contact's interval; 423 for a too-brief one.
  const requested: RequestedContact[] = [];
  for (const value of contactValues) {
    const parsed = parseNameAddr(value);
    if (!parsed.ok) {
      diagnostics.push(...parsed.diagnostics);
      return reject(request, 400, current, diagnostics);
    }
    const param = getParam(parsed.value.params, 'expires');
    let expires = headerExpires ?? policy.defaultExpires;
    if (param !== undefined) {
      const p = typeof param === 'string' ? parseExpires(param) : undefined;
      if (p === undefined || !p.ok) {
        diagnostics.push(diagnostic('SIP_BAD_EXPIRES', `Contact expires "${String(param)}" is not delta-seconds`, 'RFC 3261 §20.10', { bytes: value }));
        return reject(request, 400, current, diagnostics);
      }
      expires = p.value;
    }
    if (expires > 0 && expires < 3600 && expires < policy.minExpires) {
      diagnostics.push(diagnostic('SIP_REG_INTERVAL_TOO_BRIEF', `requested ${expires} s is below the minimum ${policy.minExpires} s`, 'RFC 3261 §10.3 step 7', { severity: 'warning', bytes: value }));
      return reject(request, 423, current, diagnostics, [{ name: 'Min-Expires', value: String(policy.minExpires) }]);
    }
    requested.push({ uri: parsed.value.uri, params: parsed.value.params.filter((p) => p.name.toLowerCase() !== 'expires'), expires: Math.min(expires, policy.maxExpires) });
  }

  // Tentative updates, committed only if none is out of order.
  const next = [...current];
  const changes: RegistrationChange[] = [];
  for (const want of requested) {
    const index = next.findIndex((b) => sipUrisEqual(b.contact, want.uri));
    const previous = index === -1 ? undefined : next[index];
    if (previous !== undefined) {
      const problem = ordering(previous);
      if (problem) return reject(request, 500, current, [...diagnostics, problem]);
    }
    if (want.expires === 0) {
      if (previous !== undefined) {
        next.splice(index, 1);
        changes.push({ kind: 'unregistered', binding: previous, reason: 'removed' });
      }
      continue;
    }
    const binding: Binding = {
      aor,
      contact: want.uri,
      contactParams: want.params,
      expires: want.expires,
      expiresAt: now + want.expires * 1000,
      callId,
      cseq: cseq.value.seq,
      transport: source.transport,
      source: { address: source.remote.address, port: source.remote.port },
      ...(source.connectionId !== undefined ? { connectionId: source.connectionId } : {}),
      registeredAt: previous?.registeredAt ?? now,
    };
    if (previous === undefined) {
      next.push(binding);
      changes.push({ kind: 'registered', binding });
    } else {
      next[index] = binding;
      changes.push({ kind: 'refreshed', binding, previous });
    }
  }
  return { response: okResponse(request, next, now), bindings: next, changes, diagnostics };
}

/** Step 8: 200 listing every current binding with its remaining expiry. */
function okResponse(request: SipRequest, bindings: readonly Binding[], now: number): SipResponse {
  const headers = bindings.map((b) => ({
    name: 'Contact',
    value: formatNameAddr({ uri: b.contact, params: [...b.contactParams, { name: 'expires', value: String(Math.max(0, Math.ceil((b.expiresAt - now) / 1000))) }] }),
  }));
  headers.push({ name: 'Date', value: new Date().toUTCString() });
  return buildResponse(request, 200, undefined, { headers });
}

export type RegistrationWait = { kind: 'registered'; binding: Binding } | { kind: 'timeout'; aor: string | undefined; afterMs: number };

export interface RegistrarEvents {
  registered: [binding: Binding];
  refreshed: [binding: Binding, previous: Binding];
  unregistered: [binding: Binding, reason: UnregisterReason];
}

export interface RegistrarOptions extends Partial<RegistrarPolicy> {
  clock?: Clock;
}

export class Registrar extends EventEmitter<RegistrarEvents> {
  readonly policy: RegistrarPolicy;
  private readonly clock: Clock;
  private readonly byAor = new Map<string, Binding[]>();
  private readonly expiryTimers = new Map<Binding, TimerHandle>();

  constructor(options: RegistrarOptions = {}) {
    super();
    const { clock, ...policy } = options;
    this.clock = clock ?? systemClock;
    this.policy = { ...DEFAULT_REGISTRAR_POLICY, ...policy };
  }

  /** Decides, commits and emits; the caller sends `response`. */
  handleRegister(request: SipRequest, source: RequestSource, now: number = this.clock.now()): RegisterDecision {
    const to = parseNameAddr(headerValue(request, 'to') ?? '');
    const aor = to.ok ? canonicalAor(to.value.uri) : undefined;
    const existing = aor === undefined ? [] : (this.byAor.get(aor) ?? []);
    const decision = decideRegister(request, source, existing, now, this.policy);
    if (aor === undefined || decision.response.status !== 200) return decision;
    if (decision.bindings.length === 0) this.byAor.delete(aor);
    else this.byAor.set(aor, decision.bindings);
    for (const change of decision.changes) {
      const replaced = change.kind === 'refreshed' ? change.previous : change.binding;
      this.expiryTimers.get(replaced)?.cancel();
      this.expiryTimers.delete(replaced);
      if (change.kind !== 'unregistered') this.armExpiry(change.binding, now);
    }
    for (const change of decision.changes) {
      if (change.kind === 'registered') this.emit('registered', change.binding);
      else if (change.kind === 'refreshed') this.emit('refreshed', change.binding, change.previous);
      else this.emit('unregistered', change.binding, change.reason);
    }
    return decision;
  }

  /** Answers every REGISTER the stack receives; returns a function that detaches. */
  attach(stack: SipStack): () => void {
    const onRequest = (txn: ServerTransaction): void => {
      if (txn.request.method !== 'REGISTER') return;
      txn.respond(this.handleRegister(txn.request, txn.source).response);
    };
    stack.on('request', onRequest);
    return () => {
      stack.off('request', onRequest);
    };
  }

  /** The most recently registered live binding of the AOR (any URI form; compared canonically). */
  binding(aor: string): Binding | undefined {
    const list = this.bindings(aor);
    return list.reduce<Binding | undefined>((best, b) => (best === undefined || b.registeredAt >= best.registeredAt ? b : best), undefined);
  }

  /** Live bindings of one AOR, or of all AORs. */
  bindings(aor?: string): Binding[] {
    if (aor === undefined) return [...this.byAor.values()].flat();
    const key = canonicalAor(aor);
    return key === undefined ? [] : [...(this.byAor.get(key) ?? [])];
  }

  /**
   * Resolves with a binding of the AOR (or of any AOR) as soon as one exists, or with a timeout
   * value after `timeoutMs` on the registrar's clock; never rejects, never hangs.
   */
  waitForRegistration(aor: string | undefined, timeoutMs: number): Promise<RegistrationWait> {
    const existing = aor === undefined ? this.bindings()[0] : this.binding(aor);
    if (existing !== undefined) return Promise.resolve({ kind: 'registered', binding: existing });
    const wanted = aor === undefined ? undefined : canonicalAor(aor);
    return new Promise((resolve) => {
      const onRegistered = (binding: Binding): void => {
        if (wanted !== undefined && binding.aor !== wanted) return;
        timer.cancel();
        this.off('registered', onRegistered);
        resolve({ kind: 'registered', binding });
      };
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.off('registered', onRegistered);
        resolve({ kind: 'timeout', aor, afterMs: timeoutMs });
      });
      this.on('registered', onRegistered);
    });
  }

  /** Cancels expiry timers and forgets every binding (no events). */
  clear(): void {
    for (const t of this.expiryTimers.values()) t.cancel();
    this.expiryTimers.clear();
    this.byAor.clear();
  }

  private armExpiry(binding: Binding, now: number): void {
    const handle = this.clock.setTimer(Math.max(0, binding.expiresAt - now), () => {
      this.expiryTimers.delete(binding);
      const list = this.byAor.get(binding.aor) ?? [];
      const index = list.indexOf(binding);
      if (index === -1) return;
      list.splice(index, 1);
      if (list.length === 0) this.byAor.delete(binding.aor);
      this.emit('unregistered', binding, 'expired');
    });
    this.expiryTimers.set(binding, handle);
  }
}

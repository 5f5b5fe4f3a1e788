/**
 * The conference-event notifier (RFC 6665 notifier role, RFC 4575 package; PROTOCOLS §2.11/§2.12):
 * answers SUBSCRIBEs per the current ConferencePolicy, keeps the subscription dialogs, sends the
 * immediate NOTIFY after every accepted (initial or refresh) SUBSCRIBE and a terminated NOTIFY on
 * expiry. Everything is logged; nothing here judges the client.
 */
import type { TimerHandle } from '../core/clock.ts';
import { newTag } from '../core/ids.ts';
import { buildResponse } from '../sip/build.ts';
import { Dialog } from '../sip/dialog.ts';
import { tagOf } from '../sip/headers.ts';
import { headerValue, type SipRequest } from '../sip/message.ts';
import type { ServerTransaction } from '../sip/stack.ts';
import { conferenceDocument, decideSubscribe, grantedExpires, subscriptionStateValue } from './conference.ts';
import { groupContact, pfRecordRoute, type PfContext } from './context.ts';
import { PF_ALLOW_EVENTS } from './invite-builder.ts';
import type { ConferencePolicy, NotifyOptions, NotifyResult, SubscriptionInfo } from './types.ts';

/**
 * RFC 6665 §4.4.4: Allow-Events in the responses to a dialog-initiating SUBSCRIBE (200, 404, 489 alike).
 * Not in the NOTIFYs nor in the 200 to a refresh: inside the subscription's own dialog, with the
 * conference package the only one, the RFC says it "doesn't necessarily make much sense".
 */
const ALLOW_EVENTS = { name: 'Allow-Events', value: PF_ALLOW_EVENTS } as const;

interface Subscription {
  id: string;
  dialog: Dialog;
  expiresAt: number;
  state: 'active' | 'terminated';
  version: number;
  expiry?: TimerHandle;
}

export class ConferenceNotifier {
  private readonly subs = new Map<string, Subscription>();
  private counter = 0;
  private closed = false;

  constructor(
    private readonly ctx: PfContext,
    private readonly policy: () => ConferencePolicy,
  ) {}

  list(): SubscriptionInfo[] {
    return [...this.subs.values()].map((s) => ({ id: s.id, dialog: s.dialog, expiresAt: s.expiresAt, state: s.state, version: s.version }));
  }

  /** Whether an in-dialog request belongs to one of our subscriptions. */
  owns(request: SipRequest): boolean {
    return this.find(request) !== undefined;
  }

  handleSubscribe(txn: ServerTransaction): void {
    const request = txn.request;
    if (tagOf(headerValue(request, 'to') ?? '') !== undefined) this.refresh(txn);
    else this.initial(txn);
  }

  private initial(txn: ServerTransaction): void {
    const request = txn.request;
    const policy = this.policy();
    const decision = decideSubscribe(request, this.ctx.group, policy);
    if (decision.status !== 200) {
      txn.respond(buildResponse(request, decision.status, undefined, { headers: [ALLOW_EVENTS] }));
      this.ctx.log.append({ type: 'subscribe', request, initial: true, answeredWith: decision.status, subscriptionId: '', matchedGroup: decision.matchedGroup, expires: 0 });
      return;
    }
    const response = buildResponse(request, 200, undefined, {
      toTag: newTag(),
      contact: groupContact(this.ctx, false),
      recordRoute: [pfRecordRoute(this.ctx)],
      headers: [{ name: 'Expires', value: String(decision.expires) }, ALLOW_EVENTS],
    });
    txn.respond(response);
    const dialog = Dialog.fromUas(request, response);
    const id = `sub${++this.counter}`;
    if (!dialog.ok) {
      // The 200 is out; without a dialog (e.g. no Contact) no NOTIFY can follow. The log says why.
      this.ctx.log.append({ type: 'subscribe', request, initial: true, answeredWith: 200, subscriptionId: '', matchedGroup: true, expires: decision.expires });
      return;
    }
    const sub: Subscription = { id, dialog: dialog.value, expiresAt: this.ctx.clock.now() + decision.expires * 1000, state: 'active', version: 1 };
    this.subs.set(id, sub);
    this.ctx.log.append({ type: 'subscribe', request, initial: true, answeredWith: 200, subscriptionId: id, matchedGroup: true, expires: decision.expires });
    this.ctx.boundary.detach('pf: conference NOTIFY', this.afterAccept(sub, decision.expires, policy));
  }

  private refresh(txn: ServerTransaction): void {
    const request = txn.request;
    const sub = this.find(request);
    if (sub === undefined || sub.state === 'terminated') {
      txn.respond(buildResponse(request, 481));
      this.ctx.log.append({ type: 'subscribe', request, initial: false, answeredWith: 481, subscriptionId: sub?.id ?? '', matchedGroup: false, expires: 0 });
      return;
    }
    const problems = sub.dialog.acceptRemoteRequest(request).filter((d) => d.severity === 'error');
    if (problems.length > 0) {
      txn.respond(buildResponse(request, 500));
      this.ctx.log.append({ type: 'subscribe', request, initial: false, answeredWith: 500, subscriptionId: sub.id, matchedGroup: true, expires: 0 });
      return;
    }
    const policy = this.policy();
    const expires = grantedExpires(request, policy);
    txn.respond(buildResponse(request, 200, undefined, { contact: groupContact(this.ctx, false), headers: [{ name: 'Expires', value: String(expires) }] }));
    sub.expiresAt = this.ctx.clock.now() + expires * 1000;
    this.ctx.log.append({ type: 'subscribe', request, initial: false, answeredWith: 200, subscriptionId: sub.id, matchedGroup: true, expires });
    this.ctx.boundary.detach('pf: conference NOTIFY', this.afterAccept(sub, expires, { ...policy, mode: policy.mode === 'notify-then-terminate' ? 'notify-then-terminate' : 'active' }));
  }

  /** RFC 6665 §4.2.2: a NOTIFY right after accepting or refreshing; then the policy's follow-up. */
  private async afterAccept(sub: Subscription, expires: number, policy: ConferencePolicy): Promise<void> {
    sub.expiry?.cancel();
    if (expires === 0) {
      sub.state = 'terminated';
      await this.sendNotify(sub.id, { state: 'terminated', reason: 'timeout', body: null });
      return;
    }
    const variant = policy.documentVariant ?? 'standard';
    await this.sendNotify(sub.id, { state: 'active', expires, documentVariant: variant });
    if (policy.mode === 'notify-then-terminate') {
      sub.state = 'terminated';
      await this.sendNotify(sub.id, { state: 'terminated', reason: 'noresource', body: null });
      return;
    }
    // close() may have run while the NOTIFY was in flight: arming the timer now would keep the process alive.
    if (this.closed) return;
    sub.expiry = this.ctx.clock.setTimer(expires * 1000, () => {
      if (sub.state !== 'active' || this.closed) return;
      sub.state = 'terminated';
      this.ctx.boundary.detach('pf: conference NOTIFY', this.sendNotify(sub.id, { state: 'terminated', reason: 'timeout', body: null }));
    });
  }

  async sendNotify(subscriptionId: string, options: NotifyOptions = {}): Promise<NotifyResult> {
    const sub = this.subs.get(subscriptionId);
    const placeholder: SipRequest = { kind: 'request', method: 'NOTIFY', uri: '', version: 'SIP/2.0', headers: [], body: Buffer.alloc(0) };
    if (sub === undefined) return { request: placeholder, response: null, failure: `no subscription ${subscriptionId}` };
    if (this.closed) return { request: placeholder, response: null, failure: 'the PF is closed' };
    const state = options.state ?? 'active';
    if (state === 'terminated') {
      sub.state = 'terminated';
      sub.expiry?.cancel();
    }
    const remaining = Math.max(0, Math.ceil((sub.expiresAt - this.ctx.clock.now()) / 1000));
    const stateValue = subscriptionStateValue(state, { expires: options.expires ?? remaining, ...(options.reason === undefined ? {} : { reason: options.reason }) });
    const headers = [
      { name: 'Event', value: 'conference' },
      { name: 'Subscription-State', value: stateValue },
    ];
    let body: Buffer | undefined;
    let contentType: string | undefined;
    if (options.body !== undefined) {
      if (options.body !== null) {
        body = options.body;
        contentType = 'application/conference-info+xml';
      }
    } else {
      const doc = conferenceDocument(this.ctx.group, {
        version: sub.version++,
        documentState: options.documentState ?? 'full',
        ...(options.participants ? { participants: options.participants } : {}),
        variant: options.documentVariant ?? this.policy().documentVariant ?? 'standard',
      });
      body = doc.body;
      contentType = doc.contentType;
    }
    const sent = this.ctx.stack.sendInDialog(sub.dialog, 'NOTIFY', {
      headers,
      ...(body === undefined ? {} : { body }),
      ...(contentType === undefined ? {} : { contentType }),
    });
    const request = sent.request;
    this.ctx.log.append({ type: 'notify-sent', request, subscriptionId });
    if ('failure' in sent) {
      this.ctx.log.append({ type: 'notify-answered', request, response: null, subscriptionId, failure: sent.failure });
      return { request, response: null, failure: sent.failure };
    }
    const outcome = await sent.transaction.result;
    if (outcome.kind === 'response') {
      this.ctx.log.append({ type: 'notify-answered', request, response: outcome.response, subscriptionId });
      if (outcome.response.status === 481) sub.state = 'terminated';
      return { request, response: outcome.response };
    }
    const failure = outcome.kind === 'timeout' ? `no response to the NOTIFY within Timer F (64·T1 = ${64 * this.ctx.stack.timers.t1} ms, RFC 3261 §17.1.2.2)` : outcome.error.message;
    this.ctx.log.append({ type: 'notify-answered', request, response: null, subscriptionId, failure });
    return { request, response: null, failure };
  }

  close(): void {
    this.closed = true;
    for (const sub of this.subs.values()) sub.expiry?.cancel();
  }

  private find(request: SipRequest): Subscription | undefined {
    for (const sub of this.subs.values()) if (sub.dialog.matches(request)) return sub;
    return undefined;
  }
}

/**
 * The conference-event subscriber (RFC 6665, RFC 4575; 7.3.12-1b-sub, 1b-i-b, 1d-ii): the initial
 * SUBSCRIBE to the group focus through the registrar, refreshes and un-SUBSCRIBE in the dialog
 * (its route set, never a name), the NOTIFYs and what their Subscription-State means for the group.
 */
import { newBranch, newCallId, newTag } from '../core/ids.ts';
import { applyConferenceUpdate, parseConferenceInfo } from '../conference/conference-info.ts';
import { buildRequest, buildResponse } from '../sip/build.ts';
import { Dialog } from '../sip/dialog.ts';
import { parseSubscriptionState } from '../sip/headers.ts';
import { headerValue } from '../sip/message.ts';
import type { ServerTransaction } from '../sip/stack.ts';
import { onConferenceNotify, onSubscribeResponse, onSubscriptionState, refreshDelayMs, refreshMethod, subscribeRequest } from './decisions.ts';
import { ClientCore, MAX_RESUBSCRIBES, angle, grantedSeconds, subscribeHeaders, tagOfTo, type Group, type Subscription, type Session } from './core.ts';

export class Subscriber {
  /** `Call-ID|local tag` of subscriptions this client ended, whose final NOTIFY may still come. */
  readonly unsubscribed = new Set<string>();

  constructor(private readonly core: ClientCore, private readonly calls: { hangUp(session: Session): Promise<void> }) {}

  async onNotify(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    const callId = headerValue(request, 'call-id');
    const localTag = tagOfTo(request);
    const group = this.core.groups.find((g) => g.subscription !== undefined && g.subscription.callId === callId && g.subscription.localTag === localTag);
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
    const reaction = onConferenceNotify(request.body, this.core.b);
    txn.respond(buildResponse(request, reaction.status));
    if (reaction.leave) {
      const live = this.core.liveSession(group);
      if (live) this.core.track(this.calls.hangUp(live));
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
    const next = onSubscriptionState(state.value.state, state.value.reason, this.core.b);
    if (next === 'keep') return;
    const sub = group.subscription;
    this.cancelSubscriptionTimers(sub);
    sub.state = 'terminated';
    if (next === 'inactive') group.state = 'inactive';
    else if (this.core.participating(group) && group.resubscribes < MAX_RESUBSCRIBES) {
      // Bounded like the 404 path: a mutant resubscribing on every terminated NOTIFY would otherwise storm the PF.
      group.resubscribes += 1;
      this.core.track(this.subscribe(group));
    }
  }

  async subscribe(group: Group, anew = false): Promise<void> {
    const env = this.core.env;
    const stack = this.core.stack;
    if (env === null || stack === null || this.core.closed) return;
    // Never two subscriptions to one group: an existing live one is kept (unless a mutant subscribes anew).
    if (!anew && group.subscription !== undefined && group.subscription.state !== 'terminated') return;
    const expires = this.core.options.subscriptionExpires ?? 3600;
    const sub: Subscription = { callId: newCallId(env.registrar.address), localTag: newTag(), state: 'pending' };
    group.subscription = sub;
    const target = subscribeRequest(this.core.b, group.target, env.aor);
    const request = buildRequest({
      method: 'SUBSCRIBE',
      uri: target.uri,
      via: stack.viaFor(env.registrar.transport, newBranch()),
      from: `${angle(env.aor)};tag=${sub.localTag}`,
      to: angle(group.identity),
      callId: sub.callId,
      cseq: 1,
      contact: this.core.contactValue(),
      headers: subscribeHeaders(expires, target.event),
    });
    const outcome = await stack.sendRequest(request, this.core.registrarTarget()).result;
    const status = outcome.kind === 'response' ? outcome.response.status : null;
    const decided = onSubscribeResponse(status, this.core.b);
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
    const live = decided.hangUp ? this.core.liveSession(group) : undefined;
    if (live) await this.calls.hangUp(live);
    if (decided.resubscribe && group.resubscribes < MAX_RESUBSCRIBES) {
      group.resubscribes += 1;
      this.core.later(2 * (env.timers.t1 || 20), () => this.core.track(this.subscribe(group)));
    }
  }

  scheduleRefresh(group: Group, sub: Subscription, granted: number): void {
    this.cancelSubscriptionTimers(sub);
    if (granted <= 0) {
      sub.state = 'terminated';
      return;
    }
    // The refresh is armed first: one due exactly at expiry (a mutant) fires before the lapse.
    const delay = refreshDelayMs(granted, this.core.b);
    if (delay !== null) {
      sub.refresh = this.core.later(delay, () => {
        if (!this.core.participating(group)) return;
        if (refreshMethod(this.core.b) === 'in-dialog') this.core.track(this.refreshSubscription(group, sub, granted));
        else this.core.track(this.subscribe(group, true));
      });
    }
    sub.lapse = this.core.later(granted * 1000, () => {
      if (sub.state === 'active') sub.state = 'terminated';
    });
  }

  async refreshSubscription(group: Group, sub: Subscription, previousGrant: number): Promise<void> {
    const env = this.core.env;
    const stack = this.core.stack;
    if (env === null || stack === null || sub.dialog === undefined || sub.state !== 'active') return;
    const expires = this.core.options.subscriptionExpires ?? 3600;
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
  async unsubscribe(sub: Subscription | undefined): Promise<void> {
    const stack = this.core.stack;
    if (stack === null || sub?.dialog === undefined || sub.state !== 'active') return;
    this.cancelSubscriptionTimers(sub);
    sub.state = 'terminated';
    this.unsubscribed.add(`${sub.callId}|${sub.localTag}`);
    const sent = stack.sendInDialog(sub.dialog, 'SUBSCRIBE', { headers: subscribeHeaders(0) });
    if ('transaction' in sent) await sent.transaction.result;
  }

  cancelSubscriptionTimers(sub: Subscription | undefined): void {
    sub?.refresh?.cancel();
    sub?.lapse?.cancel();
  }
}

/**
 * Registration of the reference client (RFC 3261 §10.2): REGISTER, the refresh at half the granted
 * time, de-REGISTER on going offline; on coming online the re-join decision (7.3.12-2a, NOTE) after
 * a glare grace, so a PF INVITE arriving first wins.
 */
import { type TimerHandle } from '../core/clock.ts';
import { newBranch, newTag } from '../core/ids.ts';
import { buildRequest } from '../sip/build.ts';
import { getParam } from '../sip/lex.ts';
import { parseSipUri } from '../sip/uri.ts';
import { parseNameAddr } from '../sip/headers.ts';
import { headerValues, type SipResponse } from '../sip/message.ts';
import { onRegistered, sameIdentity } from './decisions.ts';
import { ClientCore, angle, grantedSeconds, type Group } from './core.ts';

export class Registration {
  readonly state = { callId: '', tag: newTag(), cseq: 0 };
  refresh: TimerHandle | undefined;

  constructor(private readonly core: ClientCore, private readonly calls: { rejoin(group: Group, evenWithSession: boolean): Promise<void> }) {}

  async registerAndMaybeRejoin(): Promise<boolean> {
    const registered = await this.register(this.core.options.registrationExpires ?? 3600);
    if (!registered) return false;
    for (const g of this.core.groups) {
      const queued = this.core.outbox.filter((e) => sameIdentity(e.group, g.identity)).length;
      if (onRegistered({ queued, sessionUp: this.core.liveSession(g) !== undefined }, this.core.b) !== 'rejoin-after-grace') continue;
      // 10·T1: the PF's INVITE right after our REGISTER must win even on a loaded machine.
      const grace = this.core.options.rejoinGraceMs ?? Math.max(20, 10 * (this.core.env?.timers.t1 ?? 20));
      this.core.later(grace, () => {
        // A PF session that arrived during the grace period wins; a queued message then goes there.
        // Still queued now: a message that went on a PF session meanwhile is no reason to re-join.
        const queuedNow = this.core.outbox.some((e) => sameIdentity(e.group, g.identity));
        if (this.core.liveSession(g) === undefined && this.core.online && (queuedNow || this.core.b.rejoinOnline === 'always')) this.core.track(this.calls.rejoin(g, false));
      });
    }
    return true;
  }

  async register(expires: number): Promise<boolean> {
    const env = this.core.env;
    const stack = this.core.stack;
    if (env === null || stack === null || this.core.closed) return false;
    const aor = parseSipUri(env.aor);
    const domain = aor.ok ? `${aor.value.scheme}:${aor.value.host}` : env.aor;
    this.state.cseq += 1;
    const request = buildRequest({
      method: 'REGISTER',
      uri: domain,
      via: stack.viaFor(env.registrar.transport, newBranch()),
      from: `${angle(env.aor)};tag=${this.state.tag}`,
      to: angle(env.aor),
      callId: this.state.callId,
      cseq: this.state.cseq,
      contact: `${this.core.contactValue()};expires=${expires}`,
      headers: [{ name: 'Expires', value: String(expires) }],
    });
    const outcome = await stack.sendRequest(request, this.core.registrarTarget()).result;
    if (outcome.kind !== 'response' || outcome.response.status < 200 || outcome.response.status >= 300) return false;
    if (expires === 0) return true;
    this.core.registered = true;
    const granted = this.grantedRegistration(outcome.response, expires);
    this.refresh?.cancel();
    if (granted > 0) {
      this.refresh = this.core.later(Math.max(1, granted * 500), () => {
        if (this.core.online) this.core.track(this.register(expires));
      });
    }
    return true;
  }

  /** Our binding's expires in the 200 (Contact param), else its Expires header, else what we asked. */
  grantedRegistration(response: SipResponse, asked: number): number {
    const own = this.core.ownContactUri();
    for (const value of headerValues(response, 'contact')) {
      const parsed = parseNameAddr(value);
      if (!parsed.ok || parsed.value.uri !== own) continue;
      const e = getParam(parsed.value.params, 'expires');
      if (typeof e === 'string' && /^\d+$/.test(e)) return Number(e);
    }
    return grantedSeconds(response, asked);
  }
}

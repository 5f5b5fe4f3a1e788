/**
 * Finding and judging the client's IMDNs. A notification is looked for by kind on every route it
 * could take (MSRP on this session, MSRP elsewhere, SIP MESSAGE), so a wrong route or a wrong
 * message-id is reported as exactly that rather than as "no IMDN". Every finding of the checker
 * goes to the rule table: nothing is filtered.
 */
import { parseCpim } from '../../harness/cpim/cpim.ts';
import { checkNotification, IMDN_RULES, requestedKinds } from '../../harness/imdn/checker.ts';
import { IMDN_CONTENT_TYPE, parseImdnXml, type ImdnKind, type ParsedImdn } from '../../harness/imdn/imdn.ts';
import type { DeferredSession, DeliveryResult, PfEvent, PfEventOf } from '../../harness/pf/types.ts';
import type { TestContext } from '../../harness/testcase/context.ts';
import type { RuleId } from '../../harness/verdict/rules.ts';

export type NotificationRoute = 'msrp-this-session' | 'msrp-other-session' | 'sip-message';

export interface FoundNotification {
  event: PfEvent;
  route: NotificationRoute;
  /** The MSRP message event when the IMDN came over MSRP. */
  msrp?: PfEventOf<'msrp-message'>;
}

/** What the checker judges in a notification returned for a message that requested it. */
export const NOTIFICATION_CONTENT_RULES = ['imdn.envelope.parsable', ...IMDN_RULES.filter((r) => r !== 'imdn.unsolicited')] as const satisfies readonly RuleId[];
/** A requested notification in a deferred-delivery session (7.3.12-1b-ii), and its content. */
export const REQUESTED_NOTIFICATION_RULES = ['imdn.returned', 'imdn.route', ...NOTIFICATION_CONTENT_RULES] as const satisfies readonly RuleId[];

/**
 * The IMDN document an MSRP message carries: parsed by the PF when the CPIM content says
 * message/imdn+xml, else recognised by its root element, so a wrong Content-Type (or a missing
 * CPIM wrapper) is judged as exactly that instead of as "no notification".
 */
function imdnOf(e: PfEventOf<'msrp-message'>): ParsedImdn | undefined {
  if (e.imdn) return e.imdn;
  const content = e.cpim ? e.cpim.content : e.body;
  const text = content.subarray(0, 512).toString('utf8');
  return /<imdn[\s>]/.test(text) ? parseImdnXml(content) : undefined;
}

function isMsrpImdn(e: PfEvent): e is PfEventOf<'msrp-message'> {
  if (e.type !== 'msrp-message') return false;
  if (imdnOf(e)) return true;
  const type = (e.cpim ? e.cpim.mime.contentType : e.contentType) ?? '';
  return type.toLowerCase().startsWith(IMDN_CONTENT_TYPE);
}

function isPagerImdn(e: PfEvent): e is PfEventOf<'client-request'> {
  return e.type === 'client-request' && e.request.method === 'MESSAGE' && e.request.body.toString('latin1').includes('imdn+xml');
}

/** All IMDN-like events since a mark, on any route. */
export function notificationsSince(t: TestContext, since: number): FoundNotification[] {
  return t.pf.events
    .since(since)
    .filter((e) => isMsrpImdn(e) || isPagerImdn(e))
    .map((e) => toFound(e));
}

function toFound(e: PfEvent, session?: DeferredSession): FoundNotification {
  if (isMsrpImdn(e)) return { event: e, route: session && e.sessionId !== session.id ? 'msrp-other-session' : 'msrp-this-session', msrp: e };
  return { event: e, route: 'sip-message' };
}

/** Whether a notification is of this kind and (when it says) for this message. */
function matches(found: FoundNotification, kind: ImdnKind, imdnMessageId: string | null): boolean {
  if (found.route === 'sip-message') {
    const body = (found.event as PfEventOf<'client-request'>).request.body.toString('latin1');
    const kindOk = body.includes(`${kind}-notification`);
    return kindOk && (imdnMessageId === null || body.includes(imdnMessageId));
  }
  const imdn = found.msrp ? imdnOf(found.msrp) : undefined;
  if (!imdn) return true;
  const kindOk = imdn.kind === undefined || imdn.kind === kind;
  return kindOk && (imdnMessageId === null || imdn.messageId === imdnMessageId);
}

/**
 * Waits for the `kind` notification of a delivered message. Prefers one naming the message; with
 * `anyId` a notification naming another id also counts (the checker then reports the wrong id).
 */
export async function awaitNotification(
  t: TestContext,
  session: DeferredSession,
  delivery: DeliveryResult,
  kind: ImdnKind,
  options: { since?: number; anyId?: boolean } = {},
): Promise<FoundNotification | null> {
  const since = options.since ?? delivery.startSeq;
  const candidate = (e: PfEvent, id: string | null): boolean => (isMsrpImdn(e) || isPagerImdn(e)) && matches(toFound(e, session), kind, id);
  const exact = await t.pf.events.waitFor((e) => candidate(e, delivery.imdnMessageId), { within: t.windows.imdnMs, since });
  if (exact) return toFound(exact, session);
  if (!options.anyId) return null;
  const other = t.pf.events.since(since).find((e) => candidate(e, null));
  return other ? toFound(other, session) : null;
}

/** The notifications of `kind` naming this message, on any route, since the delivery began. */
export function notificationsFor(t: TestContext, delivery: DeliveryResult, kind: ImdnKind): FoundNotification[] {
  return notificationsSince(t, delivery.startSeq).filter((n) => {
    const imdn = n.msrp ? imdnOf(n.msrp) : undefined;
    return imdn !== undefined && (imdn.kind === undefined || imdn.kind === kind) && imdn.messageId === delivery.imdnMessageId;
  });
}

/** The message-id a notification names (XML for MSRP, a body search for pager mode). */
export function namedMessageId(found: FoundNotification): string | undefined {
  return found.msrp ? imdnOf(found.msrp)?.messageId : undefined;
}

function routeText(found: FoundNotification, what: string): string {
  return found.route === 'sip-message' ? `${what} sent as a SIP MESSAGE instead of via MSRP on the session` : `${what} sent on another MSRP session, not the PF-initiated one`;
}

/** Why a found notification is not the one requested for this message, or null when it is. */
function wrongMessage(found: FoundNotification, delivery: DeliveryResult, what: string): string | null {
  const named = namedMessageId(found);
  return named !== undefined && named !== delivery.imdnMessageId ? `the only ${what} names message-id ${named}, not this message's ${delivery.imdnMessageId}` : null;
}

/** 7.3.12-1a-i-2: the delivery notification went on the PF-initiated session. */
export function judgeOnSession(t: TestContext, found: FoundNotification, what: string): void {
  const ok = found.route === 'msrp-this-session';
  t.observe('imdn.session', ok, ok ? `${what} sent on the PF-initiated session` : routeText(found, what), found.event);
}

export interface RequestedOptions {
  /** One phrase: `delivery notification`, `display notification (after the user displayed the message)`. */
  what: string;
  /** The 1c flow judges presence and route as 7.3.12-1c-ii (one rule); the content rules are the same. */
  flow?: 'session' | 'nothing-to-send';
  userDisplayed?: boolean;
  seenNotificationIds?: ReadonlySet<string>;
}

/**
 * A requested notification: it came back (naming this message) via MSRP on this session, and its
 * content matches the message (every checker finding recorded). Returns whether it came back.
 */
export function judgeRequested(t: TestContext, session: DeferredSession, delivery: DeliveryResult, found: FoundNotification | null, options: RequestedOptions): boolean {
  const { what } = options;
  const missing = !found ? `no ${what} within ${t.windows.imdnMs} ms although it was requested` : wrongMessage(found, delivery, what);
  if (options.flow === 'nothing-to-send') {
    const problem = missing ?? (found && found.route !== 'msrp-this-session' ? routeText(found, what) : null);
    t.observe('nothing-to-send.imdn.returned', problem === null, problem ?? `${what} returned via MSRP on the deferred-delivery session`, found?.event);
    if (!found || found.route !== 'msrp-this-session') return false;
  } else {
    t.observe('imdn.returned', missing === null, missing ?? `${what} for message-id ${delivery.imdnMessageId}`, found?.event);
    if (!found) return false;
    const routed = found.route === 'msrp-this-session';
    t.observe('imdn.route', routed, routed ? `${what} returned via MSRP on the deferred-delivery session` : routeText(found, what), found.event);
    if (!routed) return false;
  }
  // The only notification the client sent for this message is judged even when it names another message.
  judgeContent(t, session, delivery, found!, options);
  return missing === null;
}

/** Every rule of PROTOCOLS.md §2.10.1 the checker applies to a notification that came via MSRP. */
function judgeContent(t: TestContext, session: DeferredSession, delivery: DeliveryResult, found: FoundNotification, options: RequestedOptions): void {
  const msrp = found.msrp;
  const imdn = msrp ? imdnOf(msrp) : undefined;
  const why = !msrp?.cpim ? `notification not CPIM-wrapped (MSRP Content-Type ${msrp?.contentType ?? '(none)'}; RFC 5438 §7 wants message/cpim)` : 'no IMDN document in the CPIM content';
  t.observe('imdn.envelope.parsable', !!msrp?.cpim && !!imdn, msrp?.cpim && imdn ? 'CPIM + IMDN XML' : why, found.event);
  if (!msrp?.cpim || !imdn) return;
  const original = parseCpim(delivery.cpim);
  const findings = checkNotification(
    { cpim: original, requested: requestedKinds(original) },
    { cpim: msrp.cpim, imdn },
    {
      clientUri: t.config.identities.clientAor,
      groupUri: t.pf.group.identity,
      pfMsrpUri: session.localPath,
      ...(options.seenNotificationIds ? { seenNotificationIds: options.seenNotificationIds } : {}),
      ...(options.userDisplayed === undefined ? {} : { userDisplayed: options.userDisplayed }),
    },
  );
  t.record(findings, found.event);
}

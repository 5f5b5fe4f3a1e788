/**
 * Finding and judging the client's IMDNs. A notification is looked for by kind on every route it
 * could take (MSRP on this session, MSRP elsewhere, SIP MESSAGE), so a wrong route or a wrong
 * message-id is reported as exactly that rather than as "no IMDN".
 */
import { parseCpim } from '../../harness/cpim/cpim.ts';
import { checkNotification, requestedKinds, type Finding } from '../../harness/imdn/checker.ts';
import type { ImdnKind } from '../../harness/imdn/imdn.ts';
import type { DeferredSession, DeliveryResult, PfEvent, PfEventOf } from '../../harness/pf/types.ts';
import type { TestContext } from '../../harness/testcase/context.ts';

export type NotificationRoute = 'msrp-this-session' | 'msrp-other-session' | 'sip-message';

export interface FoundNotification {
  event: PfEvent;
  route: NotificationRoute;
  /** The MSRP message event when the IMDN came over MSRP. */
  msrp?: PfEventOf<'msrp-message'>;
}

function isMsrpImdn(e: PfEvent): e is PfEventOf<'msrp-message'> {
  if (e.type !== 'msrp-message') return false;
  if (e.imdn) return true;
  return (e.cpim?.mime.contentType ?? '').toLowerCase().startsWith('message/imdn+xml');
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
  const imdn = found.msrp?.imdn;
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

/** Records imdn-fields and imdn-envelope from the checker's findings (every mismatch, one verdict each). */
export function judgeNotification(
  t: TestContext,
  session: DeferredSession,
  delivery: DeliveryResult,
  found: FoundNotification,
  options: { userDisplayed?: boolean; seenNotificationIds?: ReadonlySet<string> } = {},
): Finding[] {
  const msrp = found.msrp;
  if (found.route === 'sip-message') {
    // The route is the violation (1a-i-2 / 1b-ii judge it); the CPIM-over-MSRP envelope rules do not apply.
    t.notJudged('imdn-envelope', 'notification sent as SIP MESSAGE; its route is judged, not its envelope');
    t.notJudged('imdn-fields', 'notification sent as SIP MESSAGE');
    return [];
  }
  if (!msrp || !msrp.cpim || !msrp.imdn) {
    t.violation('imdn-envelope', 'notification could not be parsed as CPIM + IMDN XML', found.event);
    t.notJudged('imdn-fields', 'no parsable notification');
    return [];
  }
  const original = parseCpim(delivery.cpim);
  const findings = checkNotification(
    { cpim: original, requested: requestedKinds(original) },
    { cpim: msrp.cpim, imdn: msrp.imdn },
    {
      clientUri: t.config.identities.clientAor,
      groupUri: t.pf.group.identity,
      pfMsrpUri: session.localPath,
      ...(options.seenNotificationIds ? { seenNotificationIds: options.seenNotificationIds } : {}),
      ...(options.userDisplayed === undefined ? {} : { userDisplayed: options.userDisplayed }),
    },
  );
  for (const requirement of ['imdn-fields', 'imdn-envelope'] as const) {
    const mine = findings.filter((f) => f.requirement === requirement);
    const failing = mine.filter((f) => f.level === 'fail');
    const warning = mine.filter((f) => f.level === 'warn');
    const text = (fs: Finding[]): string =>
      fs.map((f) => `${f.message}${f.expected !== undefined ? ` (expected ${f.expected}, got ${f.actual ?? '(none)'})` : ''}`).join('; ');
    if (failing.length > 0) t.violation(requirement, text(failing), found.event);
    else if (warning.length > 0) t.warn(requirement, text(warning), found.event, 'U');
    else t.pass(requirement, `${msrp.imdn.kind ?? 'IMDN'} notification matches the message (PROTOCOLS.md §2.10.1)`, found.event);
  }
  return findings;
}

/** 1a-i-2 / 1b-ii / 1c-ii: the route the notification took. */
export function judgeRoute(t: TestContext, requirement: string, found: FoundNotification, what: string): boolean {
  if (found.route === 'msrp-this-session') {
    t.pass(requirement, `${what} returned via MSRP on the deferred-delivery session`, found.event);
    return true;
  }
  t.violation(
    requirement,
    found.route === 'sip-message' ? `${what} sent as a SIP MESSAGE instead of via MSRP on the session` : `${what} sent on another MSRP session, not the PF-initiated one`,
    found.event,
  );
  return false;
}

/** The message-id a notification names (XML for MSRP, a body search for pager mode). */
export function namedMessageId(found: FoundNotification): string | undefined {
  return found.msrp?.imdn?.messageId;
}

/**
 * 1b-ii / 1c-ii: the requested notification came back via MSRP on this session and names this
 * message. Records one verdict under `requirement`; returns whether it held.
 */
export function judgeReturned(t: TestContext, requirement: string, found: FoundNotification | null, delivery: DeliveryResult, what: string): boolean {
  if (!found) {
    t.violation(requirement, `no ${what} within ${t.windows.imdnMs} ms although it was requested`);
    return false;
  }
  if (found.route !== 'msrp-this-session') {
    t.violation(requirement, found.route === 'sip-message' ? `${what} sent as a SIP MESSAGE, not via MSRP` : `${what} sent on another MSRP session`, found.event);
    return false;
  }
  const named = namedMessageId(found);
  if (named !== undefined && named !== delivery.imdnMessageId) {
    t.violation(requirement, `the only ${what} names message-id ${named}, not this message's ${delivery.imdnMessageId}`, found.event);
    return false;
  }
  t.pass(requirement, `${what} returned via MSRP on the deferred-delivery session`, found.event);
  return true;
}

/**
 * Checker rules of PROTOCOLS §2.10.1: an IMDN the client returned, compared with the message the PF
 * delivered. Only the rows decidable from CPIM and XML live here (the MSRP rows are checked where the
 * MSRP frames are). The checker is neutral: it returns one finding per rule it applied, held or
 * not, and knows no requirement ID or level (harness/verdict/rules.ts maps rules to verdicts).
 */
import { hasErrors } from '../core/diagnostic.ts';
import type { Finding } from '../core/finding.ts';
import { cpimHeader, cpimHeaders, headerUri, imdnHeader, requestedDispositions, IMDN_HEADERS_NS, type ParsedCpim } from '../cpim/cpim.ts';
import { parseRfc3339, sameInstant } from '../cpim/datetime.ts';
import { IMDN_CONTENT_TYPE, type ImdnKind, type ParsedImdn } from './imdn.ts';
import { isAnonymousUri, urisEquivalent } from './uri-compare.ts';

/** Every rule the checker applies. */
export const IMDN_RULES = [
  'imdn.envelope.syntax',
  'imdn.envelope.ns',
  'imdn.envelope.message-id',
  'imdn.envelope.to',
  'imdn.envelope.from',
  'imdn.envelope.datetime',
  'imdn.envelope.no-disposition-notification',
  'imdn.envelope.content-type',
  'imdn.envelope.content-disposition',
  'imdn.envelope.disposition-placement',
  'imdn.fields.schema',
  'imdn.fields.message-id',
  'imdn.fields.datetime',
  'imdn.fields.recipient-uri',
  'imdn.fields.original-recipient-uri',
  'imdn.kind',
  'imdn.status',
  'imdn.unsolicited',
] as const;

export type ImdnRule = (typeof IMDN_RULES)[number];

export interface OriginalMessage {
  /** The CPIM body the PF delivered. */
  cpim: ParsedCpim;
  /** Disposition kinds the PF asked for; derive with `requestedKinds(cpim)`. */
  requested: ReadonlySet<ImdnKind>;
}

export interface ReceivedNotification {
  cpim: ParsedCpim;
  imdn: ParsedImdn;
}

export interface CheckContext {
  /** The client's public identity (IMDN CPIM From, XML recipient-uri). */
  clientUri: string;
  /** Group Session Identity (the original CPIM To). */
  groupUri: string;
  pfMsrpUri?: string;
  /** imdn.Message-IDs already seen on notifications from this client: a repeat is not unique. */
  seenNotificationIds?: ReadonlySet<string>;
  /** Whether the upper tester displayed the message; undefined when unknown (no UT). */
  userDisplayed?: boolean;
}

/** `positive-delivery` / `negative-delivery` → delivery; `display`; `processing`. */
export function requestedKinds(cpim: ParsedCpim): Set<ImdnKind> {
  const kinds = new Set<ImdnKind>();
  for (const d of requestedDispositions(cpim)) {
    if (d === 'positive-delivery' || d === 'negative-delivery') kinds.add('delivery');
    if (d === 'display') kinds.add('display');
    if (d === 'processing') kinds.add('processing');
  }
  return kinds;
}

function mediaType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

function addFinding(findings: Finding<ImdnRule>[], rule: ImdnRule, ok: boolean, detail: string): void {
  findings.push({ rule, ok, detail });
}

function expectedActual(expected: string | undefined, actual: string | undefined): string {
  return ` (expected ${expected ?? '(none)'}, got ${actual ?? '(none)'})`;
}

/**
 * One finding per rule that applies to `notification` as the answer to `original`: held or not,
 * with every mismatch named, so one call reports all that is wrong.
 */
export function checkNotification(original: OriginalMessage, notification: ReceivedNotification, context: CheckContext): Finding<ImdnRule>[] {
  const findings: Finding<ImdnRule>[] = [];
  const { cpim, imdn } = notification;

  // Envelope syntax: a notification the PF cannot parse cannot be routed.
  const cpimErrors = cpim.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'CPIM_UNDECLARED_PREFIX');
  addFinding(findings, 'imdn.envelope.syntax', cpimErrors.length === 0, cpimErrors.length === 0 ? 'CPIM envelope well-formed' : `CPIM envelope is malformed: ${cpimErrors.map((d) => d.code).join(', ')}`);
  const schemaErrors = imdn.diagnostics.filter((d) => d.severity === 'error');
  addFinding(
    findings,
    'imdn.fields.schema',
    !hasErrors(imdn.diagnostics),
    schemaErrors.length === 0 ? 'IMDN document valid per the RFC 5438 schema' : `IMDN document violates RFC 5438: ${schemaErrors.map((d) => d.code).join(', ')}`,
  );

  // CPIM NS: any prefix, bound before use [I].
  const imdnPrefixUsed = cpim.headers.some((h) => h.prefix !== undefined && h.namespace === undefined);
  let declared = false;
  for (const uri of cpim.namespaces.values()) if (uri === IMDN_HEADERS_NS) declared = true;
  addFinding(
    findings,
    'imdn.envelope.ns',
    declared && !imdnPrefixUsed,
    !declared ? `no NS header declares ${IMDN_HEADERS_NS} (expected NS: imdn <${IMDN_HEADERS_NS}> before imdn.* headers)` : imdnPrefixUsed ? 'a header prefix is used before its NS declaration' : `NS declares ${IMDN_HEADERS_NS}`,
  );

  // CPIM imdn.Message-ID: present, unique, not the original's [I].
  const originalId = imdnHeader(original.cpim, 'Message-ID')?.value;
  const notificationId = imdnHeader(cpim, 'Message-ID')?.value;
  if (notificationId === undefined || notificationId === '') addFinding(findings, 'imdn.envelope.message-id', false, 'the notification carries no imdn.Message-ID');
  else if (notificationId === originalId) addFinding(findings, 'imdn.envelope.message-id', false, `the notification reuses the original message's imdn.Message-ID ${notificationId}`);
  else if (context.seenNotificationIds?.has(notificationId)) addFinding(findings, 'imdn.envelope.message-id', false, `imdn.Message-ID ${notificationId} repeats one of an earlier notification`);
  else addFinding(findings, 'imdn.envelope.message-id', true, `own imdn.Message-ID ${notificationId}`);

  // CPIM To = original From [I]/[U].
  const originalFrom = cpimHeader(original.cpim, 'From')?.value;
  const tos = cpimHeaders(cpim, 'To');
  if (originalFrom !== undefined) {
    const expected = headerUri(originalFrom);
    const ok = tos.length === 1 && urisEquivalent(tos[0]!.value, expected);
    if (ok) addFinding(findings, 'imdn.envelope.to', true, `CPIM To is the original sender ${expected}`);
    else {
      // Only a failure needs to know whether it went to the group: two URI parses per message otherwise.
      const actual = tos.map((t) => headerUri(t.value)).join(', ') || '(none)';
      const toGroup = tos.some((t) => urisEquivalent(t.value, context.groupUri));
      addFinding(
        findings,
        'imdn.envelope.to',
        false,
        `${toGroup ? 'notification addressed to the group instead of the original sender' : 'CPIM To is not the original sender'}${expectedActual(expected, actual)}`,
      );
    }
  }

  // CPIM From = the client, not anonymous [U]: RFC 3862 allows an anonymous From.
  const from = cpimHeader(cpim, 'From')?.value;
  const fromOk = from !== undefined && !isAnonymousUri(from) && urisEquivalent(from, context.clientUri);
  addFinding(
    findings,
    'imdn.envelope.from',
    fromOk,
    fromOk
      ? `CPIM From is the client ${context.clientUri}`
      : `${from !== undefined && isAnonymousUri(from) ? 'CPIM From is anonymous in a group notification' : "CPIM From is not the client's public identity"}${expectedActual(context.clientUri, from === undefined ? undefined : headerUri(from))}`,
  );

  // CPIM DateTime: present, RFC 3339 [I].
  const dateTime = cpimHeader(cpim, 'DateTime')?.value;
  const dateTimeOk = dateTime !== undefined && parseRfc3339(dateTime) !== undefined;
  addFinding(findings, 'imdn.envelope.datetime', dateTimeOk, dateTimeOk ? `CPIM DateTime ${dateTime}` : `CPIM DateTime missing or not RFC 3339 (got ${dateTime ?? '(none)'})`);

  // No Disposition-Notification inside a notification [U].
  const dn = imdnHeader(cpim, 'Disposition-Notification');
  addFinding(findings, 'imdn.envelope.no-disposition-notification', !dn, dn ? `the notification itself requests notifications (imdn.Disposition-Notification: ${dn.value})` : 'no imdn.Disposition-Notification in the notification');

  // MIME Content-Type and Content-Disposition [I]; Disposition in the CPIM block tolerated (N22).
  const typeOk = mediaType(cpim.mime.contentType) === IMDN_CONTENT_TYPE;
  addFinding(findings, 'imdn.envelope.content-type', typeOk, typeOk ? `Content-Type: ${IMDN_CONTENT_TYPE}` : `MIME Content-Type is not ${IMDN_CONTENT_TYPE}${expectedActual(IMDN_CONTENT_TYPE, cpim.mime.contentType)}`);
  const disposition = cpim.mime.contentDisposition;
  const dispositionInCpim = cpimHeader(cpim, 'Content-Disposition')?.value;
  const inMime = mediaType(disposition) === 'notification';
  const onlyInCpim = !inMime && disposition === undefined && mediaType(dispositionInCpim) === 'notification';
  addFinding(
    findings,
    'imdn.envelope.content-disposition',
    inMime || onlyInCpim,
    inMime || onlyInCpim ? 'Content-Disposition: notification' : `MIME Content-Disposition is not notification${expectedActual('notification', disposition)}`,
  );
  if (onlyInCpim) addFinding(findings, 'imdn.envelope.disposition-placement', false, 'Content-Disposition: notification is in the CPIM header block, not the MIME headers (N22)');
  else if (inMime) addFinding(findings, 'imdn.envelope.disposition-placement', true, 'Content-Disposition in the MIME headers');

  // XML message-id = original imdn.Message-ID, exact [V-schema]/[I].
  const idOk = imdn.messageId === originalId;
  addFinding(findings, 'imdn.fields.message-id', idOk, idOk ? `<message-id> ${originalId} names the original message` : `<message-id> does not name the original message${expectedActual(originalId, imdn.messageId)}`);

  // XML datetime = original DateTime as an instant [V] RFC 5438 §7.2.1.2 (N10: receipt time instead).
  const originalDateTime = cpimHeader(original.cpim, 'DateTime')?.value;
  if (originalDateTime !== undefined) {
    const ok = imdn.datetime !== undefined && sameInstant(imdn.datetime, originalDateTime);
    addFinding(findings, 'imdn.fields.datetime', ok, ok ? `<datetime> is the original DateTime ${originalDateTime}` : `<datetime> is not the original message's DateTime (receipt time? N10)${expectedActual(originalDateTime, imdn.datetime)}`);
  }

  // XML recipient-uri / original-recipient-uri [U] (docs/rfc-checks.md). RFC 5438 §7.2.1.3: the URI of
  // the final recipient, "obtained from the CPIM To header field of the IM" — in a group the two
  // readings differ (the client, or the group the IM was addressed to), so either holds.
  const imTos = cpimHeaders(original.cpim, 'To').map((h) => headerUri(h.value));
  if (imdn.recipientUri !== undefined) {
    const ok = urisEquivalent(imdn.recipientUri, context.clientUri) || imTos.some((to) => urisEquivalent(imdn.recipientUri!, to));
    addFinding(
      findings,
      'imdn.fields.recipient-uri',
      ok,
      ok ? '<recipient-uri> is the final recipient' : `<recipient-uri> is neither the client's identity nor the IM's CPIM To${expectedActual([context.clientUri, ...imTos].join(' or '), imdn.recipientUri)}`,
    );
  }
  // RFC 5438 §7.2.1.4: taken from the IM's Original-To, and present whenever the IM carried one;
  // without an Original-To the harness accepts the IM's CPIM To.
  const originalTo = imdnHeader(original.cpim, 'Original-To')?.value;
  if (originalTo !== undefined && imdn.originalRecipientUri === undefined) {
    addFinding(findings, 'imdn.fields.original-recipient-uri', false, `no <original-recipient-uri> although the IM carried imdn.Original-To${expectedActual(headerUri(originalTo), undefined)}`);
  } else if (imdn.originalRecipientUri !== undefined) {
    const candidates = originalTo !== undefined ? [headerUri(originalTo)] : imTos;
    const ok = candidates.some((c) => urisEquivalent(imdn.originalRecipientUri!, c));
    addFinding(
      findings,
      'imdn.fields.original-recipient-uri',
      ok,
      ok
        ? '<original-recipient-uri> is the original recipient'
        : `<original-recipient-uri> is not ${originalTo !== undefined ? "the IM's imdn.Original-To" : "the IM's CPIM To"}${expectedActual(candidates.join(' or '), imdn.originalRecipientUri)}`,
    );
  }

  // Notification kind vs. what was requested [CR]; unsolicited altogether (N9).
  const kind = imdn.kind;
  if (kind !== undefined) {
    const requestedTypes = requestedDispositions(original.cpim);
    if (original.requested.size === 0) {
      addFinding(findings, 'imdn.unsolicited', false, `a ${kind} notification was sent for a message that requested none (N9)`);
    } else if (!original.requested.has(kind)) {
      addFinding(findings, 'imdn.kind', false, `${kind} notification not requested${expectedActual([...original.requested].join(', '), kind)}`);
    } else if (kind === 'delivery' && imdn.status === 'delivered' && requestedTypes.size > 0 && !requestedTypes.has('positive-delivery')) {
      addFinding(findings, 'imdn.kind', false, 'positive delivery notification sent although only negative-delivery was requested');
    } else if (kind === 'display' && context.userDisplayed === false) {
      addFinding(findings, 'imdn.kind', false, 'display notification sent although the user has not displayed the message');
    } else {
      addFinding(findings, 'imdn.kind', true, `${kind} notification, as requested`);
    }
    const expectedStatuses = kind === 'delivery' ? ['delivered'] : kind === 'display' ? ['displayed'] : ['processed', 'stored'];
    const statusOk = imdn.status !== undefined && expectedStatuses.includes(imdn.status);
    const expected = expectedStatuses.join(' or ');
    addFinding(findings, 'imdn.status', statusOk, statusOk ? `status <${imdn.status}/>` : `status of the ${kind} notification is not ${expected}${expectedActual(expected, imdn.status)}`);
  }
  return findings;
}

/**
 * Checker rules of PROTOCOLS §2.10.1: an IMDN the client returned, compared with the message the PF
 * delivered. Only the rows decidable from CPIM and XML live here (the MSRP rows are checked where the
 * MSRP frames are). Every mismatch is returned, so one verdict lists all that is wrong.
 * Levels follow the digest: rows backed by implementations ([I]), the schema or the CR fail; rows
 * marked [U] only warn.
 */
import { hasErrors } from '../core/diagnostic.ts';
import { cpimHeader, cpimHeaders, headerUri, imdnHeader, requestedDispositions, IMDN_HEADERS_NS, type ParsedCpim } from '../cpim/cpim.ts';
import { parseRfc3339, sameInstant } from '../cpim/datetime.ts';
import { IMDN_CONTENT_TYPE, type ImdnKind, type ParsedImdn } from './imdn.ts';
import { isAnonymousUri, urisEquivalent } from './uri-compare.ts';

export type FindingRequirement = 'imdn-fields' | 'imdn-envelope' | 'imdn-not-requested' | '7.3.12-1b-ii';

export interface Finding {
  /** Stable rule id, e.g. `imdn-fields.message-id`. */
  rule: string;
  requirement: FindingRequirement;
  level: 'fail' | 'warn';
  message: string;
  expected?: string;
  actual?: string;
}

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
  return value?.split(';')[0]!.trim().toLowerCase();
}

/** Returns every mismatch between `notification` and the `original` it answers. */
export function checkNotification(original: OriginalMessage, notification: ReceivedNotification, context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const { cpim, imdn } = notification;

  // Envelope syntax: a notification the PF cannot parse cannot be routed.
  const cpimErrors = cpim.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'CPIM_UNDECLARED_PREFIX');
  if (cpimErrors.length > 0) {
    add({ rule: 'imdn-envelope.syntax', requirement: 'imdn-envelope', level: 'fail', message: `CPIM envelope is malformed: ${cpimErrors.map((d) => d.code).join(', ')}` });
  }
  if (hasErrors(imdn.diagnostics)) {
    add({
      rule: 'imdn-fields.schema',
      requirement: 'imdn-fields',
      level: 'fail',
      message: `IMDN document violates RFC 5438: ${imdn.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code).join(', ')}`,
    });
  }

  // CPIM NS: any prefix, bound before use [I].
  const imdnPrefixUsed = cpim.headers.some((h) => h.prefix !== undefined && h.namespace === undefined);
  let declared = false;
  for (const uri of cpim.namespaces.values()) if (uri === IMDN_HEADERS_NS) declared = true;
  if (!declared || imdnPrefixUsed) {
    add({
      rule: 'imdn-envelope.ns',
      requirement: 'imdn-envelope',
      level: 'fail',
      message: declared ? 'a header prefix is used before its NS declaration' : 'no NS header declares urn:ietf:params:imdn',
      expected: 'NS: imdn <urn:ietf:params:imdn> before imdn.* headers',
    });
  }

  // CPIM imdn.Message-ID: present, unique, not the original's [I].
  const originalId = imdnHeader(original.cpim, 'Message-ID')?.value;
  const notificationId = imdnHeader(cpim, 'Message-ID')?.value;
  if (notificationId === undefined || notificationId === '') {
    add({ rule: 'imdn-envelope.message-id', requirement: 'imdn-envelope', level: 'fail', message: 'the notification carries no imdn.Message-ID' });
  } else if (notificationId === originalId) {
    add({ rule: 'imdn-envelope.message-id', requirement: 'imdn-envelope', level: 'fail', message: "the notification reuses the original message's imdn.Message-ID", actual: notificationId });
  } else if (context.seenNotificationIds?.has(notificationId)) {
    add({ rule: 'imdn-envelope.message-id', requirement: 'imdn-envelope', level: 'fail', message: 'imdn.Message-ID repeats one of an earlier notification', actual: notificationId });
  }

  // CPIM To = original From [I]/[U].
  const originalFrom = cpimHeader(original.cpim, 'From')?.value;
  const tos = cpimHeaders(cpim, 'To');
  if (originalFrom !== undefined) {
    const expected = headerUri(originalFrom);
    if (tos.length !== 1 || !urisEquivalent(tos[0]!.value, expected)) {
      const actual = tos.map((t) => headerUri(t.value)).join(', ') || '(none)';
      const toGroup = tos.some((t) => urisEquivalent(t.value, context.groupUri));
      add({
        rule: 'imdn-envelope.to',
        requirement: 'imdn-envelope',
        level: 'fail',
        message: toGroup ? 'notification addressed to the group instead of the original sender' : 'CPIM To is not the original sender',
        expected,
        actual,
      });
    }
  }

  // CPIM From = the client, not anonymous [I]/[U].
  const from = cpimHeader(cpim, 'From')?.value;
  if (from === undefined || isAnonymousUri(from) || !urisEquivalent(from, context.clientUri)) {
    add({
      rule: 'imdn-envelope.from',
      requirement: 'imdn-envelope',
      level: 'fail',
      message: from !== undefined && isAnonymousUri(from) ? 'CPIM From is anonymous in a group notification' : "CPIM From is not the client's public identity",
      expected: context.clientUri,
      actual: from === undefined ? '(none)' : headerUri(from),
    });
  }

  // CPIM DateTime: present, RFC 3339 [I].
  const dateTime = cpimHeader(cpim, 'DateTime')?.value;
  if (dateTime === undefined || !parseRfc3339(dateTime)) {
    add({ rule: 'imdn-envelope.datetime', requirement: 'imdn-envelope', level: 'fail', message: 'CPIM DateTime missing or not RFC 3339', actual: dateTime ?? '(none)' });
  }

  // No Disposition-Notification inside a notification [U].
  const dn = imdnHeader(cpim, 'Disposition-Notification');
  if (dn) {
    add({ rule: 'imdn-envelope.disposition-notification', requirement: 'imdn-envelope', level: 'warn', message: 'the notification itself requests notifications', actual: dn.value });
  }

  // MIME Content-Type and Content-Disposition [I]; Disposition in the CPIM block tolerated (N22).
  if (mediaType(cpim.mime.contentType) !== IMDN_CONTENT_TYPE) {
    add({ rule: 'imdn-envelope.content-type', requirement: 'imdn-envelope', level: 'fail', message: 'MIME Content-Type is not message/imdn+xml', expected: IMDN_CONTENT_TYPE, actual: cpim.mime.contentType ?? '(none)' });
  }
  const disposition = cpim.mime.contentDisposition;
  const dispositionInCpim = cpimHeader(cpim, 'Content-Disposition')?.value;
  if (mediaType(disposition) !== 'notification') {
    if (disposition === undefined && mediaType(dispositionInCpim) === 'notification') {
      add({ rule: 'imdn-envelope.content-disposition', requirement: 'imdn-envelope', level: 'warn', message: 'Content-Disposition: notification is in the CPIM header block, not the MIME headers (N22)' });
    } else {
      add({ rule: 'imdn-envelope.content-disposition', requirement: 'imdn-envelope', level: 'fail', message: 'MIME Content-Disposition is not notification', expected: 'notification', actual: disposition ?? '(none)' });
    }
  }

  // XML message-id = original imdn.Message-ID, exact [V-schema]/[I].
  if (imdn.messageId !== originalId) {
    add({ rule: 'imdn-fields.message-id', requirement: 'imdn-fields', level: 'fail', message: '<message-id> does not name the original message', expected: originalId ?? '(none)', actual: imdn.messageId ?? '(none)' });
  }

  // XML datetime = original DateTime as an instant [U] (N10: receipt time instead).
  const originalDateTime = cpimHeader(original.cpim, 'DateTime')?.value;
  if (originalDateTime !== undefined && (imdn.datetime === undefined || !sameInstant(imdn.datetime, originalDateTime))) {
    add({ rule: 'imdn-fields.datetime', requirement: 'imdn-fields', level: 'warn', message: "<datetime> is not the original message's DateTime (receipt time? N10)", expected: originalDateTime, actual: imdn.datetime ?? '(none)' });
  }

  // XML recipient-uri = client; original-recipient-uri = original To or imdn.Original-To [U].
  if (imdn.recipientUri !== undefined && !urisEquivalent(imdn.recipientUri, context.clientUri)) {
    add({ rule: 'imdn-fields.recipient-uri', requirement: 'imdn-fields', level: 'warn', message: "<recipient-uri> is not the client's identity", expected: context.clientUri, actual: imdn.recipientUri });
  }
  if (imdn.originalRecipientUri !== undefined) {
    const candidates = [imdnHeader(original.cpim, 'Original-To')?.value, ...cpimHeaders(original.cpim, 'To').map((h) => h.value)].filter((v): v is string => v !== undefined);
    if (!candidates.some((c) => urisEquivalent(imdn.originalRecipientUri!, headerUri(c)))) {
      add({
        rule: 'imdn-fields.original-recipient-uri',
        requirement: 'imdn-fields',
        level: 'warn',
        message: '<original-recipient-uri> is neither the original To nor imdn.Original-To',
        expected: candidates.map(headerUri).join(' or '),
        actual: imdn.originalRecipientUri,
      });
    }
  }

  // Notification kind vs. what was requested [CR]; unsolicited altogether is only a warning [U] (N9).
  const kind = imdn.kind;
  if (kind !== undefined) {
    const requestedTypes = requestedDispositions(original.cpim);
    if (original.requested.size === 0) {
      add({ rule: 'imdn-not-requested.unsolicited', requirement: 'imdn-not-requested', level: 'warn', message: `a ${kind} notification was sent for a message that requested none (N9)` });
    } else if (!original.requested.has(kind)) {
      add({ rule: '7.3.12-1b-ii.kind', requirement: '7.3.12-1b-ii', level: 'fail', message: `${kind} notification not requested`, expected: [...original.requested].join(', '), actual: kind });
    } else if (kind === 'delivery' && imdn.status === 'delivered' && requestedTypes.size > 0 && !requestedTypes.has('positive-delivery')) {
      add({ rule: '7.3.12-1b-ii.kind', requirement: '7.3.12-1b-ii', level: 'fail', message: 'positive delivery notification sent although only negative-delivery was requested', actual: 'delivered' });
    } else if (kind === 'display' && context.userDisplayed === false) {
      add({ rule: '7.3.12-1b-ii.kind', requirement: '7.3.12-1b-ii', level: 'fail', message: 'display notification sent although the user has not displayed the message' });
    }
    const expectedStatuses = kind === 'delivery' ? ['delivered'] : kind === 'display' ? ['displayed'] : ['processed', 'stored'];
    if (imdn.status === undefined || !expectedStatuses.includes(imdn.status)) {
      const expected = expectedStatuses.join(' or ');
      add({ rule: '7.3.12-1b-ii.status', requirement: '7.3.12-1b-ii', level: 'fail', message: `status of the ${kind} notification is not ${expected}`, expected, actual: imdn.status ?? '(none)' });
    }
  }
  return findings;
}

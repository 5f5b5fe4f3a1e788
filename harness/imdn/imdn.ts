/**
 * message/imdn+xml (RFC 5438): builder, the CPIM-wrapped notification, and a strict parser that checks
 * the document field by field against the RFC 5438 schema (fixtures/schemas/imdn.xsd): root `imdn`
 * in `urn:ietf:params:xml:ns:imdn`; message-id, datetime, then optionally recipient-uri +
 * original-recipient-uri (+ subject), then one notification element with one allowed status.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { DEFAULT_LIMITS } from '../core/limits.ts';
import { buildCpim, IMDN_HEADERS_NS } from '../cpim/cpim.ts';
import { parseRfc3339 } from '../cpim/datetime.ts';
import { childrenIn, escapeXml, parseXmlSafely, type SafeXmlOptions, type XmlElement } from '../xml/safe-xml.ts';

export const IMDN_XML_NS = 'urn:ietf:params:xml:ns:imdn';
export const IMDN_CONTENT_TYPE = 'message/imdn+xml';
const CLAUSE = 'RFC 5438 §9';

export type ImdnKind = 'delivery' | 'display' | 'processing';

/** Allowed status children per notification kind (schema: kind-specific values + forbidden/error). */
export const IMDN_STATUSES: Readonly<Record<ImdnKind, readonly string[]>> = {
  delivery: ['delivered', 'failed', 'forbidden', 'error'],
  display: ['displayed', 'forbidden', 'error'],
  processing: ['processed', 'stored', 'forbidden', 'error'],
};

export interface ImdnOptions {
  messageId: string;
  datetime: string;
  /** Written as given: the schema wants recipient-uri and original-recipient-uri together. */
  recipientUri?: string;
  originalRecipientUri?: string;
  subject?: string;
  kind: ImdnKind;
  status: string;
  /** Default CRLF (the PROTOCOLS §2.9 sample); no line end after the root's end tag. */
  lineEnding?: string;
}

/** The XML of one notification, laid out exactly like PROTOCOLS §2.9/§2.10. */
export function buildImdn(options: ImdnOptions): string {
  const eol = options.lineEnding ?? '\r\n';
  let xml = `<?xml version="1.0" encoding="UTF-8"?>${eol}<imdn xmlns="${IMDN_XML_NS}">`;
  xml += `${eol}  <message-id>${escapeXml(options.messageId)}</message-id>`;
  xml += `${eol}  <datetime>${escapeXml(options.datetime)}</datetime>`;
  if (options.recipientUri !== undefined) xml += `${eol}  <recipient-uri>${escapeXml(options.recipientUri)}</recipient-uri>`;
  if (options.originalRecipientUri !== undefined) xml += `${eol}  <original-recipient-uri>${escapeXml(options.originalRecipientUri)}</original-recipient-uri>`;
  if (options.subject !== undefined) xml += `${eol}  <subject>${escapeXml(options.subject)}</subject>`;
  return `${xml}${eol}  <${options.kind}-notification>${eol}    <status>${eol}      <${options.status}/>${eol}    </status>${eol}  </${options.kind}-notification>${eol}</imdn>`;
}

export interface ImdnMessageOptions {
  /** The notifier (the client). */
  from: string;
  /** The original sender (RFC 5438: IMDN To = IM From). */
  to: string;
  /** A fresh imdn.Message-ID for the notification itself. */
  imdnMessageId: string;
  dateTime: string | Date;
  imdn: ImdnOptions;
  nsPrefix?: string;
}

/** The CPIM body of a notification (PROTOCOLS §2.9 layout: DateTime after imdn.Message-ID). */
export function buildImdnMessage(options: ImdnMessageOptions): Buffer {
  const prefix = options.nsPrefix ?? 'imdn';
  return buildCpim({
    from: options.from,
    to: options.to,
    ns: [{ prefix, uri: IMDN_HEADERS_NS }],
    headers: [{ name: `${prefix}.Message-ID`, value: options.imdnMessageId }],
    dateTime: options.dateTime,
    dateTimeLast: true,
    contentType: IMDN_CONTENT_TYPE,
    contentDisposition: 'notification',
    content: buildImdn(options.imdn),
  });
}

export interface ParsedImdn {
  messageId?: string;
  datetime?: string;
  recipientUri?: string;
  originalRecipientUri?: string;
  subject?: string;
  kind?: ImdnKind;
  status?: string;
  diagnostics: Diagnostic[];
}

/** Position of each IMDN-namespace child in the schema's sequence. */
const SEQUENCE: Readonly<Record<string, number>> = {
  'message-id': 0,
  datetime: 1,
  'recipient-uri': 2,
  'original-recipient-uri': 3,
  subject: 4,
  'delivery-notification': 5,
  'display-notification': 5,
  'processing-notification': 5,
};

function collapse(text: string): string {
  return text.replace(/[\t\r\n ]+/g, ' ').trim();
}

function elementBytes(element: XmlElement): Buffer {
  return Buffer.from(`<${element.qname}>`, 'utf8');
}

/** Parses and validates an IMDN document. Never throws. `options.limits`: the XML limits (size, attribute, depth). */
export function parseImdnXml(xml: Buffer | string, options: SafeXmlOptions = {}): ParsedImdn {
  return (withinStandardLimits(xml, options) ? parseStandardImdn(xml) : undefined) ?? parseImdnTree(xml, options);
}

/** The fast path only takes documents the full parser's limits would let through (depth 4, xmlns 28 octets). */
function withinStandardLimits(xml: Buffer | string, options: SafeXmlOptions): boolean {
  const limits = options.limits;
  if (limits === undefined) return xml.length <= DEFAULT_LIMITS.xmlDocumentBytes;
  const size = typeof xml === 'string' ? Buffer.byteLength(xml, 'utf8') : xml.length;
  return size <= (limits.xmlDocumentBytes ?? DEFAULT_LIMITS.xmlDocumentBytes) && (limits.xmlDepth ?? DEFAULT_LIMITS.xmlDepth) >= 4 && (limits.xmlAttributeBytes ?? DEFAULT_LIMITS.xmlAttributeBytes) >= IMDN_XML_NS.length;
}

// The standard shape of RFC 5438 §9 as clients send it (PROTOCOLS §2.9/§2.10): optional XML
// declaration, default namespace, message-id, datetime, optional recipient pair, one notification
// with one empty status value. Text is printable ASCII without markup characters or spaces, so no
// entity, whitespace rule or encoding question can arise; anything else goes to the full parser.
const WS = '[ \\t\\r\\n]*';
const TEXT = '([\\x21-\\x25\\x27-\\x3b\\x3d\\x3f-\\x7e]+)';
const STANDARD_IMDN = new RegExp(
  '^(?:<\\?xml version="1\\.0"(?: encoding="(?:UTF|utf)-8")?\\?>)?' +
    `${WS}<imdn xmlns="urn:ietf:params:xml:ns:imdn">` +
    `${WS}<message-id>${TEXT}</message-id>` +
    `${WS}<datetime>${TEXT}</datetime>` +
    `${WS}(?:<recipient-uri>${TEXT}</recipient-uri>${WS}<original-recipient-uri>${TEXT}</original-recipient-uri>${WS})?` +
    `<(delivery|display|processing)-notification>${WS}<status>${WS}<([a-z]+)/>${WS}</status>${WS}</\\5-notification>` +
    `${WS}</imdn>${WS}$`,
);

/**
 * The strict fast path: the result the full parser gives for a document of the standard shape
 * with valid values (no diagnostics), or undefined so the full parser decides.
 */
export function parseStandardImdn(xml: Buffer | string): ParsedImdn | undefined {
  // latin1 maps each byte to one char: a non-ASCII byte can never match TEXT, so it falls back.
  const m = STANDARD_IMDN.exec(typeof xml === 'string' ? xml : xml.toString('latin1'));
  if (m === null) return undefined;
  const kind = m[5] as ImdnKind;
  const status = m[6]!;
  if (!IMDN_STATUSES[kind].includes(status) || !parseRfc3339(m[2]!)) return undefined;
  const result: ParsedImdn = { diagnostics: [], messageId: m[1]!, datetime: m[2]! };
  if (m[3] !== undefined) {
    result.recipientUri = m[3];
    result.originalRecipientUri = m[4]!;
  }
  result.kind = kind;
  result.status = status;
  return result;
}

/** The full parser: safe XML tree, then every RFC 5438 schema rule with its diagnostic. */
export function parseImdnTree(xml: Buffer | string, options: SafeXmlOptions = {}): ParsedImdn {
  const { root, diagnostics } = parseXmlSafely(xml, CLAUSE, options);
  const result: ParsedImdn = { diagnostics };
  if (!root) return result;
  if (root.localName !== 'imdn' || root.namespace !== IMDN_XML_NS) {
    diagnostics.push(
      diagnostic(root.localName !== 'imdn' ? 'IMDN_WRONG_ROOT' : 'IMDN_WRONG_NAMESPACE', `root must be imdn in ${IMDN_XML_NS}, found ${root.qname} in ${root.namespace ?? 'no namespace'}`, CLAUSE, {
        bytes: elementBytes(root),
      }),
    );
    return result;
  }
  let lastRank = -1;
  const notifications: XmlElement[] = [];
  const seen = new Set<string>();
  for (const child of root.children) {
    if (child.namespace !== IMDN_XML_NS) {
      if (lastRank < 5) {
        diagnostics.push(diagnostic('IMDN_EXTENSION_POSITION', `extension element ${child.qname} before the notification element`, CLAUSE, { severity: 'warning', bytes: elementBytes(child) }));
      }
      continue;
    }
    const rank = SEQUENCE[child.localName];
    if (rank === undefined) {
      diagnostics.push(diagnostic('IMDN_UNEXPECTED_ELEMENT', `${child.localName} is not an IMDN element`, CLAUSE, { bytes: elementBytes(child) }));
      continue;
    }
    if (rank === 5) notifications.push(child);
    else if (seen.has(child.localName)) diagnostics.push(diagnostic('IMDN_DUPLICATE_ELEMENT', `${child.localName} appears more than once`, CLAUSE, { bytes: elementBytes(child) }));
    if (rank < lastRank) diagnostics.push(diagnostic('IMDN_ELEMENT_ORDER', `${child.localName} is out of schema order`, CLAUSE, { bytes: elementBytes(child) }));
    lastRank = Math.max(lastRank, rank);
    seen.add(child.localName);
    if (child.children.length > 0 && rank < 5) {
      diagnostics.push(diagnostic('IMDN_UNEXPECTED_ELEMENT', `${child.localName} must hold text only`, CLAUSE, { bytes: elementBytes(child) }));
    }
    const text = child.text;
    switch (child.localName) {
      case 'message-id':
        result.messageId ??= collapse(text);
        if (collapse(text) === '') diagnostics.push(diagnostic('IMDN_EMPTY_MESSAGE_ID', 'message-id is empty', CLAUSE, { bytes: elementBytes(child) }));
        break;
      case 'datetime':
        result.datetime ??= text.trim();
        if (!parseRfc3339(text.trim())) {
          diagnostics.push(diagnostic('IMDN_BAD_DATETIME', 'datetime is not an RFC 3339 date-time', CLAUSE, { severity: 'warning', bytes: Buffer.from(text, 'utf8') }));
        }
        break;
      case 'recipient-uri':
        result.recipientUri ??= text.trim();
        break;
      case 'original-recipient-uri':
        result.originalRecipientUri ??= text.trim();
        break;
      case 'subject':
        result.subject ??= text;
        break;
    }
  }
  for (const required of ['message-id', 'datetime']) {
    if (!seen.has(required)) diagnostics.push(diagnostic('IMDN_MISSING_ELEMENT', `${required} is mandatory`, CLAUSE));
  }
  if (seen.has('recipient-uri') !== seen.has('original-recipient-uri') || (seen.has('subject') && !seen.has('recipient-uri'))) {
    diagnostics.push(diagnostic('IMDN_RECIPIENT_PAIR', 'recipient-uri and original-recipient-uri go together (and subject only with them)', CLAUSE));
  }
  if (notifications.length !== 1) {
    diagnostics.push(
      diagnostic(notifications.length === 0 ? 'IMDN_NO_NOTIFICATION' : 'IMDN_MULTIPLE_NOTIFICATIONS', `expected exactly one notification element, found ${notifications.length}`, CLAUSE, {
        bytes: notifications[1] ? elementBytes(notifications[1]) : Buffer.alloc(0),
      }),
    );
  }
  const notification = notifications[0];
  if (notification) {
    const kind = notification.localName.replace('-notification', '') as ImdnKind;
    result.kind = kind;
    const statuses = childrenIn(notification, IMDN_XML_NS);
    const status = statuses[0];
    if (statuses.length !== 1 || status?.localName !== 'status' || notification.children.length !== 1) {
      diagnostics.push(diagnostic('IMDN_BAD_STATUS', `${notification.localName} must hold exactly one status element`, CLAUSE, { bytes: elementBytes(notification) }));
    }
    if (status?.localName === 'status') {
      const values = childrenIn(status, IMDN_XML_NS);
      const value = values[0];
      if (values.length !== 1 || !value) {
        diagnostics.push(diagnostic('IMDN_BAD_STATUS', `status must hold exactly one value, found ${values.length}`, CLAUSE, { bytes: elementBytes(status) }));
      }
      if (value) {
        result.status = value.localName;
        if (!IMDN_STATUSES[kind].includes(value.localName)) {
          diagnostics.push(diagnostic('IMDN_BAD_STATUS', `${value.localName} is not a ${kind} status (allowed: ${IMDN_STATUSES[kind].join(', ')})`, CLAUSE, { bytes: elementBytes(value) }));
        }
        if (value.children.length > 0 || value.text.trim() !== '') {
          diagnostics.push(diagnostic('IMDN_BAD_STATUS', `status value ${value.localName} must be empty`, CLAUSE, { bytes: elementBytes(value) }));
        }
      }
    }
  }
  return result;
}

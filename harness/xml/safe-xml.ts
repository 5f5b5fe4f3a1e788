/**
 * Safe XML for the small documents the harness receives from a client under test (IMDN, conference-info).
 * fast-xml-parser has no "forbid DOCTYPE" switch, so a linear pre-scan of the markup refuses DOCTYPE
 * and entity declarations before any parsing (no entity expansion can ever happen). The pre-scan
 * reads the document's structure, not its raw bytes: `<!-- <!DOCTYPE -->` and CDATA are content.
 * It also enforces the size, attribute and depth limits, so neither the validator nor the tree
 * builder below ever sees a document that could exhaust memory or the stack. Well-formedness is
 * checked with XMLValidator first because the parser itself is lenient. The result is an ordered
 * element tree with namespaces resolved, so callers can check element order and namespaces against a schema.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';

export interface XmlAttribute {
  /** Name as written, e.g. `xmlns:ci`, `entity`. */
  readonly qname: string;
  readonly localName: string;
  /** Unprefixed attributes have no namespace (XML Namespaces §6.2). */
  readonly namespace?: string;
  readonly value: string;
}

export interface XmlElement {
  readonly qname: string;
  readonly localName: string;
  /** Resolved namespace URI; undefined when none is in scope. */
  readonly namespace?: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Concatenated character data directly inside this element (entities decoded, whitespace kept). */
  readonly text: string;
}

export interface SafeXmlResult {
  readonly root?: XmlElement;
  readonly diagnostics: Diagnostic[];
}

const XMLNS_URI = 'http://www.w3.org/XML/1998/namespace';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  // Keep `0123` a string (a message-id), never a number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  htmlEntities: false,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type XmlLimits = Pick<Limits, 'xmlDocumentBytes' | 'xmlAttributeBytes' | 'xmlDepth'>;

export interface SafeXmlOptions {
  limits?: Partial<XmlLimits>;
}

/** Refused by the pre-scan before any parsing, so no entity can ever be expanded or fetched. */
const DECLARATIONS = [
  { marker: '<!DOCTYPE', code: 'XML_DOCTYPE_FORBIDDEN', message: 'document type declarations are refused: they enable entity expansion and external fetches' },
  { marker: '<!ENTITY', code: 'XML_ENTITY_DECLARATION', message: 'entity declarations are refused' },
] as const;

const LT = 0x3c;
const GT = 0x3e;

/**
 * One linear pass over the markup: skips comments, CDATA sections and processing instructions as
 * content, refuses DOCTYPE/ENTITY declarations, and measures nesting depth and attribute values.
 * Malformed markup is left to the validator; this only finds what must never reach it.
 */
function prescan(bytes: Buffer, limits: XmlLimits, clause: string): Diagnostic[] | undefined {
  const evidence = (at: number, length = 80) => ({ offset: at, bytes: bytes.subarray(at, Math.min(bytes.length, at + length)) });
  let depth = 0;
  let i = bytes.indexOf(LT);
  while (i !== -1) {
    const next = bytes[i + 1];
    if (next === 0x21) {
      // <!-- comment -->, <![CDATA[ … ]]>, or a declaration.
      if (startsAt(bytes, i, '<!--')) {
        const end = bytes.indexOf('-->', i + 4);
        if (end === -1) return undefined;
        i = bytes.indexOf(LT, end + 3);
        continue;
      }
      if (startsAt(bytes, i, '<![CDATA[')) {
        const end = bytes.indexOf(']]>', i + 9);
        if (end === -1) return undefined;
        i = bytes.indexOf(LT, end + 3);
        continue;
      }
      for (const { marker, code, message } of DECLARATIONS) {
        // Any spelling: `<!doctype` is malformed XML, but it is refused as what it tries to be.
        if (!startsAt(bytes, i, marker, true)) continue;
        const found = [diagnostic(code, message, clause, evidence(i))];
        // A refused DOCTYPE usually declares the entities it is after: name the first one too.
        const entity = code === 'XML_DOCTYPE_FORBIDDEN' ? bytes.indexOf('<!ENTITY', i) : -1;
        if (entity !== -1) found.push(diagnostic(DECLARATIONS[1].code, DECLARATIONS[1].message, clause, evidence(entity)));
        return found;
      }
      i = bytes.indexOf(LT, i + 2);
      continue;
    }
    if (next === 0x3f) {
      const end = bytes.indexOf('?>', i + 2);
      if (end === -1) return undefined;
      i = bytes.indexOf(LT, end + 2);
      continue;
    }
    if (next === 0x2f) {
      depth--;
      const end = bytes.indexOf(GT, i + 2);
      if (end === -1) return undefined;
      i = bytes.indexOf(LT, end + 1);
      continue;
    }
    // A start tag: walk to its `>`, stepping over quoted attribute values (which may hold `>`).
    let j = i + 1;
    let selfClosing = false;
    for (; j < bytes.length; j++) {
      const c = bytes[j]!;
      if (c === 0x22 || c === 0x27) {
        const close = bytes.indexOf(c, j + 1);
        if (close === -1) return undefined;
        if (close - j - 1 > limits.xmlAttributeBytes) {
          return [diagnostic('XML_ATTRIBUTE_TOO_LARGE', `attribute value of ${close - j - 1} octets exceeds the limit of ${limits.xmlAttributeBytes}`, clause, evidence(j))];
        }
        j = close;
      } else if (c === GT) {
        selfClosing = bytes[j - 1] === 0x2f;
        break;
      } else if (c === LT) {
        break; // malformed: the validator says where
      }
    }
    if (j >= bytes.length) return undefined;
    if (!selfClosing && bytes[j] === GT && ++depth > limits.xmlDepth) {
      return [diagnostic('XML_TOO_DEEP', `elements nested deeper than the limit of ${limits.xmlDepth}`, clause, evidence(i))];
    }
    i = bytes[j] === LT ? j : bytes.indexOf(LT, j + 1);
  }
  return undefined;
}

function startsAt(bytes: Buffer, at: number, marker: string, ignoreCase = false): boolean {
  if (at + marker.length > bytes.length) return false;
  for (let k = 0; k < marker.length; k++) {
    const b = bytes[at + k]!;
    const m = marker.charCodeAt(k);
    if (b !== m && !(ignoreCase && (b | 0x20) === (m | 0x20) && m >= 0x41 && m <= 0x5a)) return false;
  }
  return true;
}

/** Returns the decoded text or undefined when the bytes are not UTF-8. */
function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Parses `input` safely. `clause` names the rule the document belongs to (e.g. `RFC 5438 §9`) so
 * structural diagnostics point at the right specification.
 */
export function parseXmlSafely(input: Buffer | string, clause: string, options: SafeXmlOptions = {}): SafeXmlResult {
  const limits: XmlLimits = {
    xmlDocumentBytes: options.limits?.xmlDocumentBytes ?? DEFAULT_LIMITS.xmlDocumentBytes,
    xmlAttributeBytes: options.limits?.xmlAttributeBytes ?? DEFAULT_LIMITS.xmlAttributeBytes,
    xmlDepth: options.limits?.xmlDepth ?? DEFAULT_LIMITS.xmlDepth,
  };
  const diagnostics: Diagnostic[] = [];
  const inputLength = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (inputLength > limits.xmlDocumentBytes) {
    const head = typeof input === 'string' ? Buffer.from(input.slice(0, 80), 'utf8') : input.subarray(0, 80);
    diagnostics.push(diagnostic('XML_TOO_LARGE', `document of ${inputLength} octets exceeds the limit of ${limits.xmlDocumentBytes}`, clause, { bytes: head }));
    return { diagnostics };
  }
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const refused = prescan(bytes, limits, clause);
  if (refused !== undefined) return { diagnostics: refused };

  const text = decodeUtf8(bytes);
  if (text === undefined) {
    diagnostics.push(diagnostic('XML_NOT_UTF8', 'document is not valid UTF-8', clause, { bytes: bytes.subarray(0, 80) }));
    return { diagnostics };
  }
  if (text.trim() === '') {
    diagnostics.push(diagnostic('XML_EMPTY', 'document is empty', clause, { bytes }));
    return { diagnostics };
  }
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    const { line, col, msg, code } = validation.err;
    diagnostics.push(
      diagnostic('XML_MALFORMED', `not well-formed XML (${code}) at line ${line}, column ${col}: ${msg}`, 'XML 1.0 §2.1', {
        bytes: Buffer.from(text.split('\n')[line - 1] ?? '', 'utf8'),
      }),
    );
    return { diagnostics };
  }
  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch (error) {
    // The parser throws on some inputs the validator let through; turn it into a value.
    diagnostics.push(diagnostic('XML_MALFORMED', `XML parser refused the document: ${String(error)}`, 'XML 1.0 §2.1', { bytes: bytes.subarray(0, 80) }));
    return { diagnostics };
  }
  const roots = toElements(nodes, new Map([['xml', XMLNS_URI]]), clause, diagnostics);
  if (roots.length !== 1) {
    diagnostics.push(diagnostic('XML_MALFORMED', `expected exactly one root element, found ${roots.length}`, 'XML 1.0 §2.1', { bytes: bytes.subarray(0, 80) }));
    return { diagnostics };
  }
  return { root: roots[0], diagnostics };
}

type OrderedNode = Record<string, unknown>;

function isRecord(value: unknown): value is OrderedNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function splitQName(qname: string): { prefix?: string; localName: string } {
  const colon = qname.indexOf(':');
  return colon === -1 ? { localName: qname } : { prefix: qname.slice(0, colon), localName: qname.slice(colon + 1) };
}

function toElements(nodes: unknown, scope: ReadonlyMap<string, string>, clause: string, diagnostics: Diagnostic[]): XmlElement[] {
  if (!Array.isArray(nodes)) return [];
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    for (const key of Object.keys(node)) {
      if (key === ':@' || key === '#text' || key.startsWith('?') || key.startsWith('!')) continue;
      elements.push(toElement(key, node[key], node[':@'], scope, clause, diagnostics));
    }
  }
  return elements;
}

function toElement(qname: string, content: unknown, rawAttributes: unknown, parentScope: ReadonlyMap<string, string>, clause: string, diagnostics: Diagnostic[]): XmlElement {
  const attributeEntries = isRecord(rawAttributes) ? Object.entries(rawAttributes).map(([k, v]) => [k, String(v)] as const) : [];
  let scope = parentScope;
  for (const [name, value] of attributeEntries) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (scope === parentScope) scope = new Map(parentScope);
      (scope as Map<string, string>).set(name === 'xmlns' ? '' : name.slice(6), value);
    }
  }
  const { prefix, localName } = splitQName(qname);
  const namespace = scope.get(prefix ?? '') || undefined;
  if (prefix !== undefined && namespace === undefined) {
    diagnostics.push(diagnostic('XML_UNDECLARED_PREFIX', `element prefix "${prefix}" is not bound to a namespace`, 'Namespaces in XML 1.0 §5', { bytes: qname }));
  }
  const attributes: XmlAttribute[] = [];
  for (const [name, value] of attributeEntries) {
    const split = splitQName(name);
    if (split.prefix === undefined || name.startsWith('xmlns')) {
      attributes.push({ qname: name, localName: split.localName, value });
      continue;
    }
    const attributeNamespace = scope.get(split.prefix);
    if (attributeNamespace === undefined) {
      diagnostics.push(diagnostic('XML_UNDECLARED_PREFIX', `attribute prefix "${split.prefix}" is not bound to a namespace`, 'Namespaces in XML 1.0 §5', { bytes: name }));
    }
    attributes.push(attributeNamespace === undefined ? { qname: name, localName: split.localName, value } : { qname: name, localName: split.localName, namespace: attributeNamespace, value });
  }
  let text = '';
  if (Array.isArray(content)) {
    for (const child of content) if (isRecord(child) && typeof child['#text'] === 'string') text += child['#text'];
  }
  const children = toElements(content, scope, clause, diagnostics);
  return namespace === undefined ? { qname, localName, attributes, children, text } : { qname, localName, namespace, attributes, children, text };
}

/** Attribute value by local name (unprefixed attributes only, as RFC 4575 and RFC 5438 use). */
export function attribute(element: XmlElement, localName: string): string | undefined {
  return element.attributes.find((a) => a.localName === localName && a.namespace === undefined && !a.qname.startsWith('xmlns'))?.value;
}

/** Children in `namespace` (other namespaces are extensions and are skipped). */
export function childrenIn(element: XmlElement, namespace: string): XmlElement[] {
  return element.children.filter((c) => c.namespace === namespace);
}

const XML_SPECIAL = /[&<>"]/;

/** Escapes character data and attribute values for the builders. */
export function escapeXml(value: string): string {
  // Most values (ids, URIs, date-times) hold none of the four: one scan instead of four replaces.
  if (!XML_SPECIAL.test(value)) return value;
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

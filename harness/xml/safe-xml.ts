/**
 * Safe XML for the small documents the harness receives from a client under test (IMDN, conference-info).
 * fast-xml-parser has no "forbid DOCTYPE" switch, so DOCTYPE and entity declarations are rejected on the
 * raw bytes before any parsing (no entity expansion can ever happen). Well-formedness is checked with
 * XMLValidator first because the parser itself is lenient. The result is an ordered element tree with
 * namespaces resolved, so callers can check element order and namespaces against a schema.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';

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

/** Refused on the raw bytes before any parsing, so no entity can ever be expanded or fetched. */
const FORBIDDEN = [
  { marker: '<!DOCTYPE', code: 'XML_DOCTYPE_FORBIDDEN', message: 'document type declarations are refused: they enable entity expansion and external fetches' },
  { marker: '<!ENTITY', code: 'XML_ENTITY_DECLARATION', message: 'entity declarations are refused' },
] as const;

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
export function parseXmlSafely(input: Buffer | string, clause: string): SafeXmlResult {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const diagnostics: Diagnostic[] = [];
  for (const { marker, code, message } of FORBIDDEN) {
    const at = bytes.indexOf(marker);
    if (at !== -1) diagnostics.push(diagnostic(code, message, clause, { offset: at, bytes: bytes.subarray(at, Math.min(bytes.length, at + 80)) }));
  }
  if (diagnostics.length > 0) return { diagnostics };

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

/** Escapes character data and attribute values for the builders. */
export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * application/conference-info+xml (RFC 4575): builder (full and partial documents, with the
 * robustness variants N7/N28), a safe validating parser, and the §4.6 rules a subscriber applies
 * to successive NOTIFY bodies (full replaces, partial merges by entity, state="deleted" removes).
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { attribute, childrenIn, escapeXml, parseXmlSafely, type SafeXmlOptions, type XmlElement } from '../xml/safe-xml.ts';

export const CONFERENCE_INFO_NS = 'urn:ietf:params:xml:ns:conference-info';
export const CONFERENCE_INFO_CONTENT_TYPE = 'application/conference-info+xml';
const CLAUSE = 'RFC 4575 §5';

export type ElementState = 'full' | 'partial' | 'deleted';
export const ELEMENT_STATES: readonly ElementState[] = ['full', 'partial', 'deleted'];
export const ENDPOINT_STATUSES = ['pending', 'dialing-out', 'dialing-in', 'alerting', 'on-hold', 'connected', 'muted-via-focus', 'disconnecting', 'disconnected'] as const;
export const JOINING_METHODS = ['dialed-in', 'dialed-out', 'focus-owner'] as const;
export const DISCONNECTION_METHODS = ['departed', 'booted', 'failed', 'busy'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];
export type JoiningMethod = (typeof JOINING_METHODS)[number];
export type DisconnectionMethod = (typeof DISCONNECTION_METHODS)[number];

export interface ConferenceEndpoint {
  entity?: string;
  state?: ElementState;
  displayText?: string;
  status?: EndpointStatus;
  joiningMethod?: JoiningMethod;
  disconnectionMethod?: DisconnectionMethod;
}

export interface ConferenceUser {
  entity?: string;
  state?: ElementState;
  displayText?: string;
  roles?: string[];
  endpoints?: ConferenceEndpoint[];
}

export interface ConferenceDescription {
  displayText?: string;
  subject?: string;
  freeText?: string;
}

export interface ConferenceInfo {
  entity: string;
  /** Absent means the schema default, full. */
  state?: ElementState;
  version?: number;
  description?: ConferenceDescription;
  users?: ConferenceUser[];
}

export interface ConferenceBuildOptions {
  /** N7: leave out the root `state` (schema default full) — crashes parsers that assume it. */
  omitState?: boolean;
  /** N7: leave out `entity` on every user (schema-optional). */
  omitUserEntity?: boolean;
  /** N28: leave out `<conference-description>`. */
  omitConferenceDescription?: boolean;
  /** Default CRLF (PROTOCOLS §2.11). */
  lineEnding?: string;
  /** Line end after the root end tag; default true (§2.11 counts it in Content-Length). */
  finalLineEnding?: boolean;
}

function attrs(pairs: [string, string | number | undefined][]): string {
  return pairs
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

/** Serialises a document in the layout of PROTOCOLS §2.11 (two-space indent). */
export function buildConferenceInfo(doc: ConferenceInfo, options: ConferenceBuildOptions = {}): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', `<conference-info xmlns="${CONFERENCE_INFO_NS}"`];
  const state = options.omitState ? undefined : (doc.state ?? 'full');
  out.push(`    ${attrs([['entity', doc.entity], ['state', state], ['version', doc.version]]).slice(1)}>`);
  const text = (indent: string, name: string, value: string | undefined) => {
    if (value !== undefined) out.push(`${indent}<${name}>${escapeXml(value)}</${name}>`);
  };
  if (doc.description && !options.omitConferenceDescription) {
    out.push('  <conference-description>');
    text('    ', 'display-text', doc.description.displayText);
    text('    ', 'subject', doc.description.subject);
    text('    ', 'free-text', doc.description.freeText);
    out.push('  </conference-description>');
  }
  if (doc.users) {
    out.push('  <users>');
    for (const user of doc.users) {
      out.push(`    <user${attrs([['entity', options.omitUserEntity ? undefined : user.entity], ['state', user.state]])}>`);
      text('      ', 'display-text', user.displayText);
      if (user.roles) {
        out.push('      <roles>');
        for (const role of user.roles) text('        ', 'entry', role);
        out.push('      </roles>');
      }
      for (const endpoint of user.endpoints ?? []) {
        out.push(`      <endpoint${attrs([['entity', endpoint.entity], ['state', endpoint.state]])}>`);
        text('        ', 'display-text', endpoint.displayText);
        text('        ', 'status', endpoint.status);
        text('        ', 'joining-method', endpoint.joiningMethod);
        text('        ', 'disconnection-method', endpoint.disconnectionMethod);
        out.push('      </endpoint>');
      }
      out.push('    </user>');
    }
    out.push('  </users>');
  }
  out.push('</conference-info>');
  const eol = options.lineEnding ?? '\r\n';
  return out.join(eol) + (options.finalLineEnding ?? true ? eol : '');
}

/** Body and Content-Type of a conference NOTIFY (RFC 4575 §3). */
export function conferenceNotifyBody(doc: ConferenceInfo, options: ConferenceBuildOptions = {}): { contentType: string; body: Buffer } {
  return { contentType: CONFERENCE_INFO_CONTENT_TYPE, body: Buffer.from(buildConferenceInfo(doc, options), 'utf8') };
}

function bytesOf(element: XmlElement): Buffer {
  return Buffer.from(`<${element.qname}>`, 'utf8');
}

function enumValue<T extends string>(value: string | undefined, allowed: readonly T[], what: string, element: XmlElement, diagnostics: Diagnostic[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  diagnostics.push(diagnostic('CONF_BAD_VALUE', `${what} "${value}" is not one of ${allowed.join(', ')}`, CLAUSE, { bytes: bytesOf(element) }));
  return undefined;
}

function childText(element: XmlElement, name: string): string | undefined {
  const child = childrenIn(element, CONFERENCE_INFO_NS).find((c) => c.localName === name);
  return child?.text.trim();
}

/** Checks that known children appear in schema order (unknown ones are ignored here). */
function checkOrder(element: XmlElement, order: readonly string[], diagnostics: Diagnostic[]): void {
  let last = -1;
  for (const child of childrenIn(element, CONFERENCE_INFO_NS)) {
    const rank = order.indexOf(child.localName);
    if (rank === -1) continue;
    if (rank < last) diagnostics.push(diagnostic('CONF_ELEMENT_ORDER', `${child.localName} is out of schema order inside ${element.localName}`, CLAUSE, { bytes: bytesOf(child) }));
    last = Math.max(last, rank);
  }
}

function stateOf(element: XmlElement, diagnostics: Diagnostic[]): ElementState | undefined {
  return enumValue(attribute(element, 'state'), ELEMENT_STATES, 'state', element, diagnostics);
}

/** Parses and validates a conference-info document. Never throws. */
export function parseConferenceInfo(xml: Buffer | string, options: SafeXmlOptions = {}): { doc?: ConferenceInfo; diagnostics: Diagnostic[] } {
  const { root, diagnostics } = parseXmlSafely(xml, CLAUSE, options);
  if (!root) return { diagnostics };
  if (root.localName !== 'conference-info' || root.namespace !== CONFERENCE_INFO_NS) {
    diagnostics.push(diagnostic('CONF_WRONG_ROOT', `root must be conference-info in ${CONFERENCE_INFO_NS}, found ${root.qname}`, CLAUSE, { bytes: bytesOf(root) }));
    return { diagnostics };
  }
  const entity = attribute(root, 'entity');
  if (entity === undefined) diagnostics.push(diagnostic('CONF_MISSING_ENTITY', 'conference-info has no entity attribute', CLAUSE, { bytes: bytesOf(root) }));
  const doc: ConferenceInfo = { entity: entity ?? '' };
  const state = stateOf(root, diagnostics);
  if (state) doc.state = state;
  const version = attribute(root, 'version');
  if (version !== undefined) {
    if (/^\d+$/.test(version) && Number(version) <= 0xffffffff) doc.version = Number(version);
    else diagnostics.push(diagnostic('CONF_BAD_VERSION', `version "${version}" is not an unsignedInt`, CLAUSE, { bytes: version }));
  }
  checkOrder(root, ['conference-description', 'host-info', 'conference-state', 'users', 'sidebars-by-ref', 'sidebars-by-val'], diagnostics);
  const children = childrenIn(root, CONFERENCE_INFO_NS);
  const description = children.find((c) => c.localName === 'conference-description');
  if (description) {
    const d: ConferenceDescription = {};
    const displayText = childText(description, 'display-text');
    const subject = childText(description, 'subject');
    const freeText = childText(description, 'free-text');
    if (displayText !== undefined) d.displayText = displayText;
    if (subject !== undefined) d.subject = subject;
    if (freeText !== undefined) d.freeText = freeText;
    doc.description = d;
  }
  const users = children.find((c) => c.localName === 'users');
  if (users) {
    doc.users = [];
    for (const userElement of childrenIn(users, CONFERENCE_INFO_NS).filter((c) => c.localName === 'user')) {
      checkOrder(userElement, ['display-text', 'associated-aors', 'roles', 'languages', 'cascaded-focus', 'endpoint'], diagnostics);
      const user: ConferenceUser = {};
      const userEntity = attribute(userElement, 'entity');
      if (userEntity !== undefined) user.entity = userEntity;
      const userState = stateOf(userElement, diagnostics);
      if (userState) user.state = userState;
      const displayText = childText(userElement, 'display-text');
      if (displayText !== undefined) user.displayText = displayText;
      const roles = childrenIn(userElement, CONFERENCE_INFO_NS).find((c) => c.localName === 'roles');
      if (roles) user.roles = childrenIn(roles, CONFERENCE_INFO_NS).filter((c) => c.localName === 'entry').map((c) => c.text.trim());
      const endpoints = childrenIn(userElement, CONFERENCE_INFO_NS).filter((c) => c.localName === 'endpoint');
      if (endpoints.length > 0) user.endpoints = endpoints.map((e) => parseEndpoint(e, diagnostics));
      doc.users.push(user);
    }
  }
  return { doc, diagnostics };
}

function parseEndpoint(element: XmlElement, diagnostics: Diagnostic[]): ConferenceEndpoint {
  checkOrder(element, ['display-text', 'referred', 'status', 'joining-method', 'joining-info', 'disconnection-method', 'disconnection-info', 'media', 'call-info'], diagnostics);
  const endpoint: ConferenceEndpoint = {};
  const entity = attribute(element, 'entity');
  if (entity !== undefined) endpoint.entity = entity;
  const state = stateOf(element, diagnostics);
  if (state) endpoint.state = state;
  const displayText = childText(element, 'display-text');
  if (displayText !== undefined) endpoint.displayText = displayText;
  const status = enumValue(childText(element, 'status'), ENDPOINT_STATUSES, 'endpoint status', element, diagnostics);
  if (status) endpoint.status = status;
  const joining = enumValue(childText(element, 'joining-method'), JOINING_METHODS, 'joining-method', element, diagnostics);
  if (joining) endpoint.joiningMethod = joining;
  const disconnection = enumValue(childText(element, 'disconnection-method'), DISCONNECTION_METHODS, 'disconnection-method', element, diagnostics);
  if (disconnection) endpoint.disconnectionMethod = disconnection;
  return endpoint;
}

function mergeDefined<T extends object>(base: T, update: T): T {
  const out = { ...base };
  for (const [k, v] of Object.entries(update)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Applies partial updates of `next` to `previous` items keyed by entity (RFC 4575 §4.6). */
function mergeByEntity<T extends { entity?: string; state?: ElementState }>(
  previous: readonly T[],
  next: readonly T[],
  mergeItem: (old: T, update: T) => T,
  what: string,
  diagnostics: Diagnostic[],
): T[] {
  const result = [...previous];
  for (const item of next) {
    if (item.entity === undefined) {
      diagnostics.push(diagnostic('CONF_PARTIAL_WITHOUT_ENTITY', `a ${what} without entity cannot be matched in a partial update`, 'RFC 4575 §4.6', { severity: 'warning' }));
      continue;
    }
    const index = result.findIndex((p) => p.entity === item.entity);
    const state = item.state ?? 'full';
    if (state === 'deleted') {
      if (index !== -1) result.splice(index, 1);
    } else if (index === -1) {
      result.push(item);
    } else {
      result[index] = state === 'full' ? item : mergeItem(result[index]!, item);
    }
  }
  return result;
}

export interface ConferenceUpdate {
  /** The subscriber's view after applying `next` (always a full view). */
  doc: ConferenceInfo;
  /** Whether `next` was applied (false: stale version, or a partial after a version gap). */
  applied: boolean;
  diagnostics: Diagnostic[];
}

/**
 * RFC 4575 §4.6: a version not above the current one is discarded; a full document replaces the
 * view; a partial one is merged element by element, and only when it is exactly one version newer.
 */
export function applyConferenceUpdate(previous: ConferenceInfo | undefined, next: ConferenceInfo): ConferenceUpdate {
  const diagnostics: Diagnostic[] = [];
  const state = next.state ?? 'full';
  if (previous && previous.version !== undefined && next.version !== undefined) {
    if (next.version <= previous.version) {
      diagnostics.push(diagnostic('CONF_STALE_VERSION', `version ${next.version} is not newer than ${previous.version}`, 'RFC 4575 §4.6', { severity: 'warning' }));
      return { doc: previous, applied: false, diagnostics };
    }
    if (state === 'partial' && next.version > previous.version + 1) {
      diagnostics.push(diagnostic('CONF_VERSION_GAP', `partial version ${next.version} after ${previous.version}: a version was missed, full state needed`, 'RFC 4575 §4.6', { severity: 'warning' }));
      return { doc: previous, applied: false, diagnostics };
    }
  }
  if (state !== 'partial' || !previous) {
    if (state === 'partial') diagnostics.push(diagnostic('CONF_PARTIAL_WITHOUT_BASE', 'partial document with no earlier full state', 'RFC 4575 §4.6', { severity: 'warning' }));
    return { doc: { ...next, state: state === 'deleted' ? 'deleted' : 'full' }, applied: true, diagnostics };
  }
  const doc: ConferenceInfo = { ...previous, state: 'full' };
  if (next.version !== undefined) doc.version = next.version;
  if (next.description) doc.description = mergeDefined(previous.description ?? {}, next.description);
  if (next.users) {
    doc.users = mergeByEntity(
      previous.users ?? [],
      next.users,
      (old, update) => {
        const merged = mergeDefined(old, { ...update, endpoints: undefined, state: undefined });
        if (update.endpoints) merged.endpoints = mergeByEntity(old.endpoints ?? [], update.endpoints, (a, b) => mergeDefined(a, { ...b, state: undefined }), 'endpoint', diagnostics);
        return merged;
      },
      'user',
      diagnostics,
    );
  }
  return { doc, applied: true, diagnostics };
}

/** Entities of the users in a view, for comparing with what the upper tester shows. */
export function participantEntities(doc: ConferenceInfo): string[] {
  return (doc.users ?? []).map((u) => u.entity).filter((e): e is string => e !== undefined);
}

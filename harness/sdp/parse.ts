/**
 * Strict SDP parser for MSRP offers and answers. Two passes over the same lines:
 * our own line-level pass (exact bytes, offsets, RFC 8866 §5 structure, RFC 4975 §8 attributes)
 * builds the authoritative MediaView list; sdp-transform builds the familiar session object.
 * Never throws: every deviation becomes a diagnostic.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import { attributeRuleName, transformParse, type MsrpSessionDescription } from './grammar.ts';
import { msrpAttribute, type MsrpAttributeValues } from './msrp-attributes.ts';
import {
  SETUP_VALUES,
  type AttributeLine,
  type Direction,
  type DirectionAttribute,
  type Level,
  type LineRef,
  type MediaView,
  type ParsedSdp,
  type SetupValue,
} from './types.ts';

/** Every code parseSdp can report (each has a sample in fixtures/sdp/malformed/<code>.sdp). */
export const SDP_PARSE_CODES = [
  'SDP_BARE_LF',
  'SDP_UNTERMINATED_LINE',
  'SDP_BARE_CR',
  'SDP_EMPTY_LINE',
  'SDP_MALFORMED_LINE',
  'SDP_UNKNOWN_LINE_TYPE',
  'SDP_WHITESPACE_AFTER_EQUALS',
  'SDP_LINE_ORDER',
  'SDP_DUPLICATE_LINE',
  'SDP_BAD_VERSION',
  'SDP_MALFORMED_ORIGIN',
  'SDP_MALFORMED_SESSION_NAME',
  'SDP_MALFORMED_TIMING',
  'SDP_MALFORMED_CONNECTION',
  'SDP_MISSING_LINE',
  'SDP_MISSING_CONNECTION',
  'SDP_MULTIPLE_DIRECTIONS',
  'SDP_MALFORMED_MEDIA',
  'MSRP_FORMAT_LIST',
  'SDP_MALFORMED_ATTRIBUTE',
  'SDP_UNKNOWN_ATTRIBUTE',
  'SDP_DUPLICATE_ATTRIBUTE',
  'SDP_SETUP_INVALID',
  'MSRP_PATH_INVALID',
  'MSRP_ACCEPT_TYPES_INVALID',
  'MSRP_MAX_SIZE_INVALID',
] as const;

type Ending = 'crlf' | 'lf' | 'none';

const MAX_REPORTS_PER_CODE = 64;

interface RawLine extends LineRef {
  ending: Ending;
}

/**
 * Splits on LF only, so a bare CR stays inside its line (and is reported) and offsets stay exact.
 * A generator: a description of 100,000 lines never holds 100,000 line objects at once.
 */
function* splitLines(raw: Buffer): Generator<RawLine> {
  let start = 0;
  while (start < raw.length) {
    const lf = raw.indexOf(0x0a, start);
    if (lf === -1) {
      yield { offset: start, bytes: raw.subarray(start), ending: 'none' };
      return;
    }
    const crlf = lf > start && raw[lf - 1] === 0x0d;
    yield { offset: start, bytes: raw.subarray(start, crlf ? lf - 1 : lf), ending: crlf ? 'crlf' : 'lf' };
    start = lf + 1;
  }
}

const KNOWN_TYPES = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);
// RFC 8866 §5 order; t and r share a rank because time descriptions repeat as (t r*)+.
const SESSION_RANK: Record<string, number> = { v: 0, o: 1, s: 2, i: 3, u: 4, e: 5, p: 6, c: 7, b: 8, t: 9, r: 9, z: 10, k: 11, a: 12 };
const MEDIA_RANK: Record<string, number> = { m: 0, i: 1, c: 2, b: 3, k: 4, a: 5 };
const SESSION_ONCE = new Set(['v', 'o', 's', 'i', 'u', 'c', 'z', 'k']);
const MEDIA_ONCE = new Set(['i', 'k']);

const TOKEN = "[A-Za-z0-9!#$%&'*+\\-.^_`{|}~]+";
const ORIGIN = /^(\S+) (\d+) (\d+) (\S+) (\S+) (\S+)$/;
const CONNECTION = /^IN (IP4|IP6) (\S+)$/;
const TIMING = /^\d+ \d+$/;
const PROTO = "[A-Za-z0-9!#$%&'*+\\-.^_`{|}~/]+";
const MEDIA_LINE = new RegExp(`^(${TOKEN}) (\\d+)(?:/(\\d+))? (${PROTO})((?: \\S+)+)$`);
const ATTRIBUTE = new RegExp(`^(${TOKEN})(?::(.*))?$`, 's');

interface MediaBuilder {
  index: number;
  type: string;
  port: number;
  portCount?: number;
  protocol: string;
  formats: string[];
  directions: DirectionAttribute[];
  setupRaw?: string;
  path?: string[];
  acceptTypes?: string[];
  acceptWrappedTypes?: string[];
  maxSize?: number;
  connectionAddress?: string;
  line: LineRef;
  attributes: AttributeLine[];
}

/** Per-level store for the attributes that may appear once; the first one wins. */
interface LevelAttributes {
  directions: DirectionAttribute[];
  setupRaw?: string;
  path?: string[];
  acceptTypes?: string[];
  acceptWrappedTypes?: string[];
  maxSize?: number;
  attributes: AttributeLine[];
}

export function parseSdp(input: Buffer | string): ParsedSdp {
  const raw = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const diagnostics: Diagnostic[] = [];
  // A description of 100,000 empty lines must not become 100,000 diagnostics: each code is
  // reported MAX_REPORTS_PER_CODE times, then once more to say the rest are not listed.
  const perCode = new Map<string, number>();
  const report = (code: string, message: string, clause: string, where: LineRef | undefined, severity: 'error' | 'warning' = 'error'): void => {
    const seen = (perCode.get(code) ?? 0) + 1;
    perCode.set(code, seen);
    if (seen > MAX_REPORTS_PER_CODE + 1) return;
    const text = seen > MAX_REPORTS_PER_CODE ? `${message} (and more ${code} not listed one by one)` : message;
    diagnostics.push(diagnostic(code, text, clause, where ? { offset: where.offset, bytes: where.bytes, severity } : { severity }));
  };

  const session: LevelAttributes = levelAttributes();
  let sessionConnection: string | undefined;
  const media: MediaBuilder[] = [];
  const seenSession = new Map<string, number>();
  let seenMedia = new Map<string, number>();
  let lastRank = -1;
  let lastType = '';
  let firstTypedLine = true;

  for (const line of splitLines(raw)) {
    if (line.ending === 'lf') report('SDP_BARE_LF', 'line ends in a bare LF instead of CRLF', 'RFC 8866 §5', { offset: line.offset, bytes: Buffer.concat([line.bytes, Buffer.from('\n')]) });
    if (line.ending === 'none' && line.bytes.length > 0) report('SDP_UNTERMINATED_LINE', 'last line has no CRLF', 'RFC 8866 §5', line);
    if (line.bytes.includes(0x0d)) report('SDP_BARE_CR', 'line contains a CR that is not part of CRLF', 'RFC 8866 §5', line);
    if (line.bytes.length === 0) {
      if (line.ending !== 'none') report('SDP_EMPTY_LINE', 'empty line inside the session description', 'RFC 8866 §5', { offset: line.offset, bytes: Buffer.from(line.ending === 'crlf' ? '\r\n' : '\n') });
      continue;
    }
    const ref: LineRef = { offset: line.offset, bytes: line.bytes };
    const first = line.bytes[0]!;
    const isLetter = (first >= 0x61 && first <= 0x7a) || (first >= 0x41 && first <= 0x5a);
    if (!isLetter || line.bytes[1] !== 0x3d) {
      report('SDP_MALFORMED_LINE', 'line is not of the form <type>=<value> with a one-letter type', 'RFC 8866 §5', ref);
      continue;
    }
    const type = String.fromCharCode(first);
    if (!KNOWN_TYPES.has(type)) {
      report('SDP_UNKNOWN_LINE_TYPE', `unknown line type "${type}="`, 'RFC 8866 §5', ref);
      continue;
    }
    const value = line.bytes.toString('utf8', 2);
    const spaced = value.startsWith(' ') || value.startsWith('\t');
    if (spaced) report('SDP_WHITESPACE_AFTER_EQUALS', `whitespace after "${type}=" (e.g. "a= sendrecv"); the line is not understood`, 'RFC 8866 §5', ref);
    if (firstTypedLine && type !== 'v') report('SDP_LINE_ORDER', `session description starts with "${type}=" instead of "v="`, 'RFC 8866 §5', ref);
    firstTypedLine = false;

    // Structure: rank order, once-only lines, which level we are at.
    if (type === 'm') {
      seenMedia = new Map();
      lastRank = MEDIA_RANK.m!;
      media.push(mediaFromLine(media.length, value, ref, report));
      lastType = type;
      continue;
    }
    const current = media[media.length - 1];
    const level: Level = current ? 'media' : 'session';
    const rank = current ? MEDIA_RANK[type] : SESSION_RANK[type];
    if (rank === undefined) {
      report('SDP_LINE_ORDER', `"${type}=" is not allowed in a media description`, 'RFC 8866 §5', ref);
    } else if (rank < lastRank) {
      report('SDP_LINE_ORDER', `"${type}=" after "${lastType}=" is out of the order RFC 8866 §5 prescribes`, 'RFC 8866 §5', ref);
    } else {
      lastRank = rank;
    }
    if (type === 'r' && lastType !== 't' && lastType !== 'r') report('SDP_LINE_ORDER', '"r=" must follow a "t=" line', 'RFC 8866 §5', ref);
    const seen = current ? seenMedia : seenSession;
    const count = (seen.get(type) ?? 0) + 1;
    seen.set(type, count);
    if (count === 2 && (current ? MEDIA_ONCE : SESSION_ONCE).has(type)) {
      report('SDP_DUPLICATE_LINE', `more than one "${type}=" line at ${level} level`, 'RFC 8866 §5', ref);
    }
    lastType = type;

    switch (type) {
      case 'v':
        if (value !== '0') report('SDP_BAD_VERSION', `"v=${value}": only version 0 is defined`, 'RFC 8866 §5.1', ref);
        break;
      case 'o':
        if (!ORIGIN.test(value)) report('SDP_MALFORMED_ORIGIN', 'o= needs <username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>', 'RFC 8866 §5.2', ref);
        break;
      case 's':
        if (value.length === 0) report('SDP_MALFORMED_SESSION_NAME', 's= must not be empty (use "s=-" or "s= ")', 'RFC 8866 §5.3', ref);
        break;
      case 't':
        if (!TIMING.test(value)) report('SDP_MALFORMED_TIMING', 't= needs <start-time> <stop-time>', 'RFC 8866 §5.9', ref);
        break;
      case 'c': {
        const m = CONNECTION.exec(value);
        if (!m) {
          report('SDP_MALFORMED_CONNECTION', 'c= needs IN IP4|IP6 <connection-address>', 'RFC 8866 §5.7', ref);
        } else if (current) {
          current.connectionAddress ??= m[2];
        } else {
          sessionConnection ??= m[2];
        }
        break;
      }
      case 'a':
        if (!spaced) parseAttribute(value, ref, level, current ?? session, report);
        break;
    }
  }

  for (const required of ['v', 'o', 's', 't']) {
    if (!seenSession.has(required)) report('SDP_MISSING_LINE', `mandatory "${required}=" line is missing`, 'RFC 8866 §5', undefined);
  }
  if (sessionConnection === undefined && !seenSession.has('c')) {
    for (const m of media) {
      if (m.connectionAddress === undefined) report('SDP_MISSING_CONNECTION', `m= line ${m.index} has no c= and there is no session-level c=`, 'RFC 8866 §5.7', m.line);
    }
  }
  const levels: [string, DirectionAttribute[]][] = [['session level', session.directions], ...media.map((m): [string, DirectionAttribute[]] => [`m= line ${m.index}`, m.directions])];
  for (const [where, directions] of levels) {
    if (directions.length > 1) {
      const list = directions.map((d) => 'a=' + d.value).join(', ');
      report('SDP_MULTIPLE_DIRECTIONS', `${directions.length} direction attributes at ${where} (${list}); at most one is allowed`, 'RFC 8866 §6.7', directions[1]);
    }
  }

  const views = media.map((m) => toView(m, session, sessionConnection));
  return new StrictSdp(raw, diagnostics, views, session.directions, session.attributes, sessionConnection);
}

/**
 * The parse result. sdp-transform's object is built on first read of `session`: the harness
 * itself reads only the views, and the library's parse cost more than the whole strict pass.
 */
class StrictSdp implements ParsedSdp {
  readonly sessionConnectionAddress?: string;
  #transformed: MsrpSessionDescription | undefined;

  constructor(
    readonly raw: Buffer,
    readonly diagnostics: Diagnostic[],
    readonly media: MediaView[],
    readonly sessionDirections: DirectionAttribute[],
    readonly sessionAttributes: AttributeLine[],
    sessionConnection: string | undefined,
  ) {
    if (sessionConnection !== undefined) this.sessionConnectionAddress = sessionConnection;
  }

  get session(): MsrpSessionDescription {
    return (this.#transformed ??= transformParse(transformText(this.raw)));
  }
}

/** The lines sdp-transform is given: every `<known type>=<value>` line, CRLF-joined, in order. */
function transformText(raw: Buffer): string {
  const out: string[] = [];
  for (const line of splitLines(raw)) {
    const first = line.bytes[0];
    if (first === undefined || line.bytes[1] !== 0x3d) continue;
    const type = String.fromCharCode(first);
    if (KNOWN_TYPES.has(type)) out.push(line.bytes.toString('utf8'));
  }
  return out.join('\r\n') + '\r\n';
}

type Report = (code: string, message: string, clause: string, where: LineRef | undefined, severity?: 'error' | 'warning') => void;

// Every field present from the start: one object shape per kind, however the attributes arrive.
function levelAttributes(): LevelAttributes {
  return { directions: [], setupRaw: undefined, path: undefined, acceptTypes: undefined, acceptWrappedTypes: undefined, maxSize: undefined, attributes: [] };
}

function mediaBuilder(index: number, line: LineRef, type: string, port: number, protocol: string, formats: string[]): MediaBuilder {
  return {
    index,
    type,
    port,
    portCount: undefined,
    protocol,
    formats,
    directions: [],
    setupRaw: undefined,
    path: undefined,
    acceptTypes: undefined,
    acceptWrappedTypes: undefined,
    maxSize: undefined,
    connectionAddress: undefined,
    line,
    attributes: [],
  };
}

function mediaFromLine(index: number, value: string, line: LineRef, report: Report): MediaBuilder {
  const m = MEDIA_LINE.exec(value);
  if (!m || Number(m[2]) > 65535) {
    report('SDP_MALFORMED_MEDIA', 'm= needs <media> <port>[/<count>] <proto> <fmt> ... with a port in 0..65535', 'RFC 8866 §5.14', line);
    const parts = value.split(' ');
    const port = /^\d+$/.test(parts[1] ?? '') ? Number(parts[1]) : -1;
    return mediaBuilder(index, line, parts[0] ?? '', port, parts[2] ?? '', parts.slice(3));
  }
  const builder = mediaBuilder(index, line, m[1]!, Number(m[2]), m[4]!, m[5]!.slice(1).split(' '));
  if (m[3] !== undefined) builder.portCount = Number(m[3]);
  const msrp = builder.type === 'message' && /^TCP\/(TLS\/)?MSRP$/i.test(builder.protocol);
  if (msrp && (builder.formats.length !== 1 || builder.formats[0] !== '*')) {
    report('MSRP_FORMAT_LIST', `MSRP m= line format list is "${builder.formats.join(' ')}", expected "*"`, 'RFC 4975 §8.1', line, 'warning');
  }
  return builder;
}

function parseAttribute(value: string, line: LineRef, level: Level, target: LevelAttributes, report: Report): void {
  const m = ATTRIBUTE.exec(value);
  if (!m) {
    report('SDP_MALFORMED_ATTRIBUTE', 'a= needs <attribute>[:<value>] with a token name', 'RFC 8866 §5.13', line);
    return;
  }
  const name = m[1]!;
  const attrValue = m[2];
  target.attributes.push(attrValue === undefined ? { offset: line.offset, bytes: line.bytes, name } : { offset: line.offset, bytes: line.bytes, name, value: attrValue });

  if (name === 'sendrecv' || name === 'sendonly' || name === 'recvonly' || name === 'inactive') {
    if (attrValue !== undefined) {
      report('SDP_MALFORMED_ATTRIBUTE', `a=${name} is a property attribute and takes no value`, 'RFC 8866 §6.7', line);
      return;
    }
    target.directions.push({ offset: line.offset, bytes: line.bytes, value: name, level });
    return;
  }
  switch (name) {
    case 'setup':
      if (attrValue === undefined || !(SETUP_VALUES as readonly string[]).includes(attrValue)) {
        report('SDP_SETUP_INVALID', `a=setup value "${attrValue ?? ''}" is not active, passive, actpass or holdconn`, 'RFC 4145 §4', line);
      }
      if (firstAt(target, 'setupRaw', name, level, line, report)) target.setupRaw = attrValue ?? '';
      break;
    default: {
      const msrp = msrpAttribute(name);
      if (msrp !== undefined) {
        const read = msrp.parse(attrValue);
        for (const problem of read.problems) report(problem.code, problem.message, msrp.clause, line);
        if (read.value !== undefined && firstAt(target, msrp.field, name, level, line, report)) (target as Partial<MsrpAttributeValues>)[msrp.field] = read.value as never;
        break;
      }
      // Only an attribute the harness does not know needs the walk over sdp-transform's rows.
      const rule = attributeRuleName(value);
      if (rule === undefined) {
        report('SDP_UNKNOWN_ATTRIBUTE', `attribute a=${name} is not understood (kept, not dropped)`, 'RFC 8866 §5.13', line, 'warning');
      } else if (rule === 'direction') {
        // sdp-transform's prefix regex reads e.g. "a=sendrecvx" as a=sendrecv.
        report('SDP_MALFORMED_ATTRIBUTE', `a=${name} is not a direction attribute (sdp-transform misreads it as one)`, 'RFC 8866 §6.7', line, 'warning');
      }
    }
  }
}

/** True for the first `field` at this level; a repeat is reported and ignored. */
function firstAt(target: LevelAttributes, field: keyof LevelAttributes, name: string, level: Level, line: LineRef, report: Report): boolean {
  if (target[field] === undefined) return true;
  report('SDP_DUPLICATE_ATTRIBUTE', `second a=${name} at ${level} level; the first one is used`, 'RFC 8866 §5.13', line, 'warning');
  return false;
}

function toView(m: MediaBuilder, session: LevelAttributes, sessionConnection: string | undefined): MediaView {
  const setupRaw = m.setupRaw ?? session.setupRaw;
  const setupLevel: Level | undefined = m.setupRaw !== undefined ? 'media' : session.setupRaw !== undefined ? 'session' : undefined;
  const view: {
    -readonly [K in keyof MediaView]: MediaView[K];
  } = {
    index: m.index,
    type: m.type,
    port: m.port,
    protocol: m.protocol,
    formats: m.formats,
    directions: m.directions,
    path: m.path ?? [],
    acceptTypes: m.acceptTypes ?? [],
    acceptWrappedTypes: m.acceptWrappedTypes ?? [],
    line: m.line,
    attributes: m.attributes,
  };
  if (m.portCount !== undefined) view.portCount = m.portCount;
  if (setupRaw !== undefined) {
    view.setupRaw = setupRaw;
    view.setupLevel = setupLevel!;
    if ((SETUP_VALUES as readonly string[]).includes(setupRaw)) view.setup = setupRaw as SetupValue;
  }
  if (m.maxSize !== undefined) view.maxSize = m.maxSize;
  const address = m.connectionAddress ?? sessionConnection;
  if (address !== undefined) view.connectionAddress = address;
  return view;
}

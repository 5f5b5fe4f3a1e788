/**
 * The ladder of one test case as data: one row per trace event of the harness side, in order,
 * on the lane of its protocol (SIP, MSRP, upper tester), with the time since the case started,
 * which way it went, and which verdicts it decided. The HTML report draws it; nothing here knows
 * about markup.
 */
import type { Diagnostic } from '../core/diagnostic.ts';
import { formatWallClock, type Endpoint, type Protocol, type TraceEvent } from '../core/trace.ts';
import { OUTCOMES_WORST_FIRST, type Outcome, type TestCaseResult } from '../verdict/verdict.ts';

export const LANE_ORDER: readonly Protocol[] = ['sip', 'msrp', 'ut'];

export interface LaneInfo {
  readonly protocol: Protocol;
  /** Harness-side addresses seen on this lane (PF, registrar, MSRP listener). */
  readonly harness: readonly string[];
  /** Client-side addresses seen on this lane. */
  readonly client: readonly string[];
}

export interface VerdictRef {
  readonly requirement: string;
  readonly outcome: Outcome;
}

export interface LadderRow {
  readonly seq: number;
  /** Milliseconds since the case started. */
  readonly atMs: number;
  readonly wallClock: string;
  readonly protocol: Protocol;
  readonly transport: string;
  readonly kind: 'message' | 'connection';
  /** Messages: `to-client` (the harness sent it) or `to-harness`; connection changes: `none`. */
  readonly flow: 'to-client' | 'to-harness' | 'none';
  readonly label: string;
  readonly local: string;
  readonly remote: string;
  readonly connectionId?: string;
  readonly bytes?: Buffer;
  readonly diagnostics: readonly Diagnostic[];
  /** Verdicts that cite this event as evidence. */
  readonly cites: readonly VerdictRef[];
  /**
   * The worst outcome among citing verdicts that is not a pass, informative or skipped one: this
   * message decided a verdict a person must look at.
   */
  readonly decisive?: Outcome;
}

export interface Ladder {
  readonly lanes: readonly LaneInfo[];
  readonly rows: readonly LadderRow[];
}

const QUIET: ReadonlySet<Outcome> = new Set<Outcome>(['pass', 'informative', 'skipped']);

export function endpointText(e: Endpoint): string {
  if (e.address === '' && e.port === 0) return '?';
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function worstOf(outcomes: readonly Outcome[]): Outcome | undefined {
  return OUTCOMES_WORST_FIRST.find((o) => outcomes.includes(o));
}

/** Events of the harness side only: the client's own trace (when recorded) would show each message twice. */
function harnessSide(e: TraceEvent): boolean {
  return e.actor !== 'client';
}

export function buildLadder(result: TestCaseResult): Ladder {
  const events = result.trace.filter(harnessSide);
  const cites = new Map<number, VerdictRef[]>();
  for (const v of result.verdicts) {
    for (const e of v.evidence) {
      const list = cites.get(e.seq) ?? [];
      if (!list.some((x) => x.requirement === v.requirement && x.outcome === v.outcome)) list.push({ requirement: v.requirement, outcome: v.outcome });
      cites.set(e.seq, list);
    }
  }
  // Times from the case start: the first event's wall clock places the monotonic clock on it.
  const caseStart = Date.parse(result.startedAt);
  const first = events[0];
  const offset = first && Number.isFinite(caseStart) ? Math.max(0, first.wallClockMs - caseStart) : 0;
  const rows: LadderRow[] = events.map((e) => {
    const cited = cites.get(e.seq) ?? [];
    const decisive = worstOf(cited.map((c) => c.outcome).filter((o) => !QUIET.has(o)));
    const common = {
      seq: e.seq,
      atMs: e.monotonicMs - first!.monotonicMs + offset,
      wallClock: formatWallClock(e),
      protocol: e.protocol,
      transport: e.transport,
      local: endpointText(e.local),
      remote: endpointText(e.remote),
      ...(e.connectionId === undefined ? {} : { connectionId: e.connectionId }),
      cites: cited,
      ...(decisive === undefined ? {} : { decisive }),
    };
    if (e.kind === 'message') {
      return { ...common, kind: 'message', flow: e.direction === 'out' ? 'to-client' : 'to-harness', label: e.summary, bytes: e.bytes, diagnostics: e.diagnostics };
    }
    return { ...common, kind: 'connection', flow: 'none', label: `${e.transport.toUpperCase()} ${e.state}: ${e.reason}`, ...(e.bytes && e.bytes.length > 0 ? { bytes: e.bytes } : {}), diagnostics: [] };
  });
  const lanes: LaneInfo[] = LANE_ORDER.filter((p) => events.some((e) => e.protocol === p)).map((protocol) => {
    const on = events.filter((e) => e.protocol === protocol);
    const distinct = (xs: string[]): string[] => [...new Set(xs.filter((x) => x !== '?' && !x.endsWith(':0')))];
    return { protocol, harness: distinct(on.map((e) => endpointText(e.local))), client: distinct(on.map((e) => endpointText(e.remote))) };
  });
  return { lanes, rows };
}

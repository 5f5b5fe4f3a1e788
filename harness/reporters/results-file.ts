/**
 * results.json, format `cpm-harness-results` version 1 (JSON Schema: docs/results.schema.json).
 * It carries everything the other reports are built from — verdicts, evidence, every traced byte
 * (base64) — so `cpm-harness merge` rebuilds JUnit, HTML, Markdown and JSON from shard files alone.
 * Pure: a RunReport in, text out; parsed data in, a RunReport out.
 */
import type { Diagnostic, Severity } from '../core/diagnostic.ts';
import { formatWallClock, type ConnectionState, type Direction, type Endpoint, type Protocol, type TraceEvent, type TransportKind } from '../core/trace.ts';
import type { RunConfig } from '../testcase/config.ts';
import type { Level } from '../verdict/requirements.ts';
import { totals, type Outcome, type TestCaseResult, type Verdict } from '../verdict/verdict.ts';
import type { CaseReport, RepeatSummary, RequirementInfo, RunReport, ShardSpec } from './run-report.ts';
import { reportFailed } from './run-report.ts';

export const RESULTS_FORMAT = 'cpm-harness-results';
export const RESULTS_SCHEMA_VERSION = 1;

export interface DiagnosticRecord {
  code: string;
  message: string;
  clause: string;
  severity: Severity;
  offset?: number;
  /** base64 */
  bytes: string;
}

interface EventRecordBase {
  seq: number;
  monotonicMs: number;
  /** ISO 8601 (the trace keeps ms since the epoch; the text is exact to the millisecond). */
  wallClock: string;
  protocol: Protocol;
  transport: TransportKind;
  local: Endpoint;
  remote: Endpoint;
  connectionId?: string;
  actor?: string;
}

export interface MessageEventRecord extends EventRecordBase {
  kind: 'message';
  direction: Direction;
  summary: string;
  /** base64 of exactly the bytes on the wire. */
  bytes: string;
  diagnostics: DiagnosticRecord[];
}

export interface ConnectionEventRecord extends EventRecordBase {
  kind: 'connection';
  state: ConnectionState;
  reason: string;
  bytes?: string;
}

export type EventRecord = MessageEventRecord | ConnectionEventRecord;

export interface EvidenceRecord {
  seq: number;
  summary: string;
  /** Only when the event is not in the case's trace (e.g. the trace was cut at its size limit). */
  event?: EventRecord;
}

export interface VerdictRecord {
  requirement: string;
  level: Level;
  outcome: Outcome;
  reason: string;
  marker?: 'V' | 'I' | 'U';
  /** The rule of the verdict table that decided it, when the verdict names one. */
  rule?: string;
  evidence: EvidenceRecord[];
}

export interface CaseRecord {
  id: string;
  title: string;
  group: string;
  purpose: string;
  requirements: string[];
  order: number;
  outcome: Outcome;
  startedAt: string;
  durationMs: number;
  skipReason?: string;
  error?: { message: string; stack?: string };
  notes: string[];
  verdicts: VerdictRecord[];
  repeat?: RepeatSummary;
  pcap?: string;
  trace: EventRecord[];
  /** Messages left out of `trace` once it reached traceBytesPerCase. */
  traceElided?: { messages: number; bytes: number };
}

export interface ResultsFile {
  format: typeof RESULTS_FORMAT;
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  tool: 'cpm-harness';
  version: string;
  client: string;
  transport: TransportKind;
  startedAt: string;
  wallMs: number;
  strict: boolean;
  repeat: number;
  shard?: ShardSpec;
  selected: number;
  interrupted?: string;
  mergedFrom?: string[];
  config: RunConfig;
  configDigest: string;
  requirements: RequirementInfo[];
  totals: Record<string, number>;
  /** The run's verdict under its own exit policy (strict included). */
  failed: boolean;
  cases: CaseRecord[];
}

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const unb64 = (text: string): Buffer => Buffer.from(text, 'base64');

function diagnosticRecord(d: Diagnostic): DiagnosticRecord {
  return { code: d.code, message: d.message, clause: d.clause, severity: d.severity, ...(d.offset === undefined ? {} : { offset: d.offset }), bytes: b64(d.bytes) };
}

export function eventRecord(e: TraceEvent): EventRecord {
  const base: EventRecordBase = {
    seq: e.seq,
    monotonicMs: e.monotonicMs,
    wallClock: formatWallClock(e),
    protocol: e.protocol,
    transport: e.transport,
    local: { address: e.local.address, port: e.local.port },
    remote: { address: e.remote.address, port: e.remote.port },
    ...(e.connectionId === undefined ? {} : { connectionId: e.connectionId }),
    ...(e.actor === undefined ? {} : { actor: e.actor }),
  };
  if (e.kind === 'message') return { ...base, kind: 'message', direction: e.direction, summary: e.summary, bytes: b64(e.bytes), diagnostics: e.diagnostics.map(diagnosticRecord) };
  return { ...base, kind: 'connection', state: e.state, reason: e.reason, ...(e.bytes === undefined ? {} : { bytes: b64(e.bytes) }) };
}

export function eventFromRecord(r: EventRecord): TraceEvent {
  const base = {
    seq: r.seq,
    monotonicMs: r.monotonicMs,
    wallClockMs: Date.parse(r.wallClock),
    protocol: r.protocol,
    transport: r.transport,
    local: r.local,
    remote: r.remote,
    ...(r.connectionId === undefined ? {} : { connectionId: r.connectionId }),
    ...(r.actor === undefined ? {} : { actor: r.actor }),
  };
  if (r.kind === 'message') {
    const diagnostics: Diagnostic[] = r.diagnostics.map((d) => ({ code: d.code, message: d.message, clause: d.clause, severity: d.severity, ...(d.offset === undefined ? {} : { offset: d.offset }), bytes: unb64(d.bytes) }));
    return { ...base, kind: 'message', direction: r.direction, summary: r.summary, bytes: unb64(r.bytes), diagnostics };
  }
  return { ...base, kind: 'connection', state: r.state, reason: r.reason, ...(r.bytes === undefined ? {} : { bytes: unb64(r.bytes) }) };
}

export function evidenceSummary(e: TraceEvent): string {
  return e.kind === 'message' ? `${e.direction === 'in' ? 'received' : 'sent'} ${e.summary}` : `connection ${e.state}: ${e.reason}`;
}

function verdictRecord(v: Verdict, traced: ReadonlySet<number>): VerdictRecord {
  const rule = (v as Verdict & { rule?: unknown }).rule;
  return {
    requirement: v.requirement,
    level: v.level,
    outcome: v.outcome,
    reason: v.reason,
    ...(v.marker === undefined ? {} : { marker: v.marker }),
    ...(typeof rule === 'string' ? { rule } : {}),
    evidence: v.evidence.map((e) => ({ seq: e.seq, summary: evidenceSummary(e), ...(traced.has(e.seq) ? {} : { event: eventRecord(e) }) })),
  };
}

function caseRecord(c: CaseReport): CaseRecord {
  const r = c.result;
  const traced = new Set(r.trace.map((e) => e.seq));
  return {
    id: r.id,
    title: r.title,
    group: r.group,
    purpose: c.purpose,
    requirements: [...r.requirements],
    order: c.order,
    outcome: r.outcome,
    startedAt: r.startedAt,
    durationMs: Math.round(r.durationMs * 1000) / 1000,
    ...(r.skipReason === undefined ? {} : { skipReason: r.skipReason }),
    ...(r.error === undefined ? {} : { error: { message: r.error.message, ...(r.error.stack === undefined ? {} : { stack: r.error.stack }) } }),
    notes: [...r.notes],
    verdicts: r.verdicts.map((v) => verdictRecord(v, traced)),
    ...(c.repeat === undefined ? {} : { repeat: c.repeat }),
    ...(c.pcap === undefined ? {} : { pcap: c.pcap }),
    trace: r.trace.map(eventRecord),
    ...(r.traceElided === undefined ? {} : { traceElided: { messages: r.traceElided.messages, bytes: r.traceElided.bytes } }),
  };
}

export function resultsRecord(report: RunReport): ResultsFile {
  const m = report.meta;
  const t = totals(report.cases.map((c) => c.result));
  return {
    format: RESULTS_FORMAT,
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: 'cpm-harness',
    version: m.version,
    client: m.client,
    transport: m.transport,
    startedAt: m.startedAt,
    wallMs: Math.round(m.wallMs),
    strict: m.strict,
    repeat: m.repeat,
    ...(m.shard ? { shard: { index: m.shard.index, count: m.shard.count } } : {}),
    selected: m.selected,
    ...(m.interrupted ? { interrupted: m.interrupted } : {}),
    ...(m.mergedFrom ? { mergedFrom: [...m.mergedFrom] } : {}),
    config: m.config,
    configDigest: m.configDigest,
    requirements: m.requirements.map((q) => ({ id: q.id, level: q.level, title: q.title })),
    totals: { ...t },
    failed: reportFailed(report),
    cases: report.cases.map(caseRecord),
  };
}

export function resultsJson(report: RunReport): string {
  return JSON.stringify(resultsRecord(report), null, 1);
}

function resultFromRecord(c: CaseRecord): TestCaseResult {
  const trace = c.trace.map(eventFromRecord);
  const bySeq = new Map(trace.map((e) => [e.seq, e]));
  const verdicts: Verdict[] = c.verdicts.map((v) => {
    const evidence = v.evidence.flatMap((x) => {
      const e = bySeq.get(x.seq) ?? (x.event ? eventFromRecord(x.event) : undefined);
      return e ? [e] : [];
    });
    return {
      requirement: v.requirement,
      level: v.level,
      outcome: v.outcome,
      reason: v.reason,
      evidence,
      ...(v.marker === undefined ? {} : { marker: v.marker }),
      ...(v.rule === undefined ? {} : { rule: v.rule }),
    } as Verdict;
  });
  return {
    id: c.id,
    title: c.title,
    group: c.group,
    requirements: c.requirements,
    outcome: c.outcome,
    verdicts,
    startedAt: c.startedAt,
    durationMs: c.durationMs,
    trace,
    notes: c.notes,
    ...(c.skipReason === undefined ? {} : { skipReason: c.skipReason }),
    ...(c.error === undefined ? {} : { error: c.error }),
    ...(c.traceElided === undefined ? {} : { traceElided: c.traceElided }),
  };
}

/** A schema-valid results file (validate it first) back into the report it was written from. */
export function reportFromRecord(file: ResultsFile): RunReport {
  return {
    meta: {
      version: file.version,
      client: file.client,
      transport: file.transport,
      startedAt: file.startedAt,
      wallMs: file.wallMs,
      config: file.config,
      configDigest: file.configDigest,
      strict: file.strict,
      repeat: file.repeat,
      ...(file.shard ? { shard: file.shard } : {}),
      selected: file.selected,
      ...(file.interrupted ? { interrupted: file.interrupted } : {}),
      ...(file.mergedFrom ? { mergedFrom: file.mergedFrom } : {}),
      requirements: file.requirements,
    },
    cases: file.cases.map((c) => ({
      result: resultFromRecord(c),
      purpose: c.purpose,
      order: c.order,
      ...(c.repeat ? { repeat: c.repeat } : {}),
      ...(c.pcap ? { pcap: c.pcap } : {}),
    })),
  };
}

/**
 * Trace events: every byte the harness sends or receives, and every connection change, as one
 * stream. Reports, pcap export and verdict evidence are all built from these, so a layer that does
 * I/O emits one event per message in each direction and one per connection state change.
 */
import { performance } from 'node:perf_hooks';
import type { Diagnostic } from './diagnostic.ts';

export type Protocol = 'sip' | 'msrp' | 'ut';
export type Direction = 'in' | 'out';
export type TransportKind = 'udp' | 'tcp';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** Where a SIP or MSRP peer listens: an endpoint and the transport to reach it over. */
export interface TransportAddress extends Endpoint {
  readonly transport: TransportKind;
}

interface TraceBase {
  /** Process-wide sequence number: total order of events. */
  readonly seq: number;
  /** `performance.now()` in ms: monotonic, for durations and windows. */
  readonly monotonicMs: number;
  /** Wall clock, ms since the epoch; `formatWallClock` gives the ISO 8601 text reports show. */
  readonly wallClockMs: number;
  readonly protocol: Protocol;
  readonly transport: TransportKind;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Stable id of the TCP connection (absent for UDP). */
  readonly connectionId?: string;
  /** Which component emitted it, e.g. `pf`, `client`. */
  readonly actor?: string;
}

export interface MessageTraceEvent extends TraceBase {
  readonly kind: 'message';
  readonly direction: Direction;
  /** Exactly the bytes on the wire for this message. */
  readonly bytes: Buffer;
  /** One line: `INVITE sip:…`, `SIP/2.0 488 Not Acceptable Here`, `MSRP a1b2 SEND`. */
  readonly summary: string;
  readonly diagnostics: readonly Diagnostic[];
  /** The parsed message (SipMessage, MsrpFrame …) when parsing produced one. */
  readonly parsed?: unknown;
}

export type ConnectionState = 'listening' | 'connected' | 'accepted' | 'closed' | 'reset' | 'error' | 'timeout' | 'garbage';

export interface ConnectionTraceEvent extends TraceBase {
  readonly kind: 'connection';
  readonly state: ConnectionState;
  /** Why: `peer closed the connection mid-chunk`, `ECONNREFUSED`, … */
  readonly reason: string;
  /** Bytes involved (e.g. unparsable garbage, a partial frame left at close). */
  readonly bytes?: Buffer;
}

export type TraceEvent = MessageTraceEvent | ConnectionTraceEvent;
export type TraceSink = (event: TraceEvent) => void;

let nextSeq = 1;

export type TraceFields<T extends TraceEvent> = Omit<T, 'seq' | 'monotonicMs' | 'wallClockMs'>;

/**
 * Stamps an event with sequence number and both clocks, as numbers: formatting a date per event
 * cost more than the event itself, and most traces are discarded or only partly reported.
 * `fields` must be a fresh object: it is stamped in place, not copied.
 */
export function stamp<T extends TraceEvent>(fields: TraceFields<T>): T {
  const event = fields as unknown as { seq: number; monotonicMs: number; wallClockMs: number };
  event.seq = nextSeq++;
  event.monotonicMs = performance.now();
  event.wallClockMs = Date.now();
  return fields as unknown as T;
}

/** `2024-05-06T09:15:03.412Z`: the wall clock of an event as reports print it. */
export function formatWallClock(event: { readonly wallClockMs: number }): string {
  return new Date(event.wallClockMs).toISOString();
}

export const discardTrace: TraceSink = () => {};

/** Sinks that want only connection events (a tap in front of a discarding trace). */
const CONNECTIONS_ONLY = new WeakSet<TraceSink>();

/** Marks `sink` as dropping every message event: emitters skip building those for it. Returns it. */
export function connectionsOnly(sink: TraceSink): TraceSink {
  CONNECTIONS_ONLY.add(sink);
  return sink;
}

/** True for the sink that drops everything: emitters skip building events for it. */
export function isDiscarding(sink: TraceSink): boolean {
  return sink === discardTrace;
}

/** True when `sink` drops message events (discardTrace, or a sink marked connectionsOnly). */
export function discardsMessages(sink: TraceSink): boolean {
  return sink === discardTrace || CONNECTIONS_ONLY.has(sink);
}

/** What a trace left out once it reached its byte budget (traceBytesPerCase). */
export interface TraceElided {
  /** Message events left out. */
  readonly messages: number;
  /** Their wire bytes. */
  readonly bytes: number;
}

/** What one event costs the budget: its bytes plus a fixed share for the event itself. */
const EVENT_OVERHEAD_BYTES = 64;

/**
 * Fan-out sink: collects events in order and forwards them to subscribers. With a byte budget
 * (traceBytesPerCase) it keeps events until the budget is spent and then only counts the messages
 * it leaves out (`elided`), so a client flooding a case cannot make its reports unbounded.
 */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  private readonly subscribers = new Set<TraceSink>();
  private readonly budgetBytes: number;
  private spent = 0;
  private elidedMessages = 0;
  private elidedBytes = 0;

  constructor(options: { budgetBytes?: number } = {}) {
    this.budgetBytes = options.budgetBytes ?? Number.POSITIVE_INFINITY;
  }

  readonly sink: TraceSink = (event) => {
    const cost = (event.bytes?.length ?? 0) + EVENT_OVERHEAD_BYTES;
    if (this.spent + cost > this.budgetBytes) {
      if (event.kind === 'message') {
        this.elidedMessages++;
        this.elidedBytes += event.bytes.length;
      }
      return;
    }
    this.spent += cost;
    this.events.push(event);
    for (const s of this.subscribers) s(event);
  };

  /** Messages left out once the budget was spent; undefined when nothing was. */
  get elided(): TraceElided | undefined {
    return this.elidedMessages === 0 ? undefined : { messages: this.elidedMessages, bytes: this.elidedBytes };
  }

  subscribe(sink: TraceSink): () => void {
    this.subscribers.add(sink);
    return () => this.subscribers.delete(sink);
  }

  /** Events with seq in [fromSeq, toSeq]. */
  slice(fromSeq: number, toSeq = Number.POSITIVE_INFINITY): TraceEvent[] {
    return this.events.filter((e) => e.seq >= fromSeq && e.seq <= toSeq);
  }

  get lastSeq(): number {
    return this.events.length === 0 ? 0 : this.events[this.events.length - 1]!.seq;
  }
}


/**
 * The human-readable ladder of a test case: every message the harness sent or received, in
 * order, with relative time, direction, addresses and the full text. This is what a person reads
 * in JUnit system-out to see why a verdict was given.
 */
import { printable } from '../core/diagnostic.ts';
import { formatDiagnostic } from '../core/diagnostic.ts';
import type { TraceElided, TraceEvent } from '../core/trace.ts';

export interface TraceTextOptions {
  /** Only events of this actor (the harness side), default: all. */
  actor?: string;
  /** Cap per message body dump, in bytes. */
  maxBytesPerMessage?: number;
  /** Monotonic origin for relative times (default: first event). */
  originMs?: number;
}

function addr(e: TraceEvent): string {
  return `${e.local.address}:${e.local.port} ${e.kind === 'message' && e.direction === 'in' ? '<-' : '->'} ${e.remote.address}:${e.remote.port}`;
}

/** Message bytes as text lines; non-printable bytes escaped so nothing is lost or hidden. */
export function wireText(bytes: Buffer, max: number): string {
  const shown = bytes.subarray(0, max);
  const lines = shown.toString('latin1').split('\r\n');
  const out = lines.map((line) => '    ' + printable(Buffer.from(line, 'latin1')));
  if (bytes.length > max) out.push(`    … ${bytes.length - max} more bytes`);
  return out.join('\n');
}

export function formatTraceEvent(e: TraceEvent, originMs: number, maxBytes: number): string {
  const t = `+${((e.monotonicMs - originMs) / 1000).toFixed(3)}s`;
  const who = e.actor ?? '?';
  const proto = `${e.protocol.toUpperCase()}/${e.transport.toUpperCase()}`;
  if (e.kind === 'connection') {
    return `[${t}] ${who} ${proto} ${addr(e)} connection ${e.state}: ${e.reason}` +
      (e.bytes && e.bytes.length > 0 ? `\n${wireText(e.bytes, maxBytes)}` : '');
  }
  const arrow = e.direction === 'out' ? 'SENT' : 'RECEIVED';
  const head = `[${t}] ${who} ${arrow} ${proto} ${addr(e)}${e.connectionId ? ` conn=${e.connectionId}` : ''}  ${e.summary}`;
  const diags = e.diagnostics.map((d) => `    !! ${formatDiagnostic(d)}`).join('\n');
  return `${head}\n${wireText(e.bytes, maxBytes)}${diags ? `\n${diags}` : ''}`;
}

export function formatTrace(events: readonly TraceEvent[], options: TraceTextOptions = {}): string {
  const selected = options.actor ? events.filter((e) => e.actor === options.actor) : events;
  if (selected.length === 0) return '(no messages)';
  const origin = options.originMs ?? selected[0]!.monotonicMs;
  const max = options.maxBytesPerMessage ?? 4096;
  return selected.map((e) => formatTraceEvent(e, origin, max)).join('\n');
}

/** What a trace cut at traceBytesPerCase left out: `N more messages, M bytes, elided`. */
export function elidedText(elided: TraceElided): string {
  return `… ${elided.messages} more message${elided.messages === 1 ? '' : 's'}, ${elided.bytes} bytes, elided (the trace reached traceBytesPerCase)`;
}

/** XML 1.0 forbids most control characters even in CDATA: escape them visibly instead of dropping them. */
export function xmlSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

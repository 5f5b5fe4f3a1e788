/**
 * pcap export speed: a typical case (the shape of msrp-deliver-chunked over SIP/TCP: two SIP
 * connections, one MSRP connection, ~30 messages) and a case carrying a 1 MB MSRP message, where
 * checksumming every payload octet is the cost.
 */
import { bench, type BenchResult } from './lib.ts';
import type { ConnectionTraceEvent, Endpoint, MessageTraceEvent, TraceEvent } from '../harness/core/trace.ts';
import { buildPcap } from '../harness/reporters/pcap.ts';

let seq = 0;
const T0 = Date.parse('2026-01-02T03:04:05.000Z');

function common(local: Endpoint, remote: Endpoint, connectionId: string, protocol: 'sip' | 'msrp') {
  seq++;
  return { seq, monotonicMs: seq * 0.3, wallClockMs: T0 + Math.floor(seq * 0.3), protocol, transport: 'tcp' as const, local, remote, connectionId, actor: 'pf' };
}

function message(local: Endpoint, remote: Endpoint, id: string, protocol: 'sip' | 'msrp', direction: 'in' | 'out', size: number): MessageTraceEvent {
  const bytes = Buffer.alloc(size, 'MSRP abc SEND\r\nTo-Path: msrp://127.0.0.1:1/x;tcp\r\n');
  return { ...common(local, remote, id, protocol), kind: 'message', direction, bytes, summary: '', diagnostics: [] };
}

function connection(local: Endpoint, remote: Endpoint, id: string, protocol: 'sip' | 'msrp', state: 'accepted' | 'connected' | 'closed'): ConnectionTraceEvent {
  return { ...common(local, remote, id, protocol), kind: 'connection', state, reason: state === 'closed' ? 'closed locally' : 'x' };
}

function typicalCase(msrpBody = 360): TraceEvent[] {
  const pf = { address: '127.0.0.1', port: 5060 };
  const reg = { address: '127.0.0.1', port: 41000 };
  const ua = { address: '127.0.0.1', port: 41001 };
  const pfMsrp = { address: '127.0.0.1', port: 7394 };
  const uaMsrp = { address: '127.0.0.1', port: 40000 };
  const events: TraceEvent[] = [
    connection(pf, reg, 'tcp-1', 'sip', 'accepted'),
    message(pf, reg, 'tcp-1', 'sip', 'in', 458),
    message(pf, reg, 'tcp-1', 'sip', 'out', 457),
    connection(pf, ua, 'tcp-2', 'sip', 'connected'),
    message(pf, ua, 'tcp-2', 'sip', 'out', 1205),
    message(pf, ua, 'tcp-2', 'sip', 'in', 810),
    message(pf, ua, 'tcp-2', 'sip', 'out', 344),
    connection(pfMsrp, uaMsrp, 'msrp-1', 'msrp', 'accepted'),
    message(pf, reg, 'tcp-1', 'sip', 'in', 536),
    message(pf, reg, 'tcp-1', 'sip', 'out', 354),
    message(pf, ua, 'tcp-2', 'sip', 'out', 1563),
  ];
  for (let i = 0; i < 8; i++) {
    events.push(message(pfMsrp, uaMsrp, 'msrp-1', 'msrp', 'out', i === 7 ? msrpBody : 360));
    events.push(message(pfMsrp, uaMsrp, 'msrp-1', 'msrp', 'in', 170));
  }
  events.push(
    message(pf, ua, 'tcp-2', 'sip', 'out', 344),
    message(pf, ua, 'tcp-2', 'sip', 'in', 276),
    connection(pfMsrp, uaMsrp, 'msrp-1', 'msrp', 'closed'),
    connection(pf, ua, 'tcp-2', 'sip', 'closed'),
    connection(pf, reg, 'tcp-1', 'sip', 'closed'),
  );
  return events;
}

function payloadOctets(events: readonly TraceEvent[]): number {
  return events.reduce((n, e) => n + (e.kind === 'message' ? e.bytes.length : 0), 0);
}

export async function run(): Promise<BenchResult[]> {
  const typical = typicalCase();
  const withMegabyte = typicalCase(1024 * 1024);
  return [
    bench(`pcap of a typical case (${typical.length} events, ${payloadOctets(typical)} octets)`, () => buildPcap(typical), { opsPerRound: 2000, bytesPerOp: payloadOctets(typical) }),
    bench(`pcap of a case with a 1 MB MSRP message (${payloadOctets(withMegabyte)} octets)`, () => buildPcap(withMegabyte), { opsPerRound: 40, bytesPerOp: payloadOctets(withMegabyte) }),
  ];
}

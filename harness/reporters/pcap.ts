/**
 * pcap export of a test case's trace: every SIP/MSRP message the harness sent or received becomes a
 * packet with synthesized Ethernet (or raw) / IPv4|IPv6 / UDP|TCP headers and correct checksums, so
 * an interop engineer can open any case in Wireshark. Pure: trace events in, file bytes out.
 *
 * TCP is reconstructed, not recorded: a SYN/SYN-ACK/ACK when a connection first appears, one
 * PSH|ACK segment per message (Wireshark's MSRP dissector decodes only the first PDU of a
 * segment), sequence numbers advancing by payload octets, FIN or RST when the connection ends.
 */
import { diagnostic, type Diagnostic } from '../core/diagnostic.ts';
import type { ConnectionTraceEvent, Endpoint, MessageTraceEvent, TraceEvent } from '../core/trace.ts';

export type PcapLinktype = 'ethernet' | 'raw';

export interface PcapOptions {
  /** Only events of this actor, default `pf` (the harness side, so each message appears once); `null`: every event. */
  actor?: string | null;
  /** `ethernet` (LINKTYPE_ETHERNET, default) or `raw` (LINKTYPE_RAW: packets start with the IP header). */
  linktype?: PcapLinktype;
}

export interface PcapBuild {
  readonly pcap: Buffer;
  /** Packet records written (synthesized handshakes and ACKs included). */
  readonly packets: number;
  /** Events that could not become packets (bad address, oversized datagram), one each. */
  readonly diagnostics: readonly Diagnostic[];
}

const LINKTYPE: Record<PcapLinktype, number> = { ethernet: 1, raw: 101 };
const SNAPLEN = 262_144;
/** Payload octets per TCP segment: a larger message is split so each IP packet stays under 65,535. */
export const MAX_TCP_PAYLOAD = 65_000;
const TCP_WINDOW = 65_535;
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const MAX_IP_LENGTH = 65_535;
const CLAUSE_ADDR = 'RFC 791 §3.1 / RFC 4291 §2.2';

type IpAddress = { readonly version: 4 | 6; readonly bytes: Buffer };

// ---------------------------------------------------------------------------------------------
// Checksums and addresses

/** RFC 1071 one's-complement sum of `data[start, end)`, folded into 16 bits, added to `initial`. */
function onesSum(data: Buffer, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (i < end) sum += data[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum (RFC 1071) of `data`: what goes in an IPv4, UDP or TCP checksum field. */
export function internetChecksum(data: Buffer): number {
  return ~onesSum(data, 0, data.length) & 0xffff;
}

function parseIpv4(text: string): Buffer | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]!)) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Buffer | null {
  const bare = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const halves = bare.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function parseIp(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { version: 6, bytes: v6 };
}

const V4_MAPPED_PREFIX = Buffer.from('00000000000000000000ffff', 'hex');

/** `::ffff:a.b.c.d` (how a dual-stack Node socket names an IPv4 peer) as the IPv4 address it is. */
function unmapped(ip: IpAddress): IpAddress {
  return ip.version === 6 && ip.bytes.subarray(0, 12).equals(V4_MAPPED_PREFIX) ? { version: 4, bytes: ip.bytes.subarray(12) } : ip;
}

interface AddressPair {
  readonly local: IpAddress;
  readonly remote: IpAddress;
  readonly localPort: number;
  readonly remotePort: number;
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 0xffff;
}

function addressPair(e: TraceEvent): AddressPair | Diagnostic {
  const local = parseIp(e.local.address);
  const remote = parseIp(e.remote.address);
  const bad = (end: Endpoint) => diagnostic('PCAP_BAD_ADDRESS', `event ${e.seq}: "${end.address}" is not an IPv4 or IPv6 address; event left out`, CLAUSE_ADDR, { bytes: end.address });
  if (local === null) return bad(e.local);
  if (remote === null) return bad(e.remote);
  if (!validPort(e.local.port) || !validPort(e.remote.port)) {
    return diagnostic('PCAP_BAD_PORT', `event ${e.seq}: port ${e.local.port}/${e.remote.port} out of range; event left out`, 'RFC 793 §3.1', { bytes: `${e.local.port} ${e.remote.port}` });
  }
  let l = local;
  let r = remote;
  if (l.version !== r.version || (l.version === 6 && unmapped(l).version === 4 && unmapped(r).version === 4)) {
    l = unmapped(l);
    r = unmapped(r);
  }
  if (l.version !== r.version) {
    return diagnostic('PCAP_MIXED_FAMILY', `event ${e.seq}: ${e.local.address} and ${e.remote.address} are of different address families; event left out`, CLAUSE_ADDR, { bytes: `${e.local.address} ${e.remote.address}` });
  }
  return { local: l, remote: r, localPort: e.local.port, remotePort: e.remote.port };
}

// ---------------------------------------------------------------------------------------------
// Frames

type Side = 'local' | 'remote';

const MAC: Record<Side, Buffer> = { local: Buffer.from('020000000001', 'hex'), remote: Buffer.from('020000000002', 'hex') };

class PcapWriter {
  readonly chunks: Buffer[] = [];
  packets = 0;
  private ipId = 1;
  private lastUs = 0;

  constructor(private readonly linktype: PcapLinktype) {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeInt32LE(0, 8); // thiszone: timestamps are UTC
    header.writeUInt32LE(0, 12); // sigfigs
    header.writeUInt32LE(SNAPLEN, 16);
    header.writeUInt32LE(LINKTYPE[linktype], 20);
    this.chunks.push(header);
  }

  /**
   * One packet: link header, IP header, `l4Header` (checksum field at `checksumAt` left zero) and
   * payload, with the transport checksum computed over the pseudo-header. Each packet is at least
   * 1 µs after the previous one, so synthesized packets keep their order in every viewer.
   */
  packet(atUs: number, from: Side, pair: AddressPair, protocol: number, l4Header: Buffer, checksumAt: number, payload: Buffer): void {
    const src = from === 'local' ? pair.local : pair.remote;
    const dst = from === 'local' ? pair.remote : pair.local;
    const link = this.linktype === 'ethernet' ? 14 : 0;
    const ipLen = src.version === 4 ? 20 : 40;
    const l4Len = l4Header.length + payload.length;
    const frame = Buffer.allocUnsafe(link + ipLen + l4Len);
    if (link > 0) {
      MAC[from === 'local' ? 'remote' : 'local'].copy(frame, 0);
      MAC[from].copy(frame, 6);
      frame.writeUInt16BE(src.version === 4 ? 0x0800 : 0x86dd, 12);
    }
    const ip = link;
    let pseudo: number;
    if (src.version === 4) {
      frame.writeUInt8(0x45, ip);
      frame.writeUInt8(0, ip + 1);
      frame.writeUInt16BE(ipLen + l4Len, ip + 2);
      frame.writeUInt16BE(this.ipId, ip + 4);
      this.ipId = (this.ipId + 1) & 0xffff;
      frame.writeUInt16BE(0x4000, ip + 6); // DF, no fragments
      frame.writeUInt8(64, ip + 8);
      frame.writeUInt8(protocol, ip + 9);
      frame.writeUInt16BE(0, ip + 10);
      src.bytes.copy(frame, ip + 12);
      dst.bytes.copy(frame, ip + 16);
      frame.writeUInt16BE(~onesSum(frame, ip, ip + 20) & 0xffff, ip + 10);
      pseudo = onesSum(src.bytes, 0, 4, onesSum(dst.bytes, 0, 4, protocol + l4Len));
    } else {
      frame.writeUInt32BE(0x60000000, ip);
      frame.writeUInt16BE(l4Len, ip + 4);
      frame.writeUInt8(protocol, ip + 6);
      frame.writeUInt8(64, ip + 7);
      src.bytes.copy(frame, ip + 8);
      dst.bytes.copy(frame, ip + 24);
      // RFC 8200 §8.1 pseudo-header: 32-bit upper-layer length, three zero octets, next header.
      pseudo = onesSum(src.bytes, 0, 16, onesSum(dst.bytes, 0, 16, (l4Len >>> 16) + (l4Len & 0xffff) + protocol));
    }
    const l4 = ip + ipLen;
    l4Header.copy(frame, l4);
    payload.copy(frame, l4 + l4Header.length);
    let checksum = ~onesSum(frame, l4, frame.length, pseudo) & 0xffff;
    // RFC 768: a computed UDP checksum of zero is sent as all ones (zero means "none").
    if (protocol === PROTO_UDP && checksum === 0) checksum = 0xffff;
    frame.writeUInt16BE(checksum, l4 + checksumAt);

    const us = Math.max(Math.round(atUs), this.lastUs + 1);
    this.lastUs = us;
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(us / 1e6) >>> 0, 0);
    record.writeUInt32LE(us % 1e6, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    this.chunks.push(record, frame);
    this.packets++;
  }
}

const EMPTY = Buffer.alloc(0);

function udpHeader(pair: AddressPair, from: Side, payloadLength: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(from === 'local' ? pair.localPort : pair.remotePort, 0);
  h.writeUInt16BE(from === 'local' ? pair.remotePort : pair.localPort, 2);
  h.writeUInt16BE(8 + payloadLength, 4);
  return h;
}

function tcpHeader(pair: AddressPair, from: Side, seq: number, ack: number, flags: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(from === 'local' ? pair.localPort : pair.remotePort, 0);
  h.writeUInt16BE(from === 'local' ? pair.remotePort : pair.localPort, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(flags & ACK ? ack >>> 0 : 0, 8);
  h.writeUInt8(5 << 4, 12);
  h.writeUInt8(flags, 13);
  h.writeUInt16BE(TCP_WINDOW, 14);
  return h;
}

// ---------------------------------------------------------------------------------------------
// TCP flows

interface TcpFlow {
  readonly pair: AddressPair;
  /** Next sequence number each side sends (mod 2^32). */
  readonly next: Record<Side, number>;
  /** Octets each side sent that the other has not acknowledged yet. */
  readonly unacked: Record<Side, number>;
  /** The last data received from the remote, to spot a `garbage` event repeating a message event. */
  lastInbound: Buffer | null;
}

function tupleKey(e: TraceEvent): string {
  return `${e.local.address}|${e.local.port}|${e.remote.address}|${e.remote.port}`;
}

const other = (side: Side): Side => (side === 'local' ? 'remote' : 'local');

class TcpFlows {
  private readonly open = new Map<string, TcpFlow>();
  private opened = 0;

  constructor(private readonly out: PcapWriter) {}

  static key(e: TraceEvent): string {
    return e.connectionId ?? tupleKey(e);
  }

  has(key: string): boolean {
    return this.open.has(key);
  }

  private send(flow: TcpFlow, at: number, from: Side, flags: number, payload: Buffer = EMPTY): void {
    const to = other(from);
    this.out.packet(at, from, flow.pair, PROTO_TCP, tcpHeader(flow.pair, from, flow.next[from], flow.next[to], flags), 16, payload);
    flow.next[from] = (flow.next[from] + payload.length + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
    flow.unacked[from] += payload.length;
    if (flags & ACK) flow.unacked[to] = 0;
  }

  /** The flow for `key`, opened with a three-way handshake started by `client` if it is new. */
  ensure(key: string, pair: AddressPair, client: Side, at: number): TcpFlow {
    const existing = this.open.get(key);
    if (existing) return existing;
    // Distinct, deterministic initial sequence numbers per connection and side.
    const base = (0x1000_0000 + this.opened++ * 0x0100_0000) >>> 0;
    const flow: TcpFlow = {
      pair,
      next: { local: client === 'local' ? base : base + 0x8000, remote: client === 'remote' ? base : base + 0x8000 },
      unacked: { local: 0, remote: 0 },
      lastInbound: null,
    };
    this.open.set(key, flow);
    this.send(flow, at, client, SYN);
    this.send(flow, at, other(client), SYN | ACK);
    this.send(flow, at, client, ACK);
    return flow;
  }

  /** One PSH|ACK segment per message (split above MAX_TCP_PAYLOAD); a pure ACK first if the window would overflow. */
  data(flow: TcpFlow, at: number, from: Side, bytes: Buffer): void {
    for (let offset = 0; offset < bytes.length; offset += MAX_TCP_PAYLOAD) {
      const segment = bytes.subarray(offset, offset + MAX_TCP_PAYLOAD);
      if (flow.unacked[from] + segment.length > TCP_WINDOW) this.send(flow, at, other(from), ACK);
      this.send(flow, at, from, PSH | ACK, segment);
    }
    flow.lastInbound = from === 'remote' ? bytes : null;
  }

  /** Orderly release: the closer's FIN, the peer's FIN, the closer's final ACK. */
  finish(key: string, at: number, closer: Side): void {
    const flow = this.open.get(key);
    if (!flow) return;
    this.send(flow, at, closer, FIN | ACK);
    this.send(flow, at, other(closer), FIN | ACK);
    this.send(flow, at, closer, ACK);
    this.open.delete(key);
  }

  reset(key: string, at: number, by: Side): void {
    const flow = this.open.get(key);
    if (!flow) return;
    this.send(flow, at, by, RST | ACK);
    this.open.delete(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/**
 * Packet time in µs since the epoch. wallClock has only millisecond resolution, so the sub-ms part
 * comes from the monotonic clock, anchored at a wall-clock reading; when the two disagree by a
 * millisecond or more (events from another process, a clock step) the wall clock wins.
 */
class Timeline {
  private anchor: { wallUs: number; monoMs: number } | null = null;
  private lastUs = 0;

  at(e: TraceEvent): number {
    const wallUs = e.wallClockMs * 1000;
    if (!Number.isFinite(wallUs)) return this.lastUs;
    const mono = Number.isFinite(e.monotonicMs) ? e.monotonicMs : null;
    let us = wallUs;
    if (this.anchor !== null && mono !== null) {
      const candidate = this.anchor.wallUs + (mono - this.anchor.monoMs) * 1000;
      if (candidate >= wallUs && candidate < wallUs + 1000) us = candidate;
      else this.anchor = { wallUs, monoMs: mono };
    } else if (mono !== null) this.anchor = { wallUs, monoMs: mono };
    this.lastUs = Math.max(this.lastUs, Math.round(us));
    return this.lastUs;
  }
}

// ---------------------------------------------------------------------------------------------
// Events → packets

function sender(direction: 'in' | 'out'): Side {
  return direction === 'out' ? 'local' : 'remote';
}

function messagePackets(e: MessageTraceEvent, pair: AddressPair, at: number, out: PcapWriter, flows: TcpFlows, lastUdpInbound: Map<string, Buffer>): Diagnostic | null {
  const from = sender(e.direction);
  if (e.transport === 'udp') return datagram(e, pair, at, from, e.bytes, out, lastUdpInbound);
  const flow = flows.ensure(TcpFlows.key(e), pair, from, at);
  flows.data(flow, at, from, e.bytes);
  return null;
}

function datagram(e: TraceEvent, pair: AddressPair, at: number, from: Side, bytes: Buffer, out: PcapWriter, lastUdpInbound: Map<string, Buffer>): Diagnostic | null {
  // IPv4 Total Length counts its own header; IPv6 Payload Length does not.
  const room = MAX_IP_LENGTH - 8 - (pair.local.version === 4 ? 20 : 0);
  if (bytes.length > room) {
    return diagnostic('PCAP_UDP_TOO_LARGE', `event ${e.seq}: ${bytes.length} octets do not fit one UDP datagram; event left out`, 'RFC 768; RFC 791 §3.1', { bytes: bytes.subarray(0, 64) });
  }
  out.packet(at, from, pair, PROTO_UDP, udpHeader(pair, from, bytes.length), 6, bytes);
  const key = tupleKey(e);
  if (from === 'remote') lastUdpInbound.set(key, bytes);
  else lastUdpInbound.delete(key);
  return null;
}

/** Connection events: handshake on connected/accepted, received leftover bytes, FIN on closed, RST on reset. */
function connectionPackets(e: ConnectionTraceEvent, pair: AddressPair, at: number, out: PcapWriter, flows: TcpFlows, lastUdpInbound: Map<string, Buffer>): Diagnostic | null {
  const bytes = e.bytes ?? EMPTY;
  if (e.transport === 'udp') {
    if (e.state !== 'garbage' || bytes.length === 0) return null;
    // The SIP transport reports an unparsable datagram twice: as a message and as garbage.
    const previous = lastUdpInbound.get(tupleKey(e));
    return previous?.equals(bytes) ? null : datagram(e, pair, at, 'remote', bytes, out, lastUdpInbound);
  }
  const key = TcpFlows.key(e);
  const locally = /locally/i.test(e.reason);
  switch (e.state) {
    case 'connected':
      flows.ensure(key, pair, 'local', at);
      return null;
    case 'accepted':
      flows.ensure(key, pair, 'remote', at);
      return null;
    case 'garbage':
    case 'closed':
    case 'reset':
    case 'error': {
      if (!flows.has(key) && bytes.length === 0) return null;
      const flow = flows.ensure(key, pair, 'remote', at);
      if (bytes.length > 0 && !(e.state === 'garbage' && flow.lastInbound?.equals(bytes))) flows.data(flow, at, 'remote', bytes);
      if (e.state === 'closed') flows.finish(key, at, locally ? 'local' : 'remote');
      else if (e.state === 'reset' || e.state === 'error') flows.reset(key, at, locally ? 'local' : 'remote');
      return null;
    }
    default:
      return null; // listening, timeout: no packet on the wire
  }
}

/** The pcap file and what could not be put in it. */
export function buildPcapWithDiagnostics(events: readonly TraceEvent[], options: PcapOptions = {}): PcapBuild {
  const actor = options.actor === undefined ? 'pf' : options.actor;
  const out = new PcapWriter(options.linktype ?? 'ethernet');
  const flows = new TcpFlows(out);
  const time = new Timeline();
  const lastUdpInbound = new Map<string, Buffer>();
  const diagnostics: Diagnostic[] = [];
  for (const e of events) {
    if (e.protocol === 'ut' || (actor !== null && e.actor !== actor)) continue;
    const at = time.at(e);
    if (e.kind === 'connection' && (e.state === 'listening' || e.state === 'timeout')) continue;
    if (e.kind === 'connection' && e.transport === 'tcp' && e.state === 'error' && !flows.has(TcpFlows.key(e))) continue;
    const pair = addressPair(e);
    if (!('local' in pair)) {
      diagnostics.push(pair);
      continue;
    }
    const problem = e.kind === 'message' ? messagePackets(e, pair, at, out, flows, lastUdpInbound) : connectionPackets(e, pair, at, out, flows, lastUdpInbound);
    if (problem !== null) diagnostics.push(problem);
  }
  return { pcap: Buffer.concat(out.chunks), packets: out.packets, diagnostics };
}

/** Classic pcap (magic a1b2c3d4, v2.4) of the events' SIP and MSRP traffic; events that cannot be packets are left out. */
export function buildPcap(events: readonly TraceEvent[], options: PcapOptions = {}): Buffer {
  return buildPcapWithDiagnostics(events, options).pcap;
}

/** Local TCP ports that carried MSRP: for `tshark -d tcp.port==N,msrp` (a pcap cannot say which ports are MSRP). */
export function msrpPorts(events: readonly TraceEvent[], options: Pick<PcapOptions, 'actor'> = {}): number[] {
  const actor = options.actor === undefined ? 'pf' : options.actor;
  const ports = new Set<number>();
  for (const e of events) {
    if (e.protocol === 'msrp' && e.transport === 'tcp' && (actor === null || e.actor === actor) && e.local.port > 0) ports.add(e.local.port);
  }
  return [...ports].sort((a, b) => a - b);
}

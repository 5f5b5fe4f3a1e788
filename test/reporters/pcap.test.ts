/**
 * The pcap writer, proved two ways: a small independent reader checks the file structure, header
 * fields, checksums and TCP sequence arithmetic; tshark checks that Wireshark decodes the same
 * SIP and MSRP messages, in the same order, with every checksum good — on hand-built traces and on
 * the trace of a real run against the reference client.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startParticipatingFunction } from '../../harness/cli/run-command.ts';
import { discardTrace, type ConnectionState, type ConnectionTraceEvent, type Endpoint, type MessageTraceEvent, type Protocol, type TraceEvent, type TransportKind } from '../../harness/core/trace.ts';
import { createReferenceClientFactory } from '../../harness/reference-client/factory.ts';
import { buildPcap, buildPcapWithDiagnostics, internetChecksum, MAX_TCP_PAYLOAD, msrpPorts, type PcapLinktype } from '../../harness/reporters/pcap.ts';
import { runSuite } from '../../harness/runner/runner.ts';
import { builtinConfig } from '../../harness/testcase/config.ts';
import { CATALOGUE } from '../../scenarios/index.ts';

// ---------------------------------------------------------------------------------------------
// Hand-built trace events

const T0 = Date.parse('2026-01-02T03:04:05.000Z');
let seq = 0;

function at(ms: number): { seq: number; monotonicMs: number; wallClockMs: number } {
  seq++;
  return { seq, monotonicMs: 1000 + ms, wallClockMs: T0 + Math.floor(ms) };
}

interface Where {
  protocol?: Protocol;
  transport?: TransportKind;
  local: Endpoint;
  remote: Endpoint;
  connectionId?: string;
  actor?: string;
}

/** Fields every trace event of this flow shares. */
function base(ms: number, where: Where) {
  return {
    ...at(ms),
    protocol: where.protocol ?? 'sip',
    transport: where.transport ?? 'tcp',
    local: where.local,
    remote: where.remote,
    ...(where.connectionId === undefined ? {} : { connectionId: where.connectionId }),
    actor: where.actor ?? 'pf',
  } as const;
}

function msg(ms: number, where: Where, direction: 'in' | 'out', bytes: Buffer | string): MessageTraceEvent {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  return {
    ...base(ms, where),
    kind: 'message',
    direction,
    bytes: b,
    summary: b.subarray(0, b.indexOf('\r\n')).toString('latin1'),
    diagnostics: [],
  };
}

function conn(ms: number, where: Where, state: ConnectionState, reason: string, bytes?: Buffer): ConnectionTraceEvent {
  return {
    ...base(ms, where),
    kind: 'connection',
    state,
    reason,
    ...(bytes === undefined ? {} : { bytes }),
  };
}

function sipRequest(method: string, callId: string, body = ''): string {
  return (
    `${method} sip:+15551230002@127.0.0.1:5070;transport=tcp SIP/2.0\r\n` +
    `Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK${callId}${method}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:pf@example.net>;tag=pf1\r\nTo: <sip:+15551230002@example.net>\r\n` +
    `Call-ID: ${callId}\r\nCSeq: 1 ${method}\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`
  );
}

function sipResponse(code: number, reason: string, method: string, callId: string): string {
  return (
    `SIP/2.0 ${code} ${reason}\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK${callId}${method}\r\n` +
    `From: <sip:pf@example.net>;tag=pf1\r\nTo: <sip:+15551230002@example.net>;tag=c1\r\nCall-ID: ${callId}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`
  );
}

function msrpSend(tid: string, body: Buffer, range: string): Buffer {
  const head =
    `MSRP ${tid} SEND\r\nTo-Path: msrp://127.0.0.1:40000/cl1;tcp\r\nFrom-Path: msrp://127.0.0.1:7394/pf1;tcp\r\n` +
    `Message-ID: m${tid}\r\nByte-Range: ${range}\r\nContent-Type: text/plain\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from(`\r\n-------${tid}$\r\n`, 'latin1')]);
}

function msrpOk(tid: string): Buffer {
  return Buffer.from(`MSRP ${tid} 200 OK\r\nTo-Path: msrp://127.0.0.1:7394/pf1;tcp\r\nFrom-Path: msrp://127.0.0.1:40000/cl1;tcp\r\n-------${tid}$\r\n`, 'latin1');
}

const V4_SIP: Where = { local: { address: '127.0.0.1', port: 5060 }, remote: { address: '127.0.0.1', port: 41000 }, connectionId: 'tcp-1' };
const V4_UDP: Where = { transport: 'udp', local: { address: '127.0.0.1', port: 5060 }, remote: { address: '127.0.0.1', port: 5070 } };
const V6_SIP: Where = { local: { address: '::1', port: 5060 }, remote: { address: '::1', port: 41001 }, connectionId: 'tcp-2' };
const V6_UDP: Where = { transport: 'udp', local: { address: '::1', port: 5060 }, remote: { address: '::1', port: 5070 } };
const MSRP: Where = { protocol: 'msrp', local: { address: '127.0.0.1', port: 7394 }, remote: { address: '127.0.0.1', port: 40000 }, connectionId: 'msrp-1' };

const bigBody = Buffer.alloc(150_000, 'abcdefghij');

/** A little of everything that must decode cleanly: IPv4 and IPv6, UDP and TCP, SIP and MSRP, a 150 kB MSRP SEND. */
function mixedTrace(): TraceEvent[] {
  return [
    msg(0, V4_UDP, 'in', sipRequest('REGISTER', 'reg1')),
    msg(0.4, V4_UDP, 'out', sipResponse(200, 'OK', 'REGISTER', 'reg1')),
    conn(1, V4_SIP, 'connected', 'outbound connection established'),
    msg(1.2, V4_SIP, 'out', sipRequest('INVITE', 'inv1', 'v=0\r\n')),
    msg(3, V4_SIP, 'in', sipResponse(200, 'OK', 'INVITE', 'inv1')),
    msg(3.5, V4_SIP, 'out', sipRequest('ACK', 'inv1')),
    conn(4, { ...MSRP, protocol: 'msrp', remote: { address: '', port: 0 }, connectionId: undefined }, 'listening', 'listening for msrp://127.0.0.1:7394/pf1;tcp'),
    conn(5, MSRP, 'accepted', 'incoming TCP connection'),
    msg(5.5, MSRP, 'in', msrpSend('t1', Buffer.from('hello'), '1-5/5')),
    msg(5.6, MSRP, 'out', msrpOk('t1')),
    msg(6, MSRP, 'out', msrpSend('t2', bigBody, `1-${bigBody.length}/${bigBody.length}`)),
    msg(7, MSRP, 'in', msrpOk('t2')),
    msg(8, V6_UDP, 'out', sipRequest('OPTIONS', 'opt6')),
    msg(8.5, V6_UDP, 'in', sipResponse(200, 'OK', 'OPTIONS', 'opt6')),
    conn(9, V6_SIP, 'accepted', 'inbound connection accepted'),
    msg(9.5, V6_SIP, 'in', sipRequest('SUBSCRIBE', 'sub6')),
    msg(9.9, V6_SIP, 'out', sipResponse(200, 'OK', 'SUBSCRIBE', 'sub6')),
    { ...msg(10, { ...V4_SIP, actor: 'client' }, 'in', sipRequest('MESSAGE', 'clientside')) },
    { ...msg(10, { ...V4_UDP, protocol: 'ut' }, 'out', 'POST /queue HTTP/1.1\r\n\r\n') },
    conn(11, MSRP, 'closed', 'peer closed the connection'),
    conn(12, V6_SIP, 'closed', 'closed locally'),
    conn(12.5, V4_SIP, 'closed', 'peer closed the connection'),
  ];
}

// ---------------------------------------------------------------------------------------------
// An independent reader (only what the checks need)

interface Packet {
  tsUs: number;
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  protocol: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
  ipChecksumOk: boolean;
  l4ChecksumOk: boolean;
  udpLength?: number;
}

function sum16(buffers: Buffer[]): number {
  let s = 0;
  for (const b of buffers) {
    for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  }
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function readPcap(file: Buffer): { linktype: number; snaplen: number; packets: Packet[] } {
  expect(file.readUInt32LE(0)).to.equal(0xa1b2c3d4);
  expect([file.readUInt16LE(4), file.readUInt16LE(6)]).to.deep.equal([2, 4]);
  const snaplen = file.readUInt32LE(16);
  const linktype = file.readUInt32LE(20);
  const packets: Packet[] = [];
  for (let at = 24; at < file.length; ) {
    const tsUs = file.readUInt32LE(at) * 1e6 + file.readUInt32LE(at + 4);
    const incl = file.readUInt32LE(at + 8);
    expect(file.readUInt32LE(at + 12), 'orig_len').to.equal(incl);
    let frame = file.subarray(at + 16, at + 16 + incl);
    expect(frame.length, 'record fits the file').to.equal(incl);
    at += 16 + incl;
    if (linktype === 1) {
      const type = frame.readUInt16BE(12);
      frame = frame.subarray(14);
      expect(type).to.equal(frame[0]! >> 4 === 4 ? 0x0800 : 0x86dd);
    }
    const version = (frame[0]! >> 4) as 4 | 6;
    let l4: Buffer;
    let pseudo: Buffer;
    let protocol: number;
    let src: Buffer;
    let dst: Buffer;
    let ipChecksumOk = true;
    if (version === 4) {
      expect(frame.readUInt16BE(2), 'IPv4 total length').to.equal(frame.length);
      ipChecksumOk = sum16([frame.subarray(0, 20)]) === 0xffff;
      protocol = frame[9]!;
      src = frame.subarray(12, 16);
      dst = frame.subarray(16, 20);
      l4 = frame.subarray(20);
      pseudo = Buffer.concat([src, dst, Buffer.from([0, protocol, l4.length >> 8, l4.length & 0xff])]);
    } else {
      expect(frame.readUInt16BE(4), 'IPv6 payload length').to.equal(frame.length - 40);
      protocol = frame[6]!;
      src = frame.subarray(8, 24);
      dst = frame.subarray(24, 40);
      l4 = frame.subarray(40);
      const len = Buffer.alloc(8);
      len.writeUInt32BE(l4.length, 0);
      len[7] = protocol;
      pseudo = Buffer.concat([src, dst, len]);
    }
    const l4ChecksumOk = sum16([pseudo, l4]) === 0xffff;
    const text = (b: Buffer) => (b.length === 4 ? [...b].join('.') : b.toString('hex'));
    const base = { tsUs, ipVersion: version, src: text(src), dst: text(dst), protocol, srcPort: l4.readUInt16BE(0), dstPort: l4.readUInt16BE(2), ipChecksumOk, l4ChecksumOk };
    if (protocol === 17) packets.push({ ...base, seq: 0, ack: 0, flags: 0, payload: l4.subarray(8), udpLength: l4.readUInt16BE(4) });
    else packets.push({ ...base, seq: l4.readUInt32BE(4), ack: l4.readUInt32BE(8), flags: l4[13]!, payload: l4.subarray((l4[12]! >> 4) * 4) });
  }
  return { linktype, snaplen, packets };
}

const SYN = 0x02;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

// ---------------------------------------------------------------------------------------------

describe('pcap writer', () => {
  it('computes the RFC 1071 Internet checksum (golden IPv4 header)', () => {
    const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    expect(internetChecksum(header)).to.equal(0xb861);
    expect(internetChecksum(Buffer.from([0x01]))).to.equal(0xfeff); // odd length pads with a zero octet
  });

  it('writes a classic pcap header: magic a1b2c3d4, v2.4, snaplen 262144, Ethernet or raw', () => {
    for (const [linktype, code] of [['ethernet', 1], ['raw', 101]] as const) {
      const file = buildPcap([], { linktype });
      expect(file.length).to.equal(24);
      const read = readPcap(file);
      expect([read.linktype, read.snaplen]).to.deep.equal([code, 262_144]);
    }
    expect(readPcap(buildPcap([])).linktype, 'default').to.equal(1);
  });

  for (const linktype of ['ethernet', 'raw'] as const) {
    it(`${linktype}: every IPv4, IPv6, UDP and TCP checksum and length is right`, () => {
      const { packets } = readPcap(buildPcap(mixedTrace(), { linktype }));
      expect(packets.length).to.be.greaterThan(20);
      for (const [i, p] of packets.entries()) {
        expect(p.ipChecksumOk, `packet ${i + 1} IPv4 header checksum`).to.equal(true);
        expect(p.l4ChecksumOk, `packet ${i + 1} ${p.protocol === 6 ? 'TCP' : 'UDP'} checksum`).to.equal(true);
        if (p.udpLength !== undefined) expect(p.udpLength).to.equal(8 + p.payload.length);
      }
      expect(new Set(packets.map((p) => p.ipVersion))).to.deep.equal(new Set([4, 6]));
    });
  }

  it('puts each message in order, once, with the harness side only (actor pf) and no ut traffic', () => {
    const trace = mixedTrace();
    const { packets } = readPcap(buildPcap(trace));
    const data = packets.filter((p) => p.payload.length > 0);
    const joined = Buffer.concat(data.map((p) => p.payload));
    const expected = trace.filter((e): e is MessageTraceEvent => e.kind === 'message' && e.actor === 'pf' && e.protocol !== 'ut');
    expect(joined.equals(Buffer.concat(expected.map((e) => e.bytes))), 'payload bytes, in order').to.equal(true);
    expect(joined.includes('clientside')).to.equal(false);
    const all = readPcap(buildPcap(trace, { actor: null })).packets;
    expect(Buffer.concat(all.map((p) => p.payload)).includes('clientside'), 'actor: null keeps every side').to.equal(true);
  });

  it('direction: out is local→remote, in is remote→local', () => {
    const { packets } = readPcap(buildPcap([msg(0, V4_UDP, 'in', sipRequest('REGISTER', 'a')), msg(1, V4_UDP, 'out', sipResponse(200, 'OK', 'REGISTER', 'a'))]));
    expect(packets.map((p) => [p.srcPort, p.dstPort])).to.deep.equal([[5070, 5060], [5060, 5070]]);
  });

  it('synthesizes SYN/SYN-ACK/ACK, advances seq/ack by payload octets, and closes with FIN from the closer', () => {
    const trace = [
      conn(0, V4_SIP, 'accepted', 'inbound connection accepted'),
      msg(1, V4_SIP, 'in', sipRequest('REGISTER', 'r')),
      msg(2, V4_SIP, 'out', sipResponse(200, 'OK', 'REGISTER', 'r')),
      conn(3, V4_SIP, 'closed', 'closed locally'),
    ];
    const p = readPcap(buildPcap(trace)).packets;
    const fromRemote = (x: Packet) => x.srcPort === 41000;
    expect(p.map((x) => [fromRemote(x) ? 'R' : 'L', x.flags])).to.deep.equal([
      ['R', SYN], ['L', SYN | ACK], ['R', ACK], ['R', PSH | ACK], ['L', PSH | ACK], ['L', FIN | ACK], ['R', FIN | ACK], ['L', ACK],
    ]);
    const [syn, synAck, ack, req, resp, fin1, fin2, last] = p as [Packet, Packet, Packet, Packet, Packet, Packet, Packet, Packet];
    const isnR = syn.seq;
    const isnL = synAck.seq;
    expect(synAck.ack).to.equal(isnR + 1);
    expect([ack.seq, ack.ack]).to.deep.equal([isnR + 1, isnL + 1]);
    expect([req.seq, req.ack]).to.deep.equal([isnR + 1, isnL + 1]);
    expect([resp.seq, resp.ack]).to.deep.equal([isnL + 1, isnR + 1 + req.payload.length]);
    expect([fin1.seq, fin1.ack]).to.deep.equal([isnL + 1 + resp.payload.length, isnR + 1 + req.payload.length]);
    expect([fin2.seq, fin2.ack]).to.deep.equal([isnR + 1 + req.payload.length, fin1.seq + 1]);
    expect([last.seq, last.ack]).to.deep.equal([fin1.seq + 1, fin2.seq + 1]);
  });

  it('an outbound connection starts with the harness SYN; a message on an unseen connection gets a handshake too', () => {
    const out = readPcap(buildPcap([conn(0, V4_SIP, 'connected', 'outbound connection established')])).packets;
    expect(out.map((x) => [x.srcPort, x.flags])).to.deep.equal([[5060, SYN], [41000, SYN | ACK], [5060, ACK]]);
    const unseen = readPcap(buildPcap([msg(0, V4_SIP, 'in', sipRequest('OPTIONS', 'o'))])).packets;
    expect(unseen.map((x) => [x.srcPort, x.flags])).to.deep.equal([[41000, SYN], [5060, SYN | ACK], [41000, ACK], [41000, PSH | ACK]]);
  });

  it('ends a reset connection with RST from the peer, after the partial bytes it left', () => {
    const partial = Buffer.from('MSRP t9 SEND\r\nTo-Path: msrp://x', 'latin1');
    const p = readPcap(buildPcap([conn(0, MSRP, 'accepted', 'incoming'), conn(1, MSRP, 'reset', 'peer reset the connection mid-chunk (31 bytes)', partial)])).packets;
    expect(p.slice(3).map((x) => [x.srcPort, x.flags])).to.deep.equal([[40000, PSH | ACK], [40000, RST | ACK]]);
    expect(p[3]!.payload.equals(partial)).to.equal(true);
    expect(p[4]!.seq).to.equal(p[3]!.seq + partial.length);
  });

  it('includes garbage bytes once: MSRP garbage alone is data, SIP garbage repeating its message event is not doubled', () => {
    const junk = Buffer.from('\x00\x01junk\r\n\r\n', 'latin1');
    const msrp = readPcap(buildPcap([conn(0, MSRP, 'accepted', 'x'), conn(1, MSRP, 'garbage', 'MSRP_START_LINE', junk)])).packets;
    expect(msrp.filter((x) => x.payload.length > 0).map((x) => x.payload.toString('latin1'))).to.deep.equal([junk.toString('latin1')]);
    for (const where of [V4_SIP, V4_UDP]) {
      const sip = readPcap(buildPcap([msg(0, where, 'in', junk), conn(0.1, where, 'garbage', 'not SIP', junk)])).packets;
      expect(sip.filter((x) => x.payload.length > 0), where.transport ?? 'tcp').to.have.length(1);
    }
  });

  it(`splits a message above ${MAX_TCP_PAYLOAD} octets into segments, with a peer ACK before the window would overflow`, () => {
    const big = msrpSend('big', bigBody, `1-${bigBody.length}/${bigBody.length}`);
    const p = readPcap(buildPcap([conn(0, MSRP, 'accepted', 'x'), msg(1, MSRP, 'out', big)])).packets.slice(3);
    expect(p.map((x) => [x.srcPort, x.flags, x.payload.length])).to.deep.equal([
      [7394, PSH | ACK, 65_000], [40000, ACK, 0], [7394, PSH | ACK, 65_000], [40000, ACK, 0], [7394, PSH | ACK, big.length - 130_000],
    ]);
    expect(Buffer.concat(p.map((x) => x.payload)).equals(big)).to.equal(true);
    expect(p[2]!.seq).to.equal(p[0]!.seq + 65_000);
    expect(p[1]!.ack).to.equal(p[0]!.seq + 65_000);
  });

  it('stamps packets in µs from wallClock, refined by the monotonic clock, strictly increasing', () => {
    const p = readPcap(buildPcap([msg(0, V4_UDP, 'in', 'a'), msg(0.25, V4_UDP, 'out', 'b'), msg(0.25, V4_UDP, 'out', 'c'), conn(2.5, V4_SIP, 'connected', 'x')])).packets;
    expect(p.map((x) => x.tsUs - T0 * 1000)).to.deep.equal([0, 250, 251, 2500, 2501, 2502]);
  });

  it('maps ::ffff:a.b.c.d to IPv4, writes ::1 as IPv6, and reports (never throws on) an unusable address', () => {
    const mapped = readPcap(buildPcap([msg(0, { ...V4_UDP, local: { address: '::ffff:127.0.0.1', port: 5060 } }, 'in', 'x')])).packets;
    expect([mapped[0]!.ipVersion, mapped[0]!.src, mapped[0]!.dst]).to.deep.equal([4, '127.0.0.1', '127.0.0.1']);
    const v6 = readPcap(buildPcap([msg(0, { ...V6_UDP, remote: { address: 'fe80::1%lo', port: 5070 } }, 'in', 'x')])).packets;
    expect([v6[0]!.src, v6[0]!.dst]).to.deep.equal(['fe800000000000000000000000000001', '00000000000000000000000000000001']);
    const bad = buildPcapWithDiagnostics([
      msg(0, { ...V4_UDP, remote: { address: 'client.example', port: 5070 } }, 'in', 'x'),
      msg(1, { ...V4_UDP, remote: { address: '::1', port: 5070 } }, 'in', 'x'),
      msg(2, { ...V4_UDP, remote: { address: '127.0.0.1', port: 70000 } }, 'in', 'x'),
      msg(3, V4_UDP, 'out', Buffer.alloc(65_508)),
      msg(4, V4_UDP, 'out', 'kept'),
    ]);
    expect(bad.diagnostics.map((d) => d.code)).to.deep.equal(['PCAP_BAD_ADDRESS', 'PCAP_MIXED_FAMILY', 'PCAP_BAD_PORT', 'PCAP_UDP_TOO_LARGE']);
    expect(bad.diagnostics[0]!.bytes.toString()).to.equal('client.example');
    expect(bad.packets).to.equal(1);
  });

  it('names the local MSRP ports for tshark -d tcp.port==N,msrp', () => {
    expect(msrpPorts(mixedTrace())).to.deep.equal([7394]);
  });
});

// ---------------------------------------------------------------------------------------------
// tshark

function tsharkMissing(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).error !== undefined;
}

const CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];

function tshark(file: string, msrp: number[], args: string[]): string[] {
  const decode = msrp.flatMap((p) => ['-d', `tcp.port==${p},msrp`]);
  const out = execFileSync('tshark', ['-r', file, ...CHECKSUMS, ...decode, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  return out.split('\n').filter((l) => l.length > 0);
}

/**
 * Wireshark 4.0.17's MSRP dissector throws ("Malformed Packet: MSRP") on some valid chunks: a
 * middle chunk of a message/cpim body whose first body line holds a `;` (`t/plain; charset=…`).
 * The same bytes give the same report in a pcap from shared/tools/pcap/synth_pcap.py, so it is
 * the dissector, not the file; MSRP framing is checked field by field below instead.
 */
const EXPERT_PROBLEMS = '_ws.expert.severity >= warning && !(msrp && _ws.malformed)';
const BAD_CHECKSUM = 'ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0';

function startLine(bytes: Buffer): string[] {
  const end = bytes.indexOf('\r\n');
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1').split(' ');
}

/** What tshark should say about each SIP message: method or status code, and Call-ID. */
function expectedSip(e: MessageTraceEvent): string {
  const [first, second] = startLine(e.bytes);
  const callId = /^(?:Call-ID|i)[ \t]*:[ \t]*(.*?)\r$/im.exec(e.bytes.toString('latin1'))?.[1] ?? '';
  return first === 'SIP/2.0' ? `|${second}|${callId}` : `${first}||${callId}`;
}

/** For each MSRP message: method (requests), status code (responses), transaction id, Byte-Range. */
function expectedMsrp(e: MessageTraceEvent): string {
  const [, tid, third] = startLine(e.bytes);
  const range = /^Byte-Range:[ \t]*(.*?)\r$/im.exec(e.bytes.subarray(0, e.bytes.indexOf('\r\n\r\n') < 0 ? 200 : e.bytes.indexOf('\r\n\r\n') + 2).toString('latin1'))?.[1] ?? '';
  return /^\d{3}$/.test(third ?? '') ? `|${third}|${tid}|${range}` : `${third}||${tid}|${range}`;
}

function checkWithTshark(dir: string, name: string, events: readonly TraceEvent[], linktype: PcapLinktype): void {
  const file = join(dir, `${name}-${linktype}.pcap`);
  writeFileSync(file, buildPcap(events, { linktype }));
  const ports = msrpPorts(events);
  expect(tshark(file, ports, ['-Y', BAD_CHECKSUM]), `${name}: bad checksums`).to.deep.equal([]);
  expect(tshark(file, ports, ['-Y', EXPERT_PROBLEMS]), `${name}: expert warnings/errors`).to.deep.equal([]);
  const harness = events.filter((e): e is MessageTraceEvent => e.kind === 'message' && e.actor === 'pf');
  const fields = ['-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f'];
  const sip = tshark(file, ports, ['-Y', 'sip', ...fields, '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sip.Call-ID']);
  expect(sip, `${name}: SIP, message for message`).to.deep.equal(harness.filter((e) => e.protocol === 'sip').map(expectedSip));
  const msrp = tshark(file, ports, ['-Y', 'msrp', ...fields, '-e', 'msrp.method', '-e', 'msrp.status.code', '-e', 'msrp.transaction.id', '-e', 'msrp.byte.range']);
  expect(msrp, `${name}: MSRP, message for message`).to.deep.equal(harness.filter((e) => e.protocol === 'msrp').map(expectedMsrp));
}

describe('pcap writer, checked by tshark', function () {
  this.timeout(60_000);
  let dir: string;
  const realTraces: { name: string; events: readonly TraceEvent[] }[] = [];

  before(async function () {
    if (tsharkMissing()) {
      if (process.env.CI === 'true') throw new Error('tshark not installed; CI must install it (Debian tshark)');
      this.skip(); // tshark (Debian package tshark) is not installed on this machine
    }
    dir = mkdtempSync(join(tmpdir(), 'cpm-pcap-'));
    const cases = CATALOGUE.filter((c) => c.id === 'inv-dir-media-sendonly' || c.id === 'msrp-deliver-chunked');
    expect(cases, 'the two catalogue cases exist').to.have.length(2);
    for (const transport of ['tcp', 'udp'] as const) {
      const results = await runSuite({ cases, client: createReferenceClientFactory({ trace: discardTrace }), config: builtinConfig(transport), startPf: startParticipatingFunction });
      for (const r of results) realTraces.push({ name: `${transport}-${r.id}`, events: r.trace });
    }
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const linktype of ['ethernet', 'raw'] as const) {
    it(`${linktype}: a hand-built IPv4/IPv6, UDP/TCP, SIP/MSRP trace decodes message for message`, () => {
      checkWithTshark(dir, 'mixed', mixedTrace(), linktype);
    });

    it(`${linktype}: real runs (inv-dir-media-sendonly, msrp-deliver-chunked over SIP/TCP and SIP/UDP) decode message for message`, () => {
      expect(realTraces).to.have.length(4);
      for (const { name, events } of realTraces) {
        expect(events.filter((e) => e.kind === 'message' && e.protocol === 'sip').length, `${name} has SIP`).to.be.greaterThan(2);
        checkWithTshark(dir, name, events, linktype);
      }
      const chunked = realTraces.find((t) => t.name === 'tcp-msrp-deliver-chunked')!;
      expect(chunked.events.filter((e) => e.kind === 'message' && e.protocol === 'msrp').length, 'MSRP in the chunked case').to.be.greaterThan(5);
    });
  }

  it('a reset shows as one RST, the only warning, with good checksums', () => {
    const file = join(dir, 'reset.pcap');
    writeFileSync(file, buildPcap([conn(0, MSRP, 'accepted', 'x'), msg(1, MSRP, 'in', msrpSend('t1', Buffer.from('hi'), '1-2/2')), conn(2, MSRP, 'reset', 'peer reset the connection')]));
    expect(tshark(file, [7394], ['-Y', BAD_CHECKSUM])).to.deep.equal([]);
    expect(tshark(file, [7394], ['-Y', '_ws.expert.severity >= warning', '-T', 'fields', '-e', 'tcp.flags.reset'])).to.deep.equal(['1']);
  });
});

import { expect } from 'chai';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { formatWallClock, TraceRecorder } from '../../harness/core/trace.ts';
import type { ConnectionTraceEvent, MessageTraceEvent, TraceEvent } from '../../harness/core/trace.ts';
import { SipTransport } from '../../harness/sip/transport.ts';
import type { InboundMessage } from '../../harness/sip/transport.ts';

function options(callId: string, transport = 'TCP', body = ''): Buffer {
  const bodyBytes = Buffer.from(body, 'utf8');
  const head =
    `OPTIONS sip:client@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport} 127.0.0.1:5999;branch=z9hG4bK${callId}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:pf@example.net>;tag=a1\r\nTo: <sip:client@example.net>\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\n` +
    `Content-Length: ${bodyBytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bodyBytes]);
}

/** Resolves with the first `count` inbound messages. */
function collect(transport: SipTransport, count: number): Promise<InboundMessage[]> {
  return new Promise((resolve) => {
    const got: InboundMessage[] = [];
    const listener = (m: InboundMessage): void => {
      got.push(m);
      if (got.length === count) {
        transport.off('message', listener);
        resolve(got);
      }
    };
    transport.on('message', listener);
  });
}

function nextConnectionEvent(transport: SipTransport, state: string): Promise<ConnectionTraceEvent> {
  return new Promise((resolve) => {
    const listener = (e: ConnectionTraceEvent): void => {
      if (e.state !== state) return;
      transport.off('connection', listener);
      resolve(e);
    };
    transport.on('connection', listener);
  });
}

function rawConnect(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function messages(events: readonly TraceEvent[], direction: 'in' | 'out'): MessageTraceEvent[] {
  return events.filter((e): e is MessageTraceEvent => e.kind === 'message' && e.direction === direction);
}

describe('sip/transport: UDP and TCP on 127.0.0.1 (RFC 3261 §18)', () => {
  const recorder = new TraceRecorder();
  let a: SipTransport;
  let b: SipTransport;
  const sockets: Socket[] = [];

  before(async () => {
    a = await SipTransport.bind({ address: '127.0.0.1', udpPort: 0, tcpPort: 0, actor: 'pf', trace: recorder.sink });
    b = await SipTransport.bind({ address: '127.0.0.1', actor: 'client', trace: recorder.sink });
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await a.close();
    await b.close();
  });

  it('binds ephemeral UDP and TCP ports and reports them', () => {
    expect(a.udp?.port).to.be.greaterThan(0);
    expect(a.tcp?.port).to.be.greaterThan(0);
    expect(b.udp?.address).to.equal('127.0.0.1');
  });

  it('UDP: a datagram is one message; both sides trace the exact bytes with both timestamps', async () => {
    const bytes = options('udp-1', 'UDP', 'hé');
    const from = recorder.lastSeq + 1;
    const arrived = collect(b, 1);
    const sent = await a.send(bytes, { transport: 'udp', address: '127.0.0.1', port: b.udp!.port });
    expect(sent.ok).to.equal(true);
    const [m] = await arrived;
    expect(m!.transport).to.equal('udp');
    expect(m!.parsed.raw.equals(bytes)).to.equal(true);
    expect(m!.parsed.message?.kind).to.equal('request');
    expect(m!.remote).to.deep.equal({ address: '127.0.0.1', port: a.udp!.port });
    const events = recorder.slice(from);
    const out = messages(events, 'out')[0]!;
    const inbound = messages(events, 'in')[0]!;
    for (const e of [out, inbound]) {
      expect(e.bytes.equals(bytes)).to.equal(true);
      expect(e.summary).to.equal('OPTIONS sip:client@127.0.0.1 SIP/2.0');
      expect(e.monotonicMs).to.be.a('number');
      expect(formatWallClock(e)).to.match(/Z$/);
    }
    expect(out.actor).to.equal('pf');
    expect(inbound.actor).to.equal('client');
  });

  it('TCP: two messages in one segment give two messages; one split across segments gives one', async () => {
    const socket = await rawConnect(a.tcp!.port);
    sockets.push(socket);
    const first = options('tcp-1');
    const second = options('tcp-2', 'TCP', 'body');
    const third = options('tcp-3');
    const arrived = collect(a, 3);
    socket.write(Buffer.concat([first, second]));
    await pause(20);
    socket.write(third.subarray(0, 40));
    await pause(20);
    socket.write(third.subarray(40));
    const got = await arrived;
    expect(got.map((m) => m.parsed.raw.toString('latin1'))).to.deep.equal([first, second, third].map((x) => x.toString('latin1')));
    expect(new Set(got.map((m) => m.connectionId)).size).to.equal(1);
    expect(got[0]!.connectionId).to.match(/^tcp-\d+$/);
  });

  it('TCP: reuses an open connection to the same address:port, and replies on an accepted connection by id', async () => {
    const socket = await rawConnect(a.tcp!.port);
    sockets.push(socket);
    const inbound = collect(a, 1);
    socket.write(options('tcp-reply'));
    const [m] = await inbound;
    const reply = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', 'latin1');
    const received = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    const sent = await a.send(reply, { transport: 'tcp', address: '127.0.0.1', port: 1, connectionId: m!.connectionId! });
    expect(sent.ok && sent.connectionId).to.equal(m!.connectionId);
    expect((await received).equals(reply)).to.equal(true);

    const s1 = await b.send(options('reuse-1'), { transport: 'tcp', address: '127.0.0.1', port: a.tcp!.port });
    const s2 = await b.send(options('reuse-2'), { transport: 'tcp', address: '127.0.0.1', port: a.tcp!.port });
    expect(s1.ok && s2.ok).to.equal(true);
    if (s1.ok && s2.ok) expect(s2.connectionId).to.equal(s1.connectionId);
  });

  it('TCP: a peer closing the connection gives a connection event, with any partial message as bytes', async () => {
    const socket = await rawConnect(a.tcp!.port);
    const closed = nextConnectionEvent(a, 'closed');
    const partial = options('partial').subarray(0, 30);
    socket.write(partial);
    await pause(20);
    socket.end();
    const event = await closed;
    expect(event.transport).to.equal('tcp');
    expect(event.reason).to.contain('peer closed the connection');
    expect(event.bytes?.equals(partial)).to.equal(true);
    expect(recorder.events).to.include(event);
  });

  it('TCP: an abortive close (RST) is traced as reset', async () => {
    const accepted = nextConnectionEvent(a, 'accepted');
    const socket = await rawConnect(a.tcp!.port);
    await accepted;
    const reset = nextConnectionEvent(a, 'reset');
    socket.resetAndDestroy();
    const event = await reset;
    expect(event.reason).to.contain('ECONNRESET');
  });

  it('send failures are values: connection refused, no such transport', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as { port: number }).port;
        server.close(() => resolve(port));
      });
    });
    const refused = await a.send(options('refused'), { transport: 'tcp', address: '127.0.0.1', port: closedPort });
    expect(refused.ok).to.equal(false);
    if (!refused.ok) {
      expect(refused.error.code).to.equal('SIP_CONNECT_FAILED');
      expect(refused.error.message).to.contain('ECONNREFUSED');
      expect(refused.error.bytes.length).to.be.greaterThan(0);
    }
    const udpOnly = await SipTransport.bind({ address: '127.0.0.1', udpPort: 0 });
    const noTcp = await udpOnly.send(options('x'), { transport: 'tcp', address: '127.0.0.1', port: a.tcp!.port });
    await udpOnly.close();
    expect(!noTcp.ok && noTcp.error.code).to.equal('SIP_NO_TCP');
    const afterClose = await udpOnly.send(options('y'), { transport: 'udp', address: '127.0.0.1', port: a.udp!.port });
    expect(!afterClose.ok && afterClose.error.code).to.equal('SIP_TRANSPORT_CLOSED');
  });

  it('garbage is delivered with diagnostics and traced as a garbage connection event', async () => {
    const from = recorder.lastSeq + 1;
    const arrived = collect(a, 1);
    await b.send(Buffer.from('\x00\x01hello\r\n\r\n', 'latin1'), { transport: 'udp', address: '127.0.0.1', port: a.udp!.port });
    const [m] = await arrived;
    expect(m!.parsed.message).to.equal(null);
    expect(m!.parsed.diagnostics.length).to.be.greaterThan(0);
    const garbage = recorder.slice(from).filter((e) => e.kind === 'connection' && e.state === 'garbage');
    expect(garbage).to.have.length(1);
  });
});

describe('sip/transport: IPv6 loopback', () => {
  it('sends UDP and TCP over ::1', async () => {
    const a = await SipTransport.bind({ address: '::1' });
    const b = await SipTransport.bind({ address: '[::1]' });
    try {
      expect(a.udp?.address).to.equal('::1');
      const viaUdp = collect(b, 1);
      expect((await a.send(options('v6u', 'UDP'), { transport: 'udp', address: '[::1]', port: b.udp!.port })).ok).to.equal(true);
      expect((await viaUdp)[0]!.remote.address).to.equal('::1');
      const viaTcp = collect(b, 1);
      expect((await a.send(options('v6t'), { transport: 'tcp', address: '::1', port: b.tcp!.port })).ok).to.equal(true);
      expect((await viaTcp)[0]!.transport).to.equal('tcp');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

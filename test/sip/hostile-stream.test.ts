/**
 * What a hostile peer can do to a watched SIP transport (the PF's side): bytes that are no SIP
 * start line end framing at once (SIP_STREAM_GARBAGE), a message left unfinished for
 * framingTimeoutMs is a wire fault (SIP_INCOMPLETE_MESSAGE, on a fake clock), connections over
 * connectionsPerCase are refused, and a throwing listener is a fault of the case, not of the process.
 */
import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { FakeClock } from '../../harness/core/clock.ts';
import { CaseScope, type ScopeEnd } from '../../harness/core/scope.ts';
import { SipStreamFramer } from '../../harness/sip/framer.ts';
import { SipTransport } from '../../harness/sip/transport.ts';

const OPTIONS =
  'OPTIONS sip:pf@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKhostile\r\nMax-Forwards: 70\r\n' +
  'From: <sip:c@example.net>;tag=a1\r\nTo: <sip:pf@example.net>\r\nCall-ID: h1\r\nCSeq: 1 OPTIONS\r\n';

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('sip/framer: a first line that is no start line ends framing at once (RFC 3261 §7.1, §7.2)', () => {
  const codes = (chunks: string[]): string[] => {
    const framer = new SipStreamFramer();
    return chunks.flatMap((c) => framer.push(Buffer.from(c, 'latin1'))).flatMap((f) => f.diagnostics.map((d) => d.code));
  };

  it('binary junk, another protocol or the rest of a body are SIP_STREAM_GARBAGE as soon as their first line is in', () => {
    expect(codes(['\x16\x03\x01\x00\xa5 hello\r\n'])).to.deep.equal(['SIP_STREAM_GARBAGE']);
    expect(codes(['GET / HTTP/1.1\r\n'])).to.deep.equal(['SIP_STREAM_GARBAGE']);
    expect(codes(['a=sendrecv\r\n'])).to.deep.equal(['SIP_STREAM_GARBAGE']);
    expect(codes(['a=send', 'recv'])).to.deep.equal([], 'no line end yet: nothing decided');
  });

  it('start lines in any case and with odd spacing still frame (the parser reports the details)', () => {
    for (const line of ['OPTIONS sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'sip/2.0 180 Ringing', 'INVITE  sip:a@b  SIP/2.0', 'FOO sip:a@b SIP/3.0']) {
      const framer = new SipStreamFramer();
      const frames = framer.push(Buffer.from(`${line}\r\nContent-Length: 0\r\n\r\n`, 'latin1'));
      expect(frames, line).to.have.length(1);
      expect(framer.unframeable, line).to.equal(false);
    }
  });

  it('awaitedLength is the declared length of the message whose body is awaited', () => {
    const framer = new SipStreamFramer();
    framer.push(Buffer.from(`${OPTIONS}Content-Length: 100\r\n\r\nshort`, 'latin1'));
    expect(framer.awaitedLength).to.equal(OPTIONS.length + 'Content-Length: 100\r\n\r\n'.length + 100);
  });
});

describe('sip/transport watched by a case scope', () => {
  let clock: FakeClock;
  let scope: CaseScope;
  let transport: SipTransport;
  let peer: Socket | undefined;
  /** Resolvers of the reads awaited: the transport's tap sees each read before the framer does. */
  let reads: (() => void)[];
  /** Writes and resolves once the transport has read (and framed) the bytes. */
  const written = (socket: Socket, bytes: string): Promise<void> =>
    new Promise((resolve) => {
      reads.push(() => setImmediate(resolve));
      socket.write(bytes);
    });

  beforeEach(async () => {
    clock = new FakeClock();
    reads = [];
    scope = new CaseScope({ clock, limits: { framingTimeoutMs: 1_000, connectionsPerCase: 2 } });
    const tap = { inbound: () => reads.shift()?.() };
    transport = await SipTransport.bind({ address: '127.0.0.1', tcpPort: 0, boundary: scope, watch: scope, tap });
  });

  afterEach(async () => {
    peer?.destroy();
    await transport.close();
    await scope.close();
  });

  it('a body shorter than its Content-Length: SIP_INCOMPLETE_MESSAGE once framingTimeoutMs has run from its first octet', async () => {
    peer = await rawConnect(transport.tcp!.port);
    await written(peer, `${OPTIONS}Content-Length: 100\r\n\r\nonly this`);
    clock.advance(999);
    expect(scope.end).to.equal(undefined);
    clock.advance(1);
    const end = (await scope.ended) as ScopeEnd;
    expect(end.kind).to.equal('wire-fault');
    if (end.kind !== 'wire-fault') return;
    expect(end.fault.kind).to.equal('sip-incomplete');
    expect(end.fault.diagnostic).to.include({ code: 'SIP_INCOMPLETE_MESSAGE', clause: 'RFC 3261 §18.3' });
    expect(end.fault.diagnostic.message).to.include('shorter than its Content-Length');
  });

  it('a message completed in time arms nothing', async () => {
    peer = await rawConnect(transport.tcp!.port);
    await written(peer, `${OPTIONS}Content-Length: 0\r\n\r\n`);
    clock.advance(5_000);
    expect(scope.end).to.equal(undefined);
  });

  it('garbage on the stream is a wire fault at once', async () => {
    peer = await rawConnect(transport.tcp!.port);
    peer.write('\x00\x01 not SIP\r\n');
    const end = await scope.ended;
    expect(end.kind === 'wire-fault' && end.fault.kind).to.equal('sip-framing');
    expect(end.kind === 'wire-fault' && end.fault.diagnostic.code).to.equal('SIP_STREAM_GARBAGE');
  });

  it('connections over connectionsPerCase are refused and traced', async () => {
    const sockets = await Promise.all([1, 2, 3].map(() => rawConnect(transport.tcp!.port)));
    const end = await scope.ended;
    expect(end.kind === 'wire-fault' && end.fault.diagnostic.code).to.equal('LIMIT_CONNECTIONS_PER_CASE');
    expect(transport.openConnections.length).to.be.at.most(2);
    for (const s of sockets) s.destroy();
  });

  it('a listener that throws is a harness fault of the case, named by its handler, not an uncaught exception', async () => {
    transport.on('message', () => {
      throw new Error('listener bug');
    });
    peer = await rawConnect(transport.tcp!.port);
    peer.write(`${OPTIONS}Content-Length: 0\r\n\r\n`);
    const end = await scope.ended;
    expect(end.kind === 'harness-fault' && end.fault).to.include({ where: 'sip/tcp data', message: 'listener bug' });
  });
});

/**
 * What a hostile peer can do to a watched MSRP session (the PF's side): garbage, a frame left
 * unfinished for framingTimeoutMs (fake clock), a reset inside a frame, an absurd Byte-Range total
 * and a connection flood are each one wire fault with the RFC 4975 clause, never an exception.
 */
import { expect } from 'chai';
import net from 'node:net';
import { FakeClock } from '../../harness/core/clock.ts';
import { CaseScope, type WireFault } from '../../harness/core/scope.ts';
import { buildSend, serializeMsrpFrame } from '../../harness/msrp/serializer.ts';
import { localMsrpUri, MsrpSession } from '../../harness/msrp/session.ts';
import type { MsrpUri } from '../../harness/msrp/uri.ts';

function connectTo(uri: MsrpUri): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: uri.port! }, () => resolve(socket));
    socket.once('error', () => {});
    socket.once('error', reject);
  });
}

async function wireFault(scope: CaseScope): Promise<WireFault> {
  const end = await scope.ended;
  if (end.kind !== 'wire-fault') throw new Error(`expected a wire fault, got ${end.fault.message}`);
  return end.fault;
}

describe('msrp/session watched by a case scope', function () {
  this.timeout(10_000);
  let clock: FakeClock;
  let scope: CaseScope;
  let pf: MsrpSession;
  let uri: MsrpUri;
  const sockets: net.Socket[] = [];
  /** Resolvers of the reads awaited: the session's tap sees each read before the parser does. */
  let reads: (() => void)[];

  const send = (tid: string, body: Buffer, byteRange?: string): Buffer => {
    const frame = buildSend({ transactionId: tid, toPath: uri, fromPath: 'msrp://127.0.0.1:9/peer1;tcp', body, contentType: 'text/plain' });
    if (byteRange !== undefined) frame.headers = frame.headers.map((h) => (h.name === 'Byte-Range' ? { ...h, value: byteRange } : h));
    return serializeMsrpFrame(frame);
  };

  beforeEach(async () => {
    clock = new FakeClock();
    reads = [];
    scope = new CaseScope({ clock, limits: { framingTimeoutMs: 1_000, connectionsPerCase: 1 } });
    pf = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), role: 'passive', boundary: scope, watch: scope, tap: { inbound: () => reads.shift()?.() } });
    const listened = await pf.listen();
    if (!listened.ok) throw new Error(listened.error.message);
    uri = listened.value;
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await pf.close();
    await scope.close();
  });

  async function peer(): Promise<net.Socket> {
    const s = await connectTo(uri);
    sockets.push(s);
    return s;
  }

  const written = (socket: net.Socket, bytes: Buffer | string): Promise<void> =>
    new Promise((resolve) => {
      reads.push(() => setImmediate(resolve));
      socket.write(bytes);
    });

  it('garbage before a frame: MSRP_GARBAGE (RFC 4975 §7.1) at once', async () => {
    const s = await peer();
    s.write(Buffer.concat([Buffer.from('\x00\x01 junk\r\n', 'latin1'), send('tid00001', Buffer.from('hi'))]));
    const fault = await wireFault(scope);
    expect(fault).to.include({ kind: 'msrp-framing', protocol: 'msrp' });
    expect(fault.diagnostic).to.include({ code: 'MSRP_GARBAGE', clause: 'RFC 4975 §7.1' });
  });

  it('a frame without its end-line: MSRP_INCOMPLETE_FRAME once framingTimeoutMs has run', async () => {
    const s = await peer();
    const full = send('tid00002', Buffer.alloc(200, 0x61));
    await written(s, full.subarray(0, 120));
    clock.advance(999);
    expect(scope.end).to.equal(undefined);
    clock.advance(1);
    const fault = await wireFault(scope);
    expect(fault.kind).to.equal('msrp-incomplete');
    expect(fault.diagnostic.code).to.equal('MSRP_INCOMPLETE_FRAME');
  });

  it('garbage with no frame after it: MSRP_GARBAGE once framingTimeoutMs has run', async () => {
    const s = await peer();
    await written(s, 'this is not MSRP and nothing follows\r\n');
    clock.advance(1_000);
    const fault = await wireFault(scope);
    expect(fault).to.include({ kind: 'msrp-framing' });
    expect(fault.diagnostic.code).to.equal('MSRP_GARBAGE');
  });

  it('a reset inside a frame: MSRP_INCOMPLETE_FRAME when the connection goes', async () => {
    const s = await peer();
    await written(s, send('tid00003', Buffer.alloc(300, 0x62)).subarray(0, 150));
    s.resetAndDestroy();
    const fault = await wireFault(scope);
    expect(fault.kind).to.equal('msrp-incomplete');
    expect(fault.diagnostic.code).to.equal('MSRP_INCOMPLETE_FRAME');
  });

  it('an absurd Byte-Range total is refused before anything is allocated: MSRP_MESSAGE_TOO_LARGE, answered 413', async () => {
    const s = await peer();
    const answers: Buffer[] = [];
    s.on('data', (d: Buffer) => answers.push(d));
    s.write(send('tid00004', Buffer.from('hello'), `1-5/${4 * 1024 ** 4}`));
    const fault = await wireFault(scope);
    expect(fault.kind).to.equal('msrp-size');
    expect(fault.diagnostic).to.include({ code: 'MSRP_MESSAGE_TOO_LARGE', clause: 'RFC 4975 §7.3.1' });
    await new Promise<void>((resolve) => (answers.length > 0 ? resolve() : s.once('data', () => resolve())));
    expect(Buffer.concat(answers).toString('latin1')).to.match(/^MSRP tid00004 413/);
  });

  it('a second connection over connectionsPerCase is refused: LIMIT_CONNECTIONS_PER_CASE', async () => {
    await peer();
    const second = await peer();
    const fault = await wireFault(scope);
    expect(fault.diagnostic.code).to.equal('LIMIT_CONNECTIONS_PER_CASE');
    await new Promise<void>((resolve) => (second.destroyed ? resolve() : second.once('close', () => resolve())));
  });
});

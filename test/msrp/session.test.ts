import { expect } from 'chai';
import net from 'node:net';
import { FakeClock } from '../../harness/core/clock.ts';
import { TraceRecorder, type ConnectionTraceEvent, type MessageTraceEvent } from '../../harness/core/trace.ts';
import { msrpHeader, type MsrpFrame, type MsrpRequest, type MsrpResponse } from '../../harness/msrp/frame.ts';
import { MsrpStreamParser } from '../../harness/msrp/parser.ts';
import { buildSend, serializeMsrpFrame } from '../../harness/msrp/serializer.ts';
import { localMsrpUri, MsrpSession, type MsrpSessionOptions } from '../../harness/msrp/session.ts';
import { formatMsrpUri, type MsrpUri } from '../../harness/msrp/uri.ts';

const SHORT = 2000;

/** A bare TCP peer: exact bytes out, parsed frames in. */
class RawPeer {
  readonly frames: MsrpFrame[] = [];
  private readonly parser = new MsrpStreamParser();
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      for (const item of this.parser.push(d)) if (item.frame) this.frames.push(item.frame);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static connect(uri: MsrpUri): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: uri.port! }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }
  async nextFrame(within = SHORT): Promise<MsrpFrame | null> {
    const seen = this.frames.length;
    const deadline = Date.now() + within;
    while (this.frames.length === seen && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
    return this.frames[seen] ?? null;
  }
}

/** Two event-loop turns: whatever is already in flight on loopback lands, however fast the machine is. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
};
/** A broken peer that answers the bind SEND but never a SEND with a body. */
const onlyBind = (req: MsrpRequest) => (req.body === null ? { status: 200 } : null);

describe('msrp/session over loopback', function () {
  this.timeout(10000);
  const open: MsrpSession[] = [];
  const sockets: net.Socket[] = [];
  let recorder: TraceRecorder;

  function session(options: Partial<MsrpSessionOptions> & { role: 'active' | 'passive' }): MsrpSession {
    const s = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), trace: recorder.sink, transactionTimeoutMs: 1500, ...options });
    open.push(s);
    return s;
  }

  async function pair(passiveOptions: Partial<MsrpSessionOptions> = {}, activeOptions: Partial<MsrpSessionOptions> = {}) {
    const pf = session({ role: 'passive', actor: 'pf', ...passiveOptions });
    const listened = await pf.listen();
    if (!listened.ok) throw new Error(listened.error.message);
    const client = session({ role: 'active', actor: 'client', ...activeOptions });
    const bound = pf.waitFor('bound', SHORT);
    const connected = await client.connect([listened.value]);
    expect(connected.ok, 'bind SEND answered').to.equal(true);
    expect((await bound).ok).to.equal(true);
    return { pf, client };
  }

  beforeEach(() => {
    recorder = new TraceRecorder();
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it('active connects and binds with an empty SEND (1-0/0) that gets 200; passive learns the path', async () => {
    const { pf, client } = await pair();
    const bindIn = recorder.events.find((e): e is MessageTraceEvent => e.kind === 'message' && e.actor === 'pf' && e.direction === 'in')!;
    const bind = bindIn.parsed as MsrpFrame;
    expect(bind.kind === 'request' && bind.method === 'SEND' && bind.body === null).to.equal(true);
    expect(msrpHeader(bind, 'Byte-Range')).to.equal('1-0/0');
    expect(msrpHeader(bind, 'To-Path')).to.equal(formatMsrpUri(pf.uri));
    expect(msrpHeader(bind, 'From-Path')).to.equal(formatMsrpUri(client.uri));
    expect(pf.isBound && client.isBound).to.equal(true);
    const states = recorder.events.filter((e): e is ConnectionTraceEvent => e.kind === 'connection').map((e) => `${e.actor}:${e.state}`);
    expect(states).to.include.members(['pf:listening', 'pf:accepted', 'client:connected']);
  });

  it('SEND → 200 in both directions, chunked messages reassemble, the trace holds every frame', async () => {
    const { pf, client } = await pair({ chunkSize: 100 });
    const atClient = client.waitFor('message', SHORT);
    const body = Buffer.from('x'.repeat(250));
    const sent = await pf.send({ body, contentType: 'message/cpim' });
    expect(sent.ok).to.equal(true);
    expect(sent.chunks.map((c) => `${c.byteRange}${c.flag}:${c.response?.status}`)).to.deep.equal(['1-100/250+:200', '101-200/250+:200', '201-250/250$:200']);
    const msg = await atClient;
    expect(msg.ok && msg.value.body.equals(body) && msg.value.contentType === 'message/cpim' && msg.value.frames.length === 3).to.equal(true);
    const back = await client.send({ body: Buffer.from('hi'), contentType: 'text/plain' });
    expect(back.ok && back.chunks[0]!.response!.status === 200).to.equal(true);
    const out = recorder.events.filter((e) => e.kind === 'message' && e.direction === 'out').length;
    const inn = recorder.events.filter((e) => e.kind === 'message' && e.direction === 'in').length;
    expect(out).to.equal(inn);
    expect(out).to.equal(2 + 6 + 2);
  });

  it('Failure-Report: no ⇒ no 200; Success-Report: yes ⇒ one REPORT, which gets no response', async () => {
    const { pf, client } = await pair();
    const responses: MsrpResponse[] = [];
    pf.on('response', (r) => responses.push(r));
    const quiet = await pf.send({ body: Buffer.from('no answer please'), contentType: 'text/plain', failureReport: 'no' });
    expect(quiet.ok && quiet.chunks[0]!.response === null).to.equal(true);
    const report = pf.waitFor('report', SHORT);
    const reported = await pf.send({ body: Buffer.from('report this'), contentType: 'text/plain', successReport: 'yes' });
    expect(reported.ok).to.equal(true);
    const r = await report;
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(msrpHeader(r.value, 'Status')).to.equal('000 200 OK');
    expect(msrpHeader(r.value, 'Byte-Range')).to.equal('1-11/11');
    expect(msrpHeader(r.value, 'Message-ID')).to.equal(reported.messageId);
    // A barrier, not a sleep: the client's SEND is answered after everything the PF wrote before it,
    // and the client answered the PF's SENDs in order, so any stray response has arrived by now.
    const barrier = await client.send({ body: Buffer.from('barrier'), contentType: 'text/plain' });
    expect(barrier.ok).to.equal(true);
    expect(responses.map((x) => x.transactionId)).to.deep.equal([reported.chunks[0]!.transactionId]);
    const answeredReport = recorder.events.some(
      (e) => e.kind === 'message' && e.actor === 'pf' && e.direction === 'out' && (e.parsed as MsrpFrame).transactionId === r.value.transactionId,
    );
    expect(answeredReport).to.equal(false);
  });

  it('policy switches: respondToReport answers REPORTs, a respondToSend function stays silent, unknown methods get 501', async () => {
    const { pf, client } = await pair({ policy: { respondToReport: true, respondToSend: onlyBind } }, { transactionTimeoutMs: 150 });
    const silent = await client.send({ body: Buffer.from('x'), contentType: 'text/plain' });
    expect(silent.ok).to.equal(false);
    expect(silent.error!.code).to.equal('MSRP_TRANSACTION_TIMEOUT');
    const report = await client.sendFrame({
      kind: 'request',
      transactionId: 'rep00001',
      method: 'REPORT',
      headers: [
        { name: 'To-Path', value: formatMsrpUri(pf.uri) },
        { name: 'From-Path', value: formatMsrpUri(client.uri) },
        { name: 'Message-ID', value: 'mid00001' },
        { name: 'Byte-Range', value: '1-1/1' },
        { name: 'Status', value: '000 200 OK' },
      ],
      body: null,
      flag: '$',
    });
    expect(report.ok && report.response?.status).to.equal(200);
    const frob = await client.sendFrame({ kind: 'request', transactionId: 'frob0001', method: 'FROB', headers: [{ name: 'To-Path', value: formatMsrpUri(pf.uri) }, { name: 'From-Path', value: formatMsrpUri(client.uri) }], body: null, flag: '$' });
    expect(frob.ok).to.equal(false);
    if (!frob.ok) expect(frob.response?.status).to.equal(501);
  });

  it('481 on a wrong To-Path, and the connection is not bound', async () => {
    const pf = session({ role: 'passive', actor: 'pf' });
    const l = await pf.listen();
    if (!l.ok) throw new Error(l.error.message);
    const peer = await RawPeer.connect(l.value);
    sockets.push(peer.socket);
    const wrong = { ...l.value, sessionId: 'someoneelse' };
    peer.socket.write(serializeMsrpFrame(buildSend({ transactionId: 'tid00481', toPath: wrong, fromPath: 'msrp://127.0.0.1:9/peer1;tcp', body: null })));
    const answer = await peer.nextFrame();
    expect(answer?.kind === 'response' && answer.status).to.equal(481);
    expect(answer && msrpHeader(answer, 'To-Path')).to.equal('msrp://127.0.0.1:9/peer1;tcp');
    expect(pf.isBound).to.equal(false);
  });

  it('transaction timeout on a FakeClock: outcome and timeout event, no real waiting', async () => {
    const clock = new FakeClock();
    const { pf, client } = await pair({ policy: { respondToSend: onlyBind } }, { clock, transactionTimeoutMs: 30000 });
    const timeouts: string[] = [];
    client.on('timeout', (t) => timeouts.push(t.transactionId));
    const arrived = pf.waitFor('chunk', SHORT);
    const outcome = client.send({ body: Buffer.from('hello'), contentType: 'text/plain' });
    expect((await arrived).ok).to.equal(true);
    clock.advance(29999);
    await flush();
    expect(timeouts).to.deep.equal([]);
    clock.advance(1);
    const result = await outcome;
    expect(result.ok).to.equal(false);
    expect(result.error!.code).to.equal('MSRP_TRANSACTION_TIMEOUT');
    expect(timeouts).to.deep.equal([result.chunks[0]!.transactionId]);
    expect(recorder.events.some((e) => e.kind === 'connection' && e.state === 'timeout')).to.equal(true);
  });

  it('peer closes mid-chunk ⇒ closed event with reason and the partial bytes, also in the trace', async () => {
    const pf = session({ role: 'passive', actor: 'pf' });
    const l = await pf.listen();
    if (!l.ok) throw new Error(l.error.message);
    const peer = await RawPeer.connect(l.value);
    sockets.push(peer.socket);
    const full = serializeMsrpFrame(buildSend({ transactionId: 'tid00777', toPath: l.value, fromPath: 'msrp://127.0.0.1:9/peer1;tcp', body: Buffer.alloc(500, 0x61), contentType: 'text/plain' }));
    const half = full.subarray(0, 300);
    const closed = pf.waitFor('closed', SHORT);
    peer.socket.end(half);
    const c = await closed;
    expect(c.ok).to.equal(true);
    if (!c.ok) return;
    expect(c.value.by).to.equal('peer');
    expect(c.value.reason).to.match(/mid-chunk/);
    expect(c.value.partialBytes!.equals(half)).to.equal(true);
    const traced = recorder.events.find((e): e is ConnectionTraceEvent => e.kind === 'connection' && e.state === 'closed' && e.actor === 'pf')!;
    expect(traced.bytes!.equals(half)).to.equal(true);
  });

  it('garbage ⇒ error event and a garbage trace event; the next frame is still served', async () => {
    const pf = session({ role: 'passive', actor: 'pf' });
    const l = await pf.listen();
    if (!l.ok) throw new Error(l.error.message);
    const peer = await RawPeer.connect(l.value);
    sockets.push(peer.socket);
    const error = pf.waitFor('error', SHORT);
    const send = serializeMsrpFrame(buildSend({ transactionId: 'tid00888', toPath: l.value, fromPath: 'msrp://127.0.0.1:9/peer1;tcp', body: null }));
    peer.socket.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), send]));
    const e = await error;
    expect(e.ok && e.value.code).to.equal('MSRP_GARBAGE');
    const answer = await peer.nextFrame();
    expect(answer?.kind === 'response' && answer.status).to.equal(200);
    const garbage = recorder.events.find((x): x is ConnectionTraceEvent => x.kind === 'connection' && x.state === 'garbage')!;
    expect(garbage.bytes!.toString()).to.equal('GET / HTTP/1.1\r\n\r\n');
  });

  it('an absurd Byte-Range total is answered 413 and nothing is allocated from it; the session goes on', async () => {
    const pf = session({ role: 'passive', actor: 'pf', limits: { msrpMessageBytes: 10_000 } });
    const l = await pf.listen();
    if (!l.ok) throw new Error(l.error.message);
    const peer = await RawPeer.connect(l.value);
    sockets.push(peer.socket);
    const from = 'msrp://127.0.0.1:9/peer1;tcp';
    const huge = buildSend({ transactionId: 'tid00901', toPath: l.value, fromPath: from, body: Buffer.from('hi'), messageId: 'msgHuge01', byteRange: '1-2/9007199254740991', contentType: 'text/plain', flag: '+' });
    const chunk = pf.waitFor('chunk', SHORT);
    peer.socket.write(serializeMsrpFrame(huge));
    const answer = await peer.nextFrame();
    expect(answer?.kind === 'response' && answer.status).to.equal(413);
    const seen = await chunk;
    expect(seen.ok && seen.value.diagnostics.map((d) => d.code)).to.include('MSRP_MESSAGE_TOO_LARGE');
    const fine = buildSend({ transactionId: 'tid00902', toPath: l.value, fromPath: from, body: Buffer.from('ok'), messageId: 'msgFine01', byteRange: '1-2/2', contentType: 'text/plain' });
    const message = pf.waitFor('message', SHORT);
    peer.socket.write(serializeMsrpFrame(fine));
    expect((await peer.nextFrame())?.kind === 'response').to.equal(true);
    const m = await message;
    expect(m.ok && m.value.body.toString()).to.equal('ok');
  });

  it('connect failures and sends before binding are values, not throws', async () => {
    const client = session({ role: 'active', transactionTimeoutMs: 300 });
    const refused = await client.connect([{ scheme: 'msrp', host: '127.0.0.1', port: 1, sessionId: 'nobody', transport: 'tcp', params: [] }]);
    expect(refused.ok).to.equal(false);
    if (!refused.ok) expect(refused.error.code).to.equal('MSRP_CONNECT_FAILED');
    const unbound = await client.send({ body: Buffer.from('x'), contentType: 'text/plain' });
    expect(unbound.error!.code).to.equal('MSRP_NOT_BOUND');
  });
});

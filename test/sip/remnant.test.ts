/**
 * Finished transactions reduced to Remnants (transaction.ts) and the UAC core's ACK table: a late
 * retransmission is still answered exactly as RFC 3261 §17 / RFC 6026 say, after the transaction
 * object itself has been released, and the wait timers end at the same instants as before.
 */
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FakeClock } from '../../harness/core/clock.ts';
import { ExpiryQueue } from '../../harness/core/expiry.ts';
import { newBranch, newCallId, newTag } from '../../harness/core/ids.ts';
import { buildRequest, buildResponse } from '../../harness/sip/build.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { SipRequest, SipResponse } from '../../harness/sip/message.ts';
import { parseSipMessage } from '../../harness/sip/parser.ts';
import { serializeSipMessage } from '../../harness/sip/serializer.ts';
import { SipStack } from '../../harness/sip/stack.ts';
import { resolveTimers } from '../../harness/sip/timers.ts';
import { InviteClientTransaction, NonInviteServerTransaction, Remnant } from '../../harness/sip/transaction.ts';
import type { ClientTransaction, RequestSource, ServerTransaction, TransactionIo } from '../../harness/sip/transaction.ts';
import { dialogBasis, requestFromBasis } from '../../harness/sip/uac-core.ts';

const T = resolveTimers();
const BRANCH = 'z9hG4bKremnant-1';
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Held = { remnant: Remnant<ClientTransaction> | Remnant<ServerTransaction>; afterMs: number };

/** A TransactionIo whose holder keeps the remnants, as the stack does. */
function holdingIo(clock: FakeClock, reliable = false): TransactionIo & { sent: Buffer[]; held: Held[] } {
  const sent: Buffer[] = [];
  const held: Held[] = [];
  return {
    clock,
    timers: T,
    reliable,
    sent,
    held,
    send: (bytes) => {
      sent.push(bytes);
      return Promise.resolve({ ok: true });
    },
    retire: (remnant, afterMs) => held.push({ remnant, afterMs }),
  };
}

function invite(): SipRequest {
  return buildRequest({
    method: 'INVITE',
    uri: 'sip:client@192.0.2.50:5070',
    via: `SIP/2.0/UDP 192.0.2.10:5060;branch=${BRANCH}`,
    from: '<sip:grp@pf.example.net>;tag=pf-1',
    to: '<sip:client@ims.example.net>',
    callId: 'call-1@pf.example.net',
    cseq: 1,
    contact: '<sip:pf@192.0.2.10:5060>',
  });
}

/** A full GC from a test, without --expose-gc on the mocha command line. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('sip/transaction remnants (the last wait state, reduced)', () => {
  it('INVITE client, 488 over UDP: handed over for Timer D with the ACK bytes; a late 488 is ACKed again with the same bytes', async () => {
    const clock = new FakeClock();
    const io = holdingIo(clock);
    const req = invite();
    const txn = new InviteClientTransaction(req, BRANCH, io);
    const ended: string[] = [];
    txn.on('terminated', () => ended.push('terminated'));
    txn.start();
    const r488 = buildResponse(req, 488, undefined, { toTag: 'cl-1' });
    txn.receive(r488);
    expect(io.held).to.have.length(1);
    const { remnant, afterMs } = io.held[0]!;
    expect(afterMs).to.equal(64 * T.t1, 'Timer D');
    expect(remnant.state).to.equal('completed');
    expect(txn.activeTimers).to.deep.equal([], 'the holder runs the timer');
    expect(remnant.transaction).to.equal(txn, 'a listener keeps the object');
    const firstAck = io.sent[1]!;
    remnant.receive(r488);
    await tick();
    expect(io.sent).to.have.length(3);
    expect(io.sent[2]!.equals(firstAck)).to.equal(true);
    remnant.receive(buildResponse(req, 200, undefined, { toTag: 'cl-1' }));
    expect(io.sent).to.have.length(3, 'a 2xx in Completed is not ACKed by the transaction');
    remnant.expire();
    expect(txn.state).to.equal('terminated');
    expect(ended).to.deep.equal(['terminated']);
    remnant.receive(r488);
    expect(io.sent).to.have.length(3, 'nothing after the timer');
  });

  it('INVITE client, 2xx: Accepted is handed over for Timer M; a repeated 2xx reaches the TU while it listens', () => {
    const clock = new FakeClock();
    const io = holdingIo(clock);
    const req = invite();
    const txn = new InviteClientTransaction(req, BRANCH, io);
    const finals: boolean[] = [];
    txn.on('final', (_r, info) => finals.push(info.retransmission));
    txn.start();
    const ok = buildResponse(req, 200, undefined, { toTag: 'cl-1' });
    txn.receive(ok);
    const { remnant, afterMs } = io.held[0]!;
    expect(afterMs).to.equal(64 * T.t1, 'Timer M');
    expect(remnant.state).to.equal('accepted');
    remnant.receive(ok);
    txn.receive(ok);
    remnant.receive(buildResponse(req, 486, undefined, { toTag: 'cl-1' }));
    expect(finals).to.deep.equal([false, true, true], 'non-2xx in Accepted are discarded (RFC 6026 §8.4)');
    expect(io.sent).to.have.length(1, 'the transaction never ACKs a 2xx');
  });

  it('TCP: Timers D and K are zero, so nothing is handed over; Accepted still is (Timer M runs on every transport)', () => {
    const clock = new FakeClock();
    const io = holdingIo(clock, true);
    const req = invite();
    const rejected = new InviteClientTransaction(req, BRANCH, io);
    rejected.start();
    rejected.receive(buildResponse(req, 603, undefined, { toTag: 'cl-1' }));
    expect(rejected.state).to.equal('terminated');
    expect(io.held).to.have.length(0);
    const accepted = new InviteClientTransaction(req, 'z9hG4bKremnant-2', io);
    accepted.start();
    accepted.receive(buildResponse(req, 200, undefined, { toTag: 'cl-1' }));
    expect(io.held.map((h) => h.remnant.state)).to.deep.equal(['accepted']);
  });

  it('non-INVITE server, UDP: the final is kept as bytes for Timer J and sent again for each retransmitted request', async () => {
    const clock = new FakeClock();
    const io = holdingIo(clock);
    const req = buildRequest({ method: 'MESSAGE', uri: 'sip:pf@192.0.2.10', via: `SIP/2.0/UDP 192.0.2.50:5070;branch=${BRANCH}`, from: '<sip:c@x>;tag=a', to: '<sip:pf@x>', callId: 'm-1', cseq: 3 });
    const source: RequestSource = { transport: 'udp', local: { address: '192.0.2.10', port: 5060 }, remote: { address: '192.0.2.50', port: 5070 } };
    const txn = new NonInviteServerTransaction(req, parseSipMessage(Buffer.alloc(0)), source, 'k', io);
    txn.respond(buildResponse(req, 200));
    const { remnant, afterMs } = io.held[0]!;
    expect(afterMs).to.equal(64 * T.t1, 'Timer J');
    expect(txn.receive(req)).to.equal('absorbed');
    remnant.receive(req);
    await tick();
    expect(io.sent).to.have.length(3);
    expect(io.sent[1]!.equals(io.sent[0]!) && io.sent[2]!.equals(io.sent[0]!)).to.equal(true);
  });

  it('a finished transaction nobody listens to is not kept alive by its remnant, which still answers', async () => {
    const gc = collector();
    const clock = new FakeClock();
    const io = holdingIo(clock);
    let ref: WeakRef<InviteClientTransaction>;
    (() => {
      const req = invite();
      const txn = new InviteClientTransaction(req, BRANCH, io);
      txn.start();
      txn.receive(buildResponse(req, 488, undefined, { toTag: 'cl-1' }));
      ref = new WeakRef(txn);
    })();
    clock.advance(0); // the fake clock lets go of the cancelled Timers A and B
    // WeakRefs hold their target until the current job ends.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    gc();
    expect(ref!.deref()).to.equal(undefined, 'the transaction object was collected');
    const { remnant } = io.held[0]!;
    expect(remnant.transaction).to.equal(undefined);
    const before = io.sent.length;
    remnant.receive(buildResponse(invite(), 488, undefined, { toTag: 'cl-1' }));
    await tick();
    expect(io.sent.length).to.equal(before + 1, 'the ACK goes out again from the remnant');
    remnant.expire();
  });
});

describe('core/expiry: one timer for many entries with the same delay', () => {
  it('expires entries in order at exactly their deadline, re-arming for the next', () => {
    const clock = new FakeClock();
    const expired: [string, number][] = [];
    const queue = new ExpiryQueue<string>(clock, 1000, (item, deadline) => expired.push([item, deadline]));
    queue.add('a');
    clock.advance(300);
    queue.add('b');
    queue.add('c');
    expect(clock.pendingCount).to.equal(1);
    clock.advance(699);
    expect(expired).to.deep.equal([]);
    clock.advance(1);
    expect(expired).to.deep.equal([['a', 1000]]);
    clock.advance(299);
    expect(expired).to.have.length(1);
    clock.advance(1);
    expect(expired).to.deep.equal([['a', 1000], ['b', 1300], ['c', 1300]]);
    expect(queue.size).to.equal(0);
    expect(clock.pendingCount).to.equal(0);
  });
});

describe('uac-core: dialog basis', () => {
  it('keeps the INVITE start line, From, Call-ID, CSeq and Contact, as written', () => {
    const req = invite();
    const back = requestFromBasis(dialogBasis(req));
    expect([back.method, back.uri, back.version]).to.deep.equal([req.method, req.uri, req.version]);
    expect(back.headers.map((h) => h.name)).to.deep.equal(['From', 'Call-ID', 'CSeq', 'Contact']);
    for (const name of ['from', 'call-id', 'cseq', 'contact']) expect(headerValue(back, name)).to.equal(headerValue(req, name));
  });
});

// ---------------------------------------------------------------------------------------------
// The stack on real sockets and a FakeClock, against a raw UDP peer that answers by hand.

interface Peer {
  socket: Socket;
  port: number;
  next(): Promise<SipRequest>;
  send(message: SipRequest | SipResponse, port: number): Promise<void>;
  close(): Promise<void>;
}

async function rawPeer(): Promise<Peer> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const queue: SipRequest[] = [];
  const waiting: ((r: SipRequest) => void)[] = [];
  socket.on('message', (bytes) => {
    const message = parseSipMessage(bytes).message;
    if (message?.kind !== 'request') return;
    const w = waiting.shift();
    if (w) w(message);
    else queue.push(message);
  });
  return {
    socket,
    port: socket.address().port,
    next: () => new Promise((resolve) => {
      const q = queue.shift();
      if (q) resolve(q);
      else waiting.push(resolve);
    }),
    send: (message, port) => new Promise((resolve) => socket.send(serializeSipMessage(message, { contentLength: 'compute' }), port, '127.0.0.1', () => resolve())),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function bytesOf(m: SipRequest): string {
  return serializeSipMessage(m, { contentLength: 'compute' }).toString('latin1');
}

describe('sip/stack: late retransmissions after the transaction was reduced (FakeClock, UDP)', () => {
  const clock = new FakeClock();
  let stack: SipStack;
  let peer: Peer;

  before(async () => {
    stack = await SipStack.start({ actor: 'uac', address: '127.0.0.1', udpPort: 0, clock });
    peer = await rawPeer();
  });
  after(async () => {
    await stack.close();
    await peer.close();
  });

  function inviteTo(port: number): SipRequest {
    return buildRequest({
      method: 'INVITE',
      uri: `sip:client@127.0.0.1:${port}`,
      via: stack.viaFor('udp', newBranch()),
      from: `<sip:pf@127.0.0.1>;tag=${newTag()}`,
      to: `<sip:client@127.0.0.1:${port}>`,
      callId: newCallId('127.0.0.1'),
      cseq: 4,
      contact: `<${stack.contactFor('udp')}>`,
    });
  }

  it('a 2xx retransmitted during Timer M gets the same ACK bytes; a forked 2xx gets its own ACK; after 64·T1 both are strays', async () => {
    const ownPort = stack.transport.udp!.port;
    const sent = stack.sendInvite(inviteTo(peer.port), { transport: 'udp', address: '127.0.0.1', port: peer.port });
    const received = await peer.next();
    const ok = buildResponse(received, 200, undefined, { toTag: 'uas-1', contact: `<sip:client@127.0.0.1:${peer.port}>` });
    await peer.send(ok, ownPort);
    const ack = await peer.next();
    expect((await sent.accepted)?.ack).to.not.equal(null);
    expect(headerValue(ack, 'cseq')).to.equal('4 ACK');

    clock.advance(10_000);
    const repeats: (ClientTransaction | undefined)[] = [];
    stack.on('2xx-retransmission', (_r, txn) => repeats.push(txn));
    await peer.send(ok, ownPort);
    expect(bytesOf(await peer.next())).to.equal(bytesOf(ack), 'the very same ACK again');

    const fork = buildResponse(received, 200, undefined, { toTag: 'uas-2', contact: `<sip:client@127.0.0.1:${peer.port}>` });
    await peer.send(fork, ownPort);
    const forkAck = await peer.next();
    expect(forkAck.method).to.equal('ACK');
    expect(headerValue(forkAck, 'to')).to.contain('tag=uas-2');
    expect(headerValue(forkAck, 'from')).to.equal(headerValue(ack, 'from'));
    expect(headerValue(forkAck, 'cseq')).to.equal('4 ACK');
    expect(headerValues(forkAck, 'via')[0]).to.not.equal(headerValues(ack, 'via')[0], 'a fresh branch');
    expect(repeats).to.have.length(2);

    // Timer M ends the transaction; the core forgets the ACKs 64·T1 after the last one.
    clock.advance(64 * T.t1);
    const stray = new Promise<number>((resolve) => stack.once('stray-response', (r) => resolve(r.status)));
    await peer.send(ok, ownPort);
    expect(await stray).to.equal(200);
    stack.removeAllListeners('2xx-retransmission');
    expect(repeats).to.have.length(2, 'no 2xx-retransmission after Timer M');
  });

  it('a MESSAGE retransmitted during Timer J gets the same 200 and no new transaction; after 64·T1 it is a new request', async () => {
    const ownPort = stack.transport.udp!.port;
    const requests: ServerTransaction[] = [];
    const onRequest = (txn: ServerTransaction): void => {
      requests.push(txn);
      txn.respond(buildResponse(txn.request, 200));
    };
    stack.on('request', onRequest);
    const message = buildRequest({
      method: 'MESSAGE',
      uri: stack.contactFor('udp'),
      via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${newBranch()}`,
      from: `<sip:client@127.0.0.1>;tag=${newTag()}`,
      to: '<sip:pf@127.0.0.1>',
      callId: newCallId('127.0.0.1'),
      cseq: 1,
    });
    const responses: Buffer[] = [];
    const onResponse = (bytes: Buffer): void => {
      responses.push(bytes);
    };
    peer.socket.on('message', onResponse);
    const waitFor = async (n: number): Promise<void> => {
      while (responses.length < n) await new Promise((resolve) => setTimeout(resolve, 2));
    };
    try {
      await peer.send(message, ownPort);
      await waitFor(1);
      requests.length = 0; // drop the only reference the test holds
      clock.advance(30_000);
      await peer.send(message, ownPort);
      await waitFor(2);
      expect(responses[1]!.equals(responses[0]!)).to.equal(true, 'the same 200');
      expect(requests).to.have.length(0, 'absorbed: no new transaction');
      clock.advance(2_000);
      await peer.send(message, ownPort);
      await waitFor(3);
      expect(requests).to.have.length(1, 'Timer J over: a new transaction');
    } finally {
      stack.off('request', onRequest);
      peer.socket.off('message', onResponse);
    }
  });
});

import { expect } from 'chai';
import { FakeClock } from '../../harness/core/clock.ts';
import { harnessError } from '../../harness/core/diagnostic.ts';
import type { HarnessError } from '../../harness/core/diagnostic.ts';
import { buildRequest, buildResponse } from '../../harness/sip/build.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { SipRequest, SipResponse } from '../../harness/sip/message.ts';
import { parseSipMessage } from '../../harness/sip/parser.ts';
import { resolveTimers } from '../../harness/sip/timers.ts';
import {
  clientKey,
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteClientTransaction,
  NonInviteServerTransaction,
  serverKey,
  transactionIdentity,
} from '../../harness/sip/transaction.ts';
import type { ClientOutcome, RequestSource, SendOutcome, TransactionIo } from '../../harness/sip/transaction.ts';

const T = resolveTimers(); // RFC defaults: 500 / 4000 / 5000
const BRANCH = 'z9hG4bKtxn-test-1';

interface Sent {
  at: number;
  bytes: Buffer;
  firstLine: string;
}

/** Records every send with the fake time it happened at. */
function fakeIo(clock: FakeClock, reliable: boolean, outcome: () => SendOutcome = () => ({ ok: true })): TransactionIo & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    clock,
    timers: T,
    reliable,
    sent,
    send: (bytes) => {
      sent.push({ at: clock.now(), bytes, firstLine: bytes.toString('latin1', 0, bytes.indexOf('\r\n')) });
      return Promise.resolve(outcome());
    },
  };
}

function request(method: string, transport = 'UDP'): SipRequest {
  return buildRequest({
    method,
    uri: 'sip:client@192.0.2.50:5070',
    via: `SIP/2.0/${transport} 192.0.2.10:5060;branch=${BRANCH}`,
    from: '<sip:grp@pf.example.net>;tag=pf-1',
    to: '<sip:client@ims.example.net>',
    callId: 'call-1@pf.example.net',
    cseq: 1,
  });
}

function response(req: SipRequest, status: number, toTag = 'cl-1'): SipResponse {
  return buildResponse(req, status, undefined, status === 100 ? {} : { toTag });
}

const SOURCE: RequestSource = { transport: 'udp', local: { address: '192.0.2.10', port: 5060 }, remote: { address: '192.0.2.50', port: 5070 } };

function serverInvite(clock: FakeClock, reliable: boolean, tryingAfterMs?: number) {
  const req = request('INVITE', reliable ? 'TCP' : 'UDP');
  const io = fakeIo(clock, reliable);
  const parsed = parseSipMessage(Buffer.alloc(0));
  const txn = new InviteServerTransaction(req, parsed, SOURCE, 'k', io, tryingAfterMs === undefined ? {} : { tryingAfterMs });
  return { req, io, txn };
}

/** Lets the `.then` of a send settle. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('sip/transaction: INVITE client (RFC 3261 §17.1.1)', () => {
  it('UDP: Timer A retransmits at T1 doubling (0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s) and Timer B times out at 64·T1', async () => {
    const clock = new FakeClock();
    const io = fakeIo(clock, false);
    const txn = new InviteClientTransaction(request('INVITE'), BRANCH, io);
    let timedOut = 0;
    txn.on('timeout', () => timedOut++);
    txn.start();
    clock.advance(31_999);
    expect(io.sent.map((s) => s.at)).to.deep.equal([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(new Set(io.sent.map((s) => s.bytes.toString('latin1'))).size).to.equal(1, 'retransmissions are the same bytes');
    expect(timedOut).to.equal(0);
    clock.advance(1);
    expect(timedOut).to.equal(1);
    expect(txn.state).to.equal('terminated');
    expect(await txn.result).to.deep.equal({ kind: 'timeout' });
    expect(clock.pendingCount).to.equal(0);
  });

  it('UDP: a provisional stops retransmission and Timer B; the 2xx resolves and 2xx retransmissions still reach the TU (RFC 6026 Timer M)', async () => {
    const clock = new FakeClock();
    const io = fakeIo(clock, false);
    const req = request('INVITE');
    const txn = new InviteClientTransaction(req, BRANCH, io);
    const seen: string[] = [];
    txn.on('provisional', (r) => seen.push(`p${r.status}`));
    txn.on('final', (r, info) => seen.push(`f${r.status}${info.retransmission ? 'r' : ''}`));
    txn.start();
    clock.advance(600);
    txn.receive(response(req, 180));
    expect(txn.state).to.equal('proceeding');
    clock.advance(60_000);
    expect(io.sent).to.have.length(2, 'INVITE at 0 and 500 only');
    expect(txn.state).to.equal('proceeding', 'Timer B does not run in Proceeding');
    txn.receive(response(req, 200));
    txn.receive(response(req, 200));
    expect(seen).to.deep.equal(['p180', 'f200', 'f200r']);
    expect(txn.state).to.equal('accepted');
    const outcome = await txn.result;
    expect(outcome.kind === 'response' && outcome.response.status).to.equal(200);
    expect(io.sent).to.have.length(2, 'no ACK for a 2xx: that is the core\'s job');
    clock.advance(64 * T.t1);
    expect(txn.state).to.equal('terminated');
  });

  it('UDP: 488 is ACKed inside the transaction with the INVITE branch, re-ACKed on each retransmitted 488, Timer D ends it', () => {
    const clock = new FakeClock();
    const io = fakeIo(clock, false);
    const req = request('INVITE');
    const txn = new InviteClientTransaction(req, BRANCH, io);
    let finals = 0;
    txn.on('final', () => finals++);
    txn.start();
    const r488 = response(req, 488);
    txn.receive(r488);
    expect(txn.state).to.equal('completed');
    const ack = io.sent[1]!;
    expect(ack.firstLine).to.equal('ACK sip:client@192.0.2.50:5070 SIP/2.0');
    const parsedAck = parseSipMessage(ack.bytes).message!;
    expect(headerValues(parsedAck, 'via')[0]).to.contain(`branch=${BRANCH}`);
    expect(headerValue(parsedAck, 'cseq')).to.equal('1 ACK');
    expect(headerValue(parsedAck, 'to')).to.contain('tag=cl-1');
    expect(txn.nonSuccessAck?.method).to.equal('ACK');
    clock.advance(1000);
    expect(io.sent).to.have.length(2, 'Timer A stopped by the final');
    txn.receive(r488);
    expect(io.sent).to.have.length(3);
    expect(io.sent[2]!.bytes.equals(ack.bytes)).to.equal(true);
    expect(finals).to.equal(1, 'retransmitted final is not passed up');
    clock.advance(64 * T.t1 - 1001);
    expect(txn.state).to.equal('completed');
    clock.advance(1);
    expect(txn.state).to.equal('terminated');
  });

  it('TCP: no Timer A, Timer B still fires, Timer D is zero', async () => {
    const clock = new FakeClock();
    const io = fakeIo(clock, true);
    const txn = new InviteClientTransaction(request('INVITE', 'TCP'), BRANCH, io);
    txn.start();
    expect(txn.activeTimers).to.deep.equal(['B']);
    clock.advance(64 * T.t1);
    expect(io.sent).to.have.length(1);
    expect((await txn.result).kind).to.equal('timeout');

    const io2 = fakeIo(clock, true);
    const req = request('INVITE', 'TCP');
    const txn2 = new InviteClientTransaction(req, BRANCH, io2);
    txn2.start();
    txn2.receive(response(req, 486));
    expect(io2.sent.map((s) => s.firstLine.split(' ')[0])).to.deep.equal(['INVITE', 'ACK'], 'ACK for non-2xx even over TCP');
    expect(txn2.state).to.equal('terminated');
  });

  it('a failed send ends the transaction with a transport-error value', async () => {
    const clock = new FakeClock();
    const error: HarnessError = harnessError('SIP_CONNECT_FAILED', 'refused');
    const io = fakeIo(clock, true, () => ({ ok: false, error }));
    const txn = new InviteClientTransaction(request('INVITE', 'TCP'), BRANCH, io);
    const errors: HarnessError[] = [];
    txn.on('transport-error', (e) => errors.push(e));
    txn.start();
    const outcome: ClientOutcome = await txn.result;
    expect(outcome).to.deep.equal({ kind: 'transport-error', error });
    expect(errors).to.deep.equal([error]);
    expect(txn.state).to.equal('terminated');
    expect(clock.pendingCount).to.equal(0);
  });
});

describe('sip/transaction: non-INVITE client (RFC 3261 §17.1.2)', () => {
  it('UDP: Timer E at 0.5, 1, 2, 4, 4, 4 … s and Timer F at 64·T1', async () => {
    const clock = new FakeClock();
    const io = fakeIo(clock, false);
    const txn = new NonInviteClientTransaction(request('BYE'), BRANCH, io);
    txn.start();
    clock.advance(31_999);
    expect(io.sent.map((s) => s.at)).to.deep.equal([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    clock.advance(1);
    expect((await txn.result).kind).to.equal('timeout');
    expect(txn.state).to.equal('terminated');
  });

  it('UDP: in Proceeding retransmits every T2; a final completes, Timer K = T4 absorbs retransmitted finals', async () => {
    const clock = new FakeClock();
    const io = fakeIo(clock, false);
    const req = request('NOTIFY');
    const txn = new NonInviteClientTransaction(req, BRANCH, io);
    let finals = 0;
    txn.on('final', () => finals++);
    txn.start();
    clock.advance(600);
    txn.receive(response(req, 100));
    expect(txn.state).to.equal('proceeding');
    clock.advance(10_000); // to 10.6 s
    expect(io.sent.map((s) => s.at)).to.deep.equal([0, 500, 1500, 5500, 9500]);
    txn.receive(response(req, 200));
    txn.receive(response(req, 200));
    expect(finals).to.equal(1);
    expect(txn.state).to.equal('completed');
    expect(txn.activeTimers).to.deep.equal(['K']);
    clock.advance(T.t4);
    expect(txn.state).to.equal('terminated');
    const outcome = await txn.result;
    expect(outcome.kind === 'response' && outcome.response.status).to.equal(200);
  });

  it('TCP: no Timer E, Timer K is zero', () => {
    const clock = new FakeClock();
    const io = fakeIo(clock, true);
    const req = request('MESSAGE', 'TCP');
    const txn = new NonInviteClientTransaction(req, BRANCH, io);
    txn.start();
    expect(txn.activeTimers).to.deep.equal(['F']);
    clock.advance(10_000);
    expect(io.sent).to.have.length(1);
    txn.receive(response(req, 202));
    expect(txn.state).to.equal('terminated');
  });
});

describe('sip/transaction: INVITE server (RFC 3261 §17.2.1)', () => {
  it('sends 100 Trying at 200 ms when the TU is silent, not when it answered first, never when off', () => {
    const clock = new FakeClock();
    const silent = serverInvite(clock, false, 200);
    clock.advance(199);
    expect(silent.io.sent).to.have.length(0);
    clock.advance(1);
    expect(silent.io.sent.map((s) => s.firstLine)).to.deep.equal(['SIP/2.0 100 Trying']);
    const toOf100 = headerValue(parseSipMessage(silent.io.sent[0]!.bytes).message!, 'to');
    expect(toOf100).to.equal('<sip:client@ims.example.net>', '100 carries no To tag');

    const quick = serverInvite(clock, false, 200);
    clock.advance(100);
    quick.txn.respond(response(quick.req, 180));
    clock.advance(500);
    expect(quick.io.sent.map((s) => s.firstLine)).to.deep.equal(['SIP/2.0 180 Ringing']);

    const off = serverInvite(clock, false);
    clock.advance(1000);
    expect(off.io.sent).to.have.length(0);
  });

  it('absorbs INVITE retransmissions by re-sending the last provisional', () => {
    const clock = new FakeClock();
    const { req, io, txn } = serverInvite(clock, false);
    txn.receive(req);
    expect(io.sent).to.have.length(0, 'nothing sent yet, nothing to repeat');
    txn.respond(response(req, 180));
    txn.receive(req);
    expect(io.sent.map((s) => s.firstLine)).to.deep.equal(['SIP/2.0 180 Ringing', 'SIP/2.0 180 Ringing']);
  });

  it('UDP: 488 is retransmitted by Timer G (0.5, 1, 2, 4, 4 … s) until the ACK; Timer I = T4 absorbs ACK retransmissions', () => {
    const clock = new FakeClock();
    const { req, io, txn } = serverInvite(clock, false);
    txn.respond(response(req, 488));
    clock.advance(12_000);
    expect(io.sent.map((s) => s.at)).to.deep.equal([0, 500, 1500, 3500, 7500, 11500]);
    txn.receive(req);
    expect(io.sent).to.have.length(7, 'INVITE retransmission in Completed re-sends the final');
    const acks: SipRequest[] = [];
    txn.on('ack', (a) => acks.push(a));
    const ack = { ...req, method: 'ACK' };
    expect(txn.receive(ack)).to.equal('ack');
    expect(txn.state).to.equal('confirmed');
    expect(txn.receive(ack)).to.equal('absorbed');
    expect(acks).to.have.length(1);
    clock.advance(10_000);
    expect(io.sent).to.have.length(7, 'Timer G stopped by the ACK');
    expect(txn.state).to.equal('terminated', 'Timer I fired');
  });

  it('UDP: Timer H fires at 64·T1 without ACK', () => {
    const clock = new FakeClock();
    const { req, txn } = serverInvite(clock, false);
    let timeouts = 0;
    txn.on('timeout', () => timeouts++);
    txn.respond(response(req, 603));
    clock.advance(64 * T.t1 - 1);
    expect(timeouts).to.equal(0);
    clock.advance(1);
    expect(timeouts).to.equal(1);
    expect(txn.state).to.equal('terminated');
  });

  it('TCP: no Timer G, Timer H still runs, Timer I is zero', () => {
    const clock = new FakeClock();
    const { req, io, txn } = serverInvite(clock, true);
    txn.respond(response(req, 488));
    expect(txn.activeTimers).to.deep.equal(['H']);
    clock.advance(10_000);
    expect(io.sent).to.have.length(1);
    txn.receive({ ...req, method: 'ACK' });
    expect(txn.state).to.equal('terminated');
  });

  it('2xx moves to Accepted: INVITE retransmissions are absorbed silently, Timer L ends it; a second final is refused', () => {
    const clock = new FakeClock();
    const { req, io, txn } = serverInvite(clock, false);
    const twoXx: SipResponse[] = [];
    const s = new InviteServerTransaction(req, parseSipMessage(Buffer.alloc(0)), SOURCE, 'k2', fakeIo(clock, false), { onInvite2xx: (_t, r) => twoXx.push(r) });
    s.respond(response(req, 200));
    expect(twoXx.map((r) => r.status)).to.deep.equal([200]);
    txn.respond(response(req, 200));
    expect(txn.state).to.equal('accepted');
    expect(txn.receive(req)).to.equal('absorbed');
    expect(io.sent).to.have.length(1);
    expect(txn.respond(response(req, 486))).to.equal(false);
    expect(io.sent).to.have.length(1);
    clock.advance(64 * T.t1);
    expect(txn.state).to.equal('terminated');
  });
});

describe('sip/transaction: non-INVITE server (RFC 3261 §17.2.2)', () => {
  function serverNonInvite(clock: FakeClock, reliable: boolean) {
    const req = request('SUBSCRIBE', reliable ? 'TCP' : 'UDP');
    const io = fakeIo(clock, reliable);
    return { req, io, txn: new NonInviteServerTransaction(req, parseSipMessage(Buffer.alloc(0)), SOURCE, 'k', io) };
  }

  it('UDP: retransmissions absorbed in Trying, answered with the final in Completed, Timer J = 64·T1', () => {
    const clock = new FakeClock();
    const { req, io, txn } = serverNonInvite(clock, false);
    txn.receive(req);
    expect(io.sent).to.have.length(0);
    txn.respond(response(req, 200));
    txn.receive(req);
    expect(io.sent.map((s) => s.firstLine)).to.deep.equal(['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
    expect(io.sent[0]!.bytes.equals(io.sent[1]!.bytes)).to.equal(true);
    clock.advance(64 * T.t1 - 1);
    expect(txn.state).to.equal('completed');
    clock.advance(1);
    expect(txn.state).to.equal('terminated');
  });

  it('TCP: Timer J is zero', () => {
    const clock = new FakeClock();
    const { req, txn } = serverNonInvite(clock, true);
    txn.respond(response(req, 404));
    expect(txn.state).to.equal('terminated');
  });

  it('a failed response send terminates with transport-error', async () => {
    const clock = new FakeClock();
    const req = request('BYE');
    const io = fakeIo(clock, false, () => ({ ok: false, error: harnessError('SIP_SEND_FAILED', 'x') }));
    const txn = new NonInviteServerTransaction(req, parseSipMessage(Buffer.alloc(0)), SOURCE, 'k', io);
    const errors: string[] = [];
    txn.on('transport-error', (e) => errors.push(e.code));
    txn.respond(response(req, 200));
    await tick();
    expect(errors).to.deep.equal(['SIP_SEND_FAILED']);
    expect(txn.state).to.equal('terminated');
  });
});

describe('sip/transaction: matching (§17.1.3, §17.2.3)', () => {
  it('client key is branch + CSeq method; a CANCEL with the INVITE branch is another transaction', () => {
    const inv = request('INVITE');
    const id = transactionIdentity(response(inv, 180));
    expect(id.ok).to.equal(true);
    if (!id.ok) return;
    expect(clientKey(id.value.branch!, id.value.cseqMethod)).to.equal(clientKey(BRANCH, 'INVITE'));
    expect(clientKey(BRANCH, 'CANCEL')).to.not.equal(clientKey(BRANCH, 'INVITE'));
  });

  it('server key: ACK matches its INVITE, CANCEL only when asked as INVITE, sent-by and branch both count', () => {
    const inv = request('INVITE');
    const key = (r: SipRequest, as?: string): string => {
      const id = transactionIdentity(r);
      if (!id.ok) throw new Error('identity');
      return serverKey(r, id.value, as);
    };
    const ack: SipRequest = { ...request('ACK'), headers: inv.headers.map((h) => (h.name === 'CSeq' ? { name: 'CSeq', value: '1 ACK' } : h)) };
    const cancel = { ...request('CANCEL') };
    expect(key(ack)).to.equal(key(inv));
    expect(key(cancel)).to.not.equal(key(inv));
    expect(key(cancel, 'INVITE')).to.equal(key(inv));
    const otherSentBy = { ...inv, headers: inv.headers.map((h) => (h.name === 'Via' ? { name: 'Via', value: `SIP/2.0/UDP 192.0.2.11:5060;branch=${BRANCH}` } : h)) };
    expect(key(otherSentBy)).to.not.equal(key(inv));
  });

  it('RFC 2543 branches (no magic cookie) match on Request-URI, From tag, Call-ID, CSeq and top Via', () => {
    const old = { ...request('INVITE'), headers: request('INVITE').headers.map((h) => (h.name === 'Via' ? { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.10:5060;branch=abc' } : h)) };
    const id = transactionIdentity(old);
    expect(id.ok).to.equal(true);
    if (!id.ok) return;
    expect(serverKey(old, id.value)).to.match(/^2543\|sip:client@192\.0\.2\.50:5070\|pf-1\|call-1@pf\.example\.net\|1\|/);
  });

  it('a message without Via gives diagnostics, not a throw', () => {
    const r = request('OPTIONS');
    const noVia = { ...r, headers: r.headers.filter((h) => h.name !== 'Via') };
    const id = transactionIdentity(noVia);
    expect(id.ok).to.equal(false);
    expect(id.diagnostics.map((d) => d.code)).to.deep.equal(['SIP_TXN_NO_VIA']);
  });
});

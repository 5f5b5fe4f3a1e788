import { expect } from 'chai';
import { FakeClock } from '../../harness/core/clock.ts';
import { newBranch, newCallId, newTag } from '../../harness/core/ids.ts';
import { TraceRecorder } from '../../harness/core/trace.ts';
import type { MessageTraceEvent, TraceEvent, TransportKind } from '../../harness/core/trace.ts';
import { buildCancel, buildRequest, buildResponse } from '../../harness/sip/build.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { SipRequest, SipResponse } from '../../harness/sip/message.ts';
import { SipStack } from '../../harness/sip/stack.ts';
import type { ServerTransaction, Target } from '../../harness/sip/stack.ts';

const FAST = { t1: 20, t2: 160, t4: 200 };
const TRANSPORTS: TransportKind[] = ['udp', 'tcp'];
/**
 * Lets what is already in flight land, whatever the machine's speed: two event-loop turns (a TCP
 * write's callback, where its trace event is stamped, runs on the next tick; a UDP send's in the
 * next turn; a datagram already sent on loopback is read in the next poll).
 */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

function targetOf(stack: SipStack, transport: TransportKind): Target {
  const local = transport === 'udp' ? stack.transport.udp! : stack.transport.tcp!;
  return { transport, address: local.address, port: local.port };
}

function request(method: string, from: SipStack, to: SipStack, transport: TransportKind, cseq = 1): SipRequest {
  return buildRequest({
    method,
    uri: to.contactFor(transport),
    via: from.viaFor(transport, newBranch()),
    from: `<sip:grp@pf.example.net>;tag=${newTag()}`,
    to: '<sip:client@ims.example.net>',
    callId: newCallId('pf.example.net'),
    cseq,
    contact: `<${from.contactFor(transport)}>`,
  });
}

/** The ACK for a 2xx, built by the UAC core: new branch, CSeq number of the INVITE, To from the 2xx. */
function ackFor2xx(stack: SipStack, invite: SipRequest, response: SipResponse, transport: TransportKind): SipRequest {
  return buildRequest({
    method: 'ACK',
    uri: invite.uri,
    via: stack.viaFor(transport, newBranch()),
    from: headerValue(invite, 'from')!,
    to: headerValue(response, 'to')!,
    callId: headerValue(invite, 'call-id')!,
    cseq: 1,
  });
}

function nextRequest(stack: SipStack): Promise<ServerTransaction> {
  return new Promise((resolve) => stack.once('request', resolve));
}

function sentBy(events: readonly TraceEvent[], actor: string, summary: string): MessageTraceEvent[] {
  return events.filter((e): e is MessageTraceEvent => e.kind === 'message' && e.direction === 'out' && e.actor === actor && e.summary.startsWith(summary));
}

describe('sip/stack on 127.0.0.1 with T1 = 20 ms', () => {
  const recorder = new TraceRecorder();
  let pf: SipStack;
  let client: SipStack;

  before(async () => {
    pf = await SipStack.start({ actor: 'pf', address: '127.0.0.1', udpPort: 0, tcpPort: 0, timers: FAST, trace: recorder.sink });
    client = await SipStack.start({ actor: 'client', address: '127.0.0.1', timers: FAST, trace: recorder.sink });
  });

  after(async () => {
    await pf.close();
    await client.close();
  });

  it('contactFor and viaFor name the bound sockets', () => {
    expect(pf.contactFor('tcp')).to.equal(`sip:pf@127.0.0.1:${pf.transport.tcp!.port};transport=tcp`);
    expect(pf.viaFor('udp', 'z9hG4bKx')).to.equal(`SIP/2.0/UDP 127.0.0.1:${pf.transport.udp!.port};branch=z9hG4bKx`);
  });

  for (const transport of TRANSPORTS) {
    it(`${transport}: INVITE → 488 → ACK (same branch, built inside the transaction)`, async () => {
      const from = recorder.lastSeq + 1;
      const incoming = nextRequest(client);
      const invite = request('INVITE', pf, client, transport);
      const txn = pf.sendRequest(invite, targetOf(client, transport));
      const uas = await incoming;
      expect(uas.request.method).to.equal('INVITE');
      expect(uas.source.transport).to.equal(transport);
      const acked = new Promise<SipRequest>((resolve) => uas.on('ack', resolve));
      uas.respond(buildResponse(uas.request, 488));
      const outcome = await txn.result;
      expect(outcome.kind === 'response' && outcome.response.status).to.equal(488);
      const ack = await acked;
      expect(headerValues(ack, 'via')[0]).to.equal(headerValues(invite, 'via')[0]);
      expect(headerValue(ack, 'cseq')).to.equal('1 ACK');
      if (transport === 'tcp') {
        const events = recorder.slice(from);
        const requestOut = sentBy(events, 'pf', 'INVITE')[0]!;
        const responseOut = sentBy(events, 'client', 'SIP/2.0 488')[0]!;
        // §18.2.2: the response goes back on the connection the request came in on.
        expect(responseOut.remote).to.deep.equal(requestOut.local);
        expect(events.filter((e) => e.kind === 'connection' && e.actor === 'client' && e.state === 'connected')).to.have.length(0);
      }
    });

    it(`${transport}: INVITE → 200, the UAS core retransmits the 2xx until the ACK, the UAC core re-ACKs`, async () => {
      const incoming = nextRequest(client);
      const invite = request('INVITE', pf, client, transport);
      const txn = pf.sendRequest(invite, targetOf(client, transport));
      const retransmitted = new Promise<SipResponse>((resolve) => pf.once('2xx-retransmission', (r) => resolve(r)));
      const finals: boolean[] = [];
      txn.on('final', (_r, info) => finals.push(info.retransmission));
      const uas = await incoming;
      const uasAck = new Promise<SipRequest>((resolve) => uas.on('ack', resolve));
      const stackAck = new Promise<SipRequest>((resolve) => client.once('ack', (a, info) => {
        expect(info.transaction).to.equal(uas);
        resolve(a);
      }));
      uas.respond(buildResponse(uas.request, 200, undefined, { contact: `<${client.contactFor(transport)}>` }));
      const outcome = await txn.result;
      if (outcome.kind !== 'response') throw new Error(outcome.kind);
      const retransmission = await retransmitted; // deliberately late ACK: wait for one 2xx retransmission
      expect(finals.slice(0, 2)).to.deep.equal([false, true]);
      expect(retransmission.status).to.equal(200);
      const ack = ackFor2xx(pf, invite, outcome.response, transport);
      const sent = await pf.sendAck(ack, targetOf(client, transport));
      expect(sent.ok).to.equal(true);
      await uasAck;
      await stackAck;
      // That the ACK stops the retransmission is proved on fake time (below): here it would be a sleep.
    });

    it(`${transport}: non-INVITE request and 200`, async () => {
      const incoming = nextRequest(client);
      const txn = pf.sendRequest(request('MESSAGE', pf, client, transport), targetOf(client, transport));
      const uas = await incoming;
      expect(uas.request.method).to.equal('MESSAGE');
      expect(uas.respond(buildResponse(uas.request, 200))).to.equal(true);
      const outcome = await txn.result;
      expect(outcome.kind === 'response' && outcome.response.status).to.equal(200);
    });

    it(`${transport}: CANCEL after a provisional: 200 to the CANCEL, 487 to the INVITE, ACK for the 487 (§9.2)`, async () => {
      const incoming = nextRequest(client);
      const invite = request('INVITE', pf, client, transport);
      const inviteTxn = pf.sendRequest(invite, targetOf(client, transport));
      const uas = await incoming;
      const cancelled = new Promise<ServerTransaction>((resolve) => uas.once('cancelled', resolve));
      const acked = new Promise<SipRequest>((resolve) => uas.on('ack', resolve));
      const ringing = new Promise<SipResponse>((resolve) => inviteTxn.once('provisional', resolve));
      uas.respond(buildResponse(uas.request, 180, undefined, { toTag: 'cl-ring' }));
      await ringing;
      const cancelTxn = pf.sendRequest(buildCancel(invite), targetOf(client, transport));
      const cancelOutcome = await cancelTxn.result;
      const inviteOutcome = await inviteTxn.result;
      expect(cancelOutcome.kind === 'response' && cancelOutcome.response.status).to.equal(200);
      expect(inviteOutcome.kind === 'response' && inviteOutcome.response.status).to.equal(487);
      if (inviteOutcome.kind === 'response') expect(headerValue(inviteOutcome.response, 'to')).to.contain('tag=cl-ring');
      expect((await cancelled).request.method).to.equal('CANCEL');
      expect((await acked).method).to.equal('ACK');
    });
  }

  it('a CANCEL that matches no INVITE is answered 481', async () => {
    const orphan = buildCancel(request('INVITE', pf, client, 'udp'));
    const outcome = await pf.sendRequest(orphan, targetOf(client, 'udp')).result;
    expect(outcome.kind === 'response' && outcome.response.status).to.equal(481);
  });

  it('UDP INVITE retransmissions reach the TU once (absorbed by the server transaction)', async () => {
    let requests = 0;
    const count = (): void => {
      requests++;
    };
    client.on('request', count);
    const incoming = nextRequest(client);
    const invite = request('INVITE', pf, client, 'udp');
    const callId = headerValue(invite, 'call-id');
    // Timer A fires at 20, 60 ms: wait until both retransmissions have arrived (an event, not a sleep).
    const arrivals = new Promise<void>((resolve) => {
      let seen = 0;
      const stop = recorder.subscribe((e) => {
        if (e.kind !== 'message' || e.direction !== 'in' || e.actor !== 'client' || !e.summary.startsWith('INVITE')) return;
        if (!e.bytes.toString('latin1').includes(`Call-ID: ${callId}`) || ++seen < 3) return;
        stop();
        resolve();
      });
    });
    const txn = pf.sendRequest(invite, targetOf(client, 'udp'));
    const uas = await incoming;
    await arrivals;
    // A retransmission handed to the TU would have been in the same receive turn as its trace event.
    await new Promise((resolve) => setImmediate(resolve));
    uas.respond(buildResponse(uas.request, 486));
    await txn.result;
    client.off('request', count);
    expect(requests).to.equal(1);
  });

  it('unparsable bytes reach "invalid", responses that match nothing reach "stray-response"', async () => {
    const invalid = new Promise<string>((resolve) => client.once('invalid', (p, source) => resolve(`${p.message === null}|${source.transport}`)));
    await pf.sendStateless(Buffer.from('NOT SIP AT ALL\r\n\r\n', 'latin1'), targetOf(client, 'udp'));
    expect(await invalid).to.equal('true|udp');

    const stray = new Promise<number>((resolve) => pf.once('stray-response', (r) => resolve(r.status)));
    const orphanResponse = buildResponse(request('OPTIONS', pf, client, 'udp'), 200);
    await client.sendStateless(orphanResponse, targetOf(pf, 'udp'));
    expect(await stray).to.equal(200);
  });

  it('sendRequest without a usable Via fails as a value, never throws', async () => {
    const r = request('OPTIONS', pf, client, 'udp');
    r.headers = r.headers.filter((h) => h.name !== 'Via');
    const outcome = await pf.sendRequest(r, targetOf(client, 'udp')).result;
    expect(outcome.kind === 'transport-error' && outcome.error.code).to.equal('SIP_UNMATCHABLE_REQUEST');
  });
});

describe('sip/stack with a FakeClock (real sockets, fake time)', () => {
  const clock = new FakeClock();
  let pf: SipStack;
  let client: SipStack;

  before(async () => {
    pf = await SipStack.start({ actor: 'pf', address: '127.0.0.1', clock });
    client = await SipStack.start({ actor: 'client', address: '127.0.0.1', clock });
  });

  after(async () => {
    await pf.close();
    await client.close();
  });

  it('a request with fatal diagnostics reaches "invalid" and "request" but is not answered automatically', async () => {
    const bad = request('INVITE', pf, client, 'udp');
    bad.headers = bad.headers.map((h) => (h.name === 'Max-Forwards' ? { name: 'Max-Forwards', value: 'lots' } : h));
    const invalid = new Promise<string[]>((resolve) => client.once('invalid', (p) => resolve(p.diagnostics.map((d) => d.code))));
    const incoming = nextRequest(client);
    await pf.sendStateless(bad, targetOf(client, 'udp'));
    expect(await invalid).to.include('SIP_BAD_MAX_FORWARDS');
    const uas = await incoming;
    expect(uas.diagnostics.map((d) => d.code)).to.include('SIP_BAD_MAX_FORWARDS');
    // Past the 200 ms auto-Trying point on the fake clock: the transaction sent nothing by itself.
    clock.advance(300);
    expect(uas.provisionalResponse).to.equal(undefined);
    uas.respond(buildResponse(uas.request, 400));
  });

  it('INVITE server sends 100 Trying at 200 ms when the TU is silent', async () => {
    const incoming = nextRequest(client);
    const txn = pf.sendRequest(request('INVITE', pf, client, 'tcp'), targetOf(client, 'tcp'));
    const uas = await incoming;
    const trying = new Promise<number>((resolve) => txn.once('provisional', (r) => resolve(r.status)));
    clock.advance(199);
    await flush();
    expect(uas.provisionalResponse).to.equal(undefined);
    clock.advance(1);
    expect(await trying).to.equal(100);
    uas.respond(buildResponse(uas.request, 603));
    await txn.result;
  });

  for (const transport of TRANSPORTS) {
    it(`${transport}: the 2xx is retransmitted at T1 until the ACK, and not once after it (§13.3.1.4)`, async () => {
      const recorder = new TraceRecorder();
      const traced = await SipStack.start({ actor: 'uas', address: '127.0.0.1', clock, trace: recorder.sink });
      try {
        const incoming = nextRequest(traced);
        const invite = request('INVITE', pf, traced, transport);
        const txn = pf.sendRequest(invite, targetOf(traced, transport));
        const uas = await incoming;
        const uasAck = new Promise<SipRequest>((resolve) => uas.on('ack', resolve));
        const retransmitted = new Promise<SipResponse>((resolve) => pf.once('2xx-retransmission', (r) => resolve(r)));
        uas.respond(buildResponse(uas.request, 200, undefined, { contact: `<${traced.contactFor(transport)}>` }));
        const outcome = await txn.result;
        if (outcome.kind !== 'response') throw new Error(outcome.kind);
        clock.advance(500); // T1: the first retransmission
        expect((await retransmitted).status).to.equal(200);
        expect((await pf.sendAck(ackFor2xx(pf, invite, outcome.response, transport), targetOf(traced, transport))).ok).to.equal(true);
        await uasAck;
        await flush();
        expect(sentBy(recorder.events, 'uas', 'SIP/2.0 200')).to.have.length(2);
        clock.advance(64 * 500);
        await flush();
        expect(sentBy(recorder.events, 'uas', 'SIP/2.0 200')).to.have.length(2, 'ACK stops the 2xx retransmission');
      } finally {
        await traced.close();
      }
    });
  }

  it('TCP: the 2xx is retransmitted at T1 doubling capped at T2 regardless of transport, then ack-timeout at 64·T1', async () => {
    const recorder = new TraceRecorder();
    const traced = await SipStack.start({ actor: 'uas', address: '127.0.0.1', tcpPort: 0, clock, trace: recorder.sink });
    try {
      const incoming = nextRequest(traced);
      const txn = pf.sendRequest(request('INVITE', pf, traced, 'tcp'), targetOf(traced, 'tcp'));
      const uas = await incoming;
      const timeouts: string[] = [];
      uas.on('ack-timeout', () => timeouts.push('txn'));
      traced.on('ack-timeout', () => timeouts.push('stack'));
      uas.respond(buildResponse(uas.request, 200));
      await txn.result;
      const start = clock.now();
      const sendTimes: number[] = [];
      await flush();
      let seen = sentBy(recorder.events, 'uas', 'SIP/2.0 200').length;
      expect(seen).to.equal(1);
      for (let t = 0; t < 32_000; t += 250) {
        clock.advance(250);
        await flush();
        const count = sentBy(recorder.events, 'uas', 'SIP/2.0 200').length;
        if (count > seen) sendTimes.push(clock.now() - start);
        seen = count;
      }
      await flush();
      // First send at 0, then 0.5, 1.5, 3.5, 7.5 s and every 4 s until 64·T1 = 32 s.
      expect(sentBy(recorder.events, 'uas', 'SIP/2.0 200')).to.have.length(11);
      expect(sendTimes.slice(0, 5)).to.deep.equal([500, 1500, 3500, 7500, 11500]);
      expect(timeouts).to.deep.equal(['txn', 'stack']);
    } finally {
      await traced.close();
    }
  });
});

describe('sip/stack over IPv6 loopback', () => {
  it('INVITE → 200 over ::1 (UDP)', async () => {
    const pf = await SipStack.start({ actor: 'pf', address: '::1', timers: FAST });
    const client = await SipStack.start({ actor: 'client', address: '::1', timers: FAST });
    try {
      expect(pf.contactFor('udp')).to.match(/^sip:pf@\[::1\]:\d+;transport=udp$/);
      const incoming = nextRequest(client);
      const invite = request('INVITE', pf, client, 'udp');
      const txn = pf.sendRequest(invite, targetOf(client, 'udp'));
      const uas = await incoming;
      uas.respond(buildResponse(uas.request, 200));
      const outcome = await txn.result;
      if (outcome.kind !== 'response') throw new Error(outcome.kind);
      expect(outcome.response.status).to.equal(200);
      const acked = new Promise<void>((resolve) => uas.on('ack', () => resolve()));
      await pf.sendAck(ackFor2xx(pf, invite, outcome.response, 'udp'), targetOf(client, 'udp'));
      await acked;
    } finally {
      await pf.close();
      await client.close();
    }
  });
});

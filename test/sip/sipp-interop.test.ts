/**
 * Interop against SIPp (an independent SIP implementation): SIPp's scenarios in test/sipp/ play one
 * side of each ladder, the harness's SipStack + Dialog the other, over UDP and TCP. A pass needs
 * SIPp's exit code 0 (its own checks held) AND the expected messages in our trace.
 */
import { expect } from 'chai';
import { newBranch, newCallId, newTag } from '../../harness/core/ids.ts';
import { TraceRecorder } from '../../harness/core/trace.ts';
import type { MessageTraceEvent, TransportKind } from '../../harness/core/trace.ts';
import { buildRequest, buildResponse } from '../../harness/sip/build.ts';
import { Dialog } from '../../harness/sip/dialog.ts';
import { parseSubscriptionState } from '../../harness/sip/headers.ts';
import { headerValue, methodOf } from '../../harness/sip/message.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../harness/sip/message.ts';
import { SipStack } from '../../harness/sip/stack.ts';
import type { ClientTransaction, ServerTransaction, Target } from '../../harness/sip/stack.ts';
import { describeRun, runSippOnFreePort, sippSkipReason, startSippListening } from '../helpers/sipp.ts';
import type { SippRun } from '../helpers/sipp.ts';

const T1 = 20;
const SDP = ['v=0', 'o=harness 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=message 7394 TCP/MSRP *', 'a=accept-types:message/cpim', 'a=path:msrp://127.0.0.1:7394/harness1;tcp', 'a=setup:actpass', 'a=sendrecv', ''].join('\r\n');

interface Seen {
  direction: 'in' | 'out';
  seq: number;
  message: SipMessage;
}

/** One harness user agent: a SipStack with a trace we can read back as parsed messages. */
class HarnessUa {
  readonly dialogs: Dialog[] = [];
  readonly problems: string[] = [];
  /** Resolves when the INVITE server transaction of a rejected INVITE has terminated (Timer I after the ACK). */
  rejectDone: Promise<void> = Promise.resolve();
  private constructor(readonly stack: SipStack, readonly transport: TransportKind, readonly trace: TraceRecorder) {}

  static async start(transport: TransportKind): Promise<HarnessUa> {
    const trace = new TraceRecorder();
    const stack = await SipStack.start({ actor: 'harness', address: '127.0.0.1', udpPort: 0, tcpPort: 0, timers: { t1: T1, t4: 8 * T1 }, trace: trace.sink });
    return new HarnessUa(stack, transport, trace);
  }

  get port(): number {
    const local = this.transport === 'udp' ? this.stack.transport.udp : this.stack.transport.tcp;
    if (local === undefined) throw new Error(`no ${this.transport} socket`);
    return local.port;
  }

  get contact(): string {
    return `<${this.stack.contactFor(this.transport)}>`;
  }

  via(): string {
    return this.stack.viaFor(this.transport, newBranch());
  }

  seen(direction?: 'in' | 'out'): Seen[] {
    return this.trace.events
      .filter((e): e is MessageTraceEvent => e.kind === 'message' && (direction === undefined || e.direction === direction))
      .filter((e) => e.parsed !== undefined)
      .map((e) => ({ direction: e.direction, seq: e.seq, message: e.parsed as SipMessage }));
  }

  /** Messages with this start (method, or status code) and CSeq method, in order. */
  find(direction: 'in' | 'out', what: string | number, cseqMethod?: string): Seen[] {
    return this.seen(direction).filter(({ message: m }) => {
      const head = m.kind === 'request' ? m.method === what : m.status === what;
      return head && (cseqMethod === undefined || methodOf(m) === cseqMethod);
    });
  }

  dialogFor(message: SipMessage): Dialog | undefined {
    return this.dialogs.find((d) => d.matches(message));
  }

  /** Where an in-dialog request goes; on TCP the connection the peer opened, if still up. */
  target(dialog: Dialog, connectionId?: string): Target {
    const hop = dialog.nextHop();
    if (!hop.ok) throw new Error(`no next hop: ${hop.diagnostics.map((d) => d.code).join(',')}`);
    const target: Target = { transport: hop.value.transport, address: hop.value.address, port: hop.value.port };
    if (connectionId !== undefined) target.connectionId = connectionId;
    return target;
  }

  async close(): Promise<void> {
    await this.stack.close();
  }
}

/** Answers requests like a callee/notifier: INVITE with 200 (or 488), BYE, SUBSCRIBE + NOTIFY. */
function serveAsUas(ua: HarnessUa, invite: 'accept' | 'reject'): void {
  const notify = (dialog: Dialog, state: string, source: ServerTransaction['source']): ClientTransaction => {
    const request = dialog.createRequest('NOTIFY', {
      via: ua.via(),
      headers: [{ name: 'Event', value: 'conference' }, { name: 'Subscription-State', value: state }],
    });
    return ua.stack.sendRequest(request, ua.target(dialog, source.connectionId));
  };
  ua.stack.on('request', (txn) => {
    const request = txn.request;
    const existing = ua.dialogFor(request);
    if (existing !== undefined) {
      const diagnostics = existing.acceptRemoteRequest(request);
      if (diagnostics.some((d) => d.severity === 'error')) {
        ua.problems.push(...diagnostics.map((d) => d.code));
        txn.respond(buildResponse(request, 500));
        return;
      }
      if (request.method === 'SUBSCRIBE') {
        const expires = headerValue(request, 'expires') ?? '600';
        txn.respond(buildResponse(request, 200, undefined, { contact: ua.contact, headers: [{ name: 'Expires', value: expires }] }));
        notify(existing, expires === '0' ? 'terminated;reason=timeout' : `active;expires=${expires}`, txn.source);
        return;
      }
      txn.respond(buildResponse(request, 200));
      return;
    }
    if (request.method === 'INVITE' && invite === 'reject') {
      ua.rejectDone = new Promise((resolve) => txn.on('terminated', () => resolve()));
      txn.respond(buildResponse(request, 488, undefined, { headers: [{ name: 'Warning', value: '399 harness "a=sendrecv required"' }] }));
      return;
    }
    if (request.method === 'INVITE' || request.method === 'SUBSCRIBE') {
      const response =
        request.method === 'INVITE'
          ? buildResponse(request, 200, undefined, { contact: ua.contact, body: SDP, contentType: 'application/sdp' })
          : buildResponse(request, 200, undefined, { contact: ua.contact, headers: [{ name: 'Expires', value: headerValue(request, 'expires') ?? '600' }] });
      const dialog = Dialog.fromUas(request, response);
      if (!dialog.ok) {
        ua.problems.push(...dialog.diagnostics.map((d) => d.code));
        txn.respond(buildResponse(request, 400));
        return;
      }
      ua.dialogs.push(dialog.value);
      txn.respond(response);
      if (request.method === 'SUBSCRIBE') notify(dialog.value, 'active;expires=600', txn.source);
      return;
    }
    txn.respond(buildResponse(request, request.method === 'BYE' ? 481 : 405));
  });
}

interface UacCall {
  invite: SipRequest;
  outcome: SipResponse | undefined;
  dialog: Dialog | undefined;
  byeStatus: number | undefined;
}

function outOfDialog(ua: HarnessUa, method: 'INVITE' | 'SUBSCRIBE', sippPort: number, extra: Partial<Parameters<typeof buildRequest>[0]> = {}): SipRequest {
  return buildRequest({
    method,
    uri: `sip:sipp@127.0.0.1:${sippPort}`,
    via: ua.via(),
    from: `<sip:harness@127.0.0.1>;tag=${newTag()}`,
    to: `<sip:sipp@127.0.0.1:${sippPort}>`,
    callId: newCallId('127.0.0.1'),
    cseq: 1,
    contact: ua.contact,
    ...extra,
  });
}

/** Calls SIPp: INVITE, then ACK (re-sent for every 2xx retransmission) and BYE for a 2xx. */
async function callSipp(ua: HarnessUa, sippPort: number): Promise<UacCall> {
  const invite = outOfDialog(ua, 'INVITE', sippPort, { body: SDP, contentType: 'application/sdp' });
  const first: Target = { transport: ua.transport, address: '127.0.0.1', port: sippPort };
  const outcome = await ua.stack.sendRequest(invite, first).result;
  const call: UacCall = { invite, outcome: outcome.kind === 'response' ? outcome.response : undefined, dialog: undefined, byeStatus: undefined };
  if (call.outcome === undefined || call.outcome.status < 200 || call.outcome.status >= 300) return call;
  const dialog = Dialog.fromUac(invite, call.outcome);
  if (!dialog.ok) return call;
  call.dialog = dialog.value;
  const ack = dialog.value.createAck(1, { via: ua.via() });
  const target = ua.target(dialog.value);
  // §13.2.2.4: the same ACK again for each retransmission of the 2xx.
  ua.stack.on('2xx-retransmission', (response) => {
    if (dialog.value.matches(response)) void ua.stack.sendAck(ack, target);
  });
  await ua.stack.sendAck(ack, target);
  const bye = dialog.value.createRequest('BYE', { via: ua.via() });
  const byeOutcome = await ua.stack.sendRequest(bye, target).result;
  call.byeStatus = byeOutcome.kind === 'response' ? byeOutcome.response.status : undefined;
  return call;
}

/** Subscribes at SIPp, answers its NOTIFYs, then un-subscribes in the dialog. */
async function subscribeAtSipp(ua: HarnessUa, sippPort: number): Promise<{ dialog: Dialog | undefined; notifyStates: string[]; unsubscribeStatus: number | undefined }> {
  const subscribe = outOfDialog(ua, 'SUBSCRIBE', sippPort, { headers: [{ name: 'Event', value: 'conference' }, { name: 'Expires', value: '600' }] });
  const notifyStates: string[] = [];
  let resolveDialog: (d: Dialog | undefined) => void = () => {};
  const dialogReady = new Promise<Dialog | undefined>((resolve) => (resolveDialog = resolve));
  let terminated: () => void = () => {};
  const terminatedSeen = new Promise<void>((resolve) => (terminated = resolve));
  ua.stack.on('request', (txn) => {
    void (async () => {
      // RFC 6665 §4.1.2.4: a NOTIFY may overtake the 200; wait for the dialog.
      const dialog = await dialogReady;
      if (txn.request.method !== 'NOTIFY' || dialog === undefined || !dialog.matches(txn.request)) {
        txn.respond(buildResponse(txn.request, 481));
        return;
      }
      const diagnostics = dialog.acceptRemoteRequest(txn.request);
      if (diagnostics.some((d) => d.severity === 'error')) {
        ua.problems.push(...diagnostics.map((d) => d.code));
        txn.respond(buildResponse(txn.request, 500));
        return;
      }
      const state = parseSubscriptionState(headerValue(txn.request, 'subscription-state') ?? '');
      notifyStates.push(state.ok ? state.value.state : 'unparsable');
      txn.respond(buildResponse(txn.request, 200));
      if (state.ok && state.value.state === 'terminated') terminated();
    })();
  });
  const outcome = await ua.stack.sendRequest(subscribe, { transport: ua.transport, address: '127.0.0.1', port: sippPort }).result;
  const created = outcome.kind === 'response' && outcome.response.status === 200 ? Dialog.fromUac(subscribe, outcome.response) : undefined;
  const dialog = created?.ok ? created.value : undefined;
  resolveDialog(dialog);
  if (dialog === undefined) return { dialog, notifyStates, unsubscribeStatus: undefined };
  await waitFor(() => notifyStates.length >= 1, 2000);
  const unsubscribe = dialog.createRequest('SUBSCRIBE', { via: ua.via(), headers: [{ name: 'Event', value: 'conference' }, { name: 'Expires', value: '0' }] });
  const unsub = await ua.stack.sendRequest(unsubscribe, ua.target(dialog)).result;
  await Promise.race([terminatedSeen, new Promise((resolve) => setTimeout(resolve, 2000))]);
  return { dialog, notifyStates, unsubscribeStatus: unsub.kind === 'response' ? unsub.response.status : undefined };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

function expectPassed(run: SippRun): void {
  expect(run.exitCode, describeRun(run)).to.equal(0);
}

/** SIPp as UAC against our UAS. */
async function sippCalls(ua: HarnessUa, scenario: string, extraArgs: string[] = []): Promise<SippRun> {
  return runSippOnFreePort({
    scenario,
    transport: ua.transport,
    remote: { address: '127.0.0.1', port: ua.port },
    service: 'harness',
    timeoutSeconds: 8,
    extraArgs,
  });
}

/** SIPp as UAS; `drive` runs our UAC once SIPp listens. */
async function sippAnswers<T>(ua: HarnessUa, scenario: string, drive: (port: number) => Promise<T>, extraArgs: string[] = []): Promise<{ run: SippRun; result: T }> {
  const started = await startSippListening({ scenario, transport: ua.transport, timeoutSeconds: 8, extraArgs }, 3000);
  if (!started.ok) throw new Error(started.message);
  const result = await drive(started.port);
  return { run: await started.sipp.done, result };
}

describe('sip/sipp-interop: harness SipStack + Dialog against SIPp 3.6', function () {
  this.timeout(20000);
  const open: HarnessUa[] = [];
  const start = async (transport: TransportKind): Promise<HarnessUa> => {
    const ua = await HarnessUa.start(transport);
    open.push(ua);
    return ua;
  };

  before(function () {
    const reason = sippSkipReason();
    if (reason !== undefined) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((ua) => ua.close()));
  });

  for (const transport of ['udp', 'tcp'] as const) {
    describe(`over ${transport.toUpperCase()}`, () => {
      it('SIPp UAC → our UAS: INVITE / 200 / ACK / BYE', async () => {
        const ua = await start(transport);
        serveAsUas(ua, 'accept');
        const run = await sippCalls(ua, 'uac_invite_bye.xml');
        expectPassed(run);
        expect(ua.find('in', 'ACK'), 'ACK for our 2xx').to.have.length(1);
        expect(ua.find('in', 'BYE')).to.have.length(1);
        expect(ua.find('out', 200, 'BYE')).to.have.length(1);
        expect(ua.dialogs.map((d) => d.state)).to.deep.equal(['terminated']);
        expect(ua.problems).to.deep.equal([]);
      });

      it('SIPp UAC → our UAS: INVITE / 488 / ACK, and the 488 is not repeated after the ACK', async () => {
        const ua = await start(transport);
        serveAsUas(ua, 'reject');
        const run = await sippCalls(ua, 'uac_invite_488.xml');
        expectPassed(run);
        const acks = ua.find('in', 'ACK');
        expect(acks, 'ACK absorbed by the INVITE server transaction').to.have.length(1);
        // Once the transaction has terminated (Timer I) it can send nothing more; the UDP send
        // callbacks that trace a send run in order, so a send still in flight is flushed by one more.
        await ua.rejectDone;
        if (transport === 'udp') await ua.stack.transport.send(Buffer.from('\r\n\r\n'), { transport, address: '127.0.0.1', port: ua.port });
        const after = ua.find('out', 488).filter((s) => s.seq > acks[0].seq);
        expect(after, 'Timer G stops once the ACK arrives (§17.2.1)').to.deep.equal([]);
        expect(ua.find('out', 488)).to.have.length(1);
      });

      it('SIPp UAC → our notifier: SUBSCRIBE / 200 / NOTIFY, in-dialog un-SUBSCRIBE / NOTIFY terminated', async () => {
        const ua = await start(transport);
        serveAsUas(ua, 'accept');
        const run = await sippCalls(ua, 'uac_subscribe_notify.xml');
        expectPassed(run);
        expect(ua.find('out', 'NOTIFY').map((s) => headerValue(s.message, 'cseq'))).to.deep.equal(['1 NOTIFY', '2 NOTIFY']);
        expect(ua.find('in', 200, 'NOTIFY')).to.have.length(2);
        expect(ua.dialogs[0]?.remoteSeq, 'un-SUBSCRIBE CSeq accepted').to.equal(2);
        expect(ua.problems).to.deep.equal([]);
      });

      it('our UAC → SIPp UAS: INVITE / 200 / ACK / BYE through a Record-Route', async () => {
        const ua = await start(transport);
        const { run, result } = await sippAnswers(ua, 'uas_invite_200.xml', (port) => callSipp(ua, port));
        expectPassed(run);
        expect(result.outcome?.status).to.equal(200);
        expect(result.dialog?.routeSet).to.have.length(1);
        expect(result.dialog?.routeSet[0]).to.match(/^<sip:rr-proxy@127\.0\.0\.1:\d+;transport=(udp|tcp);lr>$/i);
        expect(result.byeStatus).to.equal(200);
        expect(ua.find('out', 'ACK')).to.have.length(1);
      });

      it('our UAC → SIPp UAS: INVITE / 488 / ACK in the INVITE transaction', async () => {
        const ua = await start(transport);
        const { run, result } = await sippAnswers(ua, 'uas_invite_488.xml', async (port) => {
          const invite = outOfDialog(ua, 'INVITE', port, { body: SDP, contentType: 'application/sdp' });
          return ua.stack.sendRequest(invite, { transport, address: '127.0.0.1', port }).result;
        });
        expectPassed(run);
        expect(result.kind === 'response' ? result.response.status : result.kind).to.equal(488);
        const [inviteSent] = ua.find('out', 'INVITE');
        const [ack] = ua.find('out', 'ACK');
        expect(headerValue(ack.message, 'via'), 'same branch as the INVITE (§17.1.1.3)').to.equal(headerValue(inviteSent.message, 'via'));
        expect(headerValue(ack.message, 'cseq')).to.equal('1 ACK');
      });

      it('our subscriber → SIPp notifier: SUBSCRIBE / 200 / NOTIFY, un-SUBSCRIBE / NOTIFY terminated', async () => {
        const ua = await start(transport);
        const { run, result } = await sippAnswers(ua, 'uas_subscribe_notify.xml', (port) => subscribeAtSipp(ua, port));
        expectPassed(run);
        expect(result.notifyStates).to.deep.equal(['active', 'terminated']);
        expect(result.unsubscribeStatus).to.equal(200);
        expect(result.dialog?.remoteSeq).to.equal(2);
        expect(ua.problems).to.deep.equal([]);
      });
    });
  }

  describe('with 20 % loss inside SIPp (-lost 20), over UDP', () => {
    it('our UAC retransmits INVITE/BYE (Timers A/E) and re-ACKs every 2xx until the call completes', async () => {
      const ua = await start('udp');
      const { run, result } = await sippAnswers(ua, 'uas_invite_200.xml', (port) => callSipp(ua, port), ['-lost', '20', '-d', '1500']);
      expectPassed(run);
      expect(result.outcome?.status).to.equal(200);
      expect(result.byeStatus).to.equal(200);
      const invite200s = ua.find('in', 200, 'INVITE').length;
      expect(ua.find('out', 'ACK').length, 'one ACK per 2xx received (§13.2.2.4)').to.equal(invite200s);
    });

    it('our UAS retransmits its 2xx (§13.3.1.4) and answers retransmitted BYEs until SIPp completes', async () => {
      const ua = await start('udp');
      serveAsUas(ua, 'accept');
      const run = await sippCalls(ua, 'uac_invite_bye.xml', ['-lost', '20']);
      expectPassed(run);
      // SIPp's ACK is fire-and-forget and may be lost for good; what must hold either way:
      const ok200s = ua.find('out', 200, 'INVITE');
      const firstAck = ua.find('in', 'ACK')[0];
      if (firstAck !== undefined) expect(ok200s.filter((s) => s.seq > firstAck.seq), 'no 2xx retransmission after the ACK').to.deep.equal([]);
      else expect(ok200s.length, 'without an ACK the 2xx is retransmitted').to.be.at.least(2);
      expect(ua.find('out', 200, 'BYE').length, 'every BYE (retransmission) answered').to.equal(ua.find('in', 'BYE').length);
      expect(ua.dialogs.map((d) => d.state)).to.deep.equal(['terminated']);
    });
  });
});

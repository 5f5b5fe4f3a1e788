/**
 * The PF against a minimal hand-written peer built from the lower layers (SipStack, Dialog,
 * MsrpSession) on 127.0.0.1: register → INVITE → 200 → ACK → MSRP bind → SUBSCRIBE/NOTIFY →
 * chunked deferred message → IMDN → BYE, with the PF's event log asserted step by step.
 */
import { expect } from 'chai';
import { newBranch, newCallId, newTag } from '../../harness/core/ids.ts';
import { TraceRecorder } from '../../harness/core/trace.ts';
import { parseCpim, imdnHeader } from '../../harness/cpim/cpim.ts';
import { buildImdnMessage } from '../../harness/imdn/imdn.ts';
import { localMsrpUri, MsrpSession, type MsrpMessageEvent } from '../../harness/msrp/session.ts';
import { formatMsrpUri, parseMsrpPath } from '../../harness/msrp/uri.ts';
import { buildMsrpAnswer, buildMsrpOffer } from '../../harness/sdp/build.ts';
import { findMsrpMedia } from '../../harness/sdp/msrp-media.ts';
import { parseSdp } from '../../harness/sdp/parse.ts';
import { buildRequest, buildResponse } from '../../harness/sip/build.ts';
import { Dialog } from '../../harness/sip/dialog.ts';
import { headerValue, type SipRequest, type SipResponse } from '../../harness/sip/message.ts';
import { SipStack, type ServerTransaction, type Target } from '../../harness/sip/stack.ts';
import { builtinConfig, type RunConfig } from '../../harness/testcase/config.ts';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import { CPM_ACCEPT_CONTACT } from '../../harness/sip/caller-prefs.ts';
import type { PfEvent, PfEventOf, PfEventType } from '../../harness/pf/types.ts';

const AOR = 'sip:+15551230002@ims.example.net';

function testConfig(transport: 'udp' | 'tcp' = 'tcp'): RunConfig {
  const config = builtinConfig(transport);
  config.timers = { t1: 20, t2: 160, t4: 200 };
  config.windows.finalResponseMs = 200;
  return config;
}

const is =
  <T extends PfEventType>(type: T, extra: (e: PfEventOf<T>) => boolean = () => true) =>
  (e: PfEvent): boolean =>
    e.type === type && extra(e as PfEventOf<T>);

type InviteBehaviour = 'accept' | 'accept-passive' | 'reject-488' | 'silent' | 'ring';

/** Just enough of a CPM client to exercise the PF; every decision is made explicit by the test. */
class Peer {
  inviteBehaviour: InviteBehaviour = 'accept';
  retransmit488AfterAck = false;
  msrp: MsrpSession | null = null;
  dialog: Dialog | null = null;
  readonly received: MsrpMessageEvent[] = [];
  readonly notifies: SipRequest[] = [];
  readonly subscribeResponses: (SipResponse | null)[] = [];
  byeReceived = false;
  private ackSeen: () => void = () => {};
  readonly acked = new Promise<void>((resolve) => (this.ackSeen = resolve));

  private constructor(readonly stack: SipStack, readonly pf: Target, readonly transport: 'udp' | 'tcp') {
    stack.on('request', (txn) => void this.onRequest(txn));
    stack.on('ack', () => this.ackSeen());
  }

  static async start(pf: ParticipatingFunction, trace: TraceRecorder): Promise<Peer> {
    const transport = pf.registrar.transport;
    const ports = transport === 'tcp' ? { tcpPort: 0 } : { udpPort: 0 };
    const stack = await SipStack.start({ actor: 'peer', address: '127.0.0.1', ...ports, timers: { t1: 20, t2: 160, t4: 200 }, trace: trace.sink, autoTrying: false });
    return new Peer(stack, { transport, address: pf.registrar.address, port: pf.registrar.port }, transport);
  }

  private base(method: string, uri: string, to: string) {
    return {
      method,
      uri,
      via: this.stack.viaFor(this.transport, newBranch()),
      from: `<${AOR}>;tag=${newTag()}`,
      to: `<${to}>`,
      callId: newCallId('127.0.0.1'),
      cseq: 1,
      contact: `<${this.stack.contactFor(this.transport)}>`,
    };
  }

  async register(): Promise<number> {
    const request = buildRequest({ ...this.base('REGISTER', 'sip:ims.example.net', AOR), headers: [{ name: 'Expires', value: '600' }] });
    const outcome = await this.stack.sendRequest(request, this.pf).result;
    return outcome.kind === 'response' ? outcome.response.status : 0;
  }

  async subscribe(group: string): Promise<number> {
    const request = buildRequest({
      ...this.base('SUBSCRIBE', group, group),
      headers: [
        { name: 'Event', value: 'conference' },
        { name: 'Accept', value: 'application/conference-info+xml' },
        { name: 'Expires', value: '3600' },
      ],
    });
    const outcome = await this.stack.sendRequest(request, this.pf).result;
    this.subscribeResponses.push(outcome.kind === 'response' ? outcome.response : null);
    return outcome.kind === 'response' ? outcome.response.status : 0;
  }

  private async onRequest(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    if (request.method === 'NOTIFY') {
      this.notifies.push(request);
      txn.respond(buildResponse(request, 200));
    } else if (request.method === 'BYE') {
      this.byeReceived = true;
      txn.respond(buildResponse(request, 200));
      await this.msrp?.close();
    } else if (request.method === 'INVITE') {
      await this.onInvite(txn);
    }
  }

  private async onInvite(txn: ServerTransaction): Promise<void> {
    const request = txn.request;
    if (this.inviteBehaviour === 'silent') return;
    if (this.inviteBehaviour === 'ring') {
      txn.respond(buildResponse(request, 180));
      return;
    }
    if (this.inviteBehaviour === 'reject-488') {
      const reject = buildResponse(request, 488, undefined, { headers: [{ name: 'Warning', value: '399 peer "Deferred group delivery requires a=sendrecv"' }] });
      txn.respond(reject);
      if (this.retransmit488AfterAck) {
        // A broken UAS: the same 488 once more after the ACK (what 7.3.12-1a-ii watches over UDP).
        txn.once('ack', () => void this.stack.sendStateless(txn.finalResponse ?? reject, { transport: this.transport, address: txn.source.remote.address, port: txn.source.remote.port }));
      }
      return;
    }
    const offer = findMsrpMedia(parseSdp(request.body))[0]!;
    // Listen first so the a=path we advertise is the URI the PF will address (then connect as active).
    const msrp = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), role: 'active', actor: 'peer', transactionTimeoutMs: 1000 });
    this.msrp = msrp;
    msrp.on('message', (m) => {
      this.received.push(m);
      void this.sendDeliveryImdn(m);
    });
    const local = await msrp.listen();
    if (!local.ok) throw new Error(local.error.message);
    const passive = this.inviteBehaviour === 'accept-passive';
    const sdp = buildMsrpAnswer({ address: '127.0.0.1', port: passive ? local.value.port! : 9, path: [formatMsrpUri(local.value)], setup: passive ? 'passive' : 'active', sessionId: 1 });
    const response = buildResponse(request, 200, undefined, { contact: `<${this.stack.contactFor(this.transport)}>`, body: sdp, contentType: 'application/sdp' });
    txn.respond(response);
    const dialog = Dialog.fromUas(request, response);
    if (dialog.ok) this.dialog = dialog.value;
    await this.acked;
    if (passive) return;
    const remote = parseMsrpPath(offer.path.join(' '));
    if (remote.ok) await msrp.connect(remote.value, { timeoutMs: 1000 });
  }

  private async sendDeliveryImdn(message: MsrpMessageEvent): Promise<void> {
    const original = parseCpim(message.body);
    const body = buildImdnMessage({
      from: AOR,
      to: 'sip:+15551230001@ims.example.net',
      imdnMessageId: 'Dn4kq81ZtRw2',
      dateTime: new Date(),
      imdn: { messageId: imdnHeader(original, 'Message-ID')?.value ?? '', datetime: '2024-05-06T09:15:03.000Z', kind: 'delivery', status: 'delivered' },
    });
    await this.msrp?.send({ body, contentType: 'message/cpim' });
  }

  async close(): Promise<void> {
    await this.msrp?.close();
    await this.stack.close();
  }
}

for (const transport of ['tcp', 'udp'] as const) describe(`pf: loopback against a minimal peer (${transport.toUpperCase()})`, function () {
  this.timeout(10_000);
  let pf: ParticipatingFunction;
  let peer: Peer;
  const trace = new TraceRecorder();
  const config = testConfig(transport);

  beforeEach(async () => {
    pf = await ParticipatingFunction.start({ config, trace: trace.sink });
    peer = await Peer.start(pf, trace);
  });
  afterEach(async () => {
    await peer.close();
    await pf.close();
  });

  it('register → INVITE → 200 → ACK → bind → SUBSCRIBE/NOTIFY → chunked delivery → IMDN → BYE', async () => {
    const windows = config.windows;
    expect(await peer.register()).to.equal(200);
    const binding = await pf.waitForRegistration(windows.registrationMs);
    expect(binding?.contact).to.equal(peer.stack.contactFor(transport));
    expect(pf.events.all()[0]).to.include({ type: 'register', expires: 600 });

    const invite = await pf.invite();
    expect(invite.failure).to.equal(undefined);
    expect(invite.final?.status).to.equal(200);
    expect(invite.ack?.method).to.equal('ACK');
    expect(invite.session?.pfRole).to.equal('passive');
    const session = invite.session!;
    const sinceInvite = pf.events.since(invite.startSeq).map((e) => e.type);
    expect(sinceInvite.slice(0, 3)).to.deep.equal(['request-sent', 'invite-response', 'request-sent']);

    expect(await session.ready(windows.msrpConnectMs)).to.deep.equal({ ok: true });
    const accepted = await pf.events.waitFor(is('msrp-connection', (e) => e.state === 'accepted'), { within: 100, since: invite.startSeq });
    expect(accepted).to.not.equal(null);
    const bind = await pf.events.waitFor(is('msrp-frame-in', (e) => e.frame?.kind === 'request' && e.frame.method === 'SEND' && e.frame.body === null), { within: 500, since: invite.startSeq });
    expect(bind, 'empty bind SEND logged').to.not.equal(null);

    const beforeSubscribe = pf.events.mark();
    expect(await peer.subscribe(pf.group.identity)).to.equal(200);
    const sub = (await pf.events.waitFor(is('subscribe'), { within: windows.subscribeMs, since: beforeSubscribe })) as PfEventOf<'subscribe'> | null;
    expect(sub).to.include({ initial: true, answeredWith: 200, matchedGroup: true, expires: 3600 });
    const answered = (await pf.events.waitFor(is('notify-answered'), { within: 1000, since: beforeSubscribe })) as PfEventOf<'notify-answered'> | null;
    expect(answered?.response?.status).to.equal(200);
    expect(peer.notifies[0] && headerValue(peer.notifies[0], 'subscription-state')).to.equal('active;expires=3600');
    expect(pf.subscriptions()[0]).to.include({ id: sub!.subscriptionId, state: 'active' });

    const delivery = await session.deliver({ chunkSize: 200 });
    expect(delivery.failure).to.equal(undefined);
    expect(delivery.chunks.map((c) => [c.byteRange, c.outcome, c.response?.status])).to.deep.equal([
      [`1-200/${delivery.cpim.length}`, 'response', 200],
      [`201-${delivery.cpim.length}/${delivery.cpim.length}`, 'response', 200],
    ]);
    const imdn = (await pf.events.waitFor(is('msrp-message', (e) => e.imdn !== undefined), { within: windows.imdnMs, since: delivery.startSeq })) as PfEventOf<'msrp-message'> | null;
    expect(imdn?.imdn).to.include({ messageId: delivery.imdnMessageId, kind: 'delivery', status: 'delivered' });
    expect(imdn?.diagnostics.filter((d) => d.severity === 'error')).to.deep.equal([]);
    expect(peer.received[0]?.body.equals(delivery.cpim)).to.equal(true);
    expect(peer.received[0]?.frames.length).to.equal(2);

    const bye = await session.bye();
    expect(bye.response?.status).to.equal(200);
    expect(session.state).to.equal('terminated-by-pf');
    expect(peer.byeReceived).to.equal(true);
    const closed = await pf.events.waitFor(is('msrp-connection', (e) => e.state === 'closed'), { within: 1000, since: delivery.startSeq });
    expect(closed).to.not.equal(null);
    expect(pf.events.all().filter((e) => e.type === 'sip-invalid')).to.deep.equal([]);
  });

  it('488: the PF ACKs inside the transaction and opens no session', async () => {
    peer.inviteBehaviour = 'reject-488';
    await peer.register();
    await pf.waitForRegistration(1000);
    const invite = await pf.invite({ direction: { media: 'sendonly' } });
    expect(invite.final?.status).to.equal(488);
    expect(invite.session).to.equal(undefined);
    expect(invite.ack?.method).to.equal('ACK');
    expect(headerValue(invite.ack!, 'via')).to.equal(headerValue(invite.request, 'via'));
    const ackLogged = await pf.events.waitFor(is('request-sent', (e) => e.request.method === 'ACK'), { within: 500, since: invite.startSeq });
    expect(ackLogged).to.not.equal(null);
    const responses = pf.events.since(invite.startSeq).filter((e) => e.type === 'invite-response');
    expect(responses.map((e) => (e as PfEventOf<'invite-response'>).response.status)).to.deep.equal([488]);
  });

  it('a 488 repeated after the ACK is logged as a retransmission', async () => {
    peer.inviteBehaviour = 'reject-488';
    peer.retransmit488AfterAck = true;
    await peer.register();
    await pf.waitForRegistration(1000);
    const invite = await pf.invite({ direction: { media: 'inactive' } });
    const again = (await pf.events.waitFor(is('invite-response', (e) => e.retransmission), { within: 1000, since: invite.startSeq })) as PfEventOf<'invite-response'> | null;
    expect(again?.response.status).to.equal(488);
  });

  it('accepts a re-join INVITE to the group identity (7.3.12-2a) and connects as the active side', async () => {
    await peer.register();
    const msrp = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), role: 'passive', actor: 'peer' });
    peer.msrp = msrp;
    const local = await msrp.listen();
    if (!local.ok) throw new Error(local.error.message);
    const offer = buildMsrpOffer({ address: '127.0.0.1', port: local.value.port!, path: [formatMsrpUri(local.value)], sessionId: 7 });
    const request = buildRequest({
      method: 'INVITE',
      uri: pf.group.identity,
      via: peer.stack.viaFor(transport, newBranch()),
      from: `<${AOR}>;tag=${newTag()}`,
      to: `<${pf.group.identity}>`,
      callId: newCallId('127.0.0.1'),
      cseq: 1,
      contact: `<${peer.stack.contactFor(transport)}>`,
      headers: [{ name: 'Accept-Contact', value: CPM_ACCEPT_CONTACT }, { name: 'Contribution-ID', value: pf.group.contributionId }],
      body: offer,
      contentType: 'application/sdp',
    });
    const bound = msrp.waitFor('bound', 2000);
    const outcome = await peer.stack.sendRequest(request, peer.pf).result;
    expect(outcome.kind === 'response' && outcome.response.status).to.equal(200);
    if (outcome.kind !== 'response') return;
    const dialog = Dialog.fromUac(request, outcome.response);
    if (dialog.ok) await peer.stack.sendAck(dialog.value.createAck(undefined, { via: peer.stack.viaFor(transport, newBranch()) }), peer.pf);
    const event = (await pf.events.waitFor(is('client-invite'), { within: 1000, since: 1 })) as PfEventOf<'client-invite'> | null;
    expect(event).to.include({ answeredWith: 200, inDialog: false });
    expect(event?.session?.pfRole).to.equal('active');
    expect((await bound).ok).to.equal(true);
    expect(await event!.session!.ready(1000)).to.deep.equal({ ok: true });
    expect(findMsrpMedia(parseSdp(outcome.response.body))[0]?.setup).to.equal('active');
  });

  it('answers a re-join with the configured status', async () => {
    pf.rejoin = { answer: 404 };
    const request = buildRequest({
      method: 'INVITE',
      uri: pf.group.identity,
      via: peer.stack.viaFor(transport, newBranch()),
      from: `<${AOR}>;tag=${newTag()}`,
      to: `<${pf.group.identity}>`,
      callId: newCallId('127.0.0.1'),
      cseq: 1,
      contact: `<${peer.stack.contactFor(transport)}>`,
    });
    const outcome = await peer.stack.sendRequest(request, peer.pf).result;
    expect(outcome.kind === 'response' && outcome.response.status).to.equal(404);
    expect(pf.events.all().at(-1)).to.include({ type: 'client-invite', answeredWith: 404 });
  });

  it('conference policies: 404 creates no subscription; mode A sends full then terminated;reason=noresource', async () => {
    await peer.register();
    pf.conference = { mode: 'inactive-404' };
    expect(await peer.subscribe(pf.group.identity)).to.equal(404);
    expect(pf.subscriptions()).to.deep.equal([]);
    // RFC 6665 §4.4.4: responses to a dialog-initiating SUBSCRIBE name the packages the PF notifies.
    expect(headerValue(peer.subscribeResponses.at(-1)!, 'allow-events')).to.equal('conference');
    pf.conference = { mode: 'notify-then-terminate' };
    const mark = pf.events.mark();
    expect(await peer.subscribe(pf.group.identity)).to.equal(200);
    const second = await pf.events.waitFor(is('notify-answered', (e) => headerValue(e.request, 'subscription-state')!.startsWith('terminated')), { within: 1000, since: mark });
    expect(second).to.not.equal(null);
    const states = peer.notifies.map((n) => headerValue(n, 'subscription-state'));
    expect(states).to.deep.equal(['active;expires=3600', 'terminated;reason=noresource']);
    expect(headerValue(peer.subscribeResponses.at(-1)!, 'allow-events')).to.equal('conference');
    // Inside the subscription's own dialog the RFC sees no point in repeating it.
    expect(peer.notifies.map((n) => headerValue(n, 'allow-events'))).to.deep.equal([undefined, undefined]);
    expect(peer.notifies[0]!.body.toString()).to.include('sip:+15551230003@ims.example.net');
  });

  it('a peer that closes the TCP socket mid-chunk gives an msrp-connection closed event with a reason', async () => {
    await peer.register();
    await pf.waitForRegistration(1000);
    const invite = await pf.invite();
    const session = invite.session!;
    expect(await session.ready(1000)).to.deep.equal({ ok: true });
    const half = Buffer.from(`MSRP a1b2c3d4e5f6 SEND\r\nTo-Path: ${session.localPath}\r\nFrom-Path: ${session.remotePath[0]}\r\nMessage-ID: m1\r\nByte-Range: 1-100/100\r\nContent-Type: message/cpim\r\n\r\nFrom: <sip:`, 'latin1');
    await peer.msrp!.sendRaw(half);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const mark = pf.events.mark();
    await peer.msrp!.close();
    const closed = (await pf.events.waitFor(is('msrp-connection', (e) => e.state === 'closed'), { within: 1000, since: mark })) as PfEventOf<'msrp-connection'> | null;
    expect(closed).to.include({ by: 'peer', sessionId: session.id });
    expect(closed?.reason).to.match(/mid-chunk/);
  });

  it('a peer that never answers the INVITE gives failure.kind timeout within Timer B', async () => {
    peer.inviteBehaviour = 'silent';
    await peer.register();
    await pf.waitForRegistration(1000);
    const started = performance.now();
    const invite = await pf.invite();
    expect(invite.failure?.kind).to.equal('timeout');
    expect(invite.final).to.equal(null);
    // Timer B (64·T1 at T1 = 20 ms) never fires early; a loaded machine only makes it late, so the
    // upper bound only tells it from Timer B at the default T1 (32 s).
    expect(performance.now() - started).to.be.within(64 * 20, 64 * 500 / 4);
  });

  it('a client that rings forever gives final-timeout after the policy window, and a CANCEL', async () => {
    peer.inviteBehaviour = 'ring';
    await peer.register();
    await pf.waitForRegistration(1000);
    const invite = await pf.invite();
    expect(invite.failure?.kind).to.equal('final-timeout');
    expect(invite.provisional.map((r) => r.status)).to.deep.equal([180]);
    const cancel = await pf.events.waitFor(is('request-sent', (e) => e.request.method === 'CANCEL'), { within: 100, since: invite.startSeq });
    expect(cancel).to.not.equal(null);
    const terminated = (await pf.events.waitFor(is('invite-response', (e) => e.response.status === 487), { within: 1000, since: invite.startSeq })) as PfEventOf<'invite-response'> | null;
    expect(terminated, 'the client answers the CANCELled INVITE with 487').to.not.equal(null);
  });

  it('N3: an offer without a=setup makes the PF the active side; it connects to the client path and binds', async () => {
    peer.inviteBehaviour = 'accept-passive';
    await peer.register();
    await pf.waitForRegistration(1000);
    const invite = await pf.invite({ setup: null });
    expect(findMsrpMedia(parseSdp(invite.request.body))[0]?.setup).to.equal(undefined);
    expect(invite.session?.pfRole).to.equal('active');
    expect(await invite.session!.ready(1000)).to.deep.equal({ ok: true });
    const connected = await pf.events.waitFor(is('msrp-connection', (e) => e.state === 'connected'), { within: 100, since: invite.startSeq });
    expect(connected).to.not.equal(null);
    const delivery = await invite.session!.deliver({ disposition: null, failureReport: 'no' });
    expect(delivery.chunks.map((c) => c.outcome)).to.deep.equal(['not-expected']);
    expect(delivery.cpim.toString()).to.not.include('Disposition-Notification');
  });

  it('garbage and malformed SIP from the client are logged with their diagnostics', async () => {
    const mark = pf.events.mark();
    // Malformed first: over TCP the garbage after it ends framing of that stream for good.
    const bad = buildRequest({ method: 'OPTIONS', uri: pf.group.identity, via: peer.stack.viaFor(transport, 'nocookie'), from: `<${AOR}>`, to: `<${pf.group.identity}>`, callId: 'c1', cseq: 1 });
    await peer.stack.sendStateless(bad, peer.pf);
    const codes = (await pf.events.waitFor(is('sip-invalid', (e) => e.diagnostics.some((d) => d.code === 'SIP_BRANCH_NO_COOKIE')), { within: 1000, since: mark })) as PfEventOf<'sip-invalid'> | null;
    expect(codes?.diagnostics.map((d) => d.code)).to.include.members(['SIP_BRANCH_NO_COOKIE', 'SIP_FROM_NO_TAG']);
    await peer.stack.sendStateless(Buffer.from('HELLO PF\r\n\r\n', 'latin1'), peer.pf);
    // UDP: one datagram that is no SIP message; TCP: a stream whose next line is no start line (RFC 3261 §7.1, §7.2).
    const code = transport === 'udp' ? 'SIP_BAD_START_LINE' : 'SIP_STREAM_GARBAGE';
    const garbage = (await pf.events.waitFor(is('sip-invalid', (e) => e.diagnostics.some((d) => d.code === code)), { within: 1000, since: mark })) as PfEventOf<'sip-invalid'> | null;
    expect(garbage?.bytes.toString('latin1')).to.include('HELLO PF');
  });

  it('inviting an unregistered client fails as a value, not a throw', async () => {
    const invite = await pf.invite();
    expect(invite.failure?.kind).to.equal('transport-error');
    expect(invite.failure?.message).to.match(/not registered/);
  });
});

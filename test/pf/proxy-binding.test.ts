/**
 * The PF API for external clients: fixed ports (re-bound right after close), static bindings
 * (adoptBinding/currentBinding) and the outbound proxy (Route on the INVITE, the 2xx ACK and BYE
 * along the Record-Route set). The "proxy" here is a SipStack that answers as if it had relayed.
 */
import { expect } from 'chai';
import { connect } from 'node:net';
import { HarnessFailure } from '../../harness/core/diagnostic.ts';
import { newBranch, newCallId, newTag } from '../../harness/core/ids.ts';
import { TraceRecorder } from '../../harness/core/trace.ts';
import { ParticipatingFunction, proxyRoute } from '../../harness/pf/participating-function.ts';
import { buildMsrpAnswer } from '../../harness/sdp/build.ts';
import { buildRequest, buildResponse } from '../../harness/sip/build.ts';
import { headerValues, type SipRequest } from '../../harness/sip/message.ts';
import { SipStack, type ServerTransaction } from '../../harness/sip/stack.ts';
import { builtinConfig, type RunConfig } from '../../harness/testcase/config.ts';
import { freePort } from '../helpers/ports.ts';

const TIMERS = { t1: 20, t2: 160, t4: 200 };

function testConfig(transport: 'udp' | 'tcp' = 'tcp'): RunConfig {
  const config = builtinConfig(transport);
  config.timers = { ...TIMERS };
  config.windows.finalResponseMs = 200;
  return config;
}

describe('pf: fixed ports', function () {
  this.timeout(5_000);

  it('binds config.listen ports and re-binds them at once after close, even after a TCP connection', async () => {
    const config = testConfig('tcp');
    const udpPort = await freePort();
    const tcpPort = await freePort();
    config.listen = { udpPort, tcpPort };
    const first = await ParticipatingFunction.start({ config, trace: () => {} });
    expect(first.registrar).to.deep.include({ transport: 'tcp', port: tcpPort });
    // An accepted connection closed by the PF leaves TIME_WAIT on the listening port's side.
    const socket = connect({ host: '127.0.0.1', port: tcpPort });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('OPTIONS sip:x SIP/2.0\r\n');
    await first.close();
    socket.destroy();
    const second = await ParticipatingFunction.start({ config, trace: () => {} });
    try {
      expect(second.registrar.port).to.equal(tcpPort);
      const udp = await ParticipatingFunction.start({ config: { ...config, transport: 'udp', listen: { udpPort: await freePort(), tcpPort: 0 } }, trace: () => {} });
      expect(udp.registrar.transport).to.equal('udp');
      expect(udp.registrar.port).to.equal(udp.config.listen.udpPort);
      await udp.close();
    } finally {
      await second.close();
    }
  });
});

describe('pf: adoptBinding / currentBinding', function () {
  this.timeout(5_000);
  let pf: ParticipatingFunction;
  let peer: SipStack;
  const invites: SipRequest[] = [];

  beforeEach(async () => {
    invites.length = 0;
    pf = await ParticipatingFunction.start({ config: testConfig('tcp'), trace: () => {} });
    peer = await SipStack.start({ actor: 'peer', address: '127.0.0.1', tcpPort: 0, timers: TIMERS, autoTrying: false });
    peer.on('request', (txn) => {
      if (txn.request.method === 'INVITE') {
        invites.push(txn.request);
        txn.respond(buildResponse(txn.request, 488));
      }
    });
  });
  afterEach(async () => {
    await pf.close();
    await peer.close();
  });

  it('installs a binding without a REGISTER: no event, waitForRegistration resolves, INVITE reaches the contact', async () => {
    expect(pf.currentBinding()).to.equal(null);
    const contact = peer.contactFor('tcp');
    const binding = pf.adoptBinding(`<${contact}>;+sip.instance="<urn:uuid:1>"`);
    expect(binding.contact).to.equal(contact);
    expect(binding.aor).to.equal('sip:+15551230002@ims.example.net');
    expect(binding.contactParams.map((p) => p.name)).to.deep.equal(['+sip.instance']);
    expect(pf.currentBinding()).to.deep.equal(binding);
    expect(await pf.waitForRegistration(10)).to.deep.equal(binding);
    expect(pf.events.all().filter((e) => e.type === 'register')).to.have.length(0);
    const result = await pf.invite();
    expect(result.final?.status).to.equal(488);
    expect(invites.map((r) => r.uri)).to.deep.equal([contact]);
    expect(headerValues(invites[0]!, 'route')).to.deep.equal([]);
  });

  it("the client's de-REGISTER of the adopted contact removes it", async () => {
    const contact = peer.contactFor('tcp');
    pf.adoptBinding(contact);
    const aor = pf.config.identities.clientAor;
    const register = buildRequest({
      method: 'REGISTER',
      uri: 'sip:ims.example.net',
      via: peer.viaFor('tcp', newBranch()),
      from: `<${aor}>;tag=${newTag()}`,
      to: `<${aor}>`,
      callId: newCallId('127.0.0.1'),
      cseq: 1,
      contact: `<${contact}>;expires=0`,
    });
    const outcome = await peer.sendRequest(register, { transport: 'tcp', address: pf.registrar.address, port: pf.registrar.port }).result;
    expect(outcome.kind === 'response' ? outcome.response.status : 0).to.equal(200);
    expect(pf.currentBinding()).to.equal(null);
    expect(pf.events.all().find((e) => e.type === 'register')).to.include({ expires: 0 });
  });

  it('rejects a contact it cannot route to with PF_BAD_CONTACT', () => {
    // A host name is refused too: the harness resolves no names.
    for (const bad of ['tel:+15551230002', 'not a uri', '', 'sip:+15551230002@client.example.invalid:5070;transport=tcp']) {
      expect(() => pf.adoptBinding(bad), bad).to.throw(HarnessFailure).with.property('code', 'PF_BAD_CONTACT');
    }
    expect(pf.currentBinding()).to.equal(null);
  });
});

for (const transport of ['tcp', 'udp'] as const) describe(`pf: outbound proxy with Record-Route (${transport.toUpperCase()})`, function () {
  this.timeout(5_000);
  let pf: ParticipatingFunction;
  let proxy: SipStack;
  const received: SipRequest[] = [];
  // Nothing listens at the contact: anything sent there instead of to the proxy is lost.
  const contact = `sip:client@127.0.0.1:9;transport=${transport}`;

  beforeEach(async () => {
    received.length = 0;
    proxy = await SipStack.start({ actor: 'proxy', address: '127.0.0.1', ...(transport === 'tcp' ? { tcpPort: 0 } : { udpPort: 0 }), timers: TIMERS, autoTrying: false });
    const port = (transport === 'tcp' ? proxy.transport.tcp : proxy.transport.udp)!.port;
    const config = testConfig(transport);
    config.proxy = { address: '127.0.0.1', port };
    pf = await ParticipatingFunction.start({ config, trace: () => {} });
    pf.adoptBinding(contact);
    const recordRoute = proxyRoute({ address: '127.0.0.1', port }, transport);
    const answer = (txn: ServerTransaction): void => {
      received.push(txn.request);
      if (txn.request.method !== 'INVITE') {
        txn.respond(buildResponse(txn.request, 200));
        return;
      }
      // As if relayed: the client's 200 with the proxy's Record-Route (a m=message 0: MSRP is not exercised).
      const sdp = buildMsrpAnswer({ address: '127.0.0.1', port: 0, path: ['msrp://127.0.0.1:9/x;tcp'], setup: 'active', sessionId: 1 });
      const withRr = { ...txn.request, headers: [{ name: 'Record-Route', value: recordRoute }, ...txn.request.headers] };
      txn.respond(buildResponse(withRr, 200, undefined, { contact: `<${contact}>`, body: sdp, contentType: 'application/sdp' }));
    };
    proxy.on('request', answer);
    proxy.on('ack', (ack) => received.push(ack));
  });
  afterEach(async () => {
    await pf.close();
    await proxy.close();
  });

  it('INVITE to the proxy with Route ;lr; ACK and BYE follow the Record-Route set', async () => {
    const route = proxyRoute(pf.config.proxy!, transport);
    const result = await pf.invite();
    expect(result.failure).to.equal(undefined);
    expect(result.final?.status).to.equal(200);
    const invite = received[0]!;
    expect(invite.method).to.equal('INVITE');
    expect(invite.uri).to.equal(contact);
    expect(headerValues(invite, 'route')).to.deep.equal([route]);
    expect(route).to.match(/;lr>$/);

    await waitUntil(() => received.some((r) => r.method === 'ACK'));
    const ack = received.find((r) => r.method === 'ACK')!;
    expect(ack.uri).to.equal(contact);
    expect(headerValues(ack, 'route')).to.deep.equal([route]);

    const bye = await result.session!.bye();
    expect(bye.response?.status).to.equal(200);
    const sentBye = received.find((r) => r.method === 'BYE')!;
    expect(sentBye.uri).to.equal(contact);
    expect(headerValues(sentBye, 'route')).to.deep.equal([route]);
  });
});

/** Polls for something that will happen; the deadline is only a safety net against a hang. */
async function waitUntil(condition: () => boolean, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition(), 'condition not met in time').to.equal(true);
}

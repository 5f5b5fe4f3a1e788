/**
 * The SIPp-scripted clients again, now behind the project's Kamailio as a stateful record-routing
 * proxy: the PF's INVITE goes to Kamailio (config.proxy, Route ;lr), ACK/BYE/NOTIFY follow the
 * Record-Route set, the client's SUBSCRIBE reaches the PF's fixed port through Kamailio. The
 * verdicts must be the same as without the proxy, and the trace must show the proxy was used.
 */
import { expect } from 'chai';
import { TraceRecorder, type MessageTraceEvent } from '../../harness/core/trace.ts';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import type { PfEvent, PfEventOf } from '../../harness/pf/types.ts';
import { createReferenceClientFactory } from '../../harness/reference-client/factory.ts';
import { builtinConfig } from '../../harness/testcase/config.ts';
import { headerValues, type SipMessage, type SipRequest } from '../../harness/sip/message.ts';
import { startKamailio, kamailioSkipReason, type KamailioProcess } from '../helpers/kamailio.ts';
import { freePort } from '../helpers/ports.ts';
import { sippSkipReason } from '../helpers/sipp.ts';
import { casesById, expectResults, GOOD_EXPECTATIONS, runAgainstSippClient, sippClientConfig, type Expected } from '../helpers/sipp-client.ts';

/** Above the proxy's fr_timer (1 s in test/kamailio/kamailio.cfg). */
const SETTLE_MS = 1_200;

/** The SIP request of a trace event, if it is one with that method. */
function requestOf(e: MessageTraceEvent, method: string): SipRequest | undefined {
  const message = e.parsed as SipMessage | undefined;
  return message?.kind === 'request' && message.method === method ? message : undefined;
}

for (const transport of ['udp', 'tcp'] as const) describe(`interop: SIPp clients through Kamailio (${transport.toUpperCase()})`, function () {
  this.timeout(60_000);
  let kamailio: KamailioProcess | undefined;
  let pfPort = 0;

  before(async function () {
    const skip = sippSkipReason() ?? kamailioSkipReason();
    if (skip) this.skip();
    pfPort = await freePort();
    kamailio = await startKamailio({ pfPort, pfDomain: 'cpm-pf.example.net' });
  });
  after(async () => {
    await kamailio?.stop();
  });

  function proxiedConfig() {
    const config = sippClientConfig(transport);
    // Fixed ports: Kamailio routes the group identity's domain to them, case after case.
    config.listen = { udpPort: pfPort, tcpPort: pfPort };
    config.proxy = { address: '127.0.0.1', port: kamailio!.port };
    return config;
  }

  it('cpm-client-good: same verdicts as direct; Route and Record-Route really used', async () => {
    // TCP: a subset. deferred-pf-bye is left out there: SIPp over TCP sometimes takes a NOTIFY while
    // still sending its previous 200, aborts that call and leaves the PF's BYE unanswered (408).
    const ids = transport === 'udp' ? Object.keys(GOOD_EXPECTATIONS) : ['inv-dir-media-sendrecv', 'inv-dir-media-recvonly', 'sub-after-ack', 'sub-404-inactive', 'imdn-delivery'];
    const expected = Object.fromEntries(ids.map((id) => [id, GOOD_EXPECTATIONS[id]!]));
    const run = await runAgainstSippClient('cpm-client-good.xml', casesById(ids), proxiedConfig(), SETTLE_MS);
    expectResults(run.results, expected);

    const kport = kamailio!.port;
    const sent = (id: string, method: string): { event: MessageTraceEvent; request: SipRequest }[] =>
      run.results
        .find((r) => r.id === id)!
        .trace.filter((e): e is MessageTraceEvent => e.kind === 'message' && e.direction === 'out')
        .flatMap((event) => {
          const request = requestOf(event, method);
          return request ? [{ event, request }] : [];
        });
    for (const method of ['INVITE', 'ACK', 'BYE']) {
      const events = sent('sub-after-ack', method);
      expect(events, method).to.not.have.length(0);
      for (const { event, request } of events) {
        expect(event.remote.port, `${method} goes to Kamailio`).to.equal(kport);
        expect(headerValues(request, 'route').join(','), method).to.contain(`127.0.0.1:${kport}`);
      }
    }
    const notify = sent('sub-after-ack', 'NOTIFY');
    expect(notify).to.not.have.length(0);
    expect(headerValues(notify[0]!.request, 'route').join(','), 'NOTIFY follows the SUBSCRIBE Record-Route').to.contain(`127.0.0.1:${kport}`);
    const subscribeIn = run.results
      .find((r) => r.id === 'sub-after-ack')!
      .trace.flatMap((e) => (e.kind === 'message' && e.direction === 'in' ? [requestOf(e, 'SUBSCRIBE')] : []))
      .find((r) => r !== undefined);
    expect(subscribeIn, 'SUBSCRIBE via Kamailio').to.not.equal(undefined);
    expect(headerValues(subscribeIn!, 'record-route').join(','), 'Kamailio record-routed the SUBSCRIBE').to.contain(`127.0.0.1:${kport}`);
    expect(kamailio!.log()).to.match(/REQ INVITE sip:client@127\.0\.0\.1/);
  });

  it('cpm-client-accept-all through Kamailio fails 7.3.12-1a-ii as it does directly', async () => {
    const expected: Record<string, Expected> = {
      'inv-dir-media-sendrecv': { outcome: 'pass', verdicts: { '7.3.12-1a-i': 'pass' } },
      'inv-dir-media-recvonly': { outcome: 'fail', verdicts: { '7.3.12-1a-ii': 'fail' } },
      'inv-dir-session-sendrecv-media-sendonly': { outcome: 'fail', verdicts: { '7.3.12-1a-ii': 'fail' } },
    };
    const run = await runAgainstSippClient('cpm-client-accept-all.xml', casesById(Object.keys(expected)), proxiedConfig(), SETTLE_MS);
    expectResults(run.results, expected);
  });
});

/**
 * Issue 12 through the proxy: the reference client registers and subscribes through Kamailio (its
 * outbound proxy), the group identity's host resolves nowhere, and both the PF and Kamailio
 * record-route. The client's refresh and un-SUBSCRIBE carry Route: <Kamailio>, <PF> and reach the
 * PF by address; the client's stack would refuse to send to a name.
 */
for (const transport of ['udp', 'tcp'] as const) describe(`interop: the reference client through Kamailio, group identity on cpm-pf.invalid (${transport.toUpperCase()})`, function () {
  this.timeout(30_000);
  let kamailio: KamailioProcess | undefined;
  let pfPort = 0;

  before(async function () {
    const skip = kamailioSkipReason();
    if (skip) this.skip();
    pfPort = await freePort();
    kamailio = await startKamailio({ pfPort, pfDomain: 'cpm-pf.invalid' });
  });
  after(async () => {
    await kamailio?.stop();
  });

  it('refresh and un-SUBSCRIBE follow Route: <Kamailio>, <PF> to the PF; the PF\'s ACK, NOTIFY and BYE go through Kamailio', async () => {
    const config = builtinConfig(transport);
    config.identities = { ...config.identities, groupIdentity: 'sip:grp.7c1e9a@cpm-pf.invalid', pfDomain: 'cpm-pf.invalid' };
    config.listen = { udpPort: pfPort, tcpPort: pfPort };
    config.proxy = { address: '127.0.0.1', port: kamailio!.port };
    const trace = new TraceRecorder();
    const pf = await ParticipatingFunction.start({ config, trace: trace.sink });
    const client = createReferenceClientFactory({ trace: trace.sink }).create();
    try {
      const kport = kamailio!.port;
      await client.start({ registrar: { transport, address: '127.0.0.1', port: kport }, aor: config.identities.clientAor, groupIdentity: config.identities.groupIdentity, timers: config.timers });
      expect(await pf.waitForRegistration(config.windows.registrationMs), 'REGISTER through Kamailio').to.not.equal(null);
      pf.conference = { mode: 'active', grantExpires: 1 };
      const invite = await pf.invite();
      expect(invite.final?.status).to.equal(200);
      const pfRoute = `127.0.0.1:${pfPort}`;
      const inDialog = (e: PfEvent): e is PfEventOf<'subscribe'> => e.type === 'subscribe' && !e.initial;
      const refresh = await pf.events.waitFor((e) => inDialog(e) && e.expires > 0, { within: 3_000, since: invite.startSeq });
      expect(refresh, 'the refresh reached the PF').to.not.equal(null);
      const routes = headerValues((refresh as PfEventOf<'subscribe'>).request, 'route').join(', ');
      expect(routes).to.contain(pfRoute);
      expect(kamailio!.log(), 'Kamailio relayed the refresh').to.match(/REQ SUBSCRIBE sip:grp\.7c1e9a@cpm-pf\.invalid/);
      const bye = await invite.session!.bye();
      expect(bye.response?.status).to.equal(200);
      const mark = pf.events.mark();
      expect((await client.upperTester!.reset!()).ok).to.equal(true);
      const unsubscribe = await pf.events.waitFor((e) => inDialog(e) && e.expires === 0, { within: 3_000, since: mark });
      expect(unsubscribe && (unsubscribe as PfEventOf<'subscribe'>).answeredWith, 'the un-SUBSCRIBE reached the PF').to.equal(200);
      expect(headerValues((unsubscribe as PfEventOf<'subscribe'>).request, 'route').join(', ')).to.contain(pfRoute);
      const pfOut = trace
        .slice(0)
        .filter((e): e is MessageTraceEvent => e.kind === 'message' && e.actor === 'pf' && e.direction === 'out' && /^(ACK|BYE|NOTIFY) /.test(e.summary));
      expect(pfOut.length).to.be.greaterThan(2);
      for (const e of pfOut) expect(e.remote.port, `${e.summary} goes to Kamailio`).to.equal(kport);
    } finally {
      await client.stop();
      await pf.close();
    }
  });
});

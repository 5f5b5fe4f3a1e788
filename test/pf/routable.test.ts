/**
 * Issue 12 item 1: every dialog the PF creates or accepts is routable without DNS. The group
 * identity lives on a `.invalid` host (RFC 6761: never resolves); the PF record-routes its own
 * address, and the reference client — whose stack refuses to send to a name — follows the route
 * set: its subscription refresh, its un-SUBSCRIBE and its BYE all reach the PF.
 */
import { expect } from 'chai';
import { isIP } from 'node:net';
import { TraceRecorder, type MessageTraceEvent } from '../../harness/core/trace.ts';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import type { PfEvent, PfEventOf } from '../../harness/pf/types.ts';
import { createReferenceClientFactory } from '../../harness/reference-client/factory.ts';
import type { ClientUnderTest } from '../../harness/client/types.ts';
import { parseNameAddr } from '../../harness/sip/headers.ts';
import { headerValues, type SipMessage } from '../../harness/sip/message.ts';
import { builtinConfig, type RunConfig } from '../../harness/testcase/config.ts';

const GROUP = 'sip:grp.7c1e9a@cpm-pf.invalid';

function unresolvableConfig(transport: 'udp' | 'tcp'): RunConfig {
  const config = builtinConfig(transport);
  config.identities = { ...config.identities, groupIdentity: GROUP, pfDomain: 'cpm-pf.invalid' };
  return config;
}

const subscribe =
  (initial: boolean, extra: (e: PfEventOf<'subscribe'>) => boolean = () => true) =>
  (e: PfEvent): boolean =>
    e.type === 'subscribe' && e.initial === initial && extra(e as PfEventOf<'subscribe'>);

for (const transport of ['tcp', 'udp'] as const) describe(`routable PF without DNS (${transport.toUpperCase()}): group identity on cpm-pf.invalid`, function () {
  this.timeout(15_000);
  let pf: ParticipatingFunction;
  let client: ClientUnderTest;
  let trace: TraceRecorder;
  let config: RunConfig;

  async function start(mutant?: string): Promise<void> {
    trace = new TraceRecorder();
    config = unresolvableConfig(transport);
    pf = await ParticipatingFunction.start({ config, trace: trace.sink });
    client = createReferenceClientFactory({ trace: trace.sink, ...(mutant === undefined ? {} : { mutant }) }).create();
    await client.start({ registrar: pf.registrar, aor: config.identities.clientAor, groupIdentity: GROUP, timers: config.timers });
    expect(await pf.waitForRegistration(config.windows.registrationMs)).to.not.equal(null);
  }

  afterEach(async () => {
    await client?.stop();
    await pf?.close();
    // The client resolved nothing: every SIP message it sent went to an IP address.
    const sent = trace.slice(0).filter((e): e is MessageTraceEvent => e.kind === 'message' && e.actor === 'client' && e.direction === 'out' && e.protocol === 'sip');
    expect(sent.length).to.be.greaterThan(0);
    for (const e of sent) expect(isIP(e.remote.address), `${e.summary} went to ${e.remote.address}`).to.not.equal(0);
  });

  it('the PF\'s INVITE record-routes the PF\'s address and keeps the group identity as Contact (isfocus); refresh and un-SUBSCRIBE follow the route set', async () => {
    await start();
    pf.conference = { mode: 'active', grantExpires: 1 };
    const invite = await pf.invite();
    expect(invite.final?.status).to.equal(200);
    const own = `<sip:127.0.0.1:${pf.registrar.port};transport=${transport};lr>`;
    expect(headerValues(invite.request, 'record-route')).to.deep.equal([own]);
    const contact = parseNameAddr(headerValues(invite.request, 'contact')[0]!);
    expect(contact.ok && contact.value.uri).to.equal(`${GROUP};transport=${transport}`);
    expect(headerValues(invite.request, 'contact')[0]).to.contain(';isfocus');

    const initial = await pf.events.waitFor(subscribe(true), { within: config.windows.subscribeMs, since: invite.startSeq });
    expect(initial && initial.type === 'subscribe' && initial.answeredWith).to.equal(200);
    // Granted 1 s: the refresh is an in-dialog SUBSCRIBE to the PF's Contact, routed by the PF's Record-Route.
    const refresh = (await pf.events.waitFor(subscribe(false, (e) => e.expires > 0), { within: 2_000, since: initial!.seq })) as PfEventOf<'subscribe'> | null;
    expect(refresh, 'the refresh reached the PF').to.not.equal(null);
    expect(refresh!.answeredWith).to.equal(200);
    expect(refresh!.request.uri).to.equal(`${GROUP};transport=${transport}`);
    expect(headerValues(refresh!.request, 'route')).to.deep.equal([own]);

    const session = invite.session!;
    expect((await session.bye()).response?.status, 'the PF\'s BYE reaches the client at its Contact').to.equal(200);
    const mark = pf.events.mark();
    const reset = await client.upperTester!.reset!();
    expect(reset.ok).to.equal(true);
    const unsubscribe = (await pf.events.waitFor(subscribe(false, (e) => e.expires === 0), { within: 2_000, since: mark })) as PfEventOf<'subscribe'> | null;
    expect(unsubscribe, 'the un-SUBSCRIBE reached the PF').to.not.equal(null);
    expect(unsubscribe!.answeredWith).to.equal(200);
    expect(headerValues(unsubscribe!.request, 'route')).to.deep.equal([own]);
  });

  it('the client\'s own BYE (mutant bye-before-pf) follows the route set to the PF', async () => {
    await start('bye-before-pf');
    const invite = await pf.invite();
    expect(invite.final?.status).to.equal(200);
    const session = invite.session!;
    expect((await session.ready(config.windows.msrpConnectMs)).ok).to.equal(true);
    const mark = pf.events.mark();
    await session.deliver({ disposition: null });
    const bye = await pf.events.waitFor((e) => e.type === 'client-bye', { within: 2_000, since: mark });
    expect(bye && bye.type === 'client-bye' && bye.sessionId).to.equal(session.id);
    expect(headerValues((bye as PfEventOf<'client-bye'>).request, 'route')).to.deep.equal([`<sip:127.0.0.1:${pf.registrar.port};transport=${transport};lr>`]);
    expect(session.state).to.equal('terminated-by-client');
  });

  it('a re-join the PF accepts is record-routed too: the client\'s ACK reaches the PF by address', async () => {
    await start('idle-rejoin');
    const joined = await pf.events.waitFor((e) => e.type === 'client-invite' && !e.inDialog, { within: 2_000 });
    expect(joined && joined.type === 'client-invite' && joined.answeredWith).to.equal(200);
    const session = (joined as PfEventOf<'client-invite'>).session!;
    expect((await session.ready(config.windows.msrpConnectMs)).ok, 'the MSRP session of the re-join is bound').to.equal(true);
    const acks = trace.slice(0).filter((e): e is MessageTraceEvent => e.kind === 'message' && e.actor === 'client' && e.direction === 'out' && e.summary.startsWith('ACK'));
    expect(acks).to.have.length.greaterThan(0);
    expect(acks[0]!.remote.port).to.equal(pf.registrar.port);
    expect(headerValues(acks[0]!.parsed as SipMessage, 'route'), 'the ACK follows the 200\'s Record-Route').to.deep.equal([`<sip:127.0.0.1:${pf.registrar.port};transport=${transport};lr>`]);
    await session.bye();
  });
});

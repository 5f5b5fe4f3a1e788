import { expect } from 'chai';
import type { ClientUnderTest, UpperTester } from '../../harness/client/types.ts';
import { TraceRecorder } from '../../harness/core/trace.ts';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import type { PfEvent, PfEventOf } from '../../harness/pf/types.ts';
import { createReferenceClientFactory } from '../../harness/reference-client/factory.ts';
import { headerValue } from '../../harness/sip/message.ts';
import { parseWarning } from '../../harness/sip/headers.ts';
import { builtinConfig, type RunConfig } from '../../harness/testcase/config.ts';
import type { TransportKind } from '../../harness/core/trace.ts';

interface Rig {
  pf: ParticipatingFunction;
  client: ClientUnderTest;
  ut: UpperTester;
  config: RunConfig;
  trace: TraceRecorder;
}

const rigs: Rig[] = [];

async function rig(options: { transport?: TransportKind; mutant?: string; t1?: number } = {}): Promise<Rig> {
  const config = builtinConfig(options.transport ?? 'tcp');
  if (options.t1 !== undefined) config.timers = { t1: options.t1, t2: options.t1 * 8, t4: options.t1 * 10 };
  const trace = new TraceRecorder();
  const pf = await ParticipatingFunction.start({ config, trace: trace.sink });
  const client = createReferenceClientFactory({ trace: trace.sink, ...(options.mutant ? { mutant: options.mutant } : {}) }).create();
  const r: Rig = { pf, client, ut: client.upperTester!, config, trace };
  rigs.push(r);
  await client.start({ registrar: pf.registrar, aor: config.identities.clientAor, groupIdentity: config.identities.groupIdentity, timers: config.timers });
  expect(await pf.waitForRegistration(config.windows.registrationMs), 'REGISTER').to.not.equal(null);
  return r;
}

function is<T extends PfEvent['type']>(type: T, extra: (e: PfEventOf<T>) => boolean = () => true): (e: PfEvent) => boolean {
  return (e) => e.type === type && extra(e as PfEventOf<T>);
}

async function tearDown(): Promise<void> {
  for (const r of rigs.splice(0)) {
    await r.client.stop();
    await r.pf.close();
  }
}

describe('reference client on loopback against the PF', function () {
  this.timeout(10_000);
  afterEach(tearDown);

  for (const transport of ['tcp', 'udp'] as const) {
    it(`${transport}: register → INVITE → 200 → ACK → MSRP bind → SUBSCRIBE → deferred message → 200 + IMDNs → BYE → 200`, async () => {
      const { pf, ut, config } = await rig({ transport });
      const w = config.windows;
      const invite = await pf.invite();
      expect(invite.final?.status, '7.3.12-1a-i').to.equal(200);
      expect(invite.ack?.method).to.equal('ACK');
      const session = invite.session!;
      expect(await session.ready(w.msrpConnectMs), 'msrp-setup: client active for actpass').to.deep.equal({ ok: true });
      expect(session.pfRole).to.equal('passive');

      const subscribe = await pf.events.waitFor(is('subscribe', (e) => e.initial), { within: w.subscribeMs, since: invite.startSeq });
      expect(subscribe, '7.3.12-1b-sub').to.not.equal(null);
      const sub = subscribe as PfEventOf<'subscribe'>;
      expect(sub.answeredWith).to.equal(200);
      expect(headerValue(sub.request, 'event')).to.equal('conference');
      expect(headerValue(sub.request, 'accept')).to.equal('application/conference-info+xml');
      expect(headerValue(sub.request, 'expires')).to.equal('3600');
      await pf.events.waitFor(is('notify-answered', (e) => e.response?.status === 200), { within: w.subscribeMs, since: invite.startSeq });

      const delivery = await session.deliver({ chunkSize: 120, successReport: 'yes' });
      expect(delivery.chunks.length).to.be.greaterThan(1);
      for (const chunk of delivery.chunks) expect(chunk.response?.status, `7.3.12-1a-i-1 chunk ${chunk.byteRange}`).to.equal(200);
      const report = await pf.events.waitFor(is('msrp-report'), { within: w.imdnMs, since: delivery.startSeq });
      expect(report, 'msrp-report on Success-Report: yes').to.not.equal(null);

      const delivered = await pf.events.waitFor(is('msrp-message', (e) => e.imdn?.kind === 'delivery'), { within: w.imdnMs, since: delivery.startSeq });
      expect(delivered, '7.3.12-1b-ii delivery').to.not.equal(null);
      const imdn = (delivered as PfEventOf<'msrp-message'>).imdn!;
      expect(imdn.messageId).to.equal(delivery.imdnMessageId);
      expect(imdn.datetime).to.equal(delivery.dateTime);
      const cpim = (delivered as PfEventOf<'msrp-message'>).cpim!;
      expect(cpim.mime.contentDisposition).to.equal('notification');

      expect(await ut.markDisplayed(delivery.imdnMessageId)).to.deep.equal({ ok: true, value: undefined });
      const displayed = await pf.events.waitFor(is('msrp-message', (e) => e.imdn?.kind === 'display'), { within: w.imdnMs, since: delivery.startSeq });
      expect(displayed, 'display IMDN after markDisplayed').to.not.equal(null);

      // One delivery notification for a chunked message (imdn-once), none over SIP.
      const sinceDelivery = pf.events.since(delivery.startSeq);
      expect(sinceDelivery.filter(is('msrp-message', (e) => e.imdn?.kind === 'delivery')).length).to.equal(1);
      expect(sinceDelivery.filter(is('client-request')).length).to.equal(0);

      const early = await pf.events.expectNone((e) => e.type === 'client-bye' || (e.type === 'msrp-connection' && e.state === 'closed'), { within: w.idleMs, since: invite.startSeq });
      expect(early, '7.3.12-1c-i: no BYE or MSRP close before the PF').to.equal(null);
      const bye = await session.bye();
      expect(bye.response?.status, '7.3.12-1c-i: 2xx to the PF BYE').to.equal(200);

      const state = await ut.state();
      expect(state.ok).to.equal(true);
      if (state.ok) {
        const group = state.value.groups.find((g) => g.identity === config.identities.groupIdentity)!;
        expect(group.state).to.equal('active');
        expect(group.participants).to.have.length(3);
        expect(state.value.received).to.have.length(1);
        expect(state.value.received[0]!.imdnMessageId).to.equal(delivery.imdnMessageId);
      }
    });
  }

  it('488 with a Warning to a media-level sendonly offer, and no side effects', async () => {
    const { pf, config } = await rig();
    const invite = await pf.invite({ direction: { media: 'sendonly' } });
    expect(invite.final?.status, '7.3.12-1a-ii').to.equal(488);
    const warning = headerValue(invite.final!, 'warning');
    expect(warning, '7.3.12-1a-ii-warning').to.be.a('string');
    expect(parseWarning(warning!).ok).to.equal(true);
    const sideEffect = await pf.events.expectNone(
      (e) => e.type === 'subscribe' || e.type === 'client-bye' || (e.type === 'msrp-connection' && e.state !== 'closed'),
      { within: config.windows.sideEffectMs, since: invite.startSeq },
    );
    expect(sideEffect).to.equal(null);
  });

  it('404 to SUBSCRIBE: group inactive, no new SUBSCRIBE, no BYE (7.3.12-1b-i-b)', async () => {
    const { pf, ut, config } = await rig();
    pf.conference = { mode: 'inactive-404' };
    const invite = await pf.invite();
    expect(invite.final?.status).to.equal(200);
    const first = await pf.events.waitFor(is('subscribe'), { within: config.windows.subscribeMs, since: invite.startSeq });
    expect((first as PfEventOf<'subscribe'>).answeredWith).to.equal(404);
    const again = await pf.events.expectNone((e) => e.type === 'client-bye' || (e.type === 'subscribe' && e.seq !== first!.seq), {
      within: config.windows.quarantineMs,
      since: invite.startSeq,
    });
    expect(again).to.equal(null);
    const state = await ut.state();
    expect(state.ok && state.value.groups[0]!.state).to.equal('inactive');
  });

  it('back online with a queued message: re-join INVITE, then the message via MSRP (7.3.12-2a)', async () => {
    const { pf, ut, config } = await rig();
    expect((await ut.goOffline()).ok).to.equal(true);
    expect((await ut.queueMessage(config.identities.groupIdentity, 'sorry I am late')).ok).to.equal(true);
    const mark = pf.events.mark();
    expect((await ut.goOnline()).ok).to.equal(true);
    const rejoin = await pf.events.waitFor(is('client-invite'), { within: config.windows.rejoinObserveMs + 500, since: mark });
    expect(rejoin, 're-join INVITE').to.not.equal(null);
    const request = (rejoin as PfEventOf<'client-invite'>).request;
    expect(request.uri).to.contain('grp.7c1e9a@cpm-pf.example.net');
    expect(headerValue(request, 'accept-contact')).to.contain('urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session');
    expect(headerValue(request, 'contribution-id')).to.be.a('string');
    const message = await pf.events.waitFor(is('msrp-message', (e) => e.cpim?.content.toString('utf8') === 'sorry I am late'), { within: 2_000, since: mark });
    expect(message, 'queued message via MSRP on the re-joined session').to.not.equal(null);
    // The re-joined client subscribes too (7.3.12-1d-ii); let that finish before tearing down.
    expect(await pf.events.waitFor(is('notify-answered'), { within: config.windows.subscribeMs, since: mark })).to.not.equal(null);
  });

  it('back online with nothing queued: no re-join (7.3.12-NOTE)', async () => {
    const { pf, ut, config } = await rig();
    await ut.goOffline();
    const mark = pf.events.mark();
    await ut.goOnline();
    expect(await pf.events.expectNone(is('client-invite'), { within: config.windows.rejoinObserveMs, since: mark })).to.equal(null);
  });

  it('a queued message goes on the PF-initiated session, not by re-join (7.3.12-1d-i)', async () => {
    const { pf, ut, config } = await rig();
    await ut.goOffline();
    await ut.queueMessage(config.identities.groupIdentity, 'queued while offline');
    const mark = pf.events.mark();
    await ut.goOnline();
    const invite = await pf.invite();
    expect(invite.final?.status).to.equal(200);
    const message = await pf.events.waitFor(is('msrp-message', (e) => e.cpim?.content.toString('utf8') === 'queued while offline'), { within: 2_000, since: mark });
    expect(message).to.not.equal(null);
    expect(await pf.events.waitFor(is('notify-answered'), { within: config.windows.subscribeMs, since: mark })).to.not.equal(null);
    expect(pf.events.since(mark).filter(is('client-invite'))).to.have.length(0);
  });

  it('mutant accept-sendonly answers 200 to a sendonly offer; the conforming client does not', async () => {
    const { pf } = await rig({ mutant: 'accept-sendonly' });
    const invite = await pf.invite({ direction: { media: 'sendonly' } });
    expect(invite.final?.status).to.equal(200);
    await pf.events.waitFor(is('notify-answered'), { within: 1_000, since: invite.startSeq });
  });

  it('refreshes a short subscription in-dialog before it expires (7.3.12-1d-ii)', async () => {
    const { pf, config } = await rig();
    pf.conference = { mode: 'active', grantExpires: config.windows.shortSubscriptionSeconds };
    const invite = await pf.invite();
    const refresh = await pf.events.waitFor(is('subscribe', (e) => !e.initial), { within: config.windows.shortSubscriptionSeconds * 1000, since: invite.startSeq });
    expect(refresh, 'refresh SUBSCRIBE').to.not.equal(null);
    expect(pf.events.since(invite.startSeq).filter(is('subscribe', (e) => e.initial))).to.have.length(1);
    await pf.events.waitFor(is('notify-answered', (e) => e.seq > refresh!.seq), { within: 1_000, since: invite.startSeq });
  });

  // Each mutant observed on the wire through the I/O path its knob drives.
  const observed: { mutant: string; t1?: number; run: (r: Rig) => Promise<boolean> }[] = [
    {
      mutant: 'imdn-via-sip-message',
      run: async ({ pf, config }) => {
        const session = (await pf.invite()).session!;
        await session.ready(config.windows.msrpConnectMs);
        const d = await session.deliver();
        return (await pf.events.waitFor(is('client-request', (e) => e.request.method === 'MESSAGE'), { within: config.windows.imdnMs, since: d.startSeq })) !== null;
      },
    },
    {
      mutant: 'bye-before-pf',
      run: async ({ pf, config }) => {
        const session = (await pf.invite()).session!;
        await session.ready(config.windows.msrpConnectMs);
        const d = await session.deliver();
        return (await pf.events.waitFor(is('client-bye'), { within: config.windows.idleMs * 4, since: d.startSeq })) !== null;
      },
    },
    {
      mutant: 'ignore-pf-bye',
      // The PF gives up on its BYE after Timer F (64·T1): keep that short.
      t1: 10,
      run: async ({ pf, config }) => {
        const invite = await pf.invite();
        await invite.session!.ready(config.windows.msrpConnectMs);
        await pf.events.waitFor(is('notify-answered'), { within: 1_000, since: invite.startSeq });
        return (await invite.session!.bye()).response === null;
      },
    },
    {
      mutant: 'setup-always-active',
      run: async ({ pf }) => {
        const invite = await pf.invite({ setup: null });
        await pf.events.waitFor(is('notify-answered'), { within: 1_000, since: invite.startSeq });
        return invite.answer?.media[0]?.setup === 'active';
      },
    },
    {
      mutant: 'resubscribe-after-404',
      run: async ({ pf, config }) => {
        pf.conference = { mode: 'inactive-404' };
        const invite = await pf.invite();
        const first = await pf.events.waitFor(is('subscribe'), { within: config.windows.subscribeMs, since: invite.startSeq });
        return (await pf.events.waitFor(is('subscribe', (e) => e.seq !== first?.seq), { within: config.windows.quarantineMs, since: invite.startSeq })) !== null;
      },
    },
    {
      mutant: 'imdn-per-chunk',
      run: async ({ pf, config }) => {
        const session = (await pf.invite()).session!;
        await session.ready(config.windows.msrpConnectMs);
        const d = await session.deliver({ chunkSize: 100 });
        await pf.events.waitFor(is('notify-answered'), { within: 1_000, since: d.startSeq - 1 });
        // A second delivery IMDN for one message, waited for as an event within the IMDN window.
        const delivery = is('msrp-message', (e) => e.imdn?.kind === 'delivery');
        const first = await pf.events.waitFor(delivery, { within: config.windows.imdnMs, since: d.startSeq });
        if (first === null) return false;
        return (await pf.events.waitFor((e) => delivery(e) && e.seq !== first.seq, { within: config.windows.imdnMs, since: d.startSeq })) !== null;
      },
    },
    {
      mutant: 'rejoin-while-session-up',
      run: async ({ pf, ut, config }) => {
        const invite = await pf.invite();
        await invite.session!.ready(config.windows.msrpConnectMs);
        await ut.queueMessage(config.identities.groupIdentity, 'hello');
        const rejoin = await pf.events.waitFor(is('client-invite'), { within: 1_000, since: invite.startSeq });
        await pf.events.waitFor(is('msrp-message', (e) => e.cpim?.content.toString('utf8') === 'hello'), { within: 1_000, since: invite.startSeq });
        return rejoin !== null;
      },
    },
  ];
  for (const { mutant, t1, run } of observed) {
    it(`mutant ${mutant} shows on the wire; the conforming client does not`, async () => {
      const timers = t1 === undefined ? {} : { t1 };
      expect(await run(await rig({ mutant, ...timers })), mutant).to.equal(true);
      await tearDown();
      expect(await run(await rig(timers)), `conforming client under the ${mutant} probe`).to.equal(false);
    });
  }

  it('stop() releases everything and is idempotent', async () => {
    const { client, trace } = await rig();
    await client.stop();
    await client.stop();
    expect(trace.events.some((e) => e.actor === 'client' && e.kind === 'message')).to.equal(true);
  });
});

import { expect } from 'chai';
import { FakeClock } from '../../harness/core/clock.ts';
import { newBranch } from '../../harness/core/ids.ts';
import { buildRequest } from '../../harness/sip/build.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { SipRequest } from '../../harness/sip/message.ts';
import { canonicalAor, decideRegister, Registrar } from '../../harness/sip/registrar.ts';
import type { Binding, UnregisterReason } from '../../harness/sip/registrar.ts';
import { SipStack } from '../../harness/sip/stack.ts';
import type { RequestSource } from '../../harness/sip/stack.ts';

const AOR = 'sip:+15551230002@ims.example.net';
const CONTACT = '<sip:+15551230002@192.0.2.50:5070;transport=tcp>;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';
const SOURCE: RequestSource = { transport: 'tcp', local: { address: '192.0.2.10', port: 5060 }, remote: { address: '192.0.2.50', port: 49152 }, connectionId: 'c1' };

function register(options: { cseq?: number; callId?: string; contacts?: string[]; expires?: number; headers?: { name: string; value: string }[] } = {}): SipRequest {
  const headers = (options.contacts ?? [CONTACT]).map((value) => ({ name: 'Contact', value }));
  if (options.expires !== undefined) headers.push({ name: 'Expires', value: String(options.expires) });
  headers.push(...(options.headers ?? []));
  return buildRequest({
    method: 'REGISTER',
    uri: 'sip:ims.example.net',
    via: `SIP/2.0/TCP 192.0.2.50:5070;branch=${newBranch()}`,
    from: `<${AOR}>;tag=reg1`,
    to: `<${AOR}>`,
    callId: options.callId ?? 'reg-call-1@192.0.2.50',
    cseq: options.cseq ?? 1,
    headers,
  });
}

function recordEvents(registrar: Registrar): string[] {
  const log: string[] = [];
  registrar.on('registered', (b: Binding) => log.push(`registered ${b.contact} ${b.expires}`));
  registrar.on('refreshed', (b: Binding) => log.push(`refreshed ${b.contact} ${b.expires}`));
  registrar.on('unregistered', (b: Binding, why: UnregisterReason) => log.push(`unregistered ${b.contact} ${why}`));
  return log;
}

describe('sip/registrar: REGISTER handling (RFC 3261 §10.3)', () => {
  it('binds the To AOR to the Contact, answers 200 listing it with its expires', () => {
    const clock = new FakeClock();
    const registrar = new Registrar({ clock });
    const events = recordEvents(registrar);
    const { response, changes } = registrar.handleRegister(register({ expires: 600 }), SOURCE);
    expect(response.status).to.equal(200);
    expect(headerValue(response, 'to')).to.match(/^<sip:\+15551230002@ims\.example\.net>;tag=/);
    expect(headerValues(response, 'contact')).to.deep.equal([
      '<sip:+15551230002@192.0.2.50:5070;transport=tcp>;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session";expires=600',
    ]);
    expect(headerValue(response, 'date')).to.match(/GMT$/);
    expect(changes.map((c) => c.kind)).to.deep.equal(['registered']);
    expect(events).to.deep.equal(['registered sip:+15551230002@192.0.2.50:5070;transport=tcp 600']);
    const b = registrar.binding('sip:+15551230002@IMS.example.net;user=phone');
    expect(b).to.include({ aor: AOR, contact: 'sip:+15551230002@192.0.2.50:5070;transport=tcp', expires: 600, expiresAt: 600_000, transport: 'tcp', connectionId: 'c1' });
    expect(b?.source).to.deep.equal({ address: '192.0.2.50', port: 49152 });
  });

  it('takes the interval from the Contact param over Expires, else Expires, else 3600; clamps to the maximum', () => {
    const registrar = new Registrar({ clock: new FakeClock(), maxExpires: 5000 });
    const param = registrar.handleRegister(register({ contacts: [`${CONTACT};expires=120`], expires: 900 }), SOURCE);
    expect(param.bindings[0].expires).to.equal(120);
    const header = decideRegister(register({ expires: 900 }), SOURCE, [], 0);
    expect(header.bindings[0].expires).to.equal(900);
    const none = decideRegister(register(), SOURCE, [], 0);
    expect(none.bindings[0].expires).to.equal(3600);
    const long = registrar.handleRegister(register({ cseq: 2, expires: 86400 }), SOURCE);
    expect(long.bindings[0].expires).to.equal(5000);
    expect(headerValues(long.response, 'contact')[0]).to.match(/;expires=5000$/);
  });

  it('answers 423 with Min-Expires to a too-brief interval, and never to 0 or to an hour or more', () => {
    const registrar = new Registrar({ clock: new FakeClock(), minExpires: 3700 });
    const brief = registrar.handleRegister(register({ expires: 30 }), SOURCE);
    expect(brief.response.status).to.equal(423);
    expect(headerValue(brief.response, 'min-expires')).to.equal('3700');
    expect(brief.diagnostics.map((d) => d.code)).to.deep.equal(['SIP_REG_INTERVAL_TOO_BRIEF']);
    expect(registrar.bindings()).to.deep.equal([]);
    expect(registrar.handleRegister(register({ expires: 3600 }), SOURCE).response.status, '§10.3: not if an hour or more').to.equal(200);
    expect(registrar.handleRegister(register({ cseq: 2, expires: 0 }), SOURCE).response.status).to.equal(200);
  });

  it('refreshes with a higher CSeq on the same Call-ID, or any CSeq on a new Call-ID', () => {
    const registrar = new Registrar({ clock: new FakeClock() });
    const events = recordEvents(registrar);
    registrar.handleRegister(register({ cseq: 1, expires: 600 }), SOURCE);
    expect(registrar.handleRegister(register({ cseq: 2, expires: 900 }), SOURCE).response.status).to.equal(200);
    expect(registrar.handleRegister(register({ cseq: 1, callId: 'other@192.0.2.50', expires: 1200 }), SOURCE).response.status).to.equal(200);
    expect(events.map((e) => e.split(' ')[0])).to.deep.equal(['registered', 'refreshed', 'refreshed']);
    expect(registrar.bindings(AOR)).to.have.length(1);
    expect(registrar.binding(AOR)?.expires).to.equal(1200);
  });

  it('rejects an out-of-order CSeq on the same Call-ID with 500 and changes nothing', () => {
    const registrar = new Registrar({ clock: new FakeClock() });
    registrar.handleRegister(register({ cseq: 5, expires: 600 }), SOURCE);
    for (const cseq of [5, 4]) {
      const r = registrar.handleRegister(register({ cseq, expires: 900 }), SOURCE);
      expect(r.response.status).to.equal(500);
      expect(r.diagnostics.map((d) => d.code)).to.deep.equal(['SIP_REG_CSEQ_OUT_OF_ORDER']);
    }
    expect(registrar.binding(AOR)?.expires).to.equal(600);
  });

  it('de-registers one contact with expires 0 and lists the rest', () => {
    const registrar = new Registrar({ clock: new FakeClock() });
    const events = recordEvents(registrar);
    const second = '<sip:+15551230002@192.0.2.51:5070>';
    registrar.handleRegister(register({ contacts: [CONTACT, second], expires: 600 }), SOURCE);
    const r = registrar.handleRegister(register({ cseq: 2, contacts: ['<sip:+15551230002@192.0.2.51:5070>;expires=0'] }), SOURCE);
    expect(r.response.status).to.equal(200);
    expect(headerValues(r.response, 'contact')).to.have.length(1);
    expect(events.at(-1)).to.equal('unregistered sip:+15551230002@192.0.2.51:5070 removed');
  });

  it('removes every binding with "Contact: *" and Expires: 0; rejects "*" otherwise (400)', () => {
    const registrar = new Registrar({ clock: new FakeClock() });
    registrar.handleRegister(register({ contacts: [CONTACT, '<sip:b@192.0.2.52>'], expires: 600 }), SOURCE);
    expect(registrar.handleRegister(register({ cseq: 2, contacts: ['*'] }), SOURCE).response.status).to.equal(400);
    expect(registrar.handleRegister(register({ cseq: 3, contacts: ['*', CONTACT], expires: 0 }), SOURCE).response.status).to.equal(400);
    const wipe = registrar.handleRegister(register({ cseq: 4, contacts: ['*'], expires: 0 }), SOURCE);
    expect(wipe.response.status).to.equal(200);
    expect(wipe.changes.map((c) => c.kind)).to.deep.equal(['unregistered', 'unregistered']);
    expect(headerValues(wipe.response, 'contact')).to.deep.equal([]);
    expect(registrar.bindings(AOR)).to.deep.equal([]);
  });

  it('lets bindings lapse on the clock, and a refresh moves the deadline', () => {
    const clock = new FakeClock();
    const registrar = new Registrar({ clock });
    const events = recordEvents(registrar);
    registrar.handleRegister(register({ cseq: 1, expires: 600 }), SOURCE);
    clock.advance(500_000);
    const refreshed = registrar.handleRegister(register({ cseq: 2, expires: 600 }), SOURCE);
    expect(refreshed.bindings[0].expiresAt).to.equal(1_100_000);
    clock.advance(200_000);
    expect(registrar.binding(AOR), 'old deadline passed, refreshed one not').to.not.equal(undefined);
    const listed = registrar.handleRegister(register({ cseq: 3, contacts: ['<sip:other@192.0.2.53>'], expires: 600 }), SOURCE);
    expect(headerValues(listed.response, 'contact')[0], 'remaining seconds').to.match(/;expires=400$/);
    clock.advance(400_000);
    expect(registrar.binding(AOR)?.contact).to.equal('sip:other@192.0.2.53');
    expect(events).to.include('unregistered sip:+15551230002@192.0.2.50:5070;transport=tcp expired');
    clock.advance(200_000);
    expect(registrar.bindings()).to.deep.equal([]);
    expect(clock.pendingCount).to.equal(0);
  });

  it('answers 420 to an unsupported Require, 404 to a non-SIP AOR, 400 to a malformed Contact', () => {
    const registrar = new Registrar({ clock: new FakeClock() });
    const req = registrar.handleRegister(register({ headers: [{ name: 'Require', value: 'sec-agree' }] }), SOURCE);
    expect(req.response.status).to.equal(420);
    expect(headerValue(req.response, 'unsupported')).to.equal('sec-agree');
    const tel = register();
    tel.headers = tel.headers.map((h) => (h.name === 'To' ? { name: 'To', value: '<tel:+15551230002>' } : h));
    expect(registrar.handleRegister(tel, SOURCE).response.status).to.equal(404);
    const bad = registrar.handleRegister(register({ contacts: ['<sip:broken'] }), SOURCE);
    expect(bad.response.status).to.equal(400);
    expect(bad.diagnostics.map((d) => d.code)).to.include('SIP_BAD_NAME_ADDR');
    expect(registrar.bindings()).to.deep.equal([]);
  });

  it('canonicalAor drops parameters and lower-cases the host', () => {
    expect(canonicalAor('sip:Alice@Example.COM;user=phone?x=y')).to.equal('sip:Alice@example.com');
    expect(canonicalAor('tel:+1555')).to.equal(undefined);
  });
});

describe('sip/registrar: waitForRegistration', () => {
  it('resolves when the AOR registers, immediately if it already has', async () => {
    const clock = new FakeClock();
    const registrar = new Registrar({ clock });
    const waiting = registrar.waitForRegistration(AOR, 5000);
    registrar.handleRegister(register({ expires: 600 }), SOURCE);
    const got = await waiting;
    expect(got.kind).to.equal('registered');
    expect((await registrar.waitForRegistration(undefined, 1)).kind).to.equal('registered');
    expect(clock.pendingCount, 'wait timer cancelled; only the expiry remains').to.equal(1);
  });

  it('returns a timeout value instead of hanging', async () => {
    const clock = new FakeClock();
    const registrar = new Registrar({ clock });
    const waiting = registrar.waitForRegistration('sip:nobody@ims.example.net', 5000);
    registrar.handleRegister(register({ expires: 600 }), SOURCE);
    clock.advance(5000);
    expect(await waiting).to.deep.equal({ kind: 'timeout', aor: 'sip:nobody@ims.example.net', afterMs: 5000 });
  });
});

describe('sip/registrar: attached to a SipStack (UDP, loopback)', () => {
  let server: SipStack | undefined;
  let client: SipStack | undefined;
  after(async () => {
    await server?.close();
    await client?.close();
  });

  it('answers a REGISTER sent over the wire and records the binding', async () => {
    server = await SipStack.start({ actor: 'registrar', address: '127.0.0.1', udpPort: 0, timers: { t1: 20 } });
    client = await SipStack.start({ actor: 'client', address: '127.0.0.1', udpPort: 0, timers: { t1: 20 } });
    const registrar = new Registrar();
    const detach = registrar.attach(server);
    const req = buildRequest({
      method: 'REGISTER',
      uri: 'sip:127.0.0.1',
      via: client.viaFor('udp', newBranch()),
      from: '<sip:client@127.0.0.1>;tag=r1',
      to: '<sip:client@127.0.0.1>',
      callId: 'reg-wire@127.0.0.1',
      cseq: 1,
      contact: `<${client.contactFor('udp')}>`,
      headers: [{ name: 'Expires', value: '600' }],
    });
    const udp = server.transport.udp;
    if (udp === undefined) throw new Error('registrar stack has no UDP socket');
    const outcome = await client.sendRequest(req, { transport: 'udp', address: '127.0.0.1', port: udp.port }).result;
    detach();
    registrar.clear();
    expect(outcome.kind).to.equal('response');
    if (outcome.kind !== 'response') return;
    expect(outcome.response.status).to.equal(200);
    expect(headerValues(outcome.response, 'contact')[0]).to.equal(`<${client.contactFor('udp')}>;expires=600`);
  });
});

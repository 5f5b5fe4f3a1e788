/**
 * A client that stays up across cases on fixed ports can send a request that belongs to an
 * earlier case (a proxy's late retransmission, a refresh of an old subscription). The PF answers
 * it 481 and logs it apart, so it never counts as this case's behaviour; REGISTER refreshes, which
 * keep their Call-ID by design, still register.
 */
import { expect } from 'chai';
import { newBranch, newTag } from '../../harness/core/ids.ts';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import { buildRequest } from '../../harness/sip/build.ts';
import { SipStack } from '../../harness/sip/stack.ts';
import { builtinConfig } from '../../harness/testcase/config.ts';

describe('pf: requests of earlier cases', function () {
  this.timeout(5_000);
  const STALE = 'stale-call-id@127.0.0.1';
  let pf: ParticipatingFunction;
  let peer: SipStack;

  before(async () => {
    const config = builtinConfig('tcp');
    config.timers = { t1: 20, t2: 160, t4: 200 };
    pf = await ParticipatingFunction.start({ config, trace: () => {}, staleCallIds: new Set([STALE]) });
    peer = await SipStack.start({ actor: 'client', address: '127.0.0.1', tcpPort: 0, udpPort: 0, timers: config.timers });
  });
  after(async () => {
    await peer.close();
    await pf.close();
  });

  function request(method: string, callId: string, extra: { name: string; value: string }[] = []) {
    const aor = pf.config.identities.clientAor;
    return buildRequest({
      method,
      uri: method === 'REGISTER' ? 'sip:ims.example.net' : pf.group.identity,
      via: peer.viaFor('tcp', newBranch()),
      from: `<${aor}>;tag=${newTag()}`,
      to: method === 'REGISTER' ? `<${aor}>` : `<${pf.group.identity}>`,
      callId,
      cseq: 7,
      contact: peer.contactFor('tcp'),
      headers: extra,
    });
  }

  const target = () => ({ transport: 'tcp' as const, address: pf.registrar.address, port: pf.registrar.port });

  it('answers a SUBSCRIBE in an earlier case\'s Call-ID with 481 and logs it as stale', async () => {
    const outcome = await peer.sendRequest(request('SUBSCRIBE', STALE, [{ name: 'Event', value: 'conference' }, { name: 'Expires', value: '60' }]), target()).result;
    expect(outcome.kind === 'response' && outcome.response.status).to.equal(481);
    const kinds = pf.events.all().map((e) => e.type);
    expect(kinds).to.include('stale-request');
    expect(kinds).to.not.include('subscribe');
  });

  it('still registers a REGISTER refresh that keeps its Call-ID', async () => {
    const outcome = await peer.sendRequest(request('REGISTER', STALE, [{ name: 'Expires', value: '60' }]), target()).result;
    expect(outcome.kind === 'response' && outcome.response.status).to.equal(200);
    expect(pf.currentBinding()).to.not.equal(null);
    expect(pf.callIds()).to.include(STALE);
  });
});

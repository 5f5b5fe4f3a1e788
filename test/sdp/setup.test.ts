import { expect } from 'chai';
import { answerSetupFor, negotiateSetup, SETUP_VALUES, type ConnectionRole, type SetupValue } from '../../harness/sdp/index.ts';

type Maybe = SetupValue | undefined;
const VALUES: Maybe[] = [undefined, ...SETUP_VALUES];
const show = (v: Maybe): string => v ?? '(absent)';

// RFC 4145 §4.1 table, with the defaults (offer absent ⇒ active, answer absent ⇒ passive).
const ALLOWED: Record<SetupValue, SetupValue[]> = {
  active: ['passive', 'holdconn'],
  passive: ['active', 'holdconn'],
  actpass: ['active', 'passive', 'holdconn'],
  holdconn: ['holdconn'],
};

function expectedRoles(offer: SetupValue, answer: SetupValue): [ConnectionRole, ConnectionRole] {
  const answerer: ConnectionRole = answer === 'holdconn' ? 'none' : answer === 'actpass' ? (offer === 'active' ? 'passive' : offer === 'holdconn' ? 'none' : 'active') : answer;
  if (offer === 'holdconn' || answerer === 'none') return ['none', answerer];
  if (offer === 'actpass') return [answerer === 'active' ? 'passive' : 'active', answerer];
  return [offer, answerer];
}

describe('sdp/setup: RFC 4145 §4.1 over every offer/answer pair', () => {
  for (const offer of VALUES) {
    for (const answer of VALUES) {
      const o = offer ?? 'active';
      const a = answer ?? 'passive';
      const valid = ALLOWED[o].includes(a);
      it(`offer ${show(offer)} / answer ${show(answer)} → ${valid ? 'valid' : 'diagnostic'}`, () => {
        const r = negotiateSetup(offer, answer);
        expect(r.diagnostics.length > 0, r.diagnostics.map((d) => d.code).join()).to.equal(!valid);
        for (const d of r.diagnostics) expect(d.clause).to.equal('RFC 4145 §4.1');
        expect([r.offererRole, r.answererRole]).to.deep.equal(expectedRoles(o, a));
      });
    }
  }

  it('names the invalid pairs', () => {
    expect(negotiateSetup('active', 'active').diagnostics.map((d) => d.code)).to.deep.equal(['SETUP_BOTH_ACTIVE']);
    expect(negotiateSetup(undefined, 'active').diagnostics.map((d) => d.code)).to.deep.equal(['SETUP_BOTH_ACTIVE']);
    expect(negotiateSetup('passive', 'passive').diagnostics.map((d) => d.code)).to.deep.equal(['SETUP_BOTH_PASSIVE']);
    expect(negotiateSetup('passive', undefined).diagnostics.map((d) => d.code)).to.deep.equal(['SETUP_BOTH_PASSIVE']);
    expect(negotiateSetup('actpass', 'actpass').diagnostics.map((d) => d.code)).to.deep.equal(['SETUP_ANSWER_ACTPASS']);
    expect(negotiateSetup('holdconn', 'active').diagnostics.map((d) => d.code)).to.deep.equal(['SETUP_HOLDCONN_MISMATCH']);
  });

  it('N3: offer without a=setup answered active — the client would connect out to a PF that also connects', () => {
    const r = negotiateSetup(undefined, 'active');
    expect(r).to.deep.include({ offererRole: 'active', answererRole: 'active' });
    expect(r.diagnostics[0]!.message).to.include('no a=setup in the offer (default active)');
  });

  it('answerSetupFor picks what a conforming answerer picks, and that choice always negotiates cleanly', () => {
    expect(VALUES.map((v) => answerSetupFor(v))).to.deep.equal(['passive', 'active', 'passive', 'active', 'holdconn']);
    for (const offer of VALUES) expect(negotiateSetup(offer, answerSetupFor(offer)).diagnostics, show(offer)).to.deep.equal([]);
  });
});

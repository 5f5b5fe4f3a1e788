import { expect } from 'chai';
import { localMsrpUri, MsrpSession } from '../../harness/msrp/session.ts';
import { buildMsrpAnswer } from '../../harness/sdp/build.ts';
import { parseSdp } from '../../harness/sdp/parse.ts';
import { answererRole, listenLocal, localOf, MsrpInviteSession, offererRole, remoteOf } from '../../harness/session/msrp-invite.ts';

const answer = (setup: 'active' | 'passive' | null, port = 7394): ReturnType<typeof parseSdp> =>
  parseSdp(buildMsrpAnswer({ address: '192.0.2.7', port, path: [`msrp://192.0.2.7:${port}/c1;tcp`], setup, sessionId: 1 }));

describe('session/msrp-invite: one offer/answer block for both sides', () => {
  it('remoteOf: the first MSRP media with a port, its a=path as written and parsed', () => {
    const remote = remoteOf(answer('passive'));
    expect(remote.media?.port).to.equal(7394);
    expect(remote.path).to.deep.equal(['msrp://192.0.2.7:7394/c1;tcp']);
    expect(remote.uris.map((u) => u.port)).to.deep.equal([7394]);
    expect(remoteOf(answer('passive', 0)).media, 'port 0 is a rejected stream').to.equal(undefined);
    expect(remoteOf(null)).to.deep.equal({ media: undefined, path: [], uris: [] });
  });

  it('roles per RFC 4145 §4.1: the answerer that says active connects; an offer without a=setup makes the offerer active', () => {
    expect(answererRole('active')).to.equal('active');
    for (const setup of ['passive', 'holdconn', null, undefined] as const) expect(answererRole(setup)).to.equal('passive');
    expect(offererRole('actpass', remoteOf(answer('active')))).to.equal('passive');
    expect(offererRole('actpass', remoteOf(answer('passive')))).to.equal('active');
    expect(offererRole(null, remoteOf(answer(null)))).to.equal('active');
  });

  it('connect(): only the active side, once; without a usable a=path it fails without touching the network', async () => {
    const msrp = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), role: 'active' });
    try {
      const local = localOf(msrp);
      const passive = new MsrpInviteSession({ dialog: null, msrp, role: 'passive', local, remote: remoteOf(null) });
      expect(passive.connect(100)).to.equal(null);
      const active = new MsrpInviteSession({ dialog: null, msrp, role: 'active', local, remote: remoteOf(null) });
      const first = active.connect(100);
      expect(active.connect(100)).to.equal(first);
      const outcome = await first!;
      expect(outcome.ok === false && outcome.error.code).to.equal('MSRP_NO_PATH');
      expect(active.usable).to.equal(false);
    } finally {
      await msrp.close();
    }
  });

  it('listenLocal: the a=path of the listening socket', async () => {
    const msrp = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), role: 'passive' });
    try {
      const local = await listenLocal(msrp);
      expect(local.error).to.equal(undefined);
      expect(local.uri.port).to.be.greaterThan(0);
      expect(local.path).to.match(new RegExp(`^msrp://127\\.0\\.0\\.1:${local.uri.port}/[^;]+;tcp$`));
    } finally {
      await msrp.close();
    }
  });
});

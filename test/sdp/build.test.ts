import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { buildMsrpAnswer, buildMsrpOffer, type MsrpSdpOptions } from '../../harness/sdp/index.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url));

const PF: MsrpSdpOptions = { address: '192.0.2.10', port: 7394, path: ['msrp://192.0.2.10:7394/pf8s3kq1;tcp'], sessionId: 3913651012 };

// Each golden file was written with printf, independently of the builder.
const offers: [file: string, options: MsrpSdpOptions][] = [
  ['offer-2.1.sdp', PF],
  ['offer-no-direction.sdp', { ...PF, mediaDirection: null }],
  ['offer-session-only-sendrecv.sdp', { ...PF, sessionDirection: 'sendrecv', mediaDirection: null }],
  ['offer-session-sendonly-media-sendrecv.sdp', { ...PF, sessionDirection: 'sendonly', mediaDirection: 'sendrecv' }],
  ['offer-session-sendrecv-media-sendonly.sdp', { ...PF, sessionDirection: 'sendrecv', mediaDirection: 'sendonly' }],
  ['offer-session-only-inactive.sdp', { ...PF, sessionDirection: 'inactive', mediaDirection: null }],
  ['offer-two-directions.sdp', { ...PF, extraAttributes: [{ level: 'media', line: 'a=sendonly' }] }],
  ['offer-two-session-directions.sdp', { ...PF, sessionDirection: 'sendrecv', mediaDirection: null, extraAttributes: [{ level: 'session', line: 'a=inactive' }] }],
  ['offer-media-sendonly.sdp', { ...PF, mediaDirection: 'sendonly' }],
  ['offer-media-recvonly.sdp', { ...PF, mediaDirection: 'recvonly' }],
  ['offer-media-inactive.sdp', { ...PF, mediaDirection: 'inactive' }],
  ['offer-extra-audio.sdp', { ...PF, extraMedia: ['m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000'] }],
  ['offer-port-zero.sdp', { ...PF, port: 0 }],
  ['offer-no-setup.sdp', { ...PF, setup: null }],
  ['offer-setup-active.sdp', { ...PF, setup: 'active' }],
  ['offer-setup-passive.sdp', { ...PF, setup: 'passive' }],
  ['offer-tls.sdp', { ...PF, protocol: 'TCP/TLS/MSRP', path: ['msrps://192.0.2.10:7394/pf8s3kq1;tcp'] }],
  ['offer-max-size.sdp', { ...PF, maxSize: 65536 }],
  ['offer-space-after-equals.sdp', { ...PF, mediaDirection: null, extraAttributes: [{ level: 'media', line: 'a= sendrecv' }] }],
];

describe('sdp/build', () => {
  for (const [file, options] of offers) {
    it(`buildMsrpOffer reproduces ${file} byte for byte`, () => {
      expect(Buffer.from(buildMsrpOffer(options), 'latin1').equals(fixture(file))).to.equal(true, buildMsrpOffer(options));
    });
  }

  it('the PROTOCOLS §2.1 offer is 295 octets and the §2.3 answer 292', () => {
    expect(fixture('offer-2.1.sdp').length).to.equal(295);
    expect(fixture('answer-2.3.sdp').length).to.equal(292);
  });

  it('buildMsrpAnswer reproduces the §2.3 answer (a=setup before a=path)', () => {
    const answer = buildMsrpAnswer({ address: '192.0.2.50', port: 9, path: ['msrp://192.0.2.50:50123/cl4x7m2p;tcp'], sessionId: 3913651020 });
    expect(Buffer.from(answer, 'latin1').equals(fixture('answer-2.3.sdp'))).to.equal(true, answer);
  });

  it('puts extra m= blocks before m=message when asked, and uses IP6 for IPv6 addresses', () => {
    const text = buildMsrpOffer({ ...PF, address: '2001:db8::10', extraMedia: ['m=audio 0 RTP/AVP 0'], extraMediaPosition: 'before' });
    const lines = text.split('\r\n');
    expect(lines[1]).to.equal('o=- 3913651012 3913651012 IN IP6 2001:db8::10');
    expect(lines[3]).to.equal('c=IN IP6 2001:db8::10');
    expect(lines[5]).to.equal('m=audio 0 RTP/AVP 0');
    expect(lines[6]).to.equal('m=message 7394 TCP/MSRP *');
    expect(text.endsWith('a=sendrecv\r\n')).to.equal(true);
    expect(text).not.to.match(/[^\r]\n/);
  });

  it('omits a=path for an empty path list and joins several URIs with one space', () => {
    expect(buildMsrpOffer({ ...PF, path: [] })).not.to.include('a=path');
    const two = buildMsrpOffer({ ...PF, path: ['msrp://relay.example.net:2855/r1;tcp', 'msrp://192.0.2.10:7394/pf8s3kq1;tcp'] });
    expect(two).to.include('a=path:msrp://relay.example.net:2855/r1;tcp msrp://192.0.2.10:7394/pf8s3kq1;tcp\r\n');
  });
});

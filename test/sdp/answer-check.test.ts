import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ANSWER_RULES, answerFindings, buildMsrpAnswer, buildMsrpOffer, checkMsrpAnswer, parseSdp, type MsrpSdpOptions, type ParsedSdp } from '../../harness/sdp/index.ts';

const fixture = (name: string): ParsedSdp => parseSdp(readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url)));
const OFFER = fixture('offer-2.1.sdp');
const CLIENT: MsrpSdpOptions = { address: '192.0.2.50', port: 9, path: ['msrp://192.0.2.50:50123/cl4x7m2p;tcp'], sessionId: 3913651020 };
const answer = (overrides: Partial<MsrpSdpOptions> = {}): ParsedSdp => parseSdp(buildMsrpAnswer({ ...CLIENT, ...overrides }));
const codes = (answerSdp: ParsedSdp, offer: ParsedSdp = OFFER): string[] => checkMsrpAnswer(answerSdp, offer).map((d) => d.code);

describe('sdp/answer-check: the client answer to a sendrecv MSRP offer', () => {
  describe('accepted answers', () => {
    it('the PROTOCOLS §2.3 answer passes (m= port 9 differs from the a=path port: not checked)', () => {
      expect(checkMsrpAnswer(fixture('answer-2.3.sdp'), OFFER)).to.deep.equal([]);
    });
    it('no direction attribute in the answer means sendrecv', () => {
      expect(codes(answer({ mediaDirection: null }))).to.deep.equal([]);
    });
    it('session-level sendrecv in the answer is enough', () => {
      expect(codes(answer({ mediaDirection: null, sessionDirection: 'sendrecv' }))).to.deep.equal([]);
    });
    it('a=setup:passive to actpass is fine too, and an msrps path over TLS', () => {
      expect(codes(answer({ setup: 'passive', port: 50123 }))).to.deep.equal([]);
      const tlsOffer = fixture('offer-tls.sdp');
      expect(codes(answer({ protocol: 'TCP/TLS/MSRP', path: ['msrps://192.0.2.50:50123/cl4x7m2p;tcp'] }), tlsOffer)).to.deep.equal([]);
    });
    it('an extra offered m=audio may be refused with port 0', () => {
      const offer = fixture('offer-extra-audio.sdp');
      expect(codes(answer({ extraMedia: ['m=audio 0 RTP/AVP 0'] }), offer)).to.deep.equal([]);
    });
  });

  describe('rejected answers', () => {
    const cases: [string, Partial<MsrpSdpOptions>, string[]][] = [
      ['port 0 rejects the stream', { port: 0 }, ['ANSWER_MSRP_PORT_ZERO']],
      ['media-level recvonly', { mediaDirection: 'recvonly' }, ['ANSWER_DIRECTION_NOT_SENDRECV']],
      ['media-level sendonly', { mediaDirection: 'sendonly' }, ['ANSWER_DIRECTION_NOT_SENDRECV']],
      ['media-level inactive', { mediaDirection: 'inactive' }, ['ANSWER_DIRECTION_NOT_SENDRECV']],
      ['session-level inactive, nothing at media level', { mediaDirection: null, sessionDirection: 'inactive' }, ['ANSWER_DIRECTION_NOT_SENDRECV']],
      ['two media-level directions, the first not sendrecv', { mediaDirection: 'recvonly', extraAttributes: [{ level: 'media', line: 'a=sendrecv' }] }, ['SDP_MULTIPLE_DIRECTIONS', 'ANSWER_DIRECTION_NOT_SENDRECV']],
      ['no a=path', { path: [] }, ['ANSWER_PATH_MISSING']],
      ['a=path without transport', { path: ['msrp://192.0.2.50:50123/cl4x7m2p'] }, ['ANSWER_PATH_INVALID']],
      ['a=path with one bad URI of two', { path: ['msrp://192.0.2.50:50123/a;tcp', 'sip:x@y'] }, ['ANSWER_PATH_INVALID']],
      ['no a=accept-types', { acceptTypes: [] }, ['ANSWER_ACCEPT_TYPES_MISSING']],
      ['a=accept-types without message/cpim', { acceptTypes: ['text/plain'] }, ['ANSWER_ACCEPT_TYPES_NO_CPIM']],
      ['a=accept-types with only a wildcard (warning)', { acceptTypes: ['*'] }, ['ANSWER_ACCEPT_TYPES_CPIM_WILDCARD']],
      ['N12: no message/imdn+xml in accept-wrapped-types (warning)', { acceptWrappedTypes: ['text/plain'] }, ['ANSWER_NO_IMDN_WRAPPED_TYPE']],
      ['no a=accept-wrapped-types at all (warning)', { acceptWrappedTypes: [] }, ['ANSWER_NO_IMDN_WRAPPED_TYPE']],
      ['a=setup:actpass in an answer', { setup: 'actpass' }, ['SETUP_ANSWER_ACTPASS']],
      ['a=setup with an invalid value', { setup: null, extraAttributes: [{ level: 'media', line: 'a=setup:both' }] }, ['ANSWER_SETUP_INVALID']],
    ];
    for (const [name, overrides, expected] of cases) {
      it(`${name} → ${expected.join(', ')}`, () => {
        const diagnostics = checkMsrpAnswer(answer(overrides), OFFER);
        expect(diagnostics.map((d) => d.code)).to.deep.equal(expected);
        for (const d of diagnostics) expect(d.bytes.length, d.code).to.be.greaterThan(0);
      });
    }

    it('warnings are warnings and the rest are errors', () => {
      const ds = checkMsrpAnswer(answer({ acceptTypes: ['*'], acceptWrappedTypes: ['text/plain'], mediaDirection: 'recvonly' }), OFFER);
      expect(ds.map((d) => [d.code, d.severity])).to.deep.equal([
        ['ANSWER_DIRECTION_NOT_SENDRECV', 'error'],
        ['ANSWER_ACCEPT_TYPES_CPIM_WILDCARD', 'warning'],
        ['ANSWER_NO_IMDN_WRAPPED_TYPE', 'warning'],
      ]);
    });

    it('the direction verdict quotes the resolver sentence and the evidence line', () => {
      const [d] = checkMsrpAnswer(answer({ sessionDirection: 'sendrecv', mediaDirection: 'recvonly' }), OFFER);
      expect(d!.message).to.include('media-level a=recvonly overrides session-level a=sendrecv (RFC 8866 §6.7)');
      expect(d!.bytes.toString()).to.equal('a=recvonly');
      expect(d!.clause).to.equal('OMA CPM §7.3.12 1)a)i');
    });

    it('N3: active answer to an offer without a=setup', () => {
      expect(codes(answer({ setup: 'active' }), fixture('offer-no-setup.sdp'))).to.deep.equal(['SETUP_BOTH_ACTIVE']);
      expect(codes(answer({ setup: null }), fixture('offer-no-setup.sdp'))).to.deep.equal([]);
    });

    it('N1: sendrecv answer to a sendonly offer breaks RFC 3264 §6.1', () => {
      const ds = checkMsrpAnswer(answer(), fixture('offer-media-sendonly.sdp'));
      expect(ds.map((d) => [d.code, d.clause])).to.deep.equal([['ANSWER_DIRECTION_INCOMPATIBLE', 'RFC 3264 §6.1']]);
      expect(codes(answer({ mediaDirection: 'recvonly' }), fixture('offer-media-sendonly.sdp'))).to.deep.equal([]);
    });

    it('m= line count must match the offer (extra m=audio dropped)', () => {
      expect(codes(answer(), fixture('offer-extra-audio.sdp'))).to.deep.equal(['ANSWER_MLINE_COUNT']);
    });

    it('the answer must keep m=message at the offered position', () => {
      const swapped = answer({ extraMedia: ['m=audio 0 RTP/AVP 0'], extraMediaPosition: 'before' });
      expect(codes(swapped, fixture('offer-extra-audio.sdp'))).to.deep.equal(['ANSWER_NO_MSRP_MEDIA']);
    });

    it('an offer without MSRP media cannot be checked against', () => {
      const audioOffer = parseSdp('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n');
      expect(codes(answer(), audioOffer)).to.deep.equal(['ANSWER_CHECK_NO_MSRP_OFFER']);
    });
  });

  describe('findings: one per rule, neutral (no requirement ID, no level)', () => {
    it('the PROTOCOLS §2.3 answer holds every rule', () => {
      const findings = answerFindings(fixture('answer-2.3.sdp'), OFFER);
      expect(findings.map((f) => f.rule)).to.deep.equal([...ANSWER_RULES]);
      expect(findings.filter((f) => !f.ok)).to.deep.equal([]);
      for (const f of findings) expect(Object.keys(f).sort()).to.deep.equal(['detail', 'ok', 'rule']);
    });
    const broken: [string, Partial<MsrpSdpOptions>, string][] = [
      ['port 0', { port: 0 }, 'sdp.answer.port'],
      ['recvonly', { mediaDirection: 'recvonly' }, 'sdp.answer.direction'],
      ['no a=path', { path: [] }, 'sdp.answer.path'],
      ['no message/cpim', { acceptTypes: ['text/plain'] }, 'sdp.answer.accept-types'],
      ['wildcard', { acceptTypes: ['*'] }, 'sdp.answer.accept-types-wildcard'],
      ['N12', { acceptWrappedTypes: ['text/plain'] }, 'sdp.answer.imdn-wrapped'],
      ['actpass', { setup: 'actpass' }, 'sdp.answer.setup'],
      ['extra m=audio', { extraMedia: ['m=audio 0 RTP/AVP 0'] }, 'sdp.answer.media'],
    ];
    for (const [name, overrides, rule] of broken) {
      it(`${name} breaks exactly ${rule}, with the diagnostic in the detail`, () => {
        const failing = answerFindings(answer(overrides), OFFER).filter((f) => !f.ok);
        expect(failing.map((f) => f.rule)).to.deep.equal([rule]);
        expect(failing[0]!.detail).to.match(/^[A-Z_]+: /);
      });
    }
  });
});

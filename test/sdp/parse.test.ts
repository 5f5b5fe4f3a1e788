import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import sdpTransform from 'sdp-transform';
import type { Diagnostic } from '../../harness/core/diagnostic.ts';
import { MSRP_ATTRIBUTES, msrpAttribute } from '../../harness/sdp/msrp-attributes.ts';
import { buildMsrpOffer, findMsrpMedia, parseSdp, SDP_PARSE_CODES, type MsrpSdpOptions } from '../../harness/sdp/index.ts';

const dir = new URL('../../fixtures/sdp/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, dir));
const codes = (ds: Diagnostic[]): string[] => ds.map((d) => d.code);

/** A diagnostic's bytes must be exactly the input at its offset. */
function expectEvidence(raw: Buffer, d: Diagnostic): void {
  if (d.offset === undefined) return;
  expect(raw.subarray(d.offset, d.offset + d.bytes.length).equals(d.bytes), `${d.code} bytes at ${d.offset}`).to.equal(true);
}

describe('sdp/parse', () => {
  it('parses the PROTOCOLS §2.1 offer into MediaView fields with no diagnostics', () => {
    const sdp = parseSdp(fixture('offer-2.1.sdp'));
    expect(sdp.diagnostics).to.deep.equal([]);
    expect(sdp.raw.length).to.equal(295);
    expect(sdp.media).to.have.length(1);
    const [m] = sdp.media;
    expect(m).to.include({ index: 0, type: 'message', port: 7394, protocol: 'TCP/MSRP', setup: 'actpass', setupLevel: 'media', connectionAddress: '192.0.2.10' });
    expect(m!.formats).to.deep.equal(['*']);
    expect(m!.path).to.deep.equal(['msrp://192.0.2.10:7394/pf8s3kq1;tcp']);
    expect(m!.acceptTypes).to.deep.equal(['message/cpim', 'application/im-iscomposing+xml']);
    expect(m!.acceptWrappedTypes).to.deep.equal(['text/plain', 'message/imdn+xml']);
    expect(m!.directions.map((d) => [d.value, d.level, d.offset, d.bytes.toString()])).to.deep.equal([['sendrecv', 'media', 283, 'a=sendrecv']]);
    expect(m!.line.bytes.toString()).to.equal('m=message 7394 TCP/MSRP *');
    expect(sdp.sessionConnectionAddress).to.equal('192.0.2.10');
  });

  it('fills sdp-transform custom fields (path, accept-types, accept-wrapped-types, max-size)', () => {
    const sdp = parseSdp(fixture('offer-max-size.sdp'));
    const media = sdp.session.media[0]!;
    expect(media.path).to.equal('msrp://192.0.2.10:7394/pf8s3kq1;tcp');
    expect(media.acceptTypes).to.equal('message/cpim application/im-iscomposing+xml');
    expect(media.acceptWrappedTypes).to.equal('text/plain message/imdn+xml');
    expect(media.maxSize).to.equal(65536);
    expect(media.invalid).to.equal(undefined);
    expect(sdp.media[0]!.maxSize).to.equal(65536);
  });

  it('parses the §2.3 answer: port 9, a=setup:active, path on another port', () => {
    const sdp = parseSdp(fixture('answer-2.3.sdp'));
    expect(sdp.diagnostics).to.deep.equal([]);
    expect(sdp.media[0]).to.include({ port: 9, setup: 'active' });
    expect(sdp.media[0]!.path).to.deep.equal(['msrp://192.0.2.50:50123/cl4x7m2p;tcp']);
  });

  it('gives the same result for a string and for its bytes', () => {
    const text = fixture('offer-extra-audio.sdp').toString('latin1');
    const a = parseSdp(text);
    const b = parseSdp(Buffer.from(text, 'latin1'));
    expect(a.media.map((m) => [m.type, m.port, m.protocol])).to.deep.equal(b.media.map((m) => [m.type, m.port, m.protocol]));
    expect(a.media.map((m) => [m.type, m.port])).to.deep.equal([['message', 7394], ['audio', 49170]]);
  });

  it('findMsrpMedia keeps only m=message TCP/MSRP and TCP/TLS/MSRP', () => {
    expect(findMsrpMedia(parseSdp(fixture('offer-extra-audio.sdp'))).map((m) => m.index)).to.deep.equal([0]);
    expect(findMsrpMedia(parseSdp(fixture('offer-tls.sdp'))).map((m) => m.protocol)).to.deep.equal(['TCP/TLS/MSRP']);
    const audioOnly = parseSdp('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n');
    expect(findMsrpMedia(audioOnly)).to.deep.equal([]);
  });

  it('takes a session-level a=setup when the media has none', () => {
    const text = buildMsrpOffer({ address: '192.0.2.10', port: 7394, path: ['msrp://192.0.2.10:7394/a;tcp'], setup: null, extraAttributes: [{ level: 'session', line: 'a=setup:passive' }] });
    expect(parseSdp(text).media[0]).to.include({ setup: 'passive', setupLevel: 'session' });
  });

  it('keeps an unknown attribute (warning, in attributes and in sdp-transform invalid[])', () => {
    const raw = fixture('malformed/SDP_UNKNOWN_ATTRIBUTE.sdp');
    const sdp = parseSdp(raw);
    const d = sdp.diagnostics.find((x) => x.code === 'SDP_UNKNOWN_ATTRIBUTE')!;
    expect(d.severity).to.equal('warning');
    expect(sdp.media[0]!.attributes.map((a) => a.name)).to.include('x-unknown-thing');
    expect(sdp.session.media[0]!.invalid).to.deep.equal([{ value: 'x-unknown-thing:1' }]);
  });

  it('does not count "a= sendrecv" (E10) as a direction attribute', () => {
    const sdp = parseSdp(fixture('offer-space-after-equals.sdp'));
    expect(codes(sdp.diagnostics)).to.deep.equal(['SDP_WHITESPACE_AFTER_EQUALS']);
    expect(sdp.media[0]!.directions).to.deep.equal([]);
  });

  it('does not let sdp-transform read "a=sendrecvx" as a direction', () => {
    const sdp = parseSdp(buildMsrpOffer({ address: '192.0.2.10', port: 7394, path: ['msrp://h:1/s;tcp'], mediaDirection: null, extraAttributes: [{ level: 'media', line: 'a=sendrecvx' }] }));
    expect(codes(sdp.diagnostics)).to.deep.equal(['SDP_MALFORMED_ATTRIBUTE']);
    expect(sdp.media[0]!.directions).to.deep.equal([]);
  });

  describe('one malformed sample per diagnostic code (fixtures/sdp/malformed/<code>.sdp)', () => {
    const samples = readdirSync(new URL('malformed/', dir)).filter((f) => f.endsWith('.sdp'));
    it('has a sample for every code parseSdp can report, and no stray sample', () => {
      expect(samples.map((f) => f.replace(/\.sdp$/, '')).sort()).to.deep.equal([...SDP_PARSE_CODES].sort());
    });
    for (const file of samples) {
      const code = file.replace(/\.sdp$/, '');
      it(`${code}: reported with clause and exact evidence bytes`, () => {
        const raw = fixture(`malformed/${file}`);
        const sdp = parseSdp(raw);
        const hits = sdp.diagnostics.filter((d) => d.code === code);
        expect(hits, codes(sdp.diagnostics).join(',')).to.have.length.greaterThan(0);
        for (const d of sdp.diagnostics) {
          expect(d.clause).to.match(/^RFC \d+ §/);
          expectEvidence(raw, d);
        }
        if (code !== 'SDP_MISSING_LINE') expect(hits[0]!.bytes.length).to.be.greaterThan(0);
      });
    }
  });

  it('every golden offer parses with exactly the diagnostics its oddity implies', () => {
    const expected: Record<string, string[]> = {
      'offer-two-directions.sdp': ['SDP_MULTIPLE_DIRECTIONS'],
      'offer-two-session-directions.sdp': ['SDP_MULTIPLE_DIRECTIONS'],
      'offer-space-after-equals.sdp': ['SDP_WHITESPACE_AFTER_EQUALS'],
    };
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.sdp'))) {
      expect(codes(parseSdp(fixture(file)).diagnostics), file).to.deep.equal(expected[file] ?? []);
    }
  });

  it('round-trips builder options through the parser', () => {
    const options: MsrpSdpOptions = {
      address: '127.0.0.1',
      port: 40000,
      path: ['msrp://127.0.0.1:40000/abc;tcp'],
      acceptTypes: ['message/cpim'],
      acceptWrappedTypes: ['text/plain', 'message/imdn+xml', 'application/im-iscomposing+xml'],
      setup: 'passive',
      mediaDirection: 'recvonly',
      sessionDirection: 'sendonly',
      maxSize: 4096,
    };
    const sdp = parseSdp(buildMsrpOffer(options));
    expect(sdp.diagnostics).to.deep.equal([]);
    const m = sdp.media[0]!;
    expect([m.port, m.path, m.acceptTypes, m.acceptWrappedTypes, m.setup, m.maxSize, m.connectionAddress]).to.deep.equal([
      options.port, options.path, options.acceptTypes, options.acceptWrappedTypes, options.setup, options.maxSize, options.address,
    ]);
    expect(m.directions.map((d) => d.value)).to.deep.equal(['recvonly']);
    expect(sdp.sessionDirections.map((d) => d.value)).to.deep.equal(['sendonly']);
  });

  it('leaves sdp-transform\'s shared grammar as the library ships it, and still fills the MSRP fields', () => {
    const rows = (sdpTransform as unknown as { grammar: { a: { name?: string; push?: string }[] } }).grammar.a;
    expect(rows[rows.length - 1]!.push).to.equal('invalid');
    expect(rows.filter((r) => MSRP_ATTRIBUTES.some((m) => m.field === r.name))).to.deep.equal([]);
    const text = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\na=path:msrp://192.0.2.1:7394/x;tcp\r\na=max-size:65536\r\na=x-other:1\r\n';
    // Another user of sdp-transform sees the library's own behaviour: a=path is not one of its rows.
    expect((sdpTransform.parse(text).media[0] as { invalid?: unknown[] }).invalid).to.have.length(3);
    const media = parseSdp(text).session.media[0]!;
    expect([media.path, media.maxSize]).to.deep.equal(['msrp://192.0.2.1:7394/x;tcp', 65536]);
    expect((media as { invalid?: { value: string }[] }).invalid).to.deep.equal([{ value: 'x-other:1' }]);
  });

  it('every RFC 4975 attribute row parses its example clean and formats it back', () => {
    for (const row of MSRP_ATTRIBUTES) {
      const read = msrpAttribute(row.name)!.parse(row.example);
      expect(read.problems, row.name).to.deep.equal([]);
      expect(msrpAttribute(row.name)!.format(read.value as never), row.name).to.equal(row.example);
    }
  });

  it('never throws on junk', () => {
    for (const junk of ['', '\r\n', '=', 'v', '\x00\xff', 'm=', 'a=:', 'v=0\r\nm=message x y\r\n', Buffer.from([0xc3, 0x28, 0x0a])]) {
      const sdp = parseSdp(junk);
      expect(sdp.diagnostics.length, JSON.stringify(junk)).to.be.greaterThan(0);
    }
  });
});

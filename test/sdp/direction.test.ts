import { expect } from 'chai';
import { buildMsrpOffer, DIRECTIONS, parseSdp, resolveDirection, type Direction, type MsrpSdpOptions } from '../../harness/sdp/index.ts';

const BASE: MsrpSdpOptions = { address: '192.0.2.10', port: 7394, path: ['msrp://192.0.2.10:7394/pf8s3kq1;tcp'] };

interface Placement {
  session: Direction[];
  media: Direction[];
}

/** PROTOCOLS §1.2 7.3.12-1a-i edge-case label for a placement. */
function edgeCase({ session, media }: Placement): string {
  if (session.length > 1 || media.length > 1) return 'E7';
  const [s] = session;
  const [m] = media;
  if (!s && !m) return 'E2';
  if (!s && m === 'sendrecv') return 'E1';
  if (s === 'sendrecv' && !m) return 'E3';
  if (s && s !== 'sendrecv' && m === 'sendrecv') return 'E4';
  if (s === 'sendrecv' && m && m !== 'sendrecv') return 'E5';
  if (s && s !== 'sendrecv' && !m) return 'E6';
  return 'other';
}

function build({ session, media }: Placement): string {
  return buildMsrpOffer({
    ...BASE,
    sessionDirection: session[0] ?? null,
    mediaDirection: media[0] ?? null,
    extraAttributes: [...session.slice(1).map((d) => ({ level: 'session' as const, line: `a=${d}` })), ...media.slice(1).map((d) => ({ level: 'media' as const, line: `a=${d}` }))],
  });
}

// Every single placement (none or one of four, at each level), then every ordered pair at one level.
const placements: Placement[] = [];
const optional: Direction[][] = [[], ...DIRECTIONS.map((d) => [d])];
for (const session of optional) for (const media of optional) placements.push({ session, media });
for (const a of DIRECTIONS) {
  for (const b of DIRECTIONS) {
    if (a === b) continue;
    placements.push({ session: [], media: [a, b] });
    placements.push({ session: [a, b], media: [] });
    placements.push({ session: [b], media: [a, b] });
  }
}

describe('sdp/direction: RFC 8866 §6.7 over every placement (E1–E7)', () => {
  it('covers every edge case E1–E7', () => {
    expect(new Set(placements.map(edgeCase))).to.include.members(['E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7']);
  });

  for (const placement of placements) {
    const label = `${edgeCase(placement)} session=[${placement.session.join(',')}] media=[${placement.media.join(',')}]`;
    // Independent oracle: first media-level, else first session-level, else sendrecv.
    const expected: Direction = placement.media[0] ?? placement.session[0] ?? 'sendrecv';
    const decidedBy = placement.media.length > 0 ? 'media' : placement.session.length > 0 ? 'session' : 'default';
    const accept = expected === 'sendrecv';

    it(`${label} → ${expected} by ${decidedBy} (${accept ? 'accept' : '488'})`, () => {
      const sdp = parseSdp(build(placement));
      const resolved = resolveDirection(sdp, 0);
      expect([resolved.direction, resolved.decidedBy]).to.deep.equal([expected, decidedBy]);
      expect(resolved.text).to.include('RFC 8866 §6.7');

      const decidingLevel = decidedBy === 'media' ? placement.media : decidedBy === 'session' ? placement.session : [];
      expect(resolved.diagnostics.map((d) => d.code)).to.deep.equal(decidingLevel.length > 1 ? ['SDP_MULTIPLE_DIRECTIONS'] : []);
      const duplicatedLevels = [placement.session, placement.media].filter((l) => l.length > 1).length;
      expect(sdp.diagnostics.filter((d) => d.code === 'SDP_MULTIPLE_DIRECTIONS')).to.have.length(duplicatedLevels);

      const [s] = placement.session;
      const [m] = placement.media;
      if (m && s && s !== m) expect(resolved.text).to.equal(`media-level a=${m} overrides session-level a=${s} (RFC 8866 §6.7)`);
      if (!m && s) expect(resolved.text).to.include(`session-level a=${s} applies`);
      if (!m && !s) expect(resolved.text).to.include('sendrecv is assumed by default');
    });
  }

  it('resolves the golden odd offers as PROTOCOLS §1.2 says', () => {
    const cases: [string, Direction, string][] = [
      ['offer-2.1.sdp', 'sendrecv', 'media'],
      ['offer-no-direction.sdp', 'sendrecv', 'default'],
      ['offer-session-only-sendrecv.sdp', 'sendrecv', 'session'],
      ['offer-session-sendonly-media-sendrecv.sdp', 'sendrecv', 'media'],
      ['offer-session-sendrecv-media-sendonly.sdp', 'sendonly', 'media'],
      ['offer-session-only-inactive.sdp', 'inactive', 'session'],
      ['offer-two-directions.sdp', 'sendrecv', 'media'],
      ['offer-space-after-equals.sdp', 'sendrecv', 'default'],
    ];
    return import('node:fs').then(({ readFileSync }) => {
      for (const [file, direction, decidedBy] of cases) {
        const r = resolveDirection(parseSdp(readFileSync(new URL(`../../fixtures/sdp/${file}`, import.meta.url))), 0);
        expect([r.direction, r.decidedBy], file).to.deep.equal([direction, decidedBy]);
      }
    });
  });

  it('reports a media index that does not exist', () => {
    const r = resolveDirection(parseSdp(build({ session: [], media: ['sendrecv'] })), 3);
    expect(r.diagnostics.map((d) => d.code)).to.deep.equal(['SDP_NO_SUCH_MEDIA']);
  });

  it('resolves each m= line on its own (extra m=audio with its own direction)', () => {
    const sdp = parseSdp(buildMsrpOffer({ ...BASE, sessionDirection: 'recvonly', mediaDirection: null, extraMedia: ['m=audio 49170 RTP/AVP 0\r\na=inactive'] }));
    expect(resolveDirection(sdp, 0)).to.include({ direction: 'recvonly', decidedBy: 'session' });
    expect(resolveDirection(sdp, 1)).to.include({ direction: 'inactive', decidedBy: 'media' });
  });
});

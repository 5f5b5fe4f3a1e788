/**
 * SDP for MSRP: build, strict parse, and the full answer check, on the PROTOCOLS §2.1/§2.3 samples.
 * The strict parser is compared, interleaved, with sdp-transform's parse alone on the same bytes
 * (goal ≥ 0.8×): the strict pass must not cost much more than the library it sits beside.
 */
import sdpTransform from 'sdp-transform';
import { bench, compareRates, type BenchOutput } from './lib.ts';
import { buildMsrpAnswer, buildMsrpOffer, checkMsrpAnswer, parseSdp, resolveDirection } from '../harness/sdp/index.ts';

export async function run(): Promise<BenchOutput[]> {
  const offerText = buildMsrpOffer({ address: '192.0.2.10', port: 7394, path: ['msrp://192.0.2.10:7394/pf8s3kq1;tcp'], sessionId: 3913651012 });
  const answerText = buildMsrpAnswer({ address: '192.0.2.50', port: 9, path: ['msrp://192.0.2.50:50123/cl4x7m2p;tcp'], sessionId: 3913651020 });
  const offerBytes = Buffer.from(offerText, 'latin1');
  const answerBytes = Buffer.from(answerText, 'latin1');
  const offer = parseSdp(offerBytes);
  return [
    // Both get the bytes of a SIP body; sdp-transform needs them as a string first.
    ...(await compareRates(
      `sdp parse §2.1 offer (${offerBytes.length} B)`,
      [
        { name: 'harness parseSdp', body: () => parseSdp(offerBytes) },
        { name: 'sdp-transform parse', body: () => sdpTransform.parse(offerBytes.toString('utf8')) },
      ],
      { ops: 10_000, unit: 'parses/s', goal: { atLeast: 0.8 } },
    )),
    ...(await compareRates(
      `sdp parse §2.1 offer, sdp-transform object read`,
      [
        { name: 'harness parseSdp + .session', body: () => parseSdp(offerBytes).session.media.length },
        { name: 'sdp-transform parse', body: () => sdpTransform.parse(offerBytes.toString('utf8')).media.length },
      ],
      { ops: 10_000, unit: 'parses/s' },
    )),
    bench('sdp: buildMsrpOffer (§2.1)', (i) => buildMsrpOffer({ address: '192.0.2.10', port: 7394 + (i & 7), path: ['msrp://192.0.2.10:7394/pf8s3kq1;tcp'] }), {
      opsPerRound: 20_000,
      bytesPerOp: offerBytes.length,
    }),
    bench('sdp: parseSdp + resolveDirection + checkMsrpAnswer (§2.3)', () => {
      const answer = parseSdp(answerBytes);
      resolveDirection(answer, 0);
      return checkMsrpAnswer(answer, offer);
    }, { opsPerRound: 5_000, bytesPerOp: answerBytes.length }),
  ];
}

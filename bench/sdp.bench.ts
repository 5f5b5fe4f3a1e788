/** SDP for MSRP: build, strict parse, and the full answer check, on the PROTOCOLS §2.1/§2.3 samples. */
import { bench, type BenchResult } from './lib.ts';
import { buildMsrpAnswer, buildMsrpOffer, checkMsrpAnswer, parseSdp, resolveDirection } from '../harness/sdp/index.ts';

export async function run(): Promise<BenchResult[]> {
  const offerText = buildMsrpOffer({ address: '192.0.2.10', port: 7394, path: ['msrp://192.0.2.10:7394/pf8s3kq1;tcp'], sessionId: 3913651012 });
  const answerText = buildMsrpAnswer({ address: '192.0.2.50', port: 9, path: ['msrp://192.0.2.50:50123/cl4x7m2p;tcp'], sessionId: 3913651020 });
  const offerBytes = Buffer.from(offerText, 'latin1');
  const answerBytes = Buffer.from(answerText, 'latin1');
  const offer = parseSdp(offerBytes);
  return [
    bench('sdp: buildMsrpOffer (§2.1)', (i) => buildMsrpOffer({ address: '192.0.2.10', port: 7394 + (i & 7), path: ['msrp://192.0.2.10:7394/pf8s3kq1;tcp'] }), {
      opsPerRound: 20_000,
      bytesPerOp: offerBytes.length,
    }),
    bench('sdp: parseSdp strict (§2.1 offer, 295 B)', () => parseSdp(offerBytes), { opsPerRound: 5_000, bytesPerOp: offerBytes.length }),
    bench('sdp: parseSdp + resolveDirection + checkMsrpAnswer (§2.3)', () => {
      const answer = parseSdp(answerBytes);
      resolveDirection(answer, 0);
      return checkMsrpAnswer(answer, offer);
    }, { opsPerRound: 5_000, bytesPerOp: answerBytes.length }),
  ];
}

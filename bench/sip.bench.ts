/**
 * SIP codec figures: §2.1 INVITE parse (msgs/s, MB/s), parse + typed header values of the fields
 * a transaction/dialog layer reads, serialize, and TCP framing. Goal: ≥ 100,000 parses/s.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipStreamFramer } from '../harness/sip/framer.ts';
import { hasIcsi, parseCSeq, parseNameAddr, parseVia } from '../harness/sip/headers.ts';
import { headerValue, headerValues, type SipMessage } from '../harness/sip/message.ts';
import { parseSipMessage } from '../harness/sip/parser.ts';
import { serializeSipMessage } from '../harness/sip/serializer.ts';
import { bench, type BenchResult } from './lib.ts';

const ICSI = 'urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session';

export async function run(): Promise<BenchResult[]> {
  const invite = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'sip', 'golden', '2.1-invite.sip'));
  const parsed = parseSipMessage(invite, { stream: true }).message as SipMessage;
  const edited: SipMessage = { ...parsed, headers: parsed.headers.map((h) => ({ name: h.name, value: h.value })) };
  const stream = Buffer.concat(Array.from({ length: 100 }, () => invite));
  const chunks = Array.from({ length: Math.ceil(stream.length / 1460) }, (_, i) => stream.subarray(i * 1460, (i + 1) * 1460));
  const n = 20_000;
  return [
    bench('sip: parse §2.1 INVITE (1144 B)', () => parseSipMessage(invite, { stream: true }), { opsPerRound: n, bytesPerOp: invite.length }),
    bench(
      'sip: parse INVITE + Via/From/To/CSeq/Accept-Contact values',
      () => {
        const msg = parseSipMessage(invite, { stream: true }).message!;
        return [
          parseVia(headerValues(msg, 'via')[0]!),
          parseNameAddr(headerValue(msg, 'from')!),
          parseNameAddr(headerValue(msg, 'to')!),
          parseCSeq(headerValue(msg, 'cseq')!),
          hasIcsi(headerValues(msg, 'accept-contact'), ICSI),
        ];
      },
      { opsPerRound: n, bytesPerOp: invite.length },
    ),
    bench('sip: serialize parsed INVITE (original field bytes)', () => serializeSipMessage(parsed), { opsPerRound: n, bytesPerOp: invite.length }),
    bench('sip: serialize built INVITE (Name: value)', () => serializeSipMessage(edited), { opsPerRound: n, bytesPerOp: invite.length }),
    bench(
      'sip: frame 100 INVITEs from 1460-octet TCP segments',
      () => {
        const framer = new SipStreamFramer();
        let count = 0;
        for (const c of chunks) count += framer.push(c).length;
        return count;
      },
      { opsPerRound: 50, bytesPerOp: stream.length },
    ),
  ];
}

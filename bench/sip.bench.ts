/**
 * SIP codec figures: §2.1 INVITE parse (msgs/s, MB/s), parse + typed header values of the fields
 * a transaction/dialog layer reads, serialize, and TCP framing. Goal: ≥ 100,000 parses/s.
 *
 * Compared, interleaved, with drachtio-srf's parser on the same bytes (a devDependency for this
 * bench only). drachtio-srf is the maintained Node SIP server framework whose parser (regex-based,
 * descended from the `sip` package) is the fastest of the maintained npm SIP parsers measured here:
 * SIP.js 0.21 and JsSIP 3.x parse with PEG grammars at about 0.6k and 6k msgs/s on this INVITE, so
 * a ratio against them would flatter and say nothing. Its lazy mode keeps header values as strings
 * (like `parseSipMessage`); its eager mode parses To/From/Via/CSeq/Contact (like our typed values).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import drachtio from 'drachtio-srf/lib/sip-parser/parser.js';
import { SipStreamFramer } from '../harness/sip/framer.ts';
import { CPM_SESSION_ICSI as ICSI, hasIcsi } from '../harness/sip/caller-prefs.ts';
import { parseCSeq, parseNameAddr, parseVia } from '../harness/sip/headers.ts';
import { headerValue, headerValues, type SipMessage } from '../harness/sip/message.ts';
import { parseSipMessage } from '../harness/sip/parser.ts';
import { serializeSipMessage } from '../harness/sip/serializer.ts';
import { bench, compareRates, type BenchOutput } from './lib.ts';


export async function run(): Promise<BenchOutput[]> {
  const invite = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'sip', 'golden', '2.1-invite.sip'));
  const parsed = parseSipMessage(invite, { stream: true }).message as SipMessage;
  const edited: SipMessage = { ...parsed, headers: parsed.headers.map((h) => ({ name: h.name, value: h.value })) };
  const stream = Buffer.concat(Array.from({ length: 100 }, () => invite));
  const chunks = Array.from({ length: Math.ceil(stream.length / 1460) }, (_, i) => stream.subarray(i * 1460, (i + 1) * 1460));
  const n = 20_000;
  const typedValues = (msg: SipMessage) => [
    parseVia(headerValues(msg, 'via')[0]!),
    parseNameAddr(headerValue(msg, 'from')!),
    parseNameAddr(headerValue(msg, 'to')!),
    parseCSeq(headerValue(msg, 'cseq')!),
    parseNameAddr(headerValues(msg, 'contact')[0]!),
  ];
  // Both parsers get the bytes as they come off a socket; drachtio converts to a string itself.
  const drachtioLazy = drachtio.parseSipMessage(invite, true);
  if (drachtioLazy?.method !== 'INVITE') throw new Error('drachtio-srf did not parse the §2.1 INVITE');
  return [
    ...(await compareRates(
      'sip parse §2.1 INVITE, values as text',
      [
        { name: 'harness', body: () => parseSipMessage(invite, { stream: true }) },
        { name: 'drachtio-srf lazy', body: () => drachtio.parseSipMessage(invite, true) },
      ],
      { ops: n, unit: 'msgs/s', bytesPerOp: invite.length },
    )),
    ...(await compareRates(
      'sip parse + typed Via/From/To/CSeq/Contact',
      [
        { name: 'harness', body: () => typedValues(parseSipMessage(invite, { stream: true }).message!) },
        { name: 'drachtio-srf eager', body: () => drachtio.parseSipMessage(invite, false) },
      ],
      { ops: n, unit: 'msgs/s', bytesPerOp: invite.length },
    )),
    bench(
      'sip: parse INVITE + Via/From/To/CSeq/Accept-Contact values',
      () => {
        const msg = parseSipMessage(invite, { stream: true }).message!;
        return [...typedValues(msg), hasIcsi(headerValues(msg, 'accept-contact'), ICSI)];
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

/**
 * Deferred backlog: 10,000 CPIM group messages requesting IMDNs. Per message: build it, build the
 * delivery IMDN a client would return, parse both (CPIM + IMDN XML) and match them with
 * checkNotification. Goal ≥ 50,000 messages/s for the whole pipeline.
 */
import { buildGroupChatMessage, parseCpim } from '../harness/cpim/cpim.ts';
import { checkNotification, requestedKinds } from '../harness/imdn/checker.ts';
import { buildImdnMessage, parseImdnXml } from '../harness/imdn/imdn.ts';
import { bench, type BenchResult } from './lib.ts';

const BACKLOG = 10_000;
const SENDER = 'sip:+15551230001@ims.example.net';
const CLIENT = 'sip:+15551230002@ims.example.net';
const GROUP = 'sip:grp.7c1e9a@cpm-pf.example.net';
const context = { clientUri: CLIENT, groupUri: GROUP };
const base = Date.UTC(2024, 4, 6, 9, 15, 3);

function message(i: number): Buffer {
  return buildGroupChatMessage({
    from: SENDER,
    to: GROUP,
    dateTime: new Date(base + i * 1000),
    imdnMessageId: `Msg${i.toString(36).padStart(8, '0')}`,
    dispositionNotification: ['positive-delivery', 'display'],
    text: `deferred message number ${i}`,
  });
}

function notification(i: number): Buffer {
  return buildImdnMessage({
    from: CLIENT,
    to: SENDER,
    imdnMessageId: `Dn${i.toString(36).padStart(8, '0')}`,
    dateTime: '2024-05-07T08:00:00.000Z',
    imdn: {
      messageId: `Msg${i.toString(36).padStart(8, '0')}`,
      datetime: new Date(base + i * 1000).toISOString(),
      recipientUri: CLIENT,
      originalRecipientUri: GROUP,
      kind: 'delivery',
      status: 'delivered',
    },
  });
}

function match(sent: Buffer, received: Buffer): number {
  const original = parseCpim(sent);
  const cpim = parseCpim(received);
  const findings = checkNotification({ cpim: original, requested: requestedKinds(original) }, { cpim, imdn: parseImdnXml(cpim.content) }, context);
  if (findings.length > 0) throw new Error(`backlog bench: unexpected findings ${JSON.stringify(findings)}`);
  return findings.length;
}

export async function run(): Promise<BenchResult[]> {
  const sentBytes = message(0).length;
  const imdnBytes = notification(0).length;
  const pipeline = bench('backlog: build msg + IMDN, parse both, check', (i) => match(message(i), notification(i)), {
    opsPerRound: BACKLOG,
    rounds: 5,
    bytesPerOp: sentBytes + imdnBytes,
  });
  pipeline.extra = { backlog: BACKLOG, msgOctets: sentBytes, imdnOctets: imdnBytes, goal: '50000/s' };
  const sent = Array.from({ length: BACKLOG }, (_, i) => message(i));
  const received = Array.from({ length: BACKLOG }, (_, i) => notification(i));
  const parseAndCheck = bench('backlog: parse both + check (prebuilt)', (i) => match(sent[i]!, received[i]!), { opsPerRound: BACKLOG, rounds: 5 });
  const buildOnly = bench('backlog: build msg + IMDN only', (i) => message(i).length + notification(i).length, { opsPerRound: BACKLOG, rounds: 5 });
  const imdnXml = received.map((r) => parseCpim(r).content);
  const xmlOnly = bench('backlog: parseImdnXml only', (i) => parseImdnXml(imdnXml[i]!).diagnostics.length, { opsPerRound: BACKLOG, rounds: 5 });
  return [pipeline, parseAndCheck, buildOnly, xmlOnly];
}

/**
 * Deferred backlog: CPIM group messages requesting IMDNs.
 *
 * In process (goal ≥ 50,000 msg/s): per message build it, build the delivery IMDN a client would
 * return, parse both (CPIM + IMDN XML) and match them with checkNotification.
 *
 * End to end over loopback (goal ≥ 10,000 msg/s): the PF delivers N deferred messages on one bound
 * MSRP session (a window of them in flight), the reference client answers each SEND and returns
 * a delivery IMDN on the session, and every IMDN is checked against its message. Measured from
 * the first SEND to the last IMDN checked.
 */
import { performance } from 'node:perf_hooks';
import { buildGroupChatMessage, parseCpim, type ParsedCpim } from '../harness/cpim/cpim.ts';
import { checkNotification, requestedKinds } from '../harness/imdn/checker.ts';
import { buildImdnMessage, parseImdnXml } from '../harness/imdn/imdn.ts';
import type { PfEvent } from '../harness/pf/types.ts';
import { bench, figure, type BenchOutput } from './lib.ts';
import { sessionRig, type SessionRig } from './rig.ts';

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
  const broken = findings.filter((f) => !f.ok);
  if (broken.length > 0) throw new Error(`backlog bench: unexpected findings ${JSON.stringify(broken)}`);
  return findings.length;
}

const E2E_MESSAGES = 3000;
const E2E_WINDOW = 64;
const E2E_ROUNDS = 5;

/** One end-to-end round: `count` messages delivered, every delivery IMDN received and checked. */
async function endToEnd(rig: SessionRig, count: number): Promise<number> {
  const { pf, session, config } = rig;
  // An IMDN may arrive before deliver() resolves (the 200 and the IMDN can share a read).
  const originals = new Map<string, ParsedCpim>();
  const early = new Map<string, Extract<PfEvent, { type: 'msrp-message' }>>();
  let checked = 0;
  let failures = 0;
  let allChecked: () => void = () => {};
  const done = new Promise<void>((resolve) => (allChecked = resolve));
  const check = (original: ParsedCpim, e: Extract<PfEvent, { type: 'msrp-message' }>) => {
    const findings = checkNotification(
      { cpim: original, requested: requestedKinds(original) },
      { cpim: e.cpim!, imdn: e.imdn! },
      { clientUri: config.identities.clientAor, groupUri: pf.group.identity },
    );
    if (findings.some((f) => !f.ok)) failures++;
    if (++checked === count) allChecked();
  };
  const stop = pf.events.onEvent((e: PfEvent) => {
    if (e.type !== 'msrp-message' || e.imdn?.kind !== 'delivery' || !e.cpim || e.imdn.messageId === undefined) return;
    const original = originals.get(e.imdn.messageId);
    if (original === undefined) early.set(e.imdn.messageId, e);
    else {
      originals.delete(e.imdn.messageId);
      check(original, e);
    }
  });
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const delivery = await session.deliver({ disposition: ['positive-delivery'], successReport: 'no' });
      if (delivery.failure) throw new Error(`backlog e2e: ${delivery.failure}`);
      const original = parseCpim(delivery.cpim);
      const arrived = early.get(delivery.imdnMessageId);
      if (arrived) {
        early.delete(delivery.imdnMessageId);
        check(original, arrived);
      } else originals.set(delivery.imdnMessageId, original);
    }
  };
  await Promise.all(Array.from({ length: E2E_WINDOW }, lane));
  // Cleared once settled: a pending 30 s timer kept this round's maps (every message and IMDN
  // it matched) alive through the later rounds, and the bench measured its own garbage.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)));
  const outcome = await Promise.race([done, timeout]);
  const seconds = (performance.now() - t0) / 1000;
  clearTimeout(timer);
  stop();
  if (outcome === 'timeout') throw new Error(`backlog e2e: ${checked} of ${count} delivery IMDNs within 30 s`);
  if (failures > 0) throw new Error(`backlog e2e: ${failures} IMDNs failed the §2.10.1 check`);
  return count / seconds;
}

export async function run(): Promise<BenchOutput[]> {
  const sentBytes = message(0).length;
  const imdnBytes = notification(0).length;
  const rates: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < BACKLOG; i++) match(message(i), notification(i));
    rates.push(BACKLOG / ((performance.now() - t0) / 1000));
  }
  const pipeline = figure(`backlog in process: build msg + IMDN, parse both, check (${BACKLOG})`, 'msg/s', rates, {
    goal: { atLeast: 50_000 },
    detail: { msgOctets: sentBytes, imdnOctets: imdnBytes },
  });
  const sent = Array.from({ length: BACKLOG }, (_, i) => message(i));
  const received = Array.from({ length: BACKLOG }, (_, i) => notification(i));
  const parseAndCheck = bench('backlog: parse both + check (prebuilt)', (i) => match(sent[i]!, received[i]!), { opsPerRound: BACKLOG, rounds: 5 });
  const buildOnly = bench('backlog: build msg + IMDN only', (i) => message(i).length + notification(i).length, { opsPerRound: BACKLOG, rounds: 5 });
  const imdnXml = received.map((r) => parseCpim(r).content);
  const xmlOnly = bench('backlog: parseImdnXml only', (i) => parseImdnXml(imdnXml[i]!).diagnostics.length, { opsPerRound: BACKLOG, rounds: 5 });

  const rig = await sessionRig();
  try {
    await endToEnd(rig, 500);
    const e2e: number[] = [];
    for (let r = 0; r < E2E_ROUNDS; r++) e2e.push(await endToEnd(rig, E2E_MESSAGES));
    const endToEndFigure = figure(`backlog end to end: PF → reference client → delivery IMDNs checked (${E2E_MESSAGES}, ${E2E_WINDOW} in flight)`, 'msg/s', e2e, { goal: { atLeast: 10_000 } });
    return [pipeline, parseAndCheck, buildOnly, xmlOnly, endToEndFigure];
  } finally {
    await rig.close();
  }
}

/**
 * SIP transactions and the stack: state-machine cost on a FakeClock (no I/O), and full
 * MESSAGE → 200 transactions between two stacks over loopback UDP and TCP.
 * Run alone with `npm run bench -- sip-stack`.
 */
import { FakeClock } from '../harness/core/clock.ts';
import { newBranch, newCallId, newTag } from '../harness/core/ids.ts';
import type { TransportKind } from '../harness/core/trace.ts';
import { buildRequest, buildResponse } from '../harness/sip/build.ts';
import type { SipRequest } from '../harness/sip/message.ts';
import { SipStack } from '../harness/sip/stack.ts';
import { resolveTimers } from '../harness/sip/timers.ts';
import { InviteClientTransaction } from '../harness/sip/transaction.ts';
import type { TransactionIo } from '../harness/sip/transaction.ts';
import { bench, benchAsync } from './lib.ts';
import type { BenchResult } from './lib.ts';

function invite(via: string, uri: string): SipRequest {
  return buildRequest({
    method: 'INVITE',
    uri,
    via,
    from: `<sip:grp@pf.example.net>;tag=${newTag()}`,
    to: '<sip:client@ims.example.net>',
    callId: newCallId('pf.example.net'),
    cseq: 1,
  });
}

function transactionMachine(): BenchResult {
  const clock = new FakeClock();
  const io: TransactionIo = { clock, timers: resolveTimers(), reliable: false, send: () => Promise.resolve({ ok: true }) };
  const request = invite('SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbench', 'sip:client@192.0.2.50');
  const ringing = buildResponse(request, 180, undefined, { toTag: 'cl' });
  const rejected = buildResponse(request, 488, undefined, { toTag: 'cl' });
  return bench(
    'INVITE client txn: start, 180, 488 + ACK (FakeClock)',
    () => {
      const txn = new InviteClientTransaction(request, 'z9hG4bKbench', io);
      txn.start();
      txn.receive(ringing);
      txn.receive(rejected);
      txn.stop();
      return txn.state;
    },
    { opsPerRound: 5000 },
  );
}

async function roundTrips(transport: TransportKind, concurrent: number): Promise<BenchResult> {
  const pf = await SipStack.start({ actor: 'pf', address: '127.0.0.1' });
  const client = await SipStack.start({ actor: 'client', address: '127.0.0.1' });
  client.on('request', (txn) => txn.respond(buildResponse(txn.request, 200)));
  const local = transport === 'udp' ? client.transport.udp! : client.transport.tcp!;
  const target = { transport, address: local.address, port: local.port };
  try {
    return await benchAsync(`MESSAGE → 200 over ${transport}, ${concurrent} in flight`, async () => {
      const all = [];
      for (let i = 0; i < concurrent; i++) {
        const request = buildRequest({
          method: 'MESSAGE',
          uri: client.contactFor(transport),
          via: pf.viaFor(transport, newBranch()),
          from: `<sip:pf@example.net>;tag=${newTag()}`,
          to: '<sip:client@example.net>',
          callId: newCallId('example.net'),
          cseq: 1,
          body: 'hello',
          contentType: 'text/plain',
        });
        all.push(pf.sendRequest(request, target).result);
      }
      const outcomes = await Promise.all(all);
      return outcomes.filter((o) => o.kind === 'response').length;
    });
  } finally {
    await pf.close();
    await client.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  return [transactionMachine(), await roundTrips('udp', 200), await roundTrips('tcp', 200), await roundTrips('tcp', 1)];
}

import { expect } from 'chai';
import { newBranch, newCallId, newTag } from '../../harness/core/ids.ts';
import { TraceRecorder } from '../../harness/core/trace.ts';
import type { MessageTraceEvent, TransportKind } from '../../harness/core/trace.ts';
import { buildRequest, buildResponse } from '../../harness/sip/build.ts';
import { Dialog } from '../../harness/sip/dialog.ts';
import { parseVia } from '../../harness/sip/headers.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { SipRequest, SipResponse } from '../../harness/sip/message.ts';
import { serializeSipMessage } from '../../harness/sip/serializer.ts';
import { SipStack } from '../../harness/sip/stack.ts';
import type { ServerTransaction, Target } from '../../harness/sip/stack.ts';

const FAST = { t1: 20, t2: 160, t4: 200 };

function targetOf(stack: SipStack, transport: TransportKind): Target {
  const local = transport === 'udp' ? stack.transport.udp! : stack.transport.tcp!;
  return { transport, address: local.address, port: local.port };
}

function invite(from: SipStack, to: SipStack, transport: TransportKind): SipRequest {
  return buildRequest({
    method: 'INVITE',
    uri: to.contactFor(transport),
    via: from.viaFor(transport, newBranch()),
    from: `<sip:grp@pf.example.net>;tag=${newTag()}`,
    to: '<sip:client@ims.example.net>',
    callId: newCallId('pf.example.net'),
    cseq: 7,
    contact: `<${from.contactFor(transport)}>`,
  });
}

function nextRequest(stack: SipStack): Promise<ServerTransaction> {
  return new Promise((resolve) => stack.once('request', resolve));
}

function nextAck(stack: SipStack): Promise<SipRequest> {
  return new Promise((resolve) => stack.once('ack', (ack) => resolve(ack)));
}

describe('sip/uac-core: the stack ACKs 2xx, re-ACKs retransmissions and builds in-dialog requests', () => {
  const recorder = new TraceRecorder();
  let uac: SipStack;
  let uas: SipStack;

  before(async () => {
    uac = await SipStack.start({ actor: 'uac', address: '127.0.0.1', udpPort: 0, tcpPort: 0, timers: FAST, trace: recorder.sink });
    uas = await SipStack.start({ actor: 'uas', address: '127.0.0.1', udpPort: 0, tcpPort: 0, timers: FAST, trace: recorder.sink });
  });
  after(async () => {
    await uac.close();
    await uas.close();
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`${transport}: a 2xx is ACKed in its dialog (fresh branch, INVITE CSeq), and a retransmitted 2xx gets the same ACK bytes`, async () => {
      const incoming = nextRequest(uas);
      const request = invite(uac, uas, transport);
      const sent = uac.sendInvite(request, targetOf(uas, transport));
      const txn = await incoming;
      const firstAck = nextAck(uas);
      const ok = buildResponse(txn.request, 200, undefined, { contact: `<${uas.contactFor(transport)}>` });
      txn.respond(ok);
      const accepted = await sent.accepted;
      const ack = await firstAck;
      expect(accepted?.ack).to.not.equal(null);
      expect(headerValue(ack, 'cseq')).to.equal('7 ACK');
      expect(ack.uri).to.equal(uas.contactFor(transport));
      const branchOf = (m: SipRequest): string | undefined => {
        const via = parseVia(headerValues(m, 'via')[0] ?? '');
        return via.ok ? via.value.branch : undefined;
      };
      expect(branchOf(ack)).to.match(/^z9hG4bK/).and.not.equal(branchOf(request));
      expect(accepted!.dialog!.matches(ok)).to.equal(true);

      // The UAS lost our ACK and sends its 2xx again: the core answers with the very same bytes.
      const again = nextAck(uas);
      await uas.sendStateless(txn.finalResponse ?? ok, { ...targetOf(uac, transport) });
      const second = await again;
      expect(serializeSipMessage(second, { contentLength: 'compute' }).equals(serializeSipMessage(ack, { contentLength: 'compute' }))).to.equal(true);
    });
  }

  it('{ afterMs } holds the first ACK; the UAS retransmits meanwhile and is then ACKed', async () => {
    const incoming = nextRequest(uas);
    const sent = uac.sendInvite(invite(uac, uas, 'udp'), targetOf(uas, 'udp'), { ack: { afterMs: 6 * FAST.t1 } });
    const txn = await incoming;
    const from = recorder.lastSeq + 1;
    const acked = nextAck(uas);
    txn.respond(buildResponse(txn.request, 200, undefined, { contact: `<${uas.contactFor('udp')}>` }));
    await acked;
    const events = recorder.slice(from).filter((e): e is MessageTraceEvent => e.kind === 'message' && e.direction === 'out');
    const firstAck = events.findIndex((e) => e.actor === 'uac' && e.summary.startsWith('ACK'));
    const okBeforeAck = events.slice(0, firstAck).filter((e) => e.actor === 'uas' && e.summary.startsWith('SIP/2.0 200'));
    expect(okBeforeAck.length, '2xx retransmissions went unanswered during the hold').to.be.greaterThan(1);
    expect((await sent.accepted)?.ack?.method).to.equal('ACK');
  });

  it("'never' sends no ACK: the UAS reaches its 64·T1 ack-timeout with nothing received", async () => {
    const incoming = nextRequest(uas);
    const sent = uac.sendInvite(invite(uac, uas, 'tcp'), targetOf(uas, 'tcp'), { ack: 'never' });
    const txn = await incoming;
    let acks = 0;
    txn.on('ack', () => acks++);
    const timedOut = new Promise<void>((resolve) => txn.once('ack-timeout', () => resolve()));
    txn.respond(buildResponse(txn.request, 200, undefined, { contact: `<${uas.contactFor('tcp')}>` }));
    const accepted = await sent.accepted;
    expect(accepted?.ack).to.equal(null);
    expect(accepted?.dialog).to.not.equal(null);
    await timedOut;
    expect(acks).to.equal(0);
  });

  it('drops its own Record-Route entry from the dialog it holds as UAC and ACKs the remote target directly', async () => {
    const incoming = nextRequest(uas);
    const sent = uac.sendInvite(invite(uac, uas, 'udp'), targetOf(uas, 'udp'));
    const txn = await incoming;
    const own = `<sip:127.0.0.1:${uac.transport.udp!.port};transport=udp;lr>`;
    expect(uac.isOwnUri(own)).to.equal(true);
    expect(uac.isOwnUri(`<sip:127.0.0.1:${uas.transport.udp!.port};lr>`)).to.equal(false);
    const acked = nextAck(uas);
    txn.respond(buildResponse(txn.request, 200, undefined, { contact: `<${uas.contactFor('udp')}>`, headers: [{ name: 'Record-Route', value: own }] }));
    const accepted = await sent.accepted;
    expect(accepted!.dialog!.routeSet).to.deep.equal([]);
    expect(headerValues(await acked, 'route')).to.deep.equal([]);
  });

  it('sendInDialog: the stack Via for the next hop; a next hop that is a name is refused, nothing sent, nothing resolved', () => {
    const req = invite(uac, uas, 'udp');
    const named: SipResponse = buildResponse(req, 200, undefined, { contact: '<sip:client@client.example.invalid;transport=tcp>' });
    const dialog = Dialog.fromUac(req, named);
    if (!dialog.ok) throw new Error('no dialog');
    const before = recorder.lastSeq;
    const refused = uac.sendInDialog(dialog.value, 'BYE');
    expect('failure' in refused && refused.failure).to.match(/resolves no names/);
    expect(recorder.lastSeq).to.equal(before);
    dialog.value.remoteTarget = uas.contactFor('tcp');
    const sent = uac.sendInDialog(dialog.value, 'BYE');
    expect('transaction' in sent).to.equal(true);
    expect(headerValues(sent.request, 'via')[0]).to.match(new RegExp(`^SIP/2\\.0/TCP 127\\.0\\.0\\.1:${uac.transport.tcp!.port};branch=z9hG4bK`));
    // The refused BYE was built (callers log it) and took CSeq 8.
    expect(headerValue(sent.request, 'cseq')).to.equal('9 BYE');
  });
});

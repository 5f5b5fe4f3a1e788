import { expect } from 'chai';
import { chunkMessage } from '../../harness/msrp/chunker.ts';
import type { MsrpRequest } from '../../harness/msrp/frame.ts';
import { MsrpStreamParser } from '../../harness/msrp/parser.ts';
import { Reassembler } from '../../harness/msrp/reassembly.ts';
import { buildSend, serializeMsrpFrame } from '../../harness/msrp/serializer.ts';

function chunksOf(body: Buffer, messageId: string, options: Parameters<typeof chunkMessage>[1]): MsrpRequest[] {
  return chunkMessage(body, options).map((c) =>
    buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body: c.body, messageId, byteRange: c.byteRange, flag: c.flag, contentType: 'text/plain' }),
  );
}

describe('msrp/chunker', () => {
  it('splits 328 octets at 200 into 1-200/328 (+) and 201-328/328 ($), as in PROTOCOLS §2.8', () => {
    const chunks = chunkMessage(Buffer.alloc(328, 0x41), { chunkSize: 200 });
    expect(chunks.map((c) => `${c.byteRange}${c.flag}`)).to.deep.equal(['1-200/328+', '201-328/328$']);
  });

  it('writes 1-*/* style ranges when the total is unknown, an empty body as 1-0/0, # on abort', () => {
    expect(chunkMessage(Buffer.alloc(5), { chunkSize: 2, unknownTotal: true }).map((c) => `${c.byteRange}${c.flag}`)).to.deep.equal([
      '1-*/*+',
      '3-*/*+',
      '5-*/*$',
    ]);
    expect(chunkMessage(Buffer.alloc(0), { chunkSize: 10 }).map((c) => `${c.byteRange}${c.flag}`)).to.deep.equal(['1-0/0$']);
    expect(chunkMessage(Buffer.alloc(10), { chunkSize: 3, abortAfter: 2 }).map((c) => `${c.byteRange}${c.flag}`)).to.deep.equal([
      '1-3/10+',
      '4-6/10#',
    ]);
  });
});

describe('msrp/reassembly', () => {
  const bodyA = Buffer.from('The quick brown fox jumps over the lazy dog, twice over, with feeling.');
  const bodyB = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));

  it('round trip: chunk → serialize → parse → reassemble, interleaving two messages', () => {
    const a = chunksOf(bodyA, 'msgAAAA1', { chunkSize: 7 });
    const b = chunksOf(bodyB, 'msgBBBB1', { chunkSize: 64, unknownTotal: true });
    const interleaved: MsrpRequest[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]) interleaved.push(a[i]!);
      if (b[i]) interleaved.push(b[i]!);
    }
    const wire = Buffer.concat(interleaved.map((f) => serializeMsrpFrame(f)));
    const parser = new MsrpStreamParser();
    const r = new Reassembler();
    const done = new Map<string, Buffer>();
    for (let at = 0; at < wire.length; at += 13) {
      for (const item of parser.push(wire.subarray(at, at + 13))) {
        expect(item.diagnostics).to.deep.equal([]);
        const result = r.add(item.frame as MsrpRequest);
        expect(result.diagnostics).to.deep.equal([]);
        if (result.complete) done.set(result.complete.messageId, result.complete.body);
      }
    }
    expect(done.get('msgAAAA1')!.equals(bodyA)).to.equal(true);
    expect(done.get('msgBBBB1')!.equals(bodyB)).to.equal(true);
    expect(r.incomplete()).to.deep.equal([]);
  });

  it('out-of-order chunks complete once the hole is filled', () => {
    const chunks = chunksOf(bodyA, 'msgOOO01', { chunkSize: 10 });
    const r = new Reassembler();
    const order = [chunks.length - 1, 0, ...chunks.slice(1, -1).map((_, i) => i + 1).reverse()];
    let complete: Buffer | undefined;
    order.forEach((i, step) => {
      const result = r.add(chunks[i]!);
      if (step < order.length - 1) expect(result.complete).to.equal(undefined);
      else complete = result.complete?.body;
    });
    expect(complete!.equals(bodyA)).to.equal(true);
  });

  it('# aborts the message; gaps are reported for what never arrived', () => {
    const r = new Reassembler();
    const aborted = chunksOf(bodyA, 'msgABRT1', { chunkSize: 10, abortAfter: 2 });
    expect(r.add(aborted[0]!).complete).to.equal(undefined);
    const result = r.add(aborted[1]!);
    expect(result.aborted).to.deep.include({ messageId: 'msgABRT1', receivedBytes: 20 });
    expect(result.diagnostics.map((d) => d.code)).to.deep.equal(['MSRP_MESSAGE_ABORTED']);
    const gappy = chunksOf(bodyA, 'msgGAP01', { chunkSize: 10 });
    r.add(gappy[0]!);
    r.add(gappy[2]!);
    expect(r.incomplete()[0]!.diagnostics.map((d) => d.message)).to.deep.equal(['bytes 11-20 never arrived', `bytes 31-${bodyA.length} never arrived`]);
  });

  it('overlaps are diagnostics: identical bytes warn, different bytes are errors', () => {
    const r = new Reassembler();
    const chunks = chunksOf(bodyA, 'msgOVL01', { chunkSize: 10 });
    r.add(chunks[0]!);
    expect(r.add(chunks[0]!).diagnostics.map((d) => `${d.code}/${d.severity}`)).to.deep.equal(['MSRP_CHUNK_OVERLAP/warning']);
    const liar = buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body: Buffer.from('XXXXX'), messageId: 'msgOVL01', byteRange: `5-9/${bodyA.length}`, flag: '+' });
    expect(r.add(liar).diagnostics.map((d) => `${d.code}/${d.severity}`)).to.deep.equal(['MSRP_CHUNK_OVERLAP/error']);
  });
});

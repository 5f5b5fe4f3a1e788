import { expect } from 'chai';
import { chunkMessage } from '../../harness/msrp/chunker.ts';
import { parseByteRange, type MsrpRequest } from '../../harness/msrp/frame.ts';
import { MsrpStreamParser } from '../../harness/msrp/parser.ts';
import { MAX_RANGES_PER_MESSAGE, Reassembler } from '../../harness/msrp/reassembly.ts';
import { buildSend, serializeMsrpFrame } from '../../harness/msrp/serializer.ts';

function send(messageId: string, byteRange: string, body: Buffer, flag: MsrpRequest['flag'] = '+'): MsrpRequest {
  return buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body, messageId, byteRange, flag, contentType: 'text/plain' });
}

describe('msrp limits (issue 9: no number from the wire drives an allocation)', () => {
  it('an absurd declared total is refused before anything is stored (MSRP_MESSAGE_TOO_LARGE, RFC 4975 §7.3.1)', () => {
    const r = new Reassembler({ maxMessageBytes: 1_000_000 });
    for (const range of ['1-10/9007199254740991', '1-10/1000001', '1-*/1000001']) {
      const result = r.add(send(`msgHuge${range.length}`, range, Buffer.alloc(10, 0x41)));
      expect(result.refused?.code, range).to.equal('MSRP_MESSAGE_TOO_LARGE');
      expect(result.diagnostics.map((d) => `${d.code} ${d.clause}`)).to.deep.equal(['MSRP_MESSAGE_TOO_LARGE RFC 4975 §7.3.1']);
    }
    // A chunk placed far out (start beyond the limit) is refused the same way.
    expect(r.add(send('msgFar0001', '999999999-1000000008/*', Buffer.alloc(10))).refused).to.not.equal(undefined);
    expect(r.incomplete()).to.deep.equal([]);
  });

  it('digits beyond 2^53 are a bad Byte-Range, not a lossy number', () => {
    const parsed = parseByteRange('1-10/99999999999999999999999');
    expect(parsed.ok).to.equal(false);
    expect(parsed.diagnostics[0]!.code).to.equal('MSRP_BAD_BYTE_RANGE');
  });

  it('a=max-size lowers the limit and is cited (RFC 4975 §8.6); later chunks of a refused message are refused too', () => {
    const r = new Reassembler({ maxMessageBytes: 1_000_000, maxSize: 100 });
    const first = r.add(send('msgMax0001', '1-50/200', Buffer.alloc(50)));
    expect(first.diagnostics.map((d) => `${d.code} ${d.clause}`)).to.deep.equal(['MSRP_MESSAGE_TOO_LARGE RFC 4975 §8.6']);
    expect(r.add(send('msgMax0001', '51-100/200', Buffer.alloc(50))).refused).to.not.equal(undefined);
    const small = r.add(send('msgMax0002', '1-100/100', Buffer.alloc(100, 0x42), '$'));
    expect(small.complete?.body.length).to.equal(100);
  });

  it('bytes received without a total count against the limit', () => {
    const r = new Reassembler({ maxMessageBytes: 100 });
    expect(r.add(send('msgNoTot01', '1-*/*', Buffer.alloc(60))).refused).to.equal(undefined);
    expect(r.add(send('msgNoTot01', '61-*/*', Buffer.alloc(60))).refused?.code).to.equal('MSRP_MESSAGE_TOO_LARGE');
  });

  it('in-order 1-octet chunks reassemble into one stored range', () => {
    const body = Buffer.from(Array.from({ length: 20_000 }, (_, i) => 0x41 + (i % 26)));
    const r = new Reassembler();
    let done: Buffer | undefined;
    for (const c of chunkMessage(body, { chunkSize: 1 })) {
      const result = r.add(send('msgTiny001', c.byteRange, c.body, c.flag));
      expect(result.diagnostics).to.deep.equal([]);
      done = result.complete?.body ?? done;
    }
    expect(done?.equals(body)).to.equal(true);
  });

  it('a message scattered over more ranges than MAX_RANGES_PER_MESSAGE is refused', () => {
    const r = new Reassembler();
    const total = 4 * MAX_RANGES_PER_MESSAGE;
    let refused = false;
    for (let start = 1; start <= total && !refused; start += 2) {
      refused = r.add(send('msgScat001', `${start}-${start}/${total}`, Buffer.from('x'))).refused !== undefined;
    }
    expect(refused).to.equal(true);
  });

  it('overlaps beyond the first few are handled but not reported again', () => {
    const r = new Reassembler();
    r.add(send('msgDup0001', '1-4/8', Buffer.from('abcd')));
    let reports = 0;
    for (let i = 0; i < 100; i++) reports += r.add(send('msgDup0001', '1-4/8', Buffer.from('abcd'))).diagnostics.length;
    expect(reports).to.equal(16);
    expect(r.add(send('msgDup0001', '5-8/8', Buffer.from('efgh'), '$')).complete?.body.toString()).to.equal('abcdefgh');
  });

  it('the stream parser flags a declared chunk above msrpChunkBytes (MSRP_CHUNK_TOO_LARGE) and never trusts that number', () => {
    const parser = new MsrpStreamParser({ maxBodyBytes: 1000 });
    const frame = serializeMsrpFrame(send('msgBig0001', '1-9007199254740000/9007199254740991', Buffer.from('hello')));
    const items = parser.push(frame);
    expect(items).to.have.length(1);
    expect(items[0]!.diagnostics.map((d) => d.code)).to.include('MSRP_CHUNK_TOO_LARGE');
    expect((items[0]!.frame as MsrpRequest).body?.toString()).to.equal('hello');
  });
});

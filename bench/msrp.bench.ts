/**
 * MSRP parse throughput: whole frames with 1 KB and 1 MB bodies, a 1 MB body arriving in 64 KiB
 * reads (the end-line search across reads), and a 1 MB message chunked at 2048 octets.
 */
import { bench, type BenchResult } from './lib.ts';
import { chunkMessage } from '../harness/msrp/chunker.ts';
import { MsrpStreamParser } from '../harness/msrp/parser.ts';
import { buildSend, serializeMsrpFrame } from '../harness/msrp/serializer.ts';

function frameWith(body: Buffer): Buffer {
  return serializeMsrpFrame(
    buildSend({ toPath: 'msrp://192.0.2.50:50123/cl4x7m2p;tcp', fromPath: 'msrp://192.0.2.10:7394/pf8s3kq1;tcp', body, contentType: 'message/cpim' }),
  );
}

function parseAll(parser: MsrpStreamParser, wire: Buffer, readSize: number): number {
  let frames = 0;
  for (let at = 0; at < wire.length; at += readSize) frames += parser.push(wire.subarray(at, at + readSize)).length;
  return frames;
}

export async function run(): Promise<BenchResult[]> {
  // Bodies full of near-misses ("-------" runs) so the end-line search cannot skip cheaply.
  const noisy = (n: number) => Buffer.from('abc\r\n-------xyz '.repeat(Math.ceil(n / 16)).slice(0, n), 'latin1');
  const small = frameWith(noisy(1024));
  const large = frameWith(noisy(1024 * 1024));
  const message = noisy(1024 * 1024);
  const chunked = Buffer.concat(
    chunkMessage(message, { chunkSize: 2048 }).map((c) =>
      serializeMsrpFrame(buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body: c.body, messageId: 'm1234567', byteRange: c.byteRange, flag: c.flag, contentType: 'text/plain' })),
    ),
  );
  const smallBatch = Buffer.concat(Array.from({ length: 100 }, () => small));
  const parser = new MsrpStreamParser({ maxBodyBytes: 4 * 1024 * 1024 });
  const results = [
    bench('msrp parse 1 KB body (100 frames per read)', () => parseAll(parser, smallBatch, smallBatch.length), { opsPerRound: 200, bytesPerOp: smallBatch.length }),
    bench('msrp parse 1 MB body (one read)', () => parseAll(parser, large, large.length), { opsPerRound: 40, bytesPerOp: large.length }),
    bench('msrp parse 1 MB body (64 KiB reads)', () => parseAll(parser, large, 65536), { opsPerRound: 40, bytesPerOp: large.length }),
    bench('msrp parse 1 MB message in 2048-octet chunks (64 KiB reads)', () => parseAll(parser, chunked, 65536), { opsPerRound: 20, bytesPerOp: chunked.length }),
  ];
  // Frames per second for the 1 KB case: 100 frames per op.
  results[0]!.extra = { framesPerSec: Math.round(results[0]!.opsPerSec * 100) };
  results[3]!.extra = { framesPerSec: Math.round(results[3]!.opsPerSec * 512) };
  return results;
}

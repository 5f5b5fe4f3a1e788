/**
 * MSRP parse throughput: whole frames with 1 KB and 1 MB bodies, a 1 MB body arriving in 64 KiB
 * reads (the end-line search across reads), and a 1 MB message chunked at 2048 octets.
 *
 * Compared, interleaved, on the same bytes: the parser fed 64 KiB reads vs the same frame in one
 * read (goal ≥ 0.8×), and vs a plain end-line scan of those 64 KiB reads (indexOf of
 * `CRLF ------- tid` in each read and across each seam, nothing else): the least work any MSRP
 * framer has to do, so the ratio shows what the parser's checks and buffering cost on top.
 */
import { bench, compareRates, type BenchOutput } from './lib.ts';
import { chunkMessage } from '../harness/msrp/chunker.ts';
import { MsrpStreamParser } from '../harness/msrp/parser.ts';
import { buildSend, serializeMsrpFrame } from '../harness/msrp/serializer.ts';

const READ = 65536;

function frameWith(body: Buffer, transactionId?: string): Buffer {
  return serializeMsrpFrame(
    buildSend({
      toPath: 'msrp://192.0.2.50:50123/cl4x7m2p;tcp',
      fromPath: 'msrp://192.0.2.10:7394/pf8s3kq1;tcp',
      body,
      contentType: 'message/cpim',
      ...(transactionId === undefined ? {} : { transactionId }),
    }),
  );
}

function parseAll(parser: MsrpStreamParser, wire: Buffer, readSize: number): number {
  let frames = 0;
  for (let at = 0; at < wire.length; at += readSize) frames += parser.push(wire.subarray(at, at + readSize)).length;
  return frames;
}

/** End-lines found by indexOf alone, read by read, looking across each seam too. */
function plainScan(wire: Buffer, readSize: number, needle: Buffer): number {
  let found = 0;
  let tail: Buffer = Buffer.alloc(0);
  for (let at = 0; at < wire.length; at += readSize) {
    const read = wire.subarray(at, at + readSize);
    if (tail.length > 0 && Buffer.concat([tail, read.subarray(0, needle.length - 1)]).indexOf(needle) !== -1) found++;
    for (let p = read.indexOf(needle); p !== -1; p = read.indexOf(needle, p + 1)) found++;
    tail = read.subarray(Math.max(0, read.length - needle.length + 1));
  }
  return found;
}

export async function run(): Promise<BenchOutput[]> {
  // Bodies full of near-misses ("-------" runs) so the end-line search cannot skip cheaply.
  const noisy = (n: number) => Buffer.from('abc\r\n-------xyz '.repeat(Math.ceil(n / 16)).slice(0, n), 'latin1');
  const small = frameWith(noisy(1024));
  const large = frameWith(noisy(1024 * 1024), 'tx8d2k4q');
  const endLine = Buffer.from('\r\n-------tx8d2k4q', 'latin1');
  if (plainScan(large, READ, endLine) !== 1) throw new Error('msrp bench: the plain scan must find exactly one end-line');
  const message = noisy(1024 * 1024);
  const chunked = Buffer.concat(
    chunkMessage(message, { chunkSize: 2048 }).map((c) =>
      serializeMsrpFrame(buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body: c.body, messageId: 'm1234567', byteRange: c.byteRange, flag: c.flag, contentType: 'text/plain' })),
    ),
  );
  const smallBatch = Buffer.concat(Array.from({ length: 100 }, () => small));
  const parser = new MsrpStreamParser({ maxBodyBytes: 4 * 1024 * 1024 });
  const results: BenchOutput[] = [
    ...(await compareRates(
      'msrp 1 MB body',
      [
        { name: 'parser, 64 KiB reads', body: () => parseAll(parser, large, READ) },
        { name: 'parser, one read', body: () => parseAll(parser, large, large.length) },
        { name: 'plain end-line scan, 64 KiB reads', body: () => plainScan(large, READ, endLine) },
      ],
      { ops: 40, rounds: 11, unit: 'frames/s', bytesPerOp: large.length, goal: { atLeast: 0.8 } },
    )),
    bench('msrp parse 1 KB body (100 frames per read)', () => parseAll(parser, smallBatch, smallBatch.length), { opsPerRound: 200, bytesPerOp: smallBatch.length }),
    bench('msrp parse 1 MB message in 2048-octet chunks (64 KiB reads)', () => parseAll(parser, chunked, READ), { opsPerRound: 20, bytesPerOp: chunked.length }),
  ];
  const [smallFrames, chunkedFrames] = [results[5]!, results[6]!];
  if (!('kind' in smallFrames) && !('kind' in chunkedFrames)) {
    smallFrames.extra = { framesPerSec: Math.round(smallFrames.opsPerSec * 100) };
    chunkedFrames.extra = { framesPerSec: Math.round(chunkedFrames.opsPerSec * 512) };
  }
  return results;
}

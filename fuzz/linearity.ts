/**
 * Linear time on client input (issue 9 item 4): every parser is fed pathological repetitions of
 * one unit (spaces, `<`, `;`, `=`, quotes, CRLF, commas, …) at N and 8N bytes, in the places a
 * client controls (a header value, a parameter list, a body, markup), and must not take more than
 * ratioLimit() times longer on the bigger input. Limits are lifted here: the algorithms themselves
 * must be linear, not just cut short by a limit.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseConferenceInfo } from '../harness/conference/conference-info.ts';
import { parseCpim } from '../harness/cpim/cpim.ts';
import { DEFAULT_LIMITS, type Limits } from '../harness/core/limits.ts';
import { parseImdnXml } from '../harness/imdn/imdn.ts';
import { MsrpStreamParser } from '../harness/msrp/parser.ts';
import { Reassembler } from '../harness/msrp/reassembly.ts';
import type { MsrpRequest } from '../harness/msrp/frame.ts';
import { parseMsrpPath } from '../harness/msrp/uri.ts';
import { resolveDirection } from '../harness/sdp/direction.ts';
import { parseSdp } from '../harness/sdp/parse.ts';
import { SipStreamFramer } from '../harness/sip/framer.ts';
import { parseCSeq, parseContentType, parseEvent, parseNameAddr, parseSubscriptionState, parseVia, parseWarning } from '../harness/sip/headers.ts';
import { hasIcsi, parseAcceptContact } from '../harness/sip/caller-prefs.ts';
import { parseSipUri } from '../harness/sip/uri.ts';
import { splitList } from '../harness/sip/message.ts';
import { parseSipMessage } from '../harness/sip/parser.ts';

export const N = Number(process.env.LINEARITY_N ?? 100_000);
/** 12× by default (issue 9); `npm run fuzz -- --ratio 16` (or LINEARITY_RATIO) for a machine whose linear ratios sit near 12. */
export const ratioLimit = (): number => Number(process.env.LINEARITY_RATIO ?? 12);
/** Below this at 8N a ratio is cache, GC and timer noise: a quadratic path on 800 kB costs seconds. */
export const ABSOLUTE_FLOOR_MS = 10;

const UNITS = [' ', '<', '>', ';', '=', '"', '\r\n', '\n', ',', ':', '\t', 'a', ';a', 'a=', ';a=b', '<a>', '"a"', '\\"', '<!--', '-------', 'MSRP ', '%', '/', '[', '@', '*'];

const LIFTED: Limits = Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, 2 ** 31])) as unknown as Limits;
/**
 * XML keeps its depth limit: the linear pre-scan refuses deeper documents, so fast-xml-parser's
 * handling of a 250,000-deep tag stack (never reached in a run) is not what is measured.
 */
const LIFTED_XML: Limits = { ...LIFTED, xmlDepth: DEFAULT_LIMITS.xmlDepth };

interface Context {
  target: string;
  where: string;
  /** Builds the input around `filler` and parses it. */
  run: (filler: string) => void;
}

const sipHead = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n';
const sip = (text: string) => parseSipMessage(Buffer.from(text, 'latin1'), { stream: true, limits: LIFTED });

const headerParsers: [string, (v: string) => unknown][] = [
  ['Via', (v) => parseVia(`SIP/2.0/UDP ${v}`)],
  ['Via raw', parseVia],
  ['name-addr', parseNameAddr],
  ['name-addr quoted', (v) => parseNameAddr(`"${v}`)],
  ['name-addr params', (v) => parseNameAddr(`<sip:a@b>${v}`)],
  ['SIP URI', (v) => parseSipUri(`sip:${v}`)],
  ['SIP URI params', (v) => parseSipUri(`sip:a@b;${v}`)],
  ['CSeq', parseCSeq],
  ['Event', (v) => parseEvent(`conference${v}`)],
  ['Subscription-State', (v) => parseSubscriptionState(`active${v}`)],
  ['Content-Type', (v) => parseContentType(`a/b${v}`)],
  ['Warning', (v) => parseWarning(`399 h "${v}`)],
  ['Accept-Contact', (v) => parseAcceptContact(`*${v}`)],
  ['ICSI', (v) => hasIcsi([`*;+g.3gpp.icsi-ref="${v}"`], 'urn:x')],
  ['list', splitList],
];

const msrpHead = 'MSRP a1b2c3d4 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nMessage-ID: m1234\r\n';
function msrpStream(text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  const parser = new MsrpStreamParser({ maxBodyBytes: 2 ** 31, maxHeaderBytes: 2 ** 31 });
  const reassembler = new Reassembler({ maxMessageBytes: 2 ** 31 });
  for (let at = 0; at < bytes.length; at += 4096) {
    for (const item of parser.push(bytes.subarray(at, at + 4096))) if (item.frame?.kind === 'request' && item.frame.body) reassembler.add(item.frame as MsrpRequest);
  }
  parser.end();
}

const cpimTail = '\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi';
const cpim = (text: string) => parseCpim(Buffer.from(text, 'utf8'), { limits: LIFTED });
const imdnHead = '<?xml version="1.0" encoding="UTF-8"?><imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>';
const imdnTail = '</message-id><datetime>2024-05-06T09:15:03Z</datetime><delivery-notification><status><delivered/></status></delivery-notification></imdn>';
const imdn = (text: string) => parseImdnXml(text, { limits: LIFTED_XML });
const conf = (text: string) => parseConferenceInfo(text, { limits: LIFTED_XML });
const sdpHead = 'v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\n';
const sdp = (text: string) => {
  const parsed = parseSdp(text);
  resolveDirection(parsed, 0);
};

export const CONTEXTS: readonly Context[] = [
  { target: 'sip-message', where: 'header value', run: (f) => sip(`${sipHead}Subject: ${f}\r\n\r\n`) },
  { target: 'sip-message', where: 'From value', run: (f) => sip(`OPTIONS sip:a@b SIP/2.0\r\nFrom: ${f}\r\nVia: ${f}\r\nCSeq: ${f}\r\n\r\n`) },
  { target: 'sip-message', where: 'whole message', run: (f) => sip(f) },
  { target: 'sip-message', where: 'folded lines', run: (f) => sip(`${sipHead}Subject: a\r\n ${f.replace(/\r?\n/g, '\r\n ')}\r\n\r\n`) },
  { target: 'sip-message', where: 'request line', run: (f) => sip(`OPTIONS sip:${f} SIP/2.0\r\n\r\n`) },
  ...headerParsers.map(([name, parse]): Context => ({ target: 'sip-headers', where: name, run: (f) => parse(f) })),
  {
    target: 'sip-framer',
    where: 'stream in 1 kB reads',
    run: (f) => {
      const framer = new SipStreamFramer({ limits: LIFTED });
      const bytes = Buffer.from(`${sipHead}Subject: ${f}\r\nContent-Length: 0\r\n\r\n${f}`, 'latin1');
      for (let at = 0; at < bytes.length; at += 1024) framer.push(bytes.subarray(at, at + 1024));
    },
  },
  {
    target: 'sip-framer',
    where: 'body in 1 kB reads',
    run: (f) => {
      const framer = new SipStreamFramer({ limits: LIFTED });
      const body = Buffer.from(f, 'latin1');
      framer.push(Buffer.from(`${sipHead}Content-Length: ${body.length}\r\n\r\n`));
      for (let at = 0; at < body.length; at += 1024) framer.push(body.subarray(at, at + 1024));
    },
  },
  { target: 'sdp', where: 'attribute value', run: (f) => sdp(`${sdpHead}a=${f}\r\n`) },
  { target: 'sdp', where: 'a=path value', run: (f) => sdp(`${sdpHead}a=path:msrp://${f}\r\n`) },
  { target: 'sdp', where: 'o= and m= values', run: (f) => sdp(`v=0\r\no=${f}\r\ns=-\r\nt=0 0\r\nm=message 1 ${f}\r\n`) },
  { target: 'sdp', where: 'whole description', run: (f) => sdp(f) },
  { target: 'msrp', where: 'header value', run: (f) => msrpStream(`${msrpHead}Byte-Range: 1-2/2\r\nX-Pad: ${f}\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------a1b2c3d4$\r\n`) },
  { target: 'msrp', where: 'To-Path value', run: (f) => parseMsrpPath(`msrp://a:1/${f}`) },
  { target: 'msrp', where: 'body', run: (f) => msrpStream(`${msrpHead}Byte-Range: 1-*/*\r\nContent-Type: text/plain\r\n\r\n${f}\r\n-------a1b2c3d4$\r\n`) },
  { target: 'msrp', where: 'whole stream', run: (f) => msrpStream(f) },
  { target: 'cpim', where: 'From value', run: (f) => cpim(`From: ${f}<sip:a@x>${cpimTail}`) },
  { target: 'cpim', where: 'Subject params', run: (f) => cpim(`Subject:;${f} x${cpimTail}`) },
  { target: 'cpim', where: 'MIME folding', run: (f) => cpim(`From: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n ${f.replace(/\r?\n/g, '\r\n ')}\r\n\r\nhi`) },
  { target: 'cpim', where: 'whole body', run: (f) => cpim(f) },
  { target: 'imdn', where: 'element text', run: (f) => imdn(`${imdnHead}${f}${imdnTail}`) },
  { target: 'imdn', where: 'attribute value', run: (f) => imdn(`${imdnHead.replace('<message-id>', `<message-id a="${f.replace(/"/g, "'")}">`)}x${imdnTail}`) },
  { target: 'imdn', where: 'whole document', run: (f) => imdn(f) },
  { target: 'conference-info', where: 'markup', run: (f) => conf(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="x"><users>${f}</users></conference-info>`) },
  { target: 'conference-info', where: 'whole document', run: (f) => conf(f) },
];

const collect = (globalThis as { gc?: () => void }).gc;

function once(run: () => void): number {
  collect?.();
  const t = performance.now();
  run();
  return performance.now() - t;
}

/**
 * Milliseconds per call at N and at 8N: the fastest of seven single calls each, taken in turns so
 * that load from other processes hits both sizes alike, each after a full garbage collection (npm
 * run fuzz starts node with --expose-gc and a roomy young generation). Without that, an 800 kB
 * input lands in V8's large-object space and pays for major collections that a 100 kB one does
 * not: a 20× "superlinear" ratio of the allocator, not of the parser.
 */
function measurePair(small: () => void, big: () => void): { small: number; big: number } {
  small();
  big();
  let s = Infinity;
  let b = Infinity;
  for (let k = 0; k < 7; k++) {
    s = Math.min(s, once(small));
    b = Math.min(b, once(big));
  }
  return { small: s, big: b };
}

function fill(unit: string, bytes: number): string {
  return unit.repeat(Math.max(1, Math.round(bytes / unit.length)));
}

/** Runs every context × unit of one target in this process; prints failures and the worst ratio; returns the failures. */
export function checkTarget(target: string, log: (line: string) => void): number {
  let failures = 0;
  let worst: { ratio: number; what: string; small: number; big: number } | undefined;
  for (const context of CONTEXTS.filter((c) => c.target === target)) {
    for (const unit of UNITS) {
      const what = `${context.target} / ${context.where} / ${JSON.stringify(unit)}`;
      const smallInput = fill(unit, N);
      // An input this slow at N is already a failure; 8N could take minutes.
      const first = once(() => context.run(smallInput));
      if (first > 1000) {
        failures++;
        log(`  FAIL ${what}: ${first.toFixed(0)} ms at ${N} B`);
        continue;
      }
      const bigInput = fill(unit, 8 * N);
      // A ratio over the limit is measured twice more before it counts: the machine may be busy.
      let m = measurePair(() => context.run(smallInput), () => context.run(bigInput));
      for (let retry = 0; retry < 2 && m.big / Math.max(m.small, 0.001) > ratioLimit() && m.big > ABSOLUTE_FLOOR_MS; retry++) {
        m = measurePair(() => context.run(smallInput), () => context.run(bigInput));
      }
      const { small, big } = m;
      const ratio = big / Math.max(small, 0.001);
      if (big > ABSOLUTE_FLOOR_MS && (worst === undefined || ratio > worst.ratio)) worst = { ratio, what, small, big };
      if (ratio > ratioLimit() && big > ABSOLUTE_FLOOR_MS) {
        failures++;
        log(`  FAIL ${what}: ${small.toFixed(2)} ms at ${N} B, ${big.toFixed(2)} ms at ${8 * N} B (${ratio.toFixed(1)}×)`);
      }
    }
  }
  const slowest = worst === undefined ? `every input under ${ABSOLUTE_FLOOR_MS} ms at ${8 * N} B` : `worst ${worst.ratio.toFixed(1)}× (${worst.small.toFixed(2)} → ${worst.big.toFixed(2)} ms): ${worst.what}`;
  log(`${target.padEnd(16)} ${failures === 0 ? 'ok  ' : 'FAIL'} ${slowest}`);
  return failures;
}

/**
 * Each target in a fresh process (same node flags): a heap left behind by another target's
 * 800 kB inputs makes every collection dearer and every ratio noisier.
 */
export function checkLinearity(only: readonly string[] | undefined, log: (line: string) => void): number {
  const targets = [...new Set(CONTEXTS.map((c) => c.target))].filter((t) => only === undefined || only.includes(t));
  let failures = 0;
  for (const target of targets) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), target], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const out = (child.stdout ?? '').trimEnd();
    if (out) log(out);
    if (child.status !== 0) {
      failures += Number(/failures: (\d+)/.exec(child.stderr ?? '')?.[1] ?? 1);
      if (!/failures: \d+/.test(child.stderr ?? '')) log(`  FAIL ${target}: the check itself failed: ${child.stderr}`);
    }
  }
  log(failures === 0 ? `linearity: every parser within ${ratioLimit()}× (N = ${N} B)` : `linearity: ${failures} superlinear case(s)`);
  return failures;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] !== undefined) {
  const failures = checkTarget(process.argv[2], (line) => console.log(line));
  if (failures > 0) {
    process.stderr.write(`failures: ${failures}\n`);
    process.exitCode = 1;
  }
}

/**
 * One fuzz target per parser family. `run` must never throw on any input: a throw is a crash
 * (a parser bug, or a broken invariant checked here). Limits stay at their defaults, as in a run.
 */
import fc from 'fast-check';
import { parseConferenceInfo, applyConferenceUpdate } from '../harness/conference/conference-info.ts';
import { headerUri, parseCpim, requestedDispositions } from '../harness/cpim/cpim.ts';
import { parseRfc3339 } from '../harness/cpim/datetime.ts';
import { checkNotification, requestedKinds } from '../harness/imdn/checker.ts';
import { parseImdnXml } from '../harness/imdn/imdn.ts';
import { parseByteRange, parseStatusHeader, type MsrpRequest } from '../harness/msrp/frame.ts';
import { MsrpStreamParser } from '../harness/msrp/parser.ts';
import { Reassembler } from '../harness/msrp/reassembly.ts';
import { parseMsrpPath } from '../harness/msrp/uri.ts';
import { checkMsrpAnswer } from '../harness/sdp/answer-check.ts';
import { resolveDirection } from '../harness/sdp/direction.ts';
import { findMsrpMedia, msrpPathDiagnostics } from '../harness/sdp/msrp-media.ts';
import { parseSdp } from '../harness/sdp/parse.ts';
import { negotiateSetup } from '../harness/sdp/setup.ts';
import { SipStreamFramer, type FramedSip } from '../harness/sip/framer.ts';
import { parseCSeq, parseContentType, parseEvent, parseExpires, parseNameAddr, parseSubscriptionState, parseVia, parseWarning, tagOf } from '../harness/sip/headers.ts';
import { hasIcsi, parseAcceptContact } from '../harness/sip/caller-prefs.ts';
import { parseSipUri, sipUrisEqual } from '../harness/sip/uri.ts';
import { splitList } from '../harness/sip/message.ts';
import { parseSipMessage } from '../harness/sip/parser.ts';
import { serializeSipMessage } from '../harness/sip/serializer.ts';
import { bytesFrom, fixtureFiles, splitAt, splits } from './inputs.ts';

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws only on a bug. */
  readonly run: (input: T) => void;
  /** The bytes to save as a fixture when `run` throws or is slow. */
  readonly bytesOf: (input: T) => Buffer;
}

function invariant(condition: boolean, what: string): void {
  if (!condition) throw new Error(`invariant broken: ${what}`);
}

const ICSI = 'urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session';

/** Header values of every SIP sample: the seeds of the header-value target. */
function headerValueSeeds(): Buffer[] {
  const seen = new Set<string>();
  for (const raw of fixtureFiles(['sip', 'pf'], ['.sip'])) {
    const parsed = parseSipMessage(raw);
    for (const h of parsed.message?.headers ?? []) seen.add(h.value);
  }
  return [...seen].map((v) => Buffer.from(v, 'utf8'));
}

const sipSeeds = fixtureFiles(['sip', 'pf'], ['.sip']);

const sipMessage: FuzzTarget<{ bytes: Buffer; stream: boolean }> = {
  name: 'sip-message',
  arbitrary: fc.record({ bytes: bytesFrom(sipSeeds), stream: fc.boolean() }),
  run: ({ bytes, stream }) => {
    const parsed = parseSipMessage(bytes, { stream });
    if (parsed.message) serializeSipMessage(parsed.message, { contentLength: 'verbatim' });
  },
  bytesOf: (i) => i.bytes,
};

const sipHeaders: FuzzTarget<Buffer> = {
  name: 'sip-headers',
  arbitrary: bytesFrom(headerValueSeeds()),
  run: (bytes) => {
    const value = bytes.toString('utf8');
    for (const parse of [parseVia, parseNameAddr, parseCSeq, parseEvent, parseExpires, parseSubscriptionState, parseContentType, parseWarning, parseAcceptContact, parseSipUri]) {
      const r = parse(value);
      invariant(r.ok || r.diagnostics.length > 0, `${parse.name} failed without a diagnostic`);
    }
    for (const part of splitList(value)) parseVia(part);
    hasIcsi([value], ICSI);
    tagOf(value);
    sipUrisEqual(value, 'sip:+15551230002@ims.example.net');
  },
  bytesOf: (b) => b,
};

/** The framer cut anywhere frames the same messages (garbage aside, whose bytes depend on the reads). */
const sipFramer: FuzzTarget<{ bytes: Buffer; cuts: number[] }> = {
  name: 'sip-framer',
  arbitrary: fc.record({
    bytes: fc.array(bytesFrom(sipSeeds), { minLength: 1, maxLength: 4 }).map((parts) => Buffer.concat(parts)),
    cuts: splits,
  }),
  run: ({ bytes, cuts }) => {
    const whole = new SipStreamFramer().push(bytes);
    const framer = new SipStreamFramer();
    const pieces: FramedSip[] = [];
    for (const part of splitAt(bytes, cuts)) pieces.push(...framer.push(part));
    const shape = (frames: FramedSip[]) =>
      frames.map((f) => (f.diagnostics.some((d) => d.code === 'SIP_STREAM_GARBAGE' || d.code.endsWith('_TOO_LARGE') || d.code.endsWith('_TOO_LONG')) ? f.diagnostics[0]!.code : f.raw.toString('latin1')));
    invariant(JSON.stringify(shape(whole)) === JSON.stringify(shape(pieces)), 'framing depends on how the stream was split');
    for (const f of pieces) parseSipMessage(f.raw, { stream: true });
  },
  bytesOf: (i) => i.bytes,
};

const sdpSeeds = fixtureFiles(['sdp'], ['.sdp']);

const sdp: FuzzTarget<{ offer: Buffer; answer: Buffer }> = {
  name: 'sdp',
  arbitrary: fc.record({ offer: bytesFrom(sdpSeeds), answer: bytesFrom(sdpSeeds) }),
  run: ({ offer, answer }) => {
    const o = parseSdp(offer);
    const a = parseSdp(answer);
    for (let i = 0; i <= o.media.length; i++) resolveDirection(o, i);
    for (const m of findMsrpMedia(o)) msrpPathDiagnostics(m);
    checkMsrpAnswer(a, o);
    negotiateSetup(o.media[0]?.setup, a.media[0]?.setup);
  },
  bytesOf: (i) => i.offer,
};

const msrpSeeds = fixtureFiles(['msrp'], ['.msrp']);

/** Every byte pushed comes back out in exactly one frame, however the stream is split; chunks reassemble. */
const msrp: FuzzTarget<{ bytes: Buffer; cuts: number[] }> = {
  name: 'msrp',
  arbitrary: fc.record({
    bytes: fc.array(bytesFrom(msrpSeeds), { minLength: 1, maxLength: 5 }).map((parts) => Buffer.concat(parts)),
    cuts: splits,
  }),
  run: ({ bytes, cuts }) => {
    const parser = new MsrpStreamParser();
    const items = splitAt(bytes, cuts).flatMap((part) => parser.push(part));
    items.push(...parser.end());
    invariant(Buffer.concat(items.map((i) => i.raw)).equals(bytes), 'the frames do not cover the stream exactly once');
    const reassembler = new Reassembler();
    for (const item of items) {
      const frame = item.frame;
      if (frame?.kind !== 'request') continue;
      for (const h of frame.headers) {
        if (/^byte-range$/i.test(h.name)) parseByteRange(h.value);
        if (/^status$/i.test(h.name)) parseStatusHeader(h.value);
        if (/-path$/i.test(h.name)) parseMsrpPath(h.value);
      }
      if (frame.method === 'SEND' && frame.body !== null) reassembler.add(frame as MsrpRequest);
    }
    reassembler.incomplete();
  },
  bytesOf: (i) => i.bytes,
};

const cpimSeeds = [...fixtureFiles(['cpim'], ['.cpim']), ...fixtureFiles(['msrp/golden'], ['.bin'])];

const cpim: FuzzTarget<Buffer> = {
  name: 'cpim',
  arbitrary: bytesFrom(cpimSeeds),
  run: (bytes) => {
    const parsed = parseCpim(bytes);
    requestedDispositions(parsed);
    requestedKinds(parsed);
    for (const h of parsed.headers) {
      headerUri(h.value);
      parseRfc3339(h.value);
    }
  },
  bytesOf: (b) => b,
};

const imdnSeeds = fixtureFiles(['imdn'], ['.xml']);
const originalCpim = parseCpim(fixtureFiles(['cpim'], ['group-message.cpim'])[0]!);

const imdn: FuzzTarget<Buffer> = {
  name: 'imdn',
  arbitrary: bytesFrom(imdnSeeds),
  run: (bytes) => {
    const parsed = parseImdnXml(bytes);
    checkNotification(
      { cpim: originalCpim, requested: requestedKinds(originalCpim) },
      { cpim: originalCpim, imdn: parsed },
      { clientUri: 'sip:+15551230002@ims.example.net', groupUri: 'sip:grp.7c1e9a@cpm-pf.example.net' },
    );
  },
  bytesOf: (b) => b,
};

const conferenceSeeds = fixtureFiles(['conference'], ['.xml']);
const fullDoc = parseConferenceInfo(conferenceSeeds[0]!).doc;

const conference: FuzzTarget<Buffer> = {
  name: 'conference-info',
  arbitrary: bytesFrom(conferenceSeeds),
  run: (bytes) => {
    const parsed = parseConferenceInfo(bytes);
    if (parsed.doc) {
      applyConferenceUpdate(fullDoc, parsed.doc);
      applyConferenceUpdate(undefined, parsed.doc);
    }
  },
  bytesOf: (b) => b,
};

export const TARGETS: readonly FuzzTarget<never>[] = [sipMessage, sipHeaders, sipFramer, sdp, msrp, cpim, imdn, conference] as unknown as FuzzTarget<never>[];

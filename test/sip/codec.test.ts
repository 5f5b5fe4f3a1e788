import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipStreamFramer, type FramedSip } from '../../harness/sip/framer.ts';
import { firstHeaderValue, headerValue, headerValues, setHeader, type SipMessage } from '../../harness/sip/message.ts';
import { parseSipMessage } from '../../harness/sip/parser.ts';
import { serializeByParts, serializeSipMessage } from '../../harness/sip/serializer.ts';
import fc from 'fast-check';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sip');
const load = (dir: string, name: string): Buffer => readFileSync(join(fixtures, dir, name));
const list = (dir: string): string[] => readdirSync(join(fixtures, dir)).filter((f) => f.endsWith('.sip')).sort();
const codes = (diagnostics: readonly { code: string }[]): string[] => [...new Set(diagnostics.map((d) => d.code))].sort();

function mustParse(raw: Buffer, stream = true): SipMessage {
  const parsed = parseSipMessage(raw, { stream });
  if (parsed.message === null) throw new Error(`no message: ${codes(parsed.diagnostics).join(',')}`);
  return parsed.message;
}

describe('sip codec: golden samples (PROTOCOLS.md §2)', () => {
  it('has all twelve §2 SIP examples', () => {
    expect(list('golden')).to.have.length(12);
  });

  for (const name of list('golden')) {
    it(`${name}: zero diagnostics on stream and datagram, byte-identical round trip`, () => {
      const raw = load('golden', name);
      for (const stream of [true, false]) {
        const parsed = parseSipMessage(raw, { stream });
        expect(parsed.diagnostics.map((d) => d.code)).to.deep.equal([]);
        expect(parsed.message).to.not.equal(null);
      }
      const msg = mustParse(raw);
      expect(serializeSipMessage(msg, { contentLength: 'verbatim' }).equals(raw)).to.equal(true);
      expect(serializeSipMessage(msg).equals(raw)).to.equal(true);
      expect(msg.body.length).to.equal(Number(headerValue(msg, 'content-length')));
    });
  }

  it('reads the §2.1 INVITE fields (295-octet SDP body, 1144 octets in all)', () => {
    const raw = load('golden', '2.1-invite.sip');
    const msg = mustParse(raw);
    expect(raw.length).to.equal(1144);
    expect(msg.kind).to.equal('request');
    if (msg.kind !== 'request') return;
    expect(msg.method).to.equal('INVITE');
    expect(msg.uri).to.equal('sip:+15551230002@192.0.2.50:5070;transport=tcp');
    expect(msg.body.length).to.equal(295);
    expect(msg.body.toString('latin1').endsWith('a=sendrecv\r\n')).to.equal(true);
    expect(msg.headers.map((h) => h.name)).to.deep.equal([
      'Via', 'Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Accept-Contact', 'P-Asserted-Identity',
      'Conversation-ID', 'Contribution-ID', 'Subject', 'Allow', 'Content-Type', 'Content-Length',
    ]);
  });

  it('§2.11 NOTIFY body is 1052 octets of conference-info', () => {
    const msg = mustParse(load('golden', '2.11-notify.sip'));
    expect(msg.body.length).to.equal(1052);
    expect(msg.body.toString('utf8')).to.match(/^<\?xml[\s\S]*<\/conference-info>\r\n$/);
  });
});

describe('sip codec: odd but legal samples', () => {
  for (const name of list('odd')) {
    it(`${name}: zero diagnostics and byte-identical round trip`, () => {
      const raw = load('odd', name);
      const parsed = parseSipMessage(raw, { stream: true });
      expect(parsed.diagnostics.map((d) => d.code)).to.deep.equal([]);
      expect(serializeSipMessage(parsed.message!, { contentLength: 'verbatim' }).equals(raw)).to.equal(true);
      expect(serializeSipMessage(parsed.message!).equals(raw)).to.equal(true);
    });
  }

  it('unfolds folded lines to single spaces but keeps the fold on the wire', () => {
    const msg = mustParse(load('odd', 'folded-header.sip'));
    expect(headerValue(msg, 'subject')).to.equal('Weekend plans');
    expect(headerValues(msg, 'allow')).to.deep.equal(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'NOTIFY', 'MESSAGE', 'UPDATE']);
  });

  it('looks up compact forms by full name and keeps the names as written', () => {
    const msg = mustParse(load('odd', 'compact-forms.sip'));
    expect(msg.headers.map((h) => h.name).slice(0, 3)).to.deep.equal(['v', 'Max-Forwards', 'f']);
    expect(headerValue(msg, 'Accept-Contact')).to.match(/^\*;\+g\.3gpp\.icsi-ref=/);
    expect(headerValue(msg, 'Call-ID')).to.equal('compact-01@cpm-pf.example.net');
    expect(msg.body.toString()).to.equal('hello');
  });

  it('splits a comma-folded Via into two values', () => {
    const msg = mustParse(load('odd', 'comma-folded-via.sip'));
    expect(headerValues(msg, 'via')).to.have.length(2);
  });

  it('keeps a UTF-8 display name as text', () => {
    const msg = mustParse(load('odd', 'utf8-display-name.sip'));
    expect(headerValue(msg, 'from')).to.match(/^"Gruppe Wochenende äöü" </);
  });
});

describe('sip codec: malformed samples', () => {
  it('has one sample per diagnostic code', () => {
    expect(list('malformed').length).to.be.greaterThanOrEqual(15);
  });

  for (const name of list('malformed')) {
    const code = name.replace(/\.sip$/, '');
    it(`${name} yields exactly ${code}, with clause, offset and bytes`, () => {
      const parsed = parseSipMessage(load('malformed', name), { stream: true });
      expect(codes(parsed.diagnostics)).to.deep.equal([code]);
      for (const d of parsed.diagnostics) {
        expect(d.clause).to.match(/^RFC \d+ §/);
        expect(d.offset).to.be.a('number');
      }
      expect(parsed.message === null).to.equal(code === 'SIP_BAD_START_LINE');
    });
  }

  it('reports every bare-LF line end and still parses the structure', () => {
    const raw = load('malformed', 'SIP_BARE_LF.sip');
    const parsed = parseSipMessage(raw, { stream: true });
    const lineCount = raw.toString('latin1').split('\n').length - 1;
    expect(parsed.diagnostics).to.have.length(lineCount);
    expect(parsed.diagnostics.every((d) => d.bytes[d.bytes.length - 1] === 0x0a && raw[d.offset!] === 0x0a)).to.equal(true);
    expect(headerValue(parsed.message!, 'cseq')).to.equal('2 BYE');
    expect(serializeSipMessage(parsed.message!, { lineEnding: '\n', contentLength: 'verbatim' }).equals(raw)).to.equal(true);
  });

  it('points a diagnostic at the offending bytes', () => {
    const raw = load('malformed', 'SIP_BRANCH_NO_COOKIE.sip');
    const d = parseSipMessage(raw).diagnostics[0]!;
    expect(raw.subarray(d.offset!, d.offset! + d.bytes.length).equals(d.bytes)).to.equal(true);
    expect(d.bytes.toString()).to.equal('Via: SIP/2.0/TCP 192.0.2.10:5060;branch=pf-bye-01');
  });

  it('a short body is a mismatch; extra octets on a datagram are a warning and discarded (§18.3)', () => {
    const bye = load('golden', '2.13-bye.sip');
    const extra = Buffer.concat([bye, Buffer.from('junk')]);
    const dgram = parseSipMessage(extra, { stream: false });
    expect(dgram.diagnostics.map((d) => [d.code, d.severity])).to.deep.equal([['SIP_CONTENT_LENGTH_MISMATCH', 'warning']]);
    expect(dgram.message!.body.length).to.equal(0);
    expect(parseSipMessage(extra, { stream: true }).diagnostics[0]!.severity).to.equal('error');
  });

  it('takes the rest as body on a datagram without Content-Length', () => {
    const raw = Buffer.from(load('malformed', 'SIP_MISSING_CONTENT_LENGTH.sip').toString('latin1') + 'abc', 'latin1');
    const parsed = parseSipMessage(raw, { stream: false });
    expect(parsed.diagnostics).to.deep.equal([]);
    expect(parsed.message!.body.toString()).to.equal('abc');
  });

  it('counts Content-Length in octets, not characters', () => {
    const body = 'grüße ✓';
    const head = load('golden', '2.13-bye.sip').toString('latin1').replace('Content-Length: 0', `Content-Length: ${Buffer.byteLength(body)}`);
    const raw = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body, 'utf8')]);
    const parsed = parseSipMessage(raw, { stream: true });
    expect(parsed.diagnostics).to.deep.equal([]);
    expect(parsed.message!.body.toString('utf8')).to.equal(body);
  });

  it('flags a response status outside 100–699 but keeps the message', () => {
    const parsed = parseSipMessage(Buffer.from('SIP/2.0 099 Low\r\nContent-Length: 0\r\n\r\n'));
    expect(codes(parsed.diagnostics)).to.deep.equal(['SIP_BAD_STATUS', 'SIP_MISSING_HEADER']);
    expect(parsed.message?.kind).to.equal('response');
  });
});

describe('sip serializer', () => {
  it('compute: fixes an existing Content-Length in place and appends a missing one', () => {
    const msg = mustParse(load('golden', '2.13-bye.sip'));
    msg.body = Buffer.from('é');
    const out = serializeSipMessage(msg).toString('latin1');
    expect(out).to.match(/\r\nContent-Length: 2\r\n\r\n/);
    expect(out.indexOf('Content-Length')).to.be.greaterThan(out.indexOf('CSeq'));
    msg.headers = msg.headers.filter((h) => h.name !== 'Content-Length');
    expect(serializeSipMessage(msg).toString('latin1')).to.match(/CSeq: 2 BYE\r\nContent-Length: 2\r\n\r\n/);
  });

  it('verbatim: writes exactly the fields given, even a wrong Content-Length', () => {
    const msg = mustParse(load('golden', '2.13-bye.sip'));
    setHeader(msg, 'Content-Length', '99');
    msg.headers.push({ name: 'X-Odd', value: 'a' });
    const out = serializeSipMessage(msg, { contentLength: 'verbatim' }).toString('latin1');
    expect(out).to.match(/Content-Length: 99\r\nX-Odd: a\r\n\r\n$/);
  });

  it('re-writes an edited parsed field as "Name: value"', () => {
    const raw = load('odd', 'odd-spacing.sip');
    const msg = mustParse(raw);
    const mf = msg.headers.find((h) => h.name === 'Max-Forwards')!;
    expect(serializeSipMessage(msg).toString('latin1')).to.include('Max-Forwards :70\r\n');
    mf.value = '69';
    expect(serializeSipMessage(msg).toString('latin1')).to.include('Max-Forwards: 69\r\n');
  });
});

describe('sip serializer: the one-string path against the line-by-line path (differential)', () => {
  const options = [{}, { contentLength: 'verbatim' as const }, { lineEnding: '\n' as const }, { contentLength: 'verbatim' as const, lineEnding: '\n' as const }];
  /** The message with every field a plain object, so the one-string path takes it. */
  const built = (msg: SipMessage): SipMessage => ({ ...msg, headers: msg.headers.map((h) => ({ name: h.name, value: h.value })) });

  it('gives the same bytes for every golden and odd sample, fields re-built', () => {
    for (const dir of ['golden', 'odd']) {
      for (const name of list(dir)) {
        const msg = built(mustParse(load(dir, name)));
        for (const o of options) expect(serializeSipMessage(msg, o).equals(serializeByParts(msg, o)), `${dir}/${name} ${JSON.stringify(o)}`).to.equal(true);
      }
    }
  });

  it('gives the same bytes for random names, values (any Unicode, lone surrogates) and bodies', () => {
    const name = fc.oneof(fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH', 'l', 'L', 'Via', 'v', 'Call-ID', 'X-\u00e9'), fc.string({ maxLength: 12 }));
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }));
    const message = fc.record({
      request: fc.boolean(),
      method: fc.constantFrom('INVITE', 'BYE', 'MESSAGE'),
      uri: fc.string({ unit: 'binary', maxLength: 30 }),
      reason: fc.string({ unit: 'binary', maxLength: 20 }),
      headers: fc.array(fc.record({ name, value }), { maxLength: 12 }),
      body: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(message, fc.constantFrom(...options), (m, o) => {
        const body = Buffer.from(m.body);
        const msg: SipMessage = m.request
          ? { kind: 'request', method: m.method, uri: m.uri, version: 'SIP/2.0', headers: m.headers, body }
          : { kind: 'response', version: 'SIP/2.0', status: 200, reason: m.reason, headers: m.headers, body };
        expect(serializeSipMessage(msg, o).equals(serializeByParts(msg, o))).to.equal(true);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('takes the line-by-line path when any field is a received one (its bytes kept)', () => {
    const raw = load('odd', 'odd-spacing.sip');
    const msg = mustParse(raw);
    msg.headers.push({ name: 'X-Added', value: 'b' });
    expect(serializeSipMessage(msg).equals(serializeByParts(msg))).to.equal(true);
    expect(serializeSipMessage(msg).toString('latin1')).to.include('Max-Forwards :70\r\n');
  });
});

describe('firstHeaderValue against headerValues()[0] (differential)', () => {
  it('agrees on every golden and odd sample, for every header kind they carry', () => {
    for (const dir of ['golden', 'odd']) {
      for (const name of list(dir)) {
        const msg = mustParse(load(dir, name));
        for (const h of [...msg.headers.map((f) => f.name), 'via', 'v', 'Contact', 'm', 'Route', 'X-None']) expect(firstHeaderValue(msg, h), `${dir}/${name} ${h}`).to.equal(headerValues(msg, h)[0]);
      }
    }
  });

  it('agrees on random fields: commas, quotes, escapes, angle brackets, empty elements', () => {
    const text = fc.string({ unit: fc.constantFrom(',', ' ', '"', '\\', '<', '>', 'a', ';', '\t'), maxLength: 16 });
    const field = fc.record({ name: fc.constantFrom('Via', 'v', 'VIA', 'Contact', 'm', 'Route', 'Record-Route', 'To', 'Subject', 'X-A'), value: text });
    fc.assert(
      fc.property(fc.array(field, { maxLength: 6 }), fc.constantFrom('via', 'Contact', 'route', 'record-route', 'to', 'subject', 'x-a'), (headers, want) => {
        const msg: SipMessage = { kind: 'request', method: 'INVITE', uri: 'sip:a@b', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
        expect(firstHeaderValue(msg, want)).to.equal(headerValues(msg, want)[0]);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});

describe('sip stream framer (RFC 3261 §18.3)', () => {
  const invite = load('golden', '2.1-invite.sip');
  const notify = load('golden', '2.11-notify.sip');
  const bye = load('golden', '2.13-bye.sip');
  // CRLF keep-alives (RFC 5626 §3.5.1) between messages must disappear.
  const stream = Buffer.concat([invite, Buffer.from('\r\n\r\n'), notify, Buffer.from('\r\n'), bye]);
  const expected = [invite, notify, bye];

  const rawOf = (frames: FramedSip[]): Buffer[] => frames.map((f) => f.raw);

  it('frames three messages from one chunk', () => {
    const framer = new SipStreamFramer();
    const frames = framer.push(stream);
    expect(rawOf(frames)).to.deep.equal(expected);
    expect(frames.every((f) => f.diagnostics.length === 0)).to.equal(true);
    expect(framer.pending().length).to.equal(0);
  });

  it('yields the same messages when the stream is split at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const framer = new SipStreamFramer();
      const frames = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      expect(rawOf(frames), `cut at ${cut}`).to.deep.equal(expected);
    }
  });

  it('yields the same messages fed one byte at a time', () => {
    const framer = new SipStreamFramer();
    const frames: FramedSip[] = [];
    for (let i = 0; i < stream.length; i++) frames.push(...framer.push(stream.subarray(i, i + 1)));
    expect(rawOf(frames)).to.deep.equal(expected);
  });

  it('keeps a partial message pending', () => {
    const framer = new SipStreamFramer();
    expect(framer.push(invite.subarray(0, 1000))).to.deep.equal([]);
    expect(framer.pending().length).to.equal(1000);
  });

  it('frames a message without Content-Length with an empty body and a diagnostic', () => {
    const noLength = load('malformed', 'SIP_MISSING_CONTENT_LENGTH.sip');
    const frames = new SipStreamFramer().push(Buffer.concat([noLength, bye]));
    expect(rawOf(frames)).to.deep.equal([noLength, bye]);
    expect(codes(frames[0]!.diagnostics)).to.deep.equal(['SIP_MISSING_CONTENT_LENGTH']);
  });

  it('discards the rest of the stream after a non-numeric Content-Length, once', () => {
    const framer = new SipStreamFramer();
    const bad = load('malformed', 'SIP_BAD_CONTENT_LENGTH.sip');
    const frames = framer.push(Buffer.concat([bye, bad, bye]));
    expect(frames).to.have.length(2);
    expect(frames[0]!.raw).to.deep.equal(bye);
    expect(codes(frames[1]!.diagnostics)).to.deep.equal(['SIP_STREAM_GARBAGE']);
    expect(frames[1]!.raw).to.deep.equal(Buffer.concat([bad, bye]));
    expect(frames[1]!.diagnostics[0]!.offset).to.equal(bye.length);
    expect(framer.push(bye)).to.deep.equal([]);
    expect(framer.pending().length).to.equal(0);
  });

  it('a header line over sipHeaderLineBytes ends framing at once (SIP_HEADER_LINE_TOO_LONG), without waiting for its end', () => {
    const framer = new SipStreamFramer({ limits: { sipHeaderLineBytes: 1000 } });
    expect(framer.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\nX: '))).to.deep.equal([]);
    const frames = framer.push(Buffer.alloc(2000, 0x79));
    expect(frames.map((f) => `${f.diagnostics[0]!.code} ${f.diagnostics[0]!.clause}`)).to.deep.equal(['SIP_HEADER_LINE_TOO_LONG RFC 3261 §7.3']);
    expect(framer.push(bye)).to.deep.equal([]);
    expect(framer.pending().length).to.equal(0);
  });

  it('a Content-Length beyond sipMessageBytes is refused before any body octet arrives (SIP_MESSAGE_TOO_LARGE)', () => {
    const framer = new SipStreamFramer({ limits: { sipMessageBytes: 10_000 } });
    const head = Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 9999999999\r\n\r\n');
    const frames = framer.push(head);
    expect(frames.map((f) => `${f.diagnostics[0]!.code} ${f.diagnostics[0]!.clause}`)).to.deep.equal(['SIP_MESSAGE_TOO_LARGE RFC 3261 §21.5.14']);
    expect(frames[0]!.raw.equals(head)).to.equal(true);
  });

  it('a header section that never ends is refused at sipMessageBytes', () => {
    const framer = new SipStreamFramer({ limits: { sipMessageBytes: 5000 } });
    const lines = Buffer.from('X-Pad: '.padEnd(99, 'p') + '\r\n');
    let frames: FramedSip[] = framer.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\n'));
    for (let i = 0; i < 100 && frames.length === 0; i++) frames = framer.push(lines);
    expect(frames.map((f) => f.diagnostics[0]!.code)).to.deep.equal(['SIP_MESSAGE_TOO_LARGE']);
  });

  it('a body arriving one octet at a time is framed once, with the header section scanned once', () => {
    const framer = new SipStreamFramer();
    const frames: FramedSip[] = [];
    for (let i = 0; i < invite.length; i++) frames.push(...framer.push(invite.subarray(i, i + 1)));
    expect(rawOf(frames)).to.deep.equal([invite]);
  });

  it('the parser refuses a message over sipMessageBytes and leaves out a field over sipHeaderLineBytes, folds included', () => {
    const big = parseSipMessage(invite, { limits: { sipMessageBytes: 100 } });
    expect(big.message).to.equal(null);
    expect(codes(big.diagnostics)).to.deep.equal(['SIP_MESSAGE_TOO_LARGE']);
    const long = 'x'.repeat(300);
    const raw = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX-Long: ${long}\r\n more\r\nX-Folded: a\r\n ${long}\r\n b\r\nX-Ok: 1\r\n\r\n`);
    const parsed = parseSipMessage(raw, { limits: { sipHeaderLineBytes: 200 } });
    expect(parsed.diagnostics.filter((d) => d.code === 'SIP_HEADER_LINE_TOO_LONG').map((d) => d.offset)).to.deep.equal([raw.indexOf('X-Long'), raw.indexOf('X-Folded')]);
    expect(parsed.message!.headers.map((h) => h.name)).to.deep.equal(['X-Ok']);
  });
});

describe('sip parser robustness', () => {
  /** mulberry32: a tiny seeded PRNG so a failing input can be reproduced. */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('never throws on 4000 random or mutated inputs (seed 2024)', () => {
    const rand = prng(2024);
    const seeds = list('golden').map((n) => load('golden', n));
    const alphabet = Buffer.from('\r\n :;,<>"\\/=@%\t\x00\xffSIP/2.0 INVITE Content-Length0123456789zZ');
    let messages = 0;
    for (let n = 0; n < 4000; n++) {
      let input: Buffer;
      if (n % 4 === 0) {
        input = Buffer.alloc(Math.floor(rand() * 300));
        for (let i = 0; i < input.length; i++) input[i] = alphabet[Math.floor(rand() * alphabet.length)]!;
      } else {
        input = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!);
        const edits = 1 + Math.floor(rand() * 8);
        for (let e = 0; e < edits; e++) input[Math.floor(rand() * input.length)] = alphabet[Math.floor(rand() * alphabet.length)]!;
        if (rand() < 0.3) input = input.subarray(0, Math.floor(rand() * input.length));
      }
      const parsed = parseSipMessage(input, { stream: rand() < 0.5 });
      if (parsed.message) {
        messages++;
        serializeSipMessage(parsed.message, { contentLength: 'verbatim' });
      }
      new SipStreamFramer().push(input);
    }
    // Most mutations leave a start line intact: the loop exercised the header paths, not just rejection.
    expect(messages).to.be.greaterThan(2000);
  });
});

import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { msrpHeader, parseByteRange, parseStatusHeader, failureReportOf, successReportOf, type MsrpRequest } from '../../harness/msrp/frame.ts';
import { MsrpStreamParser, type ParsedMsrpFrame } from '../../harness/msrp/parser.ts';
import { buildReport, buildResponse, buildSend, serializeMsrpFrame } from '../../harness/msrp/serializer.ts';
import { formatMsrpUri, msrpUrisEqual, parseMsrpUri, type MsrpUri } from '../../harness/msrp/uri.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/msrp');
const golden = (name: string) => readFileSync(join(fixtures, 'golden', name));

function parseAll(bytes: Buffer, parser = new MsrpStreamParser()): ParsedMsrpFrame[] {
  return [...parser.push(bytes), ...parser.end()];
}

function uri(text: string): MsrpUri {
  const r = parseMsrpUri(text);
  if (!r.ok) throw new Error(`bad test URI ${text}`);
  return r.value;
}

/** Comparable view of parse output: frames, raw bytes and diagnostic codes, nothing split-dependent. */
function shape(items: ParsedMsrpFrame[]): unknown[] {
  return items.map((i) => ({
    frame: i.frame && { ...i.frame, body: i.frame.kind === 'request' && i.frame.body ? i.frame.body.toString('latin1') : null },
    raw: i.raw.toString('latin1'),
    codes: i.diagnostics.map((d) => `${d.code}@${d.offset ?? ''}`),
    at: i.streamOffset,
  }));
}

describe('msrp/uri', () => {
  it('parses and formats msrp URIs (RFC 4975 §6)', () => {
    const r = parseMsrpUri('msrp://bob@192.0.2.10:7394/pf8s3kq1;tcp;x=1');
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.value).to.deep.include({ scheme: 'msrp', userinfo: 'bob', host: '192.0.2.10', port: 7394, sessionId: 'pf8s3kq1', transport: 'tcp' });
    expect(r.value.params).to.deep.equal([{ name: 'x', value: '1' }]);
    expect(formatMsrpUri(r.value)).to.equal('msrp://bob@192.0.2.10:7394/pf8s3kq1;tcp;x=1');
    expect(formatMsrpUri(uri('msrps://[2001:db8::1]:2855/abc;tcp'))).to.equal('msrps://[2001:db8::1]:2855/abc;tcp');
    expect(uri('msrp://relay.example.com;tcp').sessionId).to.equal('');
  });

  it('rejects non-MSRP URIs with MSRP_BAD_URI', () => {
    for (const bad of ['sip:alice@example.com', 'http://h/x;tcp', 'msrp://h:99999/x;tcp', 'msrp://h/x', 'msrp:///x;tcp']) {
      const r = parseMsrpUri(bad);
      expect(r.ok, bad).to.equal(false);
      expect(r.diagnostics[0]!.code).to.equal('MSRP_BAD_URI');
    }
  });

  it('compares per §6.1: host/scheme/transport case-insensitive, session-id exact, explicit port', () => {
    const a = uri('msrp://Host.Example:7394/AbC;tcp');
    expect(msrpUrisEqual(a, uri('MSRP://host.example:7394/AbC;TCP'))).to.equal(true);
    expect(msrpUrisEqual(a, uri('msrp://joe@host.example:7394/AbC;tcp'))).to.equal(true);
    expect(msrpUrisEqual(a, uri('msrp://host.example:7394/abc;tcp'))).to.equal(false);
    expect(msrpUrisEqual(a, uri('msrp://host.example/AbC;tcp'))).to.equal(false);
    expect(msrpUrisEqual(a, uri('msrp://host.example:7394/AbC;sctp'))).to.equal(false);
    expect(msrpUrisEqual(a, uri('msrp://host.example:7394;tcp'))).to.equal(false);
    expect(msrpUrisEqual(uri('msrp://h%61st:1/x;tcp'), uri('msrp://hast:1/x;tcp'))).to.equal(true);
  });
});

describe('msrp/frame helpers', () => {
  it('parses Byte-Range with * and rejects bad ones', () => {
    expect(parseByteRange('1-328/328')).to.deep.include({ ok: true, value: { start: 1, end: 328, total: 328 } });
    expect(parseByteRange('1-*/*')).to.deep.include({ ok: true, value: { start: 1, end: '*', total: '*' } });
    expect(parseByteRange('1-0/0').ok).to.equal(true);
    for (const bad of ['0-5/5', '5-2/9', '1-10/5', '1-5', 'x']) expect(parseByteRange(bad).ok, bad).to.equal(false);
  });

  it('parses the Status header and applies report defaults (§7.1.1)', () => {
    expect(parseStatusHeader('000 200 OK')).to.deep.include({ ok: true, value: { namespace: '000', code: 200, comment: 'OK' } });
    expect(parseStatusHeader('200 OK').ok).to.equal(false);
    const send = buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body: null });
    expect(successReportOf(send)).to.equal('no');
    expect(failureReportOf(send)).to.equal('yes');
  });

  it('report values are case-insensitive ABNF strings (§9, RFC 5234 §2.3)', () => {
    const send = buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body: null, extraHeaders: [{ name: 'Success-Report', value: 'Yes' }, { name: 'Failure-Report', value: 'NO' }] });
    expect(successReportOf(send)).to.equal('yes');
    expect(failureReportOf(send)).to.equal('no');
  });
});

describe('msrp/parser + serializer: golden samples (PROTOCOLS §2.6–2.10)', () => {
  const names = readdirSync(join(fixtures, 'golden')).filter((n) => n.endsWith('.msrp'));
  for (const name of names) {
    it(`${name}: parses clean and round-trips byte-identically`, () => {
      const bytes = golden(name);
      const items = parseAll(bytes);
      expect(items).to.have.length(1);
      const item = items[0]!;
      expect(item.diagnostics.map((d) => d.code)).to.deep.equal([]);
      expect(item.raw.equals(bytes)).to.equal(true);
      expect(serializeMsrpFrame(item.frame!).equals(bytes)).to.equal(true);
      expect(serializeMsrpFrame(item.frame!, { verbatim: true }).equals(bytes)).to.equal(true);
    });
  }

  it('the digest byte counts hold: CPIM 328, IMDNs 713 and 711, chunks 200 + 128', () => {
    const body = (n: string) => (parseAll(golden(n))[0]!.frame as MsrpRequest).body!;
    expect(body('2.7-send-cpim.msrp').length).to.equal(328);
    expect(body('2.9-send-imdn-delivery.msrp').length).to.equal(713);
    expect(body('2.10-send-imdn-display.msrp').length).to.equal(711);
    expect(body('2.8-chunk1.msrp').length).to.equal(200);
    expect(body('2.8-chunk2.msrp').length).to.equal(128);
    expect(Buffer.concat([body('2.8-chunk1.msrp'), body('2.8-chunk2.msrp')]).equals(golden('cpim-328.bin'))).to.equal(true);
  });

  it('builders reproduce the golden 200 and REPORT from the golden SEND', () => {
    const send = parseAll(golden('2.7-send-cpim.msrp'))[0]!.frame as MsrpRequest;
    const client = uri('msrp://192.0.2.50:50123/cl4x7m2p;tcp');
    expect(serializeMsrpFrame(buildResponse(send, 200, undefined, { localUri: client })).equals(golden('2.7-200.msrp'))).to.equal(true);
    const report = buildReport(send, 200, { localUri: client, transactionId: '5c0e9b2a71d4f836' });
    expect(serializeMsrpFrame(report).equals(golden('2.7-report.msrp'))).to.equal(true);
    const bind = parseAll(golden('2.6-bind-send.msrp'))[0]!.frame as MsrpRequest;
    const rebuilt = buildSend({
      transactionId: bind.transactionId,
      toPath: msrpHeader(bind, 'To-Path')!,
      fromPath: msrpHeader(bind, 'From-Path')!,
      messageId: '3f1c0a77e2b94d10',
      body: null,
    });
    expect(serializeMsrpFrame(rebuilt).equals(golden('2.6-bind-send.msrp'))).to.equal(true);
  });

  it('canonical order puts To-Path, From-Path first and Content-Type last; verbatim keeps odd order', () => {
    const frame: MsrpRequest = {
      kind: 'request',
      transactionId: 'abcd1234',
      method: 'SEND',
      headers: [
        { name: 'Content-Type', value: 'text/plain' },
        { name: 'From-Path', value: 'msrp://b:2/y;tcp' },
        { name: 'Message-ID', value: 'm1234' },
        { name: 'To-Path', value: 'msrp://a:1/x;tcp' },
      ],
      body: Buffer.from('hi'),
      flag: '$',
    };
    const canonical = serializeMsrpFrame(frame).toString('latin1');
    expect(canonical).to.equal(
      'MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nMessage-ID: m1234\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------abcd1234$\r\n',
    );
    const odd = serializeMsrpFrame(frame, { verbatim: true });
    expect(odd.toString('latin1').startsWith('MSRP abcd1234 SEND\r\nContent-Type: text/plain\r\nFrom-Path')).to.equal(true);
    expect(parseAll(odd)[0]!.diagnostics.map((d) => d.code)).to.include('MSRP_HEADER_ORDER');
  });

  it('header lookup is case-insensitive and finds the first match in wire order', () => {
    const frame = {
      headers: [
        { name: 'to-path', value: 'a' },
        { name: 'Message-ID', value: 'm1' },
        { name: 'MESSAGE-ID', value: 'm2' },
        { name: 'Byte-Range', value: '1-2/2' },
      ],
    };
    expect(msrpHeader(frame, 'To-Path')).to.equal('a');
    expect(msrpHeader(frame, 'message-id')).to.equal('m1');
    expect(msrpHeader(frame, 'Message-ID')).to.equal('m1');
    expect(msrpHeader(frame, 'byte-RANGE')).to.equal('1-2/2');
    expect(msrpHeader(frame, 'Byte-Rang')).to.equal(undefined);
  });

  it('serialization with a body equals the concatenation of head, body and end-line for every header order', () => {
    const names = ['To-Path', 'From-Path', 'Message-ID', 'Content-Disposition', 'content-type', 'Byte-Range'];
    const rank = (n: string) => (n === 'To-Path' ? 0 : n === 'From-Path' ? 1 : n.toLowerCase() === 'content-type' ? 4 : n.toLowerCase().startsWith('content-') ? 3 : 2);
    const body = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x41]);
    for (let k = 0; k < 200; k++) {
      // Deterministic Fisher-Yates shuffle (an LCG seeded by k).
      const shuffled = [...names];
      let seed = k + 1;
      for (let i = shuffled.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const j = seed % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const headers = shuffled.map((name, i) => ({ name, value: `v${i}\u00e9` }));
      if (k % 2 === 0) headers.sort((a, b) => rank(a.name) - rank(b.name));
      const frame: MsrpRequest = { kind: 'request', transactionId: 'abcd1234', method: 'SEND', headers, body, flag: '+' };
      const ordered = headers.map((h, i) => ({ h, i })).sort((a, b) => rank(a.h.name) - rank(b.h.name) || a.i - b.i).map((x) => x.h);
      const head = `MSRP abcd1234 SEND\r\n${ordered.map((h) => `${h.name}: ${h.value}\r\n`).join('')}\r\n`;
      const expected = Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from('\r\n-------abcd1234+\r\n', 'latin1')]);
      expect(serializeMsrpFrame(frame).equals(expected), `order ${headers.map((h) => h.name).join(',')}`).to.equal(true);
    }
  });

  it('new transaction ids carry 64 bits of randomness', () => {
    const a = buildSend({ toPath: 'msrp://a:1/x;tcp', fromPath: 'msrp://b:2/y;tcp', body: null });
    expect(a.transactionId).to.match(/^[0-9a-f]{16}$/);
  });
});

describe('msrp/parser: one malformed sample per diagnostic code', () => {
  const dir = join(fixtures, 'malformed');
  for (const file of readdirSync(dir).filter((n) => n.endsWith('.msrp'))) {
    const code = basename(file, '.msrp');
    it(`${code}`, () => {
      const bytes = readFileSync(join(dir, file));
      const items = parseAll(bytes);
      const all = items.flatMap((i) => i.diagnostics);
      const hit = all.find((d) => d.code === code);
      expect(hit, `${code} in ${all.map((d) => d.code).join(',')}`).to.not.equal(undefined);
      expect(hit!.clause).to.match(/^RFC 4975 §/);
      // Nothing is lost: the items cover the input exactly.
      expect(Buffer.concat(items.map((i) => i.raw)).equals(bytes)).to.equal(true);
    });
  }

  it('MSRP_ENDLINE_MISMATCH: the frame ends where Byte-Range says and the next frame parses', () => {
    const bad = readFileSync(join(dir, 'MSRP_ENDLINE_MISMATCH.msrp'));
    const next = golden('2.7-200.msrp');
    const items = parseAll(Buffer.concat([bad, next]));
    expect(items).to.have.length(2);
    expect((items[0]!.frame as MsrpRequest).body!.toString()).to.equal('bad end line');
    expect(items[0]!.diagnostics.map((d) => d.code)).to.deep.equal(['MSRP_ENDLINE_MISMATCH']);
    expect(items[1]!.raw.equals(next)).to.equal(true);
  });

  it('MSRP_ENDLINE_MISMATCH without Byte-Range: decided at close by the first foreign end-line', () => {
    const frame = Buffer.from('MSRP tid00009 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nMessage-ID: m0000001\r\nContent-Type: text/plain\r\n\r\nabc\r\n-------OTHERTID$\r\n');
    const parser = new MsrpStreamParser();
    expect(parser.push(frame)).to.deep.equal([]);
    expect(parser.pending().length).to.equal(frame.length);
    const items = parser.end();
    expect(items).to.have.length(1);
    expect(items[0]!.diagnostics.map((d) => d.code)).to.include('MSRP_ENDLINE_MISMATCH');
    expect((items[0]!.frame as MsrpRequest).body!.toString()).to.equal('abc');
  });

  it('MSRP_BAD_STATUS for 1xx/999/20/2000; MSRP_UNKNOWN_METHOD is a warning', () => {
    for (const status of ['100 Trying', '999 X', '20', '2000 Weird']) {
      const items = parseAll(Buffer.from(`MSRP tid00001 ${status}\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\n-------tid00001$\r\n`));
      expect(items[0]!.diagnostics.map((d) => d.code), status).to.deep.equal(['MSRP_BAD_STATUS']);
      expect(items[0]!.frame!.kind).to.equal('response');
    }
    const unknown = parseAll(readFileSync(join(dir, 'MSRP_UNKNOWN_METHOD.msrp')))[0]!;
    expect(unknown.diagnostics.find((d) => d.code === 'MSRP_UNKNOWN_METHOD')!.severity).to.equal('warning');
  });

  it('garbage is held until the next "MSRP " at a line start, then reported once', () => {
    const parser = new MsrpStreamParser();
    expect(parser.push(Buffer.from('junk junk\r\n'))).to.deep.equal([]);
    const items = parser.push(golden('2.7-200.msrp'));
    expect(items.map((i) => i.diagnostics.map((d) => d.code))).to.deep.equal([['MSRP_GARBAGE'], []]);
    expect(items[0]!.raw.toString()).to.equal('junk junk\r\n');
  });

  it('limits: huge headers and bodies are reported, never buffered without bound', () => {
    const parser = new MsrpStreamParser({ maxHeaderBytes: 256, maxBodyBytes: 1024 });
    const longHeader = Buffer.from(`MSRP tid00001 SEND\r\nX: ${'a'.repeat(400)}`);
    const items = parser.push(longHeader);
    expect(items.flatMap((i) => i.diagnostics.map((d) => d.code))).to.include('MSRP_HEADERS_TOO_LARGE');
    expect(parser.pending().length).to.be.lessThan(256);
    const p2 = new MsrpStreamParser({ maxBodyBytes: 1024 });
    const head = Buffer.from('MSRP tid00001 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nContent-Type: text/plain\r\n\r\n');
    const out = [...p2.push(head), ...p2.push(Buffer.alloc(4096, 0x61))];
    expect(out.flatMap((i) => i.diagnostics.map((d) => d.code))).to.include('MSRP_BODY_TOO_LARGE');
    expect(p2.pending().length).to.be.lessThan(2048);
  });
});

describe('msrp/parser: property — any split gives the same frames', () => {
  const tricky = (tid: string, body: string, flag = '$', extra = '') =>
    Buffer.from(
      `MSRP ${tid} SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nMessage-ID: mid00001\r\n${extra}Byte-Range: 1-${Buffer.byteLength(body, 'latin1')}/*\r\nContent-Type: text/plain\r\n\r\n${body}\r\n-------${tid}${flag}\r\n`,
      'latin1',
    );
  const stream = Buffer.concat([
    tricky('tid00001', `a\r\n-------tid0000\r\n-------tid00001X\r\n-------\r\n-------tid00001`, '+'),
    golden('2.6-bind-200.msrp'),
    tricky('tid00002', '', '$'),
    tricky('tid00003', `\r\n\r\n-------tid00003\r-------tid00003$`, '#'),
    golden('2.7-send-cpim.msrp'),
    Buffer.from('MSRP tid00004 REPORT\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nStatus: 000 200 OK\r\n-------tid00004$\r\n'),
    golden('2.8-chunk1.msrp'),
  ]);
  const reference = shape(parseAll(stream));

  it('the reference parse is clean and complete', () => {
    expect(reference).to.have.length(7);
    const items = parseAll(stream);
    expect(items.flatMap((i) => i.diagnostics)).to.deep.equal([]);
    expect(Buffer.concat(items.map((i) => i.raw)).equals(stream)).to.equal(true);
    expect((items[0]!.frame as MsrpRequest).body!.toString('latin1')).to.equal('a\r\n-------tid0000\r\n-------tid00001X\r\n-------\r\n-------tid00001');
  });

  it(`split at every offset (${stream.length} two-read splits) parses identically`, () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = new MsrpStreamParser();
      const items = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut)), ...parser.end()];
      expect(shape(items), `cut at ${cut}`).to.deep.equal(reference);
    }
  });

  it('1-byte reads parse identically', () => {
    const parser = new MsrpStreamParser();
    const items: ParsedMsrpFrame[] = [];
    for (let i = 0; i < stream.length; i++) items.push(...parser.push(stream.subarray(i, i + 1)));
    items.push(...parser.end());
    expect(shape(items)).to.deep.equal(reference);
  });

  it('pseudo-random multi-way splits parse identically', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 200; round++) {
      const parser = new MsrpStreamParser();
      const items: ParsedMsrpFrame[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(rnd() * 97);
        items.push(...parser.push(stream.subarray(at, at + n)));
        at += n;
      }
      items.push(...parser.end());
      expect(shape(items), `round ${round}`).to.deep.equal(reference);
    }
  });

  it('a mismatched end-line stream resyncs identically at every split', () => {
    const bad = Buffer.concat([readFileSync(join(fixtures, 'malformed/MSRP_ENDLINE_MISMATCH.msrp')), golden('2.7-200.msrp'), Buffer.from('junk\r\n'), golden('2.6-bind-200.msrp')]);
    const ref = shape(parseAll(bad));
    expect(ref).to.have.length(4);
    for (let cut = 0; cut <= bad.length; cut++) {
      const parser = new MsrpStreamParser();
      const items = [...parser.push(bad.subarray(0, cut)), ...parser.push(bad.subarray(cut)), ...parser.end()];
      expect(shape(items), `cut at ${cut}`).to.deep.equal(ref);
    }
  });
});

describe('msrp/parser: a pending body is kept as its reads — same frames as one read', () => {
  const head = (tid: string, extra: string) =>
    `MSRP ${tid} SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:2/y;tcp\r\nMessage-ID: mid00001\r\n${extra}Content-Type: text/plain\r\n\r\n`;
  const nearMisses = (tid: string, n: number) => `x\r\n-------${tid}X\r\n-------${tid}\r\n-------zz\r\n`.repeat(n);
  const frames = [
    // Own end-line after the declared end (MSRP_BYTE_RANGE_MISMATCH), near-misses of its own id on the way.
    Buffer.from(`${head('tidA0001', 'Byte-Range: 1-10/*\r\n')}${nearMisses('tidA0001', 3)}\r\n-------tidA0001$\r\n`, 'latin1'),
    // A foreign end-line exactly where Byte-Range says the body ends wins over the own one later.
    Buffer.from(`${head('tidB0001', 'Byte-Range: 1-120/*\r\n')}${nearMisses('tidB0001', 4).slice(0, 120)}\r\n-------other01$\r\n${'y'.repeat(40)}\r\n-------tidB0001$\r\n`, 'latin1'),
    golden('2.7-200.msrp'),
    // No Byte-Range, no own end-line: the first foreign end-line ends it (at the body limit or at close); the rest is garbage.
    Buffer.from(`${head('tidC0001', '')}${'z'.repeat(150)}\r\n-------foreign1+\r\n${'z'.repeat(400)}\r\n`, 'latin1'),
    golden('2.7-send-cpim.msrp'),
    golden('2.8-chunk1.msrp'),
  ];
  // A large body full of near-misses of its own end-line (only under the larger body limit: past a
  // limit, what ends a frame depends on how much has arrived, by design).
  const large = Buffer.from(`${head('tidE0001', 'Byte-Range: 1-2400/2400\r\n')}${nearMisses('tidE0001', 100).slice(0, 2400)}\r\n-------tidE0001#\r\n`, 'latin1');
  const streams = {
    'body limit 4000': Buffer.concat([...frames.slice(0, 5), large, frames[5]!]),
    'body limit 256': Buffer.concat([...frames.slice(0, 4), golden('2.6-bind-200.msrp')]),
  };
  const limits = { 'body limit 4000': { maxBodyBytes: 4000 }, 'body limit 256': { maxBodyBytes: 256 } };

  it('the one-read parse has the expected frames and diagnostics', () => {
    const stream = streams['body limit 256'];
    const items = parseAll(stream, new MsrpStreamParser(limits['body limit 256']));
    expect(Buffer.concat(items.map((i) => i.raw)).equals(stream)).to.equal(true);
    expect(items.map((i) => i.diagnostics.map((d) => d.code))).to.deep.equal([
      ['MSRP_BYTE_RANGE_MISMATCH'],
      ['MSRP_ENDLINE_MISMATCH'],
      ['MSRP_GARBAGE'],
      [],
      ['MSRP_ENDLINE_MISMATCH'],
      ['MSRP_GARBAGE'],
      [],
    ]);
    expect((items[1]!.frame as MsrpRequest).body!.length).to.equal(120);
    expect((items[4]!.frame as MsrpRequest).body!.toString()).to.equal('z'.repeat(150));
  });

  for (const label of ['body limit 4000', 'body limit 256'] as const) {
    it(`${label}: two-read splits at every offset, 1-byte reads and random splits parse identically`, () => {
      const stream = streams[label];
      const opts = limits[label];
      const ref = shape(parseAll(stream, new MsrpStreamParser(opts)));
      for (let cut = 0; cut <= stream.length; cut++) {
        const parser = new MsrpStreamParser(opts);
        const items = [...parser.push(stream.subarray(0, cut)), ...parser.push(stream.subarray(cut)), ...parser.end()];
        expect(shape(items), `cut at ${cut}`).to.deep.equal(ref);
      }
      const bytewise = new MsrpStreamParser(opts);
      const items: ParsedMsrpFrame[] = [];
      for (let i = 0; i < stream.length; i++) items.push(...bytewise.push(stream.subarray(i, i + 1)));
      expect(shape([...items, ...bytewise.end()]), '1-byte reads').to.deep.equal(ref);
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      for (let round = 0; round < 100; round++) {
        const parser = new MsrpStreamParser(opts);
        const got: ParsedMsrpFrame[] = [];
        for (let at = 0; at < stream.length; ) {
          const n = 1 + Math.floor(rnd() * (round % 2 === 0 ? 60 : 900));
          got.push(...parser.push(stream.subarray(at, at + n)));
          at += n;
        }
        expect(shape([...got, ...parser.end()]), `round ${round}`).to.deep.equal(ref);
      }
    });
  }

  // Bodies over 64 KiB, so reads of 32 KiB or more are kept by reference (the carry across seams is
  // then searched on its own) and small ones are copied into the tail; the seams are put at every
  // offset around each own-id needle, near-miss and foreign end-line, and around the Byte-Range end.
  describe('large bodies, reads kept by reference, seams inside end-lines', () => {
    const near = (tid: string) => `\r\n-------${tid}X\r\n-------${tid}`;
    const fill = (n: number, tid: string, every: number) => {
      let out = '';
      while (out.length < n) out += 'q'.repeat(Math.min(every, n - out.length)) + near(tid) + '\r\n-------other02$\r\n';
      return out.slice(0, n);
    };
    const big = [
      // Own end-line at the declared end; near-misses and complete foreign end-lines inside the body.
      `${head('tidL0001', 'Byte-Range: 1-70000/70000\r\n')}${fill(70000, 'tidL0001', 9000)}\r\n-------tidL0001$\r\n`,
      // A foreign end-line exactly at the declared end (MSRP_ENDLINE_MISMATCH), the own one later.
      `${head('tidM0001', 'Byte-Range: 1-66000/*\r\n')}${fill(66000, 'tidM0001', 11000)}\r\n-------other03+\r\n${'y'.repeat(70)}\r\n-------tidM0001$\r\n`,
      // The own end-line after the declared end (MSRP_BYTE_RANGE_MISMATCH).
      `${head('tidN0001', 'Byte-Range: 1-40000/*\r\n')}${fill(68000, 'tidN0001', 13000)}\r\n-------tidN0001#\r\n`,
      // No Byte-Range and no own end-line: at close, the first foreign end-line ends it; the rest is garbage.
      `${head('tidO0001', '')}${'z'.repeat(67000)}\r\n-------foreign9$\r\n${'z'.repeat(300)}\r\n`,
    ].map((t) => Buffer.from(t, 'latin1'));
    const stream = Buffer.concat(big);
    const opts = { maxBodyBytes: 200000 };
    /** Frames, raw bytes, bodies and every field of every diagnostic (bytes as text). */
    const full = (items: ParsedMsrpFrame[]) =>
      items.map((i) => ({
        ...(shape([i])[0] as object),
        diags: i.diagnostics.map((d) => ({ ...d, bytes: d.bytes === undefined ? undefined : Buffer.isBuffer(d.bytes) ? d.bytes.toString('latin1') : d.bytes })),
      }));
    const ref = full(parseAll(stream, new MsrpStreamParser(opts)));
    const reads = (sizes: number[]) => {
      const parser = new MsrpStreamParser(opts);
      const got: ParsedMsrpFrame[] = [];
      let at = 0;
      for (const n of sizes) {
        got.push(...parser.push(stream.subarray(at, at + n)));
        at += n;
      }
      if (at < stream.length) got.push(...parser.push(stream.subarray(at)));
      return full([...got, ...parser.end()]);
    };
    // Every spot where a seam matters: each CRLF-hyphens run, and each frame's declared end.
    const spots: number[] = [];
    for (let p = stream.indexOf('\r\n-------'); p !== -1; p = stream.indexOf('\r\n-------', p + 1)) spots.push(p);

    it('the one-read parse has the expected frames and diagnostics', () => {
      expect(ref.map((i) => i.diags.map((d) => `${d.code}@${d.offset ?? ''}`))).to.deep.equal([
        [],
        [`MSRP_ENDLINE_MISMATCH@${big[1]!.indexOf('-------other03+')}`],
        ['MSRP_GARBAGE@0'],
        ['MSRP_BYTE_RANGE_MISMATCH@'],
        [`MSRP_ENDLINE_MISMATCH@${big[3]!.indexOf('-------foreign9')}`],
        ['MSRP_GARBAGE@0'],
      ]);
    });

    it('two reads cut at every offset around each end-line-like spot', () => {
      for (const spot of spots) {
        for (let d = -3; d <= 46; d++) expect(reads([spot + d]), `cut at ${spot + d}`).to.deep.equal(ref);
      }
    });

    it('a small read straddling each spot between large reads (carry, tail and references mixed)', () => {
      for (const spot of spots) {
        for (let d = -3; d <= 46; d++) {
          for (const n of [1, 2, 20]) expect(reads([spot + d, n, 1, 40000]), `seam at ${spot + d}+${n}`).to.deep.equal(ref);
        }
      }
    });

    it('random read sizes from 1 byte to 70 KiB', () => {
      let seed = 11;
      const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      for (let round = 0; round < 40; round++) {
        const sizes: number[] = [];
        for (let at = 0; at < stream.length; ) {
          const kind = rnd();
          const n = kind < 0.3 ? 1 + Math.floor(rnd() * 4) : kind < 0.5 ? 1 + Math.floor(rnd() * 100) : 32768 + Math.floor(rnd() * 38000);
          sizes.push(n);
          at += n;
        }
        expect(reads(sizes), `round ${round}`).to.deep.equal(ref);
      }
    });
  });

  it('pending() and pendingLength cover the held reads of an unfinished body', () => {
    const frame = Buffer.from(`${head('tidF0001', 'Byte-Range: 1-300/300\r\n')}${'v'.repeat(300)}\r\n-------tidF0001$\r\n`, 'latin1');
    const parser = new MsrpStreamParser();
    for (let at = 0; at < 250; at += 50) expect(parser.push(frame.subarray(at, at + 50))).to.deep.equal([]);
    expect(parser.pendingLength).to.equal(250);
    expect(parser.pending().equals(frame.subarray(0, 250))).to.equal(true);
    const items = parser.push(frame.subarray(250));
    expect(items).to.have.length(1);
    expect(items[0]!.diagnostics).to.deep.equal([]);
    expect(items[0]!.raw.equals(frame)).to.equal(true);
    expect(parser.pendingLength).to.equal(0);
  });
});

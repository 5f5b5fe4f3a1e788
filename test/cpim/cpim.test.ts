import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  buildCpim,
  buildGroupChatMessage,
  CPIM_HEADER_TABLE,
  cpimHeader,
  cpimHeaders,
  headerStart,
  headerUri,
  imdnHeader,
  IMDN_HEADERS_NS,
  parseCpim,
  requestedDispositions,
} from '../../harness/cpim/cpim.ts';
import { parseRfc3339, sameInstant } from '../../harness/cpim/datetime.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/cpim/${name}`, import.meta.url));
const codes = (body: Buffer) => parseCpim(body).diagnostics.map((d) => d.code);

describe('CPIM (RFC 3862)', () => {
  describe('golden samples', () => {
    it('parses the PROTOCOLS §2.7 group message (328 octets) without diagnostics', () => {
      const body = fixture('group-message.cpim');
      expect(body.length).to.equal(328);
      const p = parseCpim(body);
      expect(p.diagnostics).to.deep.equal([]);
      expect(p.headers.map((h) => (h.prefix ? `${h.prefix}.${h.name}` : h.name))).to.deep.equal([
        'From',
        'To',
        'DateTime',
        'NS',
        'imdn.Message-ID',
        'imdn.Disposition-Notification',
      ]);
      expect(cpimHeader(p, 'From')?.value).to.equal('<sip:+15551230001@ims.example.net>');
      expect(imdnHeader(p, 'Message-ID')?.value).to.equal('Msg7hQ2xLp0aZ');
      expect(imdnHeader(p, 'Message-ID')?.namespace).to.equal(IMDN_HEADERS_NS);
      expect([...requestedDispositions(p)]).to.deep.equal(['positive-delivery', 'display']);
      expect(p.mime.contentType).to.equal('text/plain; charset=utf-8');
      expect(p.content.toString()).to.equal('Hi all, see you at 8');
      expect(p.headers[0]!.raw.toString()).to.equal('From: <sip:+15551230001@ims.example.net>');
    });

    it('every header raw is exactly its line, at its offset, also with UTF-8, parameters and an undeclared prefix', () => {
      const body = Buffer.from(
        'From: "Zoë" <sip:+15551230001@ims.example.net>\r\nx.Foo: bar\r\nSubject:;lang=fr Objet ë\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: M1\r\n\r\nContent-Type: text/plain\r\n\r\nhi',
        'utf8',
      );
      const p = parseCpim(body);
      const lines = body.toString('utf8').split('\r\n\r\n')[0]!.split('\r\n');
      expect(p.headers.map((h) => h.raw.toString('utf8'))).to.deep.equal(lines);
      for (const h of p.headers) expect(body.subarray(h.offset, h.offset + h.raw.length).equals(h.raw)).to.equal(true);
      expect(p.headers[2]!.params).to.deep.equal([{ name: 'lang', value: 'fr' }]);
      expect(p.headers[1]!.prefix).to.equal('x');
      expect(p.headers[1]!.namespace).to.equal(undefined);
      expect('prefix' in p.headers[0]!).to.equal(false);
    });

    it('a MIME header folded over lines is unfolded; its raw spans all its lines', () => {
      const body = Buffer.from('From: <sip:a@b>\r\nTo: <sip:c@d>\r\nDateTime: 2024-05-06T09:15:03Z\r\n\r\nContent-Type: text/plain;\r\n charset=utf-8\r\nContent-Length: 2\r\n\r\nhi', 'latin1');
      const p = parseCpim(body);
      expect(p.mime.headers.map((h) => [h.name, h.value, h.offset, h.raw.toString('latin1')])).to.deep.equal([
        ['Content-Type', 'text/plain; charset=utf-8', 66, 'Content-Type: text/plain;\r\n charset=utf-8'],
        ['Content-Length', '2', 109, 'Content-Length: 2'],
      ]);
      expect(p.mime.contentType).to.equal('text/plain; charset=utf-8');
      expect(p.diagnostics).to.deep.equal([]);
    });

    it('builds the §2.7 group message byte-identically', () => {
      const built = buildGroupChatMessage({
        from: 'sip:+15551230001@ims.example.net',
        to: 'sip:grp.7c1e9a@cpm-pf.example.net',
        dateTime: new Date('2024-05-06T09:15:03.000Z'),
        imdnMessageId: 'Msg7hQ2xLp0aZ',
        dispositionNotification: ['positive-delivery', 'display'],
        text: 'Hi all, see you at 8',
      });
      expect(built.equals(fixture('group-message.cpim'))).to.equal(true);
    });

    it('parses the §2.9 and §2.10 notifications (713 and 711 octets)', () => {
      for (const [name, length] of [['imdn-delivery.cpim', 713], ['imdn-display.cpim', 711]] as const) {
        const p = parseCpim(fixture(name));
        expect(fixture(name).length).to.equal(length);
        expect(p.diagnostics, name).to.deep.equal([]);
        expect(p.mime.contentDisposition).to.equal('notification');
        expect(p.mime.contentType).to.equal('message/imdn+xml');
      }
    });

    it('round-trips: building from the parsed parts gives the same bytes', () => {
      const original = fixture('group-message.cpim');
      const p = parseCpim(original);
      const rebuilt = buildCpim({
        from: cpimHeader(p, 'From')!.value,
        to: cpimHeaders(p, 'To').map((h) => h.value),
        dateTime: cpimHeader(p, 'DateTime')!.value,
        ns: [{ prefix: 'imdn', uri: p.namespaces.get('imdn')! }],
        headers: p.headers.filter((h) => h.prefix === 'imdn').map((h) => ({ name: `${h.prefix}.${h.name}`, value: h.value })),
        contentType: p.mime.contentType!,
        content: p.content,
      });
      expect(rebuilt.equals(original)).to.equal(true);
    });
  });

  describe('header table (each example line is a golden test)', () => {
    for (const row of CPIM_HEADER_TABLE) {
      it(`accepts "${row.example}"`, () => {
        const body = Buffer.from(
          `From: <sip:a@example.net>\r\nTo: <sip:b@example.net>\r\nDateTime: 2024-05-06T09:15:03Z\r\nNS: imdn <urn:ietf:params:imdn>\r\n${row.example}\r\n\r\nContent-Type: text/plain\r\n\r\nx`,
        );
        const p = parseCpim(body);
        expect(p.diagnostics).to.deep.equal([]);
        const header = p.headers[4]!;
        expect(header.namespace).to.equal(row.namespace);
        expect(header.name).to.equal(row.name);
        expect(header.raw.toString()).to.equal(row.example);
      });
    }
  });

  describe('header syntax', () => {
    it('reads RFC 3862 §3.3 parameters between the colon and the value', () => {
      const p = parseCpim(Buffer.from('From: <sip:a@x>\r\nTo: <sip:b@x>\r\nDateTime: 2024-05-06T09:15:03Z\r\nSubject:;lang=fr;x="a b" Objet du message\r\n\r\nContent-Type: text/plain\r\n\r\n'));
      const subject = cpimHeader(p, 'Subject')!;
      expect(subject.params).to.deep.equal([{ name: 'lang', value: 'fr' }, { name: 'x', value: 'a b' }]);
      expect(subject.value).to.equal('Objet du message');
      expect(p.diagnostics).to.deep.equal([]);
    });

    it('resolves any prefix bound to the IMDN namespace', () => {
      const p = parseCpim(Buffer.from('From: <sip:a@x>\r\nTo: <sip:b@x>\r\nDateTime: 2024-05-06T09:15:03Z\r\nNS: x <urn:ietf:params:imdn>\r\nx.Message-ID: abc\r\n\r\nContent-Type: text/plain\r\n\r\n'));
      expect(imdnHeader(p, 'Message-ID')?.value).to.equal('abc');
      expect(p.diagnostics).to.deep.equal([]);
    });

    it('keeps content byte-exact, including CRLF and non-ASCII octets', () => {
      const content = Buffer.from('line1\r\nline2\n\u00e9\r\n', 'utf8');
      const body = buildCpim({ from: 'sip:a@x', to: 'sip:b@x', dateTime: '2024-05-06T09:15:03Z', contentType: 'text/plain; charset=utf-8', content });
      const p = parseCpim(body);
      expect(p.content.equals(content)).to.equal(true);
      expect(p.diagnostics).to.deep.equal([]);
    });
  });

  describe('malformed samples (one per diagnostic)', () => {
    const cases: [string, string][] = [
      ['undeclared-prefix.cpim', 'CPIM_UNDECLARED_PREFIX'],
      ['missing-from.cpim', 'CPIM_MISSING_HEADER'],
      ['bad-header-line.cpim', 'CPIM_BAD_HEADER_LINE'],
      ['bare-lf.cpim', 'CPIM_BARE_LF'],
      ['missing-content-type.cpim', 'CPIM_MISSING_CONTENT_TYPE'],
      ['content-length-mismatch.cpim', 'CPIM_CONTENT_LENGTH_MISMATCH'],
      ['bad-datetime.cpim', 'CPIM_BAD_DATETIME'],
      ['disposition-in-cpim-headers.cpim', 'CPIM_DISPOSITION_IN_CPIM_HEADERS'],
      ['header-too-long.cpim', 'CPIM_HEADER_TOO_LONG'],
    ];
    for (const [file, code] of cases) {
      it(`${file} → ${code}`, () => {
        expect(codes(fixture(`malformed/${file}`))).to.include(code);
      });
    }

    it('reports the offending bytes and offset', () => {
      const body = fixture('malformed/bad-header-line.cpim');
      const d = parseCpim(body).diagnostics.find((x) => x.code === 'CPIM_BAD_HEADER_LINE')!;
      expect(d.bytes.toString()).to.equal('To<sip:grp.7c1e9a@cpm-pf.example.net>');
      expect(body.subarray(d.offset!, d.offset! + d.bytes.length).equals(d.bytes)).to.equal(true);
    });

    it('a header line over cpimHeaderBytes is reported and skipped; under a higher limit the padded From still parses', () => {
      const body = fixture('malformed/header-too-long.cpim');
      const limited = parseCpim(body);
      expect(limited.diagnostics.map((d) => d.code)).to.deep.equal(['CPIM_HEADER_TOO_LONG', 'CPIM_MISSING_HEADER']);
      expect(limited.diagnostics[0]!.offset).to.equal(0);
      const lifted = parseCpim(body, { limits: { cpimHeaderBytes: 10_000 } });
      expect(lifted.diagnostics).to.deep.equal([]);
      expect(headerUri(cpimHeader(lifted, 'From')!.value)).to.equal('sip:+15551230001@ims.example.net');
    });

    it('[Formal-name] <URI> values: one < only, the > last, no space inside', () => {
      expect(headerUri('"Weekend group" <sip:grp@x>')).to.equal('sip:grp@x');
      expect(headerUri('  <sip:a@x>')).to.equal('sip:a@x');
      expect(headerUri('sip:bare@x ')).to.equal('sip:bare@x');
      const check = (value: string) => codes(Buffer.from(`From: ${value}\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\n`));
      for (const bad of ['<sip:a@x> trailing', 'a <b> <sip:a@x>', '<sip:a @x>', '<>', ' '.repeat(3000)]) expect(check(bad), bad).to.include('CPIM_BAD_HEADER_VALUE');
      expect(check('Alice <sip:a@x>')).to.not.include('CPIM_BAD_HEADER_VALUE');
    });

    it('N22 disposition in the CPIM block is a warning, not an error', () => {
      const d = parseCpim(fixture('malformed/disposition-in-cpim-headers.cpim')).diagnostics.find((x) => x.code === 'CPIM_DISPOSITION_IN_CPIM_HEADERS')!;
      expect(d.severity).to.equal('warning');
    });

    it('still parses a bare-LF body leniently', () => {
      const p = parseCpim(fixture('malformed/bare-lf.cpim'));
      expect(imdnHeader(p, 'Message-ID')?.value).to.equal('Msg7hQ2xLp0aZ');
      expect(p.content.toString()).to.equal('Hi all, see you at 8');
    });

    it('never throws on truncated or garbage input', () => {
      const sample = fixture('group-message.cpim');
      for (let cut = 0; cut <= sample.length; cut += 7) expect(() => parseCpim(sample.subarray(0, cut))).not.to.throw();
      expect(codes(Buffer.from([0xff, 0x00, 0x3a, 0x0a]))).to.include('CPIM_BAD_HEADER_LINE');
      expect(codes(Buffer.alloc(0))).to.include('CPIM_NO_HEADER_END');
    });

    it('requires DateTime when the message requests IMDNs (RFC 5438 §7.1.1.1), only recommends it otherwise (an IMDN too)', () => {
      const requesting = parseCpim(
        Buffer.from('From: <sip:a@x>\r\nTo: <sip:b@x>\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: a\r\nimdn.Disposition-Notification: positive-delivery\r\n\r\nContent-Type: text/plain\r\n\r\n'),
      );
      const notification = parseCpim(Buffer.from('From: <sip:a@x>\r\nTo: <sip:b@x>\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: a\r\n\r\nContent-Type: message/imdn+xml\r\n\r\n'));
      const plain = parseCpim(Buffer.from('From: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\n'));
      expect(requesting.diagnostics.find((d) => d.code === 'CPIM_MISSING_HEADER')?.severity).to.equal('error');
      expect(notification.diagnostics.find((d) => d.code === 'CPIM_MISSING_HEADER')?.severity).to.equal('warning');
      expect(plain.diagnostics.find((d) => d.code === 'CPIM_MISSING_HEADER')?.severity).to.equal('warning');
    });
  });

  describe('RFC 3339 DateTime', () => {
    it('compares instants across offsets and fraction formats', () => {
      expect(sameInstant('2024-05-06T11:15:03+02:00', '2024-05-06T09:15:03.000Z')).to.equal(true);
      expect(sameInstant('2024-05-06T09:15:03Z', '2024-05-06T09:15:03.001Z')).to.equal(false);
    });
    it('rejects out-of-range fields', () => {
      expect(parseRfc3339('2024-02-30T00:00:00Z')).to.equal(undefined);
      expect(parseRfc3339('2023-02-29T00:00:00Z')).to.equal(undefined);
      expect(parseRfc3339('2024-02-29T00:00:00Z')?.epochMicros).to.equal(Date.UTC(2024, 1, 29) * 1000);
      expect(parseRfc3339('1900-02-29T00:00:00Z')).to.equal(undefined);
      expect(parseRfc3339('2024-05-06 09:15:03Z')).to.equal(undefined);
      expect(parseRfc3339('2024-05-06T24:00:00Z')).to.equal(undefined);
    });
    it('the scanner agrees with the RFC 3339 §5.6 grammar on every one-character edit of valid values', () => {
      // The grammar as a regular expression, with the range checks the scanner also applies.
      const grammar = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
      const reference = (text: string): number | undefined => {
        const m = grammar.exec(text);
        if (!m) return undefined;
        const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
        const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
        const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
        if (mo < 1 || mo > 12 || d < 1 || d > days! || h > 23 || mi > 59 || s > 60) return undefined;
        let offset = 0;
        if (m[8] !== 'Z' && m[8] !== 'z') {
          const oh = Number(m[8]!.slice(1, 3));
          const om = Number(m[8]!.slice(4, 6));
          if (oh > 23 || om > 59) return undefined;
          offset = (m[8]![0] === '-' ? -1 : 1) * (oh * 60 + om);
        }
        const fraction = m[7] ? Number(`0${m[7]}`) : 0;
        return (Date.UTC(y, mo - 1, d, h, mi, s) - offset * 60_000) * 1000 + Math.floor(fraction * 1e6 + 1e-6);
      };
      const seeds = ['2024-05-06T09:15:03.000Z', '2024-05-06t11:15:03+02:00', '2024-02-29T23:59:60.123456789-11:30', '1999-12-31T00:00:00z'];
      const edits = ['', '0', '9', '-', ':', '.', 'T', 'Z', '+', ' ', 'x', '1'];
      let compared = 0;
      for (const seed of seeds) {
        for (let i = 0; i <= seed.length; i++) {
          for (const e of edits) {
            for (const text of [seed.slice(0, i) + e + seed.slice(i + 1), seed.slice(0, i) + e + seed.slice(i)]) {
              expect(parseRfc3339(text)?.epochMicros, text).to.equal(reference(text));
              compared++;
            }
          }
        }
      }
      expect(compared).to.be.greaterThan(2000);
    });
    it('fractions of up to six digits (summed as integers) read exactly as the decimal reading of every length', () => {
      const reading = (digits: string): number => Math.floor(Number(`0.${digits}`) * 1e6 + 1e-6);
      const base = Date.UTC(2024, 4, 6, 9, 15, 3) * 1000;
      for (let k = 1; k <= 4; k++) {
        for (let v = 0; v < 10 ** k; v++) {
          const digits = String(v).padStart(k, '0');
          expect(parseRfc3339(`2024-05-06T09:15:03.${digits}Z`)?.epochMicros, digits).to.equal(base + reading(digits));
        }
      }
      fc.assert(
        fc.property(fc.stringMatching(/^[0-9]{5,12}$/), (digits) => parseRfc3339(`2024-05-06T09:15:03.${digits}Z`)?.epochMicros === base + reading(digits)),
        { numRuns: 5000 },
      );
      expect(parseRfc3339('2024-05-06T09:15:03.9999999999999999999Z')?.epochMicros).to.equal(base + 1_000_000);
    });
  });
});

describe('cpim: the header-start scan', () => {
  const NAME = "[A-Za-z0-9!#$%&'*+\\-^_`|~]+";
  const reference = new RegExp(`^(?:(${NAME})\\.)?(${NAME}):`);
  const viaRegex = (text: string) => {
    const m = reference.exec(text);
    return m ? { prefix: m[1], name: m[2]!, end: m[0].length } : null;
  };

  it('finds what ^(?:(NAME)\\.)?(NAME): matches, on every table example and random lines', () => {
    for (const row of CPIM_HEADER_TABLE) expect(headerStart(row.example), row.example).to.deep.equal(viaRegex(row.example));
    for (const text of ['a:', 'a.b:', '.a:', 'a.:', 'a..b:', 'a.b.c:', ':x', 'a b:', 'imdn.Message-ID: x', 'Subject:;lang=fr x', 'é:x', 'a.é:', '']) {
      expect(headerStart(text), text).to.deep.equal(viaRegex(text));
    }
    const alphabet = fc.constantFrom('a', 'Z', '0', '-', '~', '.', ':', ' ', ';', '=', '"', 'é', '\t', '<');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }).map((cs) => cs.join('')), (text) => {
        expect(headerStart(text)).to.deep.equal(viaRegex(text));
      }),
      { numRuns: 5000, seed: 11 },
    );
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { buildGroupChatMessage, parseCpim } from '../../harness/cpim/cpim.ts';
import { buildImdn, buildImdnMessage, IMDN_STATUSES, parseImdnXml, type ImdnKind, type ImdnOptions } from '../../harness/imdn/imdn.ts';
import { validateWithXmllint, xmllintAvailable } from '../../harness/xml/xmllint.ts';

const read = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));
const schema = fileURLToPath(new URL('../../fixtures/schemas/imdn.xsd', import.meta.url));

const delivery: ImdnOptions = {
  messageId: 'Msg7hQ2xLp0aZ',
  datetime: '2024-05-06T09:15:03.000Z',
  recipientUri: 'sip:+15551230002@ims.example.net',
  originalRecipientUri: 'sip:grp.7c1e9a@cpm-pf.example.net',
  kind: 'delivery',
  status: 'delivered',
};

describe('IMDN (RFC 5438)', () => {
  describe('golden samples', () => {
    it('builds the §2.9 delivery XML byte-identically (439 octets)', () => {
      const xml = buildImdn(delivery);
      expect(Buffer.byteLength(xml)).to.equal(439);
      expect(Buffer.from(xml).equals(read('imdn/delivery.xml'))).to.equal(true);
    });

    it('builds the §2.10 display XML byte-identically (437 octets)', () => {
      expect(Buffer.from(buildImdn({ ...delivery, kind: 'display', status: 'displayed' })).equals(read('imdn/display.xml'))).to.equal(true);
    });

    it('builds the whole §2.9 CPIM notification byte-identically (713 octets)', () => {
      const body = buildImdnMessage({
        from: 'sip:+15551230002@ims.example.net',
        to: 'sip:+15551230001@ims.example.net',
        imdnMessageId: 'Dn4kq81ZtRw2',
        dateTime: '2024-05-06T09:20:41.000Z',
        imdn: delivery,
      });
      expect(body.equals(read('cpim/imdn-delivery.cpim'))).to.equal(true);
    });

    it('parses the golden samples into their fields without diagnostics', () => {
      const p = parseImdnXml(read('imdn/delivery.xml'));
      expect(p).to.deep.equal({
        diagnostics: [],
        messageId: 'Msg7hQ2xLp0aZ',
        datetime: '2024-05-06T09:15:03.000Z',
        recipientUri: 'sip:+15551230002@ims.example.net',
        originalRecipientUri: 'sip:grp.7c1e9a@cpm-pf.example.net',
        kind: 'delivery',
        status: 'delivered',
      });
      expect(parseImdnXml(read('imdn/display.xml'))).to.include({ kind: 'display', status: 'displayed' });
    });

    it('round-trips build → parse → build', () => {
      for (const kind of ['delivery', 'display', 'processing'] as ImdnKind[]) {
        for (const status of IMDN_STATUSES[kind]) {
          const xml = buildImdn({ ...delivery, kind, status });
          const p = parseImdnXml(xml);
          expect(p.diagnostics, `${kind}/${status}`).to.deep.equal([]);
          const again = buildImdn({ messageId: p.messageId!, datetime: p.datetime!, recipientUri: p.recipientUri!, originalRecipientUri: p.originalRecipientUri!, kind: p.kind!, status: p.status! });
          expect(again).to.equal(xml);
        }
      }
    });

    it('keeps message-id "0123" a string', () => {
      expect(parseImdnXml(buildImdn({ ...delivery, messageId: '0123' })).messageId).to.equal('0123');
    });
  });

  describe('schema validation with xmllint', function () {
    before(function () {
      if (!xmllintAvailable()) {
        if (process.env.CI === 'true') throw new Error('xmllint is required in CI (Debian libxml2-utils)');
        this.skip(); // xmllint (libxml2-utils) is not installed on this machine
      }
    });

    it('every IMDN we build validates against fixtures/schemas/imdn.xsd', () => {
      const variants: ImdnOptions[] = [];
      for (const kind of ['delivery', 'display', 'processing'] as ImdnKind[]) {
        for (const status of IMDN_STATUSES[kind]) variants.push({ ...delivery, kind, status });
      }
      variants.push({ messageId: 'a', datetime: '2024-05-06T09:15:03Z', kind: 'delivery', status: 'delivered' });
      variants.push({ ...delivery, subject: 'Hi & <bye>' });
      for (const v of variants) {
        const outcome = validateWithXmllint(buildImdn(v), schema);
        expect(outcome.available && outcome.valid, JSON.stringify(v) + (outcome.available ? outcome.output : '')).to.equal(true);
      }
    });

    it('the schema rejects what our parser rejects (order, status, pairing, namespace)', () => {
      for (const file of ['wrong-order', 'bad-status', 'two-notifications', 'recipient-without-original', 'wrong-namespace', 'missing-message-id']) {
        const outcome = validateWithXmllint(read(`imdn/malformed/${file}.xml`), schema);
        expect(outcome.available && !outcome.valid, file).to.equal(true);
      }
    });
  });

  describe('malformed and hostile documents', () => {
    const cases: [string, string][] = [
      ['doctype-billion-laughs', 'XML_DOCTYPE_FORBIDDEN'],
      ['external-entity', 'XML_DOCTYPE_FORBIDDEN'],
      ['public-doctype', 'XML_DOCTYPE_FORBIDDEN'],
      ['wrong-namespace', 'IMDN_WRONG_NAMESPACE'],
      ['wrong-order', 'IMDN_ELEMENT_ORDER'],
      ['two-notifications', 'IMDN_MULTIPLE_NOTIFICATIONS'],
      ['bad-status', 'IMDN_BAD_STATUS'],
      ['missing-message-id', 'IMDN_MISSING_ELEMENT'],
      ['recipient-without-original', 'IMDN_RECIPIENT_PAIR'],
      ['not-well-formed', 'XML_MALFORMED'],
    ];
    for (const [file, code] of cases) {
      it(`${file}.xml → ${code}`, () => {
        const p = parseImdnXml(read(`imdn/malformed/${file}.xml`));
        expect(p.diagnostics.map((d) => d.code)).to.include(code);
      });
    }

    it('never expands entities from a DOCTYPE (nothing is parsed at all)', () => {
      const p = parseImdnXml(read('imdn/malformed/doctype-billion-laughs.xml'));
      expect(p.messageId).to.equal(undefined);
      expect(p.diagnostics.map((d) => d.code)).to.include('XML_ENTITY_DECLARATION');
    });

    it('decodes predefined entities and rejects a wrong root', () => {
      expect(parseImdnXml(buildImdn({ ...delivery, messageId: 'a&amp;b' })).messageId).to.equal('a&amp;b');
      expect(parseImdnXml('<x xmlns="urn:ietf:params:xml:ns:imdn"/>').diagnostics.map((d) => d.code)).to.include('IMDN_WRONG_ROOT');
    });

    it('never throws on truncated input or garbage', () => {
      const xml = read('imdn/delivery.xml');
      for (let cut = 0; cut <= xml.length; cut += 11) expect(() => parseImdnXml(xml.subarray(0, cut))).not.to.throw();
      expect(parseImdnXml(Buffer.from([0xc3, 0x28])).diagnostics.map((d) => d.code)).to.include('XML_NOT_UTF8');
    });
  });

  it('a notification built for a group message parses cleanly as CPIM', () => {
    const original = parseCpim(
      buildGroupChatMessage({ from: 'sip:a@x', to: 'sip:g@x', dateTime: '2024-05-06T09:15:03Z', imdnMessageId: 'm1', dispositionNotification: ['positive-delivery'], text: 'x' }),
    );
    expect(original.diagnostics).to.deep.equal([]);
    const body = buildImdnMessage({ from: 'sip:b@x', to: 'sip:a@x', imdnMessageId: 'n1', dateTime: new Date(0), imdn: { messageId: 'm1', datetime: '2024-05-06T09:15:03Z', kind: 'delivery', status: 'delivered' } });
    const p = parseCpim(body);
    expect(p.diagnostics).to.deep.equal([]);
    expect(parseImdnXml(p.content).diagnostics).to.deep.equal([]);
  });
});

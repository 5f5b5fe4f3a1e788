import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  applyConferenceUpdate,
  buildConferenceInfo,
  conferenceNotifyBody,
  parseConferenceInfo,
  participantEntities,
  type ConferenceInfo,
} from '../../harness/conference/conference-info.ts';
import { validateWithXmllint, xmllintAvailable } from '../../harness/xml/xmllint.ts';

const read = (path: string) => readFileSync(new URL(`../../fixtures/conference/${path}`, import.meta.url));
const schema = fileURLToPath(new URL('../../fixtures/schemas/conference-info.xsd', import.meta.url));

const A = 'sip:+15551230001@ims.example.net';
const B = 'sip:+15551230002@ims.example.net';
const C = 'sip:+15551230003@ims.example.net';

/** The PROTOCOLS §2.11 NOTIFY document. */
const full: ConferenceInfo = {
  entity: 'sip:grp.7c1e9a@cpm-pf.example.net',
  state: 'full',
  version: 1,
  description: { subject: 'Weekend plans' },
  users: [
    { entity: A, state: 'full', displayText: 'Alice', endpoints: [{ entity: A, status: 'connected' }] },
    { entity: B, state: 'full', endpoints: [{ entity: B, status: 'connected' }] },
    { entity: C, state: 'full', displayText: 'Carol', endpoints: [{ entity: C, status: 'disconnected', disconnectionMethod: 'departed' }] },
  ],
};

describe('conference-info (RFC 4575)', () => {
  it('builds the §2.11 document byte-identically (1052 octets)', () => {
    const { body, contentType } = conferenceNotifyBody(full);
    expect(contentType).to.equal('application/conference-info+xml');
    expect(body.length).to.equal(1052);
    expect(body.equals(read('full.xml'))).to.equal(true);
  });

  it('parses the §2.11 document back into the same model (round trip)', () => {
    const { doc, diagnostics } = parseConferenceInfo(read('full.xml'));
    expect(diagnostics).to.deep.equal([]);
    expect(doc).to.deep.equal(full);
    expect(buildConferenceInfo(doc!)).to.equal(read('full.xml').toString());
  });

  it('robustness variants (N7, N28) leave out state, user@entity or the description', () => {
    const noState = buildConferenceInfo(full, { omitState: true });
    expect(noState).not.to.match(/<conference-info[^>]*state=/);
    expect(parseConferenceInfo(noState).doc?.state).to.equal(undefined);
    const noEntity = buildConferenceInfo(full, { omitUserEntity: true });
    expect(noEntity).not.to.match(/<user entity=/);
    expect(parseConferenceInfo(noEntity).doc?.users?.[0]?.entity).to.equal(undefined);
    const noDescription = buildConferenceInfo(full, { omitConferenceDescription: true });
    expect(noDescription).not.to.include('conference-description');
  });

  describe('schema validation with xmllint', function () {
    before(function () {
      if (!xmllintAvailable()) {
        if (process.env.CI === 'true') throw new Error('xmllint is required in CI (Debian libxml2-utils)');
        this.skip(); // xmllint (libxml2-utils) is not installed on this machine
      }
    });

    it('full, partial and all robustness variants validate against fixtures/schemas/conference-info.xsd', () => {
      const partial: ConferenceInfo = {
        entity: full.entity,
        state: 'partial',
        version: 2,
        users: [
          { entity: C, state: 'deleted' },
          { entity: 'sip:+15551230004@ims.example.net', displayText: 'Dave & co', roles: ['participant'], endpoints: [{ entity: 'sip:+15551230004@ims.example.net', status: 'connected', joiningMethod: 'dialed-in' }] },
        ],
      };
      const docs = [
        buildConferenceInfo(full),
        buildConferenceInfo(partial),
        buildConferenceInfo(full, { omitState: true }),
        buildConferenceInfo(full, { omitUserEntity: true }),
        buildConferenceInfo(full, { omitConferenceDescription: true }),
        buildConferenceInfo({ entity: full.entity, state: 'deleted', version: 3 }),
      ];
      for (const xml of docs) {
        const outcome = validateWithXmllint(xml, schema);
        expect(outcome.available && outcome.valid, xml + (outcome.available ? outcome.output : '')).to.equal(true);
      }
    });

    it('the schema also rejects the malformed samples', () => {
      for (const file of ['missing-entity', 'bad-state']) {
        const outcome = validateWithXmllint(read(`malformed/${file}.xml`), schema);
        expect(outcome.available && !outcome.valid, file).to.equal(true);
      }
    });
  });

  describe('malformed and hostile documents', () => {
    const cases: [string, string][] = [
      ['doctype', 'XML_DOCTYPE_FORBIDDEN'],
      ['missing-entity', 'CONF_MISSING_ENTITY'],
      ['bad-state', 'CONF_BAD_VALUE'],
    ];
    for (const [file, code] of cases) {
      it(`${file}.xml → ${code}`, () => {
        expect(parseConferenceInfo(read(`malformed/${file}.xml`)).diagnostics.map((d) => d.code)).to.include(code);
      });
    }

    it('flags a bad version, a bad endpoint status and out-of-order children; never throws', () => {
      const xml = read('full.xml').toString().replace('version="1"', 'version="-1"').replace('<status>connected</status>', '<status>online</status>');
      const codes = parseConferenceInfo(xml).diagnostics.map((d) => d.code);
      expect(codes).to.include.members(['CONF_BAD_VERSION', 'CONF_BAD_VALUE']);
      const reordered = read('full.xml').toString().replace(/(<conference-description>[\s\S]*<\/conference-description>\r\n)([\s\S]*<\/users>\r\n)/, '$2$1');
      expect(parseConferenceInfo(reordered).diagnostics.map((d) => d.code)).to.include('CONF_ELEMENT_ORDER');
      const bytes = read('full.xml');
      for (let cut = 0; cut <= bytes.length; cut += 13) expect(() => parseConferenceInfo(bytes.subarray(0, cut))).not.to.throw();
    });
  });

  describe('applyConferenceUpdate (RFC 4575 §4.6)', () => {
    it('N8: a later full document replaces the view (a missing participant is gone)', () => {
      const next: ConferenceInfo = { ...full, version: 2, users: full.users!.slice(0, 2) };
      const { doc, applied } = applyConferenceUpdate(full, next);
      expect(applied).to.equal(true);
      expect(participantEntities(doc)).to.deep.equal([A, B]);
    });

    it('a partial document deletes, adds and merges users and endpoints by entity', () => {
      const next: ConferenceInfo = {
        entity: full.entity,
        state: 'partial',
        version: 2,
        users: [
          { entity: C, state: 'deleted' },
          { entity: B, state: 'partial', displayText: 'Bob', endpoints: [{ entity: B, state: 'partial', status: 'disconnected' }] },
          { entity: 'sip:d@x', state: 'full' },
        ],
      };
      const { doc, diagnostics } = applyConferenceUpdate(full, next);
      expect(diagnostics).to.deep.equal([]);
      expect(doc.state).to.equal('full');
      expect(doc.version).to.equal(2);
      expect(participantEntities(doc)).to.deep.equal([A, B, 'sip:d@x']);
      const bob = doc.users!.find((u) => u.entity === B)!;
      expect(bob.displayText).to.equal('Bob');
      expect(bob.endpoints).to.deep.equal([{ entity: B, status: 'disconnected' }]);
      expect(doc.description).to.deep.equal({ subject: 'Weekend plans' });
    });

    it('discards stale versions and partial documents after a gap', () => {
      expect(applyConferenceUpdate(full, { ...full, version: 1 })).to.include({ applied: false });
      const gap = applyConferenceUpdate(full, { entity: full.entity, state: 'partial', version: 3, users: [] });
      expect(gap.applied).to.equal(false);
      expect(gap.diagnostics.map((d) => d.code)).to.deep.equal(['CONF_VERSION_GAP']);
    });

    it('a document without state counts as full (schema default)', () => {
      const { doc } = applyConferenceUpdate(full, { entity: full.entity, version: 2, users: [{ entity: A }] });
      expect(participantEntities(doc)).to.deep.equal([A]);
    });
  });
});

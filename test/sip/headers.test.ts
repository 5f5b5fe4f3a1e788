import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from '../../harness/core/result.ts';
import { getParam } from '../../harness/sip/lex.ts';
import { formatSipUri, parseSipUri, sipUrisEqual, type SipUri } from '../../harness/sip/uri.ts';
import { encodeIcsi, hasIcsi, parseAcceptContact } from '../../harness/sip/caller-prefs.ts';
import {
  COMPACT_FORMS,
  formatContentType,
  formatCSeq,
  formatEvent,
  formatNameAddr,
  formatSubscriptionState,
  formatWarning,
  HEADERS,
  headerKind,
  type HeaderKind,
  formatVia,
  parseContentType,
  parseCSeq,
  parseEvent,
  parseExpires,
  parseNameAddr,
  parseSubscriptionState,
  parseVia,
  parseWarning,
  tagOf,
} from '../../harness/sip/headers.ts';
import { canonicalHeaderName, headerValues, isListHeader } from '../../harness/sip/message.ts';
import { parseSipMessage } from '../../harness/sip/parser.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ICSI = 'urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session';

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.value;
}

describe('sip headers: every row of the header table parses and formats its examples', () => {
  for (const row of Object.values(HEADERS) as HeaderKind<unknown>[]) {
    it(`${row.name}: ${row.examples.length} example(s) parse clean and round-trip`, () => {
      expect(row.examples, row.name).to.not.have.length(0);
      for (const [i, text] of row.examples.entries()) {
        const parsed = row.parse(text);
        expect(parsed.diagnostics, text).to.deep.equal([]);
        const v = value(parsed);
        const formatted = row.format(v);
        // The first example is canonical and comes back byte for byte; the others mean the same after formatting.
        if (i === 0) expect(formatted).to.equal(text);
        expect(value(row.parse(formatted)), text).to.deep.equal(v);
      }
    });
  }

  it('compact forms and list headers come from the table', () => {
    expect(COMPACT_FORMS.get('v')).to.equal('via');
    expect(COMPACT_FORMS.get('a')).to.equal('accept-contact');
    expect(COMPACT_FORMS.size).to.equal(18);
    expect(canonicalHeaderName('constructor')).to.equal('constructor');
    expect(isListHeader('m')).to.equal(true);
    expect(isListHeader('Subject')).to.equal(false);
    expect(headerKind('VIA')).to.equal(HEADERS.via);
    expect(headerKind('toString')).to.equal(undefined);
  });

  it('typed fields win over params when formatting', () => {
    expect(formatSubscriptionState({ state: 'active', expires: 60, params: [{ name: 'expires', value: '3600' }] })).to.equal('active;expires=60');
    expect(formatSubscriptionState({ state: 'terminated', reason: 'noresource', params: [] })).to.equal('terminated;reason=noresource');
    expect(formatWarning({ code: 399, agent: 'cpm-pf', text: 'say "hi"' })).to.equal('399 cpm-pf "say \\"hi\\""');
    expect(formatCSeq({ seq: 2, method: 'BYE' })).to.equal('2 BYE');
    expect(formatEvent({ package: 'conference', params: [] })).to.equal('conference');
    expect(formatContentType({ type: 'text', subtype: 'plain', params: [{ name: 'charset', value: 'utf-8' }] })).to.equal('text/plain;charset=utf-8');
  });
});

describe('sip headers: params', () => {
  it('getParam is case-insensitive, unquotes, and gives true for flags', () => {
    const v = value(parseNameAddr('<sip:a@b>;TAG=x1;lr;+sip.instance="<urn:uuid:1>"'));
    expect(getParam(v.params, 'tag')).to.equal('x1');
    expect(getParam(v.params, 'LR')).to.equal(true);
    expect(getParam(v.params, '+sip.instance')).to.equal('<urn:uuid:1>');
    expect(getParam(v.params, 'missing')).to.equal(undefined);
    expect(v.params[2]!.value).to.equal('"<urn:uuid:1>"');
  });
});

describe('sip headers: URIs (RFC 3261 §19.1)', () => {
  const good: [string, Partial<SipUri>][] = [
    ['sip:+15551230002@192.0.2.50:5070;transport=tcp', { scheme: 'sip', user: '+15551230002', host: '192.0.2.50', port: 5070 }],
    ['sips:alice:secret@example.com', { scheme: 'sips', user: 'alice', password: 'secret', host: 'example.com' }],
    ['sip:[2001:db8::1]:5061;lr', { host: '[2001:db8::1]', port: 5061 }],
    ['sip:grp.7c1e9a@cpm-pf.example.net', { user: 'grp.7c1e9a', host: 'cpm-pf.example.net' }],
    ['sip:bob@example.com?subject=hi&priority=urgent', { headers: 'subject=hi&priority=urgent' }],
    ['SIP:+1555;phone-context=ims.example.net@example.net;user=phone', { scheme: 'sip', user: '+1555;phone-context=ims.example.net' }],
    ['tel:+1-555-123-0001;phone-context=example.net', { scheme: 'tel', host: '+1-555-123-0001' }],
  ];
  for (const [text, expected] of good) {
    it(`parses ${text}`, () => {
      const u = value(parseSipUri(text));
      expect(u).to.include(expected);
    });
  }

  for (const text of ['sip:', 'http://example.com', 'sip:a@', 'sip:a@b:99999', 'sip:a@b;=x', 'sip:a b@c', 'tel:abc$', 'sip:a@[::1']) {
    it(`rejects ${JSON.stringify(text)} with SIP_BAD_URI`, () => {
      const r = parseSipUri(text);
      expect(r.ok).to.equal(false);
      expect(r.diagnostics.map((d) => d.code)).to.deep.equal(['SIP_BAD_URI']);
    });
  }

  it('formats what it parsed', () => {
    for (const [text] of good.slice(0, 5)) expect(formatSipUri(value(parseSipUri(text)))).to.equal(text);
  });

  // RFC 3261 §19.1.4 examples: equal pairs and unequal pairs.
  const equal: [string, string][] = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['tel:+1-555-123-0001', 'tel:+15551230001'],
  ];
  const unequal: [string, string][] = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sips:bob@biloxi.com'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
  ];
  for (const [a, b] of equal) it(`${a} == ${b}`, () => expect(sipUrisEqual(a, b)).to.equal(true));
  for (const [a, b] of unequal) it(`${a} != ${b}`, () => expect(sipUrisEqual(a, b)).to.equal(false));
});

describe('sip headers: name-addr', () => {
  const cases: [string, { displayName?: string; uri: string; tag?: string }][] = [
    ['<sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1', { uri: 'sip:grp.7c1e9a@cpm-pf.example.net', tag: 'pf-87a1' }],
    ['"Alice \\"A\\" Smith" <sip:alice@example.com>', { displayName: 'Alice "A" Smith', uri: 'sip:alice@example.com' }],
    ['Bob  Smith <sip:bob@example.com;transport=tcp> ; tag = 9', { displayName: 'Bob  Smith', uri: 'sip:bob@example.com;transport=tcp', tag: '9' }],
    ['sip:carol@example.com;tag=77', { uri: 'sip:carol@example.com', tag: '77' }],
    ['<tel:+15551230001>', { uri: 'tel:+15551230001' }],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${text}`, () => {
      const n = value(parseNameAddr(text));
      expect(n.uri).to.equal(expected.uri);
      expect(n.displayName).to.equal(expected.displayName);
      expect(tagOf(text)).to.equal(expected.tag);
    });
  }
  for (const text of ['<sip:a@b', '"unterminated <sip:a@b>', 'no uri here', '<>;tag=1', '<sip:a@b>;tag="x', '<sip:a@b> trailing']) {
    it(`rejects ${JSON.stringify(text)} with SIP_BAD_NAME_ADDR`, () => {
      const r = parseNameAddr(text);
      expect(r.ok).to.equal(false);
      expect(r.diagnostics[0]!.code).to.equal('SIP_BAD_NAME_ADDR');
    });
  }
  it('formats with a quoted display name', () => {
    expect(formatNameAddr({ displayName: 'A "b"', uri: 'sip:a@b', params: [{ name: 'tag', value: '1' }] })).to.equal('"A \\"b\\"" <sip:a@b>;tag=1');
  });
});

describe('sip headers: Via (RFC 3261 §20.42)', () => {
  it('parses branch, received and rport', () => {
    const v = value(parseVia('SIP/2.0/UDP [2001:db8::9]:5062;received=192.0.2.9;rport=5062;branch=z9hG4bKproxy-7'));
    expect(v).to.include({ protocol: 'SIP/2.0', transport: 'UDP', host: '[2001:db8::9]', port: 5062, branch: 'z9hG4bKproxy-7', received: '192.0.2.9', rport: 5062 });
    expect(value(parseVia('SIP/2.0/TCP h;rport')).rport).to.equal(true);
  });
  it('accepts whitespace around the slashes', () => {
    expect(value(parseVia('SIP / 2.0 / TLS h.example.com')).transport).to.equal('TLS');
  });
  for (const text of ['SIP/2.0/TCP', 'SIP/2.0 host', 'SIP/2.0/TCP host:abc', 'SIP/2.0/TCP a, SIP/2.0/TCP b', 'SIP/2.0/TCP h;rport=x']) {
    it(`rejects ${JSON.stringify(text)} with SIP_BAD_VIA`, () => {
      expect(parseVia(text).diagnostics.map((d) => d.code)).to.deep.equal(['SIP_BAD_VIA']);
    });
  }
  it('formats fields over params and appends new ones', () => {
    expect(formatVia({ protocol: 'SIP/2.0', transport: 'TCP', host: '127.0.0.1', port: 5060, params: [], branch: 'z9hG4bK1' })).to.equal(
      'SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1',
    );
    const v = value(parseVia('SIP/2.0/UDP h;rport;branch=z9hG4bKa'));
    expect(formatVia({ ...v, rport: 4000, received: '10.0.0.1' })).to.equal('SIP/2.0/UDP h;rport=4000;branch=z9hG4bKa;received=10.0.0.1');
  });
});

describe('sip headers: simple kinds', () => {
  it('CSeq: number below 2^31 and a method', () => {
    expect(value(parseCSeq('  42   SUBSCRIBE '))).to.deep.equal({ seq: 42, method: 'SUBSCRIBE' });
    expect(parseCSeq('2147483648 INVITE').diagnostics[0]!.clause).to.equal('RFC 3261 §8.1.1.5');
    expect(parseCSeq('1').ok).to.equal(false);
    expect(parseCSeq('x INVITE').diagnostics[0]!.code).to.equal('SIP_BAD_CSEQ');
  });
  it('Event with params', () => {
    expect(value(parseEvent('presence;id=7'))).to.deep.equal({ package: 'presence', params: [{ name: 'id', value: '7' }] });
    expect(parseEvent(';id=1').diagnostics[0]!.code).to.equal('SIP_BAD_EVENT');
  });
  it('Expires is delta-seconds', () => {
    expect(value(parseExpires(' 3600 '))).to.equal(3600);
    expect(parseExpires('Thu, 01 Dec 1994').diagnostics[0]!.code).to.equal('SIP_BAD_EXPIRES');
  });
  it('Subscription-State splits expires, reason and retry-after', () => {
    expect(value(parseSubscriptionState('terminated;reason=noresource;retry-after=30'))).to.include({ state: 'terminated', reason: 'noresource', retryAfter: 30 });
    expect(value(parseSubscriptionState('Active;expires=3600'))).to.include({ state: 'active', expires: 3600 });
    expect(parseSubscriptionState('active;expires=soon').diagnostics[0]!.code).to.equal('SIP_BAD_SUBSCRIPTION_STATE');
  });
  it('Content-Type lower-cases type/subtype and keeps params as written', () => {
    expect(value(parseContentType('Application/SDP'))).to.deep.equal({ type: 'application', subtype: 'sdp', params: [] });
    expect(value(parseContentType('multipart/mixed;boundary="b1"')).params).to.deep.equal([{ name: 'boundary', value: '"b1"' }]);
    expect(parseContentType('text').diagnostics[0]!.code).to.equal('SIP_BAD_CONTENT_TYPE');
  });
  it('Warning: code, agent, unquoted text', () => {
    expect(value(parseWarning('399 192.0.2.50 "Deferred group delivery requires a=sendrecv"'))).to.deep.equal({
      code: 399,
      agent: '192.0.2.50',
      text: 'Deferred group delivery requires a=sendrecv',
    });
    expect(parseWarning('399 agent unquoted').diagnostics[0]!.code).to.equal('SIP_BAD_WARNING');
  });
});

describe('sip headers: Accept-Contact and ICSI (RFC 3840/3841, TS 24.229 §7.2A.8)', () => {
  it('yields both values of an icsi-ref list, still encoded, with require and explicit', () => {
    const ac = value(
      parseAcceptContact(
        '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session.group";require;explicit',
      ),
    );
    expect(ac.require).to.equal(true);
    expect(ac.explicit).to.equal(true);
    expect(ac.params).to.have.length(1);
    expect(ac.params[0]!.values).to.deep.equal([
      'urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session',
      'urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session.group',
    ]);
  });
  it('keeps bare, negated and string-value feature params', () => {
    const ac = value(parseAcceptContact('*;isfocus;audio="!TRUE";+sip.instance="<urn:uuid:1,2>"'));
    expect(ac.params.map((p) => [p.name, p.values, p.negated ?? false])).to.deep.equal([
      ['isfocus', true, false],
      ['audio', ['TRUE'], true],
      ['+sip.instance', ['<urn:uuid:1,2>'], false],
    ]);
    expect(ac.params[1]!.raw).to.equal('audio="!TRUE"');
  });
  it('requires the leading "*"', () => {
    expect(parseAcceptContact('+g.3gpp.icsi-ref="x"').diagnostics[0]!.code).to.equal('SIP_BAD_ACCEPT_CONTACT');
  });

  it('encodes an ICSI canonically', () => {
    expect(encodeIcsi(ICSI)).to.equal('urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session');
  });

  const icsiCases: [string, string, { present: boolean; exactEncoding: boolean; codes: string[] }][] = [
    ['canonical', '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"', { present: true, exactEncoding: true, codes: [] }],
    ['lower-case %3a', '*;+g.3gpp.icsi-ref="urn%3aurn-7%3a3gpp-service.ims.icsi.oma.cpm.session"', { present: true, exactEncoding: false, codes: [] }],
    ['unencoded ":"', '*;+g.3gpp.icsi-ref="urn:urn-7:3gpp-service.ims.icsi.oma.cpm.session"', { present: true, exactEncoding: false, codes: ['SIP_FEATURE_TAG_NOT_ENCODED'] }],
    ['second of a list', '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"', { present: true, exactEncoding: true, codes: [] }],
    ['only the .group subclass', '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session.group"', { present: false, exactEncoding: false, codes: [] }],
    ['case-insensitive tag name', '*;+G.3GPP.ICSI-REF="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"', { present: true, exactEncoding: true, codes: [] }],
    ['other tag', '*;+g.3gpp.iari-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"', { present: false, exactEncoding: false, codes: [] }],
  ];
  for (const [label, text, expected] of icsiCases) {
    it(`hasIcsi: ${label}`, () => {
      const r = hasIcsi([text], ICSI);
      expect({ present: r.present, exactEncoding: r.exactEncoding, codes: r.diagnostics.map((d) => d.code) }).to.deep.equal(expected);
    });
  }

  it('hasIcsi: many unencoded values in one tag give one diagnostic (no diagnostic flood)', () => {
    const r = hasIcsi([`*;+g.3gpp.icsi-ref="${','.repeat(10_000)}urn:x"`], ICSI);
    expect(r.diagnostics.map((d) => d.code)).to.deep.equal(['SIP_FEATURE_TAG_NOT_ENCODED']);
    expect(r.diagnostics[0]!.message).to.contain('and 10000 more values');
  });

  it('finds the ICSI in the golden INVITE and through the compact form a:', () => {
    for (const [dir, file] of [['golden', '2.1-invite.sip'], ['odd', 'compact-forms.sip'], ['odd', 'icsi-list-require-explicit.sip']] as const) {
      const msg = parseSipMessage(readFileSync(join(root, 'fixtures', 'sip', dir, file))).message!;
      expect(hasIcsi(headerValues(msg, 'accept-contact'), ICSI).present, file).to.equal(true);
    }
  });
});

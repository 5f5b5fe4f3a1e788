import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAckForNon2xx, buildCancel, buildRequest, buildResponse, reasonPhrase } from '../../harness/sip/build.ts';
import { tagOf } from '../../harness/sip/headers.ts';
import { headerValue, headerValues, type SipRequest, type SipResponse } from '../../harness/sip/message.ts';
import { parseSipMessage } from '../../harness/sip/parser.ts';
import { serializeSipMessage } from '../../harness/sip/serializer.ts';

const golden = (name: string): Buffer =>
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sip', 'golden', `${name}.sip`));
const request = (name: string): SipRequest => parseSipMessage(golden(name)).message as SipRequest;
const response = (name: string): SipResponse => parseSipMessage(golden(name)).message as SipResponse;

/** Serialize, re-parse and insist on zero diagnostics: what we build is what we would accept. */
function wire(msg: SipRequest | SipResponse): Buffer {
  const bytes = serializeSipMessage(msg);
  expect(parseSipMessage(bytes, { stream: true }).diagnostics.map((d) => d.code)).to.deep.equal([]);
  return bytes;
}

describe('sip build: requests', () => {
  it('reproduces the §2.13 BYE byte for byte', () => {
    const bye = buildRequest({
      method: 'BYE',
      uri: 'sip:+15551230002@192.0.2.50:5070;transport=tcp',
      via: { protocol: 'SIP/2.0', transport: 'TCP', host: '192.0.2.10', port: 5060, params: [], branch: 'z9hG4bKpf-bye-01' },
      from: '<sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1',
      to: '<sip:+15551230002@ims.example.net>;tag=cl-55d0',
      callId: '4f0c2e1a-pf-deferred-01@cpm-pf.example.net',
      cseq: 2,
    });
    expect(wire(bye).equals(golden('2.13-bye'))).to.equal(true);
  });

  it('orders Contact, extra headers, Content-Type and Content-Length, counting octets', () => {
    const req = buildRequest({
      method: 'MESSAGE',
      uri: 'sip:b@example.com',
      via: 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx',
      from: '<sip:a@example.com>;tag=1',
      to: '<sip:b@example.com>',
      callId: 'c1',
      cseq: 7,
      maxForwards: 10,
      contact: '<sip:a@127.0.0.1>',
      headers: [{ name: 'Subject', value: 'hi' }],
      body: 'grüß',
      contentType: 'text/plain;charset=utf-8',
    });
    expect(req.headers.map((h) => h.name)).to.deep.equal(['Via', 'Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Subject', 'Content-Type', 'Content-Length']);
    expect(headerValue(req, 'content-length')).to.equal('6');
    expect(headerValue(req, 'max-forwards')).to.equal('10');
    expect(headerValue(req, 'cseq')).to.equal('7 MESSAGE');
    wire(req);
  });
});

describe('sip build: responses (RFC 3261 §8.2.6.2)', () => {
  it('reproduces the §2.2 100 Trying (no To-tag on 100)', () => {
    expect(wire(buildResponse(request('2.1-invite'), 100)).equals(golden('2.2-100-trying'))).to.equal(true);
  });

  it('reproduces the §2.12 404 with the given To-tag', () => {
    const r = buildResponse(request('2.11-subscribe'), 404, undefined, { toTag: 'pf-s404' });
    expect(wire(r).equals(golden('2.12-404-subscribe'))).to.equal(true);
  });

  it('reproduces the §2.13 200 to BYE (To already tagged: tag kept)', () => {
    const r = buildResponse(request('2.13-bye'), 200, undefined, { toTag: 'ignored' });
    expect(wire(r).equals(golden('2.13-200-bye'))).to.equal(true);
  });

  it('adds a fresh To-tag to a final response, the same in body-carrying variants', () => {
    const r = buildResponse(request('2.1-invite'), 200, undefined, { body: 'v=0\r\n', contentType: 'application/sdp', contact: '<sip:c@h>' });
    expect(tagOf(headerValue(r, 'to')!)).to.match(/^[0-9a-f]{12}$/);
    expect(r.headers.map((h) => h.name)).to.deep.equal(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Type', 'Content-Length']);
    expect(headerValue(r, 'content-length')).to.equal('5');
    expect(r.reason).to.equal('OK');
  });

  it('copies every Via in order, and Record-Route only into 101–299', () => {
    const inv = request('2.1-invite');
    inv.headers.splice(1, 0, { name: 'v', value: 'SIP/2.0/UDP p1;branch=z9hG4bK2, SIP/2.0/UDP p2;branch=z9hG4bK3' });
    inv.headers.push({ name: 'Record-Route', value: '<sip:p1;lr>' }, { name: 'Record-Route', value: '<sip:p2;lr>' });
    const ok = buildResponse(inv, 200);
    expect(headerValues(ok, 'via')).to.deep.equal(headerValues(inv, 'via'));
    expect(headerValues(ok, 'record-route')).to.deep.equal(['<sip:p1;lr>', '<sip:p2;lr>']);
    expect(headerValues(buildResponse(inv, 488), 'record-route')).to.deep.equal([]);
  });

  it('knows the §21 reason phrases and falls back by class', () => {
    expect([100, 180, 200, 404, 481, 487, 488, 489, 606].map(reasonPhrase)).to.deep.equal([
      'Trying', 'Ringing', 'OK', 'Not Found', 'Call/Transaction Does Not Exist', 'Request Terminated', 'Not Acceptable Here', 'Bad Event', 'Not Acceptable',
    ]);
    expect(reasonPhrase(499)).to.equal('Client Error');
    expect(buildResponse(request('2.1-invite'), 488, 'Nope').reason).to.equal('Nope');
  });
});

describe('sip build: CANCEL and ACK', () => {
  it('reproduces the §2.5 ACK to a 488 byte for byte (§17.1.1.3)', () => {
    const ack = buildAckForNon2xx(request('2.1-invite'), response('2.5-488'));
    expect(wire(ack).equals(golden('2.5-ack-488'))).to.equal(true);
  });

  it('ACK and CANCEL take only the top Via and copy Route (§9.1, §17.1.1.3)', () => {
    const inv = request('2.1-invite');
    inv.headers[0] = { name: 'Via', value: 'SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKtop, SIP/2.0/TCP below;branch=z9hG4bKlow' };
    inv.headers.splice(1, 0, { name: 'Route', value: '<sip:pcscf;lr>, <sip:scscf;lr>' });
    for (const msg of [buildCancel(inv), buildAckForNon2xx(inv, response('2.5-488'))]) {
      expect(headerValues(msg, 'via')).to.deep.equal(['SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKtop']);
      expect(headerValues(msg, 'route')).to.deep.equal(['<sip:pcscf;lr>', '<sip:scscf;lr>']);
      expect(msg.uri).to.equal(inv.uri);
      expect(headerValue(msg, 'call-id')).to.equal(headerValue(inv, 'call-id'));
      expect(headerValue(msg, 'from')).to.equal(headerValue(inv, 'from'));
      wire(msg);
    }
    const cancel = buildCancel(inv);
    expect(headerValue(cancel, 'cseq')).to.equal('1 CANCEL');
    expect(headerValue(cancel, 'to')).to.equal(headerValue(inv, 'to'));
  });
});

import { expect } from 'chai';
import { hasErrors } from '../../harness/core/diagnostic.ts';
import { buildResponse } from '../../harness/sip/build.ts';
import { Dialog, dialogIdOf, dialogKey } from '../../harness/sip/dialog.ts';
import { parseVia, tagOf } from '../../harness/sip/headers.ts';
import { headerValue, headerValues } from '../../harness/sip/message.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../harness/sip/message.ts';
import { parseSipMessage } from '../../harness/sip/parser.ts';

function wire(lines: string[]): SipMessage {
  const parsed = parseSipMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  if (parsed.message === null) throw new Error(`test message does not parse: ${parsed.diagnostics.map((d) => d.code).join(',')}`);
  return parsed.message;
}
const request = (lines: string[]): SipRequest => wire(lines) as SipRequest;
const response = (lines: string[]): SipResponse => wire(lines) as SipResponse;

function unwrap<T>(r: { ok: true; value: T } | { ok: false; diagnostics: { code: string }[] }): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.diagnostics.map((d) => d.code).join(',')}`);
  return r.value;
}

// PROTOCOLS.md §2.1 / §2.3, without the SDP bodies: the PF's INVITE and the client's 200.
const INVITE = [
  'INVITE sip:+15551230002@192.0.2.50:5070;transport=tcp SIP/2.0',
  'Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKpf-inv-1a2b3c',
  'Max-Forwards: 70',
  'From: <sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1',
  'To: <sip:+15551230002@ims.example.net>',
  'Call-ID: 4f0c2e1a-pf-deferred-01@cpm-pf.example.net',
  'CSeq: 1 INVITE',
  'Contact: <sip:grp.7c1e9a@cpm-pf.example.net;transport=tcp>;isfocus',
  'Content-Length: 0',
];
const OK_WITH_RR = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKpf-inv-1a2b3c',
  'Record-Route: <sip:p1.example.net;lr>',
  'Record-Route: <sip:p2.example.net;lr>',
  'From: <sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1',
  'To: <sip:+15551230002@ims.example.net>;tag=cl-55d0',
  'Call-ID: 4f0c2e1a-pf-deferred-01@cpm-pf.example.net',
  'CSeq: 1 INVITE',
  'Contact: <sip:+15551230002@192.0.2.50:5070;transport=tcp>',
  'Content-Length: 0',
];

/** A request from the client in the PF's INVITE dialog (client is the remote party). */
function fromClient(method: string, cseq: number, extra: string[] = []): SipRequest {
  return request([
    `${method} sip:grp.7c1e9a@cpm-pf.example.net;transport=tcp SIP/2.0`,
    'Via: SIP/2.0/TCP 192.0.2.50:5070;branch=z9hG4bKcl-' + method.toLowerCase() + cseq,
    'Max-Forwards: 70',
    'From: <sip:+15551230002@ims.example.net>;tag=cl-55d0',
    'To: <sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1',
    'Call-ID: 4f0c2e1a-pf-deferred-01@cpm-pf.example.net',
    `CSeq: ${cseq} ${method}`,
    ...extra,
    'Content-Length: 0',
  ]);
}

describe('sip/dialog: UAC side (RFC 3261 §12.1.2)', () => {
  it('takes id, URIs, remote target and local CSeq from the INVITE and its 200', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    expect(d.role).to.equal('uac');
    expect(d.state).to.equal('confirmed');
    expect(d.id).to.deep.equal({ callId: '4f0c2e1a-pf-deferred-01@cpm-pf.example.net', localTag: 'pf-87a1', remoteTag: 'cl-55d0' });
    expect(d.local.uri).to.equal('sip:grp.7c1e9a@cpm-pf.example.net');
    expect(d.remote.uri).to.equal('sip:+15551230002@ims.example.net');
    expect(d.remoteTarget).to.equal('sip:+15551230002@192.0.2.50:5070;transport=tcp');
    expect(d.localSeq).to.equal(1);
    expect(d.remoteSeq).to.equal(undefined);
    expect(d.secure).to.equal(false);
  });

  it('reverses the Record-Route of the response into the route set', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    expect(d.routeSet).to.deep.equal(['<sip:p2.example.net;lr>', '<sip:p1.example.net;lr>']);
  });

  it('builds BYE with loose routing: Request-URI = remote target, Route = route set, CSeq + 1, tags swapped in place', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    const bye = d.createRequest('BYE');
    expect(bye.method).to.equal('BYE');
    expect(bye.uri).to.equal('sip:+15551230002@192.0.2.50:5070;transport=tcp');
    expect(headerValues(bye, 'route')).to.deep.equal(['<sip:p2.example.net;lr>', '<sip:p1.example.net;lr>']);
    expect(headerValue(bye, 'cseq')).to.equal('2 BYE');
    expect(headerValue(bye, 'from')).to.equal('<sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1');
    expect(headerValue(bye, 'to')).to.equal('<sip:+15551230002@ims.example.net>;tag=cl-55d0');
    expect(headerValue(bye, 'call-id')).to.equal('4f0c2e1a-pf-deferred-01@cpm-pf.example.net');
    expect(headerValue(bye, 'contact'), 'BYE is not a target refresh').to.equal(undefined);
    expect(headerValue(bye, 'max-forwards')).to.equal('70');
  });

  it('numbers successive requests 2, 3, 4 and puts Contact on target refreshes', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    const info = d.createRequest('INFO');
    const reinvite = d.createRequest('INVITE', { body: 'v=0\r\n', contentType: 'application/sdp' });
    const bye = d.createRequest('BYE');
    expect([info, reinvite, bye].map((r) => headerValue(r, 'cseq'))).to.deep.equal(['2 INFO', '3 INVITE', '4 BYE']);
    expect(headerValue(reinvite, 'contact')).to.equal('<sip:grp.7c1e9a@cpm-pf.example.net;transport=tcp>;isfocus');
    expect(headerValue(reinvite, 'content-length')).to.equal('5');
  });

  it('ACK for the 2xx reuses the INVITE CSeq number with a new branch and does not consume a number', () => {
    const invite = request(INVITE);
    const d = unwrap(Dialog.fromUac(invite, response(OK_WITH_RR)));
    const ack = d.createAck(1);
    expect(headerValue(ack, 'cseq')).to.equal('1 ACK');
    expect(ack.uri).to.equal(d.remoteTarget);
    expect(headerValues(ack, 'route')).to.have.length(2);
    const ackBranch = unwrap(parseVia(headerValues(ack, 'via')[0])).branch;
    expect(ackBranch).to.match(/^z9hG4bK/).and.not.equal('z9hG4bKpf-inv-1a2b3c');
    expect(headerValue(d.createRequest('ACK'), 'cseq'), 'createRequest(ACK) defaults to the last INVITE').to.equal('1 ACK');
    expect(headerValue(d.createRequest('BYE'), 'cseq')).to.equal('2 BYE');
  });

  it('uses the caller-given Via and extra headers', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    const bye = d.createRequest('BYE', { via: 'SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKbye1', headers: [{ name: 'Reason', value: 'SIP;cause=410;text="Gone"' }] });
    expect(headerValues(bye, 'via')).to.deep.equal(['SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKbye1']);
    expect(headerValue(bye, 'reason')).to.equal('SIP;cause=410;text="Gone"');
  });

  it('refuses CANCEL: it is built from the INVITE, not the dialog (§9.1)', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    expect(() => d.createRequest('CANCEL')).to.throw(TypeError, /buildCancel/);
  });

  it('strict routing: first route without lr becomes the Request-URI, remote target goes last in Route', () => {
    const ok = response(OK_WITH_RR.map((l) => (l === 'Record-Route: <sip:p1.example.net;lr>' ? 'Record-Route: <sip:strict.example.net;method=INVITE>' : l)));
    const d = unwrap(Dialog.fromUac(request(INVITE), ok));
    // Reversed: p2 (loose) first, so still loose routing.
    expect(d.createRequest('BYE').uri).to.equal(d.remoteTarget);
    const ok2 = response(OK_WITH_RR.map((l) => (l === 'Record-Route: <sip:p2.example.net;lr>' ? 'Record-Route: <sip:strict.example.net;method=INVITE>' : l)));
    const strict = unwrap(Dialog.fromUac(request(INVITE), ok2));
    const bye = strict.createRequest('BYE');
    expect(bye.uri, 'method param is not allowed in a Request-URI (§19.1.1)').to.equal('sip:strict.example.net');
    expect(headerValues(bye, 'route')).to.deep.equal(['<sip:p1.example.net;lr>', '<sip:+15551230002@192.0.2.50:5070;transport=tcp>']);
  });

  it('nextHop is the first route (transport, port defaults) or the remote target', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    expect(unwrap(d.nextHop())).to.deep.equal({ uri: 'sip:p2.example.net;lr', transport: 'udp', address: 'p2.example.net', port: 5060 });
    d.routeSet = [];
    expect(unwrap(d.nextHop())).to.deep.equal({ uri: d.remoteTarget, transport: 'tcp', address: '192.0.2.50', port: 5070 });
    d.routeSet = ['<sip:proxy@127.0.0.1:5099;maddr=127.0.0.2;transport=TCP;lr>'];
    expect(unwrap(d.nextHop())).to.include({ transport: 'tcp', address: '127.0.0.2', port: 5099 });
  });

  it('a 2xx without Contact still yields a dialog, with an error diagnostic (§12.1.1)', () => {
    const r = Dialog.fromUac(request(INVITE), response(OK_WITH_RR.filter((l) => !l.startsWith('Contact'))));
    expect(r.ok).to.equal(true);
    expect(r.diagnostics.map((d) => d.code)).to.include('SIP_DIALOG_NO_CONTACT');
    expect(hasErrors(r.diagnostics)).to.equal(true);
  });

  it('no dialog from a 488, a 100, or a tagless 180', () => {
    const r488 = Dialog.fromUac(request(INVITE), response(['SIP/2.0 488 Not Acceptable Here', ...OK_WITH_RR.slice(1)]));
    expect(r488.ok).to.equal(false);
    expect(r488.diagnostics.map((d) => d.code)).to.include('SIP_DIALOG_STATUS');
    expect(Dialog.fromUac(request(INVITE), response(['SIP/2.0 100 Trying', ...OK_WITH_RR.slice(1)])).ok).to.equal(false);
    const tagless180 = response(['SIP/2.0 180 Ringing', ...OK_WITH_RR.slice(1).map((l) => (l.startsWith('To:') ? 'To: <sip:+15551230002@ims.example.net>' : l))]);
    const r180 = Dialog.fromUac(request(INVITE), tagless180);
    expect(r180.ok).to.equal(false);
    expect(r180.diagnostics.map((d) => d.code)).to.include('SIP_DIALOG_NO_TO_TAG');
  });

  it('an early dialog from 180 is confirmed by the 2xx, whose Record-Route recomputes the route set', () => {
    const ringing = response(['SIP/2.0 180 Ringing', ...OK_WITH_RR.slice(1).filter((l) => !l.startsWith('Record-Route'))]);
    const d = unwrap(Dialog.fromUac(request(INVITE), ringing));
    expect(d.state).to.equal('early');
    expect(d.routeSet).to.deep.equal([]);
    expect(d.acceptResponse(response(OK_WITH_RR))).to.deep.equal([]);
    expect(d.state).to.equal('confirmed');
    expect(d.routeSet).to.deep.equal(['<sip:p2.example.net;lr>', '<sip:p1.example.net;lr>']);
  });

  it('matches requests from the peer and responses to us by Call-ID and both tags', () => {
    const d = unwrap(Dialog.fromUac(request(INVITE), response(OK_WITH_RR)));
    expect(d.matches(fromClient('BYE', 5))).to.equal(true);
    expect(d.matches(response(OK_WITH_RR))).to.equal(true);
    const otherTag = fromClient('BYE', 5);
    otherTag.headers = otherTag.headers.map((h) => (h.name === 'From' ? { name: 'From', value: '<sip:+15551230002@ims.example.net>;tag=other' } : h));
    expect(d.matches(otherTag)).to.equal(false);
  });
});

describe('sip/dialog: UAS side (RFC 3261 §12.1.1)', () => {
  const SUBSCRIBE = [
    'SUBSCRIBE sip:grp.7c1e9a@cpm-pf.example.net SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.50:5070;branch=z9hG4bKcl-sub-01',
    'Record-Route: <sip:r1.example.net;lr>, <sip:r2.example.net;lr>',
    'Max-Forwards: 70',
    'From: <sip:+15551230002@ims.example.net>;tag=cl-s1',
    'To: <sip:grp.7c1e9a@cpm-pf.example.net>',
    'Call-ID: sub-77a1c3@192.0.2.50',
    'CSeq: 7 SUBSCRIBE',
    'Contact: <sip:+15551230002@192.0.2.50:5070;transport=tcp>',
    'Event: conference',
    'Expires: 3600',
    'Content-Length: 0',
  ];

  function notifierDialog(): Dialog {
    const sub = request(SUBSCRIBE);
    const ok = buildResponse(sub, 200, undefined, { toTag: 'pf-s9', contact: '<sip:grp.7c1e9a@192.0.2.10:5060;transport=tcp>', headers: [{ name: 'Expires', value: '3600' }] });
    return unwrap(Dialog.fromUas(sub, ok));
  }

  it('keeps Record-Route in order, remote target = request Contact, remote CSeq = request CSeq', () => {
    const d = notifierDialog();
    expect(d.role).to.equal('uas');
    expect(d.id).to.deep.equal({ callId: 'sub-77a1c3@192.0.2.50', localTag: 'pf-s9', remoteTag: 'cl-s1' });
    expect(d.routeSet).to.deep.equal(['<sip:r1.example.net;lr>', '<sip:r2.example.net;lr>']);
    expect(d.remoteTarget).to.equal('sip:+15551230002@192.0.2.50:5070;transport=tcp');
    expect(d.remoteSeq).to.equal(7);
    expect(d.localSeq).to.equal(undefined);
  });

  it('first NOTIFY: CSeq starts at 1, From = our URI + tag, To = subscriber + tag, Contact present', () => {
    const d = notifierDialog();
    const notify = d.createRequest('NOTIFY', { headers: [{ name: 'Event', value: 'conference' }, { name: 'Subscription-State', value: 'active;expires=3600' }] });
    expect(headerValue(notify, 'cseq')).to.equal('1 NOTIFY');
    expect(headerValue(notify, 'from')).to.equal('<sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-s9');
    expect(headerValue(notify, 'to')).to.equal('<sip:+15551230002@ims.example.net>;tag=cl-s1');
    expect(headerValue(notify, 'contact')).to.equal('<sip:grp.7c1e9a@192.0.2.10:5060;transport=tcp>');
    expect(headerValues(notify, 'route')).to.deep.equal(['<sip:r1.example.net;lr>', '<sip:r2.example.net;lr>']);
    expect(notify.uri).to.equal('sip:+15551230002@192.0.2.50:5070;transport=tcp');
    // Default Via: next hop's transport, our Contact's host:port.
    expect(headerValues(notify, 'via')[0]).to.match(/^SIP\/2\.0\/UDP 192\.0\.2\.10:5060;branch=z9hG4bK/);
    expect(headerValue(d.createRequest('NOTIFY'), 'cseq')).to.equal('2 NOTIFY');
  });

  it('a UAS dialog needs our To tag', () => {
    const sub = request(SUBSCRIBE);
    const tagless = buildResponse(sub, 200);
    tagless.headers = tagless.headers.map((h) => (h.name === 'To' ? { name: 'To', value: '<sip:grp.7c1e9a@cpm-pf.example.net>' } : h));
    const r = Dialog.fromUas(sub, tagless);
    expect(r.ok).to.equal(false);
    expect(r.diagnostics.map((d) => d.code)).to.include('SIP_DIALOG_NO_TO_TAG');
  });
});

describe('sip/dialog: requests from the peer (RFC 3261 §12.2.2)', () => {
  const resubscribe = (cseq: number, extra: string[] = []): SipRequest =>
    request([
      'SUBSCRIBE sip:grp.7c1e9a@192.0.2.10:5060;transport=tcp SIP/2.0',
      `Via: SIP/2.0/TCP 192.0.2.50:5070;branch=z9hG4bKresub${cseq}`,
      'Max-Forwards: 70',
      'From: <sip:+15551230002@ims.example.net>;tag=cl-s1',
      'To: <sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-s9',
      'Call-ID: sub-77a1c3@192.0.2.50',
      `CSeq: ${cseq} SUBSCRIBE`,
      ...extra,
      'Content-Length: 0',
    ]);

  function dialog(): Dialog {
    const sub = request([
      'SUBSCRIBE sip:grp.7c1e9a@cpm-pf.example.net SIP/2.0',
      'Via: SIP/2.0/TCP 192.0.2.50:5070;branch=z9hG4bKcl-sub-01',
      'From: <sip:+15551230002@ims.example.net>;tag=cl-s1',
      'To: <sip:grp.7c1e9a@cpm-pf.example.net>',
      'Call-ID: sub-77a1c3@192.0.2.50',
      'CSeq: 5 SUBSCRIBE',
      'Contact: <sip:+15551230002@192.0.2.50:5070;transport=tcp>',
      'Event: conference',
      'Content-Length: 0',
    ]);
    return unwrap(Dialog.fromUas(sub, buildResponse(sub, 200, undefined, { toTag: 'pf-s9' })));
  }

  it('accepts a higher CSeq (gaps allowed) and remembers it', () => {
    const d = dialog();
    expect(d.acceptRemoteRequest(resubscribe(9))).to.deep.equal([]);
    expect(d.remoteSeq).to.equal(9);
  });

  it('rejects a lower CSeq as out of order (500), leaving the state alone', () => {
    const d = dialog();
    const diags = d.acceptRemoteRequest(resubscribe(4));
    expect(diags.map((x) => x.code)).to.deep.equal(['SIP_DIALOG_CSEQ_OUT_OF_ORDER']);
    expect(diags[0].severity).to.equal('error');
    expect(diags[0].clause).to.equal('RFC 3261 §12.2.2');
    expect(diags[0].bytes.toString('latin1')).to.equal('4 SUBSCRIBE');
    expect(d.remoteSeq).to.equal(5);
  });

  it('warns on a reused CSeq (the sender must increment, §12.2.1.1)', () => {
    const diags = dialog().acceptRemoteRequest(resubscribe(5));
    expect(diags.map((x) => [x.code, x.severity])).to.deep.equal([['SIP_DIALOG_CSEQ_NOT_INCREMENTED', 'warning']]);
  });

  it('a target refresh replaces the remote target', () => {
    const d = dialog();
    d.acceptRemoteRequest(resubscribe(6, ['Contact: <sip:+15551230002@198.51.100.7:6000;transport=tcp>']));
    expect(d.remoteTarget).to.equal('sip:+15551230002@198.51.100.7:6000;transport=tcp');
  });

  it('a request of another dialog is reported (481), not applied', () => {
    const d = dialog();
    const stray = resubscribe(6);
    stray.headers = stray.headers.map((h) => (h.name === 'To' ? { name: 'To', value: '<sip:grp.7c1e9a@cpm-pf.example.net>;tag=nope' } : h));
    expect(d.acceptRemoteRequest(stray).map((x) => x.code)).to.deep.equal(['SIP_DIALOG_MISMATCH']);
    expect(d.remoteSeq).to.equal(5);
  });

  it('ACK carries the INVITE number; BYE terminates', () => {
    const invite = request(INVITE);
    const ok = buildResponse(invite, 200, undefined, { toTag: 'cl-55d0', contact: '<sip:+15551230002@192.0.2.50:5070;transport=tcp>' });
    const uas = unwrap(Dialog.fromUas(invite, ok));
    const fromPf = (method: string, cseq: number): SipRequest =>
      request([
        `${method} sip:+15551230002@192.0.2.50:5070;transport=tcp SIP/2.0`,
        `Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK${method}${cseq}`,
        'From: <sip:grp.7c1e9a@cpm-pf.example.net>;tag=pf-87a1',
        'To: <sip:+15551230002@ims.example.net>;tag=cl-55d0',
        'Call-ID: 4f0c2e1a-pf-deferred-01@cpm-pf.example.net',
        `CSeq: ${cseq} ${method}`,
        'Content-Length: 0',
      ]);
    expect(uas.acceptRemoteRequest(fromPf('ACK', 1))).to.deep.equal([]);
    expect(uas.acceptRemoteRequest(fromPf('ACK', 2)).map((x) => [x.code, x.severity])).to.deep.equal([['SIP_DIALOG_ACK_CSEQ', 'warning']]);
    expect(uas.remoteSeq, 'ACK does not move the remote sequence').to.equal(1);
    expect(uas.acceptRemoteRequest(fromPf('BYE', 2))).to.deep.equal([]);
    expect(uas.state).to.equal('terminated');
  });

  it('a CSeq method that differs from the request method is an error', () => {
    const r = resubscribe(6);
    r.headers = r.headers.map((h) => (h.name === 'CSeq' ? { name: 'CSeq', value: '6 NOTIFY' } : h));
    expect(dialog().acceptRemoteRequest(r).map((x) => x.code)).to.deep.equal(['SIP_DIALOG_CSEQ_METHOD']);
  });
});

describe('sip/dialog: dialogIdOf', () => {
  it('reads local/remote tags according to our side of the transaction', () => {
    const ok = response(OK_WITH_RR);
    expect(dialogIdOf(ok, 'uac')).to.deep.equal({ callId: '4f0c2e1a-pf-deferred-01@cpm-pf.example.net', localTag: 'pf-87a1', remoteTag: 'cl-55d0' });
    expect(dialogIdOf(ok, 'uas')).to.deep.equal({ callId: '4f0c2e1a-pf-deferred-01@cpm-pf.example.net', localTag: 'cl-55d0', remoteTag: 'pf-87a1' });
    expect(dialogIdOf(request(INVITE), 'uac')?.remoteTag, 'no To tag yet').to.equal('');
    const d = unwrap(Dialog.fromUac(request(INVITE), ok));
    expect(d.key).to.equal(dialogKey(dialogIdOf(ok, 'uac')!));
    expect(tagOf(headerValue(ok, 'to') ?? '')).to.equal(d.remoteTag);
  });

  it('is undefined without Call-ID', () => {
    expect(dialogIdOf(request(INVITE.filter((l) => !l.startsWith('Call-ID'))), 'uas')).to.equal(undefined);
  });
});

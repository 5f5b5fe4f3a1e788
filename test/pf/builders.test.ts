import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConferenceInfo, participantEntities } from '../../harness/conference/conference-info.ts';
import { parseSdp } from '../../harness/sdp/parse.ts';
import { validateWithXmllint as runXmllint, xmllintAvailable } from '../../harness/xml/xmllint.ts';
import { findMsrpMedia } from '../../harness/sdp/msrp-media.ts';
import { resolveDirection } from '../../harness/sdp/direction.ts';
import { buildRequest } from '../../harness/sip/build.ts';
import { CPM_SESSION_ICSI, hasIcsi } from '../../harness/sip/caller-prefs.ts';
import { parseNameAddr, tagOf } from '../../harness/sip/headers.ts';
import { headerValue, headerValues, type SipRequest } from '../../harness/sip/message.ts';
import { serializeSipMessage } from '../../harness/sip/serializer.ts';
import { builtinConfig } from '../../harness/testcase/config.ts';
import { conferenceDocument, decideSubscribe, isGroupUri, subscriptionStateValue } from '../../harness/pf/conference.ts';
import { buildGroupInvite, buildResourceList, type GroupInviteParams } from '../../harness/pf/invite-builder.ts';
import { defaultGroup } from '../../harness/pf/participating-function.ts';
import type { GroupSpec, InviteSpec } from '../../harness/pf/types.ts';

const FIXTURES = new URL('../../fixtures/', import.meta.url);
const GOLDEN_INVITE = readFileSync(new URL('pf/invite-2.1.sip', FIXTURES));
const GOLDEN_NOTIFY = readFileSync(new URL('pf/notify-2.11.sip', FIXTURES));
const CONFERENCE_XSD = new URL('schemas/conference-info.xsd', FIXTURES).pathname;

const GROUP_2_1: GroupSpec = {
  ...defaultGroup(builtinConfig('tcp')),
  identity: 'sip:grp.7c1e9a@cpm-pf.example.net',
};

/** The §2.1 parameters; the random parts (branch, tag, Call-ID, addresses) are the digest's. */
function params21(spec: InviteSpec = { referredBy: null }): GroupInviteParams {
  return {
    spec,
    group: GROUP_2_1,
    requestUri: 'sip:+15551230002@192.0.2.50:5070;transport=tcp',
    clientAor: 'sip:+15551230002@ims.example.net',
    originalSender: 'sip:+15551230001@ims.example.net',
    transport: 'tcp',
    via: 'SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKpf-inv-1a2b3c',
    fromTag: 'pf-87a1',
    callId: '4f0c2e1a-pf-deferred-01@cpm-pf.example.net',
    msrp: { address: '192.0.2.10', port: 7394, path: 'msrp://192.0.2.10:7394/pf8s3kq1;tcp' },
    sdpSessionId: 3913651012,
  };
}

function build(spec: InviteSpec): SipRequest {
  return buildGroupInvite(params21(spec)).request;
}

function offerOf(request: SipRequest) {
  return parseSdp(request.body);
}

const xmllint = xmllintAvailable();

function validateWithXmllint(xml: Buffer | string, schema?: string): { ok: boolean; output: string } {
  const outcome = runXmllint(xml, schema);
  return outcome.available ? { ok: outcome.valid, output: outcome.output } : { ok: false, output: outcome.reason };
}

describe('pf: group INVITE builder (PROTOCOLS §2.1)', () => {
  it('builds the §2.1 INVITE byte for byte, plus SUBSCRIBE in Allow and Allow-Events: conference (RFC 3261 §20.5, RFC 6665 §4.4.4; 1181 octets, SDP 295)', () => {
    const bytes = serializeSipMessage(build({ referredBy: null }));
    expect(bytes.length).to.equal(1181);
    expect(headerValue(build({ referredBy: null }), 'content-length')).to.equal('295');
    expect(bytes.equals(GOLDEN_INVITE), bytes.toString('latin1')).to.equal(true);
  });

  describe('H1–H4 on the built (full) INVITE', () => {
    const invite = build({});
    it('H1: out of dialog (no To tag) with the CPM ICSI percent-encoded in Accept-Contact', () => {
      expect(tagOf(headerValue(invite, 'to')!)).to.equal(undefined);
      const icsi = hasIcsi(headerValues(invite, 'accept-contact'), CPM_SESSION_ICSI);
      expect(icsi.present).to.equal(true);
      expect(icsi.exactEncoding).to.equal(true);
      expect(icsi.diagnostics).to.deep.equal([]);
    });
    it('H2: Contact is the group identity with isfocus', () => {
      const contact = parseNameAddr(headerValue(invite, 'contact')!);
      expect(contact.ok).to.equal(true);
      if (!contact.ok) return;
      expect(isGroupUri(contact.value.uri, GROUP_2_1.identity)).to.equal(true);
      expect(contact.value.params.some((p) => p.name === 'isfocus')).to.equal(true);
      const from = parseNameAddr(headerValue(invite, 'from')!);
      expect(from.ok && isGroupUri(from.value.uri, GROUP_2_1.identity)).to.equal(true);
    });
    it('H3: Conversation-ID and Contribution-ID of the group; Subject; Referred-By = original sender', () => {
      expect(headerValue(invite, 'conversation-id')).to.equal(GROUP_2_1.conversationId);
      expect(headerValue(invite, 'contribution-id')).to.equal(GROUP_2_1.contributionId);
      expect(headerValue(invite, 'subject')).to.equal(GROUP_2_1.subject);
      expect(headerValue(invite, 'referred-by')).to.equal('<sip:+15551230001@ims.example.net>');
    });
    it('H4: MSRP offer with a=setup:actpass, media-level sendrecv, c=/m=/a=path consistent', () => {
      const sdp = offerOf(invite);
      expect(sdp.diagnostics.filter((d) => d.severity === 'error')).to.deep.equal([]);
      const media = findMsrpMedia(sdp)[0]!;
      expect(media.setup).to.equal('actpass');
      expect(resolveDirection(sdp, media.index).direction).to.equal('sendrecv');
      expect(media.acceptTypes).to.include('message/cpim');
      expect(media.acceptWrappedTypes).to.include.members(['text/plain', 'message/imdn+xml']);
      expect(media.path).to.deep.equal([`msrp://${media.connectionAddress}:${media.port}/pf8s3kq1;tcp`]);
    });
  });

  describe('variants', () => {
    it('minimal header set carries only what H1/H2 need', () => {
      const invite = build({ headerSet: 'minimal' });
      for (const name of ['conversation-id', 'contribution-id', 'subject', 'referred-by', 'p-asserted-identity', 'allow']) {
        expect(headerValue(invite, name), name).to.equal(undefined);
      }
      expect(headerValue(invite, 'accept-contact')).to.match(/isfocus|icsi-ref/);
      expect(headerValue(invite, 'contact')).to.include(';isfocus;');
    });
    it('N4: compact a: header and a custom value are sent as given', () => {
      const invite = build({ acceptContact: { headerName: 'a', value: '*;+g.3gpp.icsi-ref="urn%3aurn-7%3a3gpp-service.ims.icsi.oma.cpm.session"' } });
      expect(invite.headers.find((h) => h.name === 'a')?.value).to.include('%3aurn-7');
    });
    it('N23: From and Contact can differ', () => {
      const invite = build({ fromUri: 'sip:focus@cpm-pf.example.net' });
      expect(headerValue(invite, 'from')).to.match(/^<sip:focus@cpm-pf\.example\.net>;tag=/);
      expect(headerValue(invite, 'contact')).to.include('grp.7c1e9a');
    });
    it('direction placement and setup are expressible (E2/E3/E5, N3, port 0)', () => {
      const sessionOnly = offerOf(build({ direction: { session: 'inactive', media: null } }));
      expect(resolveDirection(sessionOnly, 0)).to.include({ direction: 'inactive', decidedBy: 'session' });
      const both = offerOf(build({ direction: { session: 'sendrecv', media: 'sendonly' } }));
      expect(resolveDirection(both, 0)).to.include({ direction: 'sendonly', decidedBy: 'media' });
      const none = offerOf(build({ direction: { session: null, media: null } }));
      expect(resolveDirection(none, 0).decidedBy).to.equal('default');
      expect(findMsrpMedia(offerOf(build({ setup: null })))[0]!.setup).to.equal(undefined);
      expect(findMsrpMedia(offerOf(build({ setup: 'active' })))[0]!.setup).to.equal('active');
      expect(findMsrpMedia(offerOf(build({ msrpPortZero: true })))[0]!.port).to.equal(0);
      expect(offerOf(build({ extraMedia: ['m=audio 49170 RTP/AVP 0'] })).media.map((m) => m.type)).to.deep.equal(['message', 'audio']);
    });
    it('H8 mode B: multipart/mixed with the SDP and the last participants as a resource list', () => {
      const invite = build({ participantsInBody: true });
      const contentType = headerValue(invite, 'content-type')!;
      expect(contentType).to.match(/^multipart\/mixed;boundary=/);
      expect(headerValue(invite, 'content-length')).to.equal(String(invite.body.length));
      const text = invite.body.toString('utf8');
      expect(text).to.include('Content-Type: application/sdp');
      expect(text).to.include('Content-Type: application/resource-lists+xml');
      for (const p of GROUP_2_1.participants) expect(text).to.include(`<entry uri="${p.uri}">`);
    });
  });
});

describe('pf: conference notifier decisions and documents (PROTOCOLS §2.11/§2.12)', () => {
  const group = GROUP_2_1;
  function subscribe(uri: string, extra: { name: string; value: string }[] = [{ name: 'Event', value: 'conference' }]): SipRequest {
    return buildRequest({
      method: 'SUBSCRIBE',
      uri,
      via: 'SIP/2.0/TCP 192.0.2.50:5070;branch=z9hG4bKcl-sub-01',
      from: '<sip:+15551230002@ims.example.net>;tag=cl-s1',
      to: `<${uri}>`,
      callId: 'sub-77a1c3@192.0.2.50',
      cseq: 1,
      contact: '<sip:+15551230002@192.0.2.50:5070;transport=tcp>',
      headers: extra,
    });
  }
  const rows: { name: string; request: SipRequest; policy: Parameters<typeof decideSubscribe>[2]; status: number; expires: number }[] = [
    { name: 'group identity, active', request: subscribe(group.identity), policy: { mode: 'active' }, status: 200, expires: 3600 },
    { name: 'transport param ignored', request: subscribe(`${group.identity};transport=tcp`), policy: { mode: 'active' }, status: 200, expires: 3600 },
    { name: 'other event package → 489', request: subscribe(group.identity, [{ name: 'Event', value: 'presence' }]), policy: { mode: 'active' }, status: 489, expires: 0 },
    { name: 'no Event → 489', request: subscribe(group.identity, []), policy: { mode: 'active' }, status: 489, expires: 0 },
    { name: 'other resource → 404', request: subscribe('sip:other@cpm-pf.example.net'), policy: { mode: 'active' }, status: 404, expires: 0 },
    { name: 'inactive group → 404', request: subscribe(group.identity), policy: { mode: 'inactive-404' }, status: 404, expires: 0 },
    { name: 'long Expires capped', request: subscribe(group.identity, [{ name: 'Event', value: 'conference' }, { name: 'Expires', value: '7200' }]), policy: { mode: 'active' }, status: 200, expires: 3600 },
    { name: 'short grant (1d-ii)', request: subscribe(group.identity, [{ name: 'Event', value: 'conference' }, { name: 'Expires', value: '3600' }]), policy: { mode: 'active', grantExpires: 60 }, status: 200, expires: 60 },
    { name: 'unsubscribe (Expires 0)', request: subscribe(group.identity, [{ name: 'Event', value: 'conference' }, { name: 'Expires', value: '0' }]), policy: { mode: 'active', grantExpires: 60 }, status: 200, expires: 0 },
  ];
  for (const row of rows) {
    it(`SUBSCRIBE: ${row.name}`, () => {
      const d = decideSubscribe(row.request, group, row.policy);
      expect({ status: d.status, expires: d.expires }).to.deep.equal({ status: row.status, expires: row.expires });
    });
  }

  it('the full document for the §2.11 group equals the §2.11 body (1052 octets)', () => {
    const goldenBody = GOLDEN_NOTIFY.subarray(GOLDEN_NOTIFY.indexOf('\r\n\r\n') + 4);
    const doc = conferenceDocument(group, { version: 1 });
    expect(doc.contentType).to.equal('application/conference-info+xml');
    expect(doc.body.length).to.equal(1052);
    expect(doc.body.equals(goldenBody)).to.equal(true);
  });

  it('H8 mode A: the full NOTIFY document lists the last participants', () => {
    const parsed = parseConferenceInfo(conferenceDocument(group, { version: 1 }).body);
    expect(parsed.diagnostics).to.deep.equal([]);
    expect(participantEntities(parsed.doc!)).to.deep.equal(group.participants.map((p) => p.uri));
  });

  it('Subscription-State values', () => {
    expect(subscriptionStateValue('active', { expires: 60 })).to.equal('active;expires=60');
    expect(subscriptionStateValue('terminated', { reason: 'noresource' })).to.equal('terminated;reason=noresource');
  });

  describe('documents validate against the RFC 4575 schema (xmllint)', function () {
    before(function () {
      if (!xmllint) {
        if (process.env.CI === 'true') throw new Error('xmllint not installed; .ci/run installs libxml2-utils');
        this.skip(); // xmllint (libxml2-utils) is not installed here
      }
    });
    const variants = ['standard', 'no-state-attribute', 'user-without-entity', 'no-conference-description'] as const;
    for (const variant of variants) {
      it(`variant ${variant}`, () => {
        const r = validateWithXmllint(conferenceDocument(group, { version: 3, variant }).body, CONFERENCE_XSD);
        expect(r.ok, r.output).to.equal(true);
      });
    }
    it('partial document with a deleted user', () => {
      const body = conferenceDocument(group, { version: 2, documentState: 'partial', participants: [{ ...group.participants[2]!, deleted: true }] }).body;
      const r = validateWithXmllint(body, CONFERENCE_XSD);
      expect(r.ok, r.output).to.equal(true);
      expect(body.toString()).to.include('state="deleted"');
    });
    it('the mode-B resource list is well-formed XML', () => {
      const r = validateWithXmllint(buildResourceList(group.participants));
      expect(r.ok, r.output).to.equal(true);
    });
  });
});

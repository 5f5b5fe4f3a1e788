import { expect } from 'chai';
import { parseCpim } from '../../harness/cpim/cpim.ts';
import { parseImdnXml } from '../../harness/imdn/imdn.ts';
import { buildMsrpOffer } from '../../harness/sdp/build.ts';
import { parseSdp } from '../../harness/sdp/parse.ts';
import type { Direction, SetupValue } from '../../harness/sdp/types.ts';
import { parseWarning } from '../../harness/sip/headers.ts';
import { behaviourWith, CONFORMING } from '../../harness/reference-client/behaviour.ts';
import {
  afterDelivery,
  answerSetup,
  buildImdnBody,
  byeResponse,
  decideInvite,
  imdnEnvelope,
  notificationsFor,
  onRegistered,
  onSubscribeResponse,
  onSubscriptionState,
  refreshDelayMs,
  respondToReport,
  respondToSend,
  routeOutgoing,
  sameIdentity,
  sendSuccessReport,
  type ImdnContext,
  type OriginalMessage,
} from '../../harness/reference-client/decisions.ts';

const CANONICAL_AC = '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"';

function offer(options: { session?: Direction | null; media?: Direction | null; setup?: SetupValue | null; extraMedia?: string[]; port?: number } = {}): string {
  return buildMsrpOffer({
    address: '192.0.2.10',
    port: options.port ?? 7394,
    path: [`msrp://192.0.2.10:${options.port ?? 7394}/pf8s3kq1;tcp`],
    sessionDirection: options.session ?? null,
    mediaDirection: options.media === undefined ? 'sendrecv' : options.media,
    setup: options.setup === undefined ? 'actpass' : options.setup,
    ...(options.extraMedia ? { extraMedia: options.extraMedia } : {}),
  });
}

function decide(sdpText: string | null, b = CONFORMING, acceptContact: string[] = [CANONICAL_AC]) {
  return decideInvite({ acceptContact, sdp: sdpText === null ? null : parseSdp(sdpText), agent: '127.0.0.1' }, b);
}

describe('reference client decisions', () => {
  describe('INVITE: effective direction → 200/488 (RFC 8866 §6.7, 7.3.12-1a-i/1a-ii)', () => {
    const levels: (Direction | null)[] = [null, 'sendrecv', 'sendonly', 'recvonly', 'inactive'];
    // Generated table over every session × media placement (E1–E6).
    for (const session of levels) {
      for (const media of levels) {
        const effective: Direction = media ?? session ?? 'sendrecv';
        const expected = effective === 'sendrecv' ? 'accept' : 'reject';
        it(`session ${session ?? '-'} / media ${media ?? '-'} ⇒ ${effective} ⇒ ${expected}`, () => {
          const d = decide(offer({ session, media }));
          expect(d.kind).to.equal(expected);
          if (d.kind === 'reject') {
            expect(d.status).to.equal(488);
            expect(d.warning, 'RFC 3261 §13.3.1.3 Warning').to.be.a('string');
            const w = parseWarning(d.warning!);
            expect(w.ok && w.value.code).to.equal(399);
          } else if (d.kind === 'accept') {
            expect(d.direction).to.equal('sendrecv');
          }
        });
      }
    }

    it('E7: two media-level directions: the first applies (RFC 8866 §6.7)', () => {
      const text = offer({ media: 'sendrecv' }) + 'a=sendonly\r\n';
      expect(decide(text).kind).to.equal('accept');
    });

    it('E8: an extra m=audio does not by itself cause a rejection', () => {
      expect(decide(offer({ extraMedia: ['m=audio 49170 RTP/AVP 0'] })).kind).to.equal('accept');
    });

    it('E9: the MSRP stream disabled (port 0) ⇒ 488 with Warning 304', () => {
      const d = decide(offer({ port: 0 }));
      expect(d.kind).to.equal('reject');
      if (d.kind === 'reject') expect(d.warning).to.match(/^304 /);
    });

    it('no SDP at all ⇒ 488', () => {
      const d = decide(null);
      expect(d.kind === 'reject' && d.status).to.equal(488);
    });

    const icsiVariants: [string, string[]][] = [
      ['canonical', [CANONICAL_AC]],
      ['lower-case %3a', ['*;+g.3gpp.icsi-ref="urn%3aurn-7%3a3gpp-service.ims.icsi.oma.cpm.session"']],
      ['multi-value list', ['*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session.group"']],
      [';require;explicit', [`${CANONICAL_AC};require;explicit`]],
      ['second of two Accept-Contact values', ['*;+g.oma.sip-im', CANONICAL_AC]],
    ];
    for (const [name, values] of icsiVariants) {
      it(`recognises the CPM ICSI: ${name} (N4)`, () => {
        expect(decide(offer(), CONFORMING, values).kind).to.equal('accept');
      });
    }

    it('no CPM ICSI in Accept-Contact ⇒ not handled as a CPM invitation (488)', () => {
      expect(decide(offer(), CONFORMING, ['*;+g.oma.sip-im']).kind).to.equal('reject');
      expect(decide(offer(), CONFORMING, []).kind).to.equal('reject');
    });
  });

  describe('a=setup answer (RFC 4145 §4.1)', () => {
    const table: [SetupValue | undefined, string][] = [
      ['actpass', 'active'],
      ['active', 'passive'],
      ['passive', 'active'],
      [undefined, 'passive'],
      ['holdconn', 'holdconn'],
    ];
    for (const [offered, expected] of table) {
      it(`offer ${offered ?? '(absent)'} ⇒ answer ${expected}`, () => {
        expect(answerSetup(offered, CONFORMING)).to.equal(expected);
      });
    }
    it('the decision carries the setup of the offer', () => {
      const d = decide(offer({ setup: null }));
      expect(d.kind === 'accept' && d.setup).to.equal('passive');
    });
  });

  describe('IMDNs: which for which disposition request (7.3.12-1b-ii, imdn-not-requested, imdn-once)', () => {
    const requests: [string, string[]][] = [
      ['positive-delivery, display', ['positive-delivery', 'display']],
      ['positive-delivery', ['positive-delivery']],
      ['display', ['display']],
      ['negative-delivery', ['negative-delivery']],
      ['(absent)', []],
    ];
    for (const [label, kinds] of requests) {
      const set = new Set(kinds);
      it(`requested ${label}`, () => {
        expect(notificationsFor(set, 'chunk', CONFORMING), 'never per chunk').to.deep.equal([]);
        expect(notificationsFor(set, 'complete', CONFORMING)).to.deep.equal(set.has('positive-delivery') ? ['delivery'] : []);
        expect(notificationsFor(set, 'displayed', CONFORMING)).to.deep.equal(set.has('display') ? ['display'] : []);
      });
    }
  });

  describe('IMDN construction (PROTOCOLS §2.9)', () => {
    const original: OriginalMessage = {
      from: 'sip:+15551230001@ims.example.net',
      to: 'sip:grp.7c1e9a@cpm-pf.example.net',
      imdnMessageId: 'Msg7hQ2xLp0aZ',
      dateTime: '2024-05-06T09:15:03.000Z',
    };
    const ctx: ImdnContext = {
      ownAor: 'sip:+15551230002@ims.example.net',
      groupIdentity: 'sip:grp.7c1e9a@cpm-pf.example.net',
      ownImdnMessageId: 'Dn4kq81ZtRw2',
      now: new Date('2024-05-06T09:20:41.000Z'),
    };
    const golden = [
      'From: <sip:+15551230002@ims.example.net>',
      'To: <sip:+15551230001@ims.example.net>',
      'NS: imdn <urn:ietf:params:imdn>',
      'imdn.Message-ID: Dn4kq81ZtRw2',
      'DateTime: 2024-05-06T09:20:41.000Z',
      '',
      'Content-Type: message/imdn+xml',
      'Content-Disposition: notification',
      'Content-Length: 439',
      '',
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<imdn xmlns="urn:ietf:params:xml:ns:imdn">',
      '  <message-id>Msg7hQ2xLp0aZ</message-id>',
      '  <datetime>2024-05-06T09:15:03.000Z</datetime>',
      '  <recipient-uri>sip:+15551230002@ims.example.net</recipient-uri>',
      '  <original-recipient-uri>sip:grp.7c1e9a@cpm-pf.example.net</original-recipient-uri>',
      '  <delivery-notification>',
      '    <status>',
      '      <delivered/>',
      '    </status>',
      '  </delivery-notification>',
      '</imdn>',
    ].join('\r\n');

    it('the delivery notification equals the §2.9 CPIM body byte for byte (ids and time fixed)', () => {
      const body = buildImdnBody(imdnEnvelope(original, 'delivery', ctx, CONFORMING));
      expect(body.length).to.equal(713);
      expect(body.toString('utf8')).to.equal(golden);
    });

    it('the display notification parses back with the original message-id and datetime', () => {
      const body = buildImdnBody(imdnEnvelope(original, 'display', { ...ctx, ownImdnMessageId: 'Dp9vB3mc0QeX' }, CONFORMING));
      const cpim = parseCpim(body);
      expect(cpim.diagnostics.filter((d) => d.severity === 'error')).to.deep.equal([]);
      expect(cpim.mime.contentDisposition).to.equal('notification');
      const imdn = parseImdnXml(cpim.content);
      expect(imdn.diagnostics).to.deep.equal([]);
      expect([imdn.messageId, imdn.datetime, imdn.kind, imdn.status]).to.deep.equal(['Msg7hQ2xLp0aZ', '2024-05-06T09:15:03.000Z', 'display', 'displayed']);
    });

    it('mutants change exactly the field they name', () => {
      const wrongId = imdnEnvelope(original, 'delivery', ctx, behaviourWith({ imdnXmlMessageId: 'own' }));
      expect(wrongId.xml.messageId).to.equal('Dn4kq81ZtRw2');
      expect(imdnEnvelope(original, 'delivery', ctx, behaviourWith({ imdnDateTime: 'receipt' })).xml.datetime).to.equal('2024-05-06T09:20:41.000Z');
      expect(imdnEnvelope(original, 'delivery', ctx, behaviourWith({ imdnTo: 'group' })).to).to.equal(ctx.groupIdentity);
      const noDisposition = buildImdnBody(imdnEnvelope(original, 'delivery', ctx, behaviourWith({ imdnContentDisposition: false })));
      expect(parseCpim(noDisposition).mime.contentDisposition).to.equal(undefined);
    });
  });

  describe('MSRP, subscription, session end, re-join', () => {
    it('responds to SEND per Failure-Report (RFC 4975 §7.2)', () => {
      expect([respondToSend('yes', CONFORMING), respondToSend('no', CONFORMING), respondToSend('partial', CONFORMING)]).to.deep.equal([true, false, false]);
    });
    it('REPORT on Success-Report: yes only; never answers a REPORT', () => {
      expect([sendSuccessReport('yes', CONFORMING), sendSuccessReport('no', CONFORMING), respondToReport(CONFORMING)]).to.deep.equal([true, false, false]);
    });
    it('SUBSCRIBE outcomes: 2xx active, 404 inactive without retry, others unknown', () => {
      expect(onSubscribeResponse(200, CONFORMING)).to.deep.equal({ groupState: 'active', resubscribe: false });
      expect(onSubscribeResponse(404, CONFORMING)).to.deep.equal({ groupState: 'inactive', resubscribe: false });
      expect(onSubscribeResponse(489, CONFORMING)).to.deep.equal({ groupState: 'unknown', resubscribe: false });
      expect(onSubscribeResponse(null, CONFORMING)).to.deep.equal({ groupState: 'unknown', resubscribe: false });
    });
    it('refreshes at half the granted time', () => {
      expect([refreshDelayMs(3600, CONFORMING), refreshDelayMs(1, CONFORMING), refreshDelayMs(0, CONFORMING)]).to.deep.equal([1_800_000, 500, null]);
    });
    it('NOTIFY Subscription-State handling (RFC 6665 §4.1.3)', () => {
      expect(onSubscriptionState('active', undefined)).to.equal('keep');
      expect(onSubscriptionState('terminated', 'noresource')).to.equal('inactive');
      expect(onSubscriptionState('terminated', 'timeout')).to.equal('resubscribe');
    });
    it('waits for the PF and answers its BYE 200', () => {
      expect([afterDelivery(CONFORMING), byeResponse(CONFORMING)]).to.deep.equal(['wait-for-pf', 200]);
    });
    it('re-joins only with a queued message and no PF session (7.3.12-2a, NOTE)', () => {
      expect(onRegistered({ queued: 1, sessionUp: false }, CONFORMING)).to.equal('rejoin-after-grace');
      expect(onRegistered({ queued: 0, sessionUp: false }, CONFORMING)).to.equal('wait');
      expect(onRegistered({ queued: 1, sessionUp: true }, CONFORMING)).to.equal('wait');
    });
    it('routes a composed message: session when up (1d-i), else re-join or queue', () => {
      expect(routeOutgoing({ sessionUp: true, registered: true }, CONFORMING)).to.equal('session');
      expect(routeOutgoing({ sessionUp: false, registered: true }, CONFORMING)).to.equal('rejoin');
      expect(routeOutgoing({ sessionUp: false, registered: false }, CONFORMING)).to.equal('queue');
    });
    it('group identities compare without URI parameters', () => {
      expect(sameIdentity('sip:grp.7c1e9a@cpm-pf.example.net;transport=tcp', 'sip:grp.7c1e9a@CPM-PF.example.net')).to.equal(true);
      expect(sameIdentity('sip:grp.7c1e9a@cpm-pf.example.net', 'sip:other@cpm-pf.example.net')).to.equal(false);
    });
  });
});

import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { buildCpim, buildGroupChatMessage, parseCpim, type DispositionType } from '../../harness/cpim/cpim.ts';
import type { Finding } from '../../harness/core/finding.ts';
import { checkNotification, IMDN_RULES, requestedKinds, type CheckContext } from '../../harness/imdn/checker.ts';
import { buildImdn, buildImdnMessage, parseImdnXml, type ImdnOptions } from '../../harness/imdn/imdn.ts';
import { urisEquivalent } from '../../harness/imdn/uri-compare.ts';
import { sipUrisEqual as sipUrisEquivalent } from '../../harness/sip/uri.ts';

const read = (path: string) => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url));

const SENDER = 'sip:+15551230001@ims.example.net';
const CLIENT = 'sip:+15551230002@ims.example.net';
const GROUP = 'sip:grp.7c1e9a@cpm-pf.example.net';
const context: CheckContext = { clientUri: CLIENT, groupUri: GROUP };

function original(dispositions: DispositionType[] | null = ['positive-delivery', 'display']) {
  const cpim = parseCpim(buildGroupChatMessage({ from: SENDER, to: GROUP, dateTime: '2024-05-06T09:15:03.000Z', imdnMessageId: 'Msg7hQ2xLp0aZ', dispositionNotification: dispositions, text: 'Hi all, see you at 8' }));
  return { cpim, requested: requestedKinds(cpim) };
}

function notificationOf(body: Buffer) {
  const cpim = parseCpim(body);
  return { cpim, imdn: parseImdnXml(cpim.content) };
}

const goodImdn: ImdnOptions = { messageId: 'Msg7hQ2xLp0aZ', datetime: '2024-05-06T09:15:03.000Z', recipientUri: CLIENT, originalRecipientUri: GROUP, kind: 'delivery', status: 'delivered' };

/** The rules a notification broke (the checker also reports every rule that held). */
const rules = (findings: readonly Finding[]) => findings.filter((f) => !f.ok).map((f) => f.rule).sort();

describe('IMDN checker (PROTOCOLS §2.10.1)', () => {
  it('finds nothing wrong with the §2.9 and §2.10 golden notifications', () => {
    const delivery = checkNotification(original(), notificationOf(read('cpim/imdn-delivery.cpim')), context);
    expect(rules(delivery)).to.deep.equal([]);
    expect(rules(checkNotification(original(), notificationOf(read('cpim/imdn-display.cpim')), { ...context, userDisplayed: true }))).to.deep.equal([]);
    // Every rule that applies is reported as held, so a verdict can say what was checked.
    expect(delivery.map((f) => f.rule).sort()).to.deep.equal(IMDN_RULES.filter((r) => r !== 'imdn.unsolicited').sort());
  });

  it('returns every mismatch of a deliberately wrong IMDN in one call', () => {
    // Wrong message-id, receipt time as <datetime>, To = the group, Content-Disposition missing,
    // Disposition-Notification present, status failed, recipient-uri someone else.
    const xml = buildImdn({ ...goodImdn, messageId: 'WrongId', datetime: '2024-05-07T10:00:00Z', recipientUri: 'sip:+15559999999@ims.example.net', status: 'failed' });
    const body = buildCpim({
      from: CLIENT,
      to: GROUP,
      ns: [{ prefix: 'imdn', uri: 'urn:ietf:params:imdn' }],
      headers: [
        { name: 'imdn.Message-ID', value: 'Dn4kq81ZtRw2' },
        { name: 'imdn.Disposition-Notification', value: 'positive-delivery' },
      ],
      dateTime: '2024-05-07T10:00:00Z',
      dateTimeLast: true,
      contentType: 'message/imdn+xml',
      content: xml,
    });
    const findings = checkNotification(original(), notificationOf(body), context);
    expect(rules(findings)).to.deep.equal(
      [
        'imdn.status',
        'imdn.envelope.content-disposition',
        'imdn.envelope.to',
        'imdn.fields.message-id',
        'imdn.envelope.no-disposition-notification',
        'imdn.fields.datetime',
        'imdn.fields.recipient-uri',
      ].sort(),
    );
    const to = findings.find((f) => f.rule === 'imdn.envelope.to')!;
    expect(to.detail).to.match(/group/);
    expect(to.detail).to.include(`expected ${SENDER}, got ${GROUP}`);
    expect(findings.find((f) => f.rule === 'imdn.fields.message-id')!.detail).to.include('expected Msg7hQ2xLp0aZ, got WrongId');
    // The checker is neutral: no requirement ID, no level.
    for (const f of findings) expect(Object.keys(f).sort()).to.deep.equal(['detail', 'ok', 'rule']);
  });

  it('N10: receipt time in <datetime> breaks imdn.fields.datetime; the same instant in another offset holds', () => {
    const late = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-07T10:00:00Z', imdn: { ...goodImdn, datetime: '2024-05-07T10:00:00Z' } });
    expect(rules(checkNotification(original(), notificationOf(late), context))).to.deep.equal(['imdn.fields.datetime']);
    const offset = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-07T10:00:00Z', imdn: { ...goodImdn, datetime: '2024-05-06T11:15:03+02:00' } });
    expect(rules(checkNotification(original(), notificationOf(offset), context))).to.deep.equal([]);
  });

  it('N9: an IMDN for a message that requested none breaks imdn.unsolicited', () => {
    const body = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: goodImdn });
    expect(rules(checkNotification(original(null), notificationOf(body), context))).to.deep.equal(['imdn.unsolicited']);
  });

  it('a kind that was not requested breaks imdn.kind; display before the user displayed too', () => {
    const display = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: { ...goodImdn, kind: 'display', status: 'displayed' } });
    expect(rules(checkNotification(original(['positive-delivery']), notificationOf(display), context))).to.deep.equal(['imdn.kind']);
    expect(rules(checkNotification(original(), notificationOf(display), { ...context, userDisplayed: false }))).to.deep.equal(['imdn.kind']);
  });

  for (const status of ['failed', 'forbidden', 'error']) {
    it(`a delivery notification with status <${status}/> for a delivered message breaks imdn.status`, () => {
      const body = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: { ...goodImdn, status } });
      const findings = checkNotification(original(), notificationOf(body), context);
      expect(rules(findings)).to.deep.equal(['imdn.status']);
      expect(findings.find((f) => f.rule === 'imdn.status')!.detail).to.include(`expected delivered, got ${status}`);
    });
  }

  it('N22: Content-Disposition in the CPIM header block breaks only the placement rule', () => {
    const findings = checkNotification(original(), notificationOf(read('cpim/malformed/disposition-in-cpim-headers.cpim')), context);
    expect(rules(findings)).to.deep.equal(['imdn.envelope.disposition-placement']);
  });

  it('envelope rules: NS missing, id reused or repeated, anonymous From, bad DateTime, wrong Content-Type', () => {
    const body = Buffer.from(
      [
        'From: <sip:anonymous@anonymous.invalid>',
        `To: <${SENDER}>`,
        'imdn.Message-ID: Msg7hQ2xLp0aZ',
        'DateTime: yesterday',
        '',
        'Content-Type: application/xml',
        'Content-Disposition: notification',
        '',
        buildImdn(goodImdn),
      ].join('\r\n'),
    );
    const findings = checkNotification(original(), notificationOf(body), context);
    expect(rules(findings)).to.include.members(['imdn.envelope.ns', 'imdn.envelope.from', 'imdn.envelope.datetime', 'imdn.envelope.content-type', 'imdn.envelope.syntax']);
    expect(findings.find((f) => f.rule === 'imdn.envelope.from')!.detail).to.match(/anonymous/);

    const reused = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'Msg7hQ2xLp0aZ', dateTime: '2024-05-06T09:20:41Z', imdn: goodImdn });
    expect(rules(checkNotification(original(), notificationOf(reused), context))).to.deep.equal(['imdn.envelope.message-id']);
    const repeated = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: goodImdn });
    expect(rules(checkNotification(original(), notificationOf(repeated), { ...context, seenNotificationIds: new Set(['n1']) }))).to.deep.equal(['imdn.envelope.message-id']);
  });

  it('an unparsable IMDN document breaks imdn.fields.schema (and still checks the envelope)', () => {
    const body = buildCpim({
      from: CLIENT,
      to: SENDER,
      ns: [{ prefix: 'imdn', uri: 'urn:ietf:params:imdn' }],
      headers: [{ name: 'imdn.Message-ID', value: 'n1' }],
      dateTime: '2024-05-06T09:20:41Z',
      contentType: 'message/imdn+xml',
      contentDisposition: 'notification',
      content: read('imdn/malformed/doctype-billion-laughs.xml'),
    });
    expect(rules(checkNotification(original(), notificationOf(body), context))).to.deep.equal(['imdn.fields.datetime', 'imdn.fields.message-id', 'imdn.fields.schema']);
  });

  /** A delivery-requesting IM to `to` that names the group in imdn.Original-To (RFC 5438 §6.3). */
  const imWithOriginalTo = (to: string): ReturnType<typeof parseCpim> =>
    parseCpim(
      buildCpim({
        from: SENDER,
        to,
        dateTime: '2024-05-06T09:15:03.000Z',
        ns: [{ prefix: 'imdn', uri: 'urn:ietf:params:imdn' }],
        headers: [
          { name: 'imdn.Message-ID', value: 'Msg7hQ2xLp0aZ' },
          { name: 'imdn.Disposition-Notification', value: 'positive-delivery' },
          { name: 'imdn.Original-To', value: `<${GROUP}>` },
        ],
        contentType: 'text/plain',
        content: 'x',
      }),
    );

  it('original-recipient-uri may be imdn.Original-To instead of To', () => {
    const cpim = imWithOriginalTo('sip:anonymous@anonymous.invalid');
    const body = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: goodImdn });
    expect(rules(checkNotification({ cpim, requested: requestedKinds(cpim) }, notificationOf(body), context))).to.deep.equal([]);
  });

  it('RFC 5438 §7.2.1.3: <recipient-uri> may be the client or the IM\'s CPIM To (the group); the sender is neither', () => {
    const asGroup = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: { ...goodImdn, recipientUri: GROUP } });
    expect(rules(checkNotification(original(), notificationOf(asGroup), context))).to.deep.equal([]);
    const asSender = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: { ...goodImdn, recipientUri: SENDER } });
    expect(rules(checkNotification(original(), notificationOf(asSender), context))).to.deep.equal(['imdn.fields.recipient-uri']);
  });

  it('RFC 5438 §7.2.1.4: when the IM carried imdn.Original-To, <original-recipient-uri> is present and is that URI, not the CPIM To', () => {
    const cpim = imWithOriginalTo(CLIENT);
    const im = { cpim, requested: requestedKinds(cpim) };
    const withoutOriginal = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: { ...goodImdn, recipientUri: undefined, originalRecipientUri: undefined } });
    expect(rules(checkNotification(im, notificationOf(withoutOriginal), context))).to.deep.equal(['imdn.fields.original-recipient-uri']);
    const copiedTo = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: { ...goodImdn, originalRecipientUri: CLIENT } });
    expect(rules(checkNotification(im, notificationOf(copiedTo), context))).to.deep.equal(['imdn.fields.original-recipient-uri']);
    const right = buildImdnMessage({ from: CLIENT, to: SENDER, imdnMessageId: 'n1', dateTime: '2024-05-06T09:20:41Z', imdn: goodImdn });
    expect(rules(checkNotification(im, notificationOf(right), context))).to.deep.equal([]);
  });

  describe('URI comparison (RFC 3261 §19.1.4)', () => {
    it('host case-insensitive, user case-sensitive, escapes equal', () => {
      expect(sipUrisEquivalent('sip:+1555@IMS.Example.NET', 'sip:+1555@ims.example.net')).to.equal(true);
      expect(sipUrisEquivalent('sip:Alice@x', 'sip:alice@x')).to.equal(false);
      expect(sipUrisEquivalent('sip:%61lice@x', 'sip:alice@x')).to.equal(true);
    });
    it('explicit default port or transport never equals its absence; unknown params ignored', () => {
      expect(sipUrisEquivalent('sip:a@x', 'sip:a@x:5060')).to.equal(false);
      expect(sipUrisEquivalent('sip:a@x', 'sip:a@x;transport=udp')).to.equal(false);
      expect(sipUrisEquivalent('sip:a@x;newparam=5', 'sip:a@x')).to.equal(true);
      expect(sipUrisEquivalent('sip:a@x;user=phone', 'sip:a@x')).to.equal(false);
    });
    it('name-addr display names are ignored; tel: compares digits', () => {
      expect(urisEquivalent('"Bob" <sip:b@x>', 'sip:b@x')).to.equal(true);
      expect(urisEquivalent('tel:+1-555-123', '<tel:+1555123>')).to.equal(true);
      expect(urisEquivalent('sip:b@x', 'sips:b@x')).to.equal(false);
    });
  });
});

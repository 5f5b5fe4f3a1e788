import { expect } from 'chai';
import { buildMsrpOffer } from '../../harness/sdp/build.ts';
import { parseSdp } from '../../harness/sdp/parse.ts';
import type { Direction, SetupValue } from '../../harness/sdp/types.ts';
import { behaviourWith, CONFORMING, type Behaviour } from '../../harness/reference-client/behaviour.ts';
import * as decisions from '../../harness/reference-client/decisions.ts';
import { findMutant, MUTANTS } from '../../harness/reference-client/mutants.ts';
import { isRuleId } from '../../harness/verdict/rules.ts';

const REQUIRED_NAMES = [
  'accept-sendonly', 'accept-recvonly', 'accept-inactive', 'ignore-session-direction', 'reject-486', 'reject-415',
  'reject-no-warning', 'literal-sendrecv', 'never-subscribe', 'subscribe-before-ack', 'resubscribe-after-404',
  'imdn-wrong-message-id', 'imdn-receipt-time', 'imdn-via-sip-message', 'no-imdn', 'unsolicited-imdn', 'imdn-per-chunk',
  'bye-before-pf', 'ignore-pf-bye', 'subscription-lapses', 'rejoin-while-session-up', 'idle-rejoin', 'setup-always-active',
  'no-200-to-send', 'responds-to-report', 'ignore-failure-report-no', 'no-success-report', 'imdn-missing-disposition', 'imdn-to-group',
];

const AC = ['*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session"'];

function offer(session: Direction | null, media: Direction | null, setup: SetupValue | null = 'actpass') {
  return parseSdp(buildMsrpOffer({ address: '192.0.2.10', port: 7394, path: ['msrp://192.0.2.10:7394/s1;tcp'], sessionDirection: session, mediaDirection: media, setup }));
}

/** Every decision function over a fixed set of probe inputs, as one comparable value. */
function fingerprint(b: Behaviour): Record<string, unknown> {
  const invites: Record<string, unknown> = {};
  const probes: [string, Direction | null, Direction | null, SetupValue | null][] = [
    ['media-sendrecv', null, 'sendrecv', 'actpass'],
    ['media-sendonly', null, 'sendonly', 'actpass'],
    ['media-recvonly', null, 'recvonly', 'actpass'],
    ['media-inactive', null, 'inactive', 'actpass'],
    ['session-inactive', 'inactive', null, 'actpass'],
    ['none', null, null, 'actpass'],
    ['no-setup', null, 'sendrecv', null],
    ['session-sendonly-media-sendrecv', 'sendonly', 'sendrecv', 'actpass'],
  ];
  for (const [name, s, m, setup] of probes) {
    const d = decisions.decideInvite({ acceptContact: AC, sdp: offer(s, m, setup), agent: 'h' }, b);
    invites[name] = d.kind === 'accept' ? { accept: d.setup } : d.kind === 'ignore' ? { ignore: true } : { reject: d.status, warning: d.warning ?? null, subscribe: d.subscribe ?? false, bye: d.bye ?? false };
  }
  const original = { from: 'sip:a@x', to: 'sip:g@x', imdnMessageId: 'orig', dateTime: '2024-01-01T00:00:00.000Z' };
  const ctx = { ownAor: 'sip:me@x', groupIdentity: 'sip:g@x', ownImdnMessageId: 'own', now: new Date('2024-06-01T00:00:00.000Z') };
  const all = new Set(['positive-delivery', 'display']);
  const none = new Set<string>();
  return {
    invites,
    icsi: [
      decisions.recognisesCpmInvite({ acceptContact: [AC[0]!.replace(/%3A/g, '%3a')] }, b),
      decisions.recognisesCpmInvite({ acceptContact: AC, headerNames: ['a'] }, b),
      decisions.decideInvite({ acceptContact: ['*;+g.other'], sdp: null, agent: 'h' }, b).kind,
    ],
    answer: decisions.answerShape(b, { host: 'h', sessionId: 's' }),
    setupAbsent: decisions.answerSetup(undefined, b),
    subscribe: decisions.whenToSubscribe(b),
    subscribeRequest: decisions.subscribeRequest(b, 'sip:g@x', 'sip:me@x'),
    on404: decisions.onSubscribeResponse(404, b),
    noresource: decisions.onSubscriptionState('terminated', 'noresource', b),
    refresh: [decisions.refreshDelayMs(60, b), decisions.refreshMethod(b)],
    notify: [
      decisions.onConferenceNotify(Buffer.from('<conference-info entity="x" version="1"><conference-description/></conference-info>'), b),
      decisions.onConferenceNotify(Buffer.from('<conference-info entity="x" state="full" version="1"></conference-info>'), b),
    ],
    imdn: [
      decisions.notificationsFor(all, 'chunk', b),
      decisions.notificationsFor(all, 'complete', b),
      decisions.notificationsFor(none, 'complete', b),
      decisions.notificationsFor(all, 'displayed', b),
    ],
    route: decisions.imdnRoute(b),
    envelope: decisions.imdnEnvelope(original, 'delivery', ctx, b),
    payload: (() => {
      const p = decisions.imdnPayload(decisions.imdnEnvelope(original, 'delivery', ctx, b));
      return { contentType: p.contentType, body: p.body.toString('utf8') };
    })(),
    msrp: [decisions.respondToSend('yes', b), decisions.respondToSend('no', b), decisions.sendSuccessReport('yes', b), decisions.respondToReport(b), decisions.responsePaths(b)],
    bye: [decisions.afterDelivery(b), decisions.afterDelivery(b, 3), decisions.byeResponse(b), decisions.patienceMs(b), decisions.sendsAfterBye(b)],
    rejoin: [
      decisions.onRegistered({ queued: 0, sessionUp: false }, b),
      decisions.routeOutgoing({ sessionUp: true, registered: true }, b),
      decisions.routeOutgoing({ sessionUp: false, registered: true }, b),
      decisions.rejoinAcceptContact(b),
      decisions.sendQueuedOnRejoin(b),
    ],
  };
}

describe('reference client mutants', () => {
  it('the registry has every required name exactly once', () => {
    const names = MUTANTS.map((m) => m.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const name of REQUIRED_NAMES) expect(names, name).to.include(name);
  });

  it('every mutant names rule ids of the rule table and a valid N-case', () => {
    for (const m of MUTANTS) {
      expect(m.breaks.length, m.name).to.be.greaterThan(0);
      for (const id of m.breaks) expect(isRuleId(id), `${m.name}: ${id}`).to.equal(true);
      if (m.ncase !== undefined) expect(m.ncase, m.name).to.match(/^N([1-9]|1\d|2\d)$/);
    }
  });

  it('an unknown name resolves to nothing', () => {
    expect(findMutant('no-such-mutant')).to.equal(undefined);
  });

  const conforming = fingerprint(CONFORMING);
  for (const name of [...REQUIRED_NAMES, ...MUTANTS.map((m) => m.name).filter((n) => !REQUIRED_NAMES.includes(n))]) {
    it(`${name} resolves and changes at least one decision`, () => {
      const mutant = findMutant(name);
      expect(mutant, name).to.not.equal(undefined);
      expect(Object.keys(mutant!.behaviour).length).to.be.greaterThan(0);
      expect(fingerprint(behaviourWith(mutant!.behaviour))).to.not.deep.equal(conforming);
    });
  }

  it('no two mutants make the same decisions', () => {
    const seen = new Map<string, string>();
    for (const m of MUTANTS) {
      const key = JSON.stringify(fingerprint(behaviourWith(m.behaviour)));
      expect(seen.get(key), `${m.name} duplicates ${seen.get(key)}`).to.equal(undefined);
      seen.set(key, m.name);
    }
  });
});

/**
 * Test purposes for 7.3.12-1a: the client handles a PF-initiated group INVITE carrying the CPM
 * feature tag in Accept-Contact — minimal and full header sets (N16), legal encodings of the
 * feature tag (N4) and an extra unsupported stream (E8) — with a final response.
 */
import type { InviteSpec } from '../harness/pf/types.ts';
import { CPM_SESSION_ICSI, encodeIcsi } from '../harness/sip/caller-prefs.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { ACCEPT_RULES, acceptInvite, endSession, is2xx, requireReachable, statusText } from './lib/steps.ts';

const GROUP = 'invite-handling';
/** The ICSI as a feature-tag value, percent-encoded (TS 24.229 §7.2A.8). */
const ICSI = encodeIcsi(CPM_SESSION_ICSI);

/**
 * canonical: must be accepted (1a-i); legal: a spelling RFC 3840 or a real stack shows ([V]/[I]);
 * unconfirmed: equivalence the digest marks [U]; extra-stream: E8, only a final response is asked.
 */
type Variant = 'canonical' | 'legal' | 'unconfirmed' | 'extra-stream';

interface HandlingRow {
  name: string;
  title: string;
  purpose: string;
  spec: InviteSpec;
  variant: Variant;
}

const ROWS: readonly HandlingRow[] = [
  {
    name: 'minimal',
    title: 'minimal valid group INVITE gets a final response and is accepted',
    purpose: 'Only what H1/H2 need: Accept-Contact with the CPM ICSI, Contact with isfocus; no Conversation-ID, Contribution-ID, Subject or Referred-By (N16).',
    spec: { headerSet: 'minimal' },
    variant: 'canonical',
  },
  {
    name: 'full',
    title: 'full group INVITE (Conversation-ID, Contribution-ID, Subject, Referred-By) is accepted',
    purpose: 'The PROTOCOLS.md §2.1 INVITE with Referred-By naming the original sender.',
    spec: { headerSet: 'full' },
    variant: 'canonical',
  },
  {
    name: 'icsi-lowercase-escape',
    title: 'feature tag with lower-case percent escapes (%3a) is handled',
    purpose: 'RFC 3986: %3a and %3A are equivalent (N4 robustness).',
    spec: { acceptContact: { value: `*;+g.3gpp.icsi-ref="${ICSI.replace(/%3A/g, '%3a')}"` } },
    variant: 'unconfirmed',
  },
  {
    name: 'icsi-list',
    title: 'feature tag as a value list (session, session.group) is handled',
    purpose: 'RFC 3840 tag-value-list (N4 robustness).',
    spec: { acceptContact: { value: `*;+g.3gpp.icsi-ref="${ICSI},${ICSI}.group"` } },
    variant: 'legal',
  },
  {
    name: 'icsi-require-explicit',
    title: 'feature tag with ;require;explicit is handled',
    purpose: 'RFC 3841 parameters after the tag must not change acceptance (N4 robustness).',
    spec: { acceptContact: { value: `*;+g.3gpp.icsi-ref="${ICSI}";require;explicit` } },
    variant: 'unconfirmed',
  },
  {
    name: 'compact-accept-contact',
    title: 'compact header form a: for Accept-Contact is handled',
    purpose: 'RFC 3841 compact form "a" (N4 robustness).',
    spec: { acceptContact: { headerName: 'a' } },
    variant: 'legal',
  },
  {
    name: 'extra-audio-stream',
    title: 'offer with an extra m=audio stream gets a final response',
    purpose: 'E8: an extra unsupported stream may be refused with port 0 and must not by itself cause a 488; observed and reported.',
    spec: { extraMedia: ['m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000'] },
    variant: 'extra-stream',
  },
];

function handlingCase(row: HandlingRow): TestCaseDefinition {
  const variantRule = row.variant === 'legal' ? 'invite.icsi-variant' : 'invite.icsi-variant-unconfirmed';
  return defineTestCase({
    id: `inv-${row.name}`,
    title: row.title,
    purpose: row.purpose,
    group: GROUP,
    rules: row.variant === 'canonical' ? ['invite.final-response', ...ACCEPT_RULES] : row.variant === 'extra-stream' ? ['invite.final-response'] : ['invite.final-response', variantRule],
    async run(t) {
      if (row.variant === 'canonical') {
        const done = await acceptInvite(t, row.spec);
        // acceptInvite judged 1a-i; 1a itself only asks for a final response.
        const last = t.pf.events.all().filter((e) => e.type === 'invite-response' && e.response.status >= 200).at(-1);
        const final = last?.type === 'invite-response' ? last.response : null;
        t.observe('invite.final-response', final !== null, final ? `final response ${statusText(final)} to the ${row.name} group INVITE` : 'no final response to the group INVITE', last);
        if (done) await endSession(t, done.session);
        return;
      }
      const invite = await t.pf.invite(row.spec);
      requireReachable(t, invite);
      const evidence = [invite.request, ...invite.provisional, invite.final];
      t.observe('invite.final-response', invite.final !== null, invite.final ? `final response ${statusText(invite.final)}` : `no final response: ${invite.failure?.message ?? 'timeout'}`, evidence);
      if (invite.final && row.variant === 'extra-stream') {
        t.note(`${row.name}: ${is2xx(invite.final) ? 'accepted' : `answered ${statusText(invite.final)} (E8: inconclusive, reported only)`}`);
      } else if (invite.final) {
        t.observe(
          variantRule,
          is2xx(invite.final),
          is2xx(invite.final) ? `the ${row.name} spelling of the CPM feature tag was handled as a group INVITE (${statusText(invite.final)})` : `a legal variant of the CPM feature tag (${row.name}) was not handled as a group INVITE: ${statusText(invite.final)}`,
          evidence,
        );
      }
      if (invite.session) await endSession(t, invite.session);
    },
  });
}

export const INVITE_HANDLING_CASES: readonly TestCaseDefinition[] = ROWS.map(handlingCase);

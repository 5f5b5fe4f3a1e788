/**
 * Test purposes for 7.3.12-1a: the client handles a PF-initiated group INVITE carrying the CPM
 * feature tag in Accept-Contact — minimal and full header sets (N16), legal encodings of the
 * feature tag (N4) and an extra unsupported stream (E8) — with a final response.
 */
import type { InviteSpec } from '../harness/pf/types.ts';
import { CPM_SESSION_ICSI, encodeIcsi } from '../harness/sip/caller-prefs.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { endSession, establish, is2xx, statusText } from './lib/steps.ts';

const GROUP = 'invite-handling';
/** The ICSI as a feature-tag value, percent-encoded (TS 24.229 §7.2A.8). */
const ICSI = encodeIcsi(CPM_SESSION_ICSI);

interface HandlingRow {
  name: string;
  title: string;
  purpose: string;
  spec: InviteSpec;
  /** Whether acceptance is required (1a-i) or only a final response (1a, robustness). */
  mustAccept: boolean;
}

const ROWS: readonly HandlingRow[] = [
  {
    name: 'minimal',
    title: 'minimal valid group INVITE gets a final response and is accepted',
    purpose: 'Only what H1/H2 need: Accept-Contact with the CPM ICSI, Contact with isfocus; no Conversation-ID, Contribution-ID, Subject or Referred-By (N16).',
    spec: { headerSet: 'minimal' },
    mustAccept: true,
  },
  {
    name: 'full',
    title: 'full group INVITE (Conversation-ID, Contribution-ID, Subject, Referred-By) is accepted',
    purpose: 'The PROTOCOLS.md §2.1 INVITE with Referred-By naming the original sender.',
    spec: { headerSet: 'full' },
    mustAccept: true,
  },
  {
    name: 'icsi-lowercase-escape',
    title: 'feature tag with lower-case percent escapes (%3a) is handled',
    purpose: 'RFC 3986: %3a and %3A are equivalent (N4 robustness).',
    spec: { acceptContact: { value: `*;+g.3gpp.icsi-ref="${ICSI.replace(/%3A/g, '%3a')}"` } },
    mustAccept: false,
  },
  {
    name: 'icsi-list',
    title: 'feature tag as a value list (session, session.group) is handled',
    purpose: 'RFC 3840 tag-value-list (N4 robustness).',
    spec: { acceptContact: { value: `*;+g.3gpp.icsi-ref="${ICSI},${ICSI}.group"` } },
    mustAccept: false,
  },
  {
    name: 'icsi-require-explicit',
    title: 'feature tag with ;require;explicit is handled',
    purpose: 'RFC 3841 parameters after the tag must not change acceptance (N4 robustness).',
    spec: { acceptContact: { value: `*;+g.3gpp.icsi-ref="${ICSI}";require;explicit` } },
    mustAccept: false,
  },
  {
    name: 'compact-accept-contact',
    title: 'compact header form a: for Accept-Contact is handled',
    purpose: 'RFC 3841 compact form "a" (N4 robustness).',
    spec: { acceptContact: { headerName: 'a' } },
    mustAccept: false,
  },
  {
    name: 'extra-audio-stream',
    title: 'offer with an extra m=audio stream gets a final response',
    purpose: 'E8: an extra unsupported stream may be refused with port 0 and must not by itself cause a 488; observed and reported.',
    spec: { extraMedia: ['m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000'] },
    mustAccept: false,
  },
];

function handlingCase(row: HandlingRow): TestCaseDefinition {
  return defineTestCase({
    id: `inv-${row.name}`,
    title: row.title,
    purpose: row.purpose,
    group: GROUP,
    requirements: row.mustAccept ? ['7.3.12-1a', '7.3.12-1a-i'] : ['7.3.12-1a'],
    async run(t) {
      if (row.mustAccept) {
        const done = await establish(t, row.spec);
        const invite = done?.invite;
        if (done && invite) {
          t.pass('7.3.12-1a', `final response ${statusText(invite.final)} to the ${row.name} group INVITE`, [invite.request, invite.final]);
          await endSession(t, done.session);
        } else {
          // establish() judged 1a-i; 1a itself only asks for a final response.
          const last = t.pf.events.all().filter((e) => e.type === 'invite-response' && e.response.status >= 200).at(-1);
          if (last && last.type === 'invite-response') t.pass('7.3.12-1a', `final response ${statusText(last.response)}`, last);
          else t.violation('7.3.12-1a', 'no final response to the group INVITE', last);
        }
        return;
      }
      const invite = await t.pf.invite(row.spec);
      const evidence = [invite.request, ...invite.provisional, invite.final];
      if (!invite.final) {
        t.violation('7.3.12-1a', `no final response: ${invite.failure?.message ?? 'timeout'}`, evidence);
        return;
      }
      if (is2xx(invite.final) || row.name === 'extra-audio-stream') {
        t.pass('7.3.12-1a', `final response ${statusText(invite.final)}`, evidence);
        t.note(`${row.name}: ${is2xx(invite.final) ? 'accepted' : `answered ${statusText(invite.final)} (E8: inconclusive, reported only)`}`);
      } else {
        // Robustness, not conformance (PROTOCOLS.md N4): reported as a warning.
        t.warn('7.3.12-1a', `a legal variant of the CPM feature tag (${row.name}) was not handled as a group INVITE: ${statusText(invite.final)}`, evidence);
      }
      if (invite.session) await endSession(t, invite.session);
    },
  });
}

export const INVITE_HANDLING_CASES: readonly TestCaseDefinition[] = ROWS.map(handlingCase);

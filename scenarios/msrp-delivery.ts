/**
 * Test purposes for 7.3.12-1a-i-1 and the MSRP rules under it: deferred messages arrive on the
 * PF-initiated session single and chunked, every SEND chunk gets its 200 (none when
 * Failure-Report: no), REPORTs follow Success-Report and are never answered, and the MSRP
 * connection goes the way a=setup says (RFC 4145 §4.1, RFC 6135).
 */
import { msrpHeader } from '../harness/msrp/frame.ts';
import { msrpUrisEqual, parseMsrpPath } from '../harness/msrp/uri.ts';
import type { DeferredSession, DeliveryResult, InviteSpec } from '../harness/pf/types.ts';
import { findMsrpMedia } from '../harness/sdp/index.ts';
import type { TestContext } from '../harness/testcase/context.ts';
import { defineTestCase, type TestCaseDefinition } from '../harness/testcase/definition.ts';
import { deliver, delivered200, endSession, establish, expectAbsent, ofType, requireReachable } from './lib/steps.ts';

const GROUP = 'msrp-delivery';

function samePath(a: string, b: string): boolean {
  const pa = parseMsrpPath(a);
  const pb = parseMsrpPath(b);
  if (!pa.ok || !pb.ok || pa.value.length !== pb.value.length) return false;
  return pa.value.every((u, i) => msrpUrisEqual(u, pb.value[i]!));
}

/** msrp-response: each 200 carries the SEND's transaction id and swapped paths (RFC 4975 §7.2). */
export function judgeResponses(t: TestContext, session: DeferredSession, delivery: DeliveryResult): void {
  const problems: string[] = [];
  for (const chunk of delivery.chunks) {
    const r = chunk.response;
    if (!r) continue;
    if (r.transactionId !== chunk.transactionId) problems.push(`response ${r.transactionId} to SEND ${chunk.transactionId}`);
    const toPath = msrpHeader(r, 'To-Path') ?? '';
    const fromPath = msrpHeader(r, 'From-Path') ?? '';
    if (!samePath(toPath, session.localPath)) problems.push(`To-Path "${toPath}" is not the SEND's From-Path "${session.localPath}"`);
    const clientUri = session.remotePath[session.remotePath.length - 1] ?? '';
    if (!samePath(fromPath, clientUri)) problems.push(`From-Path "${fromPath}" is not the client's URI "${clientUri}"`);
  }
  const responses = delivery.chunks.map((c) => c.response).filter((r) => r !== null);
  if (responses.length === 0) return;
  t.observe('msrp.response.form', problems.length === 0, problems.length === 0 ? `${responses.length} transaction response(s) with matching transaction ids and swapped paths` : problems.join('; '), responses);
}

interface DeliveryRow {
  name: string;
  title: string;
  spec: { chunkSize?: number; unknownTotal?: boolean };
}

const DELIVERY_ROWS: readonly DeliveryRow[] = [
  { name: 'single', title: 'single-chunk deferred message: 200 to the SEND', spec: {} },
  { name: 'chunked', title: 'chunked deferred message (64-octet chunks): 200 to every chunk', spec: { chunkSize: 64 } },
  { name: 'unknown-total', title: 'chunked deferred message with Byte-Range n-*/*: 200 to every chunk', spec: { chunkSize: 64, unknownTotal: true } },
];

function deliveryCase(row: DeliveryRow): TestCaseDefinition {
  return defineTestCase({
    id: `msrp-deliver-${row.name}`,
    title: row.title,
    purpose: 'After the session is bound the PF sends a CPIM deferred group message over MSRP; the client answers every SEND chunk 200 per RFC 4975 §7.2, and keeps the session until the PF ends it.',
    group: GROUP,
    needs: ['msrp'],
    rules: ['msrp.send-200', 'msrp.response.form', 'session.kept'],
    async run(t) {
      const done = await establish(t);
      const delivery = await deliver(t, done.session, { ...row.spec, disposition: ['positive-delivery'] });
      if (delivery) judgeResponses(t, done.session, delivery);
      await endSession(t, done.session);
    },
  });
}

const failureReportNo = defineTestCase({
  id: 'msrp-failure-report-no',
  title: 'SEND with Failure-Report: no gets no transaction response',
  purpose: 'RFC 4975 §7.2: with Failure-Report "no" the receiver sends no transaction response (PROTOCOLS.md N18).',
  group: GROUP,
  needs: ['msrp'],
  rules: ['msrp.failure-report-no', 'session.kept'],
  async run(t) {
    const done = await establish(t);
    const delivery = await delivered200(t, done.session, { failureReport: 'no', disposition: null });
    const ids = new Set(delivery.chunks.map((c) => c.transactionId));
    const answered = delivery.chunks.find((c) => c.response !== null)?.response;
    if (answered) t.observe('msrp.failure-report-no', false, 'the client answered a SEND that carried Failure-Report: no (RFC 4975 §7.2: no response)', answered);
    else {
      await expectAbsent(t, 'msrp.failure-report-no', ofType('msrp-response', (e) => ids.has(e.frame.transactionId)), {
        window: 'sideEffectMs',
        since: delivery.startSeq,
        held: `no transaction response to the Failure-Report: no SEND within ${t.windows.sideEffectMs} ms`,
        seen: () => 'the client answered a SEND that carried Failure-Report: no (RFC 4975 §7.2: no response)',
      });
    }
    await endSession(t, done.session);
  },
});

const successReport = defineTestCase({
  id: 'msrp-success-report',
  title: 'SEND with Success-Report: yes gets a REPORT',
  purpose: 'RFC 4975 §7.1.2: a receiver sends a success REPORT when Success-Report is "yes" (PROTOCOLS.md N24).',
  group: GROUP,
  needs: ['msrp'],
  rules: ['msrp.success-report', 'session.kept'],
  async run(t) {
    const done = await establish(t);
    const delivery = await delivered200(t, done.session, { successReport: 'yes', disposition: null });
    const report = await t.pf.events.waitFor(
      ofType('msrp-report', (e) => msrpHeader(e.frame, 'Message-ID') === delivery.msrpMessageId),
      { within: t.windows.imdnMs, since: delivery.startSeq },
    );
    if (!report || report.type !== 'msrp-report') {
      t.observe('msrp.success-report', false, `no REPORT for Message-ID ${delivery.msrpMessageId} within ${t.windows.imdnMs} ms although Success-Report: yes`);
    } else {
      const status = msrpHeader(report.frame, 'Status') ?? '';
      const ok = /^000 200\b/.test(status);
      t.observe('msrp.success-report', ok, ok ? `REPORT with Status: ${status}` : `REPORT with Status "${status}", expected 000 200`, report);
    }
    await endSession(t, done.session);
  },
});

const reportUnanswered = defineTestCase({
  id: 'msrp-report-unanswered',
  title: 'REPORT from the PF gets no transaction response',
  purpose: 'RFC 4975 §7.1.2: REPORT requests are never answered (PROTOCOLS.md N17).',
  group: GROUP,
  needs: ['msrp'],
  rules: ['msrp.report-unanswered', 'session.kept'],
  async run(t) {
    const done = await establish(t);
    const delivery = await delivered200(t, done.session, { disposition: null });
    const mark = t.pf.events.mark();
    const sent = await done.session.sendReport({ messageId: delivery.msrpMessageId, byteRange: `1-${delivery.cpim.length}/${delivery.cpim.length}` });
    if (!sent.ok) t.prerequisite('the PF sends its REPORT', sent.reason);
    await expectAbsent(t, 'msrp.report-unanswered', ofType('msrp-response', (e) => e.frame.transactionId === sent.transactionId), {
      window: 'sideEffectMs',
      since: mark,
      held: `no response to the PF's REPORT within ${t.windows.sideEffectMs} ms`,
      seen: () => 'the client answered a REPORT (RFC 4975 §7.1.2: REPORT requests get no response)',
    });
    await endSession(t, done.session);
  },
});

interface SetupRow {
  name: string;
  offer: InviteSpec['setup'];
  title: string;
  /** The answers RFC 4145 allows, and who must connect. */
  allowed: readonly (string | undefined)[];
}

const SETUP_ROWS: readonly SetupRow[] = [
  { name: 'actpass', offer: 'actpass', title: 'a=setup:actpass offer: client picks a role and the connection follows it', allowed: ['active', 'passive'] },
  { name: 'absent', offer: null, title: 'offer without a=setup: client is passive (RFC 4145 default), the PF connects', allowed: ['passive', undefined] },
  { name: 'pf-active', offer: 'active', title: 'a=setup:active offer: client is passive, the PF connects', allowed: ['passive'] },
];

function setupCase(row: SetupRow): TestCaseDefinition {
  return defineTestCase({
    id: `msrp-setup-${row.name}`,
    title: row.title,
    purpose: 'RFC 4145 §4.1 / RFC 6135: the answer\'s a=setup must fit the offer (absent in the offer means the offerer is active) and the active side opens the TCP connection (PROTOCOLS.md N3, N29).',
    group: GROUP,
    needs: ['msrp'],
    rules: ['msrp.setup.answer', 'msrp.setup.connection'],
    async run(t) {
      const invite = await t.pf.invite({ setup: row.offer });
      requireReachable(t, invite);
      const media = invite.answer ? findMsrpMedia(invite.answer)[0] : undefined;
      const answered = media?.setup;
      const evidence = [invite.request, invite.final];
      // A stream rejected with port 0 is no MSRP answer to judge a=setup in.
      if (!invite.final || invite.final.status < 200 || invite.final.status >= 300 || !media || media.port === 0) {
        if (invite.session) await endSession(t, invite.session);
        t.prerequisite('the sendrecv offer is accepted with an MSRP answer', !invite.final ? 'no final response' : media?.port === 0 ? 'the MSRP stream answered with port 0' : `answered ${invite.final.status}`, evidence);
      }
      const offerText = row.offer === null ? 'without a=setup' : `a=setup:${row.offer}`;
      const answerText = answered === undefined ? 'without a=setup' : `a=setup:${answered}`;
      const ok = row.allowed.includes(answered);
      t.observe(
        'msrp.setup.answer',
        ok,
        ok
          ? `offer ${offerText} answered ${answerText}`
          : `offer ${row.offer === null ? 'without a=setup (offerer active by default)' : offerText} answered ${answerText}; RFC 4145 §4.1 allows ${row.allowed.map((a) => a ?? '(absent)').join(' or ')}`,
        evidence,
      );
      const session = invite.session;
      // With a wrong a=setup the connection outcome follows from it; it is not judged again.
      if (!ok || !session) {
        if (session) await endSession(t, session);
        return;
      }
      const ready = await session.ready(t.windows.msrpConnectMs);
      const connections = t.pf.events.since(invite.startSeq).filter(ofType('msrp-connection', (e) => e.state !== 'closed'));
      const clientConnected = connections.some((e) => e.type === 'msrp-connection' && e.state === 'accepted');
      const active = session.pfRole === 'active' ? 'PF' : 'client';
      if (!ready.ok) {
        t.observe('msrp.setup.connection', false, `negotiated roles make the ${active} active, but no MSRP session came up within ${t.windows.msrpConnectMs} ms: ${ready.reason}`, evidence);
      } else if ((session.pfRole === 'active') === clientConnected) {
        t.observe('msrp.setup.connection', false, `the TCP connection was opened by the ${clientConnected ? 'client' : 'PF'} although the negotiated roles make the ${active} active`, evidence);
      } else {
        t.observe('msrp.setup.connection', true, `MSRP bound; the ${active} opened the connection as negotiated`, evidence);
      }
      await endSession(t, session);
    },
  });
}

export const MSRP_DELIVERY_CASES: readonly TestCaseDefinition[] = [
  ...DELIVERY_ROWS.map(deliveryCase),
  failureReportNo,
  successReport,
  reportUnanswered,
  ...SETUP_ROWS.map(setupCase),
];

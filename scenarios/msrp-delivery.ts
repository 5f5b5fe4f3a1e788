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
import { deliver, endSession, establish, ofType } from './lib/steps.ts';

const GROUP = 'msrp-delivery';

function samePath(a: string, b: string): boolean {
  const pa = parseMsrpPath(a);
  const pb = parseMsrpPath(b);
  if (!pa.ok || !pb.ok || pa.value.length !== pb.value.length) return false;
  return pa.value.every((u, i) => msrpUrisEqual(u, pb.value[i]!));
}

/** msrp-response: each 200 carries the SEND's transaction id and swapped paths (RFC 4975 §7.2). */
function judgeResponses(t: TestContext, session: DeferredSession, delivery: DeliveryResult): void {
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
  t.check('msrp-response', problems.length === 0, `${responses.length} transaction response(s) with matching transaction ids and swapped paths`, problems.join('; '), responses);
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
    purpose: 'After the session is bound the PF sends a CPIM deferred group message over MSRP; the client answers every SEND chunk 200 per RFC 4975 §7.2.',
    group: GROUP,
    needs: ['msrp'],
    requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', 'msrp-response'],
    async run(t) {
      const done = await establish(t);
      if (!done) return;
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
  requirements: ['7.3.12-1a-i', 'msrp-response'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { failureReport: 'no', disposition: null }, false);
    if (!delivery) {
      t.notJudged('msrp-response', 'the message could not be sent');
      return;
    }
    const ids = new Set(delivery.chunks.map((c) => c.transactionId));
    const answered = delivery.chunks.find((c) => c.response !== null)?.response ??
      (await t.pf.events.expectNone(ofType('msrp-response', (e) => ids.has(e.frame.transactionId)), { within: t.windows.sideEffectMs, since: delivery.startSeq }));
    if (answered) t.violation('msrp-response', 'the client answered a SEND that carried Failure-Report: no (RFC 4975 §7.2: no response)', answered);
    else t.pass('msrp-response', `no transaction response to the Failure-Report: no SEND within ${t.windows.sideEffectMs} ms`);
    await endSession(t, done.session);
  },
});

const successReport = defineTestCase({
  id: 'msrp-success-report',
  title: 'SEND with Success-Report: yes gets a REPORT',
  purpose: 'RFC 4975 §7.1.2: a receiver sends a success REPORT when Success-Report is "yes" (PROTOCOLS.md N24).',
  group: GROUP,
  needs: ['msrp'],
  requirements: ['7.3.12-1a-i', '7.3.12-1a-i-1', 'msrp-report'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { successReport: 'yes', disposition: null });
    if (!delivery) return;
    const report = await t.pf.events.waitFor(
      ofType('msrp-report', (e) => msrpHeader(e.frame, 'Message-ID') === delivery.msrpMessageId),
      { within: t.windows.imdnMs, since: delivery.startSeq },
    );
    if (!report || report.type !== 'msrp-report') {
      t.violation('msrp-report', `no REPORT for Message-ID ${delivery.msrpMessageId} within ${t.windows.imdnMs} ms although Success-Report: yes`);
    } else {
      const status = msrpHeader(report.frame, 'Status') ?? '';
      t.check('msrp-report', /^000 200\b/.test(status), `REPORT with Status: ${status}`, `REPORT with Status "${status}", expected 000 200`, report);
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
  requirements: ['7.3.12-1a-i', 'msrp-report'],
  async run(t) {
    const done = await establish(t);
    if (!done) return;
    const delivery = await deliver(t, done.session, { disposition: null }, false);
    if (!delivery) {
      t.notJudged('msrp-report', 'no message to report on');
      return;
    }
    const mark = t.pf.events.mark();
    const sent = await done.session.sendReport({ messageId: delivery.msrpMessageId, byteRange: `1-${delivery.cpim.length}/${delivery.cpim.length}` });
    if (!sent.ok) {
      t.notJudged('msrp-report', `the PF could not send its REPORT: ${sent.reason}`);
      return;
    }
    const answer = await t.pf.events.expectNone(ofType('msrp-response', (e) => e.frame.transactionId === sent.transactionId), {
      within: t.windows.sideEffectMs,
      since: mark,
    });
    if (answer) t.violation('msrp-report', 'the client answered a REPORT (RFC 4975 §7.1.2: REPORT requests get no response)', answer);
    else t.pass('msrp-report', `no response to the PF's REPORT within ${t.windows.sideEffectMs} ms`);
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
    requirements: ['7.3.12-1a-i', 'msrp-setup'],
    async run(t) {
      const invite = await t.pf.invite({ setup: row.offer });
      const media = invite.answer ? findMsrpMedia(invite.answer)[0] : undefined;
      const answered = media?.setup;
      const evidence = [invite.request, invite.final];
      if (!invite.final || invite.final.status < 200 || invite.final.status >= 300 || !media) {
        t.violation('7.3.12-1a-i', `no 2xx with an MSRP answer to a sendrecv offer (${invite.final ? invite.final.status : 'no final response'})`, evidence);
        t.notJudged('msrp-setup', 'no answer to judge');
        if (invite.session) await endSession(t, invite.session);
        return;
      }
      const ok = row.allowed.includes(answered);
      t.check(
        'msrp-setup',
        ok,
        `offer ${row.offer === null ? 'without a=setup' : `a=setup:${row.offer}`} answered ${answered === undefined ? 'without a=setup' : `a=setup:${answered}`}`,
        `offer ${row.offer === null ? 'without a=setup (offerer active by default)' : `a=setup:${row.offer}`} answered ${answered === undefined ? 'without a=setup' : `a=setup:${answered}`}; RFC 4145 §4.1 allows ${row.allowed.map((a) => a ?? '(absent)').join(' or ')}`,
        evidence,
      );
      const session = invite.session;
      if (!session) {
        if (ok) t.violation('7.3.12-1a-i', 'the PF could not set up MSRP from the answer', evidence);
        else t.notJudged('7.3.12-1a-i', 'the a=setup answer is already wrong; the MSRP outcome follows from it');
        return;
      }
      const ready = await session.ready(t.windows.msrpConnectMs);
      if (!ready.ok && !ok) t.notJudged('7.3.12-1a-i', `the a=setup answer is already wrong, and no MSRP session came up (${ready.reason})`);
      else if (!ready.ok) t.violation('7.3.12-1a-i', `no MSRP session within ${t.windows.msrpConnectMs} ms: ${ready.reason}`, evidence);
      else {
        t.pass('7.3.12-1a-i', `MSRP bound with the PF ${session.pfRole}`, evidence);
        const connections = t.pf.events.since(invite.startSeq).filter(ofType('msrp-connection', (e) => e.state !== 'closed'));
        const clientConnected = connections.some((e) => e.type === 'msrp-connection' && e.state === 'accepted');
        if (ok && (session.pfRole === 'active') === clientConnected) {
          t.violation('msrp-setup', `the TCP connection was opened by the ${clientConnected ? 'client' : 'PF'} although the negotiated roles make the ${session.pfRole === 'active' ? 'PF' : 'client'} active`);
        }
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

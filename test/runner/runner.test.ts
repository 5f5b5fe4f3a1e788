import { expect } from 'chai';
import type { ClientFactory, ClientUnderTest, UpperTester } from '../../harness/client/types.ts';
import { stamp, type MessageTraceEvent } from '../../harness/core/trace.ts';
import type { ParticipatingFunctionApi, PfEventLog } from '../../harness/pf/types.ts';
import { buildJunitXml } from '../../harness/reporters/junit.ts';
import { buildMarkdownReport } from '../../harness/reporters/markdown.ts';
import { runSuite, type StartPf } from '../../harness/runner/runner.ts';
import { builtinConfig } from '../../harness/testcase/config.ts';
import { defineTestCase, selectCases, type TestCaseDefinition } from '../../harness/testcase/definition.ts';
import { aggregate, type TestCaseResult } from '../../harness/verdict/verdict.ts';
import { validateWithXmllint, xmllintAvailable } from '../../harness/xml/xmllint.ts';

/** A PF stand-in: registers at once, records nothing; enough to drive the runner's bookkeeping. */
function fakePf(onClose: () => void, register = true): ParticipatingFunctionApi {
  const events: PfEventLog = {
    all: () => [],
    mark: () => 1,
    since: () => [],
    waitFor: async () => null,
    expectNone: async () => null,
    onEvent: () => () => {},
  };
  return {
    registrar: { transport: 'tcp', address: '127.0.0.1', port: 5060 },
    group: { identity: 'sip:grp@pf.invalid', conversationId: 'c', contributionId: 'k', subject: 's', participants: [] },
    events,
    config: builtinConfig(),
    conference: { mode: 'active' },
    rejoin: { answer: 'accept' },
    waitForRegistration: async () => (register ? { aor: 'sip:a@b', contact: 'sip:a@127.0.0.1' } : null),
    invite: async () => {
      throw new Error('not used');
    },
    sendNotify: async () => {
      throw new Error('not used');
    },
    subscriptions: () => [],
    close: async () => onClose(),
  } as unknown as ParticipatingFunctionApi;
}

function fakeClient(ut: UpperTester | null = null): { factory: ClientFactory; stopped: () => number } {
  let stops = 0;
  const client: ClientUnderTest = { description: 'fake', upperTester: ut, start: async () => {}, stop: async () => { stops++; } };
  return { factory: { description: 'fake', create: () => client }, stopped: () => stops };
}

const event: MessageTraceEvent = stamp<MessageTraceEvent>({
  kind: 'message',
  direction: 'in',
  protocol: 'sip',
  transport: 'tcp',
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '127.0.0.1', port: 5070 },
  actor: 'pf',
  bytes: Buffer.from('SIP/2.0 200 OK\r\nX-Odd: \u0001\r\n\r\n', 'latin1'),
  summary: 'SIP/2.0 200 OK',
  diagnostics: [],
});

function cases(): TestCaseDefinition[] {
  return [
    defineTestCase({ id: 'passes', title: 'passes', purpose: 'p', group: 'g1', requirements: ['7.3.12-1a'], run: async (t) => t.pass('7.3.12-1a', 'ok', event) }),
    defineTestCase({ id: 'fails', title: 'fails <&>', purpose: 'p', group: 'g1', requirements: ['7.3.12-1a-ii'], run: async (t) => t.violation('7.3.12-1a-ii', 'expected 488, got 200 "OK"') }),
    defineTestCase({ id: 'warns', title: 'warns', purpose: 'p', group: 'g2', requirements: ['7.3.12-1a-ii-warning'], run: async (t) => t.violation('7.3.12-1a-ii-warning', 'no Warning') }),
    defineTestCase({ id: 'says-nothing', title: 'no verdict', purpose: 'p', group: 'g2', requirements: ['7.3.12-1a'], run: async () => {} }),
    defineTestCase({ id: 'throws', title: 'throws', purpose: 'p', group: 'g2', requirements: ['7.3.12-1a'], run: async () => { throw new Error('boom'); } }),
    defineTestCase({ id: 'hangs', title: 'hangs', purpose: 'p', group: 'g2', requirements: ['7.3.12-1a'], run: () => new Promise<void>(() => {}) }),
    defineTestCase({ id: 'needs-ut', title: 'needs UT', purpose: 'p', group: 'g3', requirements: ['7.3.12-1d-i'], upperTester: ['queueMessage'], run: async (t) => t.pass('7.3.12-1d-i', 'x') }),
    defineTestCase({ id: 'skips', title: 'skips', purpose: 'p', group: 'g3', requirements: ['7.3.12-2a'], run: async (t) => t.skip('not applicable here') }),
  ];
}

describe('runner', () => {
  let closes = 0;
  const startPf: StartPf = async () => fakePf(() => closes++);

  it('gives every case exactly one result and tears everything down, whatever the case does', async () => {
    closes = 0;
    const client = fakeClient();
    const results = await runSuite({ cases: cases(), client: client.factory, config: builtinConfig(), startPf, jobs: 3, caseTimeoutMs: 200 });
    const outcome = Object.fromEntries(results.map((r) => [r.id, r.outcome]));
    expect(outcome).to.deep.equal({
      passes: 'pass',
      fails: 'fail',
      warns: 'warning',
      'says-nothing': 'error',
      throws: 'error',
      hangs: 'error',
      'needs-ut': 'skipped',
      skips: 'skipped',
    });
    expect(results.find((r) => r.id === 'hangs')!.error!.message).to.match(/hard limit of 200 ms/);
    expect(results.find((r) => r.id === 'needs-ut')!.skipReason).to.match(/needs upper tester/);
    expect(closes).to.equal(8);
    expect(client.stopped()).to.equal(8);
  });

  it('turns a client that never registers into an error with the reason', async () => {
    const results = await runSuite({ cases: cases().slice(0, 1), client: fakeClient().factory, config: builtinConfig(), startPf: async () => fakePf(() => {}, false) });
    expect(results[0]!.outcome).to.equal('error');
    expect(results[0]!.error!.message).to.match(/did not REGISTER/);
  });

  it('after an abort, running cases end as error and the rest as skipped: no case is lost', async () => {
    const controller = new AbortController();
    const slow = defineTestCase({ id: 'slow', title: 's', purpose: 'p', group: 'g', requirements: ['7.3.12-1a'], run: () => new Promise<void>(() => controller.abort()) });
    const later = defineTestCase({ id: 'later', title: 'l', purpose: 'p', group: 'g', requirements: ['7.3.12-1a'], run: async (t) => t.pass('7.3.12-1a', 'x') });
    const results = await runSuite({ cases: [slow, later], client: fakeClient().factory, config: builtinConfig(), startPf, signal: controller.signal });
    expect(results.map((r) => [r.id, r.outcome])).to.deep.equal([
      ['slow', 'error'],
      ['later', 'skipped'],
    ]);
  });

  it('rejects verdicts for requirements a case does not declare', async () => {
    const sloppy = defineTestCase({ id: 'sloppy', title: 's', purpose: 'p', group: 'g', requirements: ['7.3.12-1a'], run: async (t) => t.pass('7.3.12-1b-sub', 'x') });
    const [result] = await runSuite({ cases: [sloppy], client: fakeClient().factory, config: builtinConfig(), startPf });
    expect(result!.outcome).to.equal('error');
    expect(result!.error!.message).to.match(/does not declare/);
  });

  it('selects cases by id, title, group or requirement ID', () => {
    expect(selectCases(cases(), /1a-ii/).map((c) => c.id)).to.deep.equal(['fails', 'warns']);
    expect(selectCases(cases(), /^g3$/).map((c) => c.id)).to.deep.equal(['needs-ut', 'skips']);
  });

  it('aggregates to the worst verdict, and never passes with no verdict', () => {
    expect(aggregate([])).to.equal('error');
    const v = (outcome: 'pass' | 'fail' | 'warning' | 'skipped' | 'informative') => ({ requirement: 'x', level: 'SHALL' as const, outcome, reason: '', evidence: [] });
    expect(aggregate([v('pass'), v('warning'), v('informative')])).to.equal('warning');
    expect(aggregate([v('pass'), v('fail'), v('warning')])).to.equal('fail');
    expect(aggregate([v('skipped'), v('pass')])).to.equal('pass');
    expect(aggregate([v('skipped')])).to.equal('skipped');
  });
});

describe('reports', () => {
  let results: TestCaseResult[];
  before(async () => {
    const tracing: StartPf = async ({ trace }) => {
      trace(event);
      return fakePf(() => {});
    };
    results = await runSuite({ cases: cases(), client: fakeClient().factory, config: builtinConfig(), startPf: tracing, jobs: 4, caseTimeoutMs: 100 });
  });

  it('JUnit XML validates against junit-10.xsd, with skip reasons and escaped control bytes', function () {
    const xml = buildJunitXml(results, { suiteName: 'cpm-harness', client: 'fake', startedAt: '2026-11-25T08:00:00.000Z' });
    expect(xml).to.not.match(/<testsuites[^>]* skipped=/);
    expect(xml).to.include('<skipped message="needs upper tester (queueMessage)"/>');
    expect(xml).to.include('X-Odd: \\x01');
    expect(xml).to.include('evidence: #');
    expect(xml).to.include('name="[7.3.12-1a-ii] fails &lt;&amp;>"');
    expect(xml).to.include('message="7.3.12-1a-ii (SHALL): expected 488, got 200 &quot;OK&quot;"');
    if (!xmllintAvailable()) {
      if (process.env.CI === 'true') throw new Error('xmllint not installed; .ci/run installs libxml2-utils');
      this.skip();
    }
    const outcome = validateWithXmllint(xml, new URL('../../fixtures/schemas/junit-10.xsd', import.meta.url).pathname);
    expect(outcome.available && outcome.valid, outcome.available ? outcome.output : outcome.reason).to.equal(true);
  });

  it('Markdown report lists every case and every requirement', () => {
    const md = buildMarkdownReport(results, { client: 'fake', startedAt: 'now', wallMs: 10, config: { transport: 'tcp' } });
    for (const r of results) expect(md).to.include(`| ${r.outcome} | ${r.id} |`);
    expect(md).to.include('| 7.3.12-NOTE | SHOULD NOT | – | not judged |');
  });
});

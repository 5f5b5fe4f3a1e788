import { expect } from 'chai';
import type { ClientFactory, ClientUnderTest, UpperTester } from '../../harness/client/types.ts';
import { stamp, type MessageTraceEvent } from '../../harness/core/trace.ts';
import type { ParticipatingFunctionApi, PfEventLog } from '../../harness/pf/types.ts';
import { buildJunitXml } from '../../harness/reporters/junit.ts';
import { buildMarkdownReport } from '../../harness/reporters/markdown.ts';
import { NOT_STARTED_INTERRUPTED, RUNNING_INTERRUPTED, runSuite, type StartPf } from '../../harness/runner/runner.ts';
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
    defineTestCase({ id: 'passes', title: 'passes', purpose: 'p', group: 'g1', rules: ['invite.final-response'], run: async (t) => void t.observe('invite.final-response', true, 'ok', event) }),
    defineTestCase({ id: 'fails', title: 'fails <&>', purpose: 'p', group: 'g1', rules: ['reject.status'], run: async (t) => void t.observe('reject.status', false, 'expected 488, got 200 "OK"') }),
    defineTestCase({ id: 'warns', title: 'warns', purpose: 'p', group: 'g2', rules: ['reject.warning'], run: async (t) => void t.observe('reject.warning', false, 'no Warning') }),
    defineTestCase({ id: 'says-nothing', title: 'no verdict', purpose: 'p', group: 'g2', rules: ['invite.final-response'], run: async () => {} }),
    defineTestCase({ id: 'throws', title: 'throws', purpose: 'p', group: 'g2', rules: ['invite.final-response'], run: async () => { throw new Error('boom'); } }),
    defineTestCase({ id: 'hangs', title: 'hangs', purpose: 'p', group: 'g2', rules: ['invite.final-response'], run: () => new Promise<void>(() => {}) }),
    defineTestCase({ id: 'needs-ut', title: 'needs UT', purpose: 'p', group: 'g3', rules: ['queued.on-session'], upperTester: ['queueMessage'], run: async (t) => void t.observe('queued.on-session', true, 'x') }),
    defineTestCase({ id: 'skips', title: 'skips', purpose: 'p', group: 'g3', rules: ['rejoin.form'], run: async (t) => t.skip('not applicable here') }),
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

  it('a client that never registers makes the case inconclusive, the prerequisite named, never an error', async () => {
    const results = await runSuite({ cases: cases().slice(0, 1), client: fakeClient().factory, config: builtinConfig(), startPf: async () => fakePf(() => {}, false) });
    expect(results[0]!.outcome).to.equal('inconclusive');
    expect(results[0]!.error).to.equal(undefined);
    expect(results[0]!.verdicts.map((v) => [v.requirement, v.outcome])).to.deep.equal([['7.3.12-1a', 'inconclusive']]);
    expect(results[0]!.verdicts[0]!.reason).to.match(/prerequisite failed: the client registers: no REGISTER within/);
  });

  it('a failed prerequisite makes every requirement not yet judged inconclusive; judged ones keep their verdict', async () => {
    const preamble = defineTestCase({
      id: 'preamble',
      title: 'p',
      purpose: 'p',
      group: 'g',
      rules: ['sub.sent', 'imdn.status', 'imdn.fields.message-id'],
      run: async (t) => {
        t.observe('sub.sent', true, 'subscribed');
        t.prerequisite('the deferred message is delivered', 'chunk 1-10/10: 415');
      },
    });
    const [result] = await runSuite({ cases: [preamble], client: fakeClient().factory, config: builtinConfig(), startPf });
    expect(result!.outcome).to.equal('inconclusive');
    expect(result!.verdicts.map((v) => [v.requirement, v.outcome])).to.deep.equal([
      ['7.3.12-1b-sub', 'pass'],
      ['7.3.12-1b-ii', 'inconclusive'],
      ['imdn-fields', 'inconclusive'],
    ]);
    expect(result!.verdicts[1]!.reason).to.equal('not judged: prerequisite failed: the deferred message is delivered: chunk 1-10/10: 415');
    expect(result!.notes).to.include('prerequisite failed: the deferred message is delivered: chunk 1-10/10: 415');
  });

  it('after a violation, the requirements the case never got to are inconclusive, not absent', async () => {
    const stops = defineTestCase({
      id: 'stops',
      title: 's',
      purpose: 'p',
      group: 'g',
      rules: ['reject.status', 'reject.warning'],
      run: async (t) => void t.observe('reject.status', false, 'got 200'),
    });
    const [result] = await runSuite({ cases: [stops], client: fakeClient().factory, config: builtinConfig(), startPf });
    expect(result!.outcome).to.equal('fail');
    const warning = result!.verdicts.find((v) => v.requirement === '7.3.12-1a-ii-warning')!;
    expect(warning.outcome).to.equal('inconclusive');
    expect(warning.reason).to.match(/stopped after reject\.status: got 200/);
  });

  it('the rule table decides the outcome: a [U] SHALL rule warns, a descriptive rule informs', async () => {
    const mixed = defineTestCase({
      id: 'mixed',
      title: 'm',
      purpose: 'p',
      group: 'g',
      rules: ['sub.after-ack', 'notify.answered', 'imdn.status'],
      run: async (t) => {
        t.observe('sub.after-ack', false, 'before the ACK');
        t.observe('notify.answered', false, '500');
        t.observe('imdn.status', false, 'status of the delivery notification is not delivered (expected delivered, got failed)');
      },
    });
    const [result] = await runSuite({ cases: [mixed], client: fakeClient().factory, config: builtinConfig(), startPf });
    expect(result!.verdicts.map((v) => [v.rule, v.requirement, v.outcome, v.held])).to.deep.equal([
      ['sub.after-ack', '7.3.12-1b-sub', 'warning', false],
      ['notify.answered', '7.3.12-1b-i-a', 'informative', false],
      ['imdn.status', '7.3.12-1b-ii', 'fail', false],
    ]);
    expect(result!.verdicts[0]!.marker).to.equal('U');
    expect(result!.verdicts[0]!.reason).to.match(/unconfirmed \[U\]/);
  });

  it('for an external client an absence seen only within a scaled window is informative, with the real window named', async () => {
    const absence = defineTestCase({
      id: 'absence',
      title: 'a',
      purpose: 'p',
      group: 'g',
      rules: ['sub404.no-resubscribe'],
      run: async (t) => void t.observe('sub404.no-resubscribe', true, 'no new SUBSCRIBE within 250 ms of the 404', undefined, { absenceWindow: 'quarantineMs' }),
    });
    const external = { ...builtinConfig(), client: 'external' as const };
    const [scaled] = await runSuite({ cases: [absence], client: fakeClient().factory, config: external, startPf });
    expect(scaled!.outcome).to.equal('informative');
    expect(scaled!.verdicts[0]!.reason).to.include('not observed within 250 ms; the real window is 300 s');
    const [builtin] = await runSuite({ cases: [absence], client: fakeClient().factory, config: builtinConfig(), startPf });
    expect(builtin!.outcome).to.equal('pass');
  });

  it('after an abort, running cases end as error and the rest as skipped: no case is lost', async () => {
    const controller = new AbortController();
    const slow = defineTestCase({ id: 'slow', title: 's', purpose: 'p', group: 'g', rules: ['invite.final-response'], run: () => new Promise<void>(() => controller.abort()) });
    const later = defineTestCase({ id: 'later', title: 'l', purpose: 'p', group: 'g', rules: ['invite.final-response'], run: async (t) => void t.observe('invite.final-response', true, 'x') });
    const results = await runSuite({ cases: [slow, later], client: fakeClient().factory, config: builtinConfig(), startPf, signal: controller.signal });
    expect(results.map((r) => [r.id, r.outcome])).to.deep.equal([
      ['slow', 'error'],
      ['later', 'skipped'],
    ]);
  });

  it('a case interrupted in any step — PF start, client start, REGISTER wait, the case itself — says so in the same words', async () => {
    const hangs = (): Promise<never> => new Promise<never>(() => {});
    const one = defineTestCase({ id: 'one', title: 'o', purpose: 'p', group: 'g', rules: ['invite.final-response'], run: hangs });
    const steps: { step: string; startPf: StartPf; client: ClientFactory }[] = [
      { step: 'PF start', startPf: () => hangs(), client: fakeClient().factory },
      { step: 'client start', startPf, client: { description: 'fake', create: () => ({ description: 'fake', upperTester: null, start: hangs, stop: async () => {} }) } },
      { step: 'REGISTER wait', startPf: async () => ({ ...fakePf(() => {}), waitForRegistration: hangs }) as ParticipatingFunctionApi, client: fakeClient().factory },
      { step: 'case', startPf, client: fakeClient().factory },
    ];
    for (const { step, startPf: start, client } of steps) {
      const controller = new AbortController();
      const pending = runSuite({ cases: [one, one], client, config: builtinConfig(), startPf: start, signal: controller.signal, onCaseStart: () => setImmediate(() => controller.abort()) });
      const [running, later] = await pending;
      expect([running!.outcome, running!.error?.message], step).to.deep.equal(['error', RUNNING_INTERRUPTED]);
      expect([later!.outcome, later!.skipReason], step).to.deep.equal(['skipped', NOT_STARTED_INTERRUPTED]);
    }
  });

  it('rejects findings for rules a case does not declare', async () => {
    const sloppy = defineTestCase({ id: 'sloppy', title: 's', purpose: 'p', group: 'g', rules: ['invite.final-response'], run: async (t) => void t.observe('sub.sent', true, 'x') });
    const [result] = await runSuite({ cases: [sloppy], client: fakeClient().factory, config: builtinConfig(), startPf });
    expect(result!.outcome).to.equal('error');
    expect(result!.error!.message).to.match(/does not declare/);
  });

  it('selects cases by id, title, group or requirement ID, and by exactly one requirement ID', () => {
    expect(selectCases(cases(), /1a-ii/).map((c) => c.id)).to.deep.equal(['fails', 'warns']);
    expect(selectCases(cases(), /^g3$/).map((c) => c.id)).to.deep.equal(['needs-ut', 'skips']);
    expect(selectCases(cases(), { requirement: '7.3.12-1a-ii' }).map((c) => c.id)).to.deep.equal(['fails']);
    expect(selectCases(cases(), { grep: /^g2$/, requirement: '7.3.12-1a' }).map((c) => c.id)).to.deep.equal(['says-nothing', 'throws', 'hangs']);
  });

  it('a case\'s requirement IDs follow from its rules, in catalogue order', () => {
    const c = defineTestCase({ id: 'c', title: 't', purpose: 'p', group: 'g', rules: ['imdn.fields.schema', 'reject.warning', 'reject.status', 'reject.side-effects'], run: async () => {} });
    expect(c.requirements).to.deep.equal(['7.3.12-1a-ii', '7.3.12-1a-ii-warning', 'imdn-fields']);
  });

  it('aggregates to the worst verdict, and never passes with no verdict', () => {
    expect(aggregate([])).to.equal('error');
    const v = (outcome: 'pass' | 'fail' | 'warning' | 'skipped' | 'informative') => ({ requirement: '7.3.12-1a' as const, level: 'SHALL' as const, outcome, reason: '', evidence: [] });
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

import { expect } from 'chai';
import { diagnostic } from '../../harness/core/diagnostic.ts';
import { stamp, type ConnectionTraceEvent, type MessageTraceEvent, type TraceEvent } from '../../harness/core/trace.ts';
import { mergeReports } from '../../harness/cli/merge-command.ts';
import { validateResults } from '../../harness/cli/results-schema.ts';
import { parseShard, selectShard } from '../../harness/cli/shard.ts';
import { headline } from '../../harness/reporters/case-text.ts';
import { buildHtmlReport, eventAnchor } from '../../harness/reporters/html.ts';
import { junitFromReport } from '../../harness/reporters/junit.ts';
import { buildLadder } from '../../harness/reporters/ladder.ts';
import { markdownFromReport } from '../../harness/reporters/markdown.ts';
import { reportFromRecord, resultsJson, type ResultsFile } from '../../harness/reporters/results-file.ts';
import { configDigest, foldRepeats, repeatText, reportFailed, type CaseReport, type RunReport } from '../../harness/reporters/run-report.ts';
import { builtinConfig } from '../../harness/testcase/config.ts';
import { REQUIREMENTS } from '../../harness/verdict/requirements.ts';
import type { Outcome, TestCaseResult, Verdict } from '../../harness/verdict/verdict.ts';

const endpoints = { transport: 'tcp' as const, local: { address: '127.0.0.1', port: 5060 }, remote: { address: '127.0.0.1', port: 5070 }, connectionId: 'tcp-1', actor: 'pf' };

function message(direction: 'in' | 'out', text: string, summary: string, diagnostics = [] as MessageTraceEvent['diagnostics']): MessageTraceEvent {
  return stamp<MessageTraceEvent>({ kind: 'message', protocol: 'sip', direction, bytes: Buffer.from(text, 'latin1'), summary, diagnostics, ...endpoints });
}

function connection(state: ConnectionTraceEvent['state'], reason: string): ConnectionTraceEvent {
  return stamp<ConnectionTraceEvent>({ kind: 'connection', protocol: 'msrp', state, reason, bytes: Buffer.from('\x00\x01garbage'), ...endpoints });
}

function result(id: string, outcome: Outcome, trace: TraceEvent[], verdicts: Verdict[], extra: Partial<TestCaseResult> = {}): TestCaseResult {
  return { id, title: `${id} title`, group: 'g', requirements: ['7.3.12-1a-ii', '7.3.12-1a-ii-warning'], outcome, verdicts, startedAt: new Date(Date.now() - 5).toISOString(), durationMs: 12.5, trace, notes: ['a note'], ...extra };
}

function report(cases: CaseReport[], strict = false): RunReport {
  const config = builtinConfig();
  return {
    meta: {
      version: '9.9.9',
      client: 'builtin:accept-sendonly',
      transport: 'tcp',
      startedAt: '2026-12-01T10:00:00.000Z',
      wallMs: 1234,
      config,
      configDigest: configDigest(config),
      strict,
      repeat: 1,
      selected: cases.length,
      requirements: REQUIREMENTS.map(({ id, level, title }) => ({ id, level, title })),
    },
    cases,
  };
}

const invite = message('out', 'INVITE sip:c@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n', 'INVITE sip:c@127.0.0.1 SIP/2.0');
const hostile = message(
  'in',
  'SIP/2.0 200 OK\r\nX-Evil: <script>alert(1)</script>\x01\r\n\r\n',
  'SIP/2.0 200 OK <script>',
  [diagnostic('SIP_BAD_HEADER_LINE', 'control byte in a header', 'RFC 3261 §25.1', { bytes: '\x01', offset: 40 })],
);
const garbage = connection('garbage', 'unframeable bytes');
const failing = result('fails', 'fail', [invite, hostile, garbage], [
  { requirement: '7.3.12-1a-ii', level: 'SHALL', outcome: 'fail', reason: 'expected 488, got 200', evidence: [invite, hostile] },
  { requirement: '7.3.12-1a-ii-warning', level: 'SHOULD', outcome: 'skipped', reason: 'not judged', evidence: [] },
]);
const passing = result('passes', 'pass', [invite], [{ requirement: '7.3.12-1a-ii', level: 'SHALL', outcome: 'pass', reason: 'ok', evidence: [invite], marker: 'V' }]);
const sample = report([
  { result: passing, purpose: 'the purpose of passes', order: 0 },
  { result: failing, purpose: 'the purpose of fails', order: 1, pcap: 'pcap/fails.pcap' },
]);

describe('results.json: versioned, schema-valid, and enough to rebuild every report', () => {
  it('validates against docs/results.schema.json and round-trips to identical JUnit, Markdown and HTML', () => {
    const data = JSON.parse(resultsJson(sample)) as unknown;
    const checked = validateResults(data);
    expect(checked.ok, checked.ok ? '' : checked.errors.join('\n')).to.equal(true);
    const file = data as ResultsFile;
    expect(file.format).to.equal('cpm-harness-results');
    expect(file.schemaVersion).to.equal(1);
    expect(file.failed).to.equal(true);
    expect(file.cases[1]!.verdicts[0]!.evidence.map((e) => e.seq)).to.deep.equal([invite.seq, hostile.seq]);
    const rebuilt = reportFromRecord(file);
    expect(junitFromReport(rebuilt, { html: 'reports/index.html' })).to.equal(junitFromReport(sample, { html: 'reports/index.html' }));
    expect(markdownFromReport(rebuilt)).to.equal(markdownFromReport(sample));
    expect(buildHtmlReport(rebuilt)).to.equal(buildHtmlReport(sample));
    expect(rebuilt.cases[1]!.result.trace[1]!.kind === 'message' && rebuilt.cases[1]!.result.trace[1]!.bytes.equals(hostile.bytes)).to.equal(true);
  });

  it('a schema violation names the field', () => {
    const data = JSON.parse(resultsJson(sample)) as { cases: { outcome: string }[] };
    data.cases[0]!.outcome = 'great';
    const checked = validateResults(data);
    expect(checked.ok).to.equal(false);
    if (!checked.ok) expect(checked.errors.join('\n')).to.include('/cases/0/outcome');
  });

  it('the config digest depends on the values, not on key order', () => {
    const a = builtinConfig();
    const b = { ...builtinConfig(), windows: Object.fromEntries(Object.entries(builtinConfig().windows).reverse()) } as typeof a;
    expect(configDigest(a)).to.equal(configDigest(b)).and.match(/^sha256:[0-9a-f]{64}$/);
    expect(configDigest({ ...a, transport: 'udp' })).to.not.equal(configDigest(a));
  });
});

describe('HTML report (markup)', () => {
  const page = buildHtmlReport(sample, { pcapHref: (c) => c.pcap });

  it('is self-contained: one script (its own), a CSP that forbids the network, no external reference', () => {
    expect(page.match(/<script\b/g)).to.have.length(1);
    expect(page).to.include("default-src 'none'");
    expect(page).to.not.match(/\b(src|href)="(https?:)?\/\//);
  });

  it('shows client bytes as text: markup escaped, control bytes marked, CRLF shown', () => {
    expect(page).to.include('X-Evil: &lt;script&gt;alert(1)&lt;/script&gt;<span class="esc">\\x01</span>');
    expect(page).to.include('<span class="eol">\\r\\n</span>');
    expect(page).to.include('SIP_BAD_HEADER_LINE (RFC 3261 §25.1) at byte 40');
    expect(page).to.include('<span class="esc">\\x00</span><span class="esc">\\x01</span>garbage');
  });

  it('highlights the messages that decided a failing verdict, links them from it, and opens what the client sent', () => {
    const row = (seq: number): string => page.slice(page.indexOf(`id="${eventAnchor('fails', seq)}"`) - 80, page.indexOf(`id="${eventAnchor('fails', seq)}"`) + 120);
    expect(row(hostile.seq)).to.match(/class="ev p-sip decisive o-fail evidence"/).and.include(' open>');
    expect(row(invite.seq)).to.match(/decisive o-fail/).and.not.include(' open>');
    expect(page).to.include(`href="#${eventAnchor('fails', hostile.seq)}" class="ev-link"`);
    const passRow = page.slice(page.indexOf(`id="${eventAnchor('passes', invite.seq)}"`) - 80, page.indexOf(`id="${eventAnchor('passes', invite.seq)}"`));
    expect(passRow).to.not.include('decisive');
  });

  it('orders failures first, with the run verdict, the counts, the matrix and the pcap link', () => {
    expect(page.indexOf('data-case-row="fails"')).to.be.lessThan(page.indexOf('data-case-row="passes"'));
    expect(page).to.include('Run failed: 1 fail');
    expect(page).to.match(/data-filter-outcome="fail" aria-pressed="false"[^>]*><b>1<\/b>fail/);
    expect(page).to.include('href="pcap/fails.pcap"');
    expect(page).to.include('the purpose of fails');
  });

  it('the harness requirement `wire` has its row and column: held where no wire fault ended a case, failed where one did', () => {
    const wireFault = result('wire-broken', 'fail', [garbage], [
      { requirement: 'wire', level: 'SHALL', rule: 'wire.msrp.framing', held: false, outcome: 'fail', reason: 'MSRP_GARBAGE (RFC 4975 §7.1)', evidence: [garbage] },
    ]);
    const withFault = report([
      { result: passing, purpose: 'the purpose of passes', order: 0 },
      { result: wireFault, purpose: 'the purpose of wire-broken', order: 1 },
    ]);
    const md = markdownFromReport(withFault);
    expect(md).to.include('| wire | SHALL | every case (judged by the runner; held in 1); wire-broken | fail |');
    expect(markdownFromReport(report([{ result: passing, purpose: 'p', order: 0 }]))).to.include('| wire | SHALL | every case (judged by the runner; held in 1) | pass |');
    const htmlPage = buildHtmlReport(withFault);
    expect(htmlPage).to.match(/<th class="req o-fail" title="wire \(SHALL\)[^"]*">wire<\/th>/);
    expect(htmlPage).to.include('title="wire: held (judged by the runner in every case: no wire fault)"');
    // Filtering by `wire` finds the case a wire fault ended, though it declares no such requirement.
    expect(htmlPage).to.match(/data-case-row="wire-broken" data-outcome="fail" data-ids="[^"]*\bwire\b/);
  });

  it('the ladder puts each event on its protocol lane with times from the case start', () => {
    const ladder = buildLadder(failing);
    expect(ladder.lanes.map((l) => l.protocol)).to.deep.equal(['sip', 'msrp']);
    expect(ladder.rows.map((r) => [r.protocol, r.flow])).to.deep.equal([['sip', 'to-client'], ['sip', 'to-harness'], ['msrp', 'none']]);
    expect(ladder.rows[0]!.atMs).to.be.within(0, 1000);
    expect(ladder.rows[1]!.decisive).to.equal('fail');
  });
});

describe('--repeat, --strict, --shard and merge', () => {
  it('folds repeated runs into the worst run, counting outcomes and flagging mixed ones as flaky', () => {
    const runs = [passing, { ...failing, id: 'passes' }, passing];
    const { result: worst, repeat } = foldRepeats(runs, (r) => r.outcome);
    expect(worst.outcome).to.equal('fail');
    expect(repeat).to.deep.include({ runs: 3, outcomes: { pass: 2, fail: 1 }, flaky: true });
    expect(repeatText(repeat)).to.equal('fail 1, pass 2 of 3 runs (flaky)');
    expect(foldRepeats([passing, passing], (r) => r.outcome).repeat.flaky).to.equal(false);
  });

  it('strict makes a warning fail the run; inconclusive fails it always', () => {
    const warn = result('warns', 'warning', [], [{ requirement: '7.3.12-1a-ii-warning', level: 'SHOULD', outcome: 'warning', reason: 'no Warning', evidence: [] }]);
    expect(reportFailed(report([{ result: warn, purpose: '', order: 0 }]))).to.equal(false);
    expect(reportFailed(report([{ result: warn, purpose: '', order: 0 }], true))).to.equal(true);
    expect(reportFailed(report([{ result: { ...warn, outcome: 'inconclusive' }, purpose: '', order: 0 }]))).to.equal(true);
    expect(junitFromReport(report([{ result: warn, purpose: '', order: 0 }], true))).to.include('type="StrictWarning"');
  });

  it('parses --shard and splits a selection into disjoint shards that add up to it', () => {
    expect(parseShard('2/3')).to.deep.equal({ ok: true, value: { index: 2, count: 3 } });
    for (const bad of ['0/3', '4/3', '3', 'a/b', '1/0']) expect(parseShard(bad).ok, bad).to.equal(false);
    const items = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const shards = [1, 2, 3].map((index) => selectShard(items, { index, count: 3 }));
    expect(shards.map((s) => s.length)).to.deep.equal([4, 3, 3]);
    expect(shards.flat().sort((a, b) => a.order - b.order).map((x) => x.item)).to.deep.equal(items);
    expect(selectShard(items, undefined).map((x) => x.order)).to.deep.equal(items.map((_, i) => i));
  });

  it('merges shards back into run order and refuses reports that are not shards of one run', () => {
    const a = report([{ result: failing, purpose: '', order: 1 }]);
    const b = report([{ result: passing, purpose: '', order: 0 }]);
    const shardOf = (r: RunReport, index: number): RunReport => ({ ...r, meta: { ...r.meta, shard: { index, count: 3 }, selected: 3 } });
    const merged = mergeReports([{ path: 'a.json', report: shardOf(a, 2) }, { path: 'b.json', report: shardOf(b, 1) }]);
    expect(merged.ok).to.equal(true);
    if (!merged.ok) return;
    expect(merged.report.cases.map((c) => c.result.id)).to.deep.equal(['passes', 'fails']);
    expect(merged.report.meta.mergedFrom).to.deep.equal(['a.json', 'b.json']);
    expect(merged.warnings.join('\n')).to.include('shard 3/3 missing');
    const twice = mergeReports([{ path: 'a.json', report: a }, { path: 'a2.json', report: a }]);
    expect(!twice.ok && twice.message).to.include('test case fails is in both a.json and a2.json');
    const other = { ...b, meta: { ...b.meta, configDigest: 'sha256:' + '0'.repeat(64) } };
    expect(mergeReports([{ path: 'a.json', report: a }, { path: 'o.json', report: other }]).ok).to.equal(false);
  });
});

describe('the reason shown for a case that passes', () => {
  it('is its purpose rule\'s verdict (its first declared rule), not the first verdict recorded', () => {
    const kept: Verdict = { requirement: '7.3.12-1c-i', level: 'SHALL', rule: 'session.kept', held: true, outcome: 'pass', reason: 'no BYE from the client', evidence: [] };
    const returned: Verdict = { requirement: '7.3.12-1b-ii', level: 'SHALL', rule: 'imdn.returned', held: true, outcome: 'pass', reason: 'display notification returned', evidence: [] };
    const display = result('imdn-display', 'pass', [], [kept, returned], { requirements: ['7.3.12-1b-ii', '7.3.12-1c-i'] });
    expect(headline(display)).to.equal('7.3.12-1b-ii (SHALL): display notification returned');
    // A case the catalogue does not know (a results.json of another version): the first verdict of its outcome.
    expect(headline({ ...display, id: 'not-in-the-catalogue' })).to.equal('7.3.12-1c-i (SHALL): no BYE from the client');
  });
});

describe('the reason shown for a case that fails', () => {
  it('is its first failing verdict (the cause), even when its purpose rule failed later', () => {
    const cause: Verdict = { requirement: '7.3.12-1c-i', level: 'SHALL', rule: 'session.kept', held: false, outcome: 'fail', reason: 'the client sent BYE', evidence: [] };
    const later: Verdict = { requirement: '7.3.12-1b-ii', level: 'SHALL', rule: 'imdn.returned', held: false, outcome: 'fail', reason: 'no display notification', evidence: [] };
    expect(headline(result('imdn-display', 'fail', [], [cause, later]))).to.equal('7.3.12-1c-i (SHALL): the client sent BYE');
  });
});

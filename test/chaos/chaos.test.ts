/**
 * The chaos clients in the proof (issue 9 item 6): every socket-level hostile behaviour of
 * reference-client/chaos.ts is run against its proof case and then one more case, in-process. For
 * each one: the declared outcome and reason (rule and diagnostic code), within a bounded time far
 * below the hard limit, the run goes on to the next case, the JUnit of the run is valid against
 * junit-10.xsd and has both cases, and memory stays bounded (process.memoryUsage of this process).
 */
import { expect } from 'chai';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import { buildJunitXml } from '../../harness/reporters/junit.ts';
import { CHAOS_CLIENTS, chaosExpectation, createChaosClientFactory, type ChaosClient, type ChaosExpectation } from '../../harness/reference-client/chaos.ts';
import { chaosWithUnknownRules, wireRulesWithoutChaos } from '../../harness/runner/chaos-rules.ts';
import { defaultCaseTimeout, runSuite, type StartPf } from '../../harness/runner/runner.ts';
import { builtinConfig, type RunConfig } from '../../harness/testcase/config.ts';
import type { TestCaseDefinition } from '../../harness/testcase/definition.ts';
import { discardTrace } from '../../harness/core/trace.ts';
import type { TestCaseResult } from '../../harness/verdict/verdict.ts';
import { CATALOGUE } from '../../scenarios/index.ts';
import { expectValidJunit } from '../helpers/junit.ts';

/** The case run after each proof case: the run must go on and give it a result of its own. */
const FOLLOW_UP = 'inv-dir-media-sendonly';
const FRAMING_TIMEOUT_MS = 500;
/** Peak growth of this process's memory while one chaos client runs: the storm without limits grew RSS by hundreds of MB. */
const MAX_RSS_GROWTH_BYTES = 160 * 1024 * 1024;

const startPf: StartPf = (options) => ParticipatingFunction.start(options);

function caseById(id: string): TestCaseDefinition {
  const found = CATALOGUE.find((c) => c.id === id);
  if (!found) throw new Error(`no case ${id}`);
  return found;
}

/** How long the proof case may take: what the client's fault needs to show, plus slack for a loaded 2-core machine. */
function boundMs(expectation: ChaosExpectation, config: RunConfig): number {
  const slack = 3_000;
  const code = expectation.code ?? '';
  if (code === 'Timer B') return 64 * config.timers.t1 + slack;
  if (code.includes('INCOMPLETE')) return config.limits.framingTimeoutMs + slack;
  if (expectation.outcome === 'pass') return 2 * slack;
  return slack;
}

interface Measured {
  results: TestCaseResult[];
  peakRssGrowth: number;
  peakHeapGrowth: number;
}

/** Runs the cases with the chaos client, sampling this process's memory every 10 ms. */
async function measured(chaos: ChaosClient, cases: TestCaseDefinition[], config: RunConfig): Promise<Measured> {
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 10);
  try {
    const results = await runSuite({ cases, client: createChaosClientFactory({ name: chaos.name, trace: discardTrace }), config, startPf, jobs: 1 });
    return { results, peakRssGrowth: peakRss - before.rss, peakHeapGrowth: peakHeap - before.heapUsed };
  } finally {
    clearInterval(sampler);
  }
}

describe('chaos clients: hostile sockets end their case with a specific reason, and the run goes on', function () {
  this.timeout(60_000);

  it('every chaos client names a rule of the table, and every wire rule is tripped by one', () => {
    expect(chaosWithUnknownRules()).to.deep.equal([]);
    expect(wireRulesWithoutChaos()).to.deep.equal([]);
    for (const chaos of CHAOS_CLIENTS) expect(CATALOGUE.some((c) => c.id === chaos.proofCase), chaos.name).to.equal(true);
  });

  it('a chaos client that needs a SIP stream declares it (over UDP it would run the conforming client and pass)', () => {
    const tcpOnly = CHAOS_CLIENTS.filter((c) => chaosExpectation(c, 'udp') === undefined).map((c) => c.name);
    expect(tcpOnly).to.have.members(['content-length-short', 'slowloris', 'connection-flood']);
  });

  for (const transport of ['tcp', 'udp'] as const)
  for (const chaos of CHAOS_CLIENTS) {
    const expectation = chaosExpectation(chaos, transport);
    if (expectation === undefined) continue;
    const expected = expectation.outcome === 'pass' ? 'passes' : `fails ${expectation.trips} (${expectation.code})`;
    it(`chaos:${chaos.name} over ${transport}: ${chaos.proofCase} ${expected}; the next case still runs`, async () => {
      const base = builtinConfig(transport);
      const config: RunConfig = { ...base, limits: { ...base.limits, framingTimeoutMs: FRAMING_TIMEOUT_MS } };
      const run = await measured(chaos, [caseById(chaos.proofCase), caseById(FOLLOW_UP)], config);
      const [proof, next] = run.results;
      const summary = `${proof!.outcome}: ${proof!.verdicts.map((v) => `${v.rule ?? '-'} ${v.outcome} ${v.reason}`).join(' | ')} ${proof!.error?.message ?? ''}`;

      expect(proof!.outcome, summary).to.equal(expectation.outcome);
      if (expectation.trips !== undefined) {
        const violation = proof!.verdicts.find((v) => v.rule === expectation.trips && v.held === false);
        expect(violation, summary).to.not.equal(undefined);
        expect(violation!.reason, summary).to.include(expectation.code ?? '');
        // The specific reason leads: it is the first failing verdict, the one reports show.
        expect(proof!.verdicts.find((v) => v.outcome === 'fail'), summary).to.equal(violation);
      }
      expect(proof!.durationMs, summary).to.be.below(boundMs(expectation, config)).and.below(defaultCaseTimeout(config.windows));
      expect(proof!.error?.message ?? '', summary).to.not.match(/hard limit/);

      // The run went on: the next case has a result of its own, with a reason.
      expect(next!.id).to.equal(FOLLOW_UP);
      expect(next!.outcome).to.not.equal('error', next!.error?.message);
      expect(next!.verdicts.length).to.be.greaterThan(0);

      const xml = buildJunitXml(run.results, { suiteName: 'cpm-harness', client: `chaos:${chaos.name}`, startedAt: new Date().toISOString() });
      expect(xml.match(/<testcase /g)).to.have.length(2);
      expectValidJunit(xml);
      expect(xml.length, 'JUnit stays small').to.be.below(2 * 1024 * 1024);
      expect(run.peakRssGrowth, `peak RSS growth ${(run.peakRssGrowth / 2 ** 20).toFixed(1)} MiB`).to.be.below(MAX_RSS_GROWTH_BYTES);
    });
  }
});

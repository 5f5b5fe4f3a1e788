/**
 * Runs catalogue cases in-process against a SIPp-scripted CPM client (test/sipp/cpm-client-*.xml)
 * standing in as an external client at a known contact, SIP only (pics.msrp = false). One SIPp
 * UAS process serves every case of the run (one SIPp call per PF INVITE) and is stopped after it.
 */
import { expect } from 'chai';
import { createSipContactClientFactory } from '../../harness/client/external.ts';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import { runSuite } from '../../harness/runner/runner.ts';
import { builtinConfig, type RunConfig } from '../../harness/testcase/config.ts';
import type { TestCaseDefinition } from '../../harness/testcase/definition.ts';
import type { TestCaseResult } from '../../harness/verdict/verdict.ts';
import { CATALOGUE } from '../../scenarios/index.ts';
import { startSippListening, type SippRun } from './sipp.ts';

/** Windows for a scripted peer on loopback: it acts within milliseconds, so absence checks stay short. */
export function sippClientConfig(transport: 'udp' | 'tcp'): RunConfig {
  const config = builtinConfig(transport);
  config.pics = { msrp: false };
  config.timers = { t1: 100, t2: 800, t4: 1_000 };
  config.windows = {
    ...config.windows,
    registrationMs: 2_000,
    finalResponseMs: 3_000,
    subscribeMs: 2_000,
    idleMs: 300,
    quarantineMs: 500,
    sideEffectMs: 400,
    rejoinObserveMs: 300,
    shortSubscriptionSeconds: 1,
  };
  return config;
}

export function casesById(ids: readonly string[]): TestCaseDefinition[] {
  return ids.map((id) => {
    const found = CATALOGUE.find((c) => c.id === id);
    if (found === undefined) throw new Error(`no case ${id} in the catalogue`);
    return found;
  });
}

export interface SippClientRun {
  results: TestCaseResult[];
  sipp: SippRun;
  contact: string;
}

/**
 * Starts the scripted client, runs the cases with `config` (proxy, fixed ports as given), stops
 * SIPp. Per-case results come from the harness; SIPp's own verdict is only returned for diagnosis.
 */
export async function runAgainstSippClient(scenario: string, cases: readonly TestCaseDefinition[], config: RunConfig, settleMs = 0): Promise<SippClientRun> {
  const started = await startSippListening({
    scenario,
    transport: config.transport,
    // No call limit: one call per INVITE for the whole run; the global timeout is a backstop only.
    extraArgs: ['-m', '100000'],
    timeoutSeconds: 120,
  });
  if (!started.ok) throw new Error(started.message);
  const { port, sipp } = started;
  const contact = `sip:client@127.0.0.1:${port};transport=${config.transport}`;
  try {
    const results = await runSuite({
      cases,
      config,
      client: createSipContactClientFactory({ contact, upperTester: null }),
      startPf: async (options) => {
        // Fixed ports: let retransmissions aimed at the previous case's PF die out first (a
        // proxy retries a request its closed PF never answered for up to its fr_timer).
        if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
        return ParticipatingFunction.start(options);
      },
    });
    return { results, sipp: await stop(sipp.pid, sipp.done), contact };
  } catch (error) {
    await stop(sipp.pid, sipp.done);
    throw error;
  }
}

async function stop(pid: number | undefined, done: Promise<SippRun>): Promise<SippRun> {
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  return done;
}

/** `requirement → outcome` of a result (worst outcome per requirement). */
export function verdictMap(result: TestCaseResult): Record<string, string> {
  const order = ['pass', 'informative', 'inconclusive', 'warning', 'fail', 'error'];
  const map: Record<string, string> = {};
  for (const v of result.verdicts) {
    const prev = map[v.requirement];
    if (prev === undefined || order.indexOf(v.outcome) > order.indexOf(prev)) map[v.requirement] = v.outcome;
  }
  return map;
}

/** One line per case for assertion messages. */
export function summarize(results: readonly TestCaseResult[]): string {
  return results.map((r) => `${r.id}: ${r.outcome} ${JSON.stringify(verdictMap(r))}${r.verdicts.filter((v) => v.outcome === "fail").map((v) => ` [${v.requirement}: ${v.reason}]`).join("")}${r.skipReason ? ` skip: ${r.skipReason}` : ''}${r.error ? ` error: ${r.error.message}` : ''}`).join('\n');
}

/** What a case must end with: its outcome and the requirement → outcome of its verdicts. */
export interface Expected {
  outcome: TestCaseResult['outcome'];
  verdicts?: Record<string, string>;
  skipReason?: RegExp;
}

/** SIP-level cases the good script serves honestly, with what it earns; plus one MSRP and one UT case (skipped). */
export const GOOD_EXPECTATIONS: Readonly<Record<string, Expected>> = {
  'inv-minimal': { outcome: 'pass', verdicts: { '7.3.12-1a': 'pass', '7.3.12-1a-i': 'pass' } },
  'inv-dir-media-sendrecv': { outcome: 'pass', verdicts: { '7.3.12-1a-i': 'pass' } },
  'inv-dir-session-sendrecv': { outcome: 'pass', verdicts: { '7.3.12-1a-i': 'pass' } },
  'inv-dir-session-sendonly-media-sendrecv': { outcome: 'pass', verdicts: { '7.3.12-1a-i': 'pass' } },
  'inv-dir-media-recvonly': { outcome: 'pass', verdicts: { '7.3.12-1a-ii': 'pass', '7.3.12-1a-ii-warning': 'pass' } },
  'inv-dir-session-inactive': { outcome: 'pass', verdicts: { '7.3.12-1a-ii': 'pass', '7.3.12-1a-ii-warning': 'pass' } },
  'inv-dir-session-sendrecv-media-sendonly': { outcome: 'pass', verdicts: { '7.3.12-1a-ii': 'pass', '7.3.12-1a-ii-warning': 'pass' } },
  // The INVITE and the SUBSCRIBE of the cases below are their preamble: not judged there.
  'sub-after-ack': { outcome: 'pass', verdicts: { '7.3.12-1b-sub': 'pass' } },
  'sub-404-inactive': { outcome: 'pass', verdicts: { '7.3.12-1b-i-b': 'pass' } },
  'sub-inactive-noresource': { outcome: 'pass', verdicts: { '7.3.12-1b-i-b': 'pass' } },
  // The script never refreshes its subscription: an honest fail of 1d-ii.
  'sub-refresh-short': { outcome: 'fail', verdicts: { '7.3.12-1d-ii': 'fail' } },
  'deferred-pf-bye': { outcome: 'pass', verdicts: { '7.3.12-1c-i': 'pass' } },
  'imdn-delivery': { outcome: 'skipped', verdicts: {}, skipReason: /needs MSRP.*pics\.msrp: false/ },
  'out-no-idle-rejoin': { outcome: 'skipped', verdicts: {}, skipReason: /needs upper tester/ },
};

/** Per case: the outcome, each listed requirement's outcome, and the skip reason. */
export function expectResults(results: readonly TestCaseResult[], expected: Readonly<Record<string, Expected>>): void {
  const all = summarize(results);
  expect(results.map((r) => r.id)).to.deep.equal(Object.keys(expected));
  for (const result of results) {
    const want = expected[result.id]!;
    expect(result.outcome, `${result.id}\n${all}`).to.equal(want.outcome);
    const got = verdictMap(result);
    for (const [requirement, outcome] of Object.entries(want.verdicts ?? {})) {
      expect(got[requirement], `${result.id} ${requirement}\n${all}`).to.equal(outcome);
    }
    if (want.verdicts && Object.keys(want.verdicts).length === 0) expect(result.verdicts, result.id).to.have.length(0);
    if (want.skipReason) expect(result.skipReason ?? '', result.id).to.match(want.skipReason);
  }
}


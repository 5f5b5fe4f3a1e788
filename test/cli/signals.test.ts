/**
 * A run that ends early still leaves every report with every case: SIGINT, SIGTERM (CI's timeout)
 * and SIGHUP exit 130 / 143 / 129 after writing them, a second signal exits at once, and an
 * exception nothing caught (injected with a preload) writes them and exits 1. Spawns the CLI.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateResults } from '../../harness/cli/results-schema.ts';
import type { ResultsFile } from '../../harness/reporters/results-file.ts';
import { validateWithXmllint, xmllintAvailable } from '../../harness/xml/xmllint.ts';
import { CATALOGUE } from '../../scenarios/index.ts';
import { REPO, runCli, startCli, waitForLine, type CliRun } from './cli-process.ts';

const JUNIT_XSD = join(REPO, 'fixtures', 'schemas', 'junit-10.xsd');
const fault = (name: string): string => fileURLToPath(new URL(`./faults/${name}.mjs`, import.meta.url));

/** Every report is there, complete (every case of the catalogue) and valid. */
function expectCompleteReports(dir: string): ResultsFile {
  const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
  expect(xml.match(/<testcase /g)).to.have.length(CATALOGUE.length);
  if (xmllintAvailable()) {
    const outcome = validateWithXmllint(xml, JUNIT_XSD);
    expect(outcome.available && outcome.valid, outcome.available ? outcome.output : '').to.equal(true);
  } else if (process.env.CI === 'true') throw new Error('xmllint not installed; .ci/run installs libxml2-utils');
  const data: unknown = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  const checked = validateResults(data);
  expect(checked.ok, checked.ok ? '' : checked.errors.join('\n')).to.equal(true);
  const results = data as ResultsFile;
  expect(results.cases.map((c) => c.id)).to.deep.equal(CATALOGUE.map((c) => c.id));
  expect(existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'report.md'))).to.equal(true);
  return results;
}

async function interrupt(dir: string, signals: NodeJS.Signals[]): Promise<CliRun> {
  const { child, done } = startCli(['run', '--jobs', '1', '--report-dir', dir, '--junit', join(dir, 'junit.xml')], dir);
  await waitForLine(child, /test cases: \d+/, 15_000);
  await new Promise((r) => setTimeout(r, 400));
  child.kill(signals[0]);
  if (signals.length > 1) {
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        if (!chunk.toString('utf8').includes('interrupting')) return;
        child.stderr!.off('data', onData);
        resolve();
      };
      child.stderr!.on('data', onData);
    });
    child.kill(signals[1]);
  }
  return done;
}

describe('cli: signals and faults end the run with every report', function () {
  this.timeout(60_000);

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`${signal}: running cases interrupted, the rest skipped, every report written, exit ${code}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `cpm-${signal}-`));
      const r = await interrupt(dir, [signal]);
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.code, r.stderr).to.equal(code);
      expect(r.stderr).to.include(`${signal}: interrupting`);
      const results = expectCompleteReports(dir);
      expect(results.interrupted).to.equal(signal);
      // One case at a time: the one running at the signal ends as an interrupted error (unless the
      // signal came while it was tearing down, then it keeps its outcome); those after it are skipped.
      const interrupted = results.cases.filter((c) => c.outcome === 'error');
      expect(interrupted.length, 'at most the case running at the signal').to.be.at.most(1);
      for (const c of interrupted) expect(c.error?.message).to.equal('run interrupted while this case was running');
      const notStarted = results.cases.filter((c) => c.outcome === 'skipped');
      expect(notStarted.length).to.be.greaterThan(0);
      for (const c of notStarted) expect(c.skipReason).to.match(/interrupted before this case started/);
      const finished = results.cases.filter((c) => c.outcome !== 'error' && c.outcome !== 'skipped');
      expect(finished.map((c) => c.outcome).every((o) => o === 'pass' || o === 'informative'), 'cases before the signal kept their outcome').to.equal(true);
      expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).to.include(`<property name="interrupted" value="${signal}"/>`);
    });
  }

  // Start-up: the signal comes while the harness is still loading (the bin holds it from its first
  // line), at a known point set by a loader hook: before yargs, while yargs loads, while `run` loads
  // the catalogue. Without the hold the process would die by the signal with no report at all.
  for (const [signal, code, at] of [['SIGTERM', 143, 'cli/main.js'], ['SIGINT', 130, 'yargs'], ['SIGHUP', 129, 'scenarios/index.js']] as const) {
    it(`${signal} during start-up (while loading ${at}): every case skipped, every report written, exit ${code}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `cpm-early-${signal}-`));
      const r = await runCli(['run', '--report-dir', dir, '--junit', join(dir, 'junit.xml')], dir, ['--import', fault('signal-during-import')], { CPM_TEST_SIGNAL: signal, CPM_TEST_SIGNAL_AT: at });
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.code, r.stderr).to.equal(code);
      expect(r.stderr).to.include(`${signal} before the first test case started: ${CATALOGUE.length} test cases not started (skipped)`);
      const results = expectCompleteReports(dir);
      expect(results.interrupted).to.equal(signal);
      for (const c of results.cases) expect([c.outcome, c.skipReason], c.id).to.deep.equal(['skipped', 'run interrupted before this case started']);
      expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).to.include(`<property name="interrupted" value="${signal}"/>`);
    });
  }

  it('a command that writes no report lets a start-up signal take effect: `list` dies by SIGTERM', async () => {
    const r = await runCli(['list'], REPO, ['--import', fault('signal-during-import')], { CPM_TEST_SIGNAL: 'SIGTERM', CPM_TEST_SIGNAL_AT: 'list-commands' });
    expect([r.code, r.signal], r.stderr).to.deep.equal([null, 'SIGTERM']);
  });

  it('a second SIGTERM exits at once, with 143 and complete reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpm-twice-'));
    const r = await interrupt(dir, ['SIGTERM', 'SIGTERM']);
    expect(r.signal, r.stderr).to.equal(null);
    expect(r.code, r.stderr).to.equal(143);
    expectCompleteReports(dir);
  });

  for (const [name, origin] of [['uncaught-exception', 'uncaughtException'], ['unhandled-rejection', 'unhandledRejection']] as const) {
    it(`an ${origin} outside any case still writes every report with every case, then exits 1`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `cpm-${name}-`));
      const r = await runCli(['run', '--jobs', '1', '--report-dir', dir, '--junit', join(dir, 'junit.xml')], dir, ['--import', fault(name)]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.include(`harness fault (${origin})`).and.include('injected fault');
      const results = expectCompleteReports(dir);
      expect(results.interrupted).to.equal(`harness fault (${origin})`);
      const faulted = results.cases.filter((c) => c.outcome === 'error' && (c.error?.message ?? '').includes('injected fault'));
      expect(faulted, 'the case running when the fault hit').to.have.length(1);
    });
  }
});

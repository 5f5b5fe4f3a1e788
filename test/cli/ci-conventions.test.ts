/**
 * The CI conventions, through the real binary: shards that add up to one run and merge back into
 * its JUnit case list, --strict, --repeat, JUnit attachments and properties, and results.json
 * valid against its published JSON Schema (ajv).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateResults } from '../../harness/cli/results-schema.ts';
import type { ResultsFile } from '../../harness/reporters/results-file.ts';
import { validateWithXmllint, xmllintAvailable } from '../../harness/xml/xmllint.ts';
import { CATALOGUE } from '../../scenarios/index.ts';
import { REPO, runCli } from './cli-process.ts';

const JUNIT_XSD = join(REPO, 'fixtures', 'schemas', 'junit-10.xsd');

/** classname + name of every <testcase>, in document order. */
function junitCases(xml: string): string[] {
  return [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => `${m[1]} :: ${m[2]}`);
}

function results(dir: string): ResultsFile {
  const data: unknown = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  const checked = validateResults(data);
  expect(checked.ok, checked.ok ? '' : checked.errors.join('\n')).to.equal(true);
  return data as ResultsFile;
}

function expectValidJunit(xml: string): void {
  if (!xmllintAvailable()) {
    if (process.env.CI === 'true') throw new Error('xmllint not installed; .ci/run installs libxml2-utils');
    return;
  }
  const outcome = validateWithXmllint(xml, JUNIT_XSD);
  expect(outcome.available && outcome.valid, outcome.available ? outcome.output : '').to.equal(true);
}

describe('cli: shards and merge', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'cpm-shards-'));
  const out = (name: string): string[] => ['--report-dir', join(dir, name), '--junit', join(dir, name, 'junit.xml')];

  it('shards 1/3, 2/3, 3/3 run exactly the cases of one run, and their merge has its JUnit case list', async () => {
    const whole = await runCli(['run', ...out('whole')], dir);
    expect(whole.code, whole.stderr).to.equal(0);
    const shards = await Promise.all([1, 2, 3].map((i) => runCli(['run', '--shard', `${i}/3`, ...out(`shard-${i}`)], dir)));
    for (const s of shards) expect(s.code, s.stderr).to.equal(0);
    expect(shards[0]!.stdout).to.include(`shard 1/3: 16 of ${CATALOGUE.length} test cases`);

    const ids = [1, 2, 3].map((i) => results(join(dir, `shard-${i}`)).cases.map((c) => c.id));
    const union = ids.flat();
    expect(new Set(union).size, 'shards are disjoint').to.equal(union.length);
    expect([...union].sort()).to.deep.equal(CATALOGUE.map((c) => c.id).sort());
    expect(ids.map((x) => x.length)).to.deep.equal([16, 16, 16]);

    const merged = await runCli(['merge', ...[1, 2, 3].map((i) => join(dir, `shard-${i}`, 'results.json')), ...out('merged')], dir);
    expect(merged.code, merged.stderr).to.equal(0);
    expect(merged.stdout).to.include('merged 3 reports: 48 of 48 selected test cases');
    const wholeXml = readFileSync(join(dir, 'whole', 'junit.xml'), 'utf8');
    const mergedXml = readFileSync(join(dir, 'merged', 'junit.xml'), 'utf8');
    expect(junitCases(mergedXml)).to.deep.equal(junitCases(wholeXml));
    expect(junitCases(wholeXml)).to.have.length(CATALOGUE.length);
    expectValidJunit(mergedXml);
    const mergedResults = results(join(dir, 'merged'));
    expect(mergedResults.cases.map((c) => c.id)).to.deep.equal(results(join(dir, 'whole')).cases.map((c) => c.id));
    expect(mergedResults.mergedFrom).to.have.length(3);
    expect(readFileSync(join(dir, 'merged', 'index.html'), 'utf8')).to.include('merged from');
  });

  it('merge refuses the same case twice and a file that is not a results.json, naming it', async () => {
    const shard = join(dir, 'shard-1', 'results.json');
    const twice = await runCli(['merge', shard, shard, ...out('twice')], dir);
    expect(twice.code).to.equal(2);
    expect(twice.stderr).to.match(/test case \S+ is in both/);
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, JSON.stringify({ format: 'cpm-harness-results', schemaVersion: 1, cases: [] }));
    const bad = await runCli(['merge', bogus, ...out('bad')], dir);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('bogus.json: not a cpm-harness results.json').and.include("must have required property 'client'");
  });

  it('rejects a malformed --shard with the form that works', async () => {
    const r = await runCli(['run', '--shard', '4/3'], dir);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('e.g. --shard 2/3');
  });
});

describe('cli: --strict, --repeat, JUnit attachments and properties', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'cpm-strict-'));
  const out = (name: string): string[] => ['--report-dir', join(dir, name), '--junit', join(dir, name, 'junit.xml')];
  const grep = ['--grep', '^inv-dir-media-(sendonly|sendrecv)$'];

  it('a SHOULD mutant passes with warnings, and fails the run under --strict and strict: true', async () => {
    const lax = await runCli(['run', '--client', 'builtin:reject-no-warning', ...grep, ...out('lax')], dir);
    expect(lax.code, lax.stderr).to.equal(0);
    // picocolors colours output when CI is set, as in CI logs: compare the text without them.
    // eslint-disable-next-line no-control-regex
    expect(lax.stdout.replace(/\x1b\[[0-9;]*m/g, '')).to.match(/WARN +1/);

    const strict = await runCli(['run', '--client', 'builtin:reject-no-warning', '--strict', ...grep, ...out('strict')], dir);
    expect(strict.code, strict.stdout).to.equal(1);
    expect(strict.stdout).to.include('strict: 1 warning fails the run');
    const xml = readFileSync(join(dir, 'strict', 'junit.xml'), 'utf8');
    expect(xml).to.include('type="StrictWarning"').and.include('<property name="strict" value="true"/>');
    expectValidJunit(xml);
    const file = results(join(dir, 'strict'));
    expect(file.strict).to.equal(true);
    expect(file.failed).to.equal(true);
    expect(readFileSync(join(dir, 'strict', 'index.html'), 'utf8')).to.include('Strict mode: warnings fail the run');

    const config = join(dir, 'strict.yaml');
    writeFileSync(config, 'strict: true\n');
    const fromFile = await runCli(['run', '--config', config, '--client', 'builtin:reject-no-warning', ...grep, ...out('file')], dir);
    expect(fromFile.code).to.equal(1);
  });

  it('--repeat counts the outcomes of every run per case', async () => {
    const r = await runCli(['run', '--repeat', '3', '--grep', '^inv-minimal$', ...out('repeat')], dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('repeat 3: no flaky case');
    const [only] = results(join(dir, 'repeat')).cases;
    expect(only!.repeat).to.deep.include({ runs: 3, outcomes: { pass: 3 }, flaky: false });
    expect(only!.repeat!.attempts).to.have.length(3);
    expect(readFileSync(join(dir, 'repeat', 'junit.xml'), 'utf8')).to.include('repeat: pass 3 of 3 runs');
  });

  it('JUnit <system-out> attaches the pcap and the HTML report; <properties> carry version, client, transport, digest', async () => {
    const pcap = join(dir, 'pcap');
    const r = await runCli(['run', '--grep', '^inv-minimal$', '--pcap', pcap, ...out('attach')], dir);
    expect(r.code, r.stderr).to.equal(0);
    const xml = readFileSync(join(dir, 'attach', 'junit.xml'), 'utf8');
    expect(xml).to.include(`[[ATTACHMENT|${join(pcap, 'inv-minimal.pcap')}]]`);
    expect(xml).to.include(`[[ATTACHMENT|${join(dir, 'attach', 'index.html')}]]`);
    expect(xml).to.include(`report: ${join(dir, 'attach', 'index.html')}#case-inv-minimal`);
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(xml).to.include(`<property name="harnessVersion" value="${version}"/>`);
    expect(xml).to.include('<property name="client" value="builtin"/>').and.include('<property name="transport" value="tcp"/>');
    expect(xml).to.match(/<property name="configDigest" value="sha256:[0-9a-f]{64}"\/>/);
    expectValidJunit(xml);
    expect(results(join(dir, 'attach')).cases[0]!.pcap).to.equal(join(pcap, 'inv-minimal.pcap'));
  });
});

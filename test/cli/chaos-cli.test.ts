/** `--client chaos:<name>` and `cpm-harness chaos` through the real binary: a hostile run ends with every report. */
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClientSpec } from '../../harness/cli/clients.ts';
import { validateResults } from '../../harness/cli/results-schema.ts';
import { CHAOS_CLIENTS } from '../../harness/reference-client/chaos.ts';
import type { ResultsFile } from '../../harness/reporters/results-file.ts';
import { CATALOGUE } from '../../scenarios/index.ts';
import { expectValidJunit } from '../helpers/junit.ts';
import { REPO, runCli } from './cli-process.ts';

describe('cli: chaos clients', function () {
  this.timeout(60_000);

  it('--client chaos:<name> is a built-in client; an unknown name is refused with the known ones', () => {
    expect(parseClientSpec('chaos:slowloris')).to.deep.equal({ ok: true, value: { kind: 'builtin', chaos: 'slowloris' } });
    const unknown = parseClientSpec('chaos:nope');
    expect(unknown.ok).to.equal(false);
    if (!unknown.ok) expect(unknown.message).to.include('unknown chaos client "nope"').and.to.include('subscribe-storm');
  });

  it('`chaos --json` lists every chaos client with its proof case and expectation; `mutants` lists them after the mutants', async () => {
    const json = await runCli(['chaos', '--json'], REPO);
    expect(json.code).to.equal(0);
    expect((JSON.parse(json.stdout) as { name: string }[]).map((c) => c.name)).to.deep.equal(CHAOS_CLIENTS.map((c) => c.name));
    const text = await runCli(['mutants'], REPO);
    expect(text.stdout).to.include('chaos:garbage-on-sip').and.to.include(`${CHAOS_CLIENTS.length} chaos clients`);
  });

  it('a chaos client that needs a SIP stream is refused over UDP (exit 2), not run as the conforming client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpm-chaos-udp-'));
    const run = await runCli(['run', '--client', 'chaos:slowloris', '--transport', 'udp', '--report-dir', dir, '--junit', join(dir, 'junit.xml')], dir);
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.include('chaos:slowloris needs a SIP byte stream (TCP)');
  });

  it('a hostile run: every case of the group in valid JUnit and results.json with the specific reason, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpm-chaos-'));
    const run = await runCli(['run', '--client', 'chaos:garbage-on-sip', '--grep', 'invite-handling', '--report-dir', dir, '--junit', join(dir, 'junit.xml')], dir);
    expect(run.code, run.stderr).to.equal(1);
    const group = CATALOGUE.filter((c) => c.group === 'invite-handling');
    const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(xml.match(/<testcase /g)).to.have.length(group.length);
    expect(xml.match(/<failure message="[^"]*SIP_STREAM_GARBAGE/g)).to.have.length(group.length);
    expectValidJunit(xml);
    const data: unknown = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const checked = validateResults(data);
    expect(checked.ok, checked.ok ? '' : checked.errors.join('\n')).to.equal(true);
    const results = data as ResultsFile;
    expect(results.client).to.equal('chaos:garbage-on-sip');
    for (const c of results.cases) {
      expect(c.outcome, c.id).to.equal('fail');
      expect(c.verdicts[0]?.rule, c.id).to.equal('wire.sip.framing');
      expect(c.durationMs, c.id).to.be.below(3_000);
    }
  });
});

/** `cpm-harness rules`, `--req`, and the scaled-windows notice: the rule table as a user sees it. */
import { expect } from 'chai';
import { resolveRun } from '../../harness/cli/run-command.ts';
import { ruleListing } from '../../harness/cli/rules-command.ts';
import { builtinConfig, externalConfig, scaledWindowsNotice, SCALED_WINDOWS } from '../../harness/testcase/config.ts';
import { selectCases } from '../../harness/testcase/definition.ts';
import { RULE_IDS } from '../../harness/verdict/rules.ts';
import { CATALOGUE } from '../../scenarios/index.ts';
import { REPO, runCli } from './cli-process.ts';

describe('cpm-harness rules', () => {
  const rows = ruleListing();

  it('lists every rule with its requirement, level, violation outcome, cases and mutants', () => {
    expect(rows.map((r) => r.id)).to.deep.equal(RULE_IDS);
    const status = rows.find((r) => r.id === 'imdn.status')!;
    expect(status).to.include({ requirement: '7.3.12-1b-ii', level: 'SHALL', violation: 'fail' });
    expect(status.cases).to.include.members(['imdn-delivery', 'imdn-once-chunked', 'deferred-nothing-to-send']);
    expect(status.mutants).to.include.members(['imdn-status-failed', 'imdn-status-forbidden', 'imdn-status-error']);
    expect(rows.find((r) => r.id === 'sub.after-ack')).to.include({ marker: 'U', violation: 'warning' });
    expect(rows.find((r) => r.id === 'notify.answered')).to.include({ level: 'descriptive', violation: 'informative' });
  });

  it('every rule is judged by some case; every violable rule is tripped by a mutant of the matrix fixture, every wire rule by a chaos client', () => {
    for (const r of rows) {
      expect(r.cases, r.id).to.not.be.empty;
      if (r.wire) expect(r.chaos, r.id).to.not.be.empty;
      else if (!r.observation) expect(r.mutants, r.id).to.not.be.empty;
    }
  });

  it('--json prints the same listing', async () => {
    const run = await runCli(['rules', '--json'], REPO);
    expect(run.code).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal(JSON.parse(JSON.stringify(rows)));
  });
});

describe('--req selects the cases that judge exactly one requirement ID', () => {
  it('7.3.12-1a-i selects only the cases whose purpose is the acceptance, not every case whose ID starts so', () => {
    const byReq = selectCases(CATALOGUE, { requirement: '7.3.12-1a-i' });
    const byGrep = selectCases(CATALOGUE, /7\.3\.12-1a-i/);
    expect(byReq.length).to.be.greaterThan(0).and.lessThan(byGrep.length);
    for (const c of byReq) expect(c.requirements).to.include('7.3.12-1a-i');
  });

  it('run refuses an unknown ID with the list of IDs', () => {
    const resolved = resolveRun({ req: '7.3.12-9z' });
    expect(resolved.ok).to.equal(false);
    if (!resolved.ok) expect(resolved.message).to.match(/not a requirement ID; use one of 7\.3\.12-1a,/);
    const good = resolveRun({ req: '7.3.12-1b-ii' });
    expect(good.ok && good.value.requirement).to.equal('7.3.12-1b-ii');
  });

  it('list --req --json lists exactly those cases', async () => {
    const run = await runCli(['list', '--json', '--req', '7.3.12-1b-ii'], REPO);
    expect(run.code).to.equal(0);
    const ids = (JSON.parse(run.stdout) as { id: string }[]).map((c) => c.id);
    expect(ids).to.deep.equal(selectCases(CATALOGUE, { requirement: '7.3.12-1b-ii' }).map((c) => c.id));
  });
});

describe('scaled windows for an external client', () => {
  it('the start-up notice names every scaled window with its real value; none for builtin or real windows', () => {
    const scaled = { ...externalConfig(), windows: { ...SCALED_WINDOWS } };
    const notice = scaledWindowsNotice(scaled)!;
    expect(notice).to.include('quarantineMs 250 ms (real 300 s)');
    expect(notice).to.include('informative');
    expect(scaledWindowsNotice(externalConfig())).to.equal(null);
    expect(scaledWindowsNotice(builtinConfig())).to.equal(null);
  });
});

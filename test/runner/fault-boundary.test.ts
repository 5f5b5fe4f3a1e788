/**
 * The runner's per-case fault boundary with the real PF and the built-in client: a harness
 * exception inside a socket handler ends its own case as an error (stack in JUnit <system-err>)
 * and the next case runs; a case cut off by a fault records nothing afterwards; the trace budget
 * summarizes what it leaves out.
 */
import { expect } from 'chai';
import { discardTrace } from '../../harness/core/trace.ts';
import { ParticipatingFunction } from '../../harness/pf/participating-function.ts';
import { caseText } from '../../harness/reporters/case-text.ts';
import { buildJunitXml } from '../../harness/reporters/junit.ts';
import { createReferenceClientFactory } from '../../harness/reference-client/factory.ts';
import { runSuite, type StartPf } from '../../harness/runner/runner.ts';
import { builtinConfig } from '../../harness/testcase/config.ts';
import { defineTestCase } from '../../harness/testcase/definition.ts';
import { CATALOGUE } from '../../scenarios/index.ts';

const startPf: StartPf = (options) => ParticipatingFunction.start(options);
const client = createReferenceClientFactory({ trace: discardTrace });
const caseById = (id: string) => CATALOGUE.find((c) => c.id === id)!;

describe('runner: the per-case fault boundary', function () {
  this.timeout(20_000);

  it('an exception in a PF socket handler ends that case as an error naming the handler; the next case passes', async () => {
    let lateRecord: unknown;
    let lateTried: () => void = () => {};
    const triedLate = new Promise<void>((resolve) => (lateTried = resolve));
    const faulty = defineTestCase({
      id: 'faulty-listener',
      title: 'a PF listener that throws while a response is read from the socket',
      purpose: 'harness fault injection',
      group: 'faults',
      rules: ['invite.final-response'],
      async run(t) {
        // Thrown inside the PF's SIP data handler, where the INVITE's responses are logged.
        t.pf.events.onEvent((e) => {
          if (e.type === 'invite-response') throw new Error('injected: a bug in a PF listener');
        });
        try {
          await t.pf.invite();
          t.observe('invite.final-response', true, 'must not land in the result');
        } catch (error) {
          lateRecord = error;
        } finally {
          lateTried();
        }
      },
    });
    const [broken, next] = await runSuite({ cases: [faulty, caseById('inv-minimal')], client, config: builtinConfig(), startPf, jobs: 1 });
    expect(broken!.outcome).to.equal('error');
    expect(broken!.error?.message).to.equal('harness fault in sip/tcp data: injected: a bug in a PF listener');
    expect(broken!.error?.stack).to.include('injected: a bug in a PF listener');
    expect(broken!.verdicts).to.deep.equal([]);
    expect(next!.outcome).to.equal('pass');
    // The case function ran on after the fault; what it recorded then belongs to no result.
    await triedLate;
    expect((lateRecord as Error | undefined)?.name).to.equal('CaseEnded');
    expect(broken!.verdicts).to.deep.equal([]);
    const xml = buildJunitXml([broken!, next!], { suiteName: 's', client: 'builtin', startedAt: new Date().toISOString() });
    const systemErr = /<testcase [^>]*faults[^]*?<system-err>([^]*?)<\/system-err>/.exec(xml);
    expect(systemErr?.[1]).to.include('injected: a bug in a PF listener').and.to.include('fault-boundary.test.ts');
  });

  it('traceBytesPerCase: the trace keeps what fits and the reports say how much was elided', async () => {
    const config = builtinConfig();
    config.limits = { ...config.limits, traceBytesPerCase: 3_000 };
    const [result] = await runSuite({ cases: [caseById('inv-minimal')], client, config, startPf, jobs: 1 });
    expect(result!.outcome).to.equal('pass');
    const kept = result!.trace.reduce((n, e) => n + (e.bytes?.length ?? 0) + 64, 0);
    expect(kept).to.be.at.most(3_000);
    expect(result!.traceElided?.messages).to.be.greaterThan(0);
    expect(result!.traceElided?.bytes).to.be.greaterThan(0);
    expect(caseText(result!)).to.match(/… \d+ more messages?, \d+ bytes, elided \(the trace reached traceBytesPerCase\)/);
  });
});

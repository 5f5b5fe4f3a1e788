import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { CATALOGUE } from '../../scenarios/index.ts';
import { checkClientContact, createRegisteringClientFactory, createSipContactClientFactory, registrationCountdownLine, startRegistrationCountdown } from '../../harness/client/external.ts';
import { FakeClock } from '../../harness/core/clock.ts';
import { discardTrace } from '../../harness/core/trace.ts';
import { startParticipatingFunction } from '../../harness/cli/run-command.ts';
import { behaviourWith } from '../../harness/reference-client/behaviour.ts';
import { ReferenceClient } from '../../harness/reference-client/client.ts';
import type { MatrixFixture } from '../../harness/runner/matrix.ts';
import { runSuite } from '../../harness/runner/runner.ts';
import { builtinConfig, DEFAULT_IDENTITIES } from '../../harness/testcase/config.ts';
import { freePort } from '../helpers/ports.ts';
import { runCli, startCli, waitForLine } from '../cli/cli-process.ts';

const MATRIX = JSON.parse(readFileSync(new URL('../../fixtures/mutation-matrix.json', import.meta.url), 'utf8')) as MatrixFixture;

/** A case of results.json. */
interface ServedCase {
  id: string;
  outcome: string;
  verdicts: { rule?: string; outcome: string; reason: string }[];
}
/** The whole catalogue: the runner resets the served client through its UT before every case. */
const REPRESENTATIVE = '.';

describe('external clients: contact check, countdown, carried binding', () => {
  it('checks a sip: contact and reads its transport', () => {
    expect(checkClientContact('sip:bob@127.0.0.1:5070;transport=TCP')).to.deep.equal({ ok: true, contact: 'sip:bob@127.0.0.1:5070;transport=TCP', transport: 'tcp' });
    expect(checkClientContact('tel:+15551230002').ok).to.equal(false);
  });

  it('counts down on one line on a TTY, every 10 s otherwise', () => {
    expect(registrationCountdownLine(59_001, true)).to.equal('\r  waiting for REGISTER:  60 s left ');
    expect(registrationCountdownLine(50_000, false)).to.equal('  waiting for REGISTER: 50 s left\n');
    expect(registrationCountdownLine(49_000, false)).to.equal(null);
    const clock = new FakeClock();
    const out: string[] = [];
    const stop = startRegistrationCountdown(20_000, { write: (t) => out.push(t), tty: false, what: 'start the client', clock });
    clock.advance(10_000);
    stop();
    clock.advance(10_000);
    expect(out).to.deep.equal(['start the client (20 s)\n', '  waiting for REGISTER: 10 s left\n']);
  });

  it('a register client has no contact until a binding is observed, then every new client carries it', () => {
    const factory = createRegisteringClientFactory({ upperTester: null });
    const first = factory.create();
    expect(first.contact).to.equal(undefined);
    first.observedBinding?.('<sip:u@127.0.0.1:5099;transport=tcp>;+g.oma.sip-im');
    expect(factory.create().contact).to.equal('<sip:u@127.0.0.1:5099;transport=tcp>;+g.oma.sip-im');
    expect(first.persistent).to.equal(true);
    expect(createSipContactClientFactory({ contact: 'sip:u@h:1', upperTester: null }).create().contact).to.equal('sip:u@h:1');
  });
});

describe('external clients: --client sip: against a reference client at a fixed contact', function () {
  this.timeout(20_000);
  let client: ReferenceClient | undefined;
  let catcher: Server | undefined;
  after(async () => {
    await client?.stop();
    await new Promise((r) => (catcher ? catcher.close(r) : r(undefined)));
  });

  it('gives the builtin verdicts without any REGISTER reaching the PF', async () => {
    const port = await freePort();
    // A stand-in registrar that only learns the contact the client announces, then goes away.
    const contact = new Promise<string>((resolve) => {
      catcher = createServer((socket) => {
        let text = '';
        socket.on('data', (c: Buffer) => {
          text += c.toString('latin1');
          const m = /\r\nContact:\s*<([^>]+)>/i.exec(text);
          if (m) {
            resolve(m[1]!);
            socket.destroy();
          }
        });
      }).listen(port, '127.0.0.1');
    });
    const config = builtinConfig('tcp');
    client = new ReferenceClient({ behaviour: behaviourWith({}), trace: discardTrace, description: 'in-process' });
    const started = client.start({ registrar: { transport: 'tcp', address: '127.0.0.1', port }, aor: DEFAULT_IDENTITIES.clientAor, groupIdentity: DEFAULT_IDENTITIES.groupIdentity, timers: config.timers });
    const where = await contact;
    await started;
    await new Promise((r) => catcher!.close(r));
    catcher = undefined;

    config.listen = { udpPort: port, tcpPort: port };
    const ids = ['inv-minimal', 'inv-dir-media-sendonly', 'msrp-deliver-single', 'imdn-delivery', 'sub-after-ack'];
    const results = await runSuite({
      cases: CATALOGUE.filter((c) => ids.includes(c.id)),
      client: createSipContactClientFactory({ contact: where, upperTester: client }),
      config,
      startPf: startParticipatingFunction,
    });
    expect(Object.fromEntries(results.map((r) => [r.id, r.outcome]))).to.deep.equal(Object.fromEntries(ids.map((id) => [id, MATRIX.baseline[id]])));
  });
});

describe('external clients: serve-client as a separate process, --client register --ut <url>', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'cpm-ext-'));
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  });

  async function runAgainstServedClient(mutant: string | undefined, tag: string): Promise<Record<string, ServedCase>> {
    const port = await freePort();
    const served = startCli(['serve-client', '--registrar', `127.0.0.1:${port}`, '--t1', '50', ...(mutant ? ['--mutant', mutant] : [])], dir);
    children.push(served.child);
    const url = (await waitForLine(served.child, /^ut: (http:\/\/\S+)$/m, 15_000))[1]!;
    const config = join(dir, `${tag}.yaml`);
    writeFileSync(config, `windowProfile: scaled\nwindows:\n  registrationMs: 5000\ntimers: { t1: 50, t2: 400, t4: 500 }\n`);
    const out = join(dir, tag);
    const run = await runCli(
      ['run', '--client', 'register', '--listen', `127.0.0.1:${port}`, '--ut', url, '--config', config, '--grep', REPRESENTATIVE, '--junit', join(out, 'junit.xml'), '--report-dir', out],
      dir,
    );
    served.child.kill('SIGINT');
    const stopped = await served.done;
    expect(stopped.code, 'serve-client exits cleanly on SIGINT').to.equal(0);
    expect(run.code, run.stderr).to.be.oneOf([0, 1]);
    expect(run.stdout, 'the start-up says which windows are scaled').to.match(/scaled absence windows: .*quarantineMs 250 ms \(real 300 s\)/);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { cases: ServedCase[] };
    return Object.fromEntries(results.cases.map((c) => [c.id, c]));
  }

  const selected = CATALOGUE.filter((c) => new RegExp(REPRESENTATIVE).test(c.id)).map((c) => c.id);

  /**
   * With scaled windows an external client's absence proves nothing: where the builtin run passes,
   * the served client passes or is informative, and informative only by an absence verdict that
   * names the real window. Everything else is the builtin cell.
   */
  function expectCells(got: Record<string, ServedCase>, cells: Record<string, string>): void {
    let scaled = 0;
    for (const id of selected) {
      const c = got[id]!;
      if (c.outcome === cells[id]) continue;
      expect([cells[id], c.outcome], id).to.deep.equal(['pass', 'informative']);
      expect(c.verdicts.some((v) => v.outcome === 'informative' && /not observed within .*; the real window is /.test(v.reason)), `${id}: informative by a scaled absence`).to.equal(true);
      scaled++;
    }
    expect(scaled, 'some absence checks were downgraded').to.be.greaterThan(0);
  }

  it('the reference client gives the builtin verdicts, absence checks of scaled windows as informative', async () => {
    const got = await runAgainstServedClient(undefined, 'conforming');
    expectCells(got, Object.fromEntries(selected.map((id) => [id, MATRIX.baseline[id]!])));
    expect(got['sub-404-inactive']!.verdicts.find((v) => v.rule === 'sub404.no-resubscribe')!.reason).to.include('not observed within 250 ms; the real window is 300 s');
  });

  it('the no-imdn mutant fails exactly the cases the matrix lists for it', async () => {
    const got = await runAgainstServedClient('no-imdn', 'no-imdn');
    expectCells(got, Object.fromEntries(selected.map((id) => [id, MATRIX.mutants['no-imdn']!.cases[id] ?? MATRIX.baseline[id]!])));
  });
});

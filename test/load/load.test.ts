/**
 * The load mode at small N against the reference client on loopback: counts, latencies, the
 * thresholds that decide the exit code, and the command's usage errors, live line and JSON.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { discardTrace } from '../../harness/core/trace.ts';
import { liveLine, loadCommand, resolveLoad } from '../../harness/cli/load-command.ts';
import { runLoad } from '../../harness/load/load.ts';
import { LatencyHistogram } from '../../harness/load/stats.ts';
import { createReferenceClientFactory } from '../../harness/reference-client/factory.ts';
import { builtinConfig, type RunConfig } from '../../harness/testcase/config.ts';

/** Scaled windows, RFC timers: short waits, but no Timer B firing because the machine is busy. */
function loadConfig(): RunConfig {
  const config = builtinConfig('tcp');
  config.timers = { t1: 500, t2: 4000, t4: 5000 };
  config.windows = { ...config.windows, imdnMs: 2000, msrpConnectMs: 5000 };
  return config;
}

describe('load mode', function () {
  this.timeout(30_000);

  it('holds 5 sessions × 3 messages against the reference client: every IMDN returned and checked', async () => {
    const snapshots: number[] = [];
    const summary = await runLoad({
      sessions: 5,
      rate: 50,
      backlog: 3,
      config: loadConfig(),
      client: createReferenceClientFactory({ trace: discardTrace }),
      maxP99Ms: 10_000,
      onProgress: (s) => snapshots.push(s.sessionsUp),
      progressEveryMs: 20,
    });
    expect(summary.errorsByKind, JSON.stringify(summary.errorsByKind)).to.deep.equal([]);
    expect(summary.sessionsUp).to.equal(5);
    expect(summary.messagesSent).to.equal(15);
    expect(summary.imdnsRequested).to.equal(15);
    expect(summary.imdnsReturned).to.equal(15);
    expect(summary.inviteTo200.count).to.equal(5);
    expect(summary.sendTo200.count).to.equal(15);
    expect(summary.sendToImdn.count).to.equal(15);
    expect(summary.sendToImdn.p99).to.be.at.least(summary.sendToImdn.p50);
    expect(summary.bytesPerHeldSession).to.be.a('number').and.at.least(0);
    expect(summary.thresholds).to.deep.equal({ maxP99Ms: 10_000, passed: true, failures: [] });
    expect(snapshots.length, 'live figures while running').to.be.greaterThan(0);
  });

  it('fails the p99 threshold and names the latency that broke it', async () => {
    const summary = await runLoad({ sessions: 2, rate: 100, backlog: 1, config: loadConfig(), client: createReferenceClientFactory({ trace: discardTrace }), maxP99Ms: 0.001 });
    expect(summary.thresholds.passed).to.equal(false);
    expect(summary.thresholds.failures.join('; ')).to.match(/INVITE→200 p99 .* > 0\.001 ms/);
  });

  it('a client that returns no IMDN fails "every requested IMDN returned"', async () => {
    const summary = await runLoad({ sessions: 2, rate: 100, backlog: 2, config: loadConfig(), client: createReferenceClientFactory({ trace: discardTrace, mutant: 'no-imdn' }) });
    expect(summary.messagesSent).to.equal(4);
    expect(summary.imdnsReturned).to.equal(0);
    expect(summary.thresholds.passed).to.equal(false);
    expect(summary.thresholds.failures).to.include('4 of 4 requested IMDNs not returned');
    expect(summary.errorsByKind.map((e) => e.kind)).to.include('imdn-missing');
  });

  it('a client whose IMDNs name the wrong message counts check errors', async () => {
    const summary = await runLoad({ sessions: 1, rate: 100, backlog: 2, config: loadConfig(), client: createReferenceClientFactory({ trace: discardTrace, mutant: 'imdn-wrong-message-id' }) });
    expect(summary.thresholds.passed).to.equal(false);
    expect(summary.errors).to.be.greaterThan(0);
  });

  it('percentiles of the bounded histogram are within a 2 % bucket of the exact ones', () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 1000 }, (_, i) => 0.5 + i * 0.37);
    for (const v of values) h.record(v);
    const exact = (p: number) => values[Math.ceil((p / 100) * values.length) - 1]!;
    for (const p of [50, 95, 99]) {
      expect(h.percentile(p)).to.be.at.least(exact(p));
      expect(h.percentile(p)).to.be.at.most(exact(p) * 1.021);
    }
    expect(h.summary().count).to.equal(1000);
    expect(new LatencyHistogram().summary()).to.deep.equal({ count: 0, p50: 0, p95: 0, p99: 0, max: 0 });
  });

  describe('cpm-harness load', () => {
    it('refuses bad numbers and a register client without --listen (usage, exit 2)', () => {
      const message = (r: ReturnType<typeof resolveLoad>) => (r.ok ? '' : r.message);
      expect(message(resolveLoad({ sessions: 0 }))).to.match(/--sessions/);
      expect(message(resolveLoad({ rate: -1 }))).to.match(/--rate/);
      expect(message(resolveLoad({ backlog: 1.5 }))).to.match(/--backlog/);
      expect(message(resolveLoad({ maxP99Ms: 0 }))).to.match(/--max-p99-ms/);
      expect(message(resolveLoad({ client: 'register' }))).to.match(/--listen/);
      expect(message(resolveLoad({ client: 'builtin:nope' }))).to.match(/unknown mutant/);
      expect(resolveLoad({}).ok).to.equal(true);
    });

    it('on a terminal rewrites one live line, then prints the summary and writes the JSON', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cpm-load-'));
      try {
        const out = new PassThrough();
        const chunks: string[] = [];
        out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
        const code = await loadCommand({ sessions: 2, rate: 100, backlog: 1, json: join(dir, 'load.json'), timeout: 20 }, { stdout: out, isTty: true });
        const text = chunks.join('');
        expect(code, text).to.equal(0);
        expect(text).to.include('\r\x1b[2K');
        expect(text).to.include('PASS  every threshold met');
        const json = JSON.parse(readFileSync(join(dir, 'load.json'), 'utf8')) as { sessionsUp: number; imdnsReturned: number; thresholds: { passed: boolean } };
        expect(json.sessionsUp).to.equal(2);
        expect(json.imdnsReturned).to.equal(1 * 2);
        expect(json.thresholds.passed).to.equal(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('the live line names every figure', () => {
      const zero = { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
      const line = liveLine({
        elapsedMs: 1500,
        sessionsUp: 3,
        sessionsRequested: 10,
        sessionsPerSec: 2,
        messagesSent: 7,
        messagesPerSec: 5,
        imdnsReturned: 6,
        inviteTo200: zero,
        sendTo200: zero,
        sendToImdn: { ...zero, p99: 12.5 },
        errors: 1,
      });
      expect(line).to.equal(
        '1.5s · sessions 3/10 (2/s) · messages 7 (5/s) · IMDNs 6 · INVITE→200 p50 0 p95 0 p99 0 ms · SEND→200 p50 0 p95 0 p99 0 ms · SEND→IMDN p50 0 p95 0 p99 12.5 ms · errors 1',
      );
    });
  });
});

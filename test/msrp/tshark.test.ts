import { expect } from 'chai';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localMsrpUri, MsrpSession } from '../../harness/msrp/session.ts';

const tsharkAvailable = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

/** Starts a capture and resolves once tshark reports it is capturing. */
function startCapture(port: number, file: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`tshark did not start capturing: ${stderr}`)), 8000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      // "Capturing on" is printed before dumpcap runs; "Capture started" means packets are being taken.
      if (/Capture started/.test(stderr)) {
        clearTimeout(timer);
        setTimeout(() => resolve(child), 200);
      }
    });
    child.once('error', reject);
  });
}

describe('msrp/tshark: Wireshark decodes our frames', function () {
  this.timeout(20000);
  let dir = '';
  let capture: ChildProcess | null = null;
  const sessions: MsrpSession[] = [];

  before(function () {
    if (!tsharkAvailable) {
      if (process.env.CI === 'true') throw new Error('tshark is required in CI but is not installed');
      this.skip(); // tshark not installed on this machine: nothing to decode with
    }
    dir = mkdtempSync(join(tmpdir(), 'msrp-tshark-'));
  });

  after(async () => {
    if (capture && capture.exitCode === null) capture.kill('SIGINT');
    await Promise.all(sessions.map((s) => s.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('method, transaction id and Byte-Range per PDU match what the session sent', async () => {
    const pf = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), role: 'passive', transactionTimeoutMs: 3000 });
    const client = MsrpSession.create({ localUri: localMsrpUri('127.0.0.1'), role: 'active', transactionTimeoutMs: 3000, chunkSize: 100 });
    sessions.push(pf, client);
    const listened = await pf.listen();
    if (!listened.ok) throw new Error(listened.error.message);
    const port = listened.value.port!;
    const file = join(dir, 'msrp.pcap');
    capture = await startCapture(port, file);
    const expected: string[] = [];
    client.on('frame', (f) => {
      if (f.direction !== 'out' || f.frame === null) return;
      const frame = f.frame;
      const range = frame.headers.find((h) => h.name === 'Byte-Range')?.value ?? '';
      expected.push(frame.kind === 'request' ? `${frame.method}|${frame.transactionId}|${range}` : `|${frame.transactionId}|`);
    });
    pf.on('frame', (f) => {
      if (f.direction === 'out' && f.frame?.kind === 'response') expected.push(`${f.frame.status}|${f.frame.transactionId}|`);
    });
    expect((await client.connect([listened.value])).ok).to.equal(true);
    const sent = await client.send({ body: Buffer.alloc(250, 0x62), contentType: 'text/plain' });
    expect(sent.ok).to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
    await new Promise<void>((resolve) => {
      capture!.once('exit', () => resolve());
      capture!.kill('SIGINT');
    });
    const out = execFileSync(
      'tshark',
      ['-r', file, '-d', `tcp.port==${port},msrp`, '-Y', 'msrp', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', '-e', 'msrp.method', '-e', 'msrp.status.code', '-e', 'msrp.transaction.id', '-e', 'msrp.byte.range'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const decoded = out
      .trim()
      .split('\n')
      .map((line) => {
        const [method, status, tid, range] = line.split('|');
        return `${method || status}|${tid}|${range ?? ''}`;
      });
    expect(decoded).to.deep.equal(expected);
    expect(decoded.filter((d) => d.startsWith('SEND'))).to.have.length(4); // bind + 3 chunks
  });
});

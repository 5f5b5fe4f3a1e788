/**
 * Starts the project's Kamailio (test/kamailio/kamailio.cfg, filled in a temp dir) in the
 * foreground on 127.0.0.1:<port>, routing the PF's domain to the PF's fixed port; stop() kills
 * exactly that process. Absent Kamailio is a skip, except in CI where it is a failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForListening } from './sipp.ts';

const TEMPLATE = fileURLToPath(new URL('../kamailio/kamailio.cfg', import.meta.url));

export function findKamailio(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0);
  for (const dir of [...dirs, '/usr/sbin', '/usr/local/sbin']) {
    const candidate = join(dir, 'kamailio');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function modulePath(): string | undefined {
  for (const dir of ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules', '/usr/local/lib64/kamailio/modules']) {
    if (existsSync(join(dir, 'tm.so'))) return `${dir}/`;
  }
  return undefined;
}

export function kamailioSkipReason(): string | undefined {
  if (findKamailio() !== undefined && modulePath() !== undefined) return undefined;
  if (process.env.CI === 'true') throw new Error('kamailio not installed; .ci/run installs it');
  return 'kamailio not installed (apt-get install --no-install-recommends kamailio); Kamailio interop tests skipped';
}

export interface KamailioProcess {
  readonly port: number;
  /** Everything Kamailio logged (stderr, -E). */
  log(): string;
  stop(): Promise<void>;
}

export async function startKamailio(options: { port: number; pfPort: number; pfDomain: string; imsDomain?: string }): Promise<KamailioProcess> {
  const binary = findKamailio();
  const mpath = modulePath();
  if (binary === undefined || mpath === undefined) throw new Error('kamailio not installed');
  const dir = mkdtempSync(join(tmpdir(), 'cpm-kamailio-'));
  const cfg = readFileSync(TEMPLATE, 'utf8')
    .replaceAll('@PORT@', String(options.port))
    .replaceAll('@PF_PORT@', String(options.pfPort))
    .replaceAll('@PF_DOMAIN@', options.pfDomain)
    .replaceAll('@IMS_DOMAIN@', options.imsDomain ?? 'ims.example.net')
    .replaceAll('@MPATH@', mpath);
  const file = join(dir, 'kamailio.cfg');
  writeFileSync(file, cfg);
  const child = spawn(binary, ['-f', file, '-DD', '-E', '-m', '64', '-M', '8'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => output.push(c));
  child.stderr.on('data', (c: Buffer) => output.push(c));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const log = (): string => Buffer.concat(output).toString('latin1');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(hard);
    rmSync(dir, { recursive: true, force: true });
  };
  const up = (await waitForListening(options.port, 'udp', 5_000)) && (await waitForListening(options.port, 'tcp', 5_000));
  if (!up) {
    await stop();
    throw new Error(`kamailio did not start listening on ${options.port}:\n${log().slice(-2000)}`);
  }
  return { port: options.port, log, stop };
}

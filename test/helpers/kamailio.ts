/**
 * Starts the project's Kamailio (test/kamailio/kamailio.cfg, filled in a temp dir) in the
 * foreground on 127.0.0.1:<a port freePort hands out; a new one if another process binds it first>, routing the PF's domain to the PF's fixed port; stop() kills
 * exactly that process. Absent Kamailio is a skip, except in CI where it is a failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';
import { PORT_ATTEMPTS, portTaken, waitForOwnListener } from './sipp.ts';

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

export interface KamailioOptions {
  pfPort: number;
  pfDomain: string;
  imsDomain?: string;
}

/**
 * Kamailio on a port freePort hands out. The port can be taken between freePort and Kamailio's
 * bind (Kamailio then logs "Address already in use" and exits): a new port, up to PORT_ATTEMPTS times.
 */
export async function startKamailio(options: KamailioOptions): Promise<KamailioProcess> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const started = await startKamailioOn(await freePort(), options);
    if (!('error' in started)) return started;
    lastError = started.error;
    if (!started.portTaken) break;
  }
  throw lastError ?? new Error('kamailio did not start');
}

async function startKamailioOn(port: number, options: KamailioOptions): Promise<KamailioProcess | { error: Error; portTaken: boolean }> {
  const binary = findKamailio();
  const mpath = modulePath();
  if (binary === undefined || mpath === undefined) return { error: new Error('kamailio not installed'), portTaken: false };
  const dir = mkdtempSync(join(tmpdir(), 'cpm-kamailio-'));
  const cfg = readFileSync(TEMPLATE, 'utf8')
    .replaceAll('@PORT@', String(port))
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
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('close', () => {
    gone = true;
    resolve();
  }));
  const log = (): string => Buffer.concat(output).toString('latin1');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(hard);
    rmSync(dir, { recursive: true, force: true });
  };
  const pid = child.pid;
  const down = (): boolean => gone || child.exitCode !== null || child.signalCode !== null;
  const up = pid !== undefined && (await waitForOwnListener(pid, port, 'udp', down, 5_000)) && (await waitForOwnListener(pid, port, 'tcp', down, 5_000));
  if (!up) {
    await stop();
    const text = log();
    return { error: new Error(`kamailio did not start listening on ${port}:\n${text.slice(-2000)}`), portTaken: portTaken(text) };
  }
  return { port, log, stop };
}

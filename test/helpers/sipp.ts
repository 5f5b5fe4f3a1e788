/**
 * A small SIPp runner for interop tests: one SIPp process per call (`-m 1`), bounded by SIPp's own
 * global timeout and by a hard kill, with its exit code, screens and error/message logs returned
 * as a value. Scenarios live in test/sipp/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';

export type SippTransport = 'udp' | 'tcp';

export const SCENARIO_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));

export interface SippOptions {
  /** File name in test/sipp/ or an absolute path. */
  scenario: string;
  transport: SippTransport;
  /** Port SIPp binds on 127.0.0.1 (see `freePort`). */
  localPort: number;
  /** Where a UAC scenario sends; omit for a UAS scenario. */
  remote?: { address: string; port: number };
  /** `-s`: user part of the Request-URI ([service]). */
  service?: string;
  /** `-key name value` pairs. */
  keys?: Readonly<Record<string, string>>;
  /** Further SIPp arguments, e.g. `['-lost', '20', '-d', '1000']`. */
  extraArgs?: readonly string[];
  /** SIPp's `-timeout` in seconds (with `-timeout_error`, reaching it exits 255). Default 15. */
  timeoutSeconds?: number;
  /** Hard SIGKILL after this many ms, in case SIPp ignores its own timeout. */
  killAfterMs?: number;
}

export interface SippRun {
  /** 0 = every call succeeded, 1 = a call failed, 255 = fatal or global timeout; null if killed. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the hard kill fired. */
  killed: boolean;
  args: string[];
  stdout: string;
  stderr: string;
  /** Contents of the `-trace_err` file (empty when no error happened). */
  errors: string;
  /** Contents of the `-trace_msg` file: every message SIPp sent and received. */
  messages: string;
  durationMs: number;
}

export interface SippProcess {
  readonly pid: number | undefined;
  readonly done: Promise<SippRun>;
}

/** Absolute path of the sipp binary, or undefined when it is not installed. */
export function findSipp(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0);
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const candidate = join(dir, 'sipp');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Why SIPp tests must be skipped, or undefined when they can run. In CI a missing SIPp is a
 * failure, not a skip, so this throws there.
 */
export function sippSkipReason(): string | undefined {
  if (findSipp() !== undefined) return undefined;
  if (process.env.CI === 'true') throw new Error('sipp not installed; .ci/run installs sip-tester');
  return 'sipp not installed (apt-get install sip-tester); SIPp interop tests skipped';
}


/** The /proc/net/{udp,tcp} rows bound (UDP, state 07) or listening (TCP, state 0A) on 127.0.0.1:port or *:port; their socket inodes. */
function socketInodes(port: number, transport: SippTransport): string[] {
  const file = transport === 'udp' ? '/proc/net/udp' : '/proc/net/tcp';
  const wantedState = transport === 'udp' ? '07' : '0A';
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const wantedLocal = new Set([`0100007F:${hex}`, `00000000:${hex}`]);
  let table: string;
  try {
    table = readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 9 && wantedLocal.has(cols[1]!) && cols[3] === wantedState) inodes.push(cols[9]!);
  }
  return inodes;
}

/** Reads /proc/net/{udp,tcp} to tell whether something listens on 127.0.0.1:port, without touching it. */
export function isListening(port: number, transport: SippTransport): boolean {
  return socketInodes(port, transport).length > 0;
}

/** `pid` and its descendants (Kamailio's workers hold its sockets, not its main process). */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length && tree.length < 256; i++) {
    try {
      const children = readFileSync(`/proc/${tree[i]}/task/${tree[i]}/children`, 'latin1').trim();
      if (children.length > 0) tree.push(...children.split(/\s+/).map(Number));
    } catch {
      // gone, or no children file
    }
  }
  return tree;
}

/**
 * Whether process `pid` (or one of its children) holds the socket bound on the port: a port
 * freePort released can be taken by another process before the tool binds it, and then
 * "something listens" is not enough.
 */
export function ownsListeningSocket(pid: number, port: number, transport: SippTransport): boolean {
  const inodes = new Set(socketInodes(port, transport).map((inode) => `socket:[${inode}]`));
  if (inodes.size === 0) return false;
  return processTree(pid).some((member) => {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${member}/fd`);
    } catch {
      return false;
    }
    return fds.some((fd) => {
      try {
        return inodes.has(readlinkSync(`/proc/${member}/fd/${fd}`));
      } catch {
        return false;
      }
    });
  });
}

/** Polls until SIPp (or anything) listens on the port; false after `timeoutMs`. */
export async function waitForListening(port: number, transport: SippTransport, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isListening(port, transport)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return isListening(port, transport);
}

/**
 * Polls until process `pid` holds the socket on the port (true), the process has exited (false,
 * at once) or `timeoutMs` passed (false). `exited` says whether the process is gone.
 */
export async function waitForOwnListener(pid: number, port: number, transport: SippTransport, exited: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) return false;
    if (ownsListeningSocket(pid, port, transport)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A tool's log says it could not bind its port (errno 98): another process took it first. */
export function portTaken(log: string): boolean {
  return /errno = 98\b|Address already in use|EADDRINUSE/.test(log);
}

/** How often a tool is restarted on a fresh port after losing the one freePort gave it. */
export const PORT_ATTEMPTS = 5;

export function sippArgs(options: SippOptions, logDir: string): string[] {
  const scenario = isAbsolute(options.scenario) ? options.scenario : join(SCENARIO_DIR, options.scenario);
  const args: string[] = [];
  if (options.remote) args.push(`${options.remote.address}:${options.remote.port}`);
  args.push('-sf', scenario, '-i', '127.0.0.1', '-bind_local', '-p', String(options.localPort));
  args.push('-t', options.transport === 'udp' ? 'u1' : 't1');
  args.push('-nostdin', '-m', '1', '-timeout', `${options.timeoutSeconds ?? 15}s`, '-timeout_error');
  args.push('-trace_err', '-error_file', join(logDir, 'errors.log'));
  args.push('-trace_msg', '-message_file', join(logDir, 'messages.log'));
  if (options.service !== undefined) args.push('-s', options.service);
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, value);
  args.push(...(options.extraArgs ?? []));
  return args;
}

function readIfPresent(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** Starts SIPp; `done` resolves (never rejects) when it exits or is killed. */
export function startSipp(options: SippOptions): SippProcess {
  const binary = findSipp();
  const logDir = mkdtempSync(join(tmpdir(), 'cpm-sipp-'));
  const args = sippArgs(options, logDir);
  const started = Date.now();
  if (binary === undefined) {
    const done = Promise.resolve<SippRun>({
      exitCode: null, signal: null, killed: false, args, stdout: '', stderr: 'sipp not installed', errors: '', messages: '', durationMs: 0,
    });
    return { pid: undefined, done };
  }
  const child = spawn(binary, args, { cwd: logDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let killed = false;
  const killAfter = options.killAfterMs ?? ((options.timeoutSeconds ?? 15) * 1000 + 3000);
  const killer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, killAfter);
  const done = new Promise<SippRun>((resolve) => {
    let finished = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      if (finished) return;
      finished = true;
      clearTimeout(killer);
      const run: SippRun = {
        exitCode,
        signal,
        killed,
        args,
        stdout: Buffer.concat(stdout).toString('latin1'),
        stderr: Buffer.concat(stderr).toString('latin1') + (spawnError ? `\n${spawnError.message}` : ''),
        errors: readIfPresent(join(logDir, 'errors.log')),
        messages: readIfPresent(join(logDir, 'messages.log')),
        durationMs: Date.now() - started,
      };
      rmSync(logDir, { recursive: true, force: true });
      resolve(run);
    };
    child.once('error', (error) => finish(null, null, error));
    child.once('close', (code, signal) => finish(code, signal));
  });
  return { pid: child.pid, done };
}

/** Runs SIPp to completion. */
export function runSipp(options: SippOptions): Promise<SippRun> {
  return startSipp(options).done;
}

/**
 * Runs a SIPp UAC to completion on a port freePort hands out; if another process binds that port
 * first (SIPp exits 254 with errno 98 before sending anything), again on a new port.
 */
export async function runSippOnFreePort(options: Omit<SippOptions, 'localPort'>): Promise<SippRun> {
  for (let attempt = 1; ; attempt++) {
    const run = await runSipp({ ...options, localPort: await freePort() });
    if (attempt >= PORT_ATTEMPTS || !portTaken(run.stderr)) return run;
  }
}

export type ListeningSipp = { ok: true; port: number; sipp: SippProcess } | { ok: false; message: string };

/**
 * Starts a SIPp UAS on a port freePort hands out and waits until SIPp itself holds that port (not
 * just anyone: the port can be taken between freePort and SIPp's bind). A lost port means a new
 * port and a new SIPp, up to PORT_ATTEMPTS times.
 */
export async function startSippListening(options: Omit<SippOptions, 'localPort'>, timeoutMs = 5000): Promise<ListeningSipp> {
  let last = '';
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const sipp = startSipp({ ...options, localPort: port });
    let exited = false;
    void sipp.done.then(() => (exited = true));
    const listening = sipp.pid !== undefined && (await waitForOwnListener(sipp.pid, port, options.transport, () => exited, timeoutMs));
    if (listening) return { ok: true, port, sipp };
    if (!exited && sipp.pid !== undefined) {
      try {
        process.kill(sipp.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    const run = await sipp.done;
    last = `SIPp did not start listening on ${port}\n${describeRun(run)}`;
    if (!portTaken(run.stderr)) break;
  }
  return { ok: false, message: last };
}

/** One paragraph for an assertion message when SIPp did not exit 0. */
export function describeRun(run: SippRun): string {
  const tail = (text: string, lines: number): string => text.split('\n').slice(-lines).join('\n');
  return [
    `sipp ${run.args.join(' ')}`,
    `exit=${run.exitCode} signal=${run.signal} killed=${run.killed} after ${run.durationMs} ms`,
    `errors:\n${tail(run.errors, 20)}`,
    `stderr:\n${tail(run.stderr, 10)}`,
    `messages (tail):\n${tail(run.messages, 60)}`,
  ].join('\n');
}

/**
 * A small SIPp runner for interop tests: one SIPp process per call (`-m 1`), bounded by SIPp's own
 * global timeout and by a hard kill, with its exit code, screens and error/message logs returned
 * as a value. Scenarios live in test/sipp/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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


/** Reads /proc/net/{udp,tcp} to tell whether something listens on 127.0.0.1:port, without touching it. */
export function isListening(port: number, transport: SippTransport): boolean {
  const file = transport === 'udp' ? '/proc/net/udp' : '/proc/net/tcp';
  // UDP sockets show state 07 (CLOSE, i.e. bound); a TCP listener shows 0A (LISTEN).
  const wantedState = transport === 'udp' ? '07' : '0A';
  const wantedLocal = new Set([`0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`, `00000000:${port.toString(16).toUpperCase().padStart(4, '0')}`]);
  let table: string;
  try {
    table = readFileSync(file, 'latin1');
  } catch {
    return false;
  }
  return table
    .split('\n')
    .slice(1)
    .some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols.length > 3 && wantedLocal.has(cols[1]) && cols[3] === wantedState;
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

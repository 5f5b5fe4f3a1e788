/** Runs the real `cpm-harness` binary as a child process, the way an operator or CI does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/cpm-harness.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `nodeArgs` go before the script, e.g. `--import <preload>` to inject a fault into the CLI process; `env` adds to this process's. */
export function startCli(args: string[], cwd: string, nodeArgs: string[] = [], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], cwd: string, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
  return startCli(args, cwd, nodeArgs, env).done;
}


/** Resolves with the first stdout line matching `pattern` (e.g. serve-client's `ut: <url>`), or rejects after `withinMs`. */
export function waitForLine(child: ChildProcess, pattern: RegExp, withinMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.stdout!.off('data', onData);
      reject(new Error(`no line matching ${pattern} within ${withinMs} ms; got ${JSON.stringify(seen)}`));
    }, withinMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
  });
}

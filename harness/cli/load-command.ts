/**
 * `cpm-harness load`: N concurrent deferred-delivery group sessions with M messages each against
 * the reference client or an external one; live figures on a terminal, a summary (and JSON), and
 * an exit code from the thresholds: 0 all met, 1 a threshold missed, 2 a usage error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { runLoad, type LoadSnapshot, type LoadSummary } from '../load/load.ts';
import type { LatencySummary } from '../load/stats.ts';
import { builtinConfig, externalConfig, REAL_WINDOWS, type RunConfig } from '../testcase/config.ts';
import { clientFactoryFor, parseClientSpec, parseHostPort, type Checked } from './clients.ts';

export interface LoadArguments {
  sessions?: number;
  rate?: number;
  backlog?: number;
  client?: string;
  transport?: 'udp' | 'tcp';
  listen?: string;
  maxP99Ms?: number;
  json?: string;
  timeout?: number;
}

interface ResolvedLoad {
  config: RunConfig;
  sessions: number;
  rate: number;
  backlog: number;
  timeoutMs: number;
}

const whole = (value: number | undefined, fallback: number, min: number, max: number): number | undefined => {
  const v = value ?? fallback;
  return Number.isInteger(v) && v >= min && v <= max ? v : undefined;
};

export function resolveLoad(args: LoadArguments): Checked<ResolvedLoad & { clientText: string }> {
  const sessions = whole(args.sessions, 100, 1, 100_000);
  if (sessions === undefined) return { ok: false, message: '--sessions takes a whole number from 1 to 100000' };
  const backlog = whole(args.backlog, 10, 0, 100_000);
  if (backlog === undefined) return { ok: false, message: '--backlog takes a whole number from 0 to 100000' };
  const rate = args.rate ?? 100;
  if (!(rate > 0 && rate <= 100_000)) return { ok: false, message: '--rate takes a number of sessions per second above 0 (at most 100000)' };
  if (args.maxP99Ms !== undefined && !(args.maxP99Ms > 0)) return { ok: false, message: '--max-p99-ms takes a number of milliseconds above 0' };
  const timeout = args.timeout ?? 300;
  if (!(timeout > 0 && timeout <= 86_400)) return { ok: false, message: '--timeout takes seconds above 0 (at most 86400)' };
  const clientText = args.client ?? 'builtin';
  const spec = parseClientSpec(clientText);
  if (!spec.ok) return spec;
  const transport = args.transport ?? (spec.value.kind === 'sip' ? spec.value.transport : undefined) ?? 'tcp';
  // Lab timers and windows for everyone: under load a scaled Timer B or IMDN window would
  // report the machine's queueing as the client's fault.
  const config = spec.value.kind === 'builtin' ? builtinConfig(transport) : externalConfig(transport);
  config.timers = { t1: 500, t2: 4000, t4: 5000 };
  config.windows = { ...REAL_WINDOWS };
  if (args.listen !== undefined) {
    const listen = parseHostPort(args.listen, '--listen', true);
    if (!listen.ok) return listen;
    config.address = listen.value.address;
    config.listen = { udpPort: listen.value.port, tcpPort: listen.value.port };
  }
  if (spec.value.kind === 'register' && config.listen.tcpPort === 0) {
    return { ok: false, message: '--client register needs a fixed port for the client to REGISTER to: add --listen <address>:<port>, e.g. --listen 0.0.0.0:5060' };
  }
  return { ok: true, value: { config, sessions, rate, backlog, timeoutMs: timeout * 1000, clientText } };
}

function latency(name: string, s: LatencySummary): string {
  return `${name} p50 ${s.p50} p95 ${s.p95} p99 ${s.p99} ms`;
}

/** One status line: what a terminal shows, rewritten in place. */
export function liveLine(s: LoadSnapshot): string {
  return [
    `${(s.elapsedMs / 1000).toFixed(1)}s`,
    `sessions ${s.sessionsUp}/${s.sessionsRequested} (${Math.round(s.sessionsPerSec)}/s)`,
    `messages ${s.messagesSent} (${Math.round(s.messagesPerSec)}/s)`,
    `IMDNs ${s.imdnsReturned}`,
    latency('INVITE→200', s.inviteTo200),
    latency('SEND→200', s.sendTo200),
    latency('SEND→IMDN', s.sendToImdn),
    `errors ${s.errors}`,
  ].join(' · ');
}

export function summaryText(s: LoadSummary): string {
  const lines = [
    `cpm-harness load — ${s.sessionsRequested} sessions × ${s.backlog} deferred messages against ${s.client} (${s.transport}, ${s.rate} sessions/s)`,
    `  sessions   ${s.sessionsUp} held, ${s.sessionsFailed} failed, ${s.sessionsPerSec.toFixed(1)}/s over ${(s.durationMs / 1000).toFixed(1)} s`,
    `  messages   ${s.messagesSent} delivered (${Math.round(s.messagesPerSec)}/s), IMDNs ${s.imdnsReturned} of ${s.imdnsRequested} requested`,
    `  ${latency('INVITE→200', s.inviteTo200)} (max ${s.inviteTo200.max})`,
    `  ${latency('SEND→200  ', s.sendTo200)} (max ${s.sendTo200.max})`,
    `  ${latency('SEND→IMDN ', s.sendToImdn)} (max ${s.sendToImdn.max})`,
    `  memory     ${Math.round(s.bytesPerHeldSession / 1024)} KiB per held session (heap + buffers, both sides for builtin)`,
    `  errors     ${s.errors}${s.errorsByKind.map((e) => `\n    ${e.kind} ×${e.count}: ${e.example.split('\n')[0]}`).join('')}`,
    s.thresholds.passed ? 'PASS  every threshold met' : `FAIL  ${s.thresholds.failures.join('; ')}`,
  ];
  return lines.join('\n');
}

export async function loadCommand(args: LoadArguments, io: { stdout: NodeJS.WriteStream | NodeJS.WritableStream; isTty?: boolean } = { stdout: process.stdout }): Promise<number> {
  const resolved = resolveLoad(args);
  if (!resolved.ok) {
    process.stderr.write(`cpm-harness: ${resolved.message}\n`);
    return 2;
  }
  const { config, sessions, rate, backlog, timeoutMs, clientText } = resolved.value;
  const spec = parseClientSpec(clientText);
  if (!spec.ok) return 2;
  const tty = io.isTty ?? Boolean((io.stdout as NodeJS.WriteStream).isTTY);
  const summary = await runLoad({
    sessions,
    rate,
    backlog,
    config,
    client: clientFactoryFor(spec.value, null),
    timeoutMs,
    ...(args.maxP99Ms === undefined ? {} : { maxP99Ms: args.maxP99Ms }),
    ...(tty ? { onProgress: (s: LoadSnapshot) => io.stdout.write(`\r\x1b[2K${liveLine(s)}`) } : {}),
  });
  if (tty) io.stdout.write('\r\x1b[2K');
  io.stdout.write(`${summaryText(summary)}\n`);
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, JSON.stringify(summary, null, 2));
  }
  return summary.thresholds.passed ? 0 : 1;
}

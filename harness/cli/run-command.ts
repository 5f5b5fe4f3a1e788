/**
 * `cpm-harness run`: resolve configuration and client, run the selected cases with progress on
 * the terminal, write JUnit, Markdown and JSON reports — also after Ctrl-C, with every case
 * present (interrupted ones as error, never-started ones as skipped).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CATALOGUE } from '../../scenarios/index.ts';
import { ParticipatingFunction } from '../pf/participating-function.ts';
import { buildJunitXml } from '../reporters/junit.ts';
import { buildPcap } from '../reporters/pcap.ts';
import { buildMarkdownReport } from '../reporters/markdown.ts';
import { resultsJson } from '../reporters/json.ts';
import { TerminalReporter } from '../reporters/terminal.ts';
import { notStartedResult, runSuite, type StartPf } from '../runner/runner.ts';
import { builtinConfig, externalConfig, REAL_WINDOWS, SCALED_WINDOWS, type RunConfig } from '../testcase/config.ts';
import { selectCases } from '../testcase/definition.ts';
import { runFailed, totals, type TestCaseResult } from '../verdict/verdict.ts';
import { clientFactoryFor, parseClientSpec, parseHostPort, resolveUpperTester, type Checked, type ClientSpec } from './clients.ts';
import { applyConfigFile, loadConfigFile, type ConfigFile } from './config-file.ts';

export interface RunArguments {
  client?: string;
  grep?: string;
  junit?: string;
  reportDir?: string;
  transport?: 'udp' | 'tcp';
  config?: string;
  jobs?: number;
  quiet?: boolean;
  /** `<address>:<port>`: the PF's fixed SIP port (UDP and TCP), where a `register` client REGISTERs. */
  listen?: string;
  /** Upper tester base URL, or `prompt`. */
  ut?: string;
  /** `<host>:<port>` of an outbound proxy for the PF's requests. */
  proxy?: string;
  /** false from `--no-msrp`. */
  msrp?: boolean;
  windows?: 'real' | 'scaled';
  /** Directory for one pcap file per test case. */
  pcap?: string;
}

/** The case's trace as a capture Wireshark opens: `<dir>/<case id>.pcap`. */
function writePcap(dir: string, result: TestCaseResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${result.id}.pcap`), buildPcap(result.trace));
}

function usage(message: string): number {
  process.stderr.write(`cpm-harness: ${message}\n`);
  return 2;
}

export const startParticipatingFunction: StartPf = (options) => ParticipatingFunction.start(options);

/** Everything `run` needs before the first case, or the usage error that stops it (exit 2). */
export interface ResolvedRun {
  spec: ClientSpec;
  config: RunConfig;
  jobs: number;
  junitPath: string;
  reportDir: string;
  grep: RegExp | undefined;
  ut: string | undefined;
}

/** Command line over config file over defaults; no I/O except reading the config file. */
export function resolveRun(args: RunArguments): Checked<ResolvedRun> {
  let file: ConfigFile = {};
  if (args.config) {
    const loaded = loadConfigFile(args.config);
    if (!loaded.ok) return loaded;
    file = loaded.value;
  }
  const parsedSpec = parseClientSpec(args.client ?? file.client ?? 'builtin');
  if (!parsedSpec.ok) return parsedSpec;
  const spec = parsedSpec.value;
  const builtin = spec.kind === 'builtin';

  let grep: RegExp | undefined;
  if (args.grep !== undefined) {
    try {
      grep = new RegExp(args.grep);
    } catch (error) {
      return { ok: false, message: `--grep is not a valid regular expression: ${(error as Error).message}` };
    }
  }
  if (args.jobs !== undefined && (!Number.isInteger(args.jobs) || args.jobs < 1)) return { ok: false, message: '--jobs takes a whole number ≥ 1' };

  const uriTransport = spec.kind === 'sip' ? spec.transport : undefined;
  const asked = args.transport ?? file.transport;
  if (uriTransport && asked && uriTransport !== asked) {
    return { ok: false, message: `--client says transport=${uriTransport} but --transport/config say ${asked}; drop one of them or make them agree` };
  }
  const transport = uriTransport ?? asked ?? 'tcp';
  let config: RunConfig = builtin ? builtinConfig(transport) : externalConfig(transport);
  const profile = args.windows ?? file.windowProfile ?? (builtin ? 'scaled' : 'real');
  config.windows = { ...(profile === 'scaled' ? SCALED_WINDOWS : REAL_WINDOWS) };
  config = applyConfigFile(config, file);
  config.transport = transport;

  const listenText = args.listen ?? file.listen;
  if (listenText !== undefined) {
    const listen = parseHostPort(listenText, '--listen', true);
    if (!listen.ok) return listen;
    config.address = listen.value.address;
    config.listen = { udpPort: listen.value.port, tcpPort: listen.value.port };
  }
  if (spec.kind === 'register' && config.listen.tcpPort === 0) {
    return { ok: false, message: '--client register needs a fixed port for the client to REGISTER to: add --listen <address>:<port>, e.g. --listen 0.0.0.0:5060 (or listen: in the config file)' };
  }
  const proxyText = args.proxy ?? file.proxy;
  if (proxyText !== undefined) {
    const proxy = parseHostPort(proxyText, '--proxy');
    if (!proxy.ok) return proxy;
    config.proxy = proxy.value;
  }
  if (args.msrp === false) config.pics = { ...config.pics, msrp: false };

  const ut = args.ut ?? file.ut;
  if (ut !== undefined && builtin) {
    return { ok: false, message: `--ut is for external clients; the built-in client brings its own upper tester. Drop --ut, or test the served UT with: cpm-harness serve-client … and --client register --ut <url>` };
  }
  const jobs = args.jobs ?? file.jobs ?? (builtin ? 4 : 1);
  if (config.listen.tcpPort !== 0 && jobs > 1) {
    return { ok: false, message: `--jobs ${jobs} with --listen: fixed ports serve one case at a time; drop --jobs or --listen` };
  }
  if (!builtin && jobs > 1) {
    return { ok: false, message: `--jobs ${jobs}: an external client is tested one case at a time (every case's PF uses the same ports); drop --jobs` };
  }
  return {
    ok: true,
    value: { spec, config, jobs, grep, ut, junitPath: args.junit ?? file.junit ?? join('reports', 'junit.xml'), reportDir: args.reportDir ?? file.reportDir ?? 'reports' },
  };
}

export async function runCommand(args: RunArguments): Promise<number> {
  const resolved = resolveRun(args);
  if (!resolved.ok) return usage(resolved.message);
  const { spec, config, jobs, junitPath, reportDir, grep } = resolved.value;
  const cases = selectCases(CATALOGUE, grep);
  if (cases.length === 0) return usage(`--grep ${args.grep} matches no test case; \`cpm-harness list\` shows them all`);

  const ut = await resolveUpperTester(resolved.value.ut, { timeoutMs: config.windows.utMs });
  if (!ut.ok) return usage(ut.message);
  const where = `${config.address}:${config.listen.tcpPort} (udp and tcp)`;
  const factory = clientFactoryFor(spec, ut.value, {
    write: (t) => process.stderr.write(t),
    tty: Boolean(process.stderr.isTTY),
    what: `waiting for the client to REGISTER at ${where}; start it now`,
  });
  const client = { factory };

  const interactive = Boolean(process.stdout.isTTY) && !args.quiet;
  const terminal = new TerminalReporter({ write: (t) => process.stdout.write(t), verbose: interactive });
  const utLine = spec.kind === 'builtin' ? 'in-process' : (resolved.value.ut ?? 'none (cases that need it are skipped)');
  terminal.header([
    `cpm-harness — OMA CPM 2.1 §7.3.12 deferred group delivery`,
    `client: ${client.factory.description}   transport: ${config.transport}   test cases: ${cases.length}   jobs: ${jobs}`,
    ...(spec.kind === 'builtin' ? [] : [`PF: ${where}   upper tester: ${utLine}   windows: registration ${config.windows.registrationMs} ms, UT ${config.windows.utMs} ms`]),
  ]);

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const finished = new Map<string, TestCaseResult>();
  const controller = new AbortController();
  let interrupts = 0;
  const writeReports = (results: readonly TestCaseResult[]): string[] => {
    const wallMs = performance.now() - t0;
    mkdirSync(dirname(junitPath), { recursive: true });
    mkdirSync(reportDir, { recursive: true });
    const properties = { transport: config.transport, t1: String(config.timers.t1), noDirection: config.ambiguity.noDirection, participantsOn404: config.ambiguity.participantsOn404 };
    writeFileSync(junitPath, buildJunitXml(results, { suiteName: 'cpm-harness', client: client.factory.description, startedAt, properties }));
    const md = join(reportDir, 'report.md');
    writeFileSync(md, buildMarkdownReport(results, { client: client.factory.description, startedAt, wallMs, config: properties }));
    const json = join(reportDir, 'results.json');
    writeFileSync(json, resultsJson(results, { client: client.factory.description, startedAt, wallMs, config }));
    return [`JUnit:  ${junitPath}`, `Report: ${md}`, `JSON:   ${json}`];
  };
  const everyCase = (): TestCaseResult[] =>
    cases.map((c) => finished.get(c.id) ?? notStartedResult(c, 'run interrupted before this case finished'));
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\ninterrupting: finishing reports (Ctrl-C again to stop at once)\n');
      controller.abort();
      return;
    }
    writeReports(everyCase());
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    const results = await runSuite({
      cases,
      client: client.factory,
      config,
      startPf: startParticipatingFunction,
      jobs,
      signal: controller.signal,
      onCaseFinished: (r) => {
        finished.set(r.id, r);
        if (args.pcap) writePcap(args.pcap, r);
        terminal.caseFinished(r);
      },
    });
    const outputs = writeReports(results);
    if (args.pcap) outputs.push(`pcap:   ${join(args.pcap, '<case id>.pcap')} (MSRP decodes with tshark -d tcp.port==<port>,msrp; the ports are in each case's trace)`);
    terminal.summary(totals(results), performance.now() - t0, outputs);
    return runFailed(results) ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

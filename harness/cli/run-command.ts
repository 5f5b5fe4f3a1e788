/**
 * `cpm-harness run`: resolve configuration and client, run the selected cases (one shard of
 * them, each `--repeat` times) with progress on the terminal, and write JUnit, Markdown, JSON and
 * HTML reports — also after SIGINT, SIGTERM, SIGHUP or a fault nothing else caught, with every
 * case present (running ones as interrupted errors, never-started ones as skipped).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CATALOGUE } from '../../scenarios/index.ts';
import type { UpperTester } from '../client/types.ts';
import { ParticipatingFunction } from '../pf/participating-function.ts';
import { headline } from '../reporters/case-text.ts';
import { LiveStatus } from '../reporters/live-status.ts';
import { buildPcap } from '../reporters/pcap.ts';
import { configDigest, foldRepeats, reportFailed, repeatText, strictFailures, type CaseReport, type RunReport, type ShardSpec } from '../reporters/run-report.ts';
import { TerminalReporter } from '../reporters/terminal.ts';
import { race } from '../runner/pool.ts';
import { NOT_STARTED_INTERRUPTED, notStartedResult, RUNNING_INTERRUPTED, runSuite, type StartPf } from '../runner/runner.ts';
import { builtinConfig, externalConfig, REAL_WINDOWS, SCALED_WINDOWS, scaledWindowsNotice, type RunConfig } from '../testcase/config.ts';
import { selectCases, type TestCaseDefinition } from '../testcase/definition.ts';
import { REQUIREMENTS, type RequirementId } from '../verdict/requirements.ts';
import { requirementOption } from './list-commands.ts';
import { totals, type TestCaseResult } from '../verdict/verdict.ts';
import { chaosExpectation, findChaosClient } from '../reference-client/chaos.ts';
import { clientFactoryFor, parseClientSpec, parseHostPort, resolveUpperTester, type Checked, type ClientSpec } from './clients.ts';
import { applyConfigFile, loadConfigFile, type ConfigFile } from './config-file.ts';
import { harnessVersion } from './package-info.ts';
import { writeReportFiles } from './report-files.ts';
import { parseShard, selectShard } from './shard.ts';
import { currentScope } from '../core/scope.ts';
import { installStopHandlers, signalExitCode, type StopSignal } from './stop-handlers.ts';
import { observePf, observeUpperTester, type WaitReporter } from './wait-observer.ts';

export interface RunArguments {
  client?: string;
  grep?: string;
  /** Only cases that judge exactly this requirement ID. */
  req?: string;
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
  /** Warnings fail the run. */
  strict?: boolean;
  /** `<i>/<n>`: run only this shard of the selected cases. */
  shard?: string;
  /** Run each selected case this many times. */
  repeat?: number;
}

/** The case's trace as a capture Wireshark opens: `<dir>/<case id>.pcap`; returns its path. */
function writePcap(dir: string, result: TestCaseResult): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.id}.pcap`);
  writeFileSync(path, buildPcap(result.trace));
  return path;
}

/** Past the UT's own timeout, the net under asking for its capabilities. */
const UT_GRACE_MS = 1_000;

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
  requirement: RequirementId | undefined;
  ut: string | undefined;
  strict: boolean;
  shard: ShardSpec | undefined;
  repeat: number;
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
  const requirement = requirementOption(args.req);
  if (!requirement.ok) return requirement;
  if (args.jobs !== undefined && (!Number.isInteger(args.jobs) || args.jobs < 1)) return { ok: false, message: '--jobs takes a whole number ≥ 1' };
  if (args.repeat !== undefined && (!Number.isInteger(args.repeat) || args.repeat < 1 || args.repeat > 1000)) return { ok: false, message: '--repeat takes a whole number from 1 to 1000, e.g. --repeat 5' };
  let shard: ShardSpec | undefined;
  if (args.shard !== undefined) {
    const parsed = parseShard(args.shard);
    if (!parsed.ok) return parsed;
    shard = parsed.value;
  }

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
  const chaos = spec.kind === 'builtin' && spec.chaos !== undefined ? findChaosClient(spec.chaos) : undefined;
  if (chaos !== undefined && chaosExpectation(chaos, transport) === undefined) {
    return { ok: false, message: `chaos:${chaos.name} needs a SIP byte stream (TCP); over --transport ${transport} it would only run the conforming client. Use --transport tcp` };
  }

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
    value: {
      spec,
      config,
      jobs,
      grep,
      requirement: requirement.value,
      ut,
      // JUnit follows the report directory unless named: shards given only --report-dir must not overwrite one file.
      junitPath: args.junit ?? file.junit ?? join(args.reportDir ?? file.reportDir ?? 'reports', 'junit.xml'),
      reportDir: args.reportDir ?? file.reportDir ?? 'reports',
      strict: args.strict ?? file.strict ?? false,
      shard,
      repeat: args.repeat ?? 1,
    },
  };
}

/** One planned case of this shard, and every run of it that has ended so far. */
interface Planned {
  definition: TestCaseDefinition;
  order: number;
  runs: TestCaseResult[];
}

/** A case running when the process must exit now: an interrupted error, without its partial trace. */
function interruptedResult(definition: TestCaseDefinition, why: string): TestCaseResult {
  const { skipReason: _notSkipped, ...base } = notStartedResult(definition, why);
  return { ...base, outcome: 'error', error: { message: why } };
}

/** What reports call the client before its factory exists (a signal while the UT is asked). */
function specDescription(spec: ClientSpec): string {
  if (spec.kind === 'builtin') return spec.chaos ? `chaos:${spec.chaos}` : spec.mutant ? `builtin:${spec.mutant}` : 'builtin';
  return spec.kind === 'sip' ? spec.contact : 'register';
}

export async function runCommand(args: RunArguments): Promise<number> {
  const resolved = resolveRun(args);
  if (!resolved.ok) return usage(resolved.message);
  const { spec, config, jobs, junitPath, reportDir, grep, requirement, strict, shard, repeat } = resolved.value;
  const selection = selectCases(CATALOGUE, { ...(grep ? { grep } : {}), ...(requirement ? { requirement } : {}) });
  if (selection.length === 0) return usage(`${[args.grep !== undefined ? `--grep ${args.grep}` : '', args.req !== undefined ? `--req ${args.req}` : ''].filter(Boolean).join(' ')} matches no test case; \`cpm-harness list\` shows them all`);
  const planned: Planned[] = selectShard(selection, shard).map(({ item, order }) => ({ definition: item, order, runs: [] }));

  const interactive = Boolean(process.stdout.isTTY) && !args.quiet;
  const live = interactive
    ? new LiveStatus({ write: (t) => process.stdout.write(t), planned: planned.length * repeat, jobs, windows: config.windows, columns: () => process.stdout.columns || 100 })
    : undefined;
  const out = (text: string): void => (live ? live.print(text) : void process.stdout.write(text));
  const err = (text: string): void => (live ? live.print(text) : void process.stderr.write(text));
  let current: string | undefined;
  const showWait: WaitReporter = (what, withinMs) => live?.beginWait(what, withinMs, current) ?? (() => {});

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const byId = new Map(planned.map((p) => [p.definition.id, p]));
  const running = new Map<string, number>();
  const controller = new AbortController();
  const digest = configDigest(config);
  const requirements = REQUIREMENTS.map(({ id, level, title }) => ({ id, level, title }));
  let description = specDescription(spec);

  /** The run as it stands: cases still running are interrupted errors, cases never started are skipped. */
  const reportNow = (interrupted: string | undefined, runningWhy: string): RunReport => {
    const cases: CaseReport[] = planned.map((p) => {
      const runs = [...p.runs];
      if (runs.length === 0) runs.push(running.has(p.definition.id) ? interruptedResult(p.definition, runningWhy) : notStartedResult(p.definition, NOT_STARTED_INTERRUPTED));
      const folded = repeat > 1 ? foldRepeats(runs, headline) : { result: runs[0]!, repeat: undefined };
      const pcap = args.pcap ? writePcap(args.pcap, folded.result) : undefined;
      return { result: folded.result, purpose: p.definition.purpose, order: p.order, ...(folded.repeat ? { repeat: folded.repeat } : {}), ...(pcap ? { pcap } : {}) };
    });
    return {
      meta: {
        version: harnessVersion(),
        client: description,
        transport: config.transport,
        startedAt,
        wallMs: performance.now() - t0,
        config,
        configDigest: digest,
        strict,
        repeat,
        ...(shard ? { shard } : {}),
        selected: selection.length,
        ...(interrupted ? { interrupted } : {}),
        requirements,
      },
      cases,
    };
  };
  const writeNow = (interrupted: string | undefined, runningWhy: string): string[] => writeReportFiles(reportNow(interrupted, runningWhy), { junitPath, reportDir });

  // Installed before the upper tester is asked (up to utMs): a signal from here on still leaves every report.
  const stop = installStopHandlers({
    interrupt: (signal) => {
      err(`\n${signal}: interrupting; finishing the reports (send it again to stop at once)\n`);
      controller.abort();
    },
    exitNow: (signal, code) => {
      live?.stop();
      writeNow(signal, RUNNING_INTERRUPTED);
      process.stderr.write(`${signal} again: reports written, exiting\n`);
      process.exit(code);
    },
    // An exception nothing guarded, in the async context of a running case: that case ends as an error.
    contain: (error, origin) => {
      const scope = currentScope();
      if (scope === undefined) return false;
      if (scope.isClosed) err(`cpm-harness: harness fault (${origin}) after test case ${scope.label} ended, contained: ${error instanceof Error ? error.message : String(error)}\n`);
      else scope.fault(origin, error);
      return true;
    },
    fault: (error, origin) => {
      live?.stop();
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`\ncpm-harness: harness fault (${origin}): ${text}\n`);
      try {
        const outputs = writeNow(`harness fault (${origin})`, `harness fault (${origin}) while this case was running: ${error instanceof Error ? error.message : String(error)}`);
        process.stderr.write(`reports written with every case:\n${outputs.map((o) => `  ${o}\n`).join('')}`);
      } finally {
        process.exit(1);
      }
    },
  });
  /** A signal before the first case started (during start-up, or while the UT was asked): every case skipped. */
  const stoppedBeforeStart = (signal: StopSignal): number => {
    const outputs = writeNow(signal, RUNNING_INTERRUPTED);
    process.stderr.write(`${signal} before the first test case started: ${planned.length} test case${planned.length === 1 ? '' : 's'} not started (skipped); exit ${signalExitCode(signal)}\n${outputs.map((o) => `  ${o}\n`).join('')}`);
    return signalExitCode(signal);
  };
  try {
    // The signal held since the bin started (installStopHandlers took it over): no case runs.
    if (stop.signal) return stoppedBeforeStart(stop.signal);
    const asked = await race(resolveUpperTester(resolved.value.ut, { timeoutMs: config.windows.utMs }), config.windows.utMs + UT_GRACE_MS, controller.signal);
    if (stop.signal) return stoppedBeforeStart(stop.signal);
    if (asked.kind === 'threw') throw asked.error;
    if (asked.kind !== 'done') return usage(`--ut ${resolved.value.ut}: no answer within ${config.windows.utMs} ms`);
    const utResolved = asked.value;
    if (!utResolved.ok) return usage(utResolved.message);
    // The operator prompt owns the terminal line while it counts down; other UTs show their step as a wait.
    const ut: UpperTester | null =
      utResolved.value === null || !live
        ? utResolved.value
        : resolved.value.ut === 'prompt'
          ? observeUpperTester(utResolved.value, 0, () => live.pause())
          : observeUpperTester(utResolved.value, config.windows.utMs, showWait);
    const where = `${config.address}:${config.listen.tcpPort} (udp and tcp)`;
    const factory = clientFactoryFor(
      spec,
      ut,
      live ? undefined : { write: (t) => process.stderr.write(t), tty: Boolean(process.stderr.isTTY), what: `waiting for the client to REGISTER at ${where}; start it now` },
      live
        ? (withinMs) => {
            live.print(`waiting for the client to REGISTER at ${where}; start it now\n`);
            return live.beginWait(`the client to REGISTER at ${where}`, withinMs, current);
          }
        : undefined,
    );
    description = factory.description;
    const startPf: StartPf = live
      ? async (options) => {
          // Called synchronously after onCaseStart: the case these waits belong to is the current one now.
          const caseId = current;
          const pf = await startParticipatingFunction(options);
          return observePf(pf, config.windows, (what, withinMs) => live.beginWait(what, withinMs, caseId));
        }
      : startParticipatingFunction;

    const terminal = new TerminalReporter({ write: out, verbose: interactive });
    const utLine = spec.kind === 'builtin' ? 'in-process' : (resolved.value.ut ?? 'none (cases that need it are skipped)');
    const scope = [
      shard ? `shard ${shard.index}/${shard.count}: ${planned.length} of ${selection.length} test cases` : `test cases: ${planned.length}`,
      ...(repeat > 1 ? [`repeat: ${repeat}`] : []),
      `jobs: ${jobs}`,
      ...(strict ? ['strict: warnings fail'] : []),
    ];
    terminal.header([
      `cpm-harness ${harnessVersion()} — OMA CPM 2.1 §7.3.12 deferred group delivery`,
      `client: ${factory.description}   transport: ${config.transport}   ${scope.join('   ')}`,
      ...(spec.kind === 'builtin' ? [] : [`PF: ${where}   upper tester: ${utLine}   windows: registration ${config.windows.registrationMs} ms, UT ${config.windows.utMs} ms`]),
      ...[scaledWindowsNotice(config)].filter((line): line is string => line !== null),
    ]);
    live?.start();
    let notStarted = 0;
    await runSuite({
      cases: planned.flatMap((p) => Array.from({ length: repeat }, () => p.definition)),
      client: factory,
      config,
      startPf,
      jobs,
      signal: controller.signal,
      onCaseStart: (definition) => {
        current = definition.id;
        running.set(definition.id, (running.get(definition.id) ?? 0) + 1);
        live?.caseStarted(definition.id);
      },
      onCaseFinished: (r) => {
        const p = byId.get(r.id)!;
        p.runs.push(r);
        const left = (running.get(r.id) ?? 1) - 1;
        if (left > 0) running.set(r.id, left);
        else running.delete(r.id);
        live?.caseFinished(r.id, r.outcome, r.durationMs);
        // After an interrupt the never-started cases are counted in the summary, not listed one by one.
        if (controller.signal.aborted && r.outcome === 'skipped' && r.durationMs === 0) notStarted++;
        else terminal.caseFinished(r, repeat > 1 ? `${p.runs.length}/${repeat}` : undefined);
      },
    });
    live?.stop();
    const report = reportNow(stop.signal, RUNNING_INTERRUPTED);
    const outputs = writeReportFiles(report, { junitPath, reportDir });
    if (args.pcap) outputs.push(`pcap:   ${join(args.pcap, '<case id>.pcap')} (MSRP decodes with tshark -d tcp.port==<port>,msrp; the ports are in each case's trace)`);
    const remarks: string[] = [];
    const flaky = report.cases.filter((c) => c.repeat?.flaky);
    if (repeat > 1) remarks.push(flaky.length === 0 ? `repeat ${repeat}: no flaky case` : `flaky (mixed outcomes over ${repeat} runs): ${flaky.map((c) => `${c.result.id} (${repeatText(c.repeat!)})`).join('; ')}`);
    const strictCount = strictFailures(report);
    if (strict) remarks.push(strictCount > 0 ? `strict: ${strictCount} warning${strictCount === 1 ? ' fails' : 's fail'} the run` : 'strict: no warning');
    if (stop.signal) remarks.push(`interrupted by ${stop.signal}: ${notStarted} test case${notStarted === 1 ? '' : 's'} not started (skipped); exit ${signalExitCode(stop.signal)}`);
    terminal.summary(totals(report.cases.map((c) => c.result)), performance.now() - t0, outputs, remarks);
    if (stop.signal) return signalExitCode(stop.signal);
    return reportFailed(report) ? 1 : 0;
  } finally {
    live?.stop();
    stop.dispose();
  }
}

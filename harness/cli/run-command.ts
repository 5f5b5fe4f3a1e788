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
import { buildMarkdownReport } from '../reporters/markdown.ts';
import { resultsJson } from '../reporters/json.ts';
import { TerminalReporter } from '../reporters/terminal.ts';
import { notStartedResult, runSuite, type StartPf } from '../runner/runner.ts';
import { builtinConfig, externalConfig, type RunConfig } from '../testcase/config.ts';
import { selectCases } from '../testcase/definition.ts';
import { runFailed, totals, type TestCaseResult } from '../verdict/verdict.ts';
import { resolveClient } from './clients.ts';
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
}

function usage(message: string): number {
  process.stderr.write(`cpm-harness: ${message}\n`);
  return 2;
}

export const startParticipatingFunction: StartPf = (options) => ParticipatingFunction.start(options);

export async function runCommand(args: RunArguments): Promise<number> {
  let file: ConfigFile = {};
  if (args.config) {
    const loaded = loadConfigFile(args.config);
    if (!loaded.ok) return usage(loaded.message);
    file = loaded.value;
  }
  const clientSpec = args.client ?? file.client ?? 'builtin';
  const client = resolveClient(clientSpec);
  if (!client.ok) return usage(client.message);

  let grep: RegExp | undefined;
  if (args.grep !== undefined) {
    try {
      grep = new RegExp(args.grep);
    } catch (error) {
      return usage(`--grep is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  const cases = selectCases(CATALOGUE, grep);
  if (cases.length === 0) return usage(`--grep ${args.grep} matches no test case; \`cpm-harness list\` shows them all`);
  if (args.jobs !== undefined && (!Number.isInteger(args.jobs) || args.jobs < 1)) return usage('--jobs takes a whole number ≥ 1');

  const transport = args.transport ?? file.transport ?? 'tcp';
  let config: RunConfig = client.builtin ? builtinConfig(transport) : externalConfig(transport);
  config = applyConfigFile(config, file);
  if (args.transport) config.transport = args.transport;
  const jobs = args.jobs ?? file.jobs ?? (client.builtin ? 4 : 1);
  const junitPath = args.junit ?? file.junit ?? join('reports', 'junit.xml');
  const reportDir = args.reportDir ?? file.reportDir ?? 'reports';

  const interactive = Boolean(process.stdout.isTTY) && !args.quiet;
  const terminal = new TerminalReporter({ write: (t) => process.stdout.write(t), verbose: interactive });
  terminal.header([
    `cpm-harness — OMA CPM 2.1 §7.3.12 deferred group delivery`,
    `client: ${client.factory.description}   transport: ${config.transport}   test cases: ${cases.length}   jobs: ${jobs}`,
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
        terminal.caseFinished(r);
      },
    });
    const outputs = writeReports(results);
    terminal.summary(totals(results), performance.now() - t0, outputs);
    return runFailed(results) ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

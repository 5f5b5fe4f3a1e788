/**
 * `cpm-harness merge reports/*\/results.json`: the shards of one run (`--shard i/n`, a CI matrix)
 * back into one JUnit, HTML, Markdown and JSON report, in the order one unsharded run gives.
 * Refuses inputs that are not shards of the same run: another client or configuration, or the
 * same test case twice.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { reportFromRecord } from '../reporters/results-file.ts';
import { reportFailed, strictFailures, type RequirementInfo, type RunReport } from '../reporters/run-report.ts';
import { TerminalReporter } from '../reporters/terminal.ts';
import { totals } from '../verdict/verdict.ts';
import { writeReportFiles } from './report-files.ts';
import { validateResults } from './results-schema.ts';

export interface MergeArguments {
  files: string[];
  junit?: string;
  reportDir?: string;
  strict?: boolean;
}

type Loaded = { ok: true; report: RunReport } | { ok: false; message: string };

function load(path: string): Loaded {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { ok: false, message: `${path}: ${e.code === 'ENOENT' ? 'no such file' : `not readable JSON: ${e.message}`}` };
  }
  const checked = validateResults(data);
  if (!checked.ok) return { ok: false, message: `${path}: not a cpm-harness results.json (schema docs/results.schema.json):\n${checked.errors.map((e) => `  ${e}`).join('\n')}` };
  return { ok: true, report: reportFromRecord(checked.value) };
}

/** One report from several shard reports of one run, or why they do not belong together. */
export function mergeReports(inputs: readonly { path: string; report: RunReport }[], strict?: boolean): { ok: true; report: RunReport; warnings: string[] } | { ok: false; message: string } {
  const first = inputs[0];
  if (!first) return { ok: false, message: 'name at least one results.json to merge' };
  const warnings: string[] = [];
  for (const { path, report } of inputs.slice(1)) {
    if (report.meta.client !== first.report.meta.client) return { ok: false, message: `${path} tested client ${report.meta.client}, ${first.path} tested ${first.report.meta.client}: merge shards of one run only` };
    if (report.meta.configDigest !== first.report.meta.configDigest) return { ok: false, message: `${path} ran with another configuration (${report.meta.configDigest}) than ${first.path} (${first.report.meta.configDigest}): merge shards of one run only` };
    if (report.meta.version !== first.report.meta.version) warnings.push(`${path} was written by cpm-harness ${report.meta.version}, ${first.path} by ${first.report.meta.version}`);
    if (report.meta.repeat !== first.report.meta.repeat) warnings.push(`${path} ran each case ${report.meta.repeat} times, ${first.path} ${first.report.meta.repeat} times`);
  }
  const seen = new Map<string, string>();
  for (const { path, report } of inputs) {
    for (const c of report.cases) {
      const other = seen.get(c.result.id);
      if (other !== undefined) return { ok: false, message: `test case ${c.result.id} is in both ${other} and ${path}: merge disjoint shards of one run` };
      seen.set(c.result.id, path);
    }
  }
  const counts = [...new Set(inputs.map((i) => i.report.meta.shard?.count))];
  if (counts.length === 1 && counts[0] !== undefined) {
    const have = new Set(inputs.map((i) => i.report.meta.shard!.index));
    const missing = Array.from({ length: counts[0] }, (_, k) => k + 1).filter((k) => !have.has(k));
    if (missing.length > 0) warnings.push(`shard${missing.length === 1 ? '' : 's'} ${missing.map((k) => `${k}/${counts[0]}`).join(', ')} missing: the merged report lacks their test cases`);
  }
  const starts = inputs.map((i) => Date.parse(i.report.meta.startedAt));
  const ends = inputs.map((i, k) => starts[k]! + i.report.meta.wallMs);
  const requirements = new Map<string, RequirementInfo>();
  for (const i of inputs) for (const r of i.report.meta.requirements) if (!requirements.has(r.id)) requirements.set(r.id, r);
  const interrupted = inputs.map((i) => i.report.meta.interrupted).filter((x): x is string => x !== undefined);
  const earliest = inputs[starts.indexOf(Math.min(...starts))]!;
  const m = first.report.meta;
  const report: RunReport = {
    meta: {
      version: m.version,
      client: m.client,
      transport: m.transport,
      startedAt: earliest.report.meta.startedAt,
      wallMs: Math.max(...ends) - Math.min(...starts),
      config: m.config,
      configDigest: m.configDigest,
      strict: strict ?? inputs.some((i) => i.report.meta.strict),
      repeat: Math.max(...inputs.map((i) => i.report.meta.repeat)),
      selected: Math.max(...inputs.map((i) => i.report.meta.selected)),
      ...(interrupted.length > 0 ? { interrupted: [...new Set(interrupted)].join(', ') } : {}),
      mergedFrom: inputs.map((i) => i.path),
      requirements: [...requirements.values()],
    },
    cases: inputs.flatMap((i) => i.report.cases).sort((a, b) => a.order - b.order),
  };
  return { ok: true, report, warnings };
}

export function mergeCommand(args: MergeArguments): number {
  const reportDir = args.reportDir ?? 'reports';
  const junitPath = args.junit ?? join(reportDir, 'junit.xml');
  const output = resolve(reportDir, 'results.json');
  const inputs: { path: string; report: RunReport }[] = [];
  for (const path of args.files) {
    if (resolve(path) === output) {
      process.stderr.write(`cpm-harness merge: ${path} is also where the merged results.json goes; give another --report-dir\n`);
      return 2;
    }
    const loaded = load(path);
    if (!loaded.ok) {
      process.stderr.write(`cpm-harness merge: ${loaded.message}\n`);
      return 2;
    }
    inputs.push({ path, report: loaded.report });
  }
  const merged = mergeReports(inputs, args.strict);
  if (!merged.ok) {
    process.stderr.write(`cpm-harness merge: ${merged.message}\n`);
    return 2;
  }
  for (const w of merged.warnings) process.stderr.write(`cpm-harness merge: warning: ${w}\n`);
  const outputs = writeReportFiles(merged.report, { junitPath, reportDir });
  const terminal = new TerminalReporter({ write: (t) => process.stdout.write(t), verbose: false });
  const strictCount = strictFailures(merged.report);
  terminal.summary(
    totals(merged.report.cases.map((c) => c.result)),
    merged.report.meta.wallMs,
    outputs,
    [`merged ${inputs.length} report${inputs.length === 1 ? '' : 's'}: ${merged.report.cases.length} of ${merged.report.meta.selected} selected test cases`, ...(merged.report.meta.strict ? [`strict: ${strictCount} warning${strictCount === 1 ? ' fails' : 's fail'} the run`] : [])],
  );
  return reportFailed(merged.report) ? 1 : 0;
}

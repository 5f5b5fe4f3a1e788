/**
 * A report a person reads: per requirement, which test cases judged it and how; then every
 * test case with its verdicts and its full message ladder.
 */
import { heldInCase, judgedInEveryCase, REQUIREMENTS } from '../verdict/requirements.ts';
import { OUTCOMES_WORST_FIRST, totals, type TestCaseResult } from '../verdict/verdict.ts';
import { caseText, headline, verdictLine } from './case-text.ts';
import { repeatText, reportFailed, strictFailures, type RepeatSummary, type RunReport } from './run-report.ts';

export interface MarkdownOptions {
  client: string;
  startedAt: string;
  wallMs: number;
  config: Record<string, string>;
  /** One line under the result, e.g. the strict verdict or the shard. */
  remarks?: readonly string[];
  repeatOf?: (id: string) => RepeatSummary | undefined;
}

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}\n${text}\n${f}`;
}

export function buildMarkdownReport(results: readonly TestCaseResult[], options: MarkdownOptions): string {
  const t = totals(results);
  const out: string[] = [];
  out.push(`# cpm-harness report: OMA CPM 2.1 §7.3.12 deferred group delivery`, '');
  out.push(`Client under test: \`${options.client}\`  `);
  out.push(`Started: ${options.startedAt}, wall time ${(options.wallMs / 1000).toFixed(2)} s  `);
  out.push(`Result: ${t.pass} pass, ${t.warning} warning, ${t.informative} informative, ${t.inconclusive} inconclusive, ${t.fail} fail, ${t.error} error, ${t.skipped} skipped (of ${t.total})`, '');
  for (const remark of options.remarks ?? []) out.push(remark, '');
  out.push('Configuration: ' + Object.entries(options.config).map(([k, v]) => `${k}=\`${v}\``).join(', '), '');
  out.push('## By requirement', '', '| requirement | level | test cases | worst outcome |', '|---|---|---|---|');
  for (const req of REQUIREMENTS) {
    const verdicts = results.flatMap((r) => r.verdicts.filter((v) => v.requirement === req.id).map((v) => ({ r, v })));
    const cases = [...new Set(verdicts.map((x) => x.r.id))];
    const held = results.filter((r) => heldInCase(r, req.id)).length;
    const worst = OUTCOMES_WORST_FIRST.find((o) => verdicts.some((x) => x.v.outcome === o)) ?? (held > 0 ? 'pass' : 'not judged');
    // A harness requirement is judged by the runner in every case; its row says so, and names the cases with a verdict.
    const where = judgedInEveryCase(req.id) ? `every case (judged by the runner; held in ${held})${cases.length > 0 ? `; ${cases.join(', ')}` : ''}` : cases.join(', ') || '–';
    out.push(`| ${req.id} | ${req.level} | ${where} | ${worst} |`);
  }
  out.push('', '## Test cases', '', '| outcome | test case | requirements | why |', '|---|---|---|---|');
  for (const r of results) {
    const repeat = options.repeatOf?.(r.id);
    const why = (repeat ? `${repeatText(repeat)}: ` : '') + headline(r);
    out.push(`| ${r.outcome} | ${r.id} | ${r.requirements.join(' ')} | ${why.replace(/\|/g, '\\|')} |`);
  }
  out.push('');
  for (const r of results) {
    out.push(`### ${r.outcome.toUpperCase()} ${r.id}`, '', r.title, '');
    const repeat = options.repeatOf?.(r.id);
    if (repeat) out.push(`Runs: ${repeatText(repeat)}`, '');
    for (const v of r.verdicts) out.push(`- ${verdictLine(v)}`);
    out.push('', '<details><summary>trace</summary>', '', fence(caseText(r)), '', '</details>', '');
  }
  return out.join('\n');
}

export function markdownFromReport(report: RunReport): string {
  const m = report.meta;
  const byId = new Map(report.cases.map((c) => [c.result.id, c]));
  const remarks: string[] = [];
  if (m.strict) {
    const n = strictFailures(report);
    remarks.push(`Strict mode: warnings fail the run${n > 0 ? ` (${n} warning${n === 1 ? '' : 's'} here)` : ''}. Run ${reportFailed(report) ? 'FAILED' : 'passed'}.`);
  }
  if (m.shard) remarks.push(`Shard ${m.shard.index}/${m.shard.count}: ${report.cases.length} of ${m.selected} selected test cases.`);
  if (m.mergedFrom) remarks.push(`Merged from ${m.mergedFrom.length} reports: ${m.mergedFrom.join(', ')}.`);
  if (m.interrupted) remarks.push(`Interrupted (${m.interrupted}): cases still running are errors, cases not started are skipped.`);
  return buildMarkdownReport(
    report.cases.map((c) => c.result),
    {
      client: m.client,
      startedAt: m.startedAt,
      wallMs: m.wallMs,
      config: { transport: m.transport, t1: String(m.config.timers.t1), noDirection: m.config.ambiguity.noDirection, participantsOn404: m.config.ambiguity.participantsOn404, configDigest: m.configDigest, harnessVersion: m.version },
      remarks,
      repeatOf: (id) => byId.get(id)?.repeat,
    },
  );
}

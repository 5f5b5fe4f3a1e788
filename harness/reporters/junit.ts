/**
 * JUnit XML through junit-report-builder, fixed up to validate against the Jenkins xUnit
 * junit-10.xsd: the library puts a `skipped` attribute on <testsuites> (not in the schema) and
 * writes <skipped/> without the reason, so both are mended on the built string.
 *
 * CI conventions: each suite's <properties> carry the harness version, client, transport and
 * config digest; a case's <system-out> starts with `[[ATTACHMENT|path]]` lines (its pcap and the
 * HTML report: Jenkins junit-attachments resolves them against the workspace, GitLab against the
 * project directory, so they are written relative to where the harness ran) and the HTML anchor.
 */
import jrb, { type Builder } from 'junit-report-builder';
import type { TestCaseResult } from '../verdict/verdict.ts';
import { caseText, headline, verdictLine } from './case-text.ts';
import { repeatText, type RepeatSummary, type RunReport } from './run-report.ts';
import { xmlSafe } from './trace-text.ts';

/** What a case carries beyond its result: files to attach, links to print, repeat counts. */
export interface JunitCaseExtras {
  attachments?: readonly string[];
  links?: readonly string[];
  repeat?: RepeatSummary;
}

export interface JunitOptions {
  suiteName: string;
  /** Client description, recorded as a suite property. */
  client: string;
  startedAt: string;
  properties?: Record<string, string>;
  /** --strict: a warning is reported as a failure, as it fails the run. */
  strict?: boolean;
  extras?: (result: TestCaseResult) => JunitCaseExtras | undefined;
}

/** Milliseconds as seconds with millisecond precision (junit-10.xsd SUREFIRE_TIME). */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

export function testCaseName(result: TestCaseResult): string {
  return `[${result.requirements.join(' ')}] ${result.title}`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function buildJunitXml(results: readonly TestCaseResult[], options: JunitOptions): string {
  const builder = (jrb as unknown as Builder).newBuilder();
  const groups = [...new Set(results.map((r) => r.group))];
  const skipReasons: string[] = [];
  for (const group of groups) {
    const inGroup = results.filter((r) => r.group === group);
    const suite = builder
      .testSuite()
      .name(`${options.suiteName}.${group}`)
      .timestamp(options.startedAt)
      .time(seconds(inGroup.reduce((s, r) => s + r.durationMs, 0)))
      .property('client', options.client);
    const warnings = inGroup.filter((r) => r.outcome === 'warning').length;
    suite.property('warnings', String(warnings));
    for (const [k, v] of Object.entries(options.properties ?? {})) suite.property(k, v);
    for (const result of inGroup) {
      const extras = options.extras?.(result);
      const tc = suite.testCase().className(`cpm-harness.${group}`).name(testCaseName(result)).time(seconds(result.durationMs));
      const flaky = extras?.repeat?.flaky ? `flaky (${repeatText(extras.repeat)}): ` : '';
      const line = xmlSafe(flaky + headline(result));
      if (result.outcome === 'fail') tc.failure(line, 'RequirementViolation');
      if (result.outcome === 'warning' && options.strict) tc.failure(`warning (fails the run under --strict): ${line}`, 'StrictWarning');
      if (result.outcome === 'error') tc.error(line, 'HarnessError', result.error?.stack ? xmlSafe(result.error.stack) : undefined);
      if (result.outcome === 'skipped' || result.outcome === 'inconclusive') {
        tc.skipped();
        skipReasons.push(result.outcome === 'inconclusive' ? `inconclusive: ${line}` : line);
      }
      const flagged = result.verdicts.filter((v) => v.outcome === 'warning' || v.outcome === 'informative' || v.outcome === 'inconclusive');
      // A harness fault's stack goes to <system-err> too, where CI shows a case's error output.
      const errText = [...flagged.map(verdictLine), ...(result.outcome === 'error' && result.error?.stack ? [result.error.stack] : [])];
      if (errText.length > 0) tc.standardError(xmlSafe(errText.join('\n')));
      const head = [
        ...(extras?.attachments ?? []).map((path) => `[[ATTACHMENT|${path}]]`),
        ...(extras?.links ?? []),
        ...(extras?.repeat ? [`repeat: ${repeatText(extras.repeat)}`] : []),
      ];
      tc.standardOutput(xmlSafe([...head, ...(head.length > 0 ? [''] : []), caseText(result)].join('\n')));
    }
  }
  let xml = builder.build();
  xml = xml.replace(/<testsuites([^>]*?) skipped="\d+"/, '<testsuites$1');
  let index = 0;
  xml = xml.replace(/<skipped\/>/g, () => `<skipped message="${escapeAttribute(skipReasons[index++] ?? 'skipped')}"/>`);
  return xml;
}

/** Where the HTML report is, for the case anchors in <system-out>. */
export interface ReportLinks {
  /** Path of index.html as written (relative to where the harness ran). */
  html?: string;
}

export function junitFromReport(report: RunReport, links: ReportLinks = {}): string {
  const m = report.meta;
  const byId = new Map(report.cases.map((c) => [c.result.id, c]));
  const properties: Record<string, string> = {
    harnessVersion: m.version,
    transport: m.transport,
    configDigest: m.configDigest,
    t1: String(m.config.timers.t1),
    noDirection: m.config.ambiguity.noDirection,
    participantsOn404: m.config.ambiguity.participantsOn404,
    strict: String(m.strict),
    ...(m.repeat > 1 ? { repeat: String(m.repeat) } : {}),
    ...(m.shard ? { shard: `${m.shard.index}/${m.shard.count}` } : {}),
    ...(m.interrupted ? { interrupted: m.interrupted } : {}),
  };
  return buildJunitXml(
    report.cases.map((c) => c.result),
    {
      suiteName: 'cpm-harness',
      client: m.client,
      startedAt: m.startedAt,
      properties,
      strict: m.strict,
      extras: (result) => {
        const c = byId.get(result.id);
        const attachments = [...(c?.pcap ? [c.pcap] : []), ...(links.html ? [links.html] : [])];
        return {
          attachments,
          links: links.html ? [`report: ${links.html}#case-${result.id}`] : [],
          ...(c?.repeat ? { repeat: c.repeat } : {}),
        };
      },
    },
  );
}

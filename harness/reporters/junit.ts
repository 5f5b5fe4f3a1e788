/**
 * JUnit XML through junit-report-builder, fixed up to validate against the Jenkins xUnit
 * junit-10.xsd: the library puts a `skipped` attribute on <testsuites> (not in the schema) and
 * writes <skipped/> without the reason, so both are mended on the built string.
 */
import jrb, { type Builder } from 'junit-report-builder';
import type { TestCaseResult } from '../verdict/verdict.ts';
import { caseText, headline, verdictLine } from './case-text.ts';
import { xmlSafe } from './trace-text.ts';

export interface JunitOptions {
  suiteName: string;
  /** Client description, recorded as a suite property. */
  client: string;
  startedAt: string;
  properties?: Record<string, string>;
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
      const tc = suite.testCase().className(`cpm-harness.${group}`).name(testCaseName(result)).time(seconds(result.durationMs));
      const line = xmlSafe(headline(result));
      if (result.outcome === 'fail') tc.failure(line, 'RequirementViolation');
      if (result.outcome === 'error') tc.error(line, 'HarnessError', result.error?.stack ? xmlSafe(result.error.stack) : undefined);
      if (result.outcome === 'skipped' || result.outcome === 'inconclusive') {
        tc.skipped();
        skipReasons.push(result.outcome === 'inconclusive' ? `inconclusive: ${line}` : line);
      }
      const flagged = result.verdicts.filter((v) => v.outcome === 'warning' || v.outcome === 'informative' || v.outcome === 'inconclusive');
      if (flagged.length > 0) tc.standardError(xmlSafe(flagged.map(verdictLine).join('\n')));
      tc.standardOutput(xmlSafe(caseText(result)));
    }
  }
  let xml = builder.build();
  xml = xml.replace(/<testsuites([^>]*?) skipped="\d+"/, '<testsuites$1');
  let index = 0;
  xml = xml.replace(/<skipped\/>/g, () => `<skipped message="${escapeAttribute(skipReasons[index++] ?? 'skipped')}"/>`);
  return xml;
}

/**
 * Writes every report of a run: JUnit, Markdown, results.json and index.html. Synchronous, so a
 * signal or a fault handler can call it on the way out and the files are complete when it returns.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { buildHtmlReport } from '../reporters/html.ts';
import { junitFromReport } from '../reporters/junit.ts';
import { markdownFromReport } from '../reporters/markdown.ts';
import { resultsJson } from '../reporters/results-file.ts';
import type { RunReport } from '../reporters/run-report.ts';

export interface ReportPaths {
  junitPath: string;
  reportDir: string;
}

/** A path as a relative URL from `fromDir` (what a link in index.html needs). */
function hrefFrom(fromDir: string, target: string): string {
  const rel = isAbsolute(target) && !isAbsolute(fromDir) ? target : relative(fromDir, target);
  return rel.split(sep).map(encodeURIComponent).join('/');
}

/** Writes the four reports; returns the lines that tell the operator where they are. */
export function writeReportFiles(report: RunReport, paths: ReportPaths): string[] {
  mkdirSync(dirname(paths.junitPath), { recursive: true });
  mkdirSync(paths.reportDir, { recursive: true });
  const html = join(paths.reportDir, 'index.html');
  const md = join(paths.reportDir, 'report.md');
  const json = join(paths.reportDir, 'results.json');
  writeFileSync(paths.junitPath, junitFromReport(report, { html }));
  writeFileSync(md, markdownFromReport(report));
  writeFileSync(json, resultsJson(report));
  writeFileSync(html, buildHtmlReport(report, { pcapHref: (c) => (c.pcap ? hrefFrom(paths.reportDir, c.pcap) : undefined) }));
  return [`HTML:   ${html}`, `JUnit:  ${paths.junitPath}`, `Report: ${md}`, `JSON:   ${json}`];
}

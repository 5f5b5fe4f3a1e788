/**
 * Schema validation through Debian's xmllint (libxml2-utils), used by tests and available to
 * reports. I/O edge: spawns `xmllint --noout --nonet [--schema <xsd>] -` with the document on stdin.
 */
import { spawnSync } from 'node:child_process';

export type XmllintOutcome = { available: false; reason: string } | { available: true; valid: boolean; output: string };

export function xmllintAvailable(): boolean {
  const probe = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0;
}

/** Validates `document` against the XML Schema at `schemaPath`, or only for well-formedness without one; never throws. */
export function validateWithXmllint(document: Buffer | string, schemaPath?: string): XmllintOutcome {
  const schema = schemaPath === undefined ? [] : ['--schema', schemaPath];
  const run = spawnSync('xmllint', ['--noout', '--nonet', ...schema, '-'], { input: document, encoding: 'utf8', timeout: 10_000 });
  if (run.error) return { available: false, reason: run.error.message };
  return { available: true, valid: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

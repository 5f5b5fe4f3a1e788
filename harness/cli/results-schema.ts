/**
 * Validation of results.json against its JSON Schema (docs/results.schema.json) with ajv, so
 * `cpm-harness merge` refuses a file it cannot rebuild reports from, naming the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ResultsFile } from '../reporters/results-file.ts';
import { packageRoot } from './package-info.ts';

export const RESULTS_SCHEMA_PATH = join('docs', 'results.schema.json');

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(join(packageRoot(), RESULTS_SCHEMA_PATH), 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormatsModule.default(ajv);
  compiled = ajv.compile(schema);
  return compiled;
}

function describe(errors: readonly ErrorObject[]): string[] {
  return errors.slice(0, 12).map((e) => `${e.instancePath || '(top level)'}: ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`);
}

export type ResultsCheck = { ok: true; value: ResultsFile } | { ok: false; errors: string[] };

export function validateResults(data: unknown): ResultsCheck {
  const validate = validator();
  if (validate(data)) return { ok: true, value: data as ResultsFile };
  return { ok: false, errors: describe(validate.errors ?? []) };
}

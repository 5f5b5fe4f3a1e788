import type { Diagnostic } from './diagnostic.ts';

/** Outcome of a pure parse that either yields a value or says exactly why not. */
export type Result<T> = { ok: true; value: T; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

export function ok<T>(value: T, diagnostics: Diagnostic[] = []): Result<T> {
  return { ok: true, value, diagnostics };
}

export function fail<T>(...diagnostics: Diagnostic[]): Result<T> {
  return { ok: false, diagnostics };
}

/**
 * Inputs for the fuzz drivers, as fast-check arbitraries: golden and malformed samples from
 * `fixtures/`, mutated (bytes replaced, inserted, deleted, slices duplicated or truncated) with
 * the characters parsers care about; plus plain random strings over the same alphabet. fast-check
 * shrinks a failing input to a small one, which then becomes a fixture and a regression test.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Every file under fixtures/<dirs…> whose name ends in one of `extensions`. */
export function fixtureFiles(dirs: readonly string[], extensions: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (extensions.some((e) => name.endsWith(e))) out.push(readFileSync(path));
    }
  };
  for (const d of dirs) walk(join(FIXTURES, d));
  return out;
}

/** Characters with meaning in at least one of the grammars (delimiters, quotes, line ends, markup). */
export const ALPHABET = Buffer.from(' \t\r\n:;,=<>"\'\\/@%?&#*!+-_.~()[]{}|$^`\x00\x7f\xc3\xa9\xffaZ09-------MSRP SEND SIP/2.0 <!--]]>&amp;');

export type Edit =
  | { kind: 'replace'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Buffer }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number; times: number }
  | { kind: 'truncate'; at: number };

const alphabetByte = fc.nat(ALPHABET.length - 1).map((i) => ALPHABET[i]!);
const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: position, byte: fc.oneof(alphabetByte, fc.nat(255)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ maxLength: 8 }).map((raw) => Buffer.from(raw)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: position, bytes: fc.array(alphabetByte, { maxLength: 12 }).map((a) => Buffer.from(a)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat' as const), at: position, length: fc.integer({ min: 1, max: 16 }), times: fc.integer({ min: 2, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
);

export function applyEdits(seed: Buffer, edits: readonly Edit[]): Buffer {
  let b = seed;
  for (const e of edits) {
    const at = Math.floor(e.at * (b.length + 1));
    switch (e.kind) {
      case 'replace':
        if (b.length === 0) break;
        b = Buffer.from(b);
        b[Math.min(at, b.length - 1)] = e.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + e.length);
        b = Buffer.concat([b.subarray(0, at), ...Array.from({ length: e.times }, () => piece), b.subarray(at + e.length)]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** Mutated seeds (most inputs), raw seeds, and random alphabet soup. */
export function bytesFrom(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const seed = fc.nat(seeds.length - 1).map((i) => seeds[i]!);
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(seed, fc.array(edit, { minLength: 1, maxLength: 8 })).map(([s, e]) => applyEdits(s, e)) },
    { weight: 1, arbitrary: seed },
    { weight: 2, arbitrary: fc.array(alphabetByte, { maxLength: 400 }).map((a) => Buffer.from(a)) },
  );
}

/** Split points for stream parsers: fractions of the input length, sorted. */
export const splits = fc.array(position, { maxLength: 12 }).map((a) => [...a].sort((x, y) => x - y));

export function splitAt(input: Buffer, fractions: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (const f of fractions) {
    const at = Math.floor(f * input.length);
    if (at > from) {
      parts.push(input.subarray(from, at));
      from = at;
    }
  }
  parts.push(input.subarray(from));
  return parts;
}

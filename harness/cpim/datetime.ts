/**
 * RFC 3339 §5.6 date-time, as CPIM DateTime (RFC 3862 §4.4) and the IMDN <datetime> element carry it.
 * Values are compared as instants: `2024-05-06T11:15:03+02:00` equals `2024-05-06T09:15:03.000Z`.
 */
export interface Instant {
  /** Microseconds since the epoch (fraction beyond microseconds is dropped). */
  readonly epochMicros: number;
  /** The text as written. */
  readonly text: string;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS[month - 1]!;
}

function digit(text: string, at: number): number {
  const c = text.charCodeAt(at) - 0x30;
  return c >= 0 && c <= 9 ? c : -1;
}

/** Two-digit number at `at`, or -1. */
function two(text: string, at: number): number {
  const a = digit(text, at);
  const b = digit(text, at + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

const MICRO_SCALE = [1_000_000, 100_000, 10_000, 1000, 100, 10, 1];

/**
 * Microseconds of the fraction `.ddd` at text[dot, end) (digits only, at least one). Up to six
 * digits are summed as an integer, which is exactly what the decimal reading below gives for them;
 * longer fractions keep that reading (it rounds, e.g. `.9999999999999999999` is a whole second).
 */
export function fractionMicros(text: string, dot: number, end: number): number {
  const digits = end - dot - 1;
  if (digits <= 6) {
    let value = 0;
    for (let k = dot + 1; k < end; k++) value = value * 10 + (text.charCodeAt(k) - 0x30);
    return value * MICRO_SCALE[digits]!;
  }
  return Math.floor(Number(`0${text.slice(dot, end)}`) * 1e6 + 1e-6);
}

/**
 * Parses an RFC 3339 date-time; undefined when it is not one (wrong shape or out-of-range field).
 * A scanner over the fixed layout `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`: the notification
 * check reads several of these per message.
 */
export function parseRfc3339(text: string): Instant | undefined {
  const n = text.length;
  if (n < 20) return undefined;
  const y1 = two(text, 0);
  const y2 = two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  const hour = two(text, 11);
  const minute = two(text, 14);
  const second = two(text, 17);
  if (y1 < 0 || y2 < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  const t = text.charCodeAt(10);
  if (text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d || (t !== 0x54 && t !== 0x74) || text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return undefined;
  let i = 19;
  let micros = 0;
  if (text.charCodeAt(i) === 0x2e) {
    let j = i + 1;
    while (j < n && digit(text, j) >= 0) j++;
    if (j === i + 1) return undefined;
    micros = fractionMicros(text, i, j);
    i = j;
  }
  const year = y1 * 100 + y2;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // RFC 3339 allows second 60 (leap second); minute offsets up to 59.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  const zone = text.charCodeAt(i);
  if (zone === 0x5a || zone === 0x7a) {
    if (i + 1 !== n) return undefined;
  } else if (zone === 0x2b || zone === 0x2d) {
    const oh = two(text, i + 1);
    const om = two(text, i + 4);
    if (i + 6 !== n || oh < 0 || om < 0 || text.charCodeAt(i + 3) !== 0x3a || oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone === 0x2d ? -1 : 1) * (oh * 60 + om);
  } else return undefined;
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  return { epochMicros: epochMs * 1000 + micros, text };
}

/** True when both parse and denote the same instant. */
export function sameInstant(a: string, b: string): boolean {
  if (a === b) return parseRfc3339(a) !== undefined;
  const x = parseRfc3339(a);
  const y = parseRfc3339(b);
  return x !== undefined && y !== undefined && x.epochMicros === y.epochMicros;
}

/** `2024-05-06T09:15:03.000Z` — the form the harness sends. */
export function formatRfc3339(date: Date): string {
  return date.toISOString();
}

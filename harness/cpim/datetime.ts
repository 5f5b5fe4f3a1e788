/**
 * RFC 3339 §5.6 date-time, as CPIM DateTime (RFC 3862 §4.4) and the IMDN <datetime> element carry it.
 * Values are compared as instants: `2024-05-06T11:15:03+02:00` equals `2024-05-06T09:15:03.000Z`.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

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

/** Parses an RFC 3339 date-time; undefined when it is not one (wrong shape or out-of-range field). */
export function parseRfc3339(text: string): Instant | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // RFC 3339 allows second 60 (leap second); minute offsets up to 59.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  const zone = m[8]!;
  if (zone !== 'Z' && zone !== 'z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] ? Number(`0${m[7]}`) : 0;
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  return { epochMicros: epochMs * 1000 + Math.floor(fraction * 1e6 + 1e-6), text };
}

/** True when both parse and denote the same instant. */
export function sameInstant(a: string, b: string): boolean {
  const x = parseRfc3339(a);
  const y = parseRfc3339(b);
  return x !== undefined && y !== undefined && x.epochMicros === y.epochMicros;
}

/** `2024-05-06T09:15:03.000Z` — the form the harness sends. */
export function formatRfc3339(date: Date): string {
  return date.toISOString();
}

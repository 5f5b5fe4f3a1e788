/**
 * Diagnostics are how every parser in the harness reports a deviation: a value, never a throw.
 * A diagnostic names the rule it applies (RFC clause or requirement ID) and carries the bytes
 * that broke it, so a verdict can quote the evidence exactly.
 */
import { DEFAULT_LIMITS } from './limits.ts';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  /** Stable machine code, e.g. `SIP_BARE_LF`, `MSRP_ENDLINE_MISMATCH`. */
  readonly code: string;
  /** One sentence for a person. */
  readonly message: string;
  /** The rule broken, e.g. `RFC 3261 §7.5` or `RFC 4975 §7.1`. */
  readonly clause: string;
  readonly severity: Severity;
  /** Byte offset of the offending bytes in the parsed input, when known. */
  readonly offset?: number;
  /** The offending bytes (possibly empty when something is missing rather than wrong). */
  readonly bytes: Buffer;
  /** Set when `bytes` was cut to the diagnostic text limit: the length of the offending bytes. */
  readonly bytesLength?: number;
}

const EMPTY = Buffer.alloc(0);

let textLimit = DEFAULT_LIMITS.diagnosticTextBytes;

/**
 * Sets the `diagnosticTextBytes` limit for every diagnostic made from now on (a run applies its
 * configuration once at start). A client cannot make a diagnostic carry an 800 kB tag stack.
 */
export function setDiagnosticTextLimit(limit: number): void {
  textLimit = Math.max(80, Math.floor(limit));
}

export function diagnosticTextLimit(): number {
  return textLimit;
}

/** `text` cut to `limit` characters, saying how much was left out. */
export function boundedText(text: string, limit = textLimit): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

export function diagnostic(
  code: string,
  message: string,
  clause: string,
  options: { severity?: Severity; offset?: number; bytes?: Buffer | string } = {},
): Diagnostic {
  const given = options.bytes;
  let bytes: Buffer;
  let cutFrom: number | undefined;
  if (given === undefined) bytes = EMPTY;
  else if (typeof given === 'string') {
    // Only the first `textLimit` characters are converted: a 10 MB string is never copied.
    bytes = Buffer.from(given.length > textLimit ? given.slice(0, textLimit) : given, 'latin1');
    if (given.length > textLimit) cutFrom = given.length;
  } else if (given.length > textLimit) {
    bytes = given.subarray(0, textLimit);
    cutFrom = given.length;
  } else bytes = given;
  const base: Diagnostic = { code, message: boundedText(message), clause, severity: options.severity ?? 'error', bytes };
  const withLength = cutFrom === undefined ? base : { ...base, bytesLength: cutFrom };
  return options.offset === undefined ? withLength : { ...withLength, offset: options.offset };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** `SIP_BARE_LF (RFC 3261 §7): message … [bytes: "\n"]` — for logs and verdict text. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.offset === undefined ? '' : ` at byte ${d.offset}`;
  const length = d.bytesLength ?? d.bytes.length;
  const shown = d.bytes.length === 0 ? '' : ` [bytes: ${JSON.stringify(printable(d.bytes.subarray(0, 80)))}${length > 80 ? `… (${length} bytes)` : ''}]`;
  return `${d.code} (${d.clause})${where}: ${d.message}${shown}`;
}

/** Latin-1 view of bytes with control characters escaped, for showing wire data to people. */
export function printable(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b === 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

/**
 * An operational failure (socket closed, timeout, bind error) as a value. Layers return or emit
 * these instead of throwing strings.
 */
export interface HarnessError {
  readonly code: string;
  readonly message: string;
  readonly bytes: Buffer;
  readonly cause?: unknown;
}

export function harnessError(code: string, message: string, bytes: Buffer = EMPTY, cause?: unknown): HarnessError {
  return cause === undefined ? { code, message, bytes } : { code, message, bytes, cause };
}

/** For the rare API that must reject a promise: an Error subclass carrying the same fields. */
export class HarnessFailure extends Error {
  readonly code: string;
  readonly bytes: Buffer;
  constructor(error: HarnessError) {
    super(error.message);
    this.name = 'HarnessFailure';
    this.code = error.code;
    this.bytes = error.bytes;
  }
}

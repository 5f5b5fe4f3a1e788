/**
 * Terminal progress: one line per test case as it finishes, a summary table at the end. When
 * stdout is not a TTY (CI logs) only failures, errors, warnings and the summary are printed.
 */
import pc from 'picocolors';
import { OUTCOMES, type Outcome, type TestCaseResult, type Totals } from '../verdict/verdict.ts';
import { headline } from './case-text.ts';

export interface TerminalOptions {
  write: (text: string) => void;
  /** Print every case (TTY) or only the ones that need attention. */
  verbose: boolean;
}

const PAINT: Record<Outcome, (s: string) => string> = {
  pass: pc.green,
  informative: pc.cyan,
  warning: pc.yellow,
  fail: pc.red,
  error: pc.magenta,
  skipped: pc.dim,
  inconclusive: pc.blue,
};

export function outcomeLabel(outcome: Outcome): string {
  const text = { pass: 'PASS', informative: 'INFO', inconclusive: 'INCONC', warning: 'WARN', fail: 'FAIL', error: 'ERROR', skipped: 'SKIP' }[outcome];
  return PAINT[outcome](text.padEnd(6));
}

/** `run` is `2/3` when a case runs more than once (--repeat). */
export function caseLine(result: TestCaseResult, run?: string): string {
  const ms = `${Math.round(result.durationMs)} ms${run ? `, run ${run}` : ''}`;
  const line = `  ${outcomeLabel(result.outcome)} ${result.id}  ${pc.dim(`[${result.requirements.join(' ')}]`)}  ${result.title}  ${pc.dim(ms)}`;
  if (result.outcome === 'pass' || result.outcome === 'informative') return line;
  return `${line}\n        ${pc.dim('└')} ${headline(result)}`;
}

export class TerminalReporter {
  constructor(private readonly options: TerminalOptions) {}

  header(lines: string[]): void {
    for (const l of lines) this.options.write(l + '\n');
  }

  caseFinished(result: TestCaseResult, run?: string): void {
    if (this.options.verbose || !['pass', 'informative'].includes(result.outcome)) this.options.write(caseLine(result, run) + '\n');
  }

  /** `remarks`: lines under the counts (strict verdict, flaky cases, shard). */
  summary(t: Totals, wallMs: number, outputs: string[], remarks: readonly string[] = []): void {
    const w = this.options.write;
    w(`\n${pc.bold('Summary')}  ${t.total} test cases in ${(wallMs / 1000).toFixed(2)} s\n`);
    for (const outcome of OUTCOMES) w(`  ${outcomeLabel(outcome)} ${String(t[outcome]).padStart(4)}\n`);
    for (const r of remarks) w(`  ${r}\n`);
    for (const o of outputs) w(`  ${o}\n`);
  }
}

/** One test case as text: verdict lines first, then notes, then the trace. */
import { CATALOGUE } from '../../scenarios/index.ts';
import type { TestCaseResult, Verdict } from '../verdict/verdict.ts';
import { elidedText, formatTrace } from './trace-text.ts';

export function verdictLine(v: Verdict): string {
  const marker = v.marker ? ` [${v.marker}]` : '';
  const rule = v.rule ? ` {${v.rule}}` : '';
  return `${v.outcome.toUpperCase().padEnd(11)} ${v.requirement} (${v.level})${marker}${rule}: ${v.reason}`;
}

/** The one-line failure message for JUnit and the terminal: which requirement broke and why. */
export function headline(result: TestCaseResult): string {
  if (result.outcome === 'skipped') return result.skipReason ?? 'skipped';
  if (result.outcome === 'error') {
    if (result.error) return `harness error: ${result.error.message}`;
    const errored = result.verdicts.find((v) => v.outcome === 'error');
    return errored ? `${errored.requirement}: ${errored.reason}` : 'test case produced no verdict';
  }
  // A case that failed or warned shows its first such verdict (the cause); one that passed, its
  // purpose rule's verdict (its first declared rule), when it has one of the case's outcome.
  const purpose = result.outcome === 'pass' || result.outcome === 'informative' ? PURPOSE_RULE.get(result.id) : undefined;
  const worst = (purpose === undefined ? undefined : result.verdicts.find((v) => v.outcome === result.outcome && v.rule === purpose)) ?? result.verdicts.find((v) => v.outcome === result.outcome);
  return worst ? `${worst.requirement} (${worst.level}): ${worst.reason}` : result.outcome;
}

/** Each catalogue case's first declared rule: its purpose (a result read back from a file may name a case it lacks). */
const PURPOSE_RULE = new Map<string, string>(CATALOGUE.map((c) => [c.id, c.rules[0]!]));

export function caseText(result: TestCaseResult, harnessActor = 'pf'): string {
  const lines: string[] = [];
  lines.push(`${result.id}: ${result.title}`);
  lines.push(`requirements: ${result.requirements.join(', ')}  outcome: ${result.outcome.toUpperCase()}  duration: ${result.durationMs.toFixed(0)} ms`);
  if (result.skipReason) lines.push(`skipped: ${result.skipReason}`);
  if (result.error) lines.push(`harness error: ${result.error.message}${result.error.stack ? `\n${result.error.stack}` : ''}`);
  lines.push('', 'Verdicts:');
  for (const v of result.verdicts) {
    lines.push('  ' + verdictLine(v));
    for (const e of v.evidence) lines.push(`      evidence: #${e.seq} ${e.kind === 'message' ? `${e.direction === 'in' ? 'received' : 'sent'} ${e.summary}` : `connection ${e.state}: ${e.reason}`}`);
  }
  if (result.notes.length > 0) {
    lines.push('', 'Notes:');
    for (const n of result.notes) lines.push('  ' + n);
  }
  lines.push('', `Trace (what the harness sent and received):`);
  lines.push(formatTrace(result.trace, { actor: harnessActor }));
  if (result.traceElided) lines.push(elidedText(result.traceElided));
  return lines.join('\n');
}

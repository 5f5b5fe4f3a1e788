/**
 * `cpm-harness rules [--json]`: the rule table (harness/verdict/rules.ts) — every rule with the
 * requirement it serves, the requirement's level and what a violation amounts to, the [U] marker or
 * the RFC clause it was verified against [V],
 * the cases that judge it and the mutants that trip it (fixtures/mutation-matrix.json); a wire
 * rule is judged in every case and tripped by chaos clients (reference-client/chaos.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { CATALOGUE } from '../../scenarios/index.ts';
import { CHAOS_CLIENTS } from '../reference-client/chaos.ts';
import { MUTANTS } from '../reference-client/mutants.ts';
import type { MatrixFixture } from '../runner/matrix.ts';
import { requirement, type Level, type RequirementId } from '../verdict/requirements.ts';
import { RULE_IDS, ruleRow, violationOutcomeOf, type RuleId } from '../verdict/rules.ts';

export interface RuleListing {
  id: RuleId;
  requirement: RequirementId;
  level: Level;
  /** What a violation is reported as. */
  violation: 'fail' | 'warning' | 'informative';
  marker?: 'U';
  /** The RFC clause the rule was checked against (docs/rfc-checks.md): verified [V]. */
  verified?: string;
  advisory?: string;
  observation?: true;
  /** Judged by the runner in every case; tripped by chaos clients, not mutants. */
  wire?: true;
  text: string;
  cases: string[];
  mutants: string[];
  /** Chaos clients whose proof case trips it. */
  chaos: string[];
}

/** The matrix fixture of a checkout, from the sources (harness/cli) or from the build (dist/harness/cli). */
function matrixFixture(): MatrixFixture | undefined {
  for (const up of ['../../', '../../../']) {
    const url = new URL(`${up}fixtures/mutation-matrix.json`, import.meta.url);
    if (existsSync(url)) return JSON.parse(readFileSync(url, 'utf8')) as MatrixFixture;
  }
  return undefined;
}

/**
 * Mutants per rule: the rules each mutant tripped in the asserted matrix (fixtures/mutation-matrix.json);
 * an installed package has no fixtures, and then the rules the mutants declare (npm test holds both equal).
 */
function mutantsByRule(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const fixture = matrixFixture();
  const tripped: [string, readonly string[]][] = fixture
    ? Object.entries(fixture.mutants).map(([name, cells]) => [name, Object.keys(cells.rules)])
    : MUTANTS.map((m) => [m.name, m.breaks]);
  for (const [mutant, rules] of tripped) for (const rule of rules) out.set(rule, [...(out.get(rule) ?? []), mutant]);
  return out;
}

export function ruleListing(): RuleListing[] {
  const mutants = mutantsByRule();
  return RULE_IDS.map((id) => {
    const row = ruleRow(id);
    return {
      id,
      requirement: row.requirement,
      level: requirement(row.requirement).level,
      violation: violationOutcomeOf(id),
      ...(row.marker ? { marker: row.marker } : {}),
      ...(row.verified ? { verified: row.verified } : {}),
      ...(row.advisory ? { advisory: row.advisory } : {}),
      ...(row.observation ? { observation: true as const } : {}),
      ...(row.wire ? { wire: true as const } : {}),
      text: row.text,
      cases: CATALOGUE.filter((c) => row.wire === true || c.rules.includes(id)).map((c) => c.id),
      mutants: mutants.get(id) ?? [],
      chaos: CHAOS_CLIENTS.filter((c) => c.expect.trips === id).map((c) => c.name),
    };
  });
}

export function rulesCommand(options: { json: boolean }): number {
  const rows = ruleListing();
  if (options.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  const width = Math.max(...rows.map((r) => r.id.length));
  for (const r of rows) {
    const how = r.observation ? 'observation' : `${r.level} → ${r.violation}${r.marker ? ' [U]' : r.verified ? ' [V]' : ''}${r.advisory ? ' (advisory)' : ''}`;
    process.stdout.write(`${r.id.padEnd(width)}  ${r.requirement}  ${how}\n`);
    process.stdout.write(`${' '.repeat(width)}  ${r.text}\n`);
    if (r.verified) process.stdout.write(`${' '.repeat(width)}  verified: ${r.verified}\n`);
    process.stdout.write(`${' '.repeat(width)}  cases: ${r.wire ? 'every case (the runner judges it from the case\'s fault boundary)' : r.cases.join(', ') || '(none)'}\n`);
    if (r.wire) process.stdout.write(`${' '.repeat(width)}  chaos clients: ${r.chaos.join(', ') || '(none)'}\n`);
    else if (!r.observation) process.stdout.write(`${' '.repeat(width)}  mutants: ${r.mutants.join(', ') || '(none)'}\n`);
  }
  const violable = rows.filter((r) => !r.observation && !r.wire);
  const covered = violable.filter((r) => r.mutants.length > 0).length;
  const wire = rows.filter((r) => r.wire);
  const wireCovered = wire.filter((r) => r.chaos.length > 0).length;
  const observations = rows.filter((r) => r.observation).length;
  process.stdout.write(
    `\n${rows.length} rules (${observations} observations, ${wire.length} wire rules); ${covered}/${violable.length} tripped by a mutant of fixtures/mutation-matrix.json, ${wireCovered}/${wire.length} wire rules by a chaos client\n`,
  );
  return 0;
}

/** `cpm-harness list` and `cpm-harness mutants`. */
import { CATALOGUE } from '../../scenarios/index.ts';
import { CHAOS_CLIENTS, chaosExpectation, type ChaosExpectation } from '../reference-client/chaos.ts';
import { MUTANTS } from '../reference-client/mutants.ts';
import { selectCases } from '../testcase/definition.ts';
import { EVERY_CASE_REQUIREMENTS, findRequirement, isRequirementId, REQUIREMENTS, type RequirementId } from '../verdict/requirements.ts';

/** `--req <ID>`: a requirement ID of the catalogue, or the usage error that names them. */
export function requirementOption(value: string | undefined): { ok: true; value: RequirementId | undefined } | { ok: false; message: string } {
  if (value === undefined) return { ok: true, value: undefined };
  if (isRequirementId(value)) return { ok: true, value };
  return { ok: false, message: `--req ${value} is not a requirement ID; use one of ${REQUIREMENTS.map((r) => r.id).join(', ')}` };
}

export function listCommand(options: { json: boolean; req?: string }): number {
  const requirement = requirementOption(options.req);
  if (!requirement.ok) {
    process.stderr.write(`cpm-harness: ${requirement.message}\n`);
    return 2;
  }
  const cases = selectCases(CATALOGUE, requirement.value ? { requirement: requirement.value } : {});
  const rows = cases.map((c) => ({
    id: c.id,
    title: c.title,
    group: c.group,
    requirements: c.requirements.map((id) => ({ id, level: findRequirement(id)?.level ?? '?' })),
    rules: [...c.rules],
    upperTester: [...c.upperTester],
    purpose: c.purpose,
  }));
  if (options.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  const idWidth = Math.max(...rows.map((r) => r.id.length));
  for (const r of rows) {
    const reqs = r.requirements.map((q) => `${q.id} (${q.level})`).join(', ');
    const ut = r.upperTester.length > 0 ? `  [needs UT: ${r.upperTester.join(', ')}]` : '';
    process.stdout.write(`${r.id.padEnd(idWidth)}  ${r.title}\n${' '.repeat(idWidth)}  ${reqs}${ut}\n`);
  }
  process.stdout.write(`\n${rows.length} test cases\n`);
  // The harness requirements no case declares: every case is judged against them by the runner.
  const harness = EVERY_CASE_REQUIREMENTS.map((id) => findRequirement(id)!).filter((q) => requirement.value === undefined || requirement.value === q.id);
  for (const q of harness) process.stdout.write(`\njudged in every case by the runner: ${q.id} (${q.level}) ${q.title}\n  source: ${q.source}; rules: cpm-harness rules (wire.*)\n`);
  return 0;
}

export function mutantsCommand(options: { json: boolean }): number {
  if (options.json) {
    process.stdout.write(JSON.stringify(MUTANTS.map(({ name, description, breaks, ncase }) => ({ name, description, breaks, ncase })), null, 2) + '\n');
    return 0;
  }
  const width = Math.max(...MUTANTS.map((m) => m.name.length));
  for (const m of MUTANTS) {
    process.stdout.write(`builtin:${m.name.padEnd(width)}  breaks ${m.breaks.join(', ')}${m.ncase ? ` (${m.ncase})` : ''}\n${' '.repeat(width + 10)}${m.description}\n`);
  }
  process.stdout.write(`\n${MUTANTS.length} mutants; run one with: cpm-harness run --client builtin:<name>\n\n`);
  writeChaosList();
  return 0;
}

function outcomeText(proofCase: string, e: ChaosExpectation): string {
  return e.outcome === 'pass' ? `${proofCase} passes` : `${proofCase} fails ${e.trips ?? ''}${e.code ? ` (${e.code})` : ''}`;
}

function expectationText(c: (typeof CHAOS_CLIENTS)[number]): string {
  const udp = chaosExpectation(c, 'udp');
  const overUdp = c.udp === 'as-tcp' ? '' : udp === undefined ? '; TCP only' : `; over UDP: ${outcomeText(c.proofCase, udp)}`;
  return outcomeText(c.proofCase, c.expect) + overUdp;
}

function writeChaosList(): void {
  const width = Math.max(...CHAOS_CLIENTS.map((c) => c.name.length));
  for (const c of CHAOS_CLIENTS) process.stdout.write(`chaos:${c.name.padEnd(width)}  ${expectationText(c)}\n${' '.repeat(width + 8)}${c.description}\n`);
  process.stdout.write(`\n${CHAOS_CLIENTS.length} chaos clients; run one with: cpm-harness run --client chaos:<name> [--grep <its case>]\n`);
}

/** `cpm-harness chaos`: the socket-level hostile clients, their proof case and what it must report. */
export function chaosCommand(options: { json: boolean }): number {
  if (options.json) {
    process.stdout.write(JSON.stringify(CHAOS_CLIENTS.map((c) => ({ name: c.name, description: c.description, proofCase: c.proofCase, expect: c.expect, udp: chaosExpectation(c, 'udp') ?? null })), null, 2) + '\n');
    return 0;
  }
  writeChaosList();
  return 0;
}

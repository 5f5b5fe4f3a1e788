/**
 * A test case: the test purpose (prose, the rules it judges) and the steps, as a readable async
 * script over the PF. The requirement IDs follow from the rules (harness/verdict/rules.ts), so a
 * case never names one by hand. Parameters live in RunConfig; verdict arithmetic in the runner.
 */
import type { UtOperation } from '../client/types.ts';
import { judgedInEveryCase, REQUIREMENTS, type RequirementId } from '../verdict/requirements.ts';
import { RULES, type RuleId } from '../verdict/rules.ts';
import type { TestContext } from './context.ts';

/** Client capabilities a case needs beyond SIP (PICS); without them it is skipped with the reason. */
export type Capability = 'msrp';

export interface TestCaseDefinition {
  /** Stable id, e.g. `inv-dir-media-sendonly`; `--grep` matches it, the title and the IDs. */
  readonly id: string;
  readonly title: string;
  /** The test purpose in one or two sentences. */
  readonly purpose: string;
  /** Scenario file group, e.g. `invite-direction`. */
  readonly group: string;
  /**
   * Every rule this case may record a finding for; a finding of another rule is a harness error.
   * The first is the case's purpose: a case that passes is shown with that rule's verdict.
   */
  readonly rules: readonly RuleId[];
  /** The requirements those rules serve, in catalogue order. */
  readonly requirements: readonly RequirementId[];
  /** Upper-tester operations the case needs; without them the case is skipped. */
  readonly upperTester: readonly UtOperation[];
  readonly needs: readonly Capability[];
  run(t: TestContext): Promise<void>;
}

export type TestCaseInput = Omit<TestCaseDefinition, 'upperTester' | 'needs' | 'requirements'> & {
  upperTester?: readonly UtOperation[];
  needs?: readonly Capability[];
};

/** The requirements a set of rules serves, in REQUIREMENTS.md order. */
export function requirementsOf(rules: readonly RuleId[]): RequirementId[] {
  const served = new Set<RequirementId>(rules.map((r) => RULES[r].requirement));
  return REQUIREMENTS.map((r) => r.id).filter((id) => served.has(id));
}

export function defineTestCase(input: TestCaseInput): TestCaseDefinition {
  if (input.rules.length === 0) throw new Error(`test case ${input.id} judges no rule`);
  const rules = [...new Set(input.rules)];
  return { ...input, rules, requirements: requirementsOf(rules), upperTester: input.upperTester ?? [], needs: input.needs ?? [] };
}

export interface Selection {
  /** Matches case ids, titles, groups and requirement IDs. */
  grep?: RegExp;
  /** Only cases that judge exactly this requirement ID. */
  requirement?: RequirementId;
}

/** Cases whose id, title, group or requirement IDs match `grep`, and that judge `requirement`. */
export function selectCases(cases: readonly TestCaseDefinition[], selection: RegExp | Selection = {}): TestCaseDefinition[] {
  const { grep, requirement } = selection instanceof RegExp ? { grep: selection, requirement: undefined } : selection;
  return cases.filter(
    (c) =>
      (!grep || grep.test(c.id) || grep.test(c.title) || grep.test(c.group) || c.requirements.some((r) => grep.test(r))) &&
      // A harness requirement (`wire`) is judged by the runner in every case.
      (requirement === undefined || c.requirements.includes(requirement) || judgedInEveryCase(requirement)),
  );
}

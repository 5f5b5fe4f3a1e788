/**
 * A test case: the test purpose (prose, requirement IDs) and the steps, as a readable async
 * script over the PF. Parameters live in RunConfig; verdict arithmetic lives in the runner.
 */
import type { UtOperation } from '../client/types.ts';
import { findRequirement } from '../verdict/requirements.ts';
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
  /** Every requirement ID this case may give a verdict for. */
  readonly requirements: readonly string[];
  /** Upper-tester operations the case needs; without them the case is skipped. */
  readonly upperTester: readonly UtOperation[];
  readonly needs: readonly Capability[];
  run(t: TestContext): Promise<void>;
}

export type TestCaseInput = Omit<TestCaseDefinition, 'upperTester' | 'needs'> & { upperTester?: readonly UtOperation[]; needs?: readonly Capability[] };

export function defineTestCase(input: TestCaseInput): TestCaseDefinition {
  for (const id of input.requirements) {
    if (!findRequirement(id)) throw new Error(`test case ${input.id} names unknown requirement ${id}`);
  }
  return { ...input, upperTester: input.upperTester ?? [], needs: input.needs ?? [] };
}

/** Cases whose id, title, group or requirement IDs match the pattern. */
export function selectCases(cases: readonly TestCaseDefinition[], grep?: RegExp): TestCaseDefinition[] {
  if (!grep) return [...cases];
  return cases.filter((c) => grep.test(c.id) || grep.test(c.title) || grep.test(c.group) || c.requirements.some((r) => grep.test(r)));
}

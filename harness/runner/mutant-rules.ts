/**
 * The mutants' declared rules meet the rule table here, where both are visible (the reference
 * client sits below harness/verdict and may not import it): a typo in a mutant's `breaks` is a
 * type error, and `rulesWithoutMutant` names every violable rule no mutant is declared to trip.
 */
import { MUTANTS, type MutantRule } from '../reference-client/mutants.ts';
import { isRuleId, violableRules, type RuleId } from '../verdict/rules.ts';

export type MutantRulesAreInTheTable = MutantRule extends RuleId ? true : never;
export const MUTANT_RULES_ARE_IN_THE_TABLE: MutantRulesAreInTheTable = true;

/** A mutant's declared rules, typed. */
export function declaredRules(mutant: { readonly breaks: readonly string[] }): RuleId[] {
  return mutant.breaks.filter(isRuleId);
}

/** Violable rules that no mutant declares it trips. */
export function rulesWithoutMutant(): RuleId[] {
  const covered = new Set(MUTANTS.flatMap(declaredRules));
  return violableRules().filter((r) => !covered.has(r));
}

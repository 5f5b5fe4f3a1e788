/**
 * The chaos clients' declared rules meet the rule table here, where both are visible (as the
 * mutants' do in mutant-rules.ts): every wire rule must be tripped by at least one chaos client.
 */
import { CHAOS_CLIENTS, chaosExpectation } from '../reference-client/chaos.ts';
import { isRuleId, wireRules, type RuleId } from '../verdict/rules.ts';

/** Chaos clients whose `trips` is no rule of the table (a typo), by name. */
export function chaosWithUnknownRules(): string[] {
  const unknown = (trips: string | undefined): boolean => trips !== undefined && !isRuleId(trips);
  return CHAOS_CLIENTS.filter((c) => unknown(c.expect.trips) || unknown(chaosExpectation(c, 'udp')?.trips)).map((c) => c.name);
}

/** Wire rules no chaos client is declared to trip. */
export function wireRulesWithoutChaos(): RuleId[] {
  const covered = new Set(CHAOS_CLIENTS.map((c) => c.expect.trips).filter((r): r is string => r !== undefined));
  return wireRules().filter((r) => !covered.has(r));
}

/**
 * The runner's entry point to the built-in client: a factory of fresh reference clients, conforming
 * or with one named mutant (mutants.ts) applied.
 */
import type { Clock } from '../core/clock.ts';
import type { TraceSink } from '../core/trace.ts';
import type { ClientFactory, ClientUnderTest } from '../client/types.ts';
import { behaviourWith } from './behaviour.ts';
import { ReferenceClient } from './client.ts';
import { findMutant, MUTANTS } from './mutants.ts';

export { findMutant, MUTANTS } from './mutants.ts';

export interface ReferenceClientFactoryOptions {
  /** A name from MUTANTS; absent = the conforming client. */
  mutant?: string;
  trace: TraceSink;
  actor?: string;
  clock?: Clock;
  /** Glare grace before a re-join after registration (default max(20 ms, T1)). */
  rejoinGraceMs?: number;
  /** SUBSCRIBE Expires asked for (default 3600 s). */
  subscriptionExpires?: number;
}

/** Throws on an unknown mutant name: that is a configuration error, caught before any test runs. */
export function createReferenceClientFactory(options: ReferenceClientFactoryOptions): ClientFactory {
  const mutant = options.mutant === undefined ? undefined : findMutant(options.mutant);
  if (options.mutant !== undefined && mutant === undefined) {
    throw new RangeError(`unknown mutant "${options.mutant}"; known: ${MUTANTS.map((m) => m.name).join(', ')}`);
  }
  const description = mutant === undefined ? 'builtin' : `builtin:${mutant.name}`;
  const behaviour = behaviourWith(mutant?.behaviour ?? {});
  return {
    description,
    create(scope): ClientUnderTest {
      return new ReferenceClient({
        behaviour,
        trace: options.trace,
        description,
        ...(scope === undefined ? {} : { boundary: scope.boundary }),
        ...(options.actor === undefined ? {} : { actor: options.actor }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.rejoinGraceMs === undefined ? {} : { rejoinGraceMs: options.rejoinGraceMs }),
        ...(options.subscriptionExpires === undefined ? {} : { subscriptionExpires: options.subscriptionExpires }),
      });
    },
  };
}

/** Turns `--client` into a client factory, or a usage error that says what would work. */
import type { ClientFactory } from '../client/types.ts';
import { discardTrace } from '../core/trace.ts';
import { createReferenceClientFactory } from '../reference-client/factory.ts';
import { MUTANTS } from '../reference-client/mutants.ts';

export type ClientResolution = { ok: true; factory: ClientFactory; builtin: boolean } | { ok: false; message: string };

export function resolveClient(spec: string): ClientResolution {
  if (spec === 'builtin') return { ok: true, factory: createReferenceClientFactory({ trace: discardTrace, actor: 'client' }), builtin: true };
  if (spec.startsWith('builtin:')) {
    const name = spec.slice('builtin:'.length);
    if (!MUTANTS.some((m) => m.name === name)) {
      return { ok: false, message: `unknown mutant "${name}". Known mutants: ${MUTANTS.map((m) => m.name).join(', ')} (details: cpm-harness mutants)` };
    }
    return { ok: true, factory: createReferenceClientFactory({ mutant: name, trace: discardTrace, actor: 'client' }), builtin: true };
  }
  return {
    ok: false,
    message: `unsupported --client "${spec}". Use builtin or builtin:<mutant>; external clients (sip:… and register) are not supported yet.`,
  };
}

/**
 * Turns `--client`, `--ut`, `--listen` and `--proxy` into a client factory and addresses, or a
 * usage error that says what would work.
 */
import { checkClientContact, createRegisteringClientFactory, createSipContactClientFactory, type CountdownOptions } from '../client/external.ts';
import type { ClientFactory, UpperTester } from '../client/types.ts';
import { discardTrace, type TransportKind } from '../core/trace.ts';
import { CHAOS_CLIENTS, createChaosClientFactory } from '../reference-client/chaos.ts';
import { createReferenceClientFactory } from '../reference-client/factory.ts';
import { MUTANTS } from '../reference-client/mutants.ts';
import { connectHttpUpperTester } from '../ut/http-client.ts';
import { createPromptUpperTester } from '../ut/prompt.ts';

export type ClientSpec =
  /** The reference client in-process: conforming, one mutant (builtin:<name>) or one chaos client (chaos:<name>). */
  | { kind: 'builtin'; mutant?: string; chaos?: string }
  | { kind: 'sip'; contact: string; transport?: TransportKind }
  | { kind: 'register' };

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const CLIENT_FORMS = 'builtin, builtin:<mutant>, chaos:<name>, sip:<user>@<host>:<port>[;transport=tcp] or register';

export function unknownMutantMessage(name: string): string {
  return `unknown mutant "${name}". Known mutants: ${MUTANTS.map((m) => m.name).join(', ')} (details: cpm-harness mutants)`;
}

export function unknownChaosMessage(name: string): string {
  return `unknown chaos client "${name}". Known chaos clients: ${CHAOS_CLIENTS.map((c) => c.name).join(', ')} (details: cpm-harness mutants)`;
}

export function parseClientSpec(spec: string): Checked<ClientSpec> {
  if (spec === 'builtin') return { ok: true, value: { kind: 'builtin' } };
  if (spec === 'register') return { ok: true, value: { kind: 'register' } };
  if (spec.startsWith('builtin:')) {
    const name = spec.slice('builtin:'.length);
    if (!MUTANTS.some((m) => m.name === name)) return { ok: false, message: unknownMutantMessage(name) };
    return { ok: true, value: { kind: 'builtin', mutant: name } };
  }
  if (spec.startsWith('chaos:')) {
    const name = spec.slice('chaos:'.length);
    if (!CHAOS_CLIENTS.some((c) => c.name === name)) return { ok: false, message: unknownChaosMessage(name) };
    return { ok: true, value: { kind: 'builtin', chaos: name } };
  }
  if (/^sips?:/i.test(spec)) {
    const contact = checkClientContact(spec);
    if (!contact.ok) return contact;
    return { ok: true, value: { kind: 'sip', contact: contact.contact, ...(contact.transport ? { transport: contact.transport } : {}) } };
  }
  return { ok: false, message: `unsupported --client "${spec}". Use ${CLIENT_FORMS}.` };
}

export interface HostPort {
  address: string;
  port: number;
}

/** `127.0.0.1:5060`, `[::1]:5060`; `allowZero` for an ephemeral port. */
export function parseHostPort(text: string, option: string, allowZero = false): Checked<HostPort> {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (!allowZero && port === 0)) {
    return { ok: false, message: `${option} ${JSON.stringify(text)} is not <address>:<port>; e.g. ${option} 127.0.0.1:5060 (IPv6: [::1]:5060; port 1-65535)` };
  }
  return { ok: true, value: { address: (m[1] ?? m[2])!, port } };
}

export interface UpperTesterSetup {
  /** Per operation (the config's windows.utMs). */
  timeoutMs: number;
  /** For `prompt`: where the operator reads and answers. */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** `--ut <url>`: the shim must answer its capabilities now; `--ut prompt`: the operator; absent: none. */
export async function resolveUpperTester(ut: string | undefined, setup: UpperTesterSetup): Promise<Checked<UpperTester | null>> {
  if (ut === undefined) return { ok: true, value: null };
  if (ut === 'prompt') {
    return { ok: true, value: createPromptUpperTester({ input: setup.input ?? process.stdin, output: setup.output ?? process.stderr, timeoutMs: setup.timeoutMs }) };
  }
  const connected = await connectHttpUpperTester(ut, { timeoutMs: setup.timeoutMs });
  if (!connected.ok) return { ok: false, message: `--ut ${ut}: ${connected.message}` };
  return { ok: true, value: connected.value };
}

/**
 * The factory for a parsed client. While a `register` client is awaited, `countdown` prints the
 * time left (plain lines), or `awaiting` shows it elsewhere (the live status line on a terminal).
 */
export function clientFactoryFor(
  spec: ClientSpec,
  upperTester: UpperTester | null,
  countdown?: Omit<CountdownOptions, 'clock'>,
  awaiting?: (withinMs: number) => () => void,
): ClientFactory {
  switch (spec.kind) {
    case 'builtin':
      if (spec.chaos !== undefined) return createChaosClientFactory({ name: spec.chaos, trace: discardTrace, actor: 'client' });
      return createReferenceClientFactory({ ...(spec.mutant === undefined ? {} : { mutant: spec.mutant }), trace: discardTrace, actor: 'client' });
    case 'sip':
      return createSipContactClientFactory({ contact: spec.contact, upperTester });
    case 'register':
      return createRegisteringClientFactory({ upperTester, ...(countdown ? { countdown } : {}), ...(awaiting ? { awaiting } : {}) });
  }
}


/**
 * `cpm-harness serve-client`: the reference client as a separate process, the way a vendor's client
 * runs against the harness: it REGISTERs with `--registrar` by itself (retrying until a registrar
 * answers), serves its upper tester over HTTP and prints `ut: <url>` as one line on stdout. It
 * keeps running until SIGINT/SIGTERM, then de-registers nothing and just closes its sockets.
 */
import type { TransportKind } from '../core/trace.ts';
import { discardTrace, type TraceEvent, type TraceSink } from '../core/trace.ts';
import { behaviourWith } from '../reference-client/behaviour.ts';
import { ReferenceClient } from '../reference-client/client.ts';
import { findMutant } from '../reference-client/mutants.ts';
import { DEFAULT_IDENTITIES } from '../testcase/config.ts';
import { serveUpperTester } from '../ut/http-server.ts';
import { parseHostPort, unknownMutantMessage } from './clients.ts';

export interface ServeClientArguments {
  registrar: string;
  transport?: TransportKind;
  utHost?: string;
  utPort?: number;
  mutant?: string;
  aor?: string;
  group?: string;
  /** REGISTER Expires in seconds; the client refreshes at half of what is granted. */
  expires?: number;
  /** Retry period (ms) while no registrar answers. */
  retryMs?: number;
  t1?: number;
  /** One line per message and connection change on stderr. */
  trace?: boolean;
}

/** `--trace`: the client's side of the wire, one line per event, for debugging a run. */
const stderrTrace: TraceSink = (event: TraceEvent) => {
  const what = event.kind === 'message' ? `${event.direction === 'in' ? '<-' : '->'} ${event.summary}` : `${event.state}: ${event.reason}`;
  const remote = ` ${event.remote.address}:${event.remote.port}`;
  process.stderr.write(`[client]${remote} ${what}\n`);
};

function usage(message: string): number {
  process.stderr.write(`cpm-harness serve-client: ${message}\n`);
  return 2;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function serveClientCommand(args: ServeClientArguments): Promise<number> {
  const registrar = parseHostPort(args.registrar, '--registrar');
  if (!registrar.ok) return usage(registrar.message);
  const mutant = args.mutant === undefined ? undefined : findMutant(args.mutant);
  if (args.mutant !== undefined && mutant === undefined) return usage(unknownMutantMessage(args.mutant));
  const expires = args.expires ?? 60;
  if (!Number.isInteger(expires) || expires < 1) return usage('--expires takes whole seconds ≥ 1, e.g. --expires 60');
  const t1 = args.t1 ?? 500;
  const transport = args.transport ?? 'tcp';
  const retryMs = args.retryMs ?? 500;
  const description = mutant === undefined ? 'reference client' : `reference client, mutant ${mutant.name}`;

  const client = new ReferenceClient({
    behaviour: behaviourWith(mutant?.behaviour ?? {}),
    trace: args.trace ? stderrTrace : discardTrace,
    description,
    registrationExpires: expires,
  });
  const signal = untilSignal();
  let served;
  try {
    served = await serveUpperTester(client, { host: args.utHost ?? '127.0.0.1', port: args.utPort ?? 0, implementation: `cpm-harness ${description}` });
  } catch (error) {
    await client.stop();
    return usage(`cannot serve the upper tester on ${args.utHost ?? '127.0.0.1'}:${args.utPort ?? 0}: ${(error as Error).message}; pick another --ut-port`);
  }
  // One machine-readable line first, so a script can read the URL before anything else happens.
  process.stdout.write(`ut: ${served.url}\n`);

  let stopping = false;
  const registered = (async () => {
    await client.start({
      registrar: { transport, address: registrar.value.address, port: registrar.value.port },
      aor: args.aor ?? DEFAULT_IDENTITIES.clientAor,
      groupIdentity: args.group ?? DEFAULT_IDENTITIES.groupIdentity,
      timers: { t1, t2: 8 * t1, t4: 10 * t1 },
    });
    // The harness may start after us: keep asking until a registrar says 200.
    for (;;) {
      const state = await client.state();
      if (stopping) return;
      if (state.ok && state.value.registered) {
        process.stderr.write(`registered with ${transport} ${args.registrar} (Expires ${expires} s)\n`);
        return;
      }
      await new Promise((r) => setTimeout(r, retryMs));
      if (stopping) return;
      await client.goOnline();
    }
  })();
  registered.catch((error: unknown) => process.stderr.write(`registration failed: ${(error as Error).message}\n`));

  const got = await signal;
  stopping = true;
  process.stderr.write(`${got}: stopping the reference client\n`);
  await client.stop();
  await served.close();
  return 0;
}

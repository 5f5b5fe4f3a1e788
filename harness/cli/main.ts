/**
 * Command-line entry. `main(argv)` returns the exit code: 0 no fail/error, 1 any fail/error,
 * 2 usage or configuration error (the message says how to fix it).
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { runCommand, type RunArguments } from './run-command.ts';
import { listCommand, mutantsCommand } from './list-commands.ts';
import { matrixCommand } from './matrix-command.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}

function build(argv: string[], setCode: (code: number) => void): Argv {
  return yargs(argv)
    .scriptName('cpm-harness')
    .usage(
      'Conformance harness for OMA CPM clients: deferred delivery of CPM Group Session messages (CPM Conv. Functions 2.1 §7.3.12).\n\nUsage: $0 <command> [options]',
    )
    .command(
      'run',
      'run the test catalogue against a client and write reports',
      (y) =>
        y
          .option('client', {
            type: 'string',
            describe: 'client under test: builtin (reference client) or builtin:<mutant> (see `cpm-harness mutants`)',
          })
          .option('grep', { type: 'string', describe: 'only test cases whose id, title, group or requirement ID matches this regular expression' })
          .option('junit', { type: 'string', describe: 'JUnit XML output file [default: reports/junit.xml]' })
          .option('report-dir', { type: 'string', describe: 'directory for report.md and results.json [default: reports]' })
          .option('transport', { choices: ['udp', 'tcp'] as const, describe: 'SIP transport between the PF and the client [default: tcp]' })
          .option('config', { type: 'string', describe: 'YAML or JSON configuration file (timers, windows, identities, ambiguity readings)' })
          .option('jobs', { type: 'number', describe: 'test cases run at once (built-in clients only) [default: 4 for builtin, 1 otherwise]' })
          .option('quiet', { type: 'boolean', describe: 'print only failures and the summary', default: false })
          .example('$0 run', 'whole suite against the built-in reference client')
          .example('$0 run --client builtin:no-imdn --grep 1b-ii', 'see a mutant fail the IMDN requirement')
          .example('$0 run --transport udp --junit out/junit.xml', 'SIP over UDP, JUnit elsewhere'),
      async (args) => {
        setCode(await runCommand(args as unknown as RunArguments));
      },
    )
    .command(
      'list',
      'list every test case with its requirement IDs, level and upper-tester needs',
      (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      (args) => {
        setCode(listCommand({ json: Boolean(args.json) }));
      },
    )
    .command(
      'mutants',
      'list the built-in broken clients and the requirement IDs each one breaks',
      (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      (args) => {
        setCode(mutantsCommand({ json: Boolean(args.json) }));
      },
    )
    .command(
      'matrix',
      'prove the harness: run the catalogue against the reference client and every mutant',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
          .option('mutant', { type: 'string', array: true, describe: 'only these mutants (repeatable)' })
          .option('transport', { choices: ['udp', 'tcp'] as const, describe: 'SIP transport [default: tcp]' }),
      async (args) => {
        setCode(await matrixCommand({ json: Boolean(args.json), ...(args.mutant ? { mutant: args.mutant.map(String) } : {}), ...(args.transport ? { transport: args.transport } : {}) }));
      },
    )
    .demandCommand(1, 'Name a command: run, list, mutants or matrix. `cpm-harness run` runs the suite against the built-in reference client.')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  try {
    await build(argv, (c) => {
      code = c;
    }).parseAsync();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`cpm-harness: ${error.message}\nRun \`cpm-harness --help\` for usage.\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`cpm-harness: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_FAILED;
  }
  return code;
}

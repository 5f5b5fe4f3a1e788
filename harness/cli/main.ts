/**
 * Command-line entry. `main(argv)` returns the exit code: 0 no fail/error, 1 any fail/error,
 * 2 usage or configuration error (the message says how to fix it), 128 + n after signal n.
 * Each command's module is imported only when that command runs: `--version`, `--help` and
 * `list` do not load the SIP stack, the PF or the reporters.
 */
import type { Argv } from 'yargs';
import { harnessVersion } from './package-info.ts';
import type { RunArguments } from './run-command.ts';
import { loadOptions } from './load-options.ts';
import { releaseStopSignals } from './stop-handlers.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}

type Yargs = (typeof import('yargs'))['default'];

function build(yargs: Yargs, argv: string[], setCode: (code: number) => void): Argv {
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
            describe:
              'client under test: builtin | builtin:<mutant> | chaos:<name> (see `cpm-harness mutants`) | sip:<user>@<host>:<port>[;transport=tcp] (a client at a known contact, no REGISTER) | register (wait for the client to REGISTER at --listen) [default: builtin]',
          })
          .option('listen', { type: 'string', describe: 'PF SIP address, UDP and TCP, <address>:<port>: where a `register` client REGISTERs [default: 127.0.0.1, ephemeral ports]' })
          .option('ut', { type: 'string', describe: 'upper tester of an external client: its base URL (docs/upper-tester.md) or `prompt` (operator at the terminal) [default: none; cases that need it are skipped]' })
          .option('proxy', { type: 'string', describe: 'outbound proxy for the PF\'s requests, <host>:<port> [default: none]' })
          .option('msrp', { type: 'boolean', describe: 'the client does MSRP; --no-msrp skips the cases that need it (SIP-only stand-ins) [default: true]' })
          .option('windows', { choices: ['real', 'scaled'] as const, describe: 'observation windows: real (lab) or scaled (loopback) [default: scaled for builtin, real otherwise]' })
          .option('grep', { type: 'string', describe: 'only test cases whose id, title, group or requirement ID matches this regular expression' })
          .option('req', { type: 'string', describe: 'only test cases that judge exactly this requirement ID (e.g. 7.3.12-1a-i; `cpm-harness rules` maps rules to IDs)' })
          .option('junit', { type: 'string', describe: 'JUnit XML output file [default: <report-dir>/junit.xml]' })
          .option('report-dir', { type: 'string', describe: 'directory for index.html, junit.xml, report.md and results.json (--junit puts JUnit elsewhere) [default: reports]' })
          .option('pcap', { type: 'string', describe: 'also write each test case\'s messages as <dir>/<case id>.pcap for Wireshark' })
          .option('transport', { choices: ['udp', 'tcp'] as const, describe: 'SIP transport between the PF and the client [default: tcp, or the transport= of a sip: client]' })
          .option('config', { type: 'string', describe: 'YAML or JSON configuration file (`cpm-harness init` writes an example); options given here win' })
          .option('jobs', { type: 'number', describe: 'test cases run at once (built-in clients without --listen only) [default: 4 for builtin, 1 otherwise]' })
          .option('quiet', { type: 'boolean', describe: 'print only failures and the summary', default: false })
          .option('strict', { type: 'boolean', describe: 'warnings fail the run (exit 1), as in CI gates; also `strict: true` in the config [default: false]' })
          .option('shard', { type: 'string', describe: 'run only shard <i>/<n> of the selected cases (a deterministic split for a CI matrix; merge the reports with `cpm-harness merge`)' })
          .option('repeat', { type: 'number', describe: 'run each selected case n times; the report counts the outcomes per case and flags mixed ones as flaky [default: 1]' })
          .example('$0 run', 'whole suite against the built-in reference client')
          .example('$0 run --client builtin:no-imdn --grep 1b-ii', 'see a mutant fail the IMDN requirement')
          .example('$0 run --transport udp --junit out/junit.xml', 'SIP over UDP, JUnit elsewhere')
          .example('$0 run --client register --listen 0.0.0.0:5060 --ut http://192.0.2.7:8080', 'a real client that registers by itself, with its UT shim')
          .example('$0 run --client "sip:+15551230002@192.0.2.7:5070;transport=tcp" --ut prompt', 'a client at a known contact, operator as upper tester')
          .example('$0 run --config cpm-harness.yaml', 'everything from a configuration file')
          .example('$0 run --shard 2/3 --report-dir reports/shard-2', 'the second of three CI shards'),
      async (args) => {
        const { runCommand } = await import('./run-command.ts');
        setCode(await runCommand(args as unknown as RunArguments));
      },
    )
    .command(
      'merge <files..>',
      'merge the results.json of shard runs into one JUnit, HTML, Markdown and JSON report',
      (y) =>
        y
          .positional('files', { type: 'string', array: true, demandOption: true, describe: 'results.json files of the shards, e.g. reports/*/results.json' })
          .option('junit', { type: 'string', describe: 'merged JUnit XML [default: <report-dir>/junit.xml]' })
          .option('report-dir', { type: 'string', describe: 'directory for the merged index.html, report.md and results.json [default: reports]' })
          .option('strict', { type: 'boolean', describe: 'warnings fail the merged run [default: strict when any shard ran strict]' })
          .example('$0 merge reports/shard-*/results.json', 'one report of a three-shard CI matrix'),
      async (args) => {
        const { mergeCommand } = await import('./merge-command.ts');
        setCode(
          mergeCommand({
            files: (args.files ?? []).map(String),
            ...(args.junit ? { junit: args.junit } : {}),
            ...(args.reportDir ? { reportDir: args.reportDir } : {}),
            ...(args.strict !== undefined ? { strict: args.strict } : {}),
          }),
        );
      },
    )
    .command(
      'init',
      'write a commented example configuration file',
      (y) =>
        y
          .option('output', { type: 'string', describe: 'file to write [default: cpm-harness.yaml]' })
          .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing file' })
          .example('$0 init && $0 run --config cpm-harness.yaml', 'start from the example'),
      async (args) => {
        const { initCommand } = await import('./init-command.ts');
        setCode(initCommand({ ...(args.output ? { output: args.output } : {}), force: Boolean(args.force) }));
      },
    )
    .command(
      'serve-client',
      'run the reference client as a separate process: it REGISTERs with --registrar and serves its upper tester over HTTP (prints `ut: <url>`)',
      (y) =>
        y
          .option('registrar', { type: 'string', demandOption: true, describe: 'where to REGISTER: the harness\'s --listen address, <host>:<port>' })
          .option('transport', { choices: ['udp', 'tcp'] as const, describe: 'SIP transport [default: tcp]' })
          .option('ut-port', { type: 'number', describe: 'HTTP port of the upper tester [default: 0, ephemeral; the URL is printed]' })
          .option('ut-host', { type: 'string', describe: 'HTTP address of the upper tester [default: 127.0.0.1]' })
          .option('mutant', { type: 'string', describe: 'serve a broken client instead (see `cpm-harness mutants`) [default: none]' })
          .option('aor', { type: 'string', describe: 'the client\'s public identity [default: sip:+15551230002@ims.example.net]' })
          .option('group', { type: 'string', describe: 'group session identity [default: sip:grp.7c1e9a@cpm-pf.example.net]' })
          .option('expires', { type: 'number', describe: 'REGISTER Expires in seconds; refreshed at half [default: 60]' })
          .option('t1', { type: 'number', describe: 'SIP T1 in ms (50 for scaled runs on loopback) [default: 500]' })
          .option('trace', { type: 'boolean', default: false, describe: 'print every SIP/MSRP message and connection change of the client on stderr' })
          .example('$0 serve-client --registrar 127.0.0.1:5060 --t1 50', 'then: cpm-harness run --client register --listen 127.0.0.1:5060 --ut <printed url> --windows scaled'),
      async (args) => {
        const { serveClientCommand } = await import('./serve-client.ts');
        setCode(
          await serveClientCommand({
            registrar: String(args.registrar),
            ...(args.transport ? { transport: args.transport } : {}),
            ...(args.utPort !== undefined ? { utPort: args.utPort } : {}),
            ...(args.utHost !== undefined ? { utHost: args.utHost } : {}),
            ...(args.mutant !== undefined ? { mutant: args.mutant } : {}),
            ...(args.aor !== undefined ? { aor: args.aor } : {}),
            ...(args.group !== undefined ? { group: args.group } : {}),
            ...(args.expires !== undefined ? { expires: args.expires } : {}),
            ...(args.t1 !== undefined ? { t1: args.t1 } : {}),
            trace: Boolean(args.trace),
          }),
        );
      },
    )
    .command('load', 'hold N concurrent deferred-delivery group sessions with M messages each; thresholds decide the exit code', loadOptions, async (args) => {
      const { loadCommand } = await import('./load-command.ts');
      setCode(await loadCommand({ ...args, ...(args.transport ? { transport: args.transport } : {}) }));
    })
    .command(
      'list',
      'list every test case with its requirement IDs, level and upper-tester needs',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
          .option('req', { type: 'string', describe: 'only test cases that judge exactly this requirement ID' }),
      async (args) => {
        const { listCommand } = await import('./list-commands.ts');
        setCode(listCommand({ json: Boolean(args.json), ...(args.req === undefined ? {} : { req: String(args.req) }) }));
      },
    )
    .command(
      'rules',
      'list every rule of the verdict table: requirement, level, [U] marker, the cases that judge it, the mutants that trip it',
      (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      async (args) => {
        const { rulesCommand } = await import('./rules-command.ts');
        setCode(rulesCommand({ json: Boolean(args.json) }));
      },
    )
    .command(
      'chaos',
      'list the chaos clients (socket-level hostile behaviours): the case each one is proven on, the outcome and reason it must give',
      (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      async (args) => {
        const { chaosCommand } = await import('./list-commands.ts');
        setCode(chaosCommand({ json: Boolean(args.json) }));
      },
    )
    .command(
      'mutants',
      'list the built-in broken clients (mutants, then chaos clients) and the rules each one breaks',
      (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      async (args) => {
        const { mutantsCommand } = await import('./list-commands.ts');
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
        const { matrixCommand } = await import('./matrix-command.ts');
        setCode(await matrixCommand({ json: Boolean(args.json), ...(args.mutant ? { mutant: args.mutant.map(String) } : {}), ...(args.transport ? { transport: args.transport } : {}) }));
      },
    )
    // The stop signals the bin held during start-up matter to `run` only (it reports every case);
    // any other command lets them take effect before it starts.
    .middleware((args) => {
      if (args._[0] !== 'run') releaseStopSignals();
    })
    .demandCommand(1, 'Name a command: run, merge, load, list, rules, mutants, chaos, matrix, init or serve-client. `cpm-harness run` runs the suite against the built-in reference client.')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(harnessVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    });
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } finally {
    // Help, usage errors, a run that stopped before its cases were known: a held signal takes effect now.
    releaseStopSignals();
  }
}

async function dispatch(argv: string[]): Promise<number> {
  // The one answer that needs no parser: loading yargs alone costs about as much as starting node.
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${harnessVersion()}\n`);
    return EXIT_OK;
  }
  let code = EXIT_OK;
  try {
    const { default: yargs } = await import('yargs');
    await build(yargs, argv, (c) => {
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

/**
 * The options of `cpm-harness load`, apart from the command itself so `--help` and the other
 * commands never load the PF, the SIP stack or the reference client.
 */
import type { Argv } from 'yargs';

export function loadOptions<T>(y: Argv<T>) {
  return y
    .option('sessions', { type: 'number', default: 100, describe: 'concurrent group sessions to open and hold' })
    .option('rate', { type: 'number', default: 100, describe: 'sessions opened per second' })
    .option('backlog', { type: 'number', default: 10, describe: 'deferred messages per session, each requesting a delivery IMDN' })
    .option('client', { type: 'string', describe: 'builtin | builtin:<mutant> | sip:<contact> | register [default: builtin]' })
    .option('transport', { choices: ['udp', 'tcp'] as const, describe: 'SIP transport [default: tcp]' })
    .option('listen', { type: 'string', describe: '<address>:<port> the PF listens on (needed for --client register)' })
    .option('max-p99-ms', { type: 'number', describe: 'fail when the p99 of INVITE→200, SEND→200 or SEND→IMDN is above this' })
    .option('json', { type: 'string', describe: 'write the summary as JSON to this file' })
    .option('timeout', { type: 'number', default: 300, describe: 'whole-run limit in seconds' });
}

/**
 * `cpm-harness init`: writes a commented example configuration that loads back through the
 * schema unchanged (a test proves it), so an operator starts from something that works.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { DEFAULT_LIMITS, LIMIT_DESCRIPTIONS, type Limits } from '../core/limits.ts';
import { DEFAULT_IDENTITIES, REAL_WINDOWS } from '../testcase/config.ts';

/** The limits section, one commented line per limit with its default. */
function limitsExample(): string {
  const keys = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];
  const width = Math.max(...keys.map((k) => `${k}: ${DEFAULT_LIMITS[k]}`.length));
  return keys.map((k) => `  ${`${k}: ${DEFAULT_LIMITS[k]}`.padEnd(width)}  # ${LIMIT_DESCRIPTIONS[k]}`).join('\n');
}

export const EXAMPLE_CONFIG = `# cpm-harness configuration (YAML; JSON works too). Use: cpm-harness run --config cpm-harness.yaml
# Command-line options win over this file; this file wins over the defaults. Every key is optional.

# The client under test:
#   builtin | builtin:<mutant>     the reference client in-process (cpm-harness mutants lists mutants)
#   sip:<user>@<host>:<port>[;transport=tcp]   a client at a known contact: no REGISTER needed
#   register                        the harness listens (see listen) and waits for the client's REGISTER
client: register

# Where the harness's Participating Function listens, UDP and TCP: the client's registrar/outbound
# address. A fixed port is required for "register"; each test case gets a fresh PF on this port.
listen: 127.0.0.1:5060

# SIP transport between the PF and the client: udp or tcp.
transport: tcp

# The client's upper tester (UT): the base URL of its test shim (docs/upper-tester.md), or
# "prompt" to have an operator do each step at the terminal. Without one, cases that need it
# are skipped with "needs upper tester".
ut: http://127.0.0.1:8080

# Outbound proxy for the PF's requests (an IMS core between harness and client). Uncomment to use.
# proxy: 192.0.2.10:5060

# What the client implements (PICS). msrp: false for a SIP-only stand-in: MSRP cases are skipped.
pics:
  msrp: true

# Observation windows: "real" (lab network; default for external clients) or "scaled" (loopback,
# seconds; default for builtin). Single values below override the profile, in milliseconds.
windowProfile: real
windows:
  registrationMs: ${REAL_WINDOWS.registrationMs}     # first REGISTER (with a countdown) and re-REGISTER after goOnline
  finalResponseMs: ${REAL_WINDOWS.finalResponseMs}    # INVITE final response after a provisional
  msrpConnectMs: ${REAL_WINDOWS.msrpConnectMs}      # MSRP connection + first SEND
  imdnMs: ${REAL_WINDOWS.imdnMs}             # requested IMDN after the message's 200
  idleMs: ${REAL_WINDOWS.idleMs}             # quiet time checks (no BYE before the PF's)
  livenessMs: ${REAL_WINDOWS.livenessMs}          # after every deferred delivery: no MSRP close, BYE or re-INVITE
  utMs: ${REAL_WINDOWS.utMs}               # each upper-tester operation (and each operator prompt)

# SIP timers (ms).
timers:
  t1: 500
  t2: 4000
  t4: 5000

# Identities: the client's public identity, the original sender of the deferred messages and the
# group session identity the PF invites from.
identities:
  clientAor: ${DEFAULT_IDENTITIES.clientAor}
  originalSender: ${DEFAULT_IDENTITIES.originalSender}
  groupIdentity: ${DEFAULT_IDENTITIES.groupIdentity}
  pfDomain: ${DEFAULT_IDENTITIES.pfDomain}

# How to read the specification where it is ambiguous.
ambiguity:
  noDirection: observe                     # SDP offer without a direction attribute: observe | sdp-default | literal
  participantsOn404: notify-then-terminate # last participants on 404: notify-then-terminate | invite-resource-list

# Limits on what the client can make the harness hold or parse (the defaults are shown). Crossing
# one is a client fault reported with the RFC clause (e.g. MSRP message too large), never a crash.
# The runtime ones (messages/s, connections, trace bytes per case) are applied per test case.
limits:
${limitsExample()}

# Reports: index.html, junit.xml, report.md and results.json go to reportDir; junit names another file.
reportDir: reports
# junit: reports/junit.xml
`;

export interface InitArguments {
  output?: string;
  force?: boolean;
}

export function initCommand(args: InitArguments): number {
  const path = args.output ?? 'cpm-harness.yaml';
  if (existsSync(path) && !args.force) {
    process.stderr.write(`cpm-harness: ${path} exists; use --force to overwrite it, or --output <file> to write elsewhere\n`);
    return 2;
  }
  writeFileSync(path, EXAMPLE_CONFIG);
  process.stdout.write(`wrote ${path}; edit it, then: cpm-harness run --config ${path}\n`);
  return 0;
}

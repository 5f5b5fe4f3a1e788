/** What the PF's parts (notifier, sessions) share: the stack, the log, the run parameters. */
import type { Clock } from '../core/clock.ts';
import type { FaultBoundary, PeerWatch } from '../core/scope.ts';
import { newBranch } from '../core/ids.ts';
import type { TraceSink, TransportKind } from '../core/trace.ts';
import { CPM_FEATURE_TAG } from '../sip/caller-prefs.ts';
import type { SipStack } from '../sip/stack.ts';
import type { PfConfig } from './config.ts';
import type { EventLog } from './event-log.ts';
import type { GroupSpec } from './types.ts';

export interface PfContext {
  readonly stack: SipStack;
  readonly log: EventLog;
  readonly config: PfConfig;
  readonly clock: Clock;
  /** The case's fault boundary: background work of the PF is detached through it. */
  readonly boundary: FaultBoundary;
  /** The watch on the client under test, given to every MSRP session the PF opens. */
  readonly watch: PeerWatch | undefined;
  readonly trace: TraceSink;
  readonly actor: string;
  readonly transport: TransportKind;
  readonly group: GroupSpec;
}

/** A fresh top Via for a request the PF originates. */
export function pfVia(ctx: PfContext): string {
  return ctx.stack.viaFor(ctx.transport, newBranch());
}

/** `<sip:host:port;transport=…;lr>`: a loose route to an address (RFC 3261 §19.1.1 `lr`, §16.12). */
export function looseRoute(endpoint: { address: string; port: number }, transport: TransportKind): string {
  const host = endpoint.address.includes(':') && !endpoint.address.startsWith('[') ? `[${endpoint.address}]` : endpoint.address;
  return `<sip:${host}:${endpoint.port};transport=${transport};lr>`;
}

/**
 * The Record-Route the PF puts into every dialog it creates or accepts: its own listen address
 * as a loose route. In an IMS core the conference focus sits behind the S-CSCF (and the P-CSCF),
 * which record-route every dialog, so a client sends its in-dialog requests to the first Route
 * and never resolves the focus URI; the PF stands in for that core. The Contact stays the group
 * identity with isfocus (RFC 4579), as the real focus's would.
 */
export function pfRecordRoute(ctx: PfContext): string {
  const local = ctx.transport === 'udp' ? ctx.stack.transport.udp : ctx.stack.transport.tcp;
  return looseRoute(local ?? { address: ctx.config.address, port: 0 }, ctx.transport);
}

/** `<group;transport=tcp>` — the PF's Contact in dialogs it holds as the group focus. */
export function groupContact(ctx: PfContext, focus: boolean): string {
  const uri = /;transport=/i.test(ctx.group.identity) ? ctx.group.identity : `${ctx.group.identity};transport=${ctx.transport}`;
  return focus ? `<${uri}>;isfocus;${CPM_FEATURE_TAG}` : `<${uri}>`;
}

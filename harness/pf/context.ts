/** What the PF's parts (notifier, sessions) share: the stack, the log, the run parameters. */
import type { Clock } from '../core/clock.ts';
import { newBranch } from '../core/ids.ts';
import type { TraceSink, TransportKind } from '../core/trace.ts';
import { CPM_FEATURE_TAG } from '../sip/caller-prefs.ts';
import type { Dialog } from '../sip/dialog.ts';
import type { SipStack, Target } from '../sip/stack.ts';
import type { PfConfig } from './config.ts';
import type { EventLog } from './event-log.ts';
import type { GroupSpec } from './types.ts';

export interface PfContext {
  readonly stack: SipStack;
  readonly log: EventLog;
  readonly config: PfConfig;
  readonly clock: Clock;
  readonly trace: TraceSink;
  readonly actor: string;
  readonly transport: TransportKind;
  readonly group: GroupSpec;
}

/** A fresh top Via for a request the PF originates. */
export function pfVia(ctx: PfContext): string {
  return ctx.stack.viaFor(ctx.transport, newBranch());
}

/** `<group;transport=tcp>` — the PF's Contact in dialogs it holds as the group focus. */
export function groupContact(ctx: PfContext, focus: boolean): string {
  const uri = /;transport=/i.test(ctx.group.identity) ? ctx.group.identity : `${ctx.group.identity};transport=${ctx.transport}`;
  return focus ? `<${uri}>;isfocus;${CPM_FEATURE_TAG}` : `<${uri}>`;
}

/** Where an in-dialog request goes (the remote target), or a reason why it cannot be sent. */
export function dialogTarget(dialog: Dialog): { ok: true; target: Target } | { ok: false; reason: string } {
  const hop = dialog.nextHop();
  if (!hop.ok) return { ok: false, reason: hop.diagnostics.map((d) => d.message).join('; ') || 'no next hop' };
  return { ok: true, target: { transport: hop.value.transport, address: hop.value.address, port: hop.value.port } };
}

/** What the PF's parts (notifier, sessions) share: the stack, the log, the run parameters. */
import type { Clock } from '../core/clock.ts';
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

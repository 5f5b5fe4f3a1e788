/**
 * A PF and the built-in reference client on loopback, registered and in one deferred-delivery
 * group session with its MSRP connection bound: the end-to-end backlog bench drives it. The trace
 * is discarded on both sides (the bench measures protocol work, not report writing).
 */
import { discardTrace } from '../harness/core/trace.ts';
import type { ClientUnderTest } from '../harness/client/types.ts';
import { ParticipatingFunction } from '../harness/pf/participating-function.ts';
import type { DeferredSession } from '../harness/pf/types.ts';
import { createReferenceClientFactory } from '../harness/reference-client/factory.ts';
import { builtinConfig, type RunConfig } from '../harness/testcase/config.ts';

export interface SessionRig {
  pf: ParticipatingFunction;
  client: ClientUnderTest;
  session: DeferredSession;
  config: RunConfig;
  close(): Promise<void>;
}

export async function sessionRig(): Promise<SessionRig> {
  const config = builtinConfig('tcp');
  const pf = await ParticipatingFunction.start({ config, trace: discardTrace });
  const client = createReferenceClientFactory({ trace: discardTrace }).create();
  const close = async () => {
    await client.stop();
    await pf.close();
  };
  try {
    await client.start({ registrar: pf.registrar, aor: config.identities.clientAor, groupIdentity: config.identities.groupIdentity, timers: config.timers });
    if ((await pf.waitForRegistration(config.windows.registrationMs)) === null) throw new Error('rig: the reference client did not register');
    const invite = await pf.invite();
    if (invite.final?.status !== 200 || !invite.session) throw new Error(`rig: INVITE answered ${invite.final?.status ?? invite.failure?.message}`);
    const ready = await invite.session.ready(config.windows.msrpConnectMs);
    if (!ready.ok) throw new Error(`rig: ${ready.reason}`);
    return { pf, client, session: invite.session, config, close };
  } catch (error) {
    await close();
    throw error;
  }
}

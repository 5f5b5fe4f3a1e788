/**
 * The reference client's background work (ClientCore.track): a rejection while the client runs is
 * a fault of its test case, not an unhandled rejection and not silently dropped; after stop() the
 * work cut short by the closed sockets is dropped.
 */
import { expect } from 'chai';
import { systemClock } from '../../harness/core/clock.ts';
import type { FaultBoundary } from '../../harness/core/scope.ts';
import { discardTrace } from '../../harness/core/trace.ts';
import { behaviourWith } from '../../harness/reference-client/behaviour.ts';
import { ClientCore } from '../../harness/reference-client/core.ts';

function recordingBoundary(): { boundary: FaultBoundary; faults: { where: string; error: unknown }[] } {
  const faults: { where: string; error: unknown }[] = [];
  const boundary: FaultBoundary = {
    clock: systemClock,
    guard: (_where, fn) => fn,
    detach: (where, promise) => void promise.catch((error: unknown) => faults.push({ where, error })),
    fault: (where, error) => void faults.push({ where, error }),
    own: () => () => {},
  };
  return { boundary, faults };
}

describe('reference client: background work inside the case boundary', () => {
  it('a rejection of tracked work while the client runs is a fault of the case, with the error', async () => {
    const { boundary, faults } = recordingBoundary();
    const core = new ClientCore({ behaviour: behaviourWith({}), trace: discardTrace, description: 'builtin', boundary });
    const bug = new Error('injected: a bug in the client');
    core.track(Promise.reject(bug));
    await Promise.all(core.work);
    expect(faults).to.deep.equal([{ where: 'reference client: background work', error: bug }]);
    expect(core.work.size).to.equal(0);
  });

  it('after stop() a rejection is the expected end of cut-short work: no fault', async () => {
    const { boundary, faults } = recordingBoundary();
    const core = new ClientCore({ behaviour: behaviourWith({}), trace: discardTrace, description: 'builtin', boundary });
    core.closed = true;
    core.track(Promise.reject(new Error('transport is closed')));
    await Promise.all(core.work);
    expect(faults).to.deep.equal([]);
  });

  it('without a boundary (unit tests, serve-client) a rejection is contained, never unhandled', async () => {
    const core = new ClientCore({ behaviour: behaviourWith({}), trace: discardTrace, description: 'builtin' });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      core.track(Promise.reject(new Error('dropped')));
      await Promise.all(core.work);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

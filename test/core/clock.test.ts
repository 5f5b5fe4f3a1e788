/**
 * Observation windows count only time the harness could run (Clock.setWindow): a stall extends the
 * window by its length, up to the cap; protocol timers (setTimer) never fire early on now().
 */
import { expect } from 'chai';
import { FakeClock, maxWindowExtensionMs, measuredStallMs, systemClock } from '../../harness/core/clock.ts';

describe('Clock: observation windows and protocol timers', () => {
  it('a window without stalls fires like a timer', () => {
    const clock = new FakeClock();
    let fired = 0;
    clock.setWindow(100, () => fired++);
    clock.advance(99);
    expect(fired).to.equal(0);
    clock.advance(1);
    expect(fired).to.equal(1);
    expect(clock.pendingCount).to.equal(0);
  });

  it('a stall inside the window extends it by the stall', () => {
    const clock = new FakeClock();
    let firedAt: number | undefined;
    let timerAt: number | undefined;
    clock.setWindow(100, () => (firedAt = clock.now()));
    clock.setTimer(100, () => (timerAt = clock.now()));
    clock.advance(50);
    clock.stall(40);
    clock.advance(49);
    expect(timerAt).to.equal(100);
    expect(firedAt).to.equal(undefined, 'only 99 ms of the window could run');
    clock.advance(1);
    expect(firedAt).to.equal(140);
  });

  it('a stall that spans the end of the window: the timer fires late, the window re-arms for the stall', () => {
    const clock = new FakeClock();
    let firedAt: number | undefined;
    clock.setWindow(100, () => (firedAt = clock.now()));
    clock.advance(90);
    clock.stall(300);
    expect(firedAt).to.equal(undefined);
    clock.advance(9);
    expect(firedAt).to.equal(undefined);
    clock.advance(1);
    expect(firedAt).to.equal(400);
  });

  it('stalls before the window opened do not count; a cancelled window never fires', () => {
    const clock = new FakeClock();
    clock.stall(500);
    let fired = 0;
    clock.setWindow(100, () => fired++);
    clock.advance(100);
    expect(fired).to.equal(1);
    const cancelled = clock.setWindow(100, () => fired++);
    clock.advance(50);
    clock.stall(100);
    cancelled.cancel();
    clock.advance(1000);
    expect(fired).to.equal(1);
    expect(clock.pendingCount).to.equal(0);
  });

  it('the extension is capped: a harness that never runs still ends its window (safety net)', () => {
    const clock = new FakeClock();
    let firedAt: number | undefined;
    clock.setWindow(100, () => (firedAt = clock.now()));
    clock.stall(60_000);
    expect(firedAt).to.equal(60_000, `a 60 s stall is more than the ${maxWindowExtensionMs(100)} ms cap`);
  });

  it('systemClock: a window measures a real event-loop block as a stall and is extended by it', async () => {
    const opened = performance.now();
    const stalledBefore = measuredStallMs();
    const closed = new Promise<number>((resolve) => systemClock.setWindow(60, () => resolve(performance.now())));
    // Block the event loop for 200 ms: the harness could not run, so the 60 ms window must not end
    // right after the block; it ends once 60 ms of runnable time have passed.
    await new Promise<void>((resolve) => systemClock.setTimer(20, () => {
      const until = performance.now() + 200;
      while (performance.now() < until) { /* a stalled harness */ }
      resolve();
    }));
    const at = await closed;
    expect(measuredStallMs() - stalledBefore).to.be.at.least(150);
    expect(at - opened).to.be.at.least(240, 'the window went on after the block');
  });

  it('systemClock.setTimer never fires before now() + ms', async () => {
    const waits = Array.from({ length: 20 }, (_, i) => {
      const start = systemClock.now();
      const ms = 1 + (i % 5);
      return new Promise<number>((resolve) => systemClock.setTimer(ms, () => resolve(systemClock.now() - start - ms)));
    });
    for (const early of await Promise.all(waits)) expect(early).to.be.at.least(0);
  });
});

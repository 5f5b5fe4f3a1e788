import { expect } from 'chai';
import { FakeClock } from '../../harness/core/clock.ts';
import { EventLog } from '../../harness/pf/event-log.ts';
import type { PfEvent } from '../../harness/pf/types.ts';

const bye = (sessionId: string) => ({ type: 'client-bye' as const, request: { kind: 'request' as const, method: 'BYE', uri: 'sip:x@y', version: 'SIP/2.0', headers: [], body: Buffer.alloc(0) }, sessionId });
const isBye = (e: PfEvent) => e.type === 'client-bye';

describe('pf: event log', () => {
  it('numbers events from 1 in log order and stamps the clock time', () => {
    const clock = new FakeClock();
    const log = new EventLog(clock);
    clock.advance(5);
    const first = log.append(bye('a'));
    clock.advance(5);
    const second = log.append(bye('b'));
    expect([first.seq, first.at, second.seq, second.at]).to.deep.equal([1, 5, 2, 10]);
    expect(log.since(2).map((e) => e.seq)).to.deep.equal([2]);
    expect(log.mark()).to.equal(3);
  });

  it('without history (load mode) numbers and delivers every event but keeps none', async () => {
    const log = new EventLog(new FakeClock(), false);
    const seen: number[] = [];
    log.onEvent((e) => seen.push(e.seq));
    const waiting = log.waitFor(isBye, { within: 1000 });
    log.append(bye('a'));
    log.append(bye('b'));
    expect((await waiting)?.seq).to.equal(1);
    expect(seen).to.deep.equal([1, 2]);
    expect(log.mark()).to.equal(3);
    expect(log.all()).to.deep.equal([]);
    expect(log.since(1)).to.deep.equal([]);
  });

  it('waitFor finds an already logged event since a mark, without waiting', async () => {
    const log = new EventLog(new FakeClock());
    const mark = log.mark();
    log.append(bye('a'));
    const found = await log.waitFor(isBye, { within: 1000, since: mark });
    expect(found?.seq).to.equal(1);
  });

  it('waitFor without since only counts later events, resolves on arrival, null after the window', async () => {
    const clock = new FakeClock();
    const log = new EventLog(clock);
    log.append(bye('old'));
    const arriving = log.waitFor(isBye, { within: 100 });
    clock.advance(50);
    log.append(bye('new'));
    expect((await arriving)?.seq).to.equal(2);
    const missing = log.waitFor(isBye, { within: 100 });
    clock.advance(100);
    expect(await missing).to.equal(null);
  });

  it('expectNone waits the whole window and returns the first violation', async () => {
    const clock = new FakeClock();
    const log = new EventLog(clock);
    let settled = false;
    const watch = log.expectNone(isBye, { within: 100 }).then((e) => {
      settled = true;
      return e;
    });
    log.append(bye('x'));
    await Promise.resolve();
    expect(settled).to.equal(false);
    clock.advance(100);
    expect((await watch)?.seq).to.equal(1);
    const quiet = log.expectNone(isBye, { within: 10 });
    clock.advance(10);
    expect(await quiet).to.equal(null);
  });

  it('a throwing predicate is no match; close() settles every pending wait', async () => {
    const log = new EventLog(new FakeClock());
    const throwing = log.waitFor(() => {
      throw new Error('wrong event shape');
    }, { within: 10_000 });
    const pending = log.waitFor(isBye, { within: 10_000 });
    log.append({ type: 'sip-invalid', diagnostics: [], bytes: Buffer.alloc(0) });
    log.close();
    expect(await throwing).to.equal(null);
    expect(await pending).to.equal(null);
    expect(await log.waitFor(isBye, { within: 10_000 })).to.equal(null);
  });
});

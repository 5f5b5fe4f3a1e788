/** The per-case fault boundary (core/scope.ts) and the trace budget (core/trace.ts), on a fake clock. */
import { expect } from 'chai';
import { FakeClock } from '../../harness/core/clock.ts';
import { CaseScope, currentScope, inScope, type ScopeEnd } from '../../harness/core/scope.ts';
import { stamp, TraceRecorder, type MessageTraceEvent } from '../../harness/core/trace.ts';
import { installStopHandlers } from '../../harness/cli/stop-handlers.ts';
import { EventEmitter } from 'node:events';

function settled(scope: CaseScope): Promise<ScopeEnd | 'pending'> {
  return Promise.race([scope.ended, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('core/scope: the fault boundary of one test case', () => {
  it('guard turns an exception into the first fault (where, message, stack); later faults are kept, not first', async () => {
    const scope = new CaseScope();
    const seen: ScopeEnd[] = [];
    scope.onFirstFault((end) => seen.push(end));
    scope.guard('sip/tcp data', () => {
      throw new Error('boom');
    })();
    scope.guard('msrp data', () => {
      throw new Error('second');
    })();
    const end = await scope.ended;
    expect(end.kind).to.equal('harness-fault');
    if (end.kind !== 'harness-fault') return;
    expect(end.fault).to.include({ where: 'sip/tcp data', message: 'boom' });
    expect(end.fault.stack).to.include('boom');
    expect(scope.faults.map((f) => (f.kind === 'harness-fault' ? f.fault.where : ''))).to.deep.equal(['sip/tcp data', 'msrp data']);
    expect(seen).to.have.length(1);
  });

  it('a case without a fault never ends its scope; detach turns a rejection into a fault', async () => {
    const scope = new CaseScope();
    expect(await settled(scope)).to.equal('pending');
    scope.detach('pf: re-join INVITE', Promise.reject(new Error('late')));
    const end = await scope.ended;
    expect(end.kind === 'harness-fault' && end.fault.where).to.equal('pf: re-join INVITE');
  });

  it('timers of its clock are guarded, and close() cancels every one still armed and closes what it owns', async () => {
    const clock = new FakeClock();
    const scope = new CaseScope({ clock });
    let fired = 0;
    scope.clock.setTimer(10, () => {
      throw new Error('in a timer');
    });
    scope.clock.setTimer(1_000, () => fired++);
    const closed: string[] = [];
    scope.own({ close: () => void closed.push('transport') });
    const disowned = scope.own({ close: () => void closed.push('never') });
    disowned();
    clock.advance(10);
    const end = await scope.ended;
    expect(end.kind === 'harness-fault' && end.fault).to.include({ where: 'timer', message: 'in a timer' });
    await scope.close();
    clock.advance(2_000);
    expect(fired).to.equal(0);
    expect(closed).to.deep.equal(['transport']);
    expect(scope.isClosed).to.equal(true);
  });

  it('messagesPerSecond: the limit+1st message within one second is a wire fault, and every later one is refused', async () => {
    const clock = new FakeClock();
    const scope = new CaseScope({ clock, limits: { messagesPerSecond: 5 } });
    // Five per second, for three seconds: within the limit.
    for (let i = 0; i < 15; i++) {
      expect(scope.admitMessage('sip'), `message ${i}`).to.equal(true);
      clock.advance(200);
    }
    expect(await settled(scope)).to.equal('pending');
    // A quiet second, then a burst of five at once: still within the limit; the sixth is not.
    clock.advance(1_000);
    for (let i = 0; i < 5; i++) expect(scope.admitMessage('sip')).to.equal(true);
    expect(scope.admitMessage('msrp', 'msrp-1')).to.equal(false);
    clock.advance(5_000);
    expect(scope.admitMessage('sip'), 'refused for the rest of the case').to.equal(false);
    const end = await scope.ended;
    expect(end.kind).to.equal('wire-fault');
    if (end.kind !== 'wire-fault') return;
    expect(end.fault).to.include({ kind: 'message-rate', protocol: 'msrp', connectionId: 'msrp-1' });
    expect(end.fault.diagnostic.code).to.equal('LIMIT_MESSAGES_PER_SECOND');
    expect(end.fault.diagnostic.clause).to.equal('harness limit messagesPerSecond');
    expect(end.fault.diagnostic.message).to.include('6 messages within');
  });

  it('a huge messagesPerSecond costs memory only for the messages sent', () => {
    const scope = new CaseScope({ limits: { messagesPerSecond: 1e12 } });
    for (let i = 0; i < 1_000; i++) expect(scope.admitMessage('sip')).to.equal(true);
  });

  it('connectionsPerCase: the connection over the limit is refused, one wire fault for all of them', async () => {
    const scope = new CaseScope({ limits: { connectionsPerCase: 2 } });
    expect([1, 2, 3, 4].map(() => scope.admitConnection('sip'))).to.deep.equal([true, true, false, false]);
    const end = await scope.ended;
    expect(end.kind === 'wire-fault' && end.fault.diagnostic.code).to.equal('LIMIT_CONNECTIONS_PER_CASE');
    expect(scope.faults).to.have.length(1);
  });

  it('the async context carries the scope: a process-level handler can pin an unguarded fault on its case', async () => {
    const scope = new CaseScope({ label: 'inv-minimal' });
    const target = new EventEmitter();
    const lastResort: unknown[] = [];
    const handlers = installStopHandlers(
      {
        interrupt: () => {},
        exitNow: () => {},
        fault: (error) => lastResort.push(error),
        contain: (error) => {
          const owner = currentScope();
          if (owner === undefined) return false;
          owner.fault('uncaughtException', error);
          return true;
        },
      },
      target,
    );
    try {
      await inScope(scope, async () => {
        await new Promise<void>((resolve) =>
          setTimeout(() => {
            target.emit('uncaughtException', new Error('unguarded, inside the case'));
            resolve();
          }, 1),
        );
      });
      target.emit('uncaughtException', new Error('outside any case'));
    } finally {
      handlers.dispose();
    }
    const end = await scope.ended;
    expect(end.kind === 'harness-fault' && end.fault).to.include({ where: 'uncaughtException', message: 'unguarded, inside the case' });
    expect(lastResort.map((e) => (e as Error).message)).to.deep.equal(['outside any case']);
  });
});

describe('core/trace: the trace budget (traceBytesPerCase)', () => {
  const message = (size: number): MessageTraceEvent =>
    stamp<MessageTraceEvent>({
      kind: 'message',
      direction: 'in',
      protocol: 'sip',
      transport: 'tcp',
      local: { address: '127.0.0.1', port: 5060 },
      remote: { address: '127.0.0.1', port: 5070 },
      bytes: Buffer.alloc(size, 0x61),
      summary: 'SUBSCRIBE',
      diagnostics: [],
    });

  it('keeps events until the budget is spent, then counts the messages it leaves out', () => {
    const recorder = new TraceRecorder({ budgetBytes: 10_000 });
    const forwarded: number[] = [];
    recorder.subscribe((e) => forwarded.push(e.seq));
    for (let i = 0; i < 100; i++) recorder.sink(message(936));
    expect(recorder.events).to.have.length(10);
    expect(forwarded).to.have.length(10);
    expect(recorder.elided).to.deep.equal({ messages: 90, bytes: 90 * 936 });
  });

  it('without a budget nothing is elided', () => {
    const recorder = new TraceRecorder();
    for (let i = 0; i < 100; i++) recorder.sink(message(1000));
    expect(recorder.events).to.have.length(100);
    expect(recorder.elided).to.equal(undefined);
  });
});

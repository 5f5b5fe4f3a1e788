import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { FakeClock } from '../../harness/core/clock.ts';
import { holdStopSignals, installStopHandlers, releaseStopSignals, signalExitCode, type StopSignal } from '../../harness/cli/stop-handlers.ts';
import { COUNTDOWN_MIN_MS, observeEventLog, observeUpperTester, windowName } from '../../harness/cli/wait-observer.ts';
import type { UpperTester } from '../../harness/client/types.ts';
import type { PfEventLog } from '../../harness/pf/types.ts';
import { clockText, estimateLeftMs, fitWidth, LiveStatus, priorCaseMs } from '../../harness/reporters/live-status.ts';
import { REAL_WINDOWS, SCALED_WINDOWS } from '../../harness/testcase/config.ts';

// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*[mK]/g, '');

describe('live status line (TTY)', () => {
  function setup(): { clock: FakeClock; written: string[]; status: LiveStatus; line: () => string } {
    const clock = new FakeClock();
    const written: string[] = [];
    const status = new LiveStatus({ write: (t) => written.push(t), planned: 4, jobs: 1, windows: REAL_WINDOWS, columns: () => 200, clock });
    const line = (): string => plain(written.join('').split('\r').pop()!);
    return { clock, written, status, line };
  }

  it('shows progress, counts, elapsed time, time left and the running cases, refreshed every second', () => {
    const { clock, status, line } = setup();
    status.start();
    status.caseStarted('inv-minimal');
    clock.advance(2_000);
    expect(line()).to.equal(`0/4  ·  0:02 elapsed  ·  ~${clockText(4 * priorCaseMs(REAL_WINDOWS) - 2_000)} left  ·  running inv-minimal 0:02`);
    status.caseFinished('inv-minimal', 'fail', 10_000);
    status.print('  FAIL inv-minimal\n');
    expect(line()).to.match(/^1\/4  ·  fail 1  ·  0:02 elapsed  ·  ~0:30 left$/);
    status.stop();
  });

  it('counts down while the harness waits for the client, and clears the line around other output', () => {
    const { clock, written, status, line } = setup();
    status.start();
    const end = status.beginWait('the client to REGISTER at 127.0.0.1:5060', 60_000, 'inv-minimal');
    expect(line()).to.include('inv-minimal: waiting for the client to REGISTER at 127.0.0.1:5060, 1:00 left');
    clock.advance(3_000);
    expect(line()).to.include('0:57 left');
    end();
    expect(line()).to.not.include('waiting');
    written.length = 0;
    status.print('a line\n');
    expect(written[0]).to.equal('\r\x1b[2K');
    expect(written[1]).to.equal('a line\n');
    status.stop();
    expect(written[written.length - 1]).to.equal('\r\x1b[2K');
    clock.advance(5_000);
    expect(written[written.length - 1]).to.equal('\r\x1b[2K', 'nothing drawn after stop');
  });

  it('estimates the time left from the windows first, then from the cases that finished', () => {
    expect(priorCaseMs(REAL_WINDOWS)).to.equal(20_000);
    expect(priorCaseMs(SCALED_WINDOWS)).to.equal(375);
    expect(estimateLeftMs({ planned: 10, done: 0, finishedMs: 0, running: [], jobs: 1, priorMs: 1_000 })).to.equal(10_000);
    expect(estimateLeftMs({ planned: 10, done: 5, finishedMs: 10_000, running: [], jobs: 1, priorMs: 1_000 })).to.equal(10_000);
    expect(estimateLeftMs({ planned: 10, done: 5, finishedMs: 10_000, running: [], jobs: 5, priorMs: 1_000 })).to.equal(2_000);
  });

  it('never wraps: the line is cut to the terminal width, colours kept balanced', () => {
    const cut = fitWidth('\x1b[31mabcdefghij\x1b[39m', 5);
    expect(plain(cut)).to.equal('abcd…');
    expect(cut.endsWith('\x1b[0m')).to.equal(true);
    expect(clockText(3_723_000)).to.equal('1:02:03');
  });

  it('an observation window of the PF event log becomes a named countdown; short waits stay silent', async () => {
    const waits: [string, number][] = [];
    let ended = 0;
    const log = { waitFor: async () => null, expectNone: async () => null, all: () => [], mark: () => 7, since: () => [] } as unknown as PfEventLog;
    const observed = observeEventLog(log, REAL_WINDOWS, (what, ms) => {
      waits.push([what, ms]);
      return () => ended++;
    });
    expect(await observed.waitFor(() => true, { within: REAL_WINDOWS.quarantineMs })).to.equal(null);
    await observed.expectNone(() => true, { within: COUNTDOWN_MIN_MS - 1 });
    expect(observed.mark()).to.equal(7);
    expect(waits).to.deep.equal([['the client (quarantineMs window)', 300_000]]);
    expect(ended).to.equal(1);
    expect(windowName(12_345, REAL_WINDOWS)).to.equal('the client (12 s window)');
  });
});

describe('upper-tester steps as waits', () => {
  it('each step shows as a wait of up to utMs and ends when the step does; everything else passes through', async () => {
    const waits: string[] = [];
    let ended = 0;
    const ut = {
      supports: new Set(['queueMessage']),
      queueMessage: async (group: string, text: string) => ({ ok: true as const, value: `${group}:${text}` }),
    } as unknown as UpperTester;
    const observed = observeUpperTester(ut, 10_000, (what, ms) => {
      waits.push(`${what} ${ms}`);
      return () => ended++;
    });
    expect(observed.supports.has('queueMessage')).to.equal(true);
    expect(await observed.queueMessage('grp', 'hi')).to.deep.equal({ ok: true, value: 'grp:hi' });
    expect(waits).to.deep.equal(['the upper tester (queueMessage) 10000']);
    expect(ended).to.equal(1);
  });
});

describe('stop handlers: SIGINT, SIGTERM, SIGHUP and faults', () => {
  it('the first signal interrupts, a second exits now with the first one\'s code; one fault is handled once', () => {
    const target = new EventEmitter();
    const calls: string[] = [];
    const handlers = installStopHandlers(
      {
        interrupt: (s) => calls.push(`interrupt ${s}`),
        exitNow: (s, code) => calls.push(`exit ${s} ${code}`),
        fault: (e, origin) => calls.push(`fault ${origin} ${(e as Error).message}`),
      },
      target,
    );
    target.emit('SIGTERM');
    target.emit('SIGINT');
    target.emit('uncaughtException', new Error('boom'));
    target.emit('unhandledRejection', new Error('again'));
    expect(calls).to.deep.equal(['interrupt SIGTERM', 'exit SIGINT 143', 'fault uncaughtException boom']);
    expect(handlers.signal).to.equal('SIGTERM');
    handlers.dispose();
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtException', 'unhandledRejection']) expect(target.listenerCount(event), event).to.equal(0);
  });

  it('a signal held during start-up is the run\'s first signal once the handlers take over; the hold leaves no listener', () => {
    const target = new EventEmitter();
    const exits: number[] = [];
    holdStopSignals(target, (code) => exits.push(code));
    target.emit('SIGHUP');
    const calls: string[] = [];
    const handlers = installStopHandlers({ interrupt: (s) => calls.push(`interrupt ${s}`), exitNow: (s, code) => calls.push(`exit ${s} ${code}`), fault: () => calls.push('fault') }, target);
    expect(handlers.signal).to.equal('SIGHUP');
    expect(calls).to.deep.equal(['interrupt SIGHUP']);
    target.emit('SIGTERM');
    expect(calls).to.deep.equal(['interrupt SIGHUP', 'exit SIGTERM 129']);
    expect(exits).to.deep.equal([]);
    handlers.dispose();
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP']) expect(target.listenerCount(event), event).to.equal(0);
    expect(releaseStopSignals(() => calls.push('raised')), 'nothing left to release').to.equal(undefined);
  });

  it('a second signal during start-up exits at once; released, a held signal is raised again', () => {
    const target = new EventEmitter();
    const exits: number[] = [];
    holdStopSignals(target, (code) => exits.push(code));
    target.emit('SIGINT');
    target.emit('SIGTERM');
    expect(exits).to.deep.equal([130]);
    const raised: StopSignal[] = [];
    expect(releaseStopSignals((s) => raised.push(s))).to.equal('SIGINT');
    expect(raised).to.deep.equal(['SIGINT']);
    for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP']) expect(target.listenerCount(event), event).to.equal(0);
    holdStopSignals(target, (code) => exits.push(code));
    expect(releaseStopSignals((s) => raised.push(s)), 'no signal held').to.equal(undefined);
    expect(raised).to.deep.equal(['SIGINT']);
  });

  it('exit codes follow the shell convention 128 + signal number', () => {
    const codes = (['SIGHUP', 'SIGINT', 'SIGTERM'] as StopSignal[]).map(signalExitCode);
    expect(codes).to.deep.equal([129, 130, 143]);
  });
});

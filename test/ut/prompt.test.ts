import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { FakeClock } from '../../harness/core/clock.ts';
import { countdownText, createPromptUpperTester, interpretAnswer } from '../../harness/ut/prompt.ts';

const GROUP = 'sip:grp-7f3a@conf.example.net';

function terminal(timeoutMs: number, options: { tty?: boolean; clock?: FakeClock; tickMs?: number } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  if (options.tty) Object.assign(output, { isTTY: true });
  let written = '';
  output.on('data', (c: Buffer) => {
    written += c.toString('utf8');
  });
  const ut = createPromptUpperTester({ input, output, timeoutMs, ...(options.clock ? { clock: options.clock } : {}), ...(options.tickMs ? { tickMs: options.tickMs } : {}) });
  return { input, ut, written: () => written };
}

/** Lets stream events and promise continuations run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ut: prompt mode (semi-manual)', () => {
  it('supports everything but state; state is UT_UNSUPPORTED', async () => {
    const { ut } = terminal(1000);
    expect([...ut.supports].sort()).to.deep.equal(['goOffline', 'goOnline', 'markDisplayed', 'queueMessage']);
    const r = await ut.state();
    expect(r.ok === false && r.code).to.equal('UT_UNSUPPORTED');
  });

  it('prints the instruction and Enter confirms it', async () => {
    const clock = new FakeClock();
    const t = terminal(30_000, { clock });
    const pending = t.ut.queueMessage(GROUP, 'hello deferred');
    await settle();
    expect(t.written()).to.contain(`compose a message in group ${GROUP} with text "hello deferred"`);
    expect(t.written()).to.contain("then press Enter; type 'n' if you cannot. You have 30 s.");
    t.input.write('\n');
    expect(await pending).to.deep.equal({ ok: true, value: undefined });
    expect(clock.pendingCount, 'no timer left behind').to.equal(0);
  });

  it("'y' confirms, also with CRLF line ends", async () => {
    const t = terminal(30_000, { clock: new FakeClock() });
    const pending = t.ut.goOffline();
    await settle();
    t.input.write('Y\r\n');
    expect((await pending).ok).to.equal(true);
  });

  it("'n' declines with UT_DECLINED naming the instruction", async () => {
    const t = terminal(30_000, { clock: new FakeClock() });
    const pending = t.ut.markDisplayed('Msg-7c2f9a');
    await settle();
    t.input.write('n\n');
    const r = await pending;
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.code).to.equal('UT_DECLINED');
      expect(r.message).to.contain('Msg-7c2f9a');
    }
  });

  it('anything else is asked again; an answer split across chunks still counts', async () => {
    const t = terminal(30_000, { clock: new FakeClock() });
    const pending = t.ut.goOnline();
    await settle();
    t.input.write('maybe\n');
    await settle();
    expect(t.written()).to.contain("please press Enter when done, or type 'n' if you cannot");
    t.input.write('n');
    t.input.write('o\n');
    const r = await pending;
    expect(r.ok === false && r.code).to.equal('UT_DECLINED');
  });

  it('times out with UT_TIMEOUT and shows a countdown (FakeClock)', async () => {
    const clock = new FakeClock();
    const t = terminal(12_000, { clock });
    const pending = t.ut.goOffline();
    await settle();
    for (let i = 0; i < 12; i++) clock.advance(1000);
    const r = await pending;
    expect(r.ok === false && r.code).to.equal('UT_TIMEOUT');
    expect(t.written()).to.contain('10 s left').and.contain('2 s left').and.contain('no answer within 12 s');
    expect(clock.pendingCount).to.equal(0);
  });

  it('times out for real with a tiny timeout', async () => {
    const t = terminal(30, { tickMs: 10 });
    const r = await t.ut.queueMessage(GROUP, 'x');
    expect(r.ok === false && r.code).to.equal('UT_TIMEOUT');
  });

  it('on a terminal the countdown rewrites one line', async () => {
    const clock = new FakeClock();
    const t = terminal(5000, { clock, tty: true });
    const pending = t.ut.goOnline();
    await settle();
    clock.advance(1000);
    clock.advance(1000);
    expect(t.written()).to.contain('\r    4 s left').and.contain('\r    3 s left');
    t.input.write('\n');
    expect((await pending).ok).to.equal(true);
  });

  it('one instruction at a time: one Enter answers only the first', async () => {
    const clock = new FakeClock();
    const t = terminal(30_000, { clock });
    const first = t.ut.goOffline();
    const second = t.ut.goOnline();
    await settle();
    expect(t.written()).to.contain('offline').and.not.contain('back online');
    t.input.write('\n');
    expect((await first).ok).to.equal(true);
    await settle();
    expect(t.written()).to.contain('back online');
    t.input.write('n\n');
    const r = await second;
    expect(r.ok === false && r.code).to.equal('UT_DECLINED');
  });

  it('what was typed before an instruction does not answer it', async () => {
    const clock = new FakeClock();
    const t = terminal(30_000, { clock });
    t.input.write('\n');
    await settle();
    const pending = t.ut.goOffline();
    let done = false;
    void pending.then(() => {
      done = true;
    });
    await settle();
    expect(done).to.equal(false);
    t.input.write('y\n');
    expect((await pending).ok).to.equal(true);
  });

  it('interpretAnswer and countdownText', () => {
    expect(['', ' ', 'y', 'YES'].map(interpretAnswer)).to.deep.equal(['done', 'done', 'done', 'done']);
    expect(['n', 'No '].map(interpretAnswer)).to.deep.equal(['declined', 'declined']);
    expect(interpretAnswer('ok?')).to.equal('unclear');
    expect(countdownText(20_000, false)).to.equal('  20 s left\n');
    expect(countdownText(14_500, false)).to.equal(null);
    expect(countdownText(2_100, false)).to.equal('  3 s left\n');
    expect(countdownText(999, true)).to.equal('\r    1 s left (Enter = done, n = cannot) ');
  });
});

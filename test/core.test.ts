import { expect } from 'chai';
import { FakeClock } from '../harness/core/clock.ts';
import { diagnostic, formatDiagnostic } from '../harness/core/diagnostic.ts';
import { newBranch, randomToken } from '../harness/core/ids.ts';

describe('core', () => {
  it('FakeClock fires timers in time order, including timers set while firing', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push('b'));
    clock.setTimer(10, () => {
      fired.push('a');
      clock.setTimer(5, () => fired.push('a2'));
    });
    const cancelled = clock.setTimer(12, () => fired.push('never'));
    cancelled.cancel();
    clock.advance(14);
    expect(fired).to.deep.equal(['a']);
    clock.advance(6);
    expect(fired).to.deep.equal(['a', 'a2', 'b']);
    expect(clock.now()).to.equal(20);
  });

  it('formats a diagnostic with its clause and escaped bytes', () => {
    const d = diagnostic('SIP_BARE_LF', 'line ends in LF', 'RFC 3261 §7', { offset: 4, bytes: 'ab\n' });
    expect(formatDiagnostic(d)).to.equal('SIP_BARE_LF (RFC 3261 §7) at byte 4: line ends in LF [bytes: "ab\\\\n"]');
  });

  it('generates RFC 3261 branches and 64-bit tokens', () => {
    expect(newBranch()).to.match(/^z9hG4bK[0-9a-f]{16}$/);
    expect(randomToken()).to.match(/^[0-9a-f]{16}$/);
  });
});

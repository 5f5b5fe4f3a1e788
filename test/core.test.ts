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

  it('pooled tokens have the asked length and never repeat, across pool refills too', () => {
    const seen = new Set<string>();
    // 3,000 × 8 bytes crosses the 4 KiB pool several times; odd sizes straddle a refill.
    for (let i = 0; i < 3000; i++) {
      const bytes = i % 7 === 0 ? 13 : 8;
      const token = randomToken(bytes);
      expect(token).to.have.length(2 * bytes);
      expect(seen.has(token), `repeat after ${i}`).to.equal(false);
      seen.add(token);
    }
    expect(randomToken(5000)).to.match(/^[0-9a-f]{10000}$/);
  });
});

import { expect } from 'chai';
import { applyConfigFile, parseConfigText } from '../../harness/cli/config-file.ts';
import { EXAMPLE_CONFIG } from '../../harness/cli/init-command.ts';
import { diagnostic, diagnosticTextLimit, formatDiagnostic, setDiagnosticTextLimit } from '../../harness/core/diagnostic.ts';
import { DEFAULT_LIMITS } from '../../harness/core/limits.ts';
import { builtinConfig, externalConfig, SCALED_FRAMING_TIMEOUT_MS } from '../../harness/testcase/config.ts';

describe('limits', () => {
  it('every run configuration carries the default limits (built-in runs scale the framing timeout, as they scale T1)', () => {
    expect(builtinConfig().limits).to.deep.equal({ ...DEFAULT_LIMITS, framingTimeoutMs: SCALED_FRAMING_TIMEOUT_MS });
    expect(externalConfig().limits).to.deep.equal(DEFAULT_LIMITS);
  });

  it('the config file overrides single limits and keeps the other defaults', () => {
    const loaded = parseConfigText('limits:\n  msrpMessageBytes: 1000\n  xmlDepth: 8\n', 'test');
    expect(loaded.ok).to.equal(true);
    if (!loaded.ok) return;
    const config = applyConfigFile(builtinConfig(), loaded.value);
    expect(config.limits).to.deep.equal({ ...builtinConfig().limits, msrpMessageBytes: 1000, xmlDepth: 8 });
  });

  it('refuses an unknown or non-positive limit, naming the field', () => {
    const unknown = parseConfigText('limits:\n  sipBytes: 10\n', 'test');
    expect(unknown.ok).to.equal(false);
    if (!unknown.ok) expect(unknown.message).to.contain('limits').and.to.contain('sipBytes');
    const zero = parseConfigText('limits:\n  xmlDepth: 0\n', 'test');
    expect(zero.ok).to.equal(false);
    if (!zero.ok) expect(zero.message).to.contain('limits.xmlDepth');
  });

  it('the init example lists every limit with its default', () => {
    const loaded = parseConfigText(EXAMPLE_CONFIG, 'example');
    expect(loaded.ok).to.equal(true);
    if (loaded.ok) expect(loaded.value.limits).to.deep.equal(DEFAULT_LIMITS);
  });
});

describe('diagnostic text limit', () => {
  const saved = diagnosticTextLimit();
  afterEach(() => setDiagnosticTextLimit(saved));

  it('cuts a long message and long evidence, saying how long they were', () => {
    setDiagnosticTextLimit(100);
    const stack = JSON.stringify(Array.from({ length: 100_000 }, () => 'a'));
    const d = diagnostic('XML_MALFORMED', `Invalid '${stack}' found.`, 'XML 1.0 §2.1', { bytes: Buffer.alloc(800_000, 0x3c) });
    expect(d.message.length).to.be.below(200);
    expect(d.message).to.match(/more characters\)$/);
    expect(d.bytes.length).to.equal(100);
    expect(d.bytesLength).to.equal(800_000);
    expect(formatDiagnostic(d)).to.contain('(800000 bytes)');
    const fromString = diagnostic('X', 'm', 'c', { bytes: 'x'.repeat(10_000_000) });
    expect(fromString.bytes.length).to.equal(100);
    expect(fromString.bytesLength).to.equal(10_000_000);
  });

  it('leaves short diagnostics exactly as given', () => {
    const d = diagnostic('SIP_BARE_LF', 'line ends in LF', 'RFC 3261 §7', { bytes: 'ab\n', offset: 4 });
    expect(d).to.deep.equal({ code: 'SIP_BARE_LF', message: 'line ends in LF', clause: 'RFC 3261 §7', severity: 'error', bytes: Buffer.from('ab\n'), offset: 4 });
  });
});

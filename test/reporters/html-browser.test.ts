/**
 * The HTML report in a real browser (Debian chromium through playwright-core), the way an interop
 * engineer uses it: open a mutant run's index.html, filter to failures, click into the failing
 * case, follow the verdict to the message that decided it and read its bytes. No console errors.
 * The screenshot is saved as reports/html-report.png.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO, runCli } from '../cli/cli-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const FAILING = 'inv-dir-media-sendonly';

describe('HTML report in chromium', function () {
  this.timeout(60_000);
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cpm-html-'));

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error('chromium not installed; .ci/run installs the Debian chromium package');
      this.skip(); // no browser on this machine: `apt-get install chromium` to run this test
    }
    const run = await runCli(['run', '--client', 'builtin:accept-sendonly', '--grep', '^inv-dir-', '--report-dir', dir, '--junit', join(dir, 'junit.xml'), '--pcap', join(dir, 'pcap')], dir);
    expect(run.code, run.stderr).to.equal(1);
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'cpm-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      offline: true,
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
  });

  after(async () => {
    await context?.close();
  });

  it('says the run failed and counts the failures first', async () => {
    expect(await page.textContent('#run-verdict')).to.match(/Run failed: 3 fail/);
    expect(await page.textContent('[data-filter-outcome="fail"] b')).to.equal('3');
    const firstRows = await page.$$eval('[data-case-row]', (rows) => rows.slice(0, 3).map((r) => r.getAttribute('data-outcome')));
    expect(firstRows).to.deep.equal(['fail', 'fail', 'fail']);
  });

  it('filters to failures, opens the failing case and shows the deciding message with its bytes', async () => {
    await page.click('[data-filter-outcome="fail"]');
    const visible = await page.$$eval('[data-case-row]', (rows) => rows.filter((r) => !r.hasAttribute('hidden')).map((r) => r.getAttribute('data-outcome')));
    expect(visible).to.deep.equal(['fail', 'fail', 'fail']);
    expect(await page.textContent('#shown-count')).to.include('3 of');

    await page.click(`table.matrix a[href="#case-${FAILING}"]`);
    const section = page.locator(`#case-${FAILING}`);
    expect(await section.evaluate((d) => d.hasAttribute('open'))).to.equal(true);
    const verdict = section.locator('ul.verdicts li.o-fail').first();
    expect(await verdict.textContent()).to.include('7.3.12-1a-ii').and.include('got 200 OK');

    // The verdict links the message that decided it: the client's 200 OK to a sendonly offer.
    const link = verdict.locator('a.ev-link', { hasText: '200 OK' });
    const href = await link.getAttribute('href');
    await link.click();
    const row = page.locator(href!);
    expect(await row.getAttribute('class')).to.match(/\bdecisive\b/).and.match(/\bo-fail\b/);
    expect(await row.evaluate((d) => d.hasAttribute('open'))).to.equal(true);
    const raw = row.locator('pre.raw');
    expect(await raw.isVisible()).to.equal(true);
    expect(await raw.textContent()).to.match(/^SIP\/2\.0 200 OK\\r\\n/).and.include('CSeq: 1 INVITE');
    const tint = String(await row.locator('summary').evaluate('(s) => getComputedStyle(s).backgroundColor'));
    expect(tint).to.not.equal('rgba(0, 0, 0, 0)', 'the deciding message is highlighted');
    expect(await row.locator('.flags').textContent()).to.include('7.3.12-1a-ii');

    // For a person: the filter bar, the case's header and verdicts, down to the end of the deciding
    // message's bytes, in one window-sized picture.
    const [caseBox, rawBox] = [await section.boundingBox(), await raw.boundingBox()];
    await page.setViewportSize({ width: 1280, height: Math.min(1400, Math.round(rawBox!.y + rawBox!.height - caseBox!.y + 90)) });
    await section.evaluate((d) => d.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(REPO, 'reports', 'html-report.png'), animations: 'disabled' });
  });

  it('links the case capture and produced no console error, warning or network request', async () => {
    expect(await page.getAttribute(`#case-${FAILING} .files a`, 'href')).to.equal(`pcap/${FAILING}.pcap`);
    expect(problems).to.deep.equal([]);
  });
});

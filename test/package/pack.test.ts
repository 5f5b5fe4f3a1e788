/**
 * The package as a user gets it: `npm pack`, the tarball installed into an empty directory with
 * --omit=dev (no TypeScript, no tsx), then `npx cpm-harness run` and `list` there. Proves that
 * the bin runs compiled JavaScript and that everything read at run time is in `files`.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../cli/cli-process.ts';

const run = promisify(execFile);
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

async function npx(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['--no-install', 'cpm-harness', ...args], { cwd, maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
  }
}

describe('package: packed, installed without dev dependencies, run from an empty directory', function () {
  this.timeout(300_000);
  const packDir = mkdtempSync(join(tmpdir(), 'cpm-pack-'));
  const userDir = mkdtempSync(join(tmpdir(), 'cpm-user-'));

  before(async () => {
    await run('npm', ['pack', '--pack-destination', packDir, ...NPM_QUIET], { cwd: REPO, maxBuffer: 32 * 1024 * 1024 });
    const [tarball] = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(tarball, 'npm pack wrote a tarball').to.be.a('string');
    await run('npm', ['install', join(packDir, tarball!), '--omit=dev', '--prefer-offline', ...NPM_QUIET], { cwd: userDir, maxBuffer: 32 * 1024 * 1024 });
  });

  it('installs no TypeScript toolchain and ships the compiled harness', () => {
    const modules = join(userDir, 'node_modules');
    expect(existsSync(join(modules, 'cpm-harness', 'dist', 'harness', 'cli', 'main.js'))).to.equal(true);
    expect(existsSync(join(modules, 'cpm-harness', 'docs', 'results.schema.json'))).to.equal(true);
    for (const dev of ['typescript', 'tsx', 'mocha', 'playwright-core']) expect(existsSync(join(modules, dev)), dev).to.equal(false);
    const pkg = JSON.parse(readFileSync(join(modules, 'cpm-harness', 'package.json'), 'utf8')) as { private?: boolean; files?: string[]; engines?: object; license?: string; repository?: object };
    expect(pkg.private).to.equal(undefined);
    expect(pkg.license).to.equal('MIT');
    expect(pkg.engines).to.deep.equal({ node: '>=20' });
  });

  it('npx cpm-harness run --grep inv-minimal writes every report', async () => {
    const r = await npx(userDir, ['run', '--grep', 'inv-minimal']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('PASS');
    const xml = readFileSync(join(userDir, 'reports', 'junit.xml'), 'utf8');
    expect(xml.match(/<testcase /g)).to.have.length(1);
    for (const f of ['index.html', 'report.md', 'results.json']) expect(existsSync(join(userDir, 'reports', f)), f).to.equal(true);
  });

  it('npx cpm-harness list and --version answer', async () => {
    const list = await npx(userDir, ['list']);
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout).to.include('inv-minimal').and.match(/\d+ test cases/);
    const version = await npx(userDir, ['--version']);
    expect(version.stdout.trim()).to.equal((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('merge validates against the shipped schema', async () => {
    const r = await npx(userDir, ['merge', join('reports', 'results.json'), '--report-dir', 'merged']);
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(join(userDir, 'merged', 'index.html'))).to.equal(true);
  });
});

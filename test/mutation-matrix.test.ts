/**
 * The harness proves itself: the whole catalogue against the reference client and against every
 * mutant, compared cell by cell with fixtures/mutation-matrix.json, and every failing verdict of a
 * mutant must cite a requirement that mutant is declared to break.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { startParticipatingFunction } from '../harness/cli/run-command.ts';
import { discardTrace } from '../harness/core/trace.ts';
import { createReferenceClientFactory } from '../harness/reference-client/factory.ts';
import { MUTANTS } from '../harness/reference-client/mutants.ts';
import { brokenRequirements, runMatrix, type MatrixRow } from '../harness/runner/matrix.ts';
import { runSuite } from '../harness/runner/runner.ts';
import { builtinConfig } from '../harness/testcase/config.ts';
import { headline } from '../harness/reporters/case-text.ts';
import type { Outcome } from '../harness/verdict/verdict.ts';
import { CATALOGUE } from '../scenarios/index.ts';

interface ExpectedMatrix {
  baseline: Record<string, Outcome>;
  mutants: Record<string, Record<string, Outcome>>;
}

const expected = JSON.parse(readFileSync(new URL('../fixtures/mutation-matrix.json', import.meta.url), 'utf8')) as ExpectedMatrix;

function explain(row: MatrixRow, id: string): string {
  const r = row.results.find((x) => x.id === id);
  return r ? `${r.outcome}: ${headline(r)}` : 'missing';
}

describe('mutation matrix (the harness proves itself)', function () {
  this.timeout(600_000);
  let rows: MatrixRow[];

  before(async () => {
    rows = await runMatrix({
      clients: [
        { name: 'builtin', factory: createReferenceClientFactory({ trace: discardTrace }) },
        ...MUTANTS.map((m) => ({ name: m.name, factory: createReferenceClientFactory({ mutant: m.name, trace: discardTrace }) })),
      ],
      cases: CATALOGUE,
      config: builtinConfig('tcp'),
      startPf: startParticipatingFunction,
    });
  });

  it('the matrix file names every mutant and every test case', () => {
    expect(Object.keys(expected.mutants).sort()).to.deep.equal(MUTANTS.map((m) => m.name).sort());
    expect(Object.keys(expected.baseline).sort()).to.deep.equal(CATALOGUE.map((c) => c.id).sort());
  });

  it('the reference client passes the whole catalogue: no fail, error, warning or skip', () => {
    const baseline = rows[0]!;
    for (const r of baseline.results) {
      expect(['pass', 'informative'], `${r.id}: ${explain(baseline, r.id)}`).to.include(r.outcome);
      expect(r.outcome, r.id).to.equal(expected.baseline[r.id]);
    }
  });

  for (const mutant of MUTANTS) {
    it(`builtin:${mutant.name} is caught, cell by cell, citing only ${mutant.breaks.join(', ')}`, () => {
      const row = rows.find((r) => r.client === mutant.name)!;
      const cells = expected.mutants[mutant.name] ?? {};
      expect(Object.keys(cells), 'a mutant no case catches is not a test').to.not.be.empty;
      for (const result of row.results) {
        const want = cells[result.id] ?? expected.baseline[result.id];
        expect(result.outcome, `${mutant.name} × ${result.id}: ${explain(row, result.id)}`).to.equal(want);
        if (result.id in cells) {
          const cited = brokenRequirements(result);
          expect(cited, `${mutant.name} × ${result.id}`).to.not.be.empty;
          for (const id of cited) expect(mutant.breaks, `${mutant.name} × ${result.id} cites ${id}`).to.include(id);
        }
      }
    });
  }
});

describe('catalogue over SIP/UDP against the reference client', function () {
  this.timeout(120_000);
  it('passes the same as over TCP', async () => {
    const results = await runSuite({
      cases: CATALOGUE,
      client: createReferenceClientFactory({ trace: discardTrace }),
      config: builtinConfig('udp'),
      startPf: startParticipatingFunction,
      jobs: 4,
    });
    for (const r of results) expect(r.outcome, `${r.id}: ${headline(r)}`).to.equal(expected.baseline[r.id]);
  });
});

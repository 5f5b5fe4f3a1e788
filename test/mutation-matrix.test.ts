/**
 * The harness proves itself: the whole catalogue against the reference client and against every
 * mutant, compared cell by cell with fixtures/mutation-matrix.json — by case and by rule. The
 * reference client violates no rule; every mutant trips exactly the rules it declares; every rule
 * of the table that can be violated is tripped by at least one mutant.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { startParticipatingFunction } from '../harness/cli/run-command.ts';
import { discardTrace } from '../harness/core/trace.ts';
import { createReferenceClientFactory } from '../harness/reference-client/factory.ts';
import { MUTANTS } from '../harness/reference-client/mutants.ts';
import { deviations, runMatrix, trippedRules, type MatrixFixture, type MatrixRow } from '../harness/runner/matrix.ts';
import { declaredRules, rulesWithoutMutant } from '../harness/runner/mutant-rules.ts';
import { runSuite } from '../harness/runner/runner.ts';
import { builtinConfig } from '../harness/testcase/config.ts';
import { headline } from '../harness/reporters/case-text.ts';
import { violableRules } from '../harness/verdict/rules.ts';
import { CATALOGUE } from '../scenarios/index.ts';

const expected = JSON.parse(readFileSync(new URL('../fixtures/mutation-matrix.json', import.meta.url), 'utf8')) as MatrixFixture;

function explain(row: MatrixRow, id: string): string {
  const r = row.results.find((x) => x.id === id);
  return r ? `${r.outcome}: ${headline(r)}` : 'missing';
}

describe('mutation matrix (the harness proves itself)', function () {
  this.timeout(900_000);

  it('every rule that can be violated is declared by at least one mutant', () => {
    expect(rulesWithoutMutant(), 'rules no mutant trips').to.deep.equal([]);
  });

  it('the matrix file names every mutant and every test case, and each mutant\'s rules are the ones it declares', () => {
    expect(Object.keys(expected.mutants).sort()).to.deep.equal(MUTANTS.map((m) => m.name).sort());
    expect(Object.keys(expected.baseline).sort()).to.deep.equal(CATALOGUE.map((c) => c.id).sort());
    for (const m of MUTANTS) expect(Object.keys(expected.mutants[m.name]!.rules).sort(), m.name).to.deep.equal(declaredRules(m).sort());
  });

  describe('run', function () {
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

    it('the reference client passes the whole catalogue: no rule violated, no fail, error, warning, inconclusive or skip', () => {
      const baseline = rows[0]!;
      for (const r of baseline.results) {
        expect(['pass', 'informative'], `${r.id}: ${explain(baseline, r.id)}`).to.include(r.outcome);
        expect(r.outcome, r.id).to.equal(expected.baseline[r.id]);
      }
      expect(trippedRules(baseline.results)).to.deep.equal({});
    });

    it('every rule that can be violated is tripped by some mutant in the run', () => {
      const tripped = new Set(rows.slice(1).flatMap((row) => Object.keys(trippedRules(row.results))));
      expect(violableRules().filter((r) => !tripped.has(r))).to.deep.equal([]);
    });

    it('the false pass of issue 8 is gone: a delivery IMDN with <failed/> fails 7.3.12-1b-ii wherever one is judged', () => {
      const row = rows.find((r) => r.client === 'imdn-status-failed')!;
      for (const id of ['imdn-delivery', 'imdn-once-chunked', 'deferred-nothing-to-send']) {
        const result = row.results.find((r) => r.id === id)!;
        expect(result.outcome, id).to.equal('fail');
        expect(result.verdicts.some((v) => v.requirement === '7.3.12-1b-ii' && v.rule === 'imdn.status' && v.outcome === 'fail'), id).to.equal(true);
      }
    });

    for (const mutant of MUTANTS) {
      it(`builtin:${mutant.name} trips exactly ${mutant.breaks.join(', ')}, cell by cell`, () => {
        const row = rows.find((r) => r.client === mutant.name)!;
        const want = expected.mutants[mutant.name]!;
        expect(Object.keys(want.rules), 'a mutant that trips no rule is not a test').to.not.be.empty;
        expect(trippedRules(row.results), `${mutant.name}: rules tripped`).to.deep.equal(want.rules);
        const changed = deviations(row, rows[0]!);
        for (const result of row.results) {
          const cell = want.cases[result.id] ?? expected.baseline[result.id];
          expect(result.outcome, `${mutant.name} × ${result.id}: ${explain(row, result.id)}`).to.equal(cell);
        }
        expect(changed).to.deep.equal(want.cases);
      });
    }
  });
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

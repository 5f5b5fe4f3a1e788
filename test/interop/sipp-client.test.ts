/**
 * SIPp-scripted CPM clients (test/sipp/cpm-client-*.xml) stand in as an external client at a
 * known contact (`--client sip:…`, no REGISTER) for the SIP-only cases, with pics.msrp = false.
 * The harness's verdicts must match what each script is written to do: the good one passes what
 * it serves (and honestly fails the refresh it never sends); the misbehaving ones fail exactly
 * the requirement they break. MSRP cases are skipped with the PICS reason, never passed.
 */
import { expect } from 'chai';
import { casesById, expectResults, GOOD_EXPECTATIONS, runAgainstSippClient, sippClientConfig, type Expected } from '../helpers/sipp-client.ts';
import { sippSkipReason } from '../helpers/sipp.ts';

describe('interop: SIPp-scripted external CPM client (SIP only)', function () {
  this.timeout(60_000);
  let skip: string | undefined;
  before(function () {
    skip = sippSkipReason();
    if (skip) this.skip();
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`cpm-client-good over ${transport.toUpperCase()}: verdicts match the script`, async () => {
      const run = await runAgainstSippClient('cpm-client-good.xml', casesById(Object.keys(GOOD_EXPECTATIONS)), sippClientConfig(transport));
      expectResults(run.results, GOOD_EXPECTATIONS);
      // Every case adopted the contact: the client never registered.
      for (const r of run.results) expect(r.trace.some((e) => e.kind === 'message' && e.summary.startsWith('REGISTER'))).to.equal(false);
      // SIPp's own exit code is not a verdict: back-to-back NOTIFYs over TCP can hit a call while it
      // is still sending its previous 200 ("unexpected message while sending"); the harness judges.
      expect(run.sipp.killed, run.sipp.errors).to.equal(false);
    });
  }

  it('cpm-client-accept-all: 200 to every direction fails 7.3.12-1a-ii on the non-sendrecv offers only', async () => {
    const expected: Record<string, Expected> = {
      'inv-dir-media-sendrecv': { outcome: 'pass', verdicts: { '7.3.12-1a-i': 'pass' } },
      'inv-dir-media-recvonly': { outcome: 'fail', verdicts: { '7.3.12-1a-ii': 'fail' } },
      'inv-dir-media-inactive': { outcome: 'fail', verdicts: { '7.3.12-1a-ii': 'fail' } },
      'inv-dir-session-sendonly': { outcome: 'fail', verdicts: { '7.3.12-1a-ii': 'fail' } },
      'inv-dir-session-sendrecv-media-sendonly': { outcome: 'fail', verdicts: { '7.3.12-1a-ii': 'fail' } },
      'sub-after-ack': { outcome: 'pass', verdicts: { '7.3.12-1b-sub': 'pass' } },
    };
    const run = await runAgainstSippClient('cpm-client-accept-all.xml', casesById(Object.keys(expected)), sippClientConfig('udp'));
    expectResults(run.results, expected);
    for (const r of run.results.filter((x) => x.outcome === 'fail')) {
      expect(r.verdicts.find((v) => v.requirement === '7.3.12-1a-ii')?.reason).to.match(/expected exactly 488.*got 200/);
    }
  });

  it('cpm-client-no-subscribe: fails 7.3.12-1b-sub; a case that needs the subscription is inconclusive; INVITE handling still passes', async () => {
    const expected: Record<string, Expected> = {
      'inv-dir-media-sendrecv': { outcome: 'pass', verdicts: { '7.3.12-1a-i': 'pass' } },
      'inv-dir-media-recvonly': { outcome: 'pass', verdicts: { '7.3.12-1a-ii': 'pass' } },
      'sub-after-ack': { outcome: 'fail', verdicts: { '7.3.12-1b-sub': 'fail' } },
      'sub-404-inactive': { outcome: 'inconclusive', verdicts: { '7.3.12-1b-i-b': 'inconclusive' } },
    };
    const run = await runAgainstSippClient('cpm-client-no-subscribe.xml', casesById(Object.keys(expected)), sippClientConfig('tcp'));
    expectResults(run.results, expected);
    const inconclusive = run.results.find((r) => r.id === 'sub-404-inactive')!.verdicts[0]!;
    expect(inconclusive.reason).to.match(/^not judged: prerequisite failed: the client subscribes to the conference event package/);
  });
});

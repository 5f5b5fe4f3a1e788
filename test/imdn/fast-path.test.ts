/**
 * The IMDN fast path (parseStandardImdn) must give exactly what the full parser (parseImdnTree)
 * gives, or step aside: asserted on every IMDN fixture and on a few thousand generated documents
 * around the standard shape, as bytes and as text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parseCpim } from '../../harness/cpim/cpim.ts';
import { IMDN_STATUSES, parseImdnTree, parseImdnXml, parseStandardImdn, type ImdnKind } from '../../harness/imdn/imdn.ts';

const fixtures = new URL('../../fixtures/', import.meta.url);

function fixtureDocuments(): [string, Buffer][] {
  const docs: [string, Buffer][] = [];
  for (const dir of ['imdn', 'imdn/malformed']) {
    for (const file of readdirSync(new URL(`${dir}/`, fixtures)).filter((f) => f.endsWith('.xml'))) docs.push([`${dir}/${file}`, readFileSync(new URL(`${dir}/${file}`, fixtures))]);
  }
  for (const file of readdirSync(new URL('cpim/', fixtures)).filter((f) => f.startsWith('imdn-'))) {
    docs.push([`cpim/${file} content`, parseCpim(readFileSync(new URL(`cpim/${file}`, fixtures))).content]);
  }
  return docs;
}

/** Deterministic pseudo-random choices (mulberry32), so a failure names a reproducible document. */
function chooser(seed: number): <T>(options: readonly T[]) => T {
  let state = seed >>> 0;
  return (options) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return options[Math.floor(r * options.length)]!;
  };
}

const KINDS: ImdnKind[] = ['delivery', 'display', 'processing'];
const ALL_STATUSES = [...new Set(Object.values(IMDN_STATUSES).flat()), 'bogus', 'Delivered'];

/** A document near the standard shape: each choice keeps it standard 9 times in 10, else breaks one rule. */
function generated(seed: number): string {
  const pick = chooser(seed);
  const or = <T>(standard: T, variants: readonly T[]): T => (pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) === 0 ? pick(variants) : standard);
  const eol = pick(['\r\n', '\n', '', '\t']);
  const indent = pick(['  ', '', '\t']);
  const decl = or(pick(['<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0"?>', '']), [' <?xml version="1.0"?>', '<?xml version="1.0" standalone="yes"?>', '<?xml version="1.1"?>']);
  const root = or('<imdn xmlns="urn:ietf:params:xml:ns:imdn">', [
    "<imdn xmlns='urn:ietf:params:xml:ns:imdn'>",
    '<imdn xmlns="urn:ietf:params:xml:ns:imdn" xmlns:x="urn:x">',
    '<imdn xmlns="urn:example:other">',
    '<i:imdn xmlns:i="urn:ietf:params:xml:ns:imdn">',
  ]);
  const close = root.startsWith('<i:') ? '</i:imdn>' : '</imdn>';
  const messageId = or(pick(['Msg7hQ2xLp0aZ', '0123', 'm-1.2_3~!']), ['a b', '', 'a&amp;b', 'Msg\u00e9', 'x>y', ' Msg1 ']);
  const datetime = or(pick(['2024-05-06T09:15:03.000Z', '2024-05-06T11:15:03+02:00', '2024-05-06t09:15:03z']), ['2024-13-06T09:15:03Z', 'yesterday', ' 2024-05-06T09:15:03Z', '2023-02-29T00:00:00Z']);
  const pair = or(pick(['both', 'none']), ['recipient-only', 'original-only', 'swapped', 'subject']);
  const kind = pick(KINDS);
  const closeKind = or(kind, KINDS);
  const status = or(pick(IMDN_STATUSES[kind]), ALL_STATUSES);
  const statusElement = or(`<${status}/>`, [`<${status} />`, `<${status}></${status}>`, '', `<${status}/><${status}/>`]);
  const extra = or('', ['<x:ext xmlns:x="urn:x"/>', '<!-- note -->', '<message-id>again</message-id>']);
  const trailer = or(pick(['', eol]), ['junk', '<imdn/>']);
  const lines = [decl, root, `${indent}<message-id>${messageId}</message-id>`, `${indent}<datetime>${datetime}</datetime>`];
  const recipient = `${indent}<recipient-uri>sip:+15551230002@ims.example.net</recipient-uri>`;
  const original = `${indent}<original-recipient-uri>sip:grp.7c1e9a@cpm-pf.example.net</original-recipient-uri>`;
  if (pair === 'both' || pair === 'subject') lines.push(recipient, original);
  if (pair === 'subject') lines.push(`${indent}<subject>Hi</subject>`);
  if (pair === 'recipient-only') lines.push(recipient);
  if (pair === 'original-only') lines.push(original);
  if (pair === 'swapped') lines.push(original, recipient);
  if (extra !== '') lines.push(indent + extra);
  lines.push(`${indent}<${kind}-notification>`, `${indent}${indent}<status>`, `${indent}${indent}${indent}${statusElement}`, `${indent}${indent}</status>`, `${indent}</${closeKind}-notification>`, close + trailer);
  return lines.filter((l) => l !== '').join(eol);
}

describe('IMDN fast path', () => {
  it('agrees with the full parser on every IMDN fixture', () => {
    for (const [name, doc] of fixtureDocuments()) {
      expect(parseImdnXml(doc), name).to.deep.equal(parseImdnTree(doc));
      expect(parseImdnXml(doc.toString('utf8')), `${name} as text`).to.deep.equal(parseImdnTree(doc.toString('utf8')));
    }
  });

  it('takes the standard golden samples itself', () => {
    for (const file of ['imdn/delivery.xml', 'imdn/display.xml']) {
      const doc = readFileSync(new URL(file, fixtures));
      expect(parseStandardImdn(doc), file).to.deep.equal(parseImdnTree(doc));
    }
  });

  it('agrees with the full parser on 3,000 generated documents, and takes the standard ones', () => {
    let taken = 0;
    let standardClean = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const text = generated(seed);
      const bytes = Buffer.from(text, 'utf8');
      const full = parseImdnTree(bytes);
      const fast = parseStandardImdn(bytes);
      if (fast !== undefined) {
        taken++;
        expect(fast, `seed ${seed}:\n${text}`).to.deep.equal(full);
        expect(parseStandardImdn(text), `seed ${seed} as text`).to.deep.equal(parseImdnTree(text));
      }
      expect(parseImdnXml(bytes), `seed ${seed}:\n${text}`).to.deep.equal(full);
      if (full.diagnostics.length === 0) standardClean++;
    }
    // The generator keeps most documents standard: the fast path must carry a real share of them.
    expect(taken, 'documents the fast path took').to.be.greaterThan(300);
    expect(standardClean, 'clean documents').to.be.at.least(taken);
  });
});

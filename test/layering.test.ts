/**
 * The layering of harness/ and scenarios/, enforced on the sources: every relative import
 * (static, type-only, re-export or dynamic) of every .ts file goes to its own unit or to a unit of
 * a lower layer, and the file graph has no cycle. There is no exceptions list: a new folder must
 * be placed in LAYERS (and in README's layer paragraph) before anything can import it.
 *
 * A small import-graph test rather than dependency-cruiser: dependency-cruiser ≥ 17 needs Node
 * ≥ 22 (the project supports Node 20), and it parses TypeScript through the TypeScript compiler
 * API, which TypeScript 7 (the project's compiler) no longer ships.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bottom to top. A unit imports its own files and units of lower layers only; units of one layer are independent. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['sip', 'msrp', 'xml'],
  ['sdp', 'cpim', 'conference'],
  // An IMDN travels inside CPIM and reuses its DateTime and header namespace; the MSRP INVITE
  // session combines SIP, SDP and MSRP.
  ['imdn', 'session'],
  ['pf', 'client', 'verdict'],
  ['reference-client', 'ut'],
  ['testcase'],
  ['scenarios/lib'],
  ['scenarios'],
  ['scenarios/index'],
  // The load mode drives the PF against a client, like the runner, without test cases.
  ['runner', 'load'],
  ['reporters'],
  ['cli'],
];

const LAYER_OF = new Map(LAYERS.flatMap((units, layer) => units.map((unit) => [unit, layer] as const)));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** `harness/sip/x.ts` → `sip`; `scenarios/lib/x.ts` → `scenarios/lib`; `scenarios/index.ts` → `scenarios/index`; other scenario files → `scenarios`. */
function unitOf(file: string): string {
  const parts = relative(root, file).split(sep);
  if (parts[0] === 'harness') return parts.length > 2 ? parts[1]! : 'harness';
  if (parts[0] === 'scenarios') {
    if (parts.length > 2) return `scenarios/${parts[1]}`;
    return parts[1] === 'index.ts' ? 'scenarios/index' : 'scenarios';
  }
  return parts[0]!;
}

/** Relative specifiers of every import/export-from and dynamic import; a non-literal dynamic import is returned as null. */
function importsOf(source: string): (string | null)[] {
  const found: (string | null)[] = [];
  for (const m of source.matchAll(/^[ \t]*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/^[ \t]*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*(['"]([^'"]+)['"])?/g)) found.push(m[2] ?? null);
  return found.filter((s) => s === null || s.startsWith('.'));
}

interface Edge {
  from: string;
  to: string;
}

const files = [...tsFiles(join(root, 'harness')), ...tsFiles(join(root, 'scenarios'))];
const edges: Edge[] = [];
const opaque: string[] = [];
for (const file of files) {
  for (const spec of importsOf(readFileSync(file, 'utf8'))) {
    if (spec === null) opaque.push(relative(root, file));
    else edges.push({ from: file, to: resolve(dirname(file), spec) });
  }
}

/** Folder-level graph: `pf -> sip, sdp, …` (the README and the closing note print it). */
export function unitGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = unitOf(from);
    const b = unitOf(to);
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  return graph;
}

describe('layering: imports only look down (harness/, scenarios/)', () => {
  it('reads a plausible number of imports (the scanner works)', () => {
    expect(files.length).to.be.greaterThan(100);
    expect(edges.length).to.be.greaterThan(5 * files.length / 2);
    expect(importsOf("import type { A } from './a.ts';\nexport { b } from '../b.ts';\nimport './c.ts';\nconst d = await import('./d.ts');")).to.deep.equal(['./a.ts', '../b.ts', './c.ts', './d.ts']);
  });

  it('every dynamic import names its module', () => {
    expect(opaque).to.deep.equal([]);
  });

  it('every folder has a place in LAYERS', () => {
    const unplaced = [...new Set(files.map(unitOf))].filter((u) => !LAYER_OF.has(u)).sort();
    expect(unplaced, 'add each to LAYERS and to README.md "Layout"').to.deep.equal([]);
  });

  it('every import goes to the same unit or a lower layer', () => {
    const violations = edges
      .filter(({ from, to }) => {
        const a = unitOf(from);
        const b = unitOf(to);
        return a !== b && !((LAYER_OF.get(b) ?? Infinity) < (LAYER_OF.get(a) ?? -Infinity));
      })
      .map(({ from, to }) => `${relative(root, from)} -> ${relative(root, to)} (${unitOf(from)} may not import ${unitOf(to)})`);
    expect(violations).to.deep.equal([]);
  });

  it('no import cycle between files (type-only imports included)', () => {
    const next = new Map<string, string[]>();
    for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
    // Tarjan's strongly connected components, iteratively: any component of two or more files is a cycle.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const cycles: string[][] = [];
    let counter = 0;
    for (const start of files) {
      if (index.has(start)) continue;
      const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
      index.set(start, counter);
      low.set(start, counter++);
      stack.push(start);
      onStack.add(start);
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        const targets = next.get(frame.node) ?? [];
        if (frame.i < targets.length) {
          const to = targets[frame.i++]!;
          if (!index.has(to)) {
            index.set(to, counter);
            low.set(to, counter++);
            stack.push(to);
            onStack.add(to);
            work.push({ node: to, i: 0 });
          } else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
        if (low.get(frame.node) === index.get(frame.node)) {
          const component: string[] = [];
          let member: string;
          do {
            member = stack.pop()!;
            onStack.delete(member);
            component.push(relative(root, member));
          } while (member !== frame.node);
          if (component.length > 1) cycles.push(component.sort());
        }
      }
    }
    expect(cycles).to.deep.equal([]);
  });

  it('README names every folder of LAYERS in its layer paragraph', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const paragraph = /^Layers, bottom to top[^\n]*(?:\n(?!\n)[^\n]*)*/m.exec(readme)?.[0] ?? '';
    expect(paragraph, 'README.md needs a paragraph starting "Layers, bottom to top"').to.not.equal('');
    const missing = LAYERS.flat().filter((unit) => !paragraph.includes(`\`${unit}\``));
    expect(missing).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  CapabilitiesResponse,
  ErrorResponse,
  httpStatusFor,
  OkResponse,
  StateResponse,
  UT_BODY_LIMIT,
  UT_ROUTES,
  WIRE_OPERATIONS,
} from '../../harness/ut/protocol.ts';

type Node = Record<string, unknown>;
const docsDir = new URL('../../docs/', import.meta.url);
const spec = parse(readFileSync(new URL('upper-tester.openapi.yaml', docsDir), 'utf8')) as Node;
const prose = readFileSync(new URL('upper-tester.md', docsDir), 'utf8');

const obj = (v: unknown): Node => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const paths = obj(spec.paths);
const components = obj(spec.components);

/** Follows `#/components/...` references. */
function deref(v: unknown): Node {
  const node = obj(v);
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  let target: unknown = spec;
  for (const part of ref.replace(/^#\//, '').split('/')) target = obj(target)[part];
  return deref(target);
}

function examplesOf(content: unknown): unknown[] {
  const json = obj(obj(content)['application/json']);
  return Object.values(obj(json.examples)).map((e) => obj(e).value);
}

interface SpecOperation {
  method: string;
  path: string;
  operationId: unknown;
  node: Node;
}
const specOperations: SpecOperation[] = Object.entries(paths).flatMap(([path, item]) =>
  Object.entries(obj(item)).map(([method, node]) => ({ method: method.toUpperCase(), path, operationId: obj(node).operationId, node: obj(node) })),
);

describe('ut: docs/upper-tester.openapi.yaml matches the implementation', () => {
  it('is OpenAPI 3.1', () => {
    expect(String(spec.openapi)).to.match(/^3\.1\.\d+$/);
  });

  it('lists exactly the routes the server implements, with the operation as operationId', () => {
    const fromSpec = specOperations.map((o) => `${o.method} ${o.path} ${String(o.operationId)}`).sort();
    const fromServer = UT_ROUTES.map((r) => `${r.method} ${r.path} ${r.operation}`).sort();
    expect(fromSpec).to.deep.equal(fromServer);
  });

  it('the Operation enum is the set of wire operations', () => {
    expect(obj(obj(components.schemas).Operation).enum).to.deep.equal([...WIRE_OPERATIONS]);
  });

  for (const route of UT_ROUTES) {
    it(`${route.method} ${route.path}: request examples pass the server's validation and fields match`, () => {
      const op = specOperations.find((o) => o.method === route.method && o.path === route.path)!.node;
      if (route.body === null) {
        expect(op.requestBody, 'a GET takes no body').to.equal(undefined);
        return;
      }
      const body = obj(op.requestBody);
      const examples = examplesOf(body.content);
      expect(examples.length).to.be.greaterThan(0);
      for (const e of examples) expect(route.body.safeParse(e).success, JSON.stringify(e)).to.equal(true);
      const schema = deref(obj(obj(body.content)['application/json']).schema);
      expect(schema.additionalProperties, 'requests are strict').to.equal(false);
      const shape = Object.keys((route.body as z.ZodObject).shape).sort();
      expect(Object.keys(obj(schema.properties)).sort()).to.deep.equal(shape);
    });

    it(`${route.method} ${route.path}: response examples pass the client's validation; error codes sit under their HTTP status`, () => {
      const op = specOperations.find((o) => o.method === route.method && o.path === route.path)!.node;
      const responses = obj(op.responses);
      const success = route.operation === 'capabilities' ? CapabilitiesResponse : route.operation === 'state' ? StateResponse : OkResponse;
      const ok = examplesOf(deref(responses['200']).content);
      expect(ok.length).to.be.greaterThan(0);
      for (const e of ok) expect(success.safeParse(e).success, JSON.stringify(e)).to.equal(true);
      for (const [status, response] of Object.entries(responses)) {
        if (status === '200') continue;
        for (const e of examplesOf(deref(response).content)) {
          const parsed = ErrorResponse.safeParse(e);
          expect(parsed.success, JSON.stringify(e)).to.equal(true);
          if (parsed.success) expect(httpStatusFor(parsed.data.code), parsed.data.code).to.equal(Number(status));
        }
      }
      if (route.operation !== 'capabilities') expect(responses, 'every operation may be unsupported').to.have.property('501');
    });
  }

  it('states the body limit the server enforces', () => {
    expect(JSON.stringify(spec)).to.contain(`${UT_BODY_LIMIT} octets`);
  });

  it('docs/upper-tester.md documents every route', () => {
    for (const r of UT_ROUTES) expect(prose, `${r.method} ${r.path}`).to.contain(`${r.method} ${r.path}`);
  });
});

import { expect } from 'chai';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientState, UpperTester, UtOperation, UtResult } from '../../harness/client/types.ts';
import { FakeClock } from '../../harness/core/clock.ts';
import { discardTrace, TraceRecorder, type MessageTraceEvent } from '../../harness/core/trace.ts';
import { CONFORMING } from '../../harness/reference-client/behaviour.ts';
import { ReferenceClient } from '../../harness/reference-client/client.ts';
import { connectHttpUpperTester, resolveUtBase, type HttpUpperTester } from '../../harness/ut/http-client.ts';
import { serveUpperTester, type ServedUpperTester } from '../../harness/ut/http-server.ts';
import { nodeHttpTransport, type UtHttpTransport } from '../../harness/ut/http-transport.ts';
import { UT_BODY_LIMIT, type InvitationAccepting } from '../../harness/ut/protocol.ts';

const GROUP = 'sip:grp-7f3a@conf.example.net';
const ALL: UtOperation[] = ['queueMessage', 'goOffline', 'goOnline', 'markDisplayed', 'state'];
const ok: UtResult = { ok: true, value: undefined };
const fail = (code: string, message: string): UtResult => ({ ok: false, code, message });

/** In-memory client: enough behaviour to give every operation a success and a failure path. */
class FakeUt implements UpperTester, InvitationAccepting {
  readonly supports: ReadonlySet<UtOperation>;
  readonly calls: string[] = [];
  online = true;
  accepted: string[] = [];
  /** Operations that never answer (for client timeouts). */
  hang = new Set<string>();
  /** Operations that throw (a buggy UT). */
  explode = new Set<string>();
  registerFails = false;
  private readonly outbox: { group: string; text: string }[] = [];
  private readonly received = [{ group: GROUP, from: 'sip:+15551230001@ims.example.net', text: 'hi', imdnMessageId: 'Msg-7c2f9a' }];
  private readonly displayed = new Set<string>();

  constructor(supports: UtOperation[] = ALL) {
    this.supports = new Set(supports);
  }

  private async enter(op: string): Promise<void> {
    this.calls.push(op);
    if (this.explode.has(op)) throw new Error(`${op} exploded`);
    if (this.hang.has(op)) await new Promise(() => {});
  }

  async queueMessage(group: string, text: string): Promise<UtResult> {
    await this.enter('queueMessage');
    if (group !== GROUP) return fail('UT_UNKNOWN_GROUP', `no group ${group}`);
    this.outbox.push({ group, text });
    return ok;
  }
  async goOffline(): Promise<UtResult> {
    await this.enter('goOffline');
    if (!this.online) return fail('UT_WRONG_STATE', 'already offline');
    this.online = false;
    return ok;
  }
  async goOnline(): Promise<UtResult> {
    await this.enter('goOnline');
    if (this.registerFails) return fail('UT_REGISTER_FAILED', 'the REGISTER got no 2xx');
    this.online = true;
    return ok;
  }
  async markDisplayed(id: string): Promise<UtResult> {
    await this.enter('markDisplayed');
    if (!this.received.some((m) => m.imdnMessageId === id)) return fail('UT_UNKNOWN_MESSAGE', `no message ${id}`);
    this.displayed.add(id);
    return ok;
  }
  async acceptInvitation(group: string): Promise<UtResult> {
    await this.enter('acceptInvitation');
    this.accepted.push(group);
    return ok;
  }
  async state(): Promise<UtResult<ClientState>> {
    await this.enter('state');
    return {
      ok: true,
      value: {
        registered: this.online,
        online: this.online,
        groups: [{ identity: GROUP, contributionId: 'c0ffee01', state: 'active', participants: ['sip:+15551230001@ims.example.net'] }],
        outbox: [...this.outbox],
        received: [...this.received],
      },
    };
  }
}

/** A plain UpperTester without acceptInvitation and with a reduced operation set. */
function minimalUt(supports: UtOperation[]): UpperTester {
  const fake = new FakeUt(supports);
  return {
    supports: fake.supports,
    queueMessage: (g, t) => fake.queueMessage(g, t),
    goOffline: () => fake.goOffline(),
    goOnline: () => fake.goOnline(),
    markDisplayed: (id) => fake.markDisplayed(id),
    state: () => fake.state(),
  };
}

async function connected(url: string, timeoutMs = 2000): Promise<HttpUpperTester> {
  const r = await connectHttpUpperTester(url, { timeoutMs });
  if (!r.ok) throw new Error(`connect failed: ${r.code} ${r.message}`);
  return r.value;
}

function expectFailure<T>(r: UtResult<T>, code: string): string {
  expect(r.ok, JSON.stringify(r)).to.equal(false);
  if (r.ok) return '';
  expect(r.code, r.message).to.equal(code);
  return r.message;
}

async function raw(url: string, method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body, headers: { 'Content-Type': contentType } }) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

/** A foreign HTTP server for the wrong-protocol and never-answers cases. */
async function foreignServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('ut: HTTP round trip (serveUpperTester ⇄ connectHttpUpperTester)', () => {
  const fake = new FakeUt();
  const recorder = new TraceRecorder();
  let served: ServedUpperTester;
  let ut: HttpUpperTester;

  before(async () => {
    served = await serveUpperTester(fake, { implementation: 'fake-ut 1.0', trace: recorder.sink });
    ut = await connected(served.url);
  });
  after(() => served.close());

  it('reads the capabilities: supports, acceptInvitation and implementation', () => {
    expect([...ut.supports].sort()).to.deep.equal([...ALL].sort());
    expect(ut.operations.has('acceptInvitation')).to.equal(true);
    expect(ut.acceptInvitation).to.be.a('function');
    expect(ut.implementation).to.equal('fake-ut 1.0');
    expect(ut.baseUrl).to.equal(served.url);
  });

  it('queueMessage reaches the UT and shows in the outbox', async () => {
    expect(await ut.queueMessage(GROUP, 'héllo ✓')).to.deep.equal(ok);
    const state = await ut.state();
    expect(state.ok && state.value.outbox).to.deep.include({ group: GROUP, text: 'héllo ✓' });
  });

  it('state comes back exactly as the UT reported it', async () => {
    const direct = await fake.state();
    const remote = await ut.state();
    expect(remote).to.deep.equal(direct);
  });

  it('goOffline / goOnline change the state; a second goOffline is UT_WRONG_STATE (409)', async () => {
    expect(await ut.goOffline()).to.deep.equal(ok);
    const s = await ut.state();
    expect(s.ok && s.value.online).to.equal(false);
    expectFailure(await ut.goOffline(), 'UT_WRONG_STATE');
    expect((await raw(served.url, 'POST', '/ut/v1/offline')).status).to.equal(409);
    expect(await ut.goOnline()).to.deep.equal(ok);
    const t = await ut.state();
    expect(t.ok && t.value.online).to.equal(true);
  });

  it('markDisplayed: known id ok, unknown id UT_UNKNOWN_MESSAGE (404)', async () => {
    expect(await ut.markDisplayed('Msg-7c2f9a')).to.deep.equal(ok);
    expectFailure(await ut.markDisplayed('Msg-nope'), 'UT_UNKNOWN_MESSAGE');
    const r = await raw(served.url, 'POST', '/ut/v1/display', JSON.stringify({ imdnMessageId: 'Msg-nope' }));
    expect(r.status).to.equal(404);
    expect(r.json).to.deep.equal({ ok: false, code: 'UT_UNKNOWN_MESSAGE', message: 'no message Msg-nope' });
  });

  it('queueMessage for an unknown group is UT_UNKNOWN_GROUP (404)', async () => {
    expectFailure(await ut.queueMessage('sip:other@conf.example.net', 'x'), 'UT_UNKNOWN_GROUP');
    expect((await raw(served.url, 'POST', '/ut/v1/queue-message', JSON.stringify({ group: 'sip:x@y', text: 'x' }))).status).to.equal(404);
  });

  it('acceptInvitation reaches the UT', async () => {
    expect(await ut.acceptInvitation!(GROUP)).to.deep.equal(ok);
    expect(fake.accepted).to.deep.equal([GROUP]);
  });

  it('a failed operation keeps the UT code and is HTTP 422', async () => {
    fake.registerFails = true;
    try {
      expectFailure(await ut.goOnline(), 'UT_REGISTER_FAILED');
      expect((await raw(served.url, 'POST', '/ut/v1/online')).status).to.equal(422);
    } finally {
      fake.registerFails = false;
    }
  });

  it('a UT that throws is UT_INTERNAL (500)', async () => {
    fake.explode.add('state');
    try {
      expect(expectFailure(await ut.state(), 'UT_INTERNAL')).to.contain('state exploded');
      expect((await raw(served.url, 'GET', '/ut/v1/state')).status).to.equal(500);
    } finally {
      fake.explode.delete('state');
    }
  });

  it('an empty text is 400 naming the field, through the client too', async () => {
    expect(expectFailure(await ut.queueMessage(GROUP, ''), 'UT_BAD_REQUEST')).to.match(/^text: /);
  });

  it('emits ut trace events for the connection and each request/response', () => {
    const kinds = recorder.events.map((e) => (e.kind === 'message' ? `${e.direction}:${e.summary}` : `conn:${e.state}`));
    expect(kinds[0]).to.equal('conn:listening');
    expect(kinds).to.include('conn:accepted');
    expect(kinds).to.include('in:GET /ut/v1/capabilities');
    expect(kinds).to.include('out:200 GET /ut/v1/capabilities');
    const reply = recorder.events.find((e): e is MessageTraceEvent => e.kind === 'message' && e.summary === '200 GET /ut/v1/capabilities');
    expect(reply?.protocol).to.equal('ut');
    expect(JSON.parse(reply!.bytes.toString('utf8'))).to.include({ protocol: 'cpm-harness-ut', version: 1 });
  });
});

describe('ut: server strictness (raw HTTP)', () => {
  let served: ServedUpperTester;
  before(async () => {
    served = await serveUpperTester(new FakeUt());
  });
  after(() => served.close());

  it('400 with the zod issue path for a field of the wrong type', async () => {
    const r = await raw(served.url, 'POST', '/ut/v1/queue-message', JSON.stringify({ group: 5, text: 'x' }));
    expect(r.status).to.equal(400);
    expect(r.json.code).to.equal('UT_BAD_REQUEST');
    expect(r.json.message).to.match(/^group: /);
    expect((r.json.issues as { path: unknown[] }[])[0]!.path).to.deep.equal(['group']);
  });

  it('400 for an unknown field (a typo never passes silently)', async () => {
    const r = await raw(served.url, 'POST', '/ut/v1/display', JSON.stringify({ imdnMessageID: 'Msg-7c2f9a' }));
    expect(r.status).to.equal(400);
    expect(r.json.message).to.contain('imdnMessageID');
  });

  it('400 for a body that is not JSON', async () => {
    const r = await raw(served.url, 'POST', '/ut/v1/queue-message', '{"group":');
    expect(r.status).to.equal(400);
    expect(r.json.message).to.match(/not valid JSON/);
  });

  it('400 for a body on a GET', async () => {
    // fetch refuses GET bodies, so node:http sends this one.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${served.url}/ut/v1/state`, { method: 'GET', headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).to.equal(400);
  });

  it('415 for a JSON body with another Content-Type', async () => {
    const r = await raw(served.url, 'POST', '/ut/v1/display', JSON.stringify({ imdnMessageId: 'x' }), 'text/plain');
    expect(r.status).to.equal(415);
    expect(r.json.code).to.equal('UT_UNSUPPORTED_MEDIA_TYPE');
  });

  it('offline/online accept no body or {} and nothing else', async () => {
    expect((await raw(served.url, 'POST', '/ut/v1/offline', '{}')).status).to.equal(200);
    expect((await raw(served.url, 'POST', '/ut/v1/online')).status).to.equal(200);
    expect((await raw(served.url, 'POST', '/ut/v1/online', '{"force":true}')).status).to.equal(400);
  });

  it('404 for an unknown path, also outside /ut/v1 and with a trailing slash', async () => {
    for (const path of ['/ut/v1/nope', '/', '/ut/v2/capabilities', '/ut/v1/state/']) {
      const r = await raw(served.url, 'GET', path);
      expect(r.status, path).to.equal(404);
      expect(r.json.code).to.equal('UT_NOT_FOUND');
    }
  });

  it('405 with Allow for the wrong method', async () => {
    const r = await raw(served.url, 'GET', '/ut/v1/queue-message');
    expect(r.status).to.equal(405);
    expect(r.headers.get('allow')).to.equal('POST');
    expect((await raw(served.url, 'DELETE', '/ut/v1/state')).headers.get('allow')).to.equal('GET');
  });

  it('413 for a body over 64 KiB', async () => {
    const text = 'x'.repeat(UT_BODY_LIMIT);
    const r = await raw(served.url, 'POST', '/ut/v1/queue-message', JSON.stringify({ group: GROUP, text }));
    expect(r.status).to.equal(413);
    expect(r.json.code).to.equal('UT_BODY_TOO_LARGE');
  });

  it('a body of exactly 64 KiB is accepted', async () => {
    const skeleton = JSON.stringify({ group: GROUP, text: '' });
    const text = 'y'.repeat(UT_BODY_LIMIT - Buffer.byteLength(skeleton));
    const body = JSON.stringify({ group: GROUP, text });
    expect(Buffer.byteLength(body)).to.equal(UT_BODY_LIMIT);
    expect((await raw(served.url, 'POST', '/ut/v1/queue-message', body)).status).to.equal(200);
  });
});

describe('ut: unsupported operations', () => {
  let served: ServedUpperTester;
  let requests = 0;
  let ut: HttpUpperTester;
  before(async () => {
    served = await serveUpperTester(minimalUt(['queueMessage', 'goOffline', 'goOnline']));
    const counting: UtHttpTransport = (request, limits, signal) => {
      requests += 1;
      return nodeHttpTransport(request, limits, signal);
    };
    const r = await connectHttpUpperTester(served.url, { timeoutMs: 2000, transport: counting });
    if (!r.ok) throw new Error(r.message);
    ut = r.value;
  });
  after(() => served.close());

  it('capabilities list only what the UT supports; no acceptInvitation without the method', () => {
    expect([...ut.supports].sort()).to.deep.equal(['goOffline', 'goOnline', 'queueMessage']);
    expect(ut.operations.has('acceptInvitation')).to.equal(false);
    expect(ut.acceptInvitation).to.equal(undefined);
  });

  it('the client answers UT_UNSUPPORTED without sending a request', async () => {
    const before = requests;
    expectFailure(await ut.state(), 'UT_UNSUPPORTED');
    expectFailure(await ut.markDisplayed('Msg-1'), 'UT_UNSUPPORTED');
    expect(requests).to.equal(before);
  });

  it('the server answers 501 UT_UNSUPPORTED', async () => {
    for (const [method, path, body] of [['GET', '/ut/v1/state', undefined], ['POST', '/ut/v1/display', '{"imdnMessageId":"x"}'], ['POST', '/ut/v1/accept-invitation', `{"group":"${GROUP}"}`]] as const) {
      const r = await raw(served.url, method, path, body);
      expect(r.status, path).to.equal(501);
      expect(r.json.code).to.equal('UT_UNSUPPORTED');
    }
  });
});

describe('ut: connection failures are values with a fix in the message', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) await closeServer(s);
  });

  it('unreachable port → UT_UNREACHABLE', async () => {
    const { server, url } = await foreignServer(() => {});
    await closeServer(server);
    const r = await connectHttpUpperTester(url, { timeoutMs: 2000 });
    expect(expectFailure(r, 'UT_UNREACHABLE')).to.match(/ECONNREFUSED/).and.match(/--ut/);
  });

  it('a server that never answers → UT_TIMEOUT, on the injected clock (real socket, fake time)', async () => {
    let arrived: () => void = () => {};
    const asked = new Promise<void>((resolve) => (arrived = resolve));
    const { server, url } = await foreignServer(() => arrived());
    servers.push(server);
    const clock = new FakeClock();
    const pending = connectHttpUpperTester(url, { timeoutMs: 40, clock });
    await asked;
    clock.advance(39);
    expect(clock.pendingCount).to.equal(1, 'still waiting at 39 ms');
    clock.advance(1);
    expect(expectFailure(await pending, 'UT_TIMEOUT')).to.contain('40 ms');
  });

  it('an operation that never answers → UT_TIMEOUT, the next request still works', async () => {
    const fake = new FakeUt();
    fake.hang.add('goOnline');
    const served = await serveUpperTester(fake);
    try {
      const ut = await connected(served.url, 60);
      expectFailure(await ut.goOnline(), 'UT_TIMEOUT');
      expect(await ut.goOffline()).to.deep.equal(ok);
    } finally {
      await served.close();
    }
  });

  it('the timeout runs on the injected Clock', async () => {
    const clock = new FakeClock();
    // Not even the abort ends it: the client's own race does.
    const neverAnswers: UtHttpTransport = () => new Promise<never>(() => {});
    const pending = connectHttpUpperTester('http://192.0.2.1:9', { timeoutMs: 5000, clock, transport: neverAnswers });
    clock.advance(4999);
    await Promise.resolve();
    expect(clock.pendingCount).to.equal(1);
    clock.advance(1);
    expectFailure(await pending, 'UT_TIMEOUT');
  });

  it('another protocol in the capabilities → UT_PROTOCOL_MISMATCH naming both', async () => {
    const { server, url } = await foreignServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ok: true, protocol: 'acme-shim', version: 3, operations: [] }));
    });
    servers.push(server);
    const message = expectFailure(await connectHttpUpperTester(url, { timeoutMs: 2000 }), 'UT_PROTOCOL_MISMATCH');
    expect(message).to.contain('"acme-shim" version 3').and.contain('cpm-harness-ut version 1');
  });

  it('a web server that is not a UT (HTML 404) → UT_PROTOCOL_MISMATCH with the expected answer', async () => {
    const { server, url } = await foreignServer((_req, res) => {
      res.statusCode = 404;
      res.end('<html>Not Found</html>');
    });
    servers.push(server);
    const message = expectFailure(await connectHttpUpperTester(url, { timeoutMs: 2000 }), 'UT_PROTOCOL_MISMATCH');
    expect(message).to.contain('HTTP 404').and.contain('"protocol":"cpm-harness-ut"').and.contain('docs/upper-tester.md');
  });

  it('not a URL, or not http → UT_BAD_URL', async () => {
    expectFailure(await connectHttpUpperTester('localhost:8080', { timeoutMs: 10 }), 'UT_BAD_URL');
    expectFailure(await connectHttpUpperTester('ftp://127.0.0.1/', { timeoutMs: 10 }), 'UT_BAD_URL');
    expectFailure(await connectHttpUpperTester('not a url', { timeoutMs: 10 }), 'UT_BAD_URL');
  });

  it('base URLs with a trailing slash, a prefix or /ut/v1 resolve to one base', () => {
    const base = (u: string): string | undefined => {
      const r = resolveUtBase(u);
      return r.ok ? r.value : undefined;
    };
    expect(base('http://127.0.0.1:8080')).to.equal('http://127.0.0.1:8080');
    expect(base('http://127.0.0.1:8080/')).to.equal('http://127.0.0.1:8080');
    expect(base('http://127.0.0.1:8080/ut/v1/')).to.equal('http://127.0.0.1:8080');
    expect(base('http://[::1]:8080/shim/')).to.equal('http://[::1]:8080/shim');
    expect(base('http://h/x?y=1')).to.equal(undefined);
  });
});

describe('ut: bad responses from a shim (transport stub)', () => {
  const capabilities = { ok: true, protocol: 'cpm-harness-ut', version: 1, operations: ['queueMessage', 'state', 'goOnline', 'someFutureOp'] };
  type Reply = { status: number; body: string };
  function stub(routes: Record<string, () => Reply>): UtHttpTransport {
    return async (request) => {
      const path = new URL(request.url).pathname;
      const reply = routes[path]?.() ?? { status: 500, body: '{}' };
      return { ok: true, response: { status: reply.status, headers: {}, body: Buffer.from(reply.body, 'utf8') } };
    };
  }
  const text = (body: string, status = 200): Reply => ({ status, body });
  const json = (body: unknown, status = 200): Reply => ({ status, body: JSON.stringify(body) });

  async function shim(routes: Record<string, () => Reply>): Promise<HttpUpperTester> {
    const r = await connectHttpUpperTester('http://192.0.2.7:8080', { timeoutMs: 1000, transport: stub({ '/ut/v1/capabilities': () => json(capabilities), ...routes }) });
    if (!r.ok) throw new Error(r.message);
    return r.value;
  }

  it('ignores operation names it does not know', async () => {
    const ut = await shim({});
    expect([...ut.operations].sort()).to.deep.equal(['goOnline', 'queueMessage', 'state']);
  });

  it('non-JSON 200 → UT_BAD_RESPONSE', async () => {
    const ut = await shim({ '/ut/v1/queue-message': () => text('OK') });
    expect(expectFailure(await ut.queueMessage(GROUP, 'x'), 'UT_BAD_RESPONSE')).to.contain('"OK"');
  });

  it('non-JSON 502 → UT_HTTP_ERROR', async () => {
    const ut = await shim({ '/ut/v1/online': () => text('Bad Gateway', 502) });
    expect(expectFailure(await ut.goOnline(), 'UT_HTTP_ERROR')).to.contain('HTTP 502');
  });

  it('JSON error without the envelope → UT_HTTP_ERROR', async () => {
    const ut = await shim({ '/ut/v1/online': () => json({ error: 'boom' }, 500) });
    expectFailure(await ut.goOnline(), 'UT_HTTP_ERROR');
  });

  it("the shim's own error code is passed through", async () => {
    const ut = await shim({ '/ut/v1/online': () => json({ ok: false, code: 'UT_NO_NETWORK', message: 'radio off' }, 422) });
    expect(expectFailure(await ut.goOnline(), 'UT_NO_NETWORK')).to.equal('radio off');
  });

  it('a state that misses fields → UT_BAD_RESPONSE naming the path', async () => {
    const ut = await shim({ '/ut/v1/state': () => json({ ok: true, registered: true, online: true, groups: [{ identity: GROUP, state: 'gone', participants: [] }], outbox: [], received: [] }) });
    expect(expectFailure(await ut.state(), 'UT_BAD_RESPONSE')).to.contain('groups.0.state');
  });

  it('an error code that is not UT_ and capitals → UT_BAD_RESPONSE; a long shim message is cut', async () => {
    const ut = await shim({
      '/ut/v1/online': () => json({ ok: false, code: 'boom\u0000', message: 'x' }, 422),
      '/ut/v1/state': () => json({ ok: false, code: 'UT_NO_NETWORK', message: 'm'.repeat(100_000) }, 422),
    });
    expect(expectFailure(await ut.goOnline(), 'UT_BAD_RESPONSE')).to.contain('is not UT_');
    expect(expectFailure(await ut.state(), 'UT_NO_NETWORK').length).to.be.below(2200);
  });

  it('a transport that throws → UT_UNREACHABLE, not an exception', async () => {
    let calls = 0;
    const throwing: UtHttpTransport = async (request, limits, signal) => {
      calls += 1;
      if (calls === 1) return stub({ '/ut/v1/capabilities': () => json(capabilities) })(request, limits, signal);
      throw new Error('transport bug');
    };
    const r = await connectHttpUpperTester('http://192.0.2.7:8080', { timeoutMs: 1000, transport: throwing });
    if (!r.ok) throw new Error(r.message);
    expect(expectFailure(await r.value.goOnline(), 'UT_UNREACHABLE')).to.contain('transport bug');
  });
});

describe('ut: the reference client served over HTTP', () => {
  let served: ServedUpperTester;
  let client: ReferenceClient;
  before(async () => {
    client = new ReferenceClient({ behaviour: CONFORMING, trace: discardTrace, description: 'builtin' });
    served = await serveUpperTester(client.upperTester, { implementation: 'cpm-harness reference client' });
  });
  after(async () => {
    await served.close();
    await client.stop();
  });

  it('lists the five operations plus reset and reports a not-started client as 409 UT_NOT_RUNNING', async () => {
    const ut = await connected(served.url);
    expect([...ut.supports].sort()).to.deep.equal([...ALL, 'reset'].sort());
    expectFailure(await ut.queueMessage(GROUP, 'hi'), 'UT_NOT_RUNNING');
    expect(ut.reset, 'reset is offered over HTTP').to.be.a('function');
    expectFailure(await ut.reset!(), 'UT_NOT_RUNNING');
    expect((await raw(served.url, 'POST', '/ut/v1/offline')).status).to.equal(409);
    const state = await ut.state();
    expect(state.ok && state.value).to.deep.equal({ registered: false, online: false, groups: [], outbox: [], received: [] });
  });
});

/**
 * A hostile upper-tester shim: a raw TCP server that answers the harness's HTTP requests with
 * garbage, endless headers, endless or lying bodies, one octet at a time, or broken codings. Each
 * one must be a UT failure with its code, within the request timeout, without the test process's
 * memory growing with what the shim sends — and the next request must still work.
 */
import { expect } from 'chai';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { UtResult } from '../../harness/client/types.ts';
import { measuredStallMs } from '../../harness/core/clock.ts';
import { connectHttpUpperTester, type HttpUpperTester } from '../../harness/ut/http-client.ts';
import { UT_RESPONSE_LIMITS } from '../../harness/ut/http-transport.ts';

const CAPABILITIES = JSON.stringify({ ok: true, protocol: 'cpm-harness-ut', version: 1, operations: ['state', 'goOnline'] });
const STATE = JSON.stringify({ ok: true, registered: true, online: true, groups: [], outbox: [], received: [] });
const TIMEOUT_MS = 400;
/** What the shim sends is far larger than this; the harness must not hold it. */
const MAX_HEAP_GROWTH = 24 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** A full collection before each reading: retained bytes, not the garbage the in-process shim made. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const collect = collector();

/** How the shim answers GET /ut/v1/state: writes to the socket, may keep writing until it closes. */
type Behaviour = (socket: net.Socket) => void;

const reply = (head: string, body: string | Buffer = ''): Behaviour => (socket) => {
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body]));
};

/** Writes `chunk` as fast as the socket takes it, until the harness closes the connection. */
function endless(socket: net.Socket, head: string, chunk: () => Buffer): void {
  socket.write(head, 'latin1');
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk()));
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

/** One octet of `text` every `everyMs`, until it is all out or the harness closes the connection. */
function drip(socket: net.Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!, 'latin1');
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

const HOSTILE: { name: string; code: string; says: RegExp; behave: Behaviour }[] = [
  { name: 'binary garbage instead of HTTP', code: 'UT_BAD_HTTP', says: /HPE_INVALID_CONSTANT.*bytes: "\\\\x16\\\\x03/, behave: reply('\x16\x03\x01\x00\xa5 this is not HTTP\r\n\r\n') },
  { name: 'a bare LF after the status line', code: 'UT_BAD_HTTP', says: /HPE_CR_EXPECTED/, behave: reply('HTTP/1.1 200 OK\nContent-Length: 2\n\n{}') },
  { name: 'an obs-folded header', code: 'UT_BAD_HTTP', says: /HPE_INVALID_HEADER_TOKEN/, behave: reply('HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\n{}') },
  { name: 'two Content-Lengths', code: 'UT_BAD_HTTP', says: /HPE_UNEXPECTED_CONTENT_LENGTH/, behave: reply('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}') },
  { name: 'Content-Length and chunked together', code: 'UT_BAD_HTTP', says: /HPE_INVALID_TRANSFER_ENCODING/, behave: reply('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n') },
  { name: 'a status code of four digits', code: 'UT_BAD_HTTP', says: /HPE_INVALID_STATUS/, behave: reply('HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}') },
  {
    name: 'an endless header section',
    code: 'UT_RESPONSE_HEADERS_TOO_LARGE',
    says: new RegExp(`over ${UT_RESPONSE_LIMITS.responseHeaderBytes} octets`),
    behave: (socket) => endless(socket, 'HTTP/1.1 200 OK\r\nX-Padding: ', () => CHUNK),
  },
  { name: 'a declared body of 10 GB', code: 'UT_RESPONSE_TOO_LARGE', says: /Content-Length: 10000000000/, behave: (socket) => endless(socket, 'HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n', () => CHUNK) },
  { name: 'an endless chunked body', code: 'UT_RESPONSE_TOO_LARGE', says: /octets read so far/, behave: (socket) => endless(socket, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', () => Buffer.concat([Buffer.from('10000\r\n'), CHUNK, Buffer.from('\r\n')])) },
  { name: 'an endless body read until close', code: 'UT_RESPONSE_TOO_LARGE', says: /octets read so far/, behave: (socket) => endless(socket, 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n', () => CHUNK) },
  { name: 'a body cut short of its Content-Length', code: 'UT_BAD_HTTP', says: /before the response body was complete|broke in the middle/, behave: reply('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', '{"ok":') },
  { name: 'a gzip body it never asked for', code: 'UT_BAD_HTTP', says: /Content-Encoding "gzip"/, behave: reply('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n', '{}') },
  { name: 'a body that is not UTF-8', code: 'UT_BAD_RESPONSE', says: /not UTF-8/, behave: reply('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n', Buffer.from('{"ok":"\xff\xfe"}  ', 'latin1').subarray(0, 12)) },
  {
    name: 'JSON nested 400,000 deep',
    code: 'UT_BAD_RESPONSE',
    says: /does not match the protocol/,
    behave: (socket) => {
      const body = '['.repeat(400_000) + ']'.repeat(400_000);
      reply(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, body)(socket);
    },
  },
  { name: 'the status line one octet every 30 ms', code: 'UT_TIMEOUT', says: new RegExp(`within ${TIMEOUT_MS} ms`), behave: (socket) => drip(socket, `HTTP/1.1 200 OK\r\nContent-Length: ${STATE.length}\r\n\r\n${STATE}`, 30) },
  { name: 'the body one octet every 30 ms', code: 'UT_TIMEOUT', says: new RegExp(`within ${TIMEOUT_MS} ms`), behave: (socket) => { socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${STATE.length}\r\n\r\n`); drip(socket, STATE, 30); } },
  { name: 'endless 102 Processing', code: 'UT_TIMEOUT', says: new RegExp(`within ${TIMEOUT_MS} ms`), behave: (socket) => endless(socket, '', () => Buffer.from('HTTP/1.1 102 Processing\r\n\r\n')) },
];

describe('ut: a hostile shim is a UT failure with a code, never a crash, a hang or a heap full of its bytes', function () {
  this.timeout(20_000);
  let server: net.Server;
  let behaviour: Behaviour = reply(`HTTP/1.1 200 OK\r\nContent-Length: ${STATE.length}\r\n\r\n`, STATE);
  let ut: HttpUpperTester;
  const sockets = new Set<net.Socket>();

  before(async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        if (head.startsWith('GET /ut/v1/capabilities ')) reply(`HTTP/1.1 200 OK\r\nContent-Length: ${CAPABILITIES.length}\r\n\r\n`, CAPABILITIES)(socket);
        else behaviour(socket);
      };
      socket.on('data', onData);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const connected = await connectHttpUpperTester(`http://127.0.0.1:${port}`, { timeoutMs: TIMEOUT_MS });
    if (!connected.ok) throw new Error(connected.message);
    ut = connected.value;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const hostile of HOSTILE) {
    it(`${hostile.name} → ${hostile.code}`, async () => {
      behaviour = hostile.behave;
      collect();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      const stalledBefore = measuredStallMs();
      const result: UtResult<unknown> = await ut.state();
      // Time this process could not run (a loaded machine) is not the client's: the timeout is a window.
      const elapsed = performance.now() - started - (measuredStallMs() - stalledBefore);
      expect(result.ok, JSON.stringify(result)).to.equal(false);
      if (result.ok) return;
      expect(result.code, result.message).to.equal(hostile.code);
      expect(result.message).to.match(hostile.says);
      expect(result.message.length, 'the message stays short').to.be.below(600);
      expect(elapsed, 'within the request timeout').to.be.below(TIMEOUT_MS + 1_000);
      collect();
      expect(process.memoryUsage().heapUsed - heapBefore, 'heap growth').to.be.below(MAX_HEAP_GROWTH);
      // The shim is still usable once it answers properly.
      behaviour = reply(`HTTP/1.1 200 OK\r\nContent-Length: ${STATE.length}\r\n\r\n`, STATE);
      const next = await ut.state();
      expect(next.ok, JSON.stringify(next)).to.equal(true);
    });
  }

  it('the capabilities step keeps the specific code: garbage there is UT_BAD_HTTP, not a protocol mismatch', async () => {
    const garbage = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end('\x00\x01garbage\r\n\r\n', 'latin1'));
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = garbage.address() as net.AddressInfo;
      const r = await connectHttpUpperTester(`http://127.0.0.1:${port}`, { timeoutMs: TIMEOUT_MS });
      expect(r.ok).to.equal(false);
      if (!r.ok) expect([r.code, r.message]).to.satisfy(([code, message]: [string, string]) => code === 'UT_BAD_HTTP' && message.includes(`127.0.0.1:${port}`));
    } finally {
      await new Promise<void>((resolve) => garbage.close(() => resolve()));
    }
  });
});

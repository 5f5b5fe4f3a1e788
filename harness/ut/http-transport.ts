/**
 * One HTTP exchange with an upper-tester shim, bounded in every way the shim controls: the
 * response's header section (`maxHeaderSize`), its body (declared Content-Length and octets read),
 * and time (the caller's abort signal ends every wait: connect, headers, body). Parsing is Node's
 * strict HTTP/1.1 parser (llhttp, lenient flags off); no redirect is followed and no content
 * coding is undone, since the harness asks for neither. Every outcome is a value — a response, or
 * a failure with a `UT_…` code and the offending bytes in its message — never a throw.
 */
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { printable } from '../core/diagnostic.ts';
import type { UtFailure } from '../client/types.ts';
import { utFailure, type Method } from './protocol.ts';

export interface UtHttpLimits {
  /** Octets of the response body: a larger declared Content-Length or more octets read is UT_RESPONSE_TOO_LARGE. */
  readonly responseBodyBytes: number;
  /** Octets of the status line and header section together: more is UT_RESPONSE_HEADERS_TOO_LARGE. */
  readonly responseHeaderBytes: number;
}

/**
 * Far above any honest answer (a state snapshot of 100 groups and 250 messages is ~60 kB), far
 * below what hurts: the largest response a shim can make the harness hold.
 */
export const UT_RESPONSE_LIMITS: Readonly<UtHttpLimits> = Object.freeze({ responseBodyBytes: 1024 * 1024, responseHeaderBytes: 16 * 1024 });

export interface UtHttpRequest {
  readonly method: Method;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface UtHttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type UtHttpExchange = { readonly ok: true; readonly response: UtHttpResponse } | UtFailure;

/**
 * How a request reaches the shim (tests inject one). It must resolve — never reject — soon after
 * `signal` aborts; the caller races it against its own timer all the same.
 */
export type UtHttpTransport = (request: UtHttpRequest, limits: UtHttpLimits, signal: AbortSignal) => Promise<UtHttpExchange>;

/** Shown of offending bytes: enough to recognise them, never the whole of a hostile answer. */
const EXCERPT_BYTES = 80;

function excerpt(bytes: Buffer | undefined): string {
  if (bytes === undefined || bytes.length === 0) return '';
  const shown = JSON.stringify(printable(bytes.subarray(0, EXCERPT_BYTES)));
  return ` [bytes: ${shown}${bytes.length > EXCERPT_BYTES ? `… (${bytes.length} bytes)` : ''}]`;
}

interface NodeError extends Error {
  code?: string;
  reason?: string;
  rawPacket?: Buffer;
}

/** A socket or parser error as a UT failure: before any response, unreachable; in the HTTP, bad HTTP. */
function failureOf(error: NodeError, where: string, limits: UtHttpLimits, responded: boolean): UtFailure {
  const code = error.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') {
    return utFailure('UT_RESPONSE_HEADERS_TOO_LARGE', `${where}: the response's header section is over ${limits.responseHeaderBytes} octets${excerpt(error.rawPacket)}`);
  }
  if (code.startsWith('HPE_')) {
    return utFailure('UT_BAD_HTTP', `${where}: the answer is not valid HTTP/1.1 (${code}: ${error.reason ?? error.message})${excerpt(error.rawPacket)}`);
  }
  if (responded) return utFailure('UT_BAD_HTTP', `${where}: the connection broke in the middle of the response (${code || error.message})`);
  return utFailure('UT_UNREACHABLE', `${where}: ${error.message}${code && !error.message.includes(code) ? ` (${code})` : ''}`);
}

/** The transport the harness uses: node:http(s), one connection per request (no pool to go stale). */
export const nodeHttpTransport: UtHttpTransport = (request, limits, signal) =>
  new Promise<UtHttpExchange>((resolve) => {
    const where = `${request.method} ${request.url}`;
    let settled = false;
    let req: ClientRequest | undefined;
    let responded = false;
    const settle = (outcome: UtHttpExchange): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // Whatever the shim still sends is not read: the socket goes with the exchange.
      if (!outcome.ok || req?.destroyed === false) req?.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => settle(utFailure('UT_TIMEOUT', `${where}: aborted before the response was complete`));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });

    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      settle(utFailure('UT_BAD_URL', `${request.url} is not a URL`));
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = { ...request.headers, ...(request.body === undefined ? {} : { 'Content-Length': String(request.body.length) }) };
    try {
      req = send(url, { method: request.method, headers, agent: false, maxHeaderSize: limits.responseHeaderBytes, insecureHTTPParser: false });
    } catch (error) {
      settle(failureOf(error as NodeError, where, limits, false));
      return;
    }
    req.on('error', (error: NodeError) => settle(failureOf(error, where, limits, responded)));
    req.on('response', (res: IncomingMessage) => {
      responded = true;
      const status = res.statusCode ?? 0;
      const tooLarge = (seen: string): UtFailure =>
        utFailure('UT_RESPONSE_TOO_LARGE', `${where} → HTTP ${status}: the response body is over ${limits.responseBodyBytes} octets (${seen})`);
      const declared = res.headers['content-length'];
      if (declared !== undefined && Number(declared) > limits.responseBodyBytes) {
        settle(tooLarge(`Content-Length: ${declared.length > 20 ? `${declared.slice(0, 20)}…` : declared}`));
        return;
      }
      const coding = res.headers['content-encoding'];
      if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
        settle(utFailure('UT_BAD_HTTP', `${where} → HTTP ${status}: Content-Encoding ${JSON.stringify(coding.slice(0, 40))}, which the harness never asked for (it sends no Accept-Encoding)`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > limits.responseBodyBytes) {
          settle(tooLarge(`${size} octets read so far`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => settle({ ok: true, response: { status, headers: res.headers, body: Buffer.concat(chunks, size) } }));
      res.on('error', (error: NodeError) => settle(failureOf(error, where, limits, true)));
      res.on('close', () => {
        if (!res.complete) settle(utFailure('UT_BAD_HTTP', `${where} → HTTP ${status}: the connection closed before the response body was complete (${size} octets read)`));
      });
    });
    req.end(request.body);
  });

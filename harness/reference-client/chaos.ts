/**
 * Chaos clients: socket-level hostile behaviours of the built-in client, run with
 * `--client chaos:<name>`. Each is the conforming reference client behind a wire tap
 * (core/wire-tap.ts) that, at one moment of the ladder, writes what no well-behaved client would:
 * garbage, a header line of a megabyte, a Content-Length that lies, one byte every 20 ms, a RST
 * in the middle of a frame, a storm of SUBSCRIBEs, a flood of connections, a CPIM header padded
 * with 100 000 spaces. They prove the harness's fault boundary: each one must end its proof case
 * with the declared outcome and reason, quickly, and the run must go on (`npm test` asserts it for
 * every one; `cpm-harness mutants` lists them).
 *
 * `trips` names the rule of harness/verdict/rules.ts the proof case must report violated (typed
 * where the table is visible: harness/runner/chaos-rules.ts), `code` the diagnostic code or text
 * its reason must carry.
 */
import net from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.ts';
import type { ClientCaseScope, ClientFactory, ClientUnderTest } from '../client/types.ts';
import type { TraceSink } from '../core/trace.ts';
import type { WireLink, WireTap } from '../core/wire-tap.ts';
import { MsrpStreamParser } from '../msrp/parser.ts';
import { serializeMsrpFrame } from '../msrp/serializer.ts';
import { behaviourWith } from './behaviour.ts';
import { ReferenceClient } from './client.ts';

export interface ChaosExpectation {
  /** The outcome of the proof case. */
  readonly outcome: 'fail' | 'pass';
  /** The rule whose violation the proof case reports (absent for a pass). */
  readonly trips?: string;
  /** Text the reason of that verdict carries: the diagnostic code, or the timer. */
  readonly code?: string;
}

export interface ChaosClient {
  readonly name: string;
  readonly description: string;
  /** The test case of the catalogue the proof runs it against. */
  readonly proofCase: string;
  readonly expect: ChaosExpectation;
  /**
   * With SIP over UDP (`--transport udp`): `as-tcp` (the same outcome), another expectation, or
   * `tcp-only` for a behaviour that needs a SIP byte stream (a run over UDP is refused: it would
   * only run the conforming client and pass).
   */
  readonly udp: 'as-tcp' | 'tcp-only' | ChaosExpectation;
  /** A fresh tap (and clean-up) for one client of one test case. */
  readonly hooks: (env: ChaosEnvironment) => ChaosHooks;
}

export interface ChaosEnvironment {
  /** The test case's clock: every timer of a tap dies with the case. */
  readonly clock: Clock;
}

export interface ChaosHooks {
  readonly sip?: WireTap;
  readonly msrp?: WireTap;
  /** Called when the runner stops the client. */
  stop?(): void;
  /** Keep the sockets this long after the runner stopped the client (a client that never closes). */
  readonly lingerMs?: number;
}

const latin1 = (bytes: Buffer): string => bytes.toString('latin1');

function firstLine(text: string): string {
  const end = text.indexOf('\r\n');
  return end === -1 ? text : text.slice(0, end);
}

/** A SIP response to an INVITE (CSeq method INVITE). */
function isInviteResponse(text: string): boolean {
  return /^SIP\/2\.0 \d{3}/.test(text) && /^CSeq:[ \t]*\d+[ \t]+INVITE[ \t]*$/im.test(text.slice(0, text.indexOf('\r\n\r\n')));
}

/** A 2xx to an INVITE with a body (the SDP answer). */
function isAnswer(text: string): boolean {
  return /^SIP\/2\.0 2\d\d/.test(text) && isInviteResponse(text) && text.indexOf('\r\n\r\n') + 4 < text.length;
}

function isMsrpResponse(text: string): boolean {
  return /^MSRP \S+ \d{3}/.test(firstLine(text));
}

/** A SEND with a body (not the empty binding SEND). */
function isMsrpSendWithBody(text: string): boolean {
  return /^MSRP \S+ SEND$/.test(firstLine(text)) && /\r\n\r\n/.test(text.slice(0, text.search(/\r\n-------/) + 2));
}

function withContentLength(text: string, length: number): string {
  return text.replace(/^(Content-Length|l)[ \t]*:[ \t]*\d+/im, `Content-Length: ${length}`);
}

/** The SIP tap of a client that, once it has broken its stream with `write`, stays silent on SIP. */
function breakOnce(matches: (text: string) => boolean, write: (text: string, link: WireLink) => void): WireTap {
  let broken = false;
  return {
    outbound(bytes, link) {
      if (broken) return true;
      const text = latin1(bytes);
      if (!matches(text)) return false;
      broken = true;
      write(text, link);
      return true;
    },
  };
}

/** TLS ClientHello-like bytes, then a line end: the first line is no SIP start line. */
const SIP_GARBAGE = Buffer.from('\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 this is not SIP\r\n\r\n', 'latin1');
const MSRP_GARBAGE = Buffer.from('\x00\x01\x02 this is not MSRP\r\n', 'latin1');
const ONE_MEBIBYTE = 1024 * 1024;
const UDP_HEADER_LINE = 32 * 1024;
/** A Byte-Range total of 4 TiB: a number a reassembler must never allocate. */
const ABSURD_TOTAL = 4 * 1024 ** 4;
const STORM_SIZE = 5_000;
const STORM_BATCH = 250;
const STORM_EVERY_MS = 20;
const DRIP_EVERY_MS = 20;
const FLOOD_CONNECTIONS = 40;
/** connection-flood: how long its REGISTER waits for the PF to refuse a connection when none is refused. */
const FLOOD_SETTLE_MS = 1_000;
const CPIM_PADDING = 100_000;

const CHAOS_TABLE: readonly ChaosClient[] = [
  {
    name: 'silent-after-invite',
    description: 'registers, then sends nothing at all once an INVITE arrives (not even 100 Trying)',
    proofCase: 'inv-minimal',
    expect: { outcome: 'fail', trips: 'invite.accepted', code: 'Timer B' },
    udp: 'as-tcp',
    hooks: () => {
      let silent = false;
      return {
        sip: {
          inbound(bytes) {
            if (!silent && /(^|\n)INVITE /.test(bytes.toString('latin1', 0, Math.min(bytes.length, 65536)))) silent = true;
          },
          outbound: () => silent,
        },
      };
    },
  },
  {
    name: 'garbage-on-sip',
    description: 'answers the group INVITE with binary garbage on its SIP connection',
    proofCase: 'inv-minimal',
    expect: { outcome: 'fail', trips: 'wire.sip.framing', code: 'SIP_STREAM_GARBAGE' },
    udp: { outcome: 'fail', trips: 'invite.accepted', code: 'Timer B' },
    hooks: () => ({ sip: breakOnce(isInviteResponse, (_text, link) => link.write(SIP_GARBAGE)) }),
  },
  {
    name: 'oversized-header',
    description: 'answers the group INVITE with a 1 MiB header line',
    proofCase: 'inv-minimal',
    expect: { outcome: 'fail', trips: 'wire.sip.size', code: 'SIP_HEADER_LINE_TOO_LONG' },
    udp: 'as-tcp',
    hooks: () => ({
      sip: breakOnce(isInviteResponse, (text, link) => {
        const cut = text.indexOf('\r\n') + 2;
        // A datagram holds at most 64 KiB: over UDP the line is 32 KiB, still twice sipHeaderLineBytes.
        const padding = link.transport === 'udp' ? UDP_HEADER_LINE : ONE_MEBIBYTE;
        link.write(Buffer.from(`${text.slice(0, cut)}X-Padding: ${'x'.repeat(padding)}\r\n${text.slice(cut)}`, 'latin1'));
      }),
    }),
  },
  {
    name: 'content-length-long',
    description: 'its 200 to the INVITE declares a Content-Length 512 octets longer than the SDP it carries, then stays silent',
    proofCase: 'inv-minimal',
    expect: { outcome: 'fail', trips: 'wire.sip.complete', code: 'SIP_INCOMPLETE_MESSAGE' },
    udp: { outcome: 'fail', trips: 'wire.sip.complete', code: 'SIP_CONTENT_LENGTH_MISMATCH' },
    hooks: () => ({
      sip: breakOnce(isAnswer, (text, link) => {
        const body = text.length - (text.indexOf('\r\n\r\n') + 4);
        link.write(Buffer.from(withContentLength(text, body + 512), 'latin1'));
      }),
    }),
  },
  {
    name: 'content-length-short',
    description: 'its 200 to the INVITE declares a Content-Length 16 octets shorter than its SDP: the rest is not SIP',
    proofCase: 'inv-minimal',
    expect: { outcome: 'fail', trips: 'wire.sip.framing', code: 'SIP_STREAM_GARBAGE' },
    udp: 'tcp-only',
    hooks: () => ({
      sip: breakOnce(isAnswer, (text, link) => {
        const body = text.length - (text.indexOf('\r\n\r\n') + 4);
        link.write(Buffer.from(withContentLength(text, body - 16), 'latin1'));
      }),
    }),
  },
  {
    name: 'slowloris',
    description: 'once an INVITE arrives, drips everything it sends on SIP one octet every 20 ms',
    proofCase: 'inv-minimal',
    expect: { outcome: 'fail', trips: 'wire.sip.complete', code: 'SIP_INCOMPLETE_MESSAGE' },
    udp: 'tcp-only',
    hooks: (env) => {
      let dripping = false;
      let queue = Buffer.alloc(0);
      let timer: TimerHandle | undefined;
      const drip = (link: WireLink): void => {
        timer = undefined;
        if (queue.length === 0 || !link.write(queue.subarray(0, 1))) return;
        queue = queue.subarray(1);
        timer = env.clock.setTimer(DRIP_EVERY_MS, () => drip(link));
      };
      return {
        sip: {
          inbound(bytes) {
            if (!dripping && /(^|\n)INVITE /.test(bytes.toString('latin1', 0, Math.min(bytes.length, 65536)))) dripping = true;
          },
          outbound(bytes, link) {
            if (!dripping) return false;
            queue = Buffer.concat([queue, bytes]);
            if (timer === undefined) drip(link);
            return true;
          },
        },
        stop: () => timer?.cancel(),
      };
    },
  },
  {
    name: 'connection-flood',
    description: 'opens 40 more TCP connections to the PF before its REGISTER goes out, and leaves them idle',
    proofCase: 'inv-minimal',
    expect: { outcome: 'fail', trips: 'wire.connections', code: 'LIMIT_CONNECTIONS_PER_CASE' },
    udp: 'tcp-only',
    hooks: (env) => {
      const extra: net.Socket[] = [];
      let safety: TimerHandle | undefined;
      /** What the client sends while its flood connects: written once every one of them is up. */
      let held: Buffer[] | undefined;
      return {
        sip: {
          opened(link) {
            if (held !== undefined || extra.length > 0 || link.socket === undefined) return;
            const { remoteAddress, remotePort } = link.socket;
            if (remoteAddress === undefined || remotePort === undefined) return;
            held = [];
            // A connection counts when the PF accepts it, which on a loaded machine can be well after
            // this side saw it connect: the PF may not even have accepted the 33rd when a fast case
            // is over. The REGISTER waits until the PF refused one (closed it: the limit is crossed),
            // or, should the limit be higher than the flood, a second after the last one connected.
            let refusedOne: () => void = () => {};
            const refused = new Promise<void>((resolve) => (refusedOne = resolve));
            const connecting = Array.from({ length: FLOOD_CONNECTIONS }, () => {
              const socket = net.connect({ host: remoteAddress, port: remotePort });
              extra.push(socket);
              socket.once('close', () => refusedOne());
              return new Promise<void>((resolve) => {
                socket.once('connect', () => resolve());
                socket.once('error', () => resolve());
              });
            });
            void Promise.all(connecting)
              .then(() => Promise.race([refused, new Promise<void>((resolve) => (safety = env.clock.setTimer(FLOOD_SETTLE_MS, resolve)))]))
              .then(() => {
                safety?.cancel();
                const queued = held ?? [];
                held = undefined;
                for (const bytes of queued) link.write(bytes);
              });
          },
          outbound(bytes) {
            if (held === undefined) return false;
            held.push(bytes);
            return true;
          },
        },
        stop: () => {
          safety?.cancel();
          for (const socket of extra) socket.destroy();
        },
      };
    },
  },
  {
    name: 'garbage-on-msrp',
    description: 'writes binary garbage on the MSRP connection just before its 200 to the deferred message',
    proofCase: 'msrp-deliver-single',
    expect: { outcome: 'fail', trips: 'wire.msrp.framing', code: 'MSRP_GARBAGE' },
    udp: 'as-tcp',
    hooks: () => {
      let done = false;
      return {
        msrp: {
          outbound(bytes, link) {
            if (done || !isMsrpResponse(latin1(bytes))) return false;
            done = true;
            link.write(Buffer.concat([MSRP_GARBAGE, bytes]));
            return true;
          },
        },
      };
    },
  },
  {
    name: 'rst-mid-chunk',
    description: 'writes half of its 200 to the deferred message, then resets the MSRP connection (TCP RST)',
    proofCase: 'msrp-deliver-single',
    expect: { outcome: 'fail', trips: 'wire.msrp.complete', code: 'MSRP_INCOMPLETE_FRAME' },
    udp: 'as-tcp',
    hooks: (env) => {
      let broken = false;
      let timer: TimerHandle | undefined;
      return {
        msrp: {
          outbound(bytes, link) {
            if (broken) return true;
            if (!isMsrpResponse(latin1(bytes))) return false;
            broken = true;
            link.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
            // Let the half arrive before the RST, or the kernel drops it with the connection.
            timer = env.clock.setTimer(30, () => link.reset());
            return true;
          },
        },
        stop: () => timer?.cancel(),
      };
    },
  },
  {
    name: 'absurd-byte-range',
    description: `its delivery IMDN declares a Byte-Range total of ${ABSURD_TOTAL} octets (4 TiB)`,
    proofCase: 'imdn-delivery',
    expect: { outcome: 'fail', trips: 'wire.msrp.size', code: 'MSRP_MESSAGE_TOO_LARGE' },
    udp: 'as-tcp',
    hooks: () => {
      let done = false;
      return {
        msrp: {
          outbound(bytes, link) {
            const text = latin1(bytes);
            if (done || !isMsrpSendWithBody(text)) return false;
            done = true;
            link.write(Buffer.from(text.replace(/^(Byte-Range:[ \t]*\d+-\d+)\/(\d+|\*)/im, `$1/${ABSURD_TOTAL}`), 'latin1'));
            return true;
          },
        },
      };
    },
  },
  {
    name: 'subscribe-storm',
    description: `follows its conference SUBSCRIBE with ${STORM_SIZE} more (fresh branch and Call-ID each) within half a second`,
    proofCase: 'sub-after-ack',
    expect: { outcome: 'fail', trips: 'wire.message-rate', code: 'LIMIT_MESSAGES_PER_SECOND' },
    udp: 'as-tcp',
    hooks: (env) => {
      let started = false;
      let timer: TimerHandle | undefined;
      return {
        sip: {
          outbound(bytes, link) {
            const text = latin1(bytes);
            if (started || !/^SUBSCRIBE /.test(text)) return false;
            started = true;
            link.write(bytes);
            let sent = 0;
            const batch = (): void => {
              timer = undefined;
              const copies: string[] = [];
              for (let k = 0; k < STORM_BATCH && sent < STORM_SIZE; k++, sent++) {
                copies.push(text.replace(/;branch=([^;,\s]+)/i, `;branch=$1s${sent}`).replace(/^(Call-ID|i)[ \t]*:[ \t]*(\S+)/im, `Call-ID: $2-s${sent}`));
              }
              // Over TCP one write per batch; over UDP every SUBSCRIBE is a datagram of its own.
              const written = link.transport === 'udp' ? copies.every((copy) => link.write(Buffer.from(copy, 'latin1'))) : link.write(Buffer.from(copies.join(''), 'latin1'));
              if (!written || sent >= STORM_SIZE) return;
              timer = env.clock.setTimer(STORM_EVERY_MS, batch);
            };
            batch();
            return true;
          },
        },
        stop: () => timer?.cancel(),
      };
    },
  },
  {
    name: 'cpim-header-padding',
    description: `pads the CPIM From header of its delivery IMDN with ${CPIM_PADDING} spaces (a quadratic regex would block for seconds)`,
    proofCase: 'imdn-delivery',
    expect: { outcome: 'fail', trips: 'imdn.envelope.syntax', code: 'CPIM_HEADER_TOO_LONG' },
    udp: 'as-tcp',
    hooks: () => {
      let done = false;
      return {
        msrp: {
          outbound(bytes, link) {
            if (done || !isMsrpSendWithBody(latin1(bytes))) return false;
            const padded = padCpimFrom(bytes);
            if (padded === undefined) return false;
            done = true;
            link.write(padded);
            return true;
          },
        },
      };
    },
  },
  {
    name: 'never-closes',
    description: 'conforming on the wire, but never closes a connection: ignores the PF\'s FIN and keeps its sockets 3 s after the case',
    proofCase: 'deferred-pf-bye',
    expect: { outcome: 'pass' },
    udp: 'as-tcp',
    hooks: () => {
      const hold: WireTap = {
        opened(link) {
          const socket = link.socket;
          if (socket === undefined) return;
          socket.allowHalfOpen = true;
          // Every way the client would close its side is ignored; destroy() still works.
          socket.end = ((..._args: unknown[]) => socket) as typeof socket.end;
        },
      };
      return { sip: hold, msrp: hold, lingerMs: 3_000 };
    },
  },
];

/** The CPIM From header of an IMDN SEND padded with spaces, the frame rebuilt around it; undefined when it is no IMDN. */
function padCpimFrom(bytes: Buffer): Buffer | undefined {
  const parser = new MsrpStreamParser();
  const frame = [...parser.push(bytes), ...parser.end()][0]?.frame;
  if (frame?.kind !== 'request' || frame.body === null) return undefined;
  const body = latin1(frame.body);
  if (!/message\/imdn\+xml/i.test(body)) return undefined;
  const padded = Buffer.from(body.replace(/^From:[ \t]*/m, `From: ${' '.repeat(CPIM_PADDING)}`), 'latin1');
  const headers = frame.headers.map((h) => (h.name.toLowerCase() === 'byte-range' ? { ...h, value: `1-${padded.length}/${padded.length}` } : h));
  return serializeMsrpFrame({ ...frame, headers, body: padded }, { verbatim: true });
}

export const CHAOS_CLIENTS: readonly ChaosClient[] = CHAOS_TABLE;

/** What the proof case of this chaos client gives over this SIP transport; undefined when it cannot run there. */
export function chaosExpectation(chaos: ChaosClient, transport: 'udp' | 'tcp'): ChaosExpectation | undefined {
  if (transport === 'tcp' || chaos.udp === 'as-tcp') return chaos.expect;
  return chaos.udp === 'tcp-only' ? undefined : chaos.udp;
}

export function findChaosClient(name: string): ChaosClient | undefined {
  return CHAOS_TABLE.find((c) => c.name === name);
}

/** One tap for both protocols, from the hooks of one chaos client. */
function tapOf(hooks: ChaosHooks): WireTap {
  const of = (link: WireLink): WireTap | undefined => (link.protocol === 'sip' ? hooks.sip : hooks.msrp);
  return {
    opened: (link) => of(link)?.opened?.(link),
    outbound: (bytes, link) => of(link)?.outbound?.(bytes, link) ?? false,
    inbound: (bytes, link) => of(link)?.inbound?.(bytes, link),
  };
}

/** The reference client with a chaos tap; stop() runs the hooks' clean-up, or lingers. */
class ChaosClientUnderTest implements ClientUnderTest {
  constructor(
    private readonly inner: ReferenceClient,
    private readonly hooks: ChaosHooks,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  get upperTester(): ReferenceClient {
    return this.inner;
  }

  start(env: Parameters<ClientUnderTest['start']>[0]): Promise<void> {
    return this.inner.start(env);
  }

  async stop(): Promise<void> {
    this.hooks.stop?.();
    const linger = this.hooks.lingerMs;
    if (linger === undefined) return this.inner.stop();
    // Not the case's clock: the case is over, and these sockets outlive it on purpose.
    setTimeout(() => void this.inner.stop(), linger).unref();
  }
}

export interface ChaosClientFactoryOptions {
  name: string;
  trace: TraceSink;
  actor?: string;
}

/** Throws on an unknown name: a configuration error, caught before any test runs. */
export function createChaosClientFactory(options: ChaosClientFactoryOptions): ClientFactory {
  const chaos = findChaosClient(options.name);
  if (chaos === undefined) throw new RangeError(`unknown chaos client "${options.name}"; known: ${CHAOS_TABLE.map((c) => c.name).join(', ')}`);
  const description = `chaos:${chaos.name}`;
  const behaviour = behaviourWith({});
  return {
    description,
    create(scope?: ClientCaseScope): ClientUnderTest {
      const hooks = chaos.hooks({ clock: scope?.boundary.clock ?? systemClock });
      const inner = new ReferenceClient({
        behaviour,
        trace: options.trace,
        description,
        tap: tapOf(hooks),
        ...(options.actor === undefined ? {} : { actor: options.actor }),
        ...(scope === undefined ? {} : { boundary: scope.boundary }),
      });
      return new ChaosClientUnderTest(inner, hooks);
    },
  };
}

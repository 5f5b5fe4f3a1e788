import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/**
 * Ports below the kernel's ephemeral range (ip_local_port_range): the kernel never hands these out
 * for a connect() or a bind to port 0, so a port this module found free stays free until someone
 * binds it by number. A port the OS picked (listen on 0) and we released is back in the ephemeral
 * pool at once, and on a busy machine (other test suites connecting and listening) another socket
 * can take it before SIPp, Kamailio or a fixed-port PF binds it.
 */
function candidateRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 0) ephemeralLow = first;
  } catch {
    // not Linux: the usual default
  }
  const high = ephemeralLow - 1;
  const low = Math.max(1024, high - 12_000);
  return high - low >= 1000 ? { low, high } : { low: 0, high: 0 };
}

const RANGE = candidateRange();

function tryTcp(port: number): Promise<number> {
  const server = createServer();
  return new Promise<number>((resolve) => {
    server.once('error', () => resolve(-1));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : -1;
      server.close(() => resolve(bound));
    });
  });
}

function tryUdp(port: number): Promise<boolean> {
  const udp = createSocket('udp4');
  return new Promise<boolean>((resolve) => {
    udp.once('error', () => {
      try {
        udp.close();
      } catch {
        // never bound
      }
      resolve(false);
    });
    udp.bind(port, '127.0.0.1', () => udp.close(() => resolve(true)));
  });
}

/**
 * A port free for both UDP and TCP on 127.0.0.1 right now, for a tool or a fixed-port PF that needs
 * a number before it binds: a random one below the ephemeral range (see candidateRange), else one
 * the OS picks. Callers that start an external tool still retry on a new port if the tool reports
 * EADDRINUSE (test/helpers/sipp.ts, kamailio.ts).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const wanted = RANGE.high > 0 && attempt < 40 ? RANGE.low + Math.floor(Math.random() * (RANGE.high - RANGE.low + 1)) : 0;
    const port = await tryTcp(wanted);
    if (port <= 0) continue;
    if (await tryUdp(port)) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

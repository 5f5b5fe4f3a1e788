/**
 * A tap on a TCP connection of the SIP transport or an MSRP session, or on the SIP transport's UDP
 * socket (one link per remote address): it sees every message before it is written and every read
 * or datagram as it arrives, and may write something else instead — later, in pieces, or not at
 * all — or reset the connection. The chaos clients (socket-level hostile
 * behaviours of the built-in client) are taps; nothing else uses one, and without a tap the
 * transports behave exactly as before.
 */
import type { Socket } from 'node:net';
import type { Protocol } from './trace.ts';

export interface WireLink {
  readonly protocol: Exclude<Protocol, 'ut'>;
  /** UDP links are SIP only; every write is one datagram. */
  readonly transport: 'tcp' | 'udp';
  /** The connection id the transport traces (for UDP: `udp:<address>:<port>` of the remote). */
  readonly id: string;
  /** Writes these bytes to the socket now, untraced; false once the socket is gone. */
  write(bytes: Buffer): boolean;
  /** Sends a TCP RST and drops the connection (UDP: nothing to reset). */
  reset(): void;
  /** True once the socket can no longer be written. */
  readonly destroyed: boolean;
  /** The TCP socket itself, for behaviours that change how it closes; undefined for UDP. */
  readonly socket: Socket | undefined;
}

export interface WireTap {
  /** A connection was opened or accepted. */
  opened?(link: WireLink): void;
  /** One message about to be written: return true when the tap took it over (the transport writes nothing). */
  outbound?(bytes: Buffer, link: WireLink): boolean;
  /** One read, before framing. */
  inbound?(bytes: Buffer, link: WireLink): void;
}

/** The link of a socket, for a transport that has a tap. */
export function wireLink(protocol: WireLink['protocol'], id: string, socket: Socket): WireLink {
  return {
    protocol,
    transport: 'tcp',
    id,
    socket,
    write: (bytes) => {
      if (socket.destroyed || !socket.writable) return false;
      socket.write(bytes);
      return true;
    },
    reset: () => {
      if (!socket.destroyed) socket.resetAndDestroy();
    },
    get destroyed() {
      return socket.destroyed || !socket.writable;
    },
  };
}

/** The link of one remote address on a UDP socket: every write is one datagram to it. */
export function udpLink(id: string, send: (bytes: Buffer) => void, closed: () => boolean): WireLink {
  return {
    protocol: 'sip',
    transport: 'udp',
    id,
    socket: undefined,
    write: (bytes) => {
      if (closed()) return false;
      send(bytes);
      return true;
    },
    reset: () => {},
    get destroyed() {
      return closed();
    },
  };
}

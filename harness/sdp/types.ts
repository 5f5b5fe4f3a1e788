import type { Diagnostic } from '../core/diagnostic.ts';
import type { MsrpSessionDescription } from './grammar.ts';

/** RFC 8866 §6.7 media direction attributes. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** RFC 4145 §4 `a=setup` values. */
export type SetupValue = 'actpass' | 'active' | 'passive' | 'holdconn';
export const SETUP_VALUES: readonly SetupValue[] = ['actpass', 'active', 'passive', 'holdconn'];

export type Level = 'session' | 'media';

/** Where a line sits in the input: byte offset and exact bytes (without its line end). */
export interface LineRef {
  readonly offset: number;
  readonly bytes: Buffer;
}

/** A direction attribute as seen on the wire, in order of appearance. */
export interface DirectionAttribute extends LineRef {
  readonly value: Direction;
  readonly level: Level;
}

/** One `m=` section as the harness sees it (authoritative over sdp-transform's object). */
export interface MediaView {
  /** 0-based position among the m= lines. */
  readonly index: number;
  readonly type: string;
  readonly port: number;
  /** The `/<number of ports>` suffix, when present. */
  readonly portCount?: number;
  readonly protocol: string;
  readonly formats: string[];
  /** Media-level direction attributes in wire order (more than one is an RFC 8866 §6.7 violation). */
  readonly directions: DirectionAttribute[];
  /** Valid `a=setup` value, media level first, else session level. */
  readonly setup?: SetupValue;
  /** The `a=setup` value as written (may be invalid), and the level it came from. */
  readonly setupRaw?: string;
  readonly setupLevel?: Level;
  /** `a=path` URIs split on SP (RFC 4975 §8.2); empty when absent. */
  readonly path: string[];
  readonly acceptTypes: string[];
  readonly acceptWrappedTypes: string[];
  readonly maxSize?: number;
  /** Media-level c= address, else the session-level one. */
  readonly connectionAddress?: string;
  /** The m= line itself. */
  readonly line: LineRef;
  /** Every attribute line of this media section in wire order: name, value (after ':'), bytes. */
  readonly attributes: AttributeLine[];
}

export interface AttributeLine extends LineRef {
  readonly name: string;
  readonly value?: string;
}

export interface ParsedSdp {
  /** sdp-transform's object (with path/acceptTypes/acceptWrappedTypes/maxSize fields). Lenient: prefer `media`. */
  readonly session: MsrpSessionDescription;
  readonly raw: Buffer;
  readonly diagnostics: Diagnostic[];
  readonly media: MediaView[];
  /** Session-level direction attributes in wire order. */
  readonly sessionDirections: DirectionAttribute[];
  /** Session-level attribute lines in wire order. */
  readonly sessionAttributes: AttributeLine[];
  readonly sessionConnectionAddress?: string;
}

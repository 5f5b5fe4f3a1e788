/**
 * Limits on what a client under test can make the harness hold, parse or write. Every number from
 * the wire is checked against one of these before it is used (an allocation, a buffer, a loop), and
 * crossing one is a client fault reported as a diagnostic with the RFC clause, never an exception.
 *
 * The parser-level limits are enforced by the codecs (sip, msrp, cpim, xml) and by `diagnostic()`;
 * the per-case runtime limits (messagesPerSecond, connectionsPerCase, traceBytesPerCase,
 * framingTimeoutMs) by the case's fault boundary (core/scope.ts), the transports it watches and the
 * case's trace recorder.
 * Configurable through the `limits` section of the config file (see `cpm-harness init`).
 */
export interface Limits {
  /** One SIP message, start line + headers + body, in octets (RFC 3261 §21.5.14 413/513 territory). */
  sipMessageBytes: number;
  /** One SIP header line (a field with its folds), in octets. */
  sipHeaderLineBytes: number;
  /** Body of one MSRP chunk, in octets (RFC 4975 §7.1; the harness gives 413 above it). */
  msrpChunkBytes: number;
  /**
   * A whole MSRP message: the declared Byte-Range total, checked before anything is allocated for
   * it, and the bytes received for one Message-ID (RFC 4975 §7.3.1). a=max-size, where the receiving
   * side advertised one (RFC 4975 §8.6), lowers it for that session.
   */
  msrpMessageBytes: number;
  /** One CPIM header line, in octets (RFC 3862 §3). */
  cpimHeaderBytes: number;
  /** One XML document (IMDN, conference-info), in octets. */
  xmlDocumentBytes: number;
  /** One XML attribute value, in octets. */
  xmlAttributeBytes: number;
  /** Element nesting depth of one XML document. */
  xmlDepth: number;
  /** Runtime: messages (SIP and MSRP) a client may send per case within any one second; more end the case. */
  messagesPerSecond: number;
  /** Runtime: TCP connections a client may open per case (SIP + MSRP); the one over the limit ends the case. */
  connectionsPerCase: number;
  /** Runtime: trace bytes kept per case; the rest is summarized as "N more messages, M bytes, elided". */
  traceBytesPerCase: number;
  /**
   * Runtime: how long a SIP or MSRP message on TCP may stay unfinished after its first octet — a body
   * shorter than its Content-Length, a frame without its end-line, a client dripping bytes (slowloris).
   * Crossing it ends the case with SIP_INCOMPLETE_MESSAGE / MSRP_INCOMPLETE_FRAME.
   */
  framingTimeoutMs: number;
  /** Characters of one diagnostic message and octets of its evidence bytes (longer ones are cut, saying so). */
  diagnosticTextBytes: number;
}

/**
 * Defaults: far above what any conforming CPM client sends in these test cases (an IMDN is < 1 kB,
 * a conference NOTIFY a few kB), far below what hurts a 2-core CI machine.
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  sipMessageBytes: 256 * 1024,
  sipHeaderLineBytes: 16 * 1024,
  msrpChunkBytes: 1024 * 1024,
  msrpMessageBytes: 16 * 1024 * 1024,
  cpimHeaderBytes: 4 * 1024,
  xmlDocumentBytes: 1024 * 1024,
  xmlAttributeBytes: 8 * 1024,
  xmlDepth: 32,
  messagesPerSecond: 200,
  connectionsPerCase: 32,
  traceBytesPerCase: 8 * 1024 * 1024,
  framingTimeoutMs: 10_000,
  diagnosticTextBytes: 2048,
});

/** One line per limit for docs and `--help`: name, default, what it bounds. */
export const LIMIT_DESCRIPTIONS: Readonly<Record<keyof Limits, string>> = {
  sipMessageBytes: 'one SIP message (start line, headers and body), octets',
  sipHeaderLineBytes: 'one SIP header line with its folds, octets',
  msrpChunkBytes: 'body of one MSRP chunk, octets',
  msrpMessageBytes: 'one MSRP message: declared Byte-Range total and bytes received per Message-ID, octets (a=max-size lowers it)',
  cpimHeaderBytes: 'one CPIM header line, octets',
  xmlDocumentBytes: 'one IMDN or conference-info document, octets',
  xmlAttributeBytes: 'one XML attribute value, octets',
  xmlDepth: 'element nesting depth of one XML document',
  messagesPerSecond: 'messages a client may send per case per second (runtime)',
  connectionsPerCase: 'TCP connections a client may open per case (runtime)',
  traceBytesPerCase: 'trace bytes kept per case, the rest summarized as elided (runtime)',
  framingTimeoutMs: 'ms a SIP or MSRP message may stay unfinished after its first octet (runtime)',
  diagnosticTextBytes: 'characters of a diagnostic message and octets of its evidence',
};

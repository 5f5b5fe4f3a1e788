/**
 * SIP serializer: start line, header fields in the order given with names as given, empty line,
 * body. A field straight from the parser (name and value untouched) is written with its received
 * bytes, so parse → serialize is byte-identical.
 *
 * A message with no such field (every message the harness builds) is written as one string and
 * encoded once: one Buffer per line and a concat of them all was a visible share of a call's CPU.
 * Both paths give the same bytes (UTF-8 of a concatenation is the concatenation of the UTF-8 of
 * its parts); test/sip/codec.test.ts holds them to it.
 */
import { wireBytesOf } from './parser.ts';
import { canonicalHeaderName, startLine, type SipMessage } from './message.ts';

export interface SerializeOptions {
  /**
   * `compute` (default): every Content-Length field gets the body's octet length in place, and one
   * is appended when missing. `verbatim`: the fields exactly as given (for deliberately broken messages).
   */
  contentLength?: 'compute' | 'verbatim';
  lineEnding?: '\r\n' | '\n';
}

export function serializeSipMessage(msg: SipMessage, options: SerializeOptions = {}): Buffer {
  const eol = options.lineEnding ?? '\r\n';
  const compute = (options.contentLength ?? 'compute') === 'compute';
  const bodyLength = String(msg.body.length);
  let text = startLine(msg) + eol;
  let sawContentLength = false;
  for (const field of msg.headers) {
    if (wireBytesOf(field) !== undefined) return serializeByParts(msg, options);
    if (compute && canonicalHeaderName(field.name) === 'content-length') {
      sawContentLength = true;
      text += `${field.name}: ${bodyLength}${eol}`;
    } else text += `${field.name}: ${field.value}${eol}`;
  }
  if (compute && !sawContentLength) text += `Content-Length: ${bodyLength}${eol}`;
  text += eol;
  const body = msg.body;
  if (body.length === 0) return Buffer.from(text, 'utf8');
  const headLength = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(headLength + body.length);
  out.write(text, 0, 'utf8');
  body.copy(out, headLength);
  return out;
}

/**
 * The general path, line by line: received fields keep their exact bytes, the rest is written
 * `Name: value`. Exported for the differential test of the one-string path.
 */
export function serializeByParts(msg: SipMessage, options: SerializeOptions = {}): Buffer {
  const eol = options.lineEnding ?? '\r\n';
  const compute = (options.contentLength ?? 'compute') === 'compute';
  const bodyLength = String(msg.body.length);
  const eolBytes = Buffer.from(eol, 'latin1');
  const parts: Buffer[] = [Buffer.from(startLine(msg), 'utf8'), eolBytes];
  let sawContentLength = false;
  for (const field of msg.headers) {
    const isContentLength = compute && canonicalHeaderName(field.name) === 'content-length';
    if (isContentLength) sawContentLength = true;
    const original = wireBytesOf(field);
    if (original !== undefined && (!isContentLength || field.value === bodyLength)) parts.push(original);
    else parts.push(Buffer.from(`${field.name}: ${isContentLength ? bodyLength : field.value}`, 'utf8'));
    parts.push(eolBytes);
  }
  if (compute && !sawContentLength) parts.push(Buffer.from(`Content-Length: ${bodyLength}`, 'latin1'), eolBytes);
  parts.push(eolBytes, msg.body);
  return Buffer.concat(parts);
}

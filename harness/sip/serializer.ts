/**
 * SIP serializer: start line, header fields in the order given with names as given, empty line,
 * body. A field straight from the parser (name and value untouched) is written with its received
 * bytes, so parse → serialize is byte-identical.
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
  const eolBytes = Buffer.from(eol, 'latin1');
  const compute = (options.contentLength ?? 'compute') === 'compute';
  const bodyLength = String(msg.body.length);
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

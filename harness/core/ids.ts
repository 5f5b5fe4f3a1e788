import { randomBytes } from 'node:crypto';

/** Lower-case hex token with `bytes` bytes of randomness (8 bytes = 64 bits, RFC 4975 §7.1). */
export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/** RFC 3261 §8.1.1.7: every branch we generate starts with the magic cookie. */
export function newBranch(): string {
  return `z9hG4bK${randomToken(8)}`;
}

export function newTag(): string {
  return randomToken(6);
}

export function newCallId(host: string): string {
  return `${randomToken(10)}@${host}`;
}

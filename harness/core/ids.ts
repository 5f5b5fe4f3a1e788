import { randomFillSync } from 'node:crypto';

/**
 * Randomness for branches, tags, Call-IDs and MSRP ids comes from one pooled buffer refilled from
 * the CSPRNG 4 KiB at a time: one `randomBytes` call per id was a visible share of a call's CPU.
 * Every byte is used once, so ids stay as unpredictable as before.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let used = POOL_BYTES;

/** Lower-case hex token with `bytes` bytes of randomness (8 bytes = 64 bits, RFC 4975 §7.1). */
export function randomToken(bytes = 8): string {
  if (bytes > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(bytes)).toString('hex');
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const token = pool.toString('hex', used, used + bytes);
  used += bytes;
  return token;
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

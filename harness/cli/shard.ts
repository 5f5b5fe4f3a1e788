/**
 * `--shard <i>/<n>`: a deterministic split of the selected cases for a CI matrix. Case k of the
 * selection (0-based, catalogue order) goes to shard (k mod n) + 1: the shards are disjoint, add
 * up to the selection, and each gets every n-th case, so long groups spread over all shards.
 */
import type { ShardSpec } from '../reporters/run-report.ts';
import type { Checked } from './clients.ts';

export function parseShard(text: string): Checked<ShardSpec> {
  const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    return { ok: false, message: `--shard ${JSON.stringify(text)} is not <i>/<n> with 1 ≤ i ≤ n, e.g. --shard 2/3 (the second of three shards)` };
  }
  return { ok: true, value: { index, count } };
}

/** The items of one shard, each with its position in the whole selection. */
export function selectShard<T>(items: readonly T[], shard: ShardSpec | undefined): { item: T; order: number }[] {
  const all = items.map((item, order) => ({ item, order }));
  return shard ? all.filter(({ order }) => order % shard.count === shard.index - 1) : all;
}

/** Runs tasks with at most `jobs` at once, in order of the input; stops starting new ones when aborted. */
export async function runPool<T, R>(
  items: readonly T[],
  jobs: number,
  work: (item: T, index: number) => Promise<R>,
  options: { signal?: AbortSignal; notStarted: (item: T, index: number) => R },
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      const item = items[index]!;
      results[index] = options.signal?.aborted ? options.notStarted(item, index) : await work(item, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}

export type Raced<T> = { kind: 'done'; value: T } | { kind: 'timeout' } | { kind: 'aborted' } | { kind: 'threw'; error: unknown };

/** Races a promise against a timeout and an abort signal; never rejects. */
export function race<T>(promise: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<Raced<T>> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Raced<T>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = (): void => finish({ kind: 'aborted' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    if (signal?.aborted) finish({ kind: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => finish({ kind: 'done', value }),
      (error: unknown) => finish({ kind: 'threw', error }),
    );
  });
}

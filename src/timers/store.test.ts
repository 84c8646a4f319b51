import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyDoesNotExistError, PreconditionFailedError, type Json, type KV } from '../lib/index.js';
import { claimDue, scheduleTimer } from './bucket.js';
import { createStore, type ChangeResult, type Store } from './store.js';

const limits = { maxEntries: 100, doneRetentionMs: 1000 };
const config = { bucketCount: 1, maxQueuedPerBucket: 8, maxChangesPerCas: 4, changeDeadlineMs: 1000, readRetryMs: 10 };

/** lin-kv in memory, answering on the next microtask; counts requests. */
function fakeLinKv(): { kv: KV; requests: string[] } {
  const data = new Map<string, Json>();
  const requests: string[] = [];
  const kv: KV = {
    service: 'lin-kv',
    async read(key) {
      requests.push('read');
      if (!data.has(String(key))) throw new KeyDoesNotExistError();
      return data.get(String(key)) as Json;
    },
    async readOr(key, fallback) {
      requests.push('read');
      return data.has(String(key)) ? (data.get(String(key)) as Json) : fallback;
    },
    async write(key, value) {
      data.set(String(key), value);
    },
    async cas(key, from, to, options = {}) {
      requests.push('cas');
      const k = String(key);
      if (!data.has(k) && !options.createIfNotExists) throw new KeyDoesNotExistError();
      if (data.has(k) && !isDeepStrictEqual(data.get(k), from)) throw new PreconditionFailedError();
      data.set(k, to);
    },
  };
  return { kv, requests };
}

function storeOn(kv: KV): Store {
  return createStore({ kv, nowMs: () => 0, after: (ms, fn) => void setTimeout(fn, ms), observe: () => {}, log: () => {} }, config);
}

function change<O>(store: Store, apply: Parameters<Store['change']>[1]): Promise<ChangeResult<O>> {
  return new Promise((resolve) => store.change(0, apply, (result) => resolve(result as ChangeResult<O>)));
}

describe('bucket store', () => {
  it('re-applies a change after another node wrote the bucket (refused cas, read, cas again)', async () => {
    const { kv, requests } = fakeLinKv();
    const a = storeOn(kv);
    const b = storeOn(kv);
    expect(await change(a, (bucket) => scheduleTimer(bucket, 'x', 5, 0, limits))).toEqual({ ok: true, outcome: 'scheduled' });
    expect(await change(b, (bucket) => scheduleTimer(bucket, 'y', 5, 0, limits))).toEqual({ ok: true, outcome: 'scheduled' });
    requests.length = 0;
    expect(await change(a, (bucket) => scheduleTimer(bucket, 'z', 5, 0, limits))).toEqual({ ok: true, outcome: 'scheduled' });
    expect(requests).toEqual(['cas', 'read', 'cas']);
  });

  it('does not answer "nothing there" from a value learned before the change was queued', async () => {
    const { kv } = fakeLinKv();
    const leader = storeOn(kv);
    const other = storeOn(kv);
    await change(leader, (bucket) => scheduleTimer(bucket, 'x', 50, 0, limits));
    // another node adds a due timer; the leader's cached bucket does not have it
    await change(other, (bucket) => scheduleTimer(bucket, 'late-news', 1, 0, limits));
    const claimed = await change<Array<{ id: string }>>(leader, (bucket) => claimDue(bucket, 1, 10, 10));
    expect(claimed.ok && claimed.outcome.map(({ id }) => id)).toEqual(['late-news']);
  });

  it('carries changes queued meanwhile in one cas, and refuses past its queue bound', async () => {
    const { kv, requests } = fakeLinKv();
    const store = storeOn(kv);
    const results = Array.from({ length: 9 }, (_, k) => change(store, (bucket) => scheduleTimer(bucket, `t${k}`, 5, 0, limits)));
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r.ok).length).toBe(8);
    expect(settled[8]).toMatchObject({ ok: false, definite: true });
    // all eight wait for the first read, then leave at most 4 per cas
    expect(requests).toEqual(['read', 'cas', 'cas']);
  });
});

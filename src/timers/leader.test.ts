import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeyDoesNotExistError, PreconditionFailedError, type Json, type KV, type Node } from '../lib/index.js';
import { defaultOptions } from './args.js';
import { claimDue, encodeBucket, scheduleTimer, type Bucket } from './bucket.js';
import { createFiring, firedKey } from './leader.js';
import type { LeaseState } from './lease.js';
import { bucketKey, createStore } from './store.js';

const options = { ...defaultOptions, buckets: 1 };
const limits = { maxEntries: 100, doneRetentionMs: 60_000 };

/** A leader of `epoch` over an in-memory lin-kv holding `bucket`; fires and timers are recorded. */
function leaderOver(bucket: Bucket, epoch: number, records: Record<string, Json> = {}) {
  const data = new Map<string, Json>([[bucketKey(0), encodeBucket(bucket)], ...Object.entries(records)]);
  // Every request takes a few ms, as through the network, so a leader's ticks and sweeps interleave with them.
  const later = () => new Promise((resolve) => setTimeout(resolve, 3));
  const kv: KV = {
    service: 'lin-kv',
    read: async (key) => {
      await later();
      if (!data.has(String(key))) throw new KeyDoesNotExistError();
      return data.get(String(key)) as Json;
    },
    readOr: async (key, fallback) => {
      await later();
      return data.has(String(key)) ? (data.get(String(key)) as Json) : fallback;
    },
    write: async (key, value) => {
      await later();
      data.set(String(key), value);
    },
    cas: async (key, from, to) => {
      await later();
      if (!isDeepStrictEqual(data.get(String(key)) ?? null, from)) throw new PreconditionFailedError();
      data.set(String(key), to);
    },
  };
  const fires: string[] = [];
  const node = {
    rpc: async (dest: string, body: { type: string; timer?: Json }) => {
      if (dest === 'webhook') fires.push(String(body.timer));
      return { type: 'fire_ok' };
    },
    after: (ms: number, fn: () => void) => {
      const timer = setTimeout(fn, ms);
      return () => clearTimeout(timer);
    },
    log: () => {},
  } as unknown as Node;
  const lease: LeaseState = { role: 'leader', record: { epoch, holder: 'n1', beat: 0 }, validUntilMs: Infinity, lastRenewMs: 0, inFlight: false };
  let firing: ReturnType<typeof createFiring> | undefined;
  const store = createStore({ kv, nowMs: () => Date.now(), after: (ms, fn) => void setTimeout(fn, ms), observe: (b, v) => firing?.observe(b, v), log: () => {} }, { ...options, bucketCount: 1 });
  firing = createFiring({ node, kv, store, clock: { epochMs: () => Date.now(), monoMs: () => performance.now() }, options, lease: () => lease });
  return { firing, store, fires, data };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 2));

describe('the leader', () => {
  it('fires a due pending timer once, and leaves its fired record in lin-kv', async () => {
    const bucket = scheduleTimer(new Map(), 't1', Date.now() - 5, 0, limits).next;
    const { firing, store, fires, data } = leaderOver(bucket, 1);
    store.refreshAll();
    for (let k = 0; k < 60; k++) {
      await settle();
      firing.fireDue();
    }
    expect(fires).toEqual(['t1']);
    expect(data.get(firedKey('t1'))).toBe(1);
  });

  it("does not fire again what its predecessor's fired record says was fired, while it claims other timers of the bucket", async () => {
    let bucket = claimDue(scheduleTimer(new Map(), 't1', Date.now() - 5, 0, limits).next, 1, Date.now(), 10).next;
    for (let k = 2; k <= 9; k++) bucket = scheduleTimer(bucket, `t${k}`, Date.now() + 4 * k, 0, limits).next;
    const { firing, store, fires } = leaderOver(bucket, 2, { [firedKey('t1')]: 1 });
    for (let k = 0; k < 60; k++) {
      if (k % 3 === 0) store.refreshAll();
      await settle();
      firing.fireDue();
    }
    expect(fires.sort()).toEqual(['t2', 't3', 't4', 't5', 't6', 't7', 't8', 't9']);
  });

  it("fires what its predecessor claimed and never fired (no fired record)", async () => {
    const claimedByOne = claimDue(scheduleTimer(new Map(), 't1', Date.now() - 5, 0, limits).next, 1, Date.now(), 10).next;
    const { firing, store, fires } = leaderOver(claimedByOne, 2);
    for (let k = 0; k < 60; k++) {
      if (k % 3 === 0) store.refreshAll();
      await settle();
      firing.fireDue();
    }
    expect(fires).toEqual(['t1']);
  });
});

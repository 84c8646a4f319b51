// The durable timer table, as pure functions over one bucket (docs/workloads/timers.md).
//
// Timers live in lin-kv under a fixed number of bucket keys (a timer's bucket is a hash of its
// id). Every change to a bucket is one compare-and-set from the value a node last saw to the value
// these functions compute, so two nodes never overwrite each other's changes, and a cas whose
// outcome is unknown can be retried by re-reading and applying the same change again: every
// change here is idempotent (applying it to its own result changes nothing and gives the same
// answer).
//
// A timer's life: pending -> firing(epoch) -> fired, or pending -> cancelled. `firing` is the
// leader's claim, written before it sends the fire: a cancel that finds it is too late (22), and a
// leader of a later epoch that finds it fires the timer again unless the claimant's fired record
// (server.ts) says it was sent, because the claimant may have died before sending. So a crash
// between claim and fire costs a duplicate at worst, never a missed timer.

import type { Json } from '../lib/index.js';

export type TimerEntry =
  | { state: 'pending'; dueMs: number }
  | { state: 'firing'; dueMs: number; epoch: number }
  | { state: 'fired'; dueMs: number; doneAtMs: number }
  | { state: 'cancelled'; dueMs: number; doneAtMs: number };

/** One bucket's timers by id. Treated as immutable: every change returns a new map. */
export type Bucket = ReadonlyMap<string, TimerEntry>;

export interface BucketLimits {
  /** entries (live and done) one bucket may hold: bounds every cas body */
  maxEntries: number;
  /** how long a fired or cancelled timer is remembered, so a late cancel gets 22 rather than 20 */
  doneRetentionMs: number;
}

export type ScheduleOutcome = 'scheduled' | 'conflict' | 'full';
export type CancelOutcome = 'cancelled' | 'not-found' | 'already-done';

export interface Change<O> {
  next: Bucket;
  outcome: O;
}

const stateCodes = { pending: 0, firing: 1, fired: 2, cancelled: 3 } as const;

/** The bucket as stored in lin-kv: [id, due_ms, state code, epoch or done time] per timer, by id. */
export function encodeBucket(bucket: Bucket): Json {
  const rows: Json[] = [];
  for (const id of [...bucket.keys()].sort()) {
    const entry = bucket.get(id) as TimerEntry;
    const extra = entry.state === 'firing' ? entry.epoch : entry.state === 'pending' ? 0 : entry.doneAtMs;
    rows.push([id, entry.dueMs, stateCodes[entry.state], extra]);
  }
  return rows;
}

/** The stored value back as a bucket; a missing key is an empty bucket. Throws on a value we did not write. */
export function decodeBucket(value: Json | undefined): Bucket {
  const bucket = new Map<string, TimerEntry>();
  if (value === undefined || value === null) return bucket;
  if (!Array.isArray(value)) throw new TypeError('a timer bucket must be an array');
  for (const row of value) {
    if (!Array.isArray(row) || row.length !== 4) throw new TypeError('a timer row must be [id, due, state, extra]');
    const [id, dueMs, code, extra] = row;
    if (typeof id !== 'string' || typeof dueMs !== 'number' || typeof extra !== 'number') throw new TypeError('bad timer row');
    bucket.set(id, entryOf(dueMs, code ?? null, extra));
  }
  return bucket;
}

function entryOf(dueMs: number, code: Json, extra: number): TimerEntry {
  switch (code) {
    case stateCodes.pending:
      return { state: 'pending', dueMs };
    case stateCodes.firing:
      return { state: 'firing', dueMs, epoch: extra };
    case stateCodes.fired:
      return { state: 'fired', dueMs, doneAtMs: extra };
    case stateCodes.cancelled:
      return { state: 'cancelled', dueMs, doneAtMs: extra };
    default:
      throw new TypeError(`unknown timer state ${JSON.stringify(code)}`);
  }
}

/** Which bucket holds a timer: FNV-1a of its id. */
export function bucketOf(timerId: string, bucketCount: number): number {
  let hash = 0x811c9dc5;
  for (let k = 0; k < timerId.length; k++) {
    hash ^= timerId.charCodeAt(k);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % bucketCount;
}

/**
 * Adds a pending timer. The same id with the same due time is the same request (a client's or our
 * own retry), whatever became of it since: 'scheduled' again. Another due time is a 'conflict'.
 */
export function scheduleTimer(bucket: Bucket, id: string, dueMs: number, nowMs: number, limits: BucketLimits): Change<ScheduleOutcome> {
  const existing = bucket.get(id);
  if (existing !== undefined) return { next: bucket, outcome: existing.dueMs === dueMs ? 'scheduled' : 'conflict' };
  const room = makeRoom(bucket, nowMs, limits);
  if (room.size >= limits.maxEntries) return { next: bucket, outcome: 'full' };
  const next = new Map(room);
  next.set(id, { state: 'pending', dueMs });
  return { next, outcome: 'scheduled' };
}

/**
 * Cancels a pending timer. A cancelled one answers 'cancelled' only to a retry of a cancel that
 * may already have landed (`retried`): for a first attempt someone else cancelled it, which is 22.
 */
export function cancelTimer(bucket: Bucket, id: string, nowMs: number, retried: boolean): Change<CancelOutcome> {
  const existing = bucket.get(id);
  if (existing === undefined) return { next: bucket, outcome: 'not-found' };
  if (existing.state === 'cancelled' && retried) return { next: bucket, outcome: 'cancelled' };
  if (existing.state !== 'pending') return { next: bucket, outcome: 'already-done' };
  const next = new Map(bucket);
  next.set(id, { state: 'cancelled', dueMs: existing.dueMs, doneAtMs: nowMs });
  return { next, outcome: 'cancelled' };
}

/** A timer a claim gave the leader; takenOver: an earlier leader had claimed it and may have fired it. */
export interface Claimed {
  id: string;
  dueMs: number;
  takenOver: boolean;
}

/**
 * The leader of `epoch` claims every timer of the bucket due by `horizonMs`: pending ones, and ones
 * an earlier leader claimed and may never have fired. Returns every such timer the bucket now shows
 * as ours, also those claimed by an earlier attempt of ours whose reply was lost, at most maxClaims.
 */
export function claimDue(bucket: Bucket, epoch: number, horizonMs: number, maxClaims: number): Change<Claimed[]> {
  let next: Map<string, TimerEntry> | undefined;
  const claimed: Claimed[] = [];
  for (const [id, entry] of bucket) {
    if (claimed.length >= maxClaims) break;
    if (entry.dueMs > horizonMs) continue;
    const ours = entry.state === 'firing' && entry.epoch === epoch;
    const takenOver = entry.state === 'firing' && entry.epoch < epoch;
    if (!ours && !takenOver && entry.state !== 'pending') continue;
    if (!ours) {
      next ??= new Map(bucket);
      next.set(id, { state: 'firing', dueMs: entry.dueMs, epoch });
    }
    claimed.push({ id, dueMs: entry.dueMs, takenOver });
  }
  return { next: next ?? bucket, outcome: claimed };
}

/** Records that the leader of `epoch` sent the fires of `ids`; entries another leader took are left alone. */
export function markFired(bucket: Bucket, ids: readonly string[], epoch: number, nowMs: number): Change<number> {
  let next: Map<string, TimerEntry> | undefined;
  let marked = 0;
  for (const id of ids) {
    const entry = bucket.get(id);
    if (entry === undefined || entry.state !== 'firing' || entry.epoch !== epoch) continue;
    next ??= new Map(bucket);
    next.set(id, { state: 'fired', dueMs: entry.dueMs, doneAtMs: nowMs });
    marked++;
  }
  return { next: next ?? bucket, outcome: marked };
}

/** Timers a leader must fire some day: pending ones and ones claimed by an epoch before `epoch` (taken over). */
export function liveTimers(bucket: Bucket, epoch: number): Array<{ id: string; dueMs: number; takenOver: boolean }> {
  const live: Array<{ id: string; dueMs: number; takenOver: boolean }> = [];
  for (const [id, entry] of bucket) {
    if (entry.state === 'pending') live.push({ id, dueMs: entry.dueMs, takenOver: false });
    else if (entry.state === 'firing' && entry.epoch < epoch) live.push({ id, dueMs: entry.dueMs, takenOver: true });
  }
  return live;
}

/**
 * Drops done timers past their retention, and then the oldest done ones while the bucket is full.
 * Live timers are never dropped: a full bucket of live timers refuses new ones instead.
 */
function makeRoom(bucket: Bucket, nowMs: number, limits: BucketLimits): Bucket {
  const done: Array<[string, number]> = [];
  for (const [id, entry] of bucket) {
    if (entry.state === 'fired' || entry.state === 'cancelled') done.push([id, entry.doneAtMs]);
  }
  const expired = done.filter(([, doneAtMs]) => nowMs - doneAtMs > limits.doneRetentionMs);
  const excess = bucket.size - expired.length - (limits.maxEntries - 1);
  const drop = new Set(expired.map(([id]) => id));
  if (excess > 0) {
    const oldest = done.filter(([id]) => !drop.has(id)).sort((a, b) => a[1] - b[1]);
    for (const [id] of oldest.slice(0, excess)) drop.add(id);
  }
  if (drop.size === 0) return bucket;
  const next = new Map(bucket);
  for (const id of drop) next.delete(id);
  return next;
}

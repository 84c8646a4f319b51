// Writes to the timer buckets in lin-kv (bucket.ts), one compare-and-set at a time per bucket per
// node, with every change queued meanwhile applied together in the next one (group commit: under
// load one cas carries many schedules). A refused cas (someone else wrote the bucket) or one whose
// outcome is unknown (timeout) re-reads the bucket and applies the same changes again, which is
// safe because every change in bucket.ts is idempotent.

import { KeyDoesNotExistError, PreconditionFailedError, type Json, type KV } from '../lib/index.js';
import { decodeBucket, encodeBucket, type Bucket, type Change } from './bucket.js';

/** How a queued change ended: applied (with its answer), or not, certainly or maybe. */
export type ChangeResult<O> = { ok: true; outcome: O } | { ok: false; definite: boolean; reason: string };

export interface StoreConfig {
  bucketCount: number;
  /** changes waiting per bucket; past it a change is refused at once */
  maxQueuedPerBucket: number;
  /** changes one cas carries */
  maxChangesPerCas: number;
  /** how long a change may wait and retry before it gives up */
  changeDeadlineMs: number;
  /** pause before reading again after a failed read */
  readRetryMs: number;
}

export interface Store {
  /** Queues a change to a bucket; `settle` is called once with its result. */
  change<O>(bucket: number, apply: (bucket: Bucket, nowMs: number, retried: boolean) => Change<O>, settle: (result: ChangeResult<O>) => void): void;
  /** Reads every bucket again (a new leader's recovery, the leader's periodic sweep). */
  refreshAll(): void;
  readonly queuedCount: number;
}

export interface StoreIo {
  kv: KV;
  /** Unix ms: the clock timers are due by */
  nowMs(): number;
  after(delayMs: number, fn: () => void): void;
  /** Every bucket value learned (read or written), for the leader's view. */
  observe(bucket: number, value: Bucket): void;
  log(text: string): void;
}

interface Pending {
  apply(bucket: Bucket, nowMs: number, retried: boolean): Change<unknown>;
  settle(result: ChangeResult<unknown>): void;
  deadlineMs: number;
  /** a cas carrying it was sent: it may have been applied */
  attempted: boolean;
  /** when it was queued, on the store's event counter */
  queuedAt: number;
}

interface Writer {
  index: number;
  key: string;
  /** the bucket's value as last read or written (null: no key yet), or undefined when it must be read */
  known: { value: Json } | undefined;
  /** when known was learned (a read's or a cas's reply), on the store's event counter */
  learnedAt: number;
  queue: Pending[];
  busy: boolean;
}

export function bucketKey(index: number): string {
  return `timers/bucket/${index}`;
}

export function createStore(io: StoreIo, config: StoreConfig): Store {
  const writers: Writer[] = Array.from({ length: config.bucketCount }, (_, index) => ({
    index,
    key: bucketKey(index),
    known: undefined,
    learnedAt: -1,
    queue: [],
    busy: false,
  }));
  let queuedCount = 0;
  // Orders queueing against learning: an answer that rests on what a bucket lacks (20 for a cancel,
  // nothing to claim) may come from a value only if that value was learned after the change was
  // queued; otherwise another node's write the asker already knows of could be missing from it.
  let events = 0;

  function settle(pending: Pending, result: ChangeResult<unknown>): void {
    queuedCount--;
    try {
      pending.settle(result);
    } catch (error) {
      io.log(`a change's callback failed: ${String(error)}`);
    }
  }

  function read(writer: Writer): void {
    writer.busy = true;
    io.kv.readOr(writer.key, null).then(
      (value) => {
        writer.known = { value };
        writer.learnedAt = ++events;
        writer.busy = false;
        io.observe(writer.index, decodeBucket(value));
        advance(writer);
      },
      (error: unknown) => {
        io.log(`reading ${writer.key} failed: ${String(error)}`);
        io.after(config.readRetryMs, () => {
          writer.busy = false;
          advance(writer);
        });
      },
    );
  }

  function advance(writer: Writer): void {
    if (writer.busy) return;
    expire(writer);
    if (writer.queue.length === 0) return;
    if (writer.known === undefined) {
      read(writer);
      return;
    }
    const batch = writer.queue.slice(0, config.maxChangesPerCas);
    const base = decodeBucket(writer.known.value);
    const nowMs = io.nowMs();
    let current = base;
    const outcomes: unknown[] = [];
    for (const pending of batch) {
      const change = pending.apply(current, nowMs, pending.attempted);
      current = change.next;
      outcomes.push(change.outcome);
    }
    if (current === base) {
      // Nothing to write: answered from the value only if it was learned after every change was queued.
      if (batch.some((pending) => pending.queuedAt > writer.learnedAt)) {
        writer.known = undefined;
        read(writer);
        return;
      }
      writer.queue.splice(0, batch.length);
      batch.forEach((pending, k) => settle(pending, { ok: true, outcome: outcomes[k] }));
      advance(writer);
      return;
    }
    write(writer, batch, encodeBucket(current), current, outcomes);
  }

  function write(writer: Writer, batch: Pending[], to: Json, toBucket: Bucket, outcomes: unknown[]): void {
    const from = (writer.known as { value: Json }).value;
    for (const pending of batch) pending.attempted = true;
    writer.busy = true;
    io.kv.cas(writer.key, from, to, { createIfNotExists: from === null }).then(
      () => {
        writer.known = { value: to };
        writer.learnedAt = ++events;
        writer.busy = false;
        writer.queue.splice(0, batch.length);
        io.observe(writer.index, toBucket);
        batch.forEach((pending, k) => settle(pending, { ok: true, outcome: outcomes[k] }));
        // Changes queued by those callbacks (the leader's fired marks) leave in this same turn.
        advance(writer);
      },
      (error: unknown) => {
        if (!(error instanceof PreconditionFailedError || error instanceof KeyDoesNotExistError)) {
          io.log(`cas on ${writer.key} failed: ${String(error)}`);
        }
        writer.known = undefined;
        writer.busy = false;
        advance(writer);
      },
    );
  }

  function expire(writer: Writer): void {
    const nowMs = io.nowMs();
    const expired = writer.queue.filter((pending) => pending.deadlineMs <= nowMs);
    if (expired.length === 0) return;
    writer.queue = writer.queue.filter((pending) => pending.deadlineMs > nowMs);
    for (const pending of expired) {
      settle(pending, { ok: false, definite: !pending.attempted, reason: `lin-kv did not take the change within ${config.changeDeadlineMs} ms` });
    }
  }

  return {
    change(bucket, apply, settleChange) {
      const writer = writers[bucket];
      if (writer === undefined) throw new RangeError(`no bucket ${bucket}`);
      const result = settleChange as (result: ChangeResult<unknown>) => void;
      if (writer.queue.length >= config.maxQueuedPerBucket) {
        result({ ok: false, definite: true, reason: `${config.maxQueuedPerBucket} changes already wait for this bucket` });
        return;
      }
      queuedCount++;
      writer.queue.push({ apply, settle: result, deadlineMs: io.nowMs() + config.changeDeadlineMs, attempted: false, queuedAt: ++events });
      advance(writer);
    },
    refreshAll() {
      for (const writer of writers) {
        if (writer.busy) continue;
        writer.known = undefined;
        read(writer);
      }
    },
    get queuedCount() {
      return queuedCount;
    },
  };
}

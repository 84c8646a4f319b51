import { describe, expect, it } from 'vitest';
import { bucketOf, cancelTimer, claimDue, decodeBucket, encodeBucket, liveTimers, markFired, scheduleTimer, type Bucket } from './bucket.js';

const limits = { maxEntries: 4, doneRetentionMs: 1000 };
const empty: Bucket = new Map();

describe('timer bucket', () => {
  it('round-trips through its stored form', () => {
    let bucket = scheduleTimer(empty, 'a', 100, 0, limits).next;
    bucket = scheduleTimer(bucket, 'b', 50, 0, limits).next;
    bucket = claimDue(bucket, 3, 60, 10).next;
    bucket = cancelTimer(bucket, 'a', 70, false).next;
    expect(decodeBucket(encodeBucket(bucket))).toEqual(bucket);
    expect(() => decodeBucket({ a: 1 })).toThrow();
  });

  it('schedules idempotently and refuses another due time for the same id', () => {
    const once = scheduleTimer(empty, 'a', 100, 0, limits);
    expect(once.outcome).toBe('scheduled');
    const again = scheduleTimer(once.next, 'a', 100, 0, limits);
    expect(again).toEqual({ next: once.next, outcome: 'scheduled' });
    expect(scheduleTimer(once.next, 'a', 101, 0, limits).outcome).toBe('conflict');
  });

  it('cancels only pending timers; a retried cancel of its own cancel is ok, a first one is 22', () => {
    const bucket = scheduleTimer(empty, 'a', 100, 0, limits).next;
    const cancelled = cancelTimer(bucket, 'a', 5, false);
    expect(cancelled.outcome).toBe('cancelled');
    expect(cancelTimer(cancelled.next, 'a', 6, true).outcome).toBe('cancelled');
    expect(cancelTimer(cancelled.next, 'a', 6, false).outcome).toBe('already-done');
    expect(cancelTimer(cancelled.next, 'zz', 6, false).outcome).toBe('not-found');
    const claimed = claimDue(bucket, 1, 100, 10).next;
    expect(cancelTimer(claimed, 'a', 100, false).outcome).toBe('already-done');
  });

  it('claims due pending timers and those of earlier epochs, never a later epoch or a cancelled one', () => {
    let bucket = scheduleTimer(empty, 'due', 10, 0, limits).next;
    bucket = scheduleTimer(bucket, 'later', 1000, 0, limits).next;
    bucket = scheduleTimer(bucket, 'gone', 10, 0, limits).next;
    bucket = cancelTimer(bucket, 'gone', 1, false).next;
    const byOne = claimDue(bucket, 1, 20, 10);
    expect(byOne.outcome).toEqual([{ id: 'due', dueMs: 10, takenOver: false }]);
    // epoch 1's own retry sees its claim again; epoch 2 takes it over; epoch 1 then gets nothing
    expect(claimDue(byOne.next, 1, 20, 10)).toEqual({ next: byOne.next, outcome: [{ id: 'due', dueMs: 10, takenOver: false }] });
    const byTwo = claimDue(byOne.next, 2, 20, 10);
    expect(byTwo.outcome).toEqual([{ id: 'due', dueMs: 10, takenOver: true }]);
    expect(claimDue(byTwo.next, 1, 20, 10).outcome).toEqual([]);
    expect(liveTimers(byTwo.next, 3).map((t) => t.id).sort()).toEqual(['due', 'later']);
  });

  it('marks fired only what this epoch claimed', () => {
    const bucket = claimDue(scheduleTimer(empty, 'a', 10, 0, limits).next, 2, 20, 10).next;
    expect(markFired(bucket, ['a'], 1, 30).outcome).toBe(0);
    const marked = markFired(bucket, ['a'], 2, 30);
    expect(marked.outcome).toBe(1);
    expect(marked.next.get('a')).toEqual({ state: 'fired', dueMs: 10, doneAtMs: 30 });
    expect(markFired(marked.next, ['a'], 2, 40).next).toBe(marked.next);
  });

  it('makes room by dropping done timers, never live ones', () => {
    let bucket: Bucket = empty;
    for (const id of ['a', 'b', 'c', 'd']) bucket = scheduleTimer(bucket, id, 10, 0, limits).next;
    expect(scheduleTimer(bucket, 'e', 10, 0, limits).outcome).toBe('full');
    bucket = cancelTimer(bucket, 'a', 5, false).next;
    const made = scheduleTimer(bucket, 'e', 10, 6, limits);
    expect(made.outcome).toBe('scheduled');
    expect([...made.next.keys()].sort()).toEqual(['b', 'c', 'd', 'e']);
  });

  it('spreads ids over buckets', () => {
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 400; k++) counts[bucketOf(`t${k}`, 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(60);
  });
});

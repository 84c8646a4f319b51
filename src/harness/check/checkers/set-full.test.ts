import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import { checkSetFull, latencyQuantiles, nanosToWholeMs } from './set-full.js';

const MS = 1_000_000;

describe('latencyQuantiles', () => {
  it('takes sorted[min(n-1, floor(n*p))]', () => {
    const values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(latencyQuantiles(values)).toEqual({ '0': 1, '0.5': 6, '0.95': 10, '0.99': 10, '1': 10 });
    const twenty = Array.from({ length: 20 }, (_, i) => 100 + i);
    // floor(20 * 0.95) = 19 is the last; floor(20 * 0.5) = 10
    expect(latencyQuantiles(twenty)).toEqual({ '0': 100, '0.5': 110, '0.95': 119, '0.99': 119, '1': 119 });
    const hundredOne = Array.from({ length: 101 }, (_, i) => i);
    // floor(101 * 0.95) = 95, floor(101 * 0.99) = 99
    expect(latencyQuantiles(hundredOne)).toEqual({ '0': 0, '0.5': 50, '0.95': 95, '0.99': 99, '1': 100 });
    expect(latencyQuantiles([7])).toEqual({ '0': 7, '0.5': 7, '0.95': 7, '0.99': 7, '1': 7 });
  });

  it('is undefined for no values', () => {
    expect(latencyQuantiles([])).toBeUndefined();
  });
});

describe('nanosToWholeMs', () => {
  it('truncates, never rounds up, and clamps at zero', () => {
    expect(nanosToWholeMs(2_999_999)).toBe(2);
    expect(nanosToWholeMs(3_000_000)).toBe(3);
    expect(nanosToWholeMs(999_999)).toBe(0);
    expect(nanosToWholeMs(-5 * MS)).toBe(0);
  });
});

describe('checkSetFull', () => {
  it('calls an element stable with latency 0 when no read ever missed it', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 7, 0);
    h.complete(0, 'ok', 'add', 7, 1 * MS);
    h.invoke(1, 'read', null, 2 * MS);
    h.complete(1, 'ok', 'read', [7], 3 * MS);
    const r = checkSetFull(h.ops);
    expect(r['valid?']).toBe(true);
    expect(r['stable-count']).toBe(1);
    expect(r['attempt-count']).toBe(1);
    expect(r['stale-count']).toBe(0);
    expect(r['stable-latencies']).toEqual({ '0': 0, '0.5': 0, '0.95': 0, '0.99': 0, '1': 0 });
    expect(r).not.toHaveProperty('lost-latencies');
  });

  it('measures staleness from known to the last absent invocation plus 1 ns, truncated to ms', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 1, 0);
    h.complete(0, 'ok', 'add', 1, 1 * MS); // known at 1 ms
    h.invoke(0, 'add', 2, 1 * MS);
    h.complete(0, 'ok', 'add', 2, 1 * MS); // known at 1 ms
    // Read invoked at 1.999999 ms misses both: +1 ns makes element 1 exactly 1 ms stale.
    h.invoke(1, 'read', null, 2 * MS - 1);
    h.complete(1, 'ok', 'read', [2], 2 * MS + 5);
    // Read invoked at 4.5 ms misses element 2: 3.5 ms + 1 ns truncates to 3 ms.
    h.invoke(1, 'read', null, 4.5 * MS);
    h.complete(1, 'ok', 'read', [1], 4.6 * MS);
    h.invoke(2, 'read', null, 5 * MS);
    h.complete(2, 'ok', 'read', [1, 2], 6 * MS);
    const r = checkSetFull(h.ops);
    expect(r['valid?']).toBe(true);
    expect(r.stale).toEqual([1, 2]);
    expect(r['stable-latencies']).toEqual({ '0': 1, '0.5': 3, '0.95': 3, '0.99': 3, '1': 3 });
    const worst = r['worst-stale'] as Array<Record<string, unknown>>;
    expect(worst.map((w) => [w.element, w['stable-latency']])).toEqual([
      [2, 3],
      [1, 1],
    ]);
    expect(worst[0]).toMatchObject({
      outcome: 'stable',
      'lost-latency': null,
      known: { index: 3, type: 'ok', f: 'add', value: 2, time: 1 * MS, process: 0 },
      'last-absent': { index: 6, type: 'invoke', f: 'read', time: 4.5 * MS, process: 1 },
    });
  });

  it('does not count a miss shorter than 1 ms after 1 ns as stale', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 'x', 0);
    h.complete(0, 'ok', 'add', 'x', 1 * MS);
    h.invoke(1, 'read', null, 2 * MS - 2); // 999_998 + 1 ns < 1 ms
    h.complete(1, 'ok', 'read', [], 3 * MS);
    h.invoke(1, 'read', null, 4 * MS);
    h.complete(1, 'ok', 'read', ['x'], 5 * MS);
    const r = checkSetFull(h.ops);
    expect(r['stale-count']).toBe(0);
    expect(r['stable-count']).toBe(1);
    expect(r['stable-latencies']).toMatchObject({ '1': 0 });
  });

  it('reports an element lost when a read invoked after it was known misses it last', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 3, 0);
    h.complete(0, 'ok', 'add', 3, 1 * MS);
    h.invoke(1, 'read', null, 2 * MS);
    h.complete(1, 'ok', 'read', [3], 3 * MS);
    h.invoke(1, 'read', null, 10 * MS);
    h.complete(1, 'ok', 'read', [], 11 * MS);
    const r = checkSetFull(h.ops);
    expect(r['valid?']).toBe(false);
    expect(r.lost).toEqual([3]);
    expect(r['lost-count']).toBe(1);
    expect(r['stable-count']).toBe(0);
    // lost latency: last present invocation (2 ms) + 1 ns - known (1 ms)
    expect(r['lost-latencies']).toEqual({ '0': 1, '0.5': 1, '0.95': 1, '0.99': 1, '1': 1 });
    expect(r).not.toHaveProperty('stable-latencies');
  });

  it('calls an element never-read when the only miss was concurrent with its add', () => {
    const h = historyBuilder();
    h.invoke(1, 'read', null, 0);
    h.invoke(0, 'add', 5, 1);
    h.complete(0, 'ok', 'add', 5, 2);
    h.complete(1, 'ok', 'read', [], 3); // invoked before the add was known
    const r = checkSetFull(h.ops);
    expect(r['never-read']).toEqual([5]);
    expect(r['never-read-count']).toBe(1);
    expect(r['lost-count']).toBe(0);
    expect(r['valid?']).toBe('unknown');
    expect(r).not.toHaveProperty('stable-latencies');
  });

  it('ignores reads that completed before the add was invoked, and failed reads', () => {
    const h = historyBuilder();
    h.invoke(1, 'read', null, 0);
    h.complete(1, 'ok', 'read', [], 1);
    h.invoke(0, 'add', 9, 2);
    h.complete(0, 'ok', 'add', 9, 3);
    h.invoke(1, 'read', null, 4);
    h.complete(1, 'fail', 'read', null, 5, { error: 'net-timeout' });
    const r = checkSetFull(h.ops);
    expect(r['never-read']).toEqual([9]);
    expect(r['valid?']).toBe('unknown');
  });

  it('takes known from the first read that saw the element when the add never completed ok', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 4, 0);
    h.invoke(1, 'read', null, 1 * MS);
    h.complete(1, 'ok', 'read', [4], 2 * MS);
    h.complete(0, 'info', 'add', 4, 3 * MS, { error: 'net-timeout' });
    h.invoke(1, 'read', null, 4 * MS);
    h.complete(1, 'ok', 'read', [], 5 * MS);
    const r = checkSetFull(h.ops);
    // known = the read completion at index 2; the absent read (index 4) comes after it
    expect(r.lost).toEqual([4]);
    expect(r['lost-latencies']).toMatchObject({ '0': 0 }); // 1 ms + 1 ns - 2 ms clamps to 0
  });

  it('sorts elements, keeps the 8 worst stale ones (larger element first on ties), maps broadcast to add', () => {
    const h = historyBuilder();
    const elements = [11, 3, 7, 1, 9, 5, 0, 2, 8, 4, 6, 10];
    for (const e of elements) {
      h.invoke(0, 'broadcast', e, 0);
      h.complete(0, 'ok', 'broadcast', e, 0);
    }
    h.nemesis('start-partition', 'majority', 1);
    // One miss at 5 ms for even elements, 9 ms for odd ones.
    h.invoke(1, 'read', null, 5 * MS - 1);
    h.complete(1, 'ok', 'read', elements.filter((e) => e % 2 === 1), 6 * MS);
    h.invoke(2, 'read', null, 9 * MS - 1);
    h.complete(2, 'ok', 'read', elements.filter((e) => e % 2 === 0), 10 * MS);
    h.invoke(1, 'read', null, 11 * MS, { 'final?': true });
    h.complete(1, 'ok', 'read', [...elements, ...elements], 12 * MS, { 'final?': true });
    const r = checkSetFull(h.ops, { addF: 'broadcast' });
    expect(r['valid?']).toBe(true);
    expect(r['attempt-count']).toBe(12);
    expect(r.stale).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const worst = r['worst-stale'] as Array<Record<string, unknown>>;
    expect(worst.map((w) => w.element)).toEqual([11, 9, 7, 5, 3, 1, 10, 8]);
    expect(worst.map((w) => w['stable-latency'])).toEqual([9, 9, 9, 9, 9, 9, 5, 5]);
    expect(worst[0]?.known).toMatchObject({ f: 'add', value: 11 });
    // Reads listing an element twice are not flagged (Jepsen's duplicate test never fires).
    expect(r['duplicated-count']).toBe(0);
    expect(r.duplicated).toEqual({});
  });

  it('treats 1 and "1" as different elements', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 1, 0);
    h.complete(0, 'ok', 'add', 1, 1);
    h.invoke(0, 'add', 2, 2);
    h.complete(0, 'ok', 'add', 2, 3);
    h.invoke(1, 'read', null, 4);
    h.complete(1, 'ok', 'read', ['1', 2], 5);
    const r = checkSetFull(h.ops);
    expect(r.lost).toEqual([1]);
    expect(r['valid?']).toBe(false);
  });

  it('gives unknown with an error when a read returns something other than a list', () => {
    const h = historyBuilder();
    h.invoke(0, 'add', 1, 0);
    h.complete(0, 'ok', 'add', 1, 1);
    h.invoke(1, 'read', null, 2);
    h.complete(1, 'ok', 'read', 42, 3);
    const r = checkSetFull(h.ops);
    expect(r['valid?']).toBe('unknown');
    expect(String(r.error)).toMatch(/non-list/);
  });
});

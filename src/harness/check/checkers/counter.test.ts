import { describe, expect, it } from 'vitest';
import type { Json } from '../../types.js';
import { acceptableSet, checkCounter, containsValue, MAX_ACCEPTABLE_INTERVALS, unionWithShift } from './counter.js';
import { historyBuilder, type HistoryBuilder } from '../../../../test/support/history-builder.js';

/** One add from invoke to completion, at consecutive times. */
function add(h: HistoryBuilder, process: number, delta: number, outcome: 'ok' | 'fail' | 'info', t: number): void {
  h.invoke(process, 'add', delta, t);
  h.complete(process, outcome, 'add', delta, t + 1, outcome === 'info' ? { error: 'net-timeout' } : {});
}

function finalRead(h: HistoryBuilder, process: number, value: number, t: number): void {
  h.invoke(process, 'read', null, t, { 'final?': true });
  h.complete(process, 'ok', 'read', value, t + 1, { 'final?': true });
}

describe('checkCounter rejects', () => {
  it('a final read off by one', () => {
    const h = historyBuilder();
    add(h, 0, 3, 'ok', 10);
    add(h, 1, 2, 'ok', 20);
    finalRead(h, 0, 5, 100);
    finalRead(h, 1, 6, 110);
    const r = checkCounter(h.ops);
    expect(r['valid?']).toBe(false);
    expect(r.acceptable).toEqual([[5, 5]]);
    expect(r['final-reads']).toEqual([5, 6]);
    expect(r.errors).toEqual([{ index: 7, time: 111, type: 'ok', process: 1, f: 'read', value: 6, 'final?': true }]);
  });

  it('a final read one below the sum of ok adds', () => {
    const h = historyBuilder();
    add(h, 0, 4, 'ok', 10);
    finalRead(h, 0, 3, 100);
    expect(checkCounter(h.ops)['valid?']).toBe(false);
  });

  it('a read that counts an info add twice', () => {
    const h = historyBuilder();
    add(h, 0, 1, 'ok', 10);
    add(h, 1, 3, 'info', 20);
    finalRead(h, 2, 7, 100);
    const r = checkCounter(h.ops);
    expect(r.acceptable).toEqual([[1, 1], [4, 4]]);
    expect(r['valid?']).toBe(false);
    expect((r.errors as Json[]).length).toBe(1);
  });

  it('a read that counts a failed add', () => {
    const h = historyBuilder();
    add(h, 0, 2, 'ok', 10);
    add(h, 1, 3, 'fail', 20);
    finalRead(h, 0, 5, 100);
    const r = checkCounter(h.ops);
    expect(r['valid?']).toBe(false);
    expect(r.acceptable).toEqual([[2, 2]]);
  });

  it('one bad final read among good ones', () => {
    const h = historyBuilder();
    add(h, 0, 2, 'ok', 10);
    finalRead(h, 0, 2, 100);
    finalRead(h, 1, 2, 110);
    finalRead(h, 2, 0, 120);
    const r = checkCounter(h.ops);
    expect(r['valid?']).toBe(false);
    expect((r.errors as Array<{ [k: string]: Json }>).map((e) => e.process)).toEqual([2]);
  });
});

describe('checkCounter accepts', () => {
  it('any subset sum of indeterminate adds, and nothing else in between', () => {
    const h = historyBuilder();
    add(h, 0, 10, 'ok', 10);
    add(h, 1, 1, 'info', 20);
    add(h, 2, 4, 'info', 30);
    add(h, 3, 10, 'info', 40);
    // subset sums of {1, 4, 10}: 0 1 4 5 10 11 14 15
    const expected = [10, 11, 14, 15, 20, 21, 24, 25];
    expect(checkCounter(h.ops).acceptable).toEqual([[10, 11], [14, 15], [20, 21], [24, 25]]);
    for (let v = 5; v <= 30; v++) {
      const withRead = historyBuilder();
      for (const op of h.ops) withRead.ops.push(op);
      finalRead(withRead, 0, v, 100);
      expect([v, checkCounter(withRead.ops)['valid?']]).toEqual([v, expected.includes(v)]);
    }
  });

  it('negative deltas, including indeterminate ones below the definite sum', () => {
    const h = historyBuilder();
    add(h, 0, -5, 'ok', 10);
    add(h, 1, 4, 'ok', 20);
    add(h, 2, -3, 'info', 30);
    add(h, 0, 2, 'info', 40);
    finalRead(h, 0, -4, 100); // -1 - 3
    finalRead(h, 1, -2, 110); // -1 - 3 + 2
    finalRead(h, 2, 1, 120); // -1 + 2
    const r = checkCounter(h.ops);
    expect(r.acceptable).toEqual([[-4, -4], [-2, -1], [1, 1]]);
    expect(r['valid?']).toBe(true);
    expect(r.errors).toBeNull();
  });

  it('no final reads at all (non-final reads are never checked)', () => {
    const h = historyBuilder();
    add(h, 0, 3, 'ok', 10);
    h.invoke(1, 'read', null, 20);
    h.complete(1, 'ok', 'read', 999, 21);
    expect(checkCounter(h.ops)).toEqual({ 'valid?': true, errors: null, 'final-reads': [], acceptable: [[3, 3]] });
  });

  it('an empty history', () => {
    expect(checkCounter([])).toEqual({ 'valid?': true, errors: null, 'final-reads': [], acceptable: [[0, 0]] });
  });

  it('final reads that failed or timed out are ignored', () => {
    const h = historyBuilder();
    add(h, 0, 3, 'ok', 10);
    h.invoke(0, 'read', null, 100, { 'final?': true });
    h.complete(0, 'info', 'read', null, 101, { 'final?': true, error: 'net-timeout' });
    finalRead(h, 1, 3, 110);
    expect(checkCounter(h.ops)).toMatchObject({ 'valid?': true, 'final-reads': [3] });
  });
});

describe('acceptable set', () => {
  it('merges intervals that touch, not ones with a gap', () => {
    expect(unionWithShift([[1, 3]], 3)).toEqual([[1, 6]]);
    expect(unionWithShift([[1, 3]], 2)).toEqual([[1, 5]]);
    expect(unionWithShift([[1, 3]], 4)).toEqual([[1, 3], [5, 7]]);
    expect(unionWithShift([[1, 3]], 5)).toEqual([[1, 3], [6, 8]]);
    expect(unionWithShift([[1, 3]], -5)).toEqual([[-4, -2], [1, 3]]);
    expect(unionWithShift([[0, 0], [5, 5]], 2)).toEqual([[0, 0], [2, 2], [5, 5], [7, 7]]);
    expect(unionWithShift([[0, 0], [2, 2]], 1)).toEqual([[0, 3]]);
  });

  it('answers membership by binary search', () => {
    const set = [[-4, -4], [-2, -1], [1, 1], [10, 20]] as const;
    const isMember = (v: number) => v === -4 || v === -2 || v === -1 || v === 1 || (v >= 10 && v <= 20);
    for (let v = -6; v <= 22; v++) expect([v, containsValue(set, v)]).toEqual([v, isMember(v)]);
    expect(containsValue([], 0)).toBe(false);
  });

  it('1,000 info adds stay small and fast', () => {
    const h = historyBuilder();
    // deterministic pseudo-random deltas in -5..4 (pn-counter's range)
    let x = 12345;
    for (let i = 0; i < 1000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      add(h, i % 5, (x % 10) - 5, 'info', i * 10);
    }
    const started = performance.now();
    const r = checkCounter(h.ops);
    const elapsedMs = performance.now() - started;
    expect(r['valid?']).toBe(true);
    expect((r.acceptable as Json[]).length).toBe(1);
    // well under a second on a loaded machine; enumerating subsets would not end at all
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('1,000 info adds of the same delta: one interval per multiple, still fast', () => {
    const h = historyBuilder();
    for (let i = 0; i < 1000; i++) add(h, i % 5, 4, 'info', i * 10);
    const started = performance.now();
    const acceptable = acceptableSet(h.ops);
    const elapsedMs = performance.now() - started;
    expect(acceptable.length).toBe(1001);
    expect(acceptable[1000]).toEqual([4000, 4000]);
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('gives up with unknown, not a hang, when the exact set explodes', () => {
    const h = historyBuilder();
    // powers of 3: every subset sum is distinct and none touch, so 2^k intervals
    for (let k = 0; k < 20; k++) add(h, 0, 3 ** k, 'info', k * 10);
    const r = checkCounter(h.ops);
    expect(r['valid?']).toBe('unknown');
    expect(String(r.error)).toContain(String(MAX_ACCEPTABLE_INTERVALS));
  });

  it('a non-integer final read gives unknown (Maelstrom asserts integers)', () => {
    const h = historyBuilder();
    finalRead(h, 0, 1.5, 100);
    expect(checkCounter(h.ops)['valid?']).toBe('unknown');
  });
});

import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../lib/index.js';
import { defaultTxnLimits, checkTxnLimits } from './limits.js';
import { applyWrites, createStore, executeTxn, storedBytes } from './store.js';

describe('txn limits', () => {
  it('refuses too many micro-ops, long keys and big values as malformed (12)', () => {
    const store = createStore(0);
    const limits = { ...defaultTxnLimits, maxOpsPerTxn: 3, maxKeyChars: 5, maxValueBytes: 10 };
    expect(checkTxnLimits(store, [['r', 1, null], ['r', 2, null], ['r', 3, null]], limits)).toBeUndefined();
    expect(checkTxnLimits(store, Array.from({ length: 4 }, () => ['r', 1, null]), limits)).toMatchObject({ code: ErrorCode.MalformedRequest });
    expect(checkTxnLimits(store, [['r', 'longkey', null]], limits)?.text).toContain('key of 7 characters');
    expect(checkTxnLimits(store, [['w', 1, 'x'.repeat(20)]], limits)?.text).toContain('value of 22 bytes');
    // Reads carry no value to measure.
    expect(checkTxnLimits(store, [['r', 1, 'x'.repeat(20)]], limits)).toBeUndefined();
  });

  it('refuses a txn past the key count or the state size (14), counting what the store holds', () => {
    const store = createStore(0);
    const limits = { ...defaultTxnLimits, maxKeys: 2, maxStateBytes: 200 };
    expect(executeTxn(store, [['w', 1, 1], ['append', 2, 1]]).ok).toBe(true);
    expect(store.sizeBytes).toBe(storedBytes(1, 1) + storedBytes(2, 1));
    expect(checkTxnLimits(store, [['w', 3, 1]], limits)).toMatchObject({ code: ErrorCode.Abort });
    expect(checkTxnLimits(store, [['w', 1, 2]], limits)).toBeUndefined();
    expect(checkTxnLimits(store, [['append', 2, 'x'.repeat(100)]], limits)?.text).toContain('--max-state-mb');
  });

  it('keeps sizeBytes equal to what the store holds through overwrites, appends and replays', () => {
    const store = createStore(0);
    executeTxn(store, [['w', 'a', 'long value'], ['append', 'l', 1], ['append', 'l', 2]]);
    executeTxn(store, [['w', 'a', 1]]);
    // A replayed write (same stamp) is not counted twice.
    const { writes } = executeTxn(store, [['append', 'l', 3]]) as { writes: Parameters<typeof applyWrites>[1] };
    applyWrites(store, writes);
    expect(store.sizeBytes).toBe(storedBytes('a', 1) + storedBytes('l', 1) + storedBytes('l', 2) + storedBytes('l', 3));
  });
});

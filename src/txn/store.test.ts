// The transactional store on its own: execution, stamps, last-writer-wins, lists.
import { describe, expect, it } from 'vitest';
import type { Json } from '../lib/index.js';
import { applyWrites, checkStore, createStore, executeTxn, readKey, registerStamp, TxnInvariantError, type Store, type Write } from './store.js';

function run(store: Store, txn: Json[]): Json[] {
  const result = executeTxn(store, txn);
  if (!result.ok) throw new Error(result.error);
  return result.txn;
}

describe('executeTxn', () => {
  it('answers the same micro-ops in order, reads filled in and writes echoed', () => {
    const store = createStore(0);
    run(store, [['w', 1, 8]]);
    expect(run(store, [['r', 1, null], ['w', 1, 6], ['w', 2, 9], ['r', 3, null]])).toEqual([
      ['r', 1, 8],
      ['w', 1, 6],
      ['w', 2, 9],
      ['r', 3, null],
    ]);
    expect(readKey(store, 1)).toBe(6);
    expect(readKey(store, 2)).toBe(9);
  });

  it('lets a transaction read its own writes, and installs only its final write per key', () => {
    const store = createStore(0);
    expect(run(store, [['w', 1, 1], ['r', 1, null], ['w', 1, 2], ['r', 1, null]])).toEqual([
      ['w', 1, 1],
      ['r', 1, 1],
      ['w', 1, 2],
      ['r', 1, 2],
    ]);
    const result = executeTxn(store, [['w', 5, 1], ['w', 5, 2], ['w', 5, 3]]);
    expect(result.ok && result.writes.map((write) => write.value)).toEqual([3]);
    expect(readKey(store, 5)).toBe(3);
  });

  it('rejects a malformed transaction before changing anything', () => {
    const store = createStore(0);
    for (const bad of [[], [['w', 1, 5], ['x', 1, 2]], [['w', 1, 5], ['r', 1]], [['w', { k: 1 }, 5]], [5], [['w', 1, 5], ['append', 1, 6]]]) {
      const result = executeTxn(store, bad as Json[]);
      expect(result.ok, JSON.stringify(bad)).toBe(false);
    }
    expect(readKey(store, 1)).toBeNull();
    expect(store.clock).toBe(0);
  });

  it('gives read-only transactions no stamp and every writing transaction a higher one', () => {
    const store = createStore(3);
    run(store, [['r', 1, null]]);
    expect(store.clock).toBe(0);
    run(store, [['w', 1, 1]]);
    run(store, [['w', 2, 1]]);
    expect(registerStamp(store, 1)).toEqual({ counter: 1, node: 3 });
    expect(registerStamp(store, 2)).toEqual({ counter: 2, node: 3 });
  });

  it('stamps a transaction above every version it could have read (Lamport clock)', () => {
    const store = createStore(0);
    applyWrites(store, [{ kind: 'w', key: 7, value: 70, stamp: { counter: 50, node: 1 } }]);
    expect(run(store, [['r', 7, null], ['w', 8, 1]])).toEqual([['r', 7, 70], ['w', 8, 1]]);
    expect(registerStamp(store, 8)).toEqual({ counter: 51, node: 0 });
  });
});

describe('last writer wins by stamp', () => {
  const older: Write = { kind: 'w', key: 1, value: 'older', stamp: { counter: 4, node: 1 } };
  const newer: Write = { kind: 'w', key: 1, value: 'newer', stamp: { counter: 5, node: 0 } };
  const tieWinner: Write = { kind: 'w', key: 1, value: 'tie', stamp: { counter: 5, node: 2 } };

  it('converges to the highest stamp whatever the order of arrival', () => {
    const orders = [[older, newer, tieWinner], [tieWinner, newer, older], [newer, tieWinner, older, older]];
    for (const order of orders) {
      const store = createStore(9);
      for (const write of order) applyWrites(store, [write]);
      expect(readKey(store, 1)).toBe('tie');
      expect(registerStamp(store, 1)).toEqual({ counter: 5, node: 2 });
    }
  });

  it('never lets a local commit lose to what is already stored', () => {
    const store = createStore(0);
    applyWrites(store, [tieWinner]);
    run(store, [['w', 1, 'local']]);
    expect(readKey(store, 1)).toBe('local');
  });
});

describe('lists (txn-list-append)', () => {
  it('appends, reads its own appends, and keeps one transaction\'s appends together', () => {
    const store = createStore(0);
    expect(run(store, [['append', 1, 1], ['r', 1, null], ['append', 1, 2]])).toEqual([
      ['append', 1, 1],
      ['r', 1, [1]],
      ['append', 1, 2],
    ]);
    expect(run(store, [['r', 1, null], ['r', 2, null]])).toEqual([['r', 1, [1, 2]], ['r', 2, null]]);
    // A remote transaction stamped between ours: its appends sort between, never inside ours.
    applyWrites(store, [
      { kind: 'append', key: 1, value: 'a', stamp: { counter: 1, node: 1 }, sub: 0 },
      { kind: 'append', key: 1, value: 'b', stamp: { counter: 1, node: 1 }, sub: 1 },
    ]);
    run(store, [['append', 1, 3]]);
    expect(readKey(store, 1)).toEqual([1, 2, 'a', 'b', 3]);
  });

  it('ignores an append it already has (a resent batch)', () => {
    const store = createStore(0);
    const write: Write = { kind: 'append', key: 4, value: 9, stamp: { counter: 3, node: 1 }, sub: 0 };
    applyWrites(store, [write]);
    applyWrites(store, [write]);
    expect(readKey(store, 4)).toEqual([9]);
  });
});

describe('invariants', () => {
  const remote = (key: number, counter: number, sub = 0): Write => ({ kind: 'append', key, value: `${counter}.${sub}`, stamp: { counter, node: 1 }, sub });

  it("a local commit's stamp is above every version of the keys it writes", () => {
    const store = createStore(0);
    applyWrites(store, [{ kind: 'w', key: 7, value: 70, stamp: { counter: 50, node: 1 } }, remote(8, 40)]);
    store.clock = 0; // a clock below the store's stamps
    expect(() => executeTxn(store, [['w', 7, 1]])).toThrow(TxnInvariantError);
    expect(() => executeTxn(store, [['w', 7, 1]])).toThrow(/local stamp 2\/0 not above 50\/1 of key 7/);
    expect(() => executeTxn(store, [['append', 8, 1]])).toThrow(/local stamp 3\/0 not above 40\/1 of key 8/);
  });

  it('a new list item never sorts before one already readable', () => {
    const store = createStore(0, 10); // a stable bound set too high: item 4 is not here yet
    applyWrites(store, [remote(1, 3), remote(1, 5)]);
    expect(() => applyWrites(store, [remote(1, 4)])).toThrow(/item 4\/1.0 of n1 sorts before readable item 5\/1.0 \(stable below 10\)/);
    applyWrites(store, [remote(1, 12), remote(1, 11)]); // not yet readable: may sort in
    expect(readKey(store, 1)).toEqual(['3.0', '5.0']);
  });

  it('the counted size never goes below zero', () => {
    const store = createStore(0);
    executeTxn(store, [['w', 1, 'a long value']]);
    store.sizeBytes = 0; // lost count
    expect(() => executeTxn(store, [['w', 1, 's']])).toThrow(/store size -11 bytes after a write to 1/);
  });

  it('the whole-store check: order, stamps under the clock, counted size', () => {
    const corruptions: Array<[(store: Store) => void, RegExp]> = [
      [(s) => void (s.sizeBytes += 1), /values take \d+ bytes as counted, the store says/],
      [(s) => void s.lists.get('n2')!.reverse(), /items of n2 out of order at 1: 2\/1.0, 1\/1.0/],
      [(s) => void s.lists.get('n2')!.push({ value: 0, stamp: { counter: 99, node: 1 }, sub: 0 }), /item of n2 stamped 99\/1, above the clock 3/],
      [(s) => void (s.clock = 2), /register sx stamped 3\/0, above the clock 2/],
    ];
    for (const [corrupt, message] of corruptions) {
      const store = createStore(0);
      applyWrites(store, [remote(2, 1), remote(2, 2)]);
      executeTxn(store, [['w', 'x', { v: [1] }]]);
      expect(() => checkStore(store)).not.toThrow();
      corrupt(store);
      expect(() => checkStore(store), String(message)).toThrow(message);
    }
  });
});

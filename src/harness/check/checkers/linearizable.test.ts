import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../../types.js';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import { checkLinKv, checkRegisterKey, splitByKey, type KeyResult } from './linearizable.js';
import { randomRegisterHistory, withImpossibleRead } from './linearizable/random-history.js';
import { loadReferenceRun } from '../../../../test/support/reference-runs.js';

const MS = 1_000_000;

/** A one-key history written as [process, f, value, invokeMs, completeMs, outcome] rows. */
type Row = [number, string, Json, number, number | null, 'ok' | 'fail' | 'info'];

function history(rows: Row[], nemesisAtMs: number[] = []): Op[] {
  const events: Array<{ at: number; order: number; emit: (b: ReturnType<typeof historyBuilder>) => void }> = [];
  for (const [process, f, value, invokeMs, completeMs, outcome] of rows) {
    const invokeValue = f === 'read' ? null : value;
    events.push({ at: invokeMs, order: 1, emit: (b) => b.invoke(process, f, invokeValue, invokeMs * MS) });
    if (completeMs !== null) {
      const completeValue = outcome === 'ok' ? value : invokeValue;
      events.push({ at: completeMs, order: 0, emit: (b) => b.complete(process, outcome, f, completeValue, completeMs * MS) });
    }
  }
  for (const at of nemesisAtMs) events.push({ at, order: 2, emit: (b) => b.nemesis('start-partition', ['isolated', {}], at * MS) });
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  const builder = historyBuilder();
  for (const e of events) e.emit(builder);
  return builder.ops;
}

function verdict(rows: Row[]): KeyResult['valid?'] {
  return checkRegisterKey(history(rows))['valid?'];
}

describe('checkRegisterKey: histories that must be rejected', () => {
  it('a stale read after a completed write', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 10, 'ok'],
      [0, 'write', 2, 20, 30, 'ok'],
      [1, 'read', 1, 40, 50, 'ok'],
    ];
    const result = checkRegisterKey(history(rows), { key: 7 });
    expect(result['valid?']).toBe(false);
    const lin = result.linearizable as unknown as { op: { index: number }; 'previous-ok': { index: number }; 'final-paths': unknown[] };
    expect(lin.op.index).toBe(5); // the read's completion
    expect(lin['previous-ok'].index).toBe(3); // the write of 2
    expect(lin['final-paths']).toEqual([
      [
        { op: expect.objectContaining({ f: 'write', value: 2, type: 'ok' }), model: { value: 2 } },
        { op: expect.objectContaining({ f: 'read', value: 1, type: 'ok' }), model: { msg: "can't read 1 from register 2" } },
      ],
    ]);
    const explanation = result.explanation!;
    expect(explanation['blocked-op']).toBe(4);
    expect(explanation['possible-values']).toEqual([2]);
    expect(explanation['linearized-prefix'].map((step) => step.id)).toEqual([0, 2]);
    expect(explanation.bars).toHaveLength(3);
    expect(explanation.summary).toBe(
      'key 7: read of 1 by process 1 at 0.040–0.050 s cannot be placed: after every linearizable order of the 2 operations completed before it the register holds 2',
    );
  });

  it('a cas that succeeds from a value never written', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 10, 'ok'],
      [1, 'cas', [3, 4], 20, 30, 'ok'],
    ];
    const result = checkRegisterKey(history(rows));
    expect(result['valid?']).toBe(false);
    const paths = (result.linearizable as { 'final-paths': Array<Array<{ model: Json }>> })['final-paths'];
    expect(paths[0]?.at(-1)?.model).toEqual({ msg: "can't CAS 1 from 3 to 4" });
  });

  it('a cas from null is fine, but Knossos prints null as nothing in its message', () => {
    expect(verdict([[0, 'cas', [null, 2], 0, 10, 'ok']])).toBe(true);
    const result = checkRegisterKey(history([[0, 'cas', [1, 2], 0, 10, 'ok']]));
    const paths = (result.linearizable as { 'final-paths': Array<Array<{ model: Json }>> })['final-paths'];
    expect(paths[0]?.at(-1)?.model).toEqual({ msg: "can't CAS  from 1 to 2" });
  });

  it('two concurrent writes observed in both orders by sequential reads', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 100, 'ok'],
      [1, 'write', 2, 0, 100, 'ok'],
      [2, 'read', 1, 110, 120, 'ok'],
      [2, 'read', 2, 130, 140, 'ok'],
      [2, 'read', 1, 150, 160, 'ok'],
    ];
    const result = checkRegisterKey(history(rows));
    expect(result['valid?']).toBe(false);
    // after reading 1, the write of 2 is over: the second read is the one that cannot be placed
    expect(result.explanation?.['blocked-op']).toBe(6);
    expect(result.explanation?.['possible-values']).toEqual([1]);
  });

  it('reads that see two concurrent writes in opposite orders from two readers', () => {
    // reader 2 sees 1 then 2, reader 3 sees 2 then 1, all after both writes completed
    const rows: Row[] = [
      [0, 'write', 1, 0, 100, 'ok'],
      [1, 'write', 2, 0, 100, 'ok'],
      [2, 'read', 1, 110, 120, 'ok'],
      [3, 'read', 2, 110, 120, 'ok'],
    ];
    expect(verdict(rows)).toBe(false);
  });

  it('a read of a value whose write was invoked only afterwards', () => {
    const rows: Row[] = [
      [0, 'read', 5, 0, 10, 'ok'],
      [1, 'write', 5, 20, 30, 'ok'],
    ];
    expect(verdict(rows)).toBe(false);
  });
});

describe('checkRegisterKey: histories that must pass', () => {
  it('a read concurrent with a write may see either value', () => {
    for (const seen of [1, 2]) {
      const rows: Row[] = [
        [0, 'write', 1, 0, 10, 'ok'],
        [0, 'write', 2, 20, 50, 'ok'],
        [1, 'read', seen, 30, 40, 'ok'],
      ];
      expect(verdict(rows)).toBe(true);
    }
  });

  it('concurrent writes observed in one order, with cas chains between them', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 100, 'ok'],
      [1, 'write', 2, 0, 100, 'ok'],
      [2, 'read', 2, 50, 60, 'ok'], // 2 was written before 1 ...
      [3, 'read', 1, 110, 120, 'ok'], // ... and 1 last
      [3, 'cas', [1, 3], 130, 140, 'ok'],
      [4, 'cas', [3, 4], 135, 150, 'ok'],
      [2, 'read', 4, 160, 170, 'ok'],
    ];
    expect(verdict(rows)).toBe(true);
  });

  it('returns the valid result in Knossos shape', () => {
    const result = checkRegisterKey(history([[0, 'write', 3, 0, 10, 'ok']]));
    expect(result).toEqual({
      'valid?': true,
      linearizable: {
        'valid?': true,
        configs: [{ model: { value: 3 }, 'last-op': expect.objectContaining({ index: 1, type: 'ok' }), pending: [] }],
        'final-paths': [],
      },
      timeline: { 'valid?': true },
    });
  });
});

describe('checkRegisterKey: preprocessing', () => {
  it('an info write stays pending forever: it may take effect much later', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 10, 'ok'],
      [1, 'write', 2, 20, 30, 'info'],
      [2, 'read', 1, 40, 50, 'ok'],
      [2, 'read', 2, 1000, 1010, 'ok'],
    ];
    expect(verdict(rows)).toBe(true);
  });

  it('an info write may also never take effect', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 10, 'ok'],
      [1, 'write', 2, 20, 30, 'info'],
      [2, 'read', 1, 1000, 1010, 'ok'],
    ];
    expect(verdict(rows)).toBe(true);
  });

  it('an info write cannot take effect before it was invoked', () => {
    const rows: Row[] = [
      [2, 'read', 2, 0, 10, 'ok'],
      [1, 'write', 2, 20, 30, 'info'],
    ];
    expect(verdict(rows)).toBe(false);
  });

  it('an invocation that never completes is pending forever', () => {
    const rows: Row[] = [
      [1, 'write', 2, 20, null, 'info'],
      [2, 'read', 2, 1000, 1010, 'ok'],
    ];
    expect(verdict(rows)).toBe(true);
  });

  it('a failed write never happened', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 10, 'ok'],
      [1, 'write', 2, 20, 30, 'fail'],
      [2, 'read', 2, 40, 50, 'ok'],
    ];
    expect(verdict(rows)).toBe(false);
    // and without the read of its value the history is fine
    expect(verdict(rows.slice(0, 2))).toBe(true);
  });

  it('a read of null is always legal', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 10, 'ok'],
      [1, 'read', null, 20, 30, 'ok'],
    ];
    expect(verdict(rows)).toBe(true);
  });

  it('a read of a value before anything was written is not', () => {
    expect(verdict([[1, 'read', 0, 20, 30, 'ok']])).toBe(false);
  });

  it('nemesis ops are ignored, even with a pair as value', () => {
    const rows: Row[] = [
      [0, 'write', 1, 0, 10, 'ok'],
      [1, 'read', 1, 20, 30, 'ok'],
    ];
    expect(checkRegisterKey(history(rows, [5, 25]))['valid?']).toBe(true);
  });

  it('a malformed history is unknown with the error, as Jepsen reports an exception', () => {
    const builder = historyBuilder();
    builder.invoke(0, 'write', 1, 0);
    builder.invoke(0, 'write', 2, 1);
    const result = checkRegisterKey(builder.ops);
    expect(result['valid?']).toBe('unknown');
    expect(result.error).toMatch(/still executing/);
  });
});

describe('splitByKey and checkLinKv', () => {
  function keyed(): Op[] {
    const b = historyBuilder();
    b.invoke(0, 'write', [1, 5], 0);
    b.nemesis('start-partition', ['isolated', { n1: [] }], 1);
    b.invoke(1, 'write', [2, 6], 2);
    b.complete(0, 'ok', 'write', [1, 5], 3);
    b.complete(1, 'ok', 'write', [2, 6], 4);
    b.invoke(0, 'read', [2, null], 5);
    b.complete(0, 'ok', 'read', [2, 5], 6); // key 2 never held 5
    b.invoke(1, 'read', [1, null], 7);
    b.complete(1, 'ok', 'read', [1, 5], 8);
    return b.ops;
  }

  it('splits [k, v] tuples by key, unwraps values and gives nemesis ops to every key', () => {
    const split = splitByKey(keyed());
    expect([...split.keys()]).toEqual(['1', '2']);
    const key2 = split.get('2')!;
    expect(key2.map((op) => op.index)).toEqual([1, 2, 4, 5, 6]);
    expect(key2[1]?.value).toBe(6);
    expect(key2[0]?.process).toBe('nemesis');
  });

  it('reports results per key and the failing keys', () => {
    const result = checkLinKv(keyed());
    expect(result['valid?']).toBe(false);
    expect(result.failures).toEqual([2]);
    const results = result.results as Record<string, { 'valid?': Json; explanation?: { summary: string } }>;
    expect(results['1']?.['valid?']).toBe(true);
    expect(results['2']?.['valid?']).toBe(false);
    expect(results['2']?.explanation?.summary).toMatch(/^key 2: read of 5 by process 0/);
  });

  it('an exhausted time budget is unknown with the reason, and unknown keys are not failures', () => {
    const late = checkLinKv(keyed(), { deadlineMs: Date.now() - 1 });
    expect(late['valid?']).toBe('unknown');
    expect(late.failures).toEqual([]);
    const key2 = (late.results as Record<string, { linearizable: { cause: string } }>)['2']!;
    expect(key2.linearizable.cause).toMatch(/time budget exhausted before/);
    // and a budget that runs out during the search stops it there
    const long = withImpossibleRead(randomRegisterHistory({ threads: 50, ops: 5_000, seed: 3 }));
    const started = Date.now();
    const slow = checkRegisterKey(long, { deadlineMs: started + 200 });
    // the whole search takes over 30 s; a loaded machine may be seconds late to the first check
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(slow['valid?']).toBe('unknown');
    expect((slow.linearizable as { cause: string }).cause).toMatch(/time budget exhausted after \d+ steps/);
  });

  it('a memory budget too small is unknown with the reason', () => {
    const long = randomRegisterHistory({ threads: 10, ops: 5_000, seed: 2 });
    const result = checkRegisterKey(long, { maxCacheBytes: 64 * 1024 });
    expect(result['valid?']).toBe('unknown');
    expect((result.linearizable as { cause: string }).cause).toMatch(/memory budget exhausted/);
  });
});

describe('20 concurrent processes on one key', () => {
  // about 3 s on an idle machine, over 7 s on a loaded one: the budget leaves room for both
  const budgetMs = 40_000;
  it.each([
    ['linearizable', false],
    ['with an impossible read', true],
  ])('%s: comes back within the budget with the right verdict', (_label, corrupt) => {
    const base = randomRegisterHistory({ threads: 20, ops: 1_000, seed: 20 });
    expect(new Set(base.map((op) => op.process)).size).toBeGreaterThanOrEqual(20);
    const ops = corrupt ? withImpossibleRead(base) : base;
    const started = Date.now();
    const result = checkRegisterKey(ops, { deadlineMs: started + budgetMs });
    expect(Date.now() - started).toBeLessThan(budgetMs + 1_000);
    expect(result['valid?']).toBe(!corrupt);
  });

  it('answers unknown rather than late when the budget is too small for it', () => {
    const ops = withImpossibleRead(randomRegisterHistory({ threads: 50, ops: 3_000, seed: 50 }));
    const started = Date.now();
    const result = checkRegisterKey(ops, { deadlineMs: started + 300 });
    // without the budget this search runs for over 30 s
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(['unknown', false]).toContain(result['valid?']);
  });
});

describe('random linearizable histories', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i passes, and fails once a read is corrupted', (seed) => {
    const ops = randomRegisterHistory({ threads: 6, ops: 300, seed, infoRate: 0.05 });
    expect(checkRegisterKey(ops)['valid?']).toBe(true);
    expect(checkRegisterKey(withImpossibleRead(ops))['valid?']).toBe(false);
  });
});

describe("Maelstrom's reference runs", () => {
  it.each(['lin-kv-local', 'lin-kv-raft', 'lin-kv-raft-partition'])('%s: same results as Maelstrom', (name) => {
    const run = loadReferenceRun(name);
    const ours = checkLinKv(run.history);
    const theirs = run.results.workload as { 'valid?': Json; failures: Json; results: Record<string, Json> };
    expect(ours['valid?']).toBe(theirs['valid?']);
    expect(ours.failures).toEqual(theirs.failures);
    const results = ours.results as Record<string, { [key: string]: Json }>;
    expect(Object.keys(results).sort()).toEqual(Object.keys(theirs.results).sort());
    for (const [key, expected] of Object.entries(theirs.results)) {
      const { explanation, ...knossosKeys } = results[key]!;
      expect(knossosKeys).toEqual(expected); // every Knossos key, configs and final paths included
      expect(explanation === undefined).toBe(theirs['valid?'] !== false);
    }
  });
});

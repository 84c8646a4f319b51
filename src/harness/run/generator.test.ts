import { describe, expect, it } from 'vitest';
import {
  EMPTY,
  any,
  call,
  clients,
  concurrentKeys,
  eachThread,
  filter,
  limit,
  mix,
  nemesis,
  once,
  phases,
  processLimit,
  repeat,
  reserve,
  seq,
  sleep,
  stagger,
  timeLimit,
  type Gen,
  type GenContext,
  type Thread,
} from './generator.js';
import { createRng } from '../util/rng.js';
import type { Json, Op } from '../types.js';
import { specs, takeOps } from '../../../test/support/workload-testing.js';

/** A context with explicit free threads and time. */
function context(timeNs: number, free: Thread[], all: Thread[] = free, processOf: (t: Thread) => number | 'nemesis' = (t) => t): GenContext {
  return {
    timeNs,
    threads: all,
    freeThreads: free,
    process: processOf,
    thread: (p) => (p === 'nemesis' ? 'nemesis' : (p as number) % all.filter((t) => t !== 'nemesis').length),
    rng: createRng(3),
  };
}

const counter = (from = 0): Gen => ({
  op(ctx) {
    const step = once({ f: 'x', value: from }).op(ctx);
    return step.kind === 'op' ? { ...step, next: counter(from + 1) } : step.kind === 'pending' ? { ...step, next: counter(from) } : step;
  },
  update() {
    return this;
  },
});

describe('generators', () => {
  it('are values: asking twice without taking gives the same operation', () => {
    const gen = counter();
    const ctx = context(0, [0]);
    const a = gen.op(ctx);
    const b = gen.op(ctx);
    expect(a).toMatchObject({ kind: 'op', op: { value: 0 } });
    expect(b).toMatchObject({ kind: 'op', op: { value: 0 } });
  });

  it('repeat, once, seq and limit', () => {
    expect(specs(takeOps(limit(3, repeat(() => ({ f: 'r', value: null }))), 10))).toHaveLength(3);
    expect(specs(takeOps(seq([once({ f: 'a', value: 1 }), once({ f: 'b', value: 2 })]), 10))).toEqual([
      { f: 'a', value: 1 },
      { f: 'b', value: 2 },
    ]);
    expect(takeOps(EMPTY, 5)).toEqual([]);
    expect(specs(takeOps(limit(2, counter()), 5)).map((s) => s.value)).toEqual([0, 1]);
  });

  it('are pending when no thread is free', () => {
    expect(repeat(() => ({ f: 'r', value: null })).op(context(0, [], [0, 1])).kind).toBe('pending');
  });

  it('mix draws among generators and drops exhausted ones', () => {
    const ops = specs(takeOps(mix([limit(5, repeat(() => ({ f: 'a', value: null }))), limit(5, repeat(() => ({ f: 'b', value: null })))]), 20));
    expect(ops).toHaveLength(10);
    expect(ops.filter((o) => o.f === 'a')).toHaveLength(5);
    // both interleaved, not one after the other
    expect(ops.slice(0, 5).some((o) => o.f === 'a') && ops.slice(0, 5).some((o) => o.f === 'b')).toBe(true);
  });

  it('filter keeps only accepted operations', () => {
    expect(specs(takeOps(filter((s) => (s.value as number) % 2 === 0, limit(10, counter())), 20)).map((s) => s.value)).toEqual([0, 2, 4, 6, 8]);
  });

  it('timeLimit ends operations dtNs after the first', () => {
    const gen = timeLimit(5e6, counter());
    // takeOps advances 1 ms per op: ops at 0..4 ms
    expect(takeOps(gen, 100)).toHaveLength(5);
  });

  it('stagger spaces operations by gaps averaging the mean, across threads', () => {
    const ops = takeOps(stagger(10e6, counter()), 2000, { concurrency: 4 });
    const gaps = ops.slice(1).map((op, k) => op.timeNs - (ops[k] as { timeNs: number }).timeNs);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThan(9e6);
    expect(mean).toBeLessThan(11e6);
    expect(Math.max(...gaps)).toBeLessThan(20e6 + 1e6);
  });

  it('stagger holds an early operation until its slot', () => {
    const gen = stagger(1e9, counter());
    const first = gen.op(context(0, [0]));
    if (first.kind !== 'op') throw new Error('expected op');
    expect(first.op.timeNs).toBe(0);
    const second = first.next.op(context(1, [0]));
    if (second.kind !== 'op') throw new Error('expected op');
    expect(second.op.timeNs).toBeGreaterThanOrEqual(0);
    expect(second.op.timeNs).toBeLessThan(2e9);
  });

  it('phases wait for every thread to be free before the next phase', () => {
    const gen = phases(once({ f: 'a', value: null }), once({ f: 'b', value: null }));
    const first = gen.op(context(0, [0, 1]));
    if (first.kind !== 'op') throw new Error('expected op');
    expect(first.op.f).toBe('a');
    // thread 0 still busy with a: b must wait
    const busy = first.next.op(context(1, [1], [0, 1]));
    expect(busy.kind).toBe('pending');
    const after = first.next.op(context(2, [0, 1]));
    expect(after).toMatchObject({ kind: 'op', op: { f: 'b' } });
  });

  it('eachThread gives every thread its own copy', () => {
    const ops = takeOps(eachThread(() => seq([once({ f: 'a', value: null }), once({ f: 'b', value: null })])), 100, { concurrency: 3 });
    expect(ops).toHaveLength(6);
    for (const thread of [0, 1, 2]) expect(ops.filter((o) => o.thread === thread).map((o) => o.f)).toEqual(['a', 'b']);
  });

  it('clients and nemesis route to their threads, any takes the soonest', () => {
    const ctx = context(0, [0, 'nemesis'], [0, 'nemesis']);
    const c = clients(once({ f: 'c', value: null })).op(ctx);
    const n = nemesis(once({ f: 'n', value: null })).op(ctx);
    expect(c).toMatchObject({ op: { thread: 0 } });
    expect(n).toMatchObject({ op: { thread: 'nemesis' } });
    const soon = any(stagger(1e9, clients(counter()), 5e9), nemesis(once({ f: 'n', value: null }))).op(ctx);
    expect(soon).toMatchObject({ kind: 'op', op: { f: 'n' } });
  });

  it('reserve gives the first n threads to one generator and the rest to another', () => {
    const ops = takeOps(reserve(2, repeat(() => ({ f: 'r', value: null })), repeat(() => ({ f: 'w', value: null }))), 200, { concurrency: 4 });
    for (const op of ops) expect(op.f).toBe((op.thread as number) < 2 ? 'r' : 'w');
    expect(new Set(ops.map((o) => o.thread))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('processLimit ends once more than n processes would use it', () => {
    let process = 0;
    const ctx = (): GenContext => context(0, [0], [0], () => process);
    let gen = processLimit(2, repeat(() => ({ f: 'r', value: null })));
    const taken: number[] = [];
    for (let k = 0; k < 5; k++) {
      const step = gen.op(ctx());
      if (step.kind !== 'op') break;
      taken.push(process);
      gen = step.next;
      process++; // each op as a new process, as after a crash
    }
    expect(taken).toEqual([0, 1]);
  });

  it('sleep is pending until its time, and call runs its effect once', () => {
    let calls = 0;
    const gen = seq([call(() => calls++), sleep(5e6), once({ f: 'after', value: null })]);
    const ops = takeOps(gen, 10);
    expect(calls).toBe(1);
    expect(ops).toHaveLength(1);
    expect(ops[0]?.timeNs).toBeGreaterThanOrEqual(5e6);
  });
});

describe('concurrentKeys (lin-kv shape)', () => {
  // As Maelstrom's lin-kv: groups of 2n threads per key; n read, n write/cas; a key is dropped
  // after more than `processes` distinct processes.
  const perKey = (n: number, processes: number) => () =>
    processLimit(processes, reserve(n, repeat(() => ({ f: 'read', value: null })), repeat(() => ({ f: 'write', value: 1 as Json }))));

  it('splits threads into groups of 2n, one key per group, values as [key, value]', () => {
    const ops = takeOps(concurrentKeys(4, perKey(2, 20)), 400, { concurrency: 8 });
    const keyOf = (op: { value: Json }) => (op.value as [number, Json])[0];
    for (const op of ops) {
      const thread = op.thread as number;
      expect(keyOf(op)).toBe(thread < 4 ? 0 : 1);
      expect(op.f).toBe(thread % 4 < 2 ? 'read' : 'write');
    }
  });

  it('moves a group to a new key once its process limit is reached', () => {
    // every op completes :info, so each thread becomes a new process each time
    let gen: Gen = concurrentKeys(2, perKey(1, 3));
    const processes = new Map<Thread, number>([[0, 0], [1, 1]]);
    const keys: number[] = [];
    let time = 0;
    for (let k = 0; k < 30; k++) {
      const ctx = context(time++, [0, 1], [0, 1], (t) => processes.get(t) ?? 0);
      const step = gen.op(ctx);
      if (step.kind !== 'op') continue;
      gen = step.next;
      keys.push((step.op.value as [number, Json])[0]);
      const thread = step.op.thread as number;
      const process = processes.get(thread) ?? 0;
      gen = gen.update(ctx, { index: k, time, type: 'info', process, f: step.op.f, value: step.op.value } as Op);
      processes.set(thread, process + 2);
    }
    expect(keys.slice(0, 3)).toEqual([0, 0, 0]);
    expect(new Set(keys).size).toBeGreaterThan(5);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
  });

  it('refuses a concurrency that is not a multiple of the group size, as Maelstrom does', () => {
    expect(() => takeOps(concurrentKeys(4, perKey(2, 20)), 5, { concurrency: 6 })).toThrow(/multiple of 4/);
  });
});

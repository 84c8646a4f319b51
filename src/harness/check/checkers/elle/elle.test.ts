// Hand-made transaction histories: ones each model must reject (one per anomaly), ones that must
// pass, and the behaviours around Maelstrom's verdict (unknown models, empty graphs, deadlines,
// --strict findings, explanations).

import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../../../types.js';
import { checkListAppend, checkRwRegister, combinedValidity, type TxnCheckResult } from './index.js';
import { ScratchTable } from './common.js';

type MopIn = [string, Json, Json];

/** Builds a history; `txn` runs one transaction to completion, `overlap` runs several concurrently. */
class History {
  readonly ops: Op[] = [];
  private time = 0;

  private push(op: Omit<Op, 'index' | 'time'>): void {
    this.ops.push({ index: this.ops.length, time: (this.time += 1_000_000), ...op } as Op);
  }

  /** result: the completion's micro-ops (default: the request with reads filled from `reads`) */
  txn(process: number, request: MopIn[], result: MopIn[] = request, type: 'ok' | 'fail' | 'info' = 'ok'): this {
    return this.overlap([{ process, request, result, type }]);
  }

  overlap(txns: Array<{ process: number; request: MopIn[]; result?: MopIn[]; type?: 'ok' | 'fail' | 'info' }>): this {
    for (const t of txns) this.push({ type: 'invoke', process: t.process, f: 'txn', value: t.request.map(([f, k, v]) => [f, k, f === 'r' ? null : v]) });
    for (const t of txns) {
      const type = t.type ?? 'ok';
      this.push({ type, process: t.process, f: 'txn', value: type === 'ok' ? (t.result ?? t.request) : t.request.map(([f, k, v]) => [f, k, f === 'r' ? null : v]) });
    }
    return this;
  }
}

const types = (r: TxnCheckResult): string[] => (r.workload['anomaly-types'] as string[] | undefined) ?? [];

describe('rw-register: histories that must be rejected', () => {
  it('G1a: a read of a failed write (read-committed)', () => {
    const h = new History().txn(0, [['w', 'x', 1]], undefined, 'fail').txn(1, [['r', 'x', 1]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['read-committed'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toContain('G1a');
  });

  it('G1b: a read of an intermediate write (read-committed)', () => {
    const h = new History().txn(0, [['w', 'x', 1], ['w', 'x', 2]]).txn(1, [['r', 'x', 1]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['read-committed'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toContain('G1b');
  });

  it('internal: a read that contradicts the transaction\'s own write (serializable), but not under read-committed', () => {
    const h = new History().txn(0, [['w', 'x', 1], ['r', 'x', 2]]).txn(1, [['w', 'x', 2]]);
    const ser = checkRwRegister(h.ops, { consistencyModels: ['serializable'] });
    expect(ser.workload['valid?']).toBe(false);
    expect(types(ser)).toContain('internal');
    const rc = checkRwRegister(h.ops, { consistencyModels: ['read-committed'] });
    expect(types(rc)).not.toContain('internal');
  });

  it('G-single-item-realtime: a stale read after a completed write (strict-serializable only)', () => {
    const h = new History().txn(0, [['w', 'x', 1]]).txn(1, [['r', 'x', null]]);
    const strict = checkRwRegister(h.ops, { consistencyModels: ['strict-serializable'] });
    expect(strict.workload['valid?']).toBe(false);
    expect(types(strict)).toEqual(['G-single-item-realtime']);
    expect(strict.workload.not).toEqual(['strong-snapshot-isolation']);
    const ser = checkRwRegister(h.ops, { consistencyModels: ['serializable'] });
    expect(ser.workload['valid?']).toBe(true);
  });

  it('lost-update and G2-item: two read-modify-writes from the same state (serializable)', () => {
    const h = new History().overlap([
      { process: 0, request: [['r', 'x', null], ['w', 'x', 1]] },
      { process: 1, request: [['r', 'x', null], ['w', 'x', 2]] },
    ]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['serializable'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toEqual(['G2-item', 'lost-update']);
  });

  it('cyclic-versions: reads and writes that order two versions both ways (read-uncommitted)', () => {
    const h = new History().txn(0, [['w', 'x', 1]]).txn(1, [['r', 'x', 1], ['w', 'x', 2]]).txn(2, [['r', 'x', 2], ['w', 'x', 1]], [['r', 'x', 2], ['w', 'x', 1]]);
    // value 1 written twice by ok transactions is a checker error in Elle: use a third value instead
    const h2 = new History().txn(0, [['r', 'x', 1], ['w', 'x', 2]]).txn(1, [['r', 'x', 2], ['w', 'x', 1]]);
    expect(checkRwRegister(h.ops, { consistencyModels: ['read-uncommitted'] }).workload['valid?']).toBe('unknown');
    const r = checkRwRegister(h2.ops, { consistencyModels: ['read-uncommitted'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toContain('cyclic-versions');
  });

  it('G0 that Maelstrom misses under read-uncommitted (maelstrom#56) is a glomers finding, counted only with strict', () => {
    // The history of maelstrom#56: T2 writes x=1 and later sees T3's x=10, so T3's write came
    // after; T2 then overwrites 10 with 2, so T2's came after T3's. Elle only orders a
    // transaction's first read before its last write, so it sees no ww edge at all.
    const h = new History()
      .overlap([
        { process: 0, request: [['r', 'x', null], ['w', 'x', 10], ['r', 'x', null], ['w', 'x', 11]], result: [['r', 'x', 1], ['w', 'x', 10], ['r', 'x', 3], ['w', 'x', 11]] },
        {
          process: 1,
          request: [['w', 'x', 1], ['r', 'x', null], ['r', 'x', null], ['w', 'x', 2], ['w', 'x', 3], ['r', 'x', null]],
          result: [['w', 'x', 1], ['r', 'x', 1], ['r', 'x', 10], ['w', 'x', 2], ['w', 'x', 3], ['r', 'x', 3]],
        },
      ])
      .txn(2, [['r', 'x', null]], [['r', 'x', 11]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['read-uncommitted'] });
    expect(r.workload['valid?']).toBe(true); // Maelstrom's verdict
    expect(r.glomers['finding-types']).toEqual(['G0']);
    expect(combinedValidity(r, false)).toBe(true);
    expect(combinedValidity(r, true)).toBe(false);
    const g0 = (r.glomers.explanations as Array<{ type: string; edges: Array<{ kind: string; why: string }> }>).find((e) => e.type === 'G0');
    expect(g0?.edges.map((e) => e.kind)).toEqual(['ww', 'ww']);
    expect(g0?.edges[0]?.why).toMatch(/wrote/);
  });

  it('a write cycle Elle can see is Maelstrom\'s own finding (PL-1-cycle-exists), not repeated under glomers', () => {
    const h = new History().overlap([
      { process: 0, request: [['w', 'x', 1], ['r', 'y', null], ['w', 'y', 10]], result: [['w', 'x', 1], ['r', 'y', 20], ['w', 'y', 10]] },
      { process: 1, request: [['r', 'x', null], ['w', 'x', 2], ['w', 'y', 20]], result: [['r', 'x', 1], ['w', 'x', 2], ['w', 'y', 20]] },
    ]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['read-uncommitted'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toEqual(['PL-1-cycle-exists']);
    expect(r.workload.not).toEqual(['read-uncommitted']);
    expect(r.glomers['finding-types']).toEqual([]);
  });

  it('a txn_ok that drops a micro-op (maelstrom#57) is a glomers finding', () => {
    const h = new History().txn(0, [['r', 'x', null], ['w', 'y', 1]], [['w', 'y', 1]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['read-uncommitted'] });
    expect(r.glomers['finding-types']).toEqual(['mop-mismatch']);
    expect(JSON.stringify(r.glomers.findings)).toMatch(/dropped|answered as/);
    expect(combinedValidity(r, true)).toBe(false);
  });

  it('a txn_ok whose micro-ops come back reordered is a glomers finding', () => {
    const h = new History().txn(0, [['w', 'x', 1], ['r', 'y', null]], [['r', 'y', null], ['w', 'x', 1]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['read-committed'] });
    expect(r.glomers['finding-types']).toEqual(['mop-mismatch']);
    expect(JSON.stringify(r.glomers.findings)).toMatch(/reordered/);
  });

  it('a txn_ok that alters a written value or a key is a glomers finding', () => {
    const altered = new History().txn(0, [['w', 'x', 1]], [['w', 'x', 2]]);
    expect(checkRwRegister(altered.ops, { consistencyModels: ['read-committed'] }).glomers['finding-types']).toEqual(['mop-mismatch']);
    const rekeyed = new History().txn(0, [['r', 'x', null]], [['r', 'z', null]]);
    expect(JSON.stringify(checkRwRegister(rekeyed.ops, { consistencyModels: ['read-committed'] }).glomers.findings)).toMatch(/key/);
  });
});

describe('list-append: histories that must be rejected', () => {
  it('G0: appends ordered both ways on two keys (read-uncommitted)', () => {
    const h = new History()
      .overlap([
        { process: 0, request: [['append', 'x', 1], ['append', 'y', 2]] },
        { process: 1, request: [['append', 'x', 2], ['append', 'y', 1]] },
      ])
      .txn(2, [['r', 'x', null], ['r', 'y', null]], [['r', 'x', [1, 2]], ['r', 'y', [1, 2]]]);
    const r = checkListAppend(h.ops, { consistencyModels: ['read-uncommitted'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toEqual(['G0']);
    expect(r.workload.not).toEqual(['read-uncommitted']);
    const x = (r.glomers.explanations as Array<{ type: string; edges: Array<{ kind: string }> }>).find((e) => e.type === 'G0');
    expect(x?.edges.map((e) => e.kind)).toEqual(['ww', 'ww']);
  });

  it('G1c: each transaction reads the other\'s append (read-committed)', () => {
    const h = new History().overlap([
      { process: 0, request: [['append', 'x', 1], ['r', 'y', null]], result: [['append', 'x', 1], ['r', 'y', [1]]] },
      { process: 1, request: [['append', 'y', 1], ['r', 'x', null]], result: [['append', 'y', 1], ['r', 'x', [1]]] },
    ]);
    const r = checkListAppend(h.ops, { consistencyModels: ['read-committed'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toEqual(['G1c']);
  });

  it('G-single-item: a read that sees one append of a transaction but not the other (snapshot-isolation)', () => {
    const h = new History().overlap([
      { process: 0, request: [['r', 'x', null], ['r', 'y', null]], result: [['r', 'x', []], ['r', 'y', [1]]] },
      { process: 1, request: [['append', 'y', 1], ['append', 'x', 1]] },
    ]);
    const r = checkListAppend(h.ops, { consistencyModels: ['snapshot-isolation'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toEqual(['G-single-item']);
  });

  it('G2-item: write skew, rejected by serializable, allowed by snapshot isolation', () => {
    const h = new History().overlap([
      { process: 0, request: [['r', 'x', null], ['append', 'y', 1]], result: [['r', 'x', []], ['append', 'y', 1]] },
      { process: 1, request: [['r', 'y', null], ['append', 'x', 1]], result: [['r', 'y', []], ['append', 'x', 1]] },
    ]);
    const ser = checkListAppend(h.ops, { consistencyModels: ['serializable'] });
    expect(ser.workload['valid?']).toBe(false);
    expect(types(ser)).toEqual(['G2-item']);
    expect(checkListAppend(h.ops, { consistencyModels: ['snapshot-isolation'] }).workload['valid?']).toBe(true);
  });

  it('G1a and incompatible-order', () => {
    const g1a = new History().txn(0, [['append', 'x', 1]], undefined, 'fail').txn(1, [['r', 'x', null]], [['r', 'x', [1]]]);
    expect(types(checkListAppend(g1a.ops, { consistencyModels: ['read-committed'] }))).toContain('G1a');
    const inc = new History()
      .txn(0, [['append', 'x', 1]])
      .txn(1, [['append', 'x', 2]])
      .txn(2, [['r', 'x', null]], [['r', 'x', [1, 2]]])
      .txn(3, [['r', 'x', null]], [['r', 'x', [2, 1]]]);
    const r = checkListAppend(inc.ops, { consistencyModels: ['read-committed'] });
    expect(r.workload['valid?']).toBe(false);
    expect(types(r)).toContain('incompatible-order');
  });

  it('a list-append read that returns a non-list is a glomers finding', () => {
    const h = new History().txn(0, [['r', 'x', null]], [['r', 'x', 3]]);
    expect(checkListAppend(h.ops, { consistencyModels: ['serializable'] }).glomers['finding-types']).toEqual(['mop-type-mismatch']);
  });

  it('a read answered as an append (maelstrom#14) is a glomers finding', () => {
    const h = new History().txn(0, [['r', 'x', null]], [['append', 'x', 9]]);
    const r = checkListAppend(h.ops, { consistencyModels: ['serializable'] });
    expect(r.glomers['finding-types']).toEqual(['mop-type-mismatch']);
    expect(combinedValidity(r, true)).toBe(false);
  });
});

describe('histories that must pass', () => {
  function serial(kind: 'rw' | 'append'): History {
    const h = new History();
    const state = new Map<string, number[]>();
    let n = 0;
    for (let i = 0; i < 200; i++) {
      const key = `k${i % 7}`;
      const other = `k${(i * 3) % 7}`;
      n++;
      const read = (k: string): Json => (kind === 'rw' ? (state.get(k)?.at(-1) ?? null) : (state.get(k) ?? null));
      const request: MopIn[] = [['r', other, null], [kind === 'rw' ? 'w' : 'append', key, n], ['r', key, null]];
      const result: MopIn[] = [['r', other, read(other)], request[1] as MopIn];
      state.set(key, [...(state.get(key) ?? []), n]);
      result.push(['r', key, read(key)]);
      h.txn(i % 5, request, result);
    }
    return h;
  }

  it('a serial rw-register history is strict-serializable, with no glomers findings', () => {
    const r = checkRwRegister(serial('rw').ops, { consistencyModels: ['strict-serializable'] });
    expect(r.workload).toEqual({ 'valid?': true, 'anomaly-types': [], anomalies: {} });
    expect(r.glomers['valid?']).toBe(true);
  });

  it('a serial list-append history is strict-serializable, with no glomers findings', () => {
    const r = checkListAppend(serial('append').ops, { consistencyModels: ['strict-serializable'] });
    expect(r.workload).toEqual({ 'valid?': true });
    expect(r.glomers['valid?']).toBe(true);
  });
});

describe('verdict edge cases', () => {
  it('an unknown model name gives unknown with Elle\'s error', () => {
    const h = new History().txn(0, [['w', 'x', 1]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['serializable,read-committed'] });
    expect(r.workload['valid?']).toBe('unknown');
    expect(String(r.workload.error)).toMatch(/Unknown consistency model/);
  });

  it('an empty transaction graph is false in rw-register (Maelstrom wrapper) and unknown in list-append', () => {
    const h = new History().txn(0, [['w', 'x', 1]]);
    const rw = checkRwRegister(h.ops, { consistencyModels: ['read-committed'] });
    expect(rw.workload['valid?']).toBe(false);
    expect(types(rw)).toEqual(['empty-transaction-graph']);
    const la = checkListAppend(new History().txn(0, [['append', 'x', 1]]).ops, { consistencyModels: ['read-committed'] });
    expect(la.workload['valid?']).toBe('unknown');
  });

  it('a passed deadline answers unknown with the reason, never a verdict', () => {
    const h = new History().txn(0, [['w', 'x', 1]], undefined, 'fail').txn(1, [['r', 'x', 1]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['read-committed'], deadlineMs: Date.now() - 1 });
    expect(r.workload['valid?']).toBe('unknown');
    expect(String(r.workload.error)).toMatch(/deadline/);
  });

  it('a deadline that passes during the check answers unknown', () => {
    const h = new History();
    for (let i = 0; i < 3000; i++) h.overlap([{ process: i % 4, request: [['r', `k${i % 50}`, null], ['w', `k${i % 50}`, i]], result: [['r', `k${i % 50}`, null], ['w', `k${i % 50}`, i]] }]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['strict-serializable'], deadlineMs: Date.now() + 2 });
    expect(r.workload['valid?']).toBe('unknown');
    expect(String(r.workload.error)).toMatch(/deadline/);
  });

  it('every cycle anomaly comes with an explanation naming its edges', () => {
    const h = new History().txn(0, [['w', 'x', 1]]).txn(1, [['r', 'x', null]]);
    const r = checkRwRegister(h.ops, { consistencyModels: ['strict-serializable'] });
    const x = (r.glomers.explanations as Array<{ type: string; cycle: unknown[]; edges: Array<{ kind: string; why: string }> }>)[0];
    expect(x?.type).toBe('G-single-item-realtime');
    expect(x?.cycle).toHaveLength(2);
    expect(x?.edges.map((e) => e.kind).sort()).toEqual(['realtime', 'rw']);
    expect(x?.edges.find((e) => e.kind === 'rw')?.why).toMatch(/initial state/);
  });
});

describe('ScratchTable', () => {
  it('answers as a Map would, before and after it moves its keys into one, and forgets them on reset', () => {
    const table = new ScratchTable<number | string, number>();
    const map = new Map<number | string, number>();
    for (let k = 0; k < 40; k++) {
      const key = k % 3 === 0 ? String(k % 7) : k % 11;
      if (k % 5 === 4) {
        table.delete(key);
        map.delete(key);
      } else {
        table.set(key, k);
        map.set(key, k);
      }
      for (const probe of [0, 1, 5, 10, '0', '3', '6', 'x']) {
        expect(table.get(probe)).toBe(map.get(probe));
        expect(table.has(probe)).toBe(map.has(probe));
      }
    }
    for (let k = 0; k < 20; k++) table.set(k, k);
    table.reset();
    expect(table.has(0)).toBe(false);
    expect(table.get('0')).toBeUndefined();
  });
});

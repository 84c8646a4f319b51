// The pure core with a simulated network: replication, atomic visibility, retries, bounds, and
// a randomized two-node run checked for write cycles and circular information flow.
import { describe, expect, it } from 'vitest';
import type { Json } from '../lib/index.js';
import { clientTxn, createTxnCore, peerMessage, tick, type TxnCore } from './core.js';
import { defaultReplicationConfig, inflightCount, type Outgoing, type ReplicationConfig } from './replication.js';
import { allListItems, checkStore, readKey, TxnInvariantError } from './store.js';

const ids = ['n0', 'n1'];
const config: ReplicationConfig = { ...defaultReplicationConfig, flushIntervalMs: 100, retryMs: 1000 };

function pair(overrides: Partial<ReplicationConfig> = {}): Record<string, TxnCore> {
  return Object.fromEntries(ids.map((id) => [id, createTxnCore(id, ids, { ...config, ...overrides })]));
}

function txn(core: TxnCore, ops: Json[]): Json[] {
  const result = clientTxn(core, ops);
  if (!result.ok) throw new Error(result.error);
  return result.txn;
}

function deliver(nodes: Record<string, TxnCore>, messages: Outgoing[], from: string, nowMs: number): void {
  for (const { dest, body } of messages) peerMessage(nodes[dest]!, from, JSON.parse(JSON.stringify(body)) as typeof body, nowMs);
}

/** One flush of every node, everything delivered. */
function exchange(nodes: Record<string, TxnCore>, nowMs: number): number {
  let sent = 0;
  for (const id of ids) {
    const out = tick(nodes[id]!, nowMs);
    sent += out.length;
    deliver(nodes, out, id, nowMs);
  }
  return sent;
}

describe('replication', () => {
  it('makes a transaction visible at the peer only as a whole, at one flush', () => {
    const nodes = pair();
    txn(nodes['n0']!, [['w', 1, 10], ['w', 2, 20], ['w', 3, 30]]);
    expect(txn(nodes['n1']!, [['r', 1, null], ['r', 2, null], ['r', 3, null]])).toEqual([['r', 1, null], ['r', 2, null], ['r', 3, null]]);
    const out = tick(nodes['n0']!, 0);
    expect(out).toHaveLength(1);
    deliver(nodes, out, 'n0', 0);
    expect(txn(nodes['n1']!, [['r', 1, null], ['r', 2, null], ['r', 3, null]])).toEqual([['r', 1, 10], ['r', 2, 20], ['r', 3, 30]]);
  });

  it('ignores a whole batch if any write in it is malformed, and does not acknowledge it', () => {
    const nodes = pair();
    peerMessage(nodes['n1']!, 'n0', { batches: [[1, [['w', 1, 5, 1, 0], ['w', 2, 6, 'x', 0]]]] }, 0);
    expect(readKey(nodes['n1']!.store, 1)).toBeNull();
    expect(tick(nodes['n1']!, 0).filter((message) => message.body.ack !== undefined)).toEqual([]);
  });

  it('ignores messages from nodes that are not peers', () => {
    const nodes = pair();
    peerMessage(nodes['n1']!, 'c3', { batches: [[1, [['w', 1, 5, 1, 0]]]] }, 0);
    expect(readKey(nodes['n1']!.store, 1)).toBeNull();
  });

  it('resumes after a dropped batch: resent after the retry interval, then acknowledged and forgotten', () => {
    const nodes = pair();
    txn(nodes['n0']!, [['w', 1, 1]]);
    expect(tick(nodes['n0']!, 0)).toHaveLength(1); // lost
    for (let t = 100; t < 1000; t += 100) expect(tick(nodes['n0']!, t)).toEqual([]);
    const resend = tick(nodes['n0']!, 1000);
    expect(resend).toHaveLength(1);
    deliver(nodes, resend, 'n0', 1000);
    expect(readKey(nodes['n1']!.store, 1)).toBe(1);
    const ack = tick(nodes['n1']!, 1050);
    expect(ack).toHaveLength(1);
    expect(ack[0]).toMatchObject({ dest: 'n0', body: { type: 'txn_replicate', ack: [expect.any(Number)] } });
    expect(ack[0]!.body.batches).toBeUndefined();
    deliver(nodes, ack, 'n1', 1050);
    expect(inflightCount(nodes['n0']!.replication, 'n1').batches).toBe(0);
    // Only watermark traffic remains, and it settles.
    for (let t = 1100; t < 3000; t += 100) exchange(nodes, t);
    expect(tick(nodes['n0']!, 5000)).toEqual([]);
    expect(tick(nodes['n1']!, 5000)).toEqual([]);
  });

  it('sends at most one message per peer per flush, acks riding on batches', () => {
    const nodes = pair();
    let messages = 0;
    let ops = 0;
    for (let t = 0; t < 2000; t += 100) {
      for (let i = 0; i < 100; i += 1) {
        const key = (t + i) % 17;
        txn(nodes['n0']!, [['w', key, `${t}-${i}-a`], ['r', key + 1, null]]);
        txn(nodes['n1']!, [['w', key + 1, `${t}-${i}-b`]]);
        ops += 2;
      }
      messages += exchange(nodes, t);
    }
    expect(messages).toBeLessThanOrEqual(2 * 20);
    expect(messages / ops).toBeLessThan(0.1);
    for (let k = 0; k < 18; k += 1) expect(readKey(nodes['n0']!.store, k)).toEqual(readKey(nodes['n1']!.store, k));
  });

  it('stays bounded through a long partition and delivers everything after it heals', () => {
    const nodes = pair({ maxInflightBatches: 4, maxMessageWrites: 50 });
    let sentDuringPartition = 0;
    for (let t = 0; t < 30_000; t += 100) {
      txn(nodes['n0']!, [['w', t % 300, t], ['append', 'log', t]]);
      sentDuringPartition += tick(nodes['n0']!, t).length; // all lost
      expect(inflightCount(nodes['n0']!.replication, 'n1').batches).toBeLessThanOrEqual(4);
    }
    // A peer that never answers gets one message per retry interval, not one per flush.
    expect(sentDuringPartition).toBeLessThanOrEqual(31);
    expect(inflightCount(nodes['n0']!.replication, 'n1').writes).toBeLessThanOrEqual(4 * (300 + 300));
    // Heal: the first resend slot carries the backlog; batches too large for one message still go.
    for (let t = 30_000; t < 40_000; t += 100) exchange(nodes, t);
    expect(inflightCount(nodes['n0']!.replication, 'n1').batches).toBe(0);
    for (let k = 0; k < 300; k += 1) expect(readKey(nodes['n1']!.store, k)).toBe(readKey(nodes['n0']!.store, k));
    expect(readKey(nodes['n1']!.store, 'log')).toEqual(readKey(nodes['n0']!.store, 'log'));
    expect((readKey(nodes['n1']!.store, 'log') as Json[]).length).toBe(300);
  });

  it('never shows a transaction half applied, through losses, merged batches and message caps', () => {
    let seed = 99;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const nodes = pair({ retryMs: 300, maxInflightBatches: 2, maxMessageWrites: 3 });
    let splits = 0;
    let pairsSeen = 0;
    for (let step = 0; step < 2000; step += 1) {
      const id = ids[step % 2]!;
      // Keys p and q are only ever written together, with the same value; r is noise.
      if (random() < 0.5) txn(nodes[id]!, [['w', 'p', step], ['w', 'r', step], ['w', 'q', step]]);
      else txn(nodes[id]!, [['w', 'r', -step]]);
      if (step % 7 === 0) {
        for (const from of ids) {
          const out = tick(nodes[from]!, step * 20);
          if (random() < 0.6) deliver(nodes, out, from, step * 20);
        }
      }
      for (const reader of ids) {
        const [p, , q] = (txn(nodes[reader]!, [['r', 'p', null], ['r', 'r', null], ['r', 'q', null]]) as Array<[string, string, Json]>).map(
          (mop) => mop[2],
        );
        if (p !== q) splits += 1;
        if (p !== null) pairsSeen += 1;
      }
    }
    expect(pairsSeen).toBeGreaterThan(1000);
    expect(splits).toBe(0);
  });

  it('caps the writes in one message, sending whole batches only', () => {
    const nodes = pair({ maxMessageWrites: 5 });
    for (let round = 0; round < 3; round += 1) {
      for (let k = 0; k < 4; k += 1) txn(nodes['n0']!, [['w', `${round}-${k}`, k]]);
      tick(nodes['n0']!, round * 100); // lost: each round is one batch of 4 writes
    }
    const resend = tick(nodes['n0']!, 2000);
    const batches = resend[0]!.body.batches!;
    expect(batches).toHaveLength(1);
    expect(batches[0]![1]).toHaveLength(4);
  });
});

describe('stable list reads (txn-list-append across nodes)', () => {
  it('shows an append only once every node has it, and then everywhere in the same order', () => {
    const nodes = pair();
    txn(nodes['n0']!, [['append', 'k', 'a']]);
    txn(nodes['n1']!, [['append', 'k', 'b']]);
    // Each node holds its own append but cannot show it: the other may still append below it.
    expect(txn(nodes['n0']!, [['r', 'k', null]])).toEqual([['r', 'k', null]]);
    exchange(nodes, 0);
    exchange(nodes, 100);
    exchange(nodes, 200);
    const n0 = txn(nodes['n0']!, [['r', 'k', null]]);
    expect(n0).toEqual([['r', 'k', ['a', 'b']]]);
    expect(txn(nodes['n1']!, [['r', 'k', null]])).toEqual(n0);
  });

  it('hides a transaction\'s own appends from its reads while peers could still sort below them', () => {
    const nodes = pair();
    expect(txn(nodes['n0']!, [['append', 'k', 1], ['r', 'k', null]])).toEqual([['append', 'k', 1], ['r', 'k', null]]);
  });

  it('a randomized run with losses: every list read on either node is a prefix of one order', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const nodes = pair({ retryMs: 300, maxInflightBatches: 3 });
    const reads = new Map<string, Json[][]>();
    let next = 0;
    for (let step = 0; step < 3000; step += 1) {
      const id = ids[Math.floor(random() * 2)]!;
      const key = `k${Math.floor(random() * 3)}`;
      const done = txn(nodes[id]!, [['append', key, next++], ['r', key, null], ['r', `k${Math.floor(random() * 3)}`, null]]);
      for (const [f, k, value] of done as Array<[string, string, Json]>) {
        if (f === 'r' && Array.isArray(value)) reads.set(k, [...(reads.get(k) ?? []), value]);
      }
      if (step % 10 === 9) {
        for (const from of ids) {
          const out = tick(nodes[from]!, step * 10);
          if (random() < 0.7) deliver(nodes, out, from, step * 10);
        }
      }
    }
    let checked = 0;
    for (const values of reads.values()) {
      const longest = values.reduce((a, b) => (b.length > a.length ? b : a));
      for (const value of values) {
        expect(longest.slice(0, value.length)).toEqual(value);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(1000);
    // Once the network is quiet and whole, everything is stable and identical.
    for (let t = 40_000; t < 45_000; t += 100) exchange(nodes, t);
    for (const key of ['k0', 'k1', 'k2']) {
      const full = allListItems(nodes['n0']!.store, key);
      expect(readKey(nodes['n0']!.store, key)).toEqual(full);
      expect(readKey(nodes['n1']!.store, key)).toEqual(full);
    }
    for (const id of ids) checkStore(nodes[id]!.store);
  });

  it('the stable bound never goes down', () => {
    const nodes = pair();
    txn(nodes['n0']!, [['append', 'k', 1]]);
    for (let t = 0; t < 1000; t += 100) exchange(nodes, t);
    const bound = nodes['n1']!.store.stableBelow;
    expect(bound).toBeGreaterThan(1);
    nodes['n1']!.replication.peers.get('n0')!.theirLow = 0; // a watermark lost
    expect(() => peerMessage(nodes['n1']!, 'n0', {}, 1000)).toThrow(TxnInvariantError);
    expect(() => peerMessage(nodes['n1']!, 'n0', {}, 1100)).toThrow(`stable bound went down from ${bound} to 0`);
  });
});

describe('no write cycles across keys when two nodes write the same keys concurrently', () => {
  it('resolves a concurrent two-key conflict to one transaction on both keys, on both nodes', () => {
    const nodes = pair();
    txn(nodes['n0']!, [['w', 'x', 'a'], ['w', 'y', 'a']]);
    txn(nodes['n1']!, [['w', 'y', 'b'], ['w', 'x', 'b']]);
    exchange(nodes, 0);
    for (const id of ids) {
      const store = nodes[id]!.store;
      // Equal counters: the higher node index wins both keys. A mix (x from one, y from the
      // other) would be ww a->b on one key and b->a on the other: G0.
      expect([readKey(store, 'x'), readKey(store, 'y')]).toEqual(['b', 'b']);
    }
  });

  it('a randomized run with losses shows no G0 or G1c and a per-key order every node agrees with', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const nodes = pair({ retryMs: 300 });
    const keys = ['a', 'b', 'c', 'd'];
    let nextValue = 1;
    const writerOf = new Map<string, number>(); // `${key}=${value}` -> txn index
    const edges: Array<[number, number]> = [];
    const observed = new Map<string, Json[][]>(); // key -> per node, the values seen in order
    let txnIndex = 0;

    const observe = (node: number, key: string, value: Json): void => {
      const perNode = observed.get(key) ?? [[], []];
      observed.set(key, perNode);
      const seen = perNode[node]!;
      if (value !== null && seen[seen.length - 1] !== value) seen.push(value);
    };

    for (let step = 0; step < 3000; step += 1) {
      const node = random() < 0.5 ? 0 : 1;
      const ops: Json[] = [];
      const length = 1 + Math.floor(random() * 4);
      for (let i = 0; i < length; i += 1) {
        const key = keys[Math.floor(random() * keys.length)]!;
        ops.push(random() < 0.5 ? ['r', key, null] : ['w', key, nextValue++]);
      }
      const me = txnIndex++;
      const done = txn(nodes[ids[node]!]!, ops) as Array<[string, string, Json]>;
      const touched = new Set<string>();
      for (const [f, key, value] of done) {
        if (f === 'r' && !touched.has(key) && value !== null) {
          const writer = writerOf.get(`${key}=${String(value)}`);
          if (writer !== undefined && writer !== me) edges.push([writer, me]); // wr
        }
        if (f === 'w') writerOf.set(`${key}=${String(value)}`, me);
        touched.add(key);
      }
      for (const key of keys) observe(node, key, readKey(nodes[ids[node]!]!.store, key));
      if (step % 10 === 9) {
        for (const id of ids) {
          const out = tick(nodes[id]!, step * 10);
          if (random() < 0.7) deliver(nodes, out, id, step * 10); // 30% of messages lost
        }
        for (const [index, id] of ids.entries()) for (const key of keys) observe(index, key, readKey(nodes[id]!.store, key));
      }
    }

    // Per key, the orders in which the two nodes saw values must fit one order: merge them
    // into a version graph and require it to be acyclic. Its edges give ww between writers.
    for (const [key, perNode] of observed) {
      const versionEdges: Array<[Json, Json]> = [];
      for (const seen of perNode) for (let i = 1; i < seen.length; i += 1) versionEdges.push([seen[i - 1]!, seen[i]!]);
      expect(hasCycle(versionEdges), `versions of ${key}`).toBe(false);
      for (const [from, to] of versionEdges) {
        const a = writerOf.get(`${key}=${String(from)}`);
        const b = writerOf.get(`${key}=${String(to)}`);
        if (a !== undefined && b !== undefined && a !== b) edges.push([a, b]); // ww
      }
    }
    expect(edges.length).toBeGreaterThan(1000);
    expect(hasCycle(edges)).toBe(false);
    for (const id of ids) checkStore(nodes[id]!.store);
  });
});

/** Kahn's algorithm: true if the directed graph has a cycle. */
function hasCycle<V>(edges: ReadonlyArray<readonly [V, V]>): boolean {
  const out = new Map<V, V[]>();
  const indegree = new Map<V, number>();
  for (const [from, to] of edges) {
    const targets = out.get(from) ?? [];
    targets.push(to);
    out.set(from, targets);
    indegree.set(to, (indegree.get(to) ?? 0) + 1);
    if (!indegree.has(from)) indegree.set(from, 0);
  }
  const ready = [...indegree].filter(([, degree]) => degree === 0).map(([vertex]) => vertex);
  let removed = 0;
  while (ready.length > 0) {
    const vertex = ready.pop()!;
    removed += 1;
    for (const next of out.get(vertex) ?? []) {
      const degree = indegree.get(next)! - 1;
      indegree.set(next, degree);
      if (degree === 0) ready.push(next);
    }
  }
  return removed < indegree.size;
}

describe('hasCycle (the test\'s own checker)', () => {
  it('finds a cycle when there is one', () => {
    expect(hasCycle([[1, 2], [2, 3], [3, 1]])).toBe(true);
    expect(hasCycle([[1, 2], [2, 3], [1, 3]])).toBe(false);
  });
});

// Multi-node tests of the pure core: Raft cores wired by a simulated network on virtual time
// (test/support/raft-cluster.ts), with partitions, loss, crashes and restarts from disk. Every step
// checks election safety (one leader per term) and that committed log prefixes agree; histories
// are checked for linearizability by the harness's lin-kv checker.

import { describe, expect, it } from 'vitest';
import { checkLinKv } from '../harness/check/checkers/linearizable.js';
import type { Op } from '../harness/types.js';
import { RaftCluster as Sim, seededRandom, type HistoryOp } from '../../test/support/raft-cluster.js';
import type { KvOp } from './kv.js';
import { lastIndex } from './raft.js';

/** The harness's verdict on the cluster's history (Maelstrom's lin-kv checker). */
function linearizable(sim: Sim): boolean | 'unknown' {
  return checkLinKv(sim.linKvHistory())['valid?'] as boolean | 'unknown';
}

const three = ['n0', 'n1', 'n2'];
const five = ['n0', 'n1', 'n2', 'n3', 'n4'];

function electedSim(nodeIds: string[], seed: number): Sim {
  const sim = new Sim({ nodeIds, seed });
  sim.run(1_000);
  expect(sim.leader()).toBeDefined();
  return sim;
}

/** Runs until the op completes (or the limit passes). */
function await_(sim: Sim, op: HistoryOp, limitMs = 2_000): HistoryOp {
  const end = sim.nowMs + limitMs;
  while (op.outcome === 'pending' && sim.nowMs < end) sim.run(sim.tickMs);
  return op;
}

describe('election', () => {
  it('elects exactly one leader, and every node follows it', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const sim = electedSim(three, seed);
      const leader = sim.leader() as string;
      const term = sim.node(leader).term;
      for (const id of three) {
        expect(sim.node(id).term).toBe(term);
        expect(sim.node(id).leaderId).toBe(leader);
      }
      expect([...sim.nodes.values()].filter((n) => n.state.role === 'leader')).toHaveLength(1);
    }
  });

  it('replaces a crashed leader within 500 ms and serves requests there', () => {
    const failovers: number[] = [];
    for (const seed of [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]) {
      const sim = electedSim(three, seed);
      // Crash at a random point between heartbeats.
      sim.run(Math.floor(seededRandom(seed)() * 60));
      const old = sim.leader() as string;
      const crashAt = sim.nowMs;
      sim.crash(old);
      const survivor = three.find((id) => id !== old) as string;
      let served: HistoryOp | undefined;
      while (sim.nowMs - crashAt < 1_000) {
        sim.run(sim.tickMs);
        const leader = sim.leader();
        if (served === undefined && leader !== undefined && leader !== old) served = sim.invoke(leader, 1, { f: 'write', key: 1, value: seed });
        if (served?.outcome === 'ok') break;
      }
      expect(served?.outcome).toBe('ok');
      failovers.push((served?.completeMs as number) - crashAt);
      expect(sim.node(survivor).term).toBeGreaterThan(0);
    }
    expect(Math.max(...failovers)).toBeLessThanOrEqual(500);
  });

  it('a partitioned follower does not depose the leader when it comes back (pre-vote)', () => {
    const sim = electedSim(three, 21);
    const leader = sim.leader() as string;
    const term = sim.node(leader).term;
    const follower = three.find((id) => id !== leader) as string;
    sim.isolate([follower]);
    sim.run(3_000);
    expect(sim.node(follower).term).toBe(term); // pre-votes failed, so no term inflation
    sim.heal();
    sim.run(500);
    expect(sim.leader()).toBe(leader);
    expect(sim.node(leader).term).toBe(term);
  });

  it('a leader cut off from the majority steps down and the majority elects a new one', () => {
    const sim = electedSim(five, 31);
    const old = sim.leader() as string;
    const oldTerm = sim.node(old).term;
    const buddy = five.find((id) => id !== old) as string;
    sim.isolate([old, buddy]);
    sim.run(1_000);
    expect(sim.node(old).role).toBe('follower');
    const fresh = sim.leader() as string;
    expect(fresh).not.toBe(old);
    expect(fresh).not.toBe(buddy);
    expect(sim.node(fresh).term).toBeGreaterThan(oldTerm);
  });
});

describe('replication', () => {
  it('answers at the node the client asked, leader or follower', () => {
    const sim = electedSim(three, 41);
    for (const id of three) {
      const write = await_(sim, sim.invoke(id, 1, { f: 'write', key: id, value: [id] }));
      expect(write.outcome).toBe('ok');
    }
    for (const id of three) {
      const read = await_(sim, sim.invoke(id, 2, { f: 'read', key: three[(three.indexOf(id) + 1) % 3] as string }));
      expect(read.outcome).toBe('ok');
      expect(read.value).toEqual([three[(three.indexOf(id) + 1) % 3]]);
    }
    const cas = await_(sim, sim.invoke('n1', 3, { f: 'cas', key: 'n0', from: ['n0'], to: 'x' }));
    expect(cas.outcome).toBe('ok');
    expect(cas.code).toBeUndefined();
    const mismatch = await_(sim, sim.invoke('n2', 3, { f: 'cas', key: 'n0', from: ['n0'], to: 'y' }));
    expect(mismatch.code).toBe(22);
    const absent = await_(sim, sim.invoke('n2', 3, { f: 'read', key: 'nope' }));
    expect(absent.code).toBe(20);
  });

  it('a stale leader’s uncommitted entries are overwritten when it rejoins (log conflict)', () => {
    const sim = electedSim(three, 51);
    const old = sim.leader() as string;
    sim.isolate([old]);
    // Requests at the cut-off leader go into its log but can never commit.
    const lost = sim.invoke(old, 1, { f: 'write', key: 'k', value: 'lost' });
    sim.run(100);
    const oldLast = lastIndex(sim.node(old));
    sim.run(900);
    const fresh = sim.leader() as string;
    expect(fresh).not.toBe(old);
    const kept = await_(sim, sim.invoke(fresh, 2, { f: 'write', key: 'k', value: 'kept' }));
    expect(kept.outcome).toBe('ok');
    sim.heal();
    sim.run(500);
    expect(lost.outcome).toBe('info'); // sent into its own log, so the outcome was unknown at the deadline
    expect(lastIndex(sim.node(old))).toBeGreaterThanOrEqual(oldLast);
    const read = await_(sim, sim.invoke(old, 3, { f: 'read', key: 'k' }));
    expect(read.value).toBe('kept');
    // The old leader's log now equals the new leader's.
    expect(sim.node(old).entries.map((e) => e.term)).toEqual(sim.node(fresh).entries.map((e) => e.term));
  });

  it('a node with no reachable leader answers 11 (definite) before the client gives up', () => {
    const sim = electedSim(three, 61);
    const leader = sim.leader() as string;
    const follower = three.find((id) => id !== leader) as string;
    sim.isolate([follower]);
    sim.run(400);
    const op = await_(sim, sim.invoke(follower, 1, { f: 'write', key: 1, value: 1 }));
    expect(op.outcome).toBe('fail');
    expect(op.code).toBe(11);
    expect((op.completeMs as number) - op.invokeMs).toBeLessThan(1_000);
  });

  it('restarts every node from disk with the data and terms intact', () => {
    const sim = electedSim(three, 71);
    for (let k = 0; k < 5; k++) expect(await_(sim, sim.invoke('n0', 1, { f: 'write', key: k, value: k * 10 })).outcome).toBe('ok');
    const terms = three.map((id) => sim.node(id).term);
    for (const id of three) sim.crash(id);
    for (const id of three) sim.restart(id);
    three.forEach((id, k) => expect(sim.node(id).term).toBe(terms[k]));
    sim.run(1_000);
    for (let k = 0; k < 5; k++) {
      const read = await_(sim, sim.invoke(three[k % 3] as string, 2, { f: 'read', key: k }));
      expect(read.value).toBe(k * 10);
    }
  });

  it('a restarted node remembers its vote: no second vote in the same term', () => {
    const sim = new Sim({ nodeIds: three, seed: 81 });
    sim.run(1_000);
    const voter = three.find((id) => sim.node(id).role !== 'leader') as string;
    const { term, votedFor } = sim.node(voter);
    sim.crash(voter);
    sim.restart(voter);
    expect(sim.node(voter).term).toBe(term);
    expect(sim.node(voter).votedFor).toBe(votedFor);
  });

  it('compacts the log and brings a long-absent node up to date with a snapshot', () => {
    const sim = new Sim({ nodeIds: three, seed: 91, config: { compactEvery: 20 } });
    sim.run(1_000);
    const leader = sim.leader() as string;
    const absent = three.find((id) => id !== leader) as string;
    sim.crash(absent);
    for (let k = 0; k < 60; k++) expect(await_(sim, sim.invoke(leader, 1, { f: 'write', key: k % 4, value: k })).outcome).toBe('ok');
    expect(sim.node(leader).snapshot.index).toBeGreaterThan(20);
    expect(sim.node(leader).entries.length).toBeLessThan(40);
    sim.restart(absent);
    sim.run(500);
    expect(sim.node(absent).snapshot.index).toBeGreaterThan(0);
    expect(sim.node(absent).commitIndex).toBe(sim.node(leader).commitIndex);
    for (let key = 0; key < 4; key++) {
      const read = await_(sim, sim.invoke(absent, 2, { f: 'read', key }));
      expect(read.value).toBe(56 + key);
    }
  });
});

describe('one-way partitions', () => {
  const ringRun = (useRelay: boolean, seed: number): { ok: number; total: number; sim: Sim } => {
    const sim = electedSim(three, seed);
    sim.useRelay = useRelay;
    sim.majoritiesRing(['n0', 'n1', 'n2']);
    sim.run(1_000);
    const ops: HistoryOp[] = [];
    for (let k = 0; k < 30; k++) {
      ops.push(sim.invoke(three[k % 3] as string, k, { f: 'write', key: 'r', value: k }));
      sim.run(100);
    }
    sim.run(1_000);
    return { ok: ops.filter((op) => op.outcome === 'ok').length, total: ops.length, sim };
  };

  it('majorities-ring on 3 nodes (a directed cycle) stays available through one-hop relays', () => {
    for (const seed of [1, 2, 3]) {
      const { ok, total, sim } = ringRun(true, seed);
      expect(ok).toBe(total);
      expect(linearizable(sim)).toBe(true);
    }
  });

  it('an idle cluster in a ring partition costs at most a quarter more messages than a healthy one, thanks to bundling', () => {
    const perSecond = (ring: boolean): number => {
      const sim = electedSim(three, 9);
      if (ring) sim.majoritiesRing(['n0', 'n1', 'n2']);
      sim.run(2_000);
      const before = sim.messagesSent;
      sim.run(5_000);
      return (sim.messagesSent - before) / 5;
    };
    const ring = perSecond(true);
    const healthy = perSecond(false);
    expect(ring).toBeLessThanOrEqual(healthy * 1.25);
  });

  it('without the relay layer the same partition serves nothing (the control)', () => {
    const { ok } = ringRun(false, 1);
    expect(ok).toBe(0);
  });

  it('the relay layer adds no messages to a healthy cluster', () => {
    const run = (useRelay: boolean): number => {
      const sim = new Sim({ nodeIds: three, seed: 5 });
      sim.useRelay = useRelay;
      sim.run(3_000);
      return sim.messagesSent;
    };
    expect(run(true)).toBe(run(false));
  });
});

/** A lin-kv-like load: per key, readers and writers/cas-ers with values 0..4, random nodes. */
function randomWorkload(sim: Sim, seed: number, durationMs: number, nemesis: (sim: Sim, random: () => number) => void): void {
  const random = seededRandom(seed * 7 + 3);
  const nodeIds = [...sim.nodes.keys()];
  const processes = 6;
  const busy = new Map<number, HistoryOp>();
  const keyOf = (process: number): number => Math.floor(sim.nowMs / 2_500) * 2 + (process % 2);
  const end = sim.nowMs + durationMs;
  while (sim.nowMs < end) {
    for (let process = 0; process < processes; process++) {
      const current = busy.get(process);
      if (current !== undefined && current.outcome === 'pending') continue;
      if (random() > 0.05) continue;
      const key = keyOf(process);
      const value = Math.floor(random() * 5);
      const roll = random();
      const op: KvOp =
        roll < 0.5 ? { f: 'read', key } : roll < 0.7 ? { f: 'write', key, value } : { f: 'cas', key, from: Math.floor(random() * 5), to: value };
      busy.set(process, sim.invoke(nodeIds[Math.floor(random() * nodeIds.length)] as string, process, op));
    }
    nemesis(sim, random);
    sim.run(sim.tickMs);
  }
  sim.heal();
  sim.run(1_500);
}

describe('linearizability under faults', () => {
  it('the checker, fed histories of this shape, rejects a stale read and accepts its concurrent twin', () => {
    const ops = (spans: Array<[number, string, number | null, number, number]>): Op[] => {
      const events: Array<{ time: number; type: Op['type']; process: number; f: string; value: Op['value'] }> = [];
      for (const [process, f, value, invokeMs, completeMs] of spans) {
        events.push({ time: invokeMs * 1e6, type: 'invoke', process, f, value: [1, f === 'read' ? null : value] });
        events.push({ time: completeMs * 1e6, type: 'ok', process, f, value: [1, value] });
      }
      return events.sort((a, b) => a.time - b.time).map((event, index) => ({ ...event, index }) as Op);
    };
    const stale = ops([[0, 'write', 1, 0, 10], [0, 'write', 2, 20, 30], [1, 'read', 1, 40, 50]]);
    expect(checkLinKv(stale)['valid?']).toBe(false);
    const concurrent = ops([[0, 'write', 1, 0, 10], [0, 'write', 2, 20, 45], [1, 'read', 1, 40, 50]]);
    expect(checkLinKv(concurrent)['valid?']).toBe(true);
  });

  const partitionNemesis = (sim: Sim, random: () => number): void => {
    if (sim.nowMs % 1_000 !== 0) return;
    sim.heal();
    const nodeIds = [...sim.nodes.keys()];
    const roll = random();
    if (roll < 0.3) return;
    const shuffled = [...nodeIds].sort(() => random() - 0.5);
    if (roll > 0.85) sim.majoritiesRing(shuffled);
    else sim.isolate(shuffled.slice(0, roll < 0.6 ? 1 : Math.floor(nodeIds.length / 2)));
  };

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`3 nodes, partitions and 2% loss, seed ${seed}: linearizable, mostly available`, () => {
      const sim = new Sim({ nodeIds: three, seed });
      sim.lossRate = 0.02;
      sim.run(500);
      randomWorkload(sim, seed, 12_000, partitionNemesis);
      expect(linearizable(sim)).toBe(true);
      const ok = sim.history.filter((op) => op.outcome === 'ok').length;
      expect(ok).toBeGreaterThan(sim.history.length * 0.5);
      expect(sim.history.filter((op) => op.outcome === 'pending')).toHaveLength(0);
    });
  }

  for (const seed of [7, 8, 9]) {
    it(`5 nodes, partitions, crashes and restarts, seed ${seed}: linearizable`, () => {
      const sim = new Sim({ nodeIds: five, seed, latencyMs: 5 });
      sim.run(500);
      const down = new Set<string>();
      randomWorkload(sim, seed, 12_000, (s, random) => {
        partitionNemesis(s, random);
        if (s.nowMs % 700 !== 0) return;
        const id = five[Math.floor(random() * five.length)] as string;
        if (down.has(id)) {
          s.restart(id);
          down.delete(id);
        } else if (down.size < 2) {
          s.crash(id);
          down.add(id);
        }
      });
      for (const id of down) sim.restart(id);
      sim.run(1_000);
      expect(linearizable(sim)).toBe(true);
      expect(sim.history.filter((op) => op.outcome === 'ok').length).toBeGreaterThan(50);
    });
  }
});

describe('message cost', () => {
  it('at 30 ops/s on 3 nodes: at most 2.5 server messages per operation, answers within a tick or two', () => {
    const sim = electedSim(three, 101);
    const random = seededRandom(5);
    const before = sim.messagesSent;
    const ops: HistoryOp[] = [];
    for (let k = 0; k < 600; k++) {
      // Poisson-ish arrivals at 30/s spread over the three nodes.
      sim.run(Math.max(sim.tickMs, Math.round((-Math.log(1 - random()) * 1000) / 30 / sim.tickMs) * sim.tickMs));
      ops.push(sim.invoke(three[k % 3] as string, k % 12, { f: random() < 0.5 ? 'read' : 'write', key: k % 4, value: k } as KvOp));
    }
    sim.run(1_000);
    const perOp = (sim.messagesSent - before) / ops.length;
    expect(ops.every((op) => op.outcome === 'ok' || op.code === 20)).toBe(true);
    const latencies = ops.map((op) => (op.completeMs as number) - op.invokeMs).sort((a, b) => a - b);
    expect(perOp).toBeLessThanOrEqual(2.5);
    // Virtual time at latency 0 with 5 ms ticks: requests are answered within a tick or two.
    expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThanOrEqual(10);
    expect(latencies[Math.floor(latencies.length * 0.99)]).toBeLessThanOrEqual(20);
  });
});

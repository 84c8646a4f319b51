// The kafka core without processes: offsets, visibility, replication, partitions, restarts.
import { describe, expect, it } from 'vitest';
import type { Json } from '../lib/index.js';
import {
  checkKafkaState,
  commit,
  createKafka,
  KafkaInvariantError,
  listCommitted,
  nextOffset,
  poll,
  receive,
  send,
  tick,
  visibleThrough,
  type KafkaConfig,
  type KafkaState,
  type Outgoing,
  type Persist,
  type StoredRecord,
} from './core.js';

const config: KafkaConfig = { retryMs: 1000, maxBatchEntries: 4096, maxPollPerKey: 1024, maxPollBytes: 1 << 20 };

/** Collects what a call persists. */
function into(records: StoredRecord[]): Persist {
  return (written) => void records.push(...written);
}

const discard: Persist = () => {};

/** A tiny deterministic cluster: cores, their records, and a network that can drop messages. */
class Cluster {
  readonly nodes = new Map<string, KafkaState>();
  readonly records = new Map<string, StoredRecord[]>();
  nowMs = 0;
  /** Links (src>dest) that drop everything. */
  readonly cut = new Set<string>();
  /** When set, messages wait in flight and each round delivers a random part of them, in random order. */
  random: (() => number) | undefined;
  private inFlight: Array<{ from: string; message: Outgoing }> = [];
  private epochs = 1;
  sent = 0;

  constructor(readonly ids: string[], readonly cfg: KafkaConfig = config) {
    for (const id of ids) this.start(id);
  }

  start(id: string): KafkaState {
    const records = this.records.get(id) ?? [];
    const state = createKafka(this.cfg, id, this.ids, this.epochs++, (apply) => records.forEach(apply));
    this.nodes.set(id, state);
    if (!this.records.has(id)) this.records.set(id, []);
    return state;
  }

  node(id: string): KafkaState {
    return this.nodes.get(id)!;
  }

  send(id: string, key: string, msg: Json): number {
    return send(this.node(id), key, msg, into(this.records.get(id)!)).offset;
  }

  deliver(messages: Outgoing[], from: string): void {
    const random = this.random;
    if (random !== undefined) {
      this.inFlight.push(...messages.map((message) => ({ from, message })));
      this.sent += messages.length;
      const ready = this.inFlight.filter(() => random() < 0.6).sort(() => random() - 0.5);
      this.inFlight = this.inFlight.filter((m) => !ready.includes(m));
      for (const { from: src, message } of ready) this.arrive(src, message);
      return;
    }
    for (const message of messages) {
      this.sent += 1;
      this.arrive(from, message);
    }
  }

  private arrive(from: string, { dest, body }: Outgoing): void {
    if (this.cut.has(`${from}>${dest}`)) return;
    // Through JSON, as on the wire.
    const wire = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
    receive(this.node(dest), from, wire, this.nowMs, into(this.records.get(dest)!));
  }

  /** One node's flush, delivered at once. */
  flush(id: string): void {
    this.deliver(tick(this.node(id), this.nowMs), id);
  }

  /** One flush round: every node ticks, messages arrive at once. */
  round(stepMs = 100): void {
    this.nowMs += stepMs;
    for (const id of this.ids) this.deliver(tick(this.node(id), this.nowMs), id);
  }

  rounds(n: number, stepMs = 100): void {
    for (let i = 0; i < n; i += 1) this.round(stepMs);
  }
}

function offsetsOf(state: KafkaState, key: string, from = 0): number[] {
  return (poll(state, { [key]: from })[key] ?? []).map(([offset]) => offset);
}

describe('offsets', () => {
  it('interleave by node index and stay above everything known', () => {
    expect(nextOffset(-1, 0, 2)).toBe(0);
    expect(nextOffset(-1, 1, 2)).toBe(1);
    expect(nextOffset(4, 1, 2)).toBe(5);
    expect(nextOffset(5, 1, 2)).toBe(7);
    expect(nextOffset(7, 2, 5)).toBe(12);
  });

  it('one client sending to one key gets increasing offsets, unique across nodes', () => {
    const c = new Cluster(['n0', 'n1']);
    const seen = new Set<number>();
    let last = -1;
    for (let i = 0; i < 20; i += 1) {
      const a = c.send('n0', 'k', i);
      const b = c.send('n1', 'k', 100 + i);
      expect(a).toBeGreaterThan(last);
      last = a;
      expect(seen.has(a) || seen.has(b)).toBe(false);
      seen.add(a).add(b);
      if (i % 3 === 0) c.round();
    }
  });

  it('a single node shows its sends at once', () => {
    const c = new Cluster(['n0']);
    c.send('n0', 'k', 'a');
    c.send('n0', 'k', 'b');
    expect(poll(c.node('n0'), { k: 0 })).toEqual({ k: [[0, 'a'], [1, 'b']] });
    expect(poll(c.node('n0'), { k: 1 })).toEqual({ k: [[1, 'b']] });
    expect(poll(c.node('n0'), { k: 2, other: 0 })).toEqual({});
  });
});

describe('visibility', () => {
  it('a send is polled only once every peer has claimed past it, then everywhere', () => {
    const c = new Cluster(['n0', 'n1']);
    c.send('n0', 'k', 'a');
    expect(offsetsOf(c.node('n0'), 'k')).toEqual([]);
    c.flush('n0'); // n0 -> n1: the entry, itself n0's claim
    expect(offsetsOf(c.node('n1'), 'k')).toEqual([0]);
    expect(offsetsOf(c.node('n0'), 'k')).toEqual([]);
    c.flush('n1'); // n1 -> n0: n1 now knows offset 0, and says so
    expect(offsetsOf(c.node('n0'), 'k')).toEqual([0]);
  });

  it('never shows an offset above one a peer may still assign below', () => {
    const c = new Cluster(['n0', 'n1']);
    c.send('n0', 'k', 'a'); // 0
    c.rounds(2);
    c.send('n0', 'k', 'b'); // 2
    c.send('n1', 'k', 'c'); // 1: n1 has not seen offset 2 yet
    expect(c.node('n0').logs.get('k')!.offsets).toEqual([0, 2]);
    expect(visibleThrough(c.node('n0'), 'k')).toBe(0);
    c.rounds(2);
    expect(offsetsOf(c.node('n0'), 'k')).toEqual([0, 1, 2]);
    expect(offsetsOf(c.node('n1'), 'k')).toEqual([0, 1, 2]);
  });

  it('randomised: every poll is a gap-free slice of the final log, on 2 and 5 nodes, with losses and restarts', () => {
    for (const [ids, reorder] of [[['n0', 'n1'], false], [['n0', 'n1', 'n2', 'n3', 'n4'], false], [['n0', 'n1', 'n2'], true]] as const) {
      let seed = 12345;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const c = new Cluster([...ids]);
      if (reorder) c.random = random;
      const polls: Array<{ key: string; from: number; offsets: number[]; msgs: Json[] }> = [];
      const sentByClient = new Map<string, number>();
      const acked: Array<[string, number, string]> = [];
      for (let step = 0; step < 400; step += 1) {
        const id = ids[Math.floor(random() * ids.length)]!;
        const key = `k${Math.floor(random() * 4)}`;
        if (random() < 0.5) {
          const offset = c.send(id, key, `${id}-${step}`);
          acked.push([key, offset, `${id}-${step}`]);
          const client = `${id}/${key}`;
          expect(offset).toBeGreaterThan(sentByClient.get(client) ?? -1);
          sentByClient.set(client, offset);
        } else {
          const from = Math.floor(random() * 30);
          const pairs = poll(c.node(id), { [key]: from })[key] ?? [];
          polls.push({ key, from, offsets: pairs.map((p) => p[0]), msgs: pairs.map((p) => p[1]) });
        }
        // Links flap: about one in five is down at any time.
        if (step % 25 === 0) {
          c.cut.clear();
          for (const a of ids) for (const b of ids) if (a !== b && random() < 0.2) c.cut.add(`${a}>${b}`);
        }
        if (step % 7 === 0) c.round();
        // Now and then a node is killed and restarts from its records (a new incarnation).
        if (step % 60 === 59) {
          const victim = ids[Math.floor(random() * ids.length)]!;
          c.start(victim); // its clients' next offsets must still be above their earlier ones
        }
      }
      c.cut.clear();
      c.random = undefined;
      c.rounds(40, 500);
      for (const id of ids) checkKafkaState(c.node(id));
      // Every node converged to the same full log.
      const finalLogs = ids.map((id) => JSON.stringify([...c.node(id).logs].map(([k, l]) => [k, l.offsets.map((o) => [o, l.msgs.get(o)])]).sort()));
      expect(new Set(finalLogs).size).toBe(1);
      for (const id of ids) {
        for (const [key, log] of c.node(id).logs) expect(offsetsOf(c.node(id), key).length).toBe(log.offsets.length);
      }
      for (const [key, offset, msg] of acked) expect(c.node(ids[0]!).logs.get(key)!.msgs.get(offset)).toBe(msg);
      // Each poll returned exactly the final log's offsets in [first, last] it returned, and the
      // first one is the first at or after the requested offset.
      const final = c.node(ids[0]!).logs;
      let nonEmpty = 0;
      for (const p of polls) {
        if (p.offsets.length === 0) continue;
        nonEmpty += 1;
        const log = final.get(p.key)!;
        const lo = p.offsets[0]!;
        const hi = p.offsets[p.offsets.length - 1]!;
        expect(p.offsets).toEqual(log.offsets.filter((o) => o >= p.from && o <= hi));
        expect(lo).toBeGreaterThanOrEqual(p.from);
        expect(p.msgs).toEqual(p.offsets.map((o) => log.msgs.get(o)));
      }
      expect(nonEmpty).toBeGreaterThan(20);
    }
  });
});

describe('commits', () => {
  it('only move forward, locally and when replicated', () => {
    const c = new Cluster(['n0', 'n1']);
    commit(c.node('n0'), { k: 5 }, discard);
    commit(c.node('n0'), { k: 3 }, discard);
    expect(listCommitted(c.node('n0'), ['k', 'other'])).toEqual({ k: 5 });
    c.rounds(2);
    expect(listCommitted(c.node('n1'), ['k'])).toEqual({ k: 5 });
    commit(c.node('n1'), { k: 4 }, discard);
    commit(c.node('n0'), { k: 9 }, discard);
    c.rounds(3);
    expect(listCommitted(c.node('n1'), ['k'])).toEqual({ k: 9 });
    expect(listCommitted(c.node('n0'), ['k'])).toEqual({ k: 9 });
  });
});

describe('messages', () => {
  it('two busy nodes exchange one message per flush each way; idle nodes go quiet', () => {
    const c = new Cluster(['n0', 'n1']);
    for (let i = 0; i < 50; i += 1) {
      for (let j = 0; j < 10; j += 1) {
        c.send('n0', `k${j}`, i * 100 + j);
        c.send('n1', `k${j}`, -(i * 100 + j));
      }
      c.round();
    }
    expect(c.sent).toBeLessThanOrEqual(2 * 50);
    const before = c.sent;
    c.rounds(5);
    const settled = c.sent;
    expect(settled - before).toBeLessThanOrEqual(6);
    c.rounds(20);
    expect(c.sent).toBe(settled);
    expect(offsetsOf(c.node('n0'), 'k3').length).toBe(100);
  });
});

describe('partitions', () => {
  it('messages sent on both sides of a partition all appear after it heals, nothing lost', () => {
    const c = new Cluster(['n0', 'n1', 'n2']);
    c.cut.add('n0>n1').add('n1>n0').add('n0>n2').add('n2>n0');
    const acked: Array<[string, number]> = [];
    for (let i = 0; i < 30; i += 1) {
      for (const id of c.ids) acked.push(['k', c.send(id, 'k', `${id}:${i}`)]);
      c.round();
    }
    const during = c.sent;
    c.rounds(30);
    // While cut off, n0 costs about one resend per retry interval per peer, not one per flush.
    expect(c.sent - during).toBeLessThan(30 * 3);
    c.cut.clear();
    c.rounds(30);
    for (const id of c.ids) expect(offsetsOf(c.node(id), 'k').sort((a, b) => a - b)).toEqual(acked.map(([, o]) => o).sort((a, b) => a - b));
  });
});

describe('restarts', () => {
  it('a node restarted from its records keeps acknowledged messages and assigns above them', () => {
    const c = new Cluster(['n0', 'n1']);
    const before = [c.send('n0', 'k', 'a'), c.send('n0', 'k', 'b')];
    c.send('n1', 'k', 'c');
    c.rounds(3);
    const polled = offsetsOf(c.node('n1'), 'k');
    expect(polled.length).toBe(3);
    // Killed before replicating this one.
    const unreplicated = c.send('n0', 'k', 'd');
    c.start('n0');
    const after = c.send('n0', 'k', 'e');
    expect(after).toBeGreaterThan(Math.max(...before, unreplicated, ...polled));
    c.rounds(6);
    for (const id of c.ids) {
      expect((poll(c.node(id), { k: 0 })['k'] ?? []).map(([, m]) => m)).toEqual(['a', 'c', 'b', 'd', 'e']);
    }
  });

  it('every node killed at once: all restart from their records and nothing acknowledged is lost', () => {
    const c = new Cluster(['n0', 'n1', 'n2']);
    const acked: Array<[string, number]> = [];
    for (let i = 0; i < 12; i += 1) {
      const id = c.ids[i % 3]!;
      acked.push([`${id}:${i}`, c.send(id, `k${i % 2}`, `${id}:${i}`)]);
      if (i % 4 === 0) c.round();
    }
    const polledBefore = offsetsOf(c.node('n0'), 'k0');
    for (const id of c.ids) c.start(id);
    // Nothing is visible until peers have spoken again, and nothing that was visible is reassigned.
    expect(offsetsOf(c.node('n0'), 'k0')).toEqual([]);
    const fresh = c.send('n0', 'k0', 'fresh');
    expect(fresh).toBeGreaterThan(Math.max(-1, ...polledBefore));
    c.rounds(5);
    for (const id of c.ids) {
      const log = new Map([...(poll(c.node(id), { k0: 0, k1: 0 })['k0'] ?? []), ...(poll(c.node(id), { k1: 0 })['k1'] ?? [])].map(([o, m]) => [m, o]));
      for (const [msg, offset] of acked) expect(log.get(msg)).toBe(offset);
      expect(log.get('fresh')).toBe(fresh);
    }
  });

  it('a restarted peer gets everything again, even if it lost all it had', () => {
    const c = new Cluster(['n0', 'n1']);
    for (let i = 0; i < 5; i += 1) c.send('n0', 'k', i);
    c.rounds(3);
    c.records.set('n1', []); // as if n1 had kept nothing on disk
    c.start('n1');
    c.rounds(6);
    expect(offsetsOf(c.node('n1'), 'k')).toEqual([0, 2, 4, 6, 8]);
  });

  it('ignores a late message from an earlier incarnation of a peer', () => {
    const c = new Cluster(['n0', 'n1']);
    c.send('n0', 'k', 'a');
    c.send('n1', 'k', 'old');
    const stale = tick(c.node('n1'), 0);
    const restarted = c.start('n1');
    c.rounds(4);
    expect(c.node('n0').peers.get('n1')!.epoch).toBe(restarted.epoch);
    c.deliver(stale, 'n1');
    // Taking it for a new incarnation would reset n1's stream and send it everything again.
    expect(c.node('n0').peers.get('n1')!.epoch).toBe(restarted.epoch);
    expect(tick(c.node('n0'), c.nowMs + 100)).toEqual([]);
    expect(c.node('n0').logs.get('k')?.msgs.get(1)).toBe('old'); // it came with the restarted n1's stream
  });

  it('ignores malformed replication messages', () => {
    const c = new Cluster(['n0', 'n1']);
    const n0 = c.node('n0');
    for (const body of [{}, { epoch: -1 }, { epoch: 1, from: 1, entries: [['k', 'x', 1]] }, { epoch: 1, from: 1, entries: [['k', 2, 1]] }, { epoch: 1, claims: 'x' }]) {
      const persisted: StoredRecord[] = [];
      receive(n0, 'n1', body, 0, into(persisted));
      expect(persisted).toEqual([]);
    }
    receive(n0, 'stranger', { epoch: 1, from: 1, entries: [['k', 1, 1]] }, 0, () => {
      throw new Error('nothing to persist');
    });
    expect(n0.logs.size).toBe(0);
  });
});

describe('persist before apply', () => {
  const failing: Persist = () => {
    throw new Error('ENOSPC');
  };

  it('a send whose write fails assigns no offset: the next send gets it, polls never see the message', () => {
    const c = new Cluster(['n0']);
    const n0 = c.node('n0');
    c.send('n0', 'k', 'a');
    expect(() => send(n0, 'k', 'lost', failing)).toThrow('ENOSPC');
    expect(n0.own).toHaveLength(1);
    expect(c.send('n0', 'k', 'b')).toBe(1);
    expect(poll(n0, { k: 0 })).toEqual({ k: [[0, 'a'], [1, 'b']] });
    // A failed send to a new key leaves no key behind either.
    expect(() => send(n0, 'fresh', 'x', failing)).toThrow('ENOSPC');
    expect(n0.logs.has('fresh')).toBe(false);
  });

  it('a commit whose write fails changes nothing', () => {
    const c = new Cluster(['n0']);
    c.send('n0', 'k', 'a');
    expect(() => commit(c.node('n0'), { k: 0 }, failing)).toThrow('ENOSPC');
    expect(listCommitted(c.node('n0'), ['k'])).toEqual({});
  });

  it('a replication batch whose write fails is neither applied nor acknowledged, and is taken on resend', () => {
    const c = new Cluster(['n0', 'n1']);
    c.send('n0', 'k', 'a');
    const [message] = tick(c.node('n0'), 0);
    const wire = JSON.parse(JSON.stringify(message!.body)) as Record<string, unknown>;
    const n1 = c.node('n1');
    expect(() => receive(n1, 'n0', wire, 0, failing)).toThrow('ENOSPC');
    expect(n1.logs.size).toBe(0);
    expect(n1.peers.get('n0')!.receivedThrough).toBe(0);
    const persisted: StoredRecord[] = [];
    receive(n1, 'n0', wire, 0, into(persisted));
    expect(persisted).toEqual([{ kind: 'entry', key: 'k', offset: 0, msg: 'a' }]);
    expect(n1.peers.get('n0')!.receivedThrough).toBe(1);
  });

  it('restores from records streamed to it, and counts entry bytes', () => {
    const records: StoredRecord[] = [
      { kind: 'entry', key: 'k', offset: 0, msg: 1 },
      { kind: 'commit', key: 'k', offset: 0 },
    ];
    const state = createKafka(config, 'n0', ['n0'], 1, (apply) => records.forEach(apply));
    expect(poll(state, { k: 0 })).toEqual({ k: [[0, 1]] });
    expect(listCommitted(state, ['k'])).toEqual({ k: 0 });
    expect(state.entryBytes).toBeGreaterThan(0);
    expect(() => createKafka(config, 'n0', ['n0'], 1, (apply) => apply({ kind: 'entry', key: 'k', offset: -1, msg: 1 }))).toThrow(/offset -1/);
  });
});

describe('poll reply bound', () => {
  it('stops a reply at maxPollBytes (but always returns something) and the client continues from there', () => {
    const c = new Cluster(['n0'], { ...config, maxPollBytes: 1000 });
    const big = 'x'.repeat(400);
    for (let i = 0; i < 5; i += 1) c.send('n0', 'a', big);
    c.send('n0', 'b', big);
    const first = poll(c.node('n0'), { a: 0, b: 0 });
    expect(first['a']!.map(([offset]) => offset)).toEqual([0, 1]);
    expect(first['b']).toBeUndefined();
    expect(poll(c.node('n0'), { a: 4, b: 0 })).toEqual({ a: [[4, big]], b: [[0, big]] });
    const huge = 'y'.repeat(5000);
    c.send('n0', 'c', huge);
    expect(poll(c.node('n0'), { c: 0 })).toEqual({ c: [[0, huge]] });
  });
});

describe('invariants', () => {
  /** n0 of n0, n1 holding offsets 0, 2 and 4 of k. */
  function threeSends(): Cluster {
    const c = new Cluster(['n0', 'n1']);
    for (const msg of ['a', 'b', 'c']) c.send('n0', 'k', msg);
    return c;
  }
  const entryFromN1 = (offset: number): Record<string, unknown> => ({ type: 'repl', epoch: 1, peer_epoch: null, ack: 0, end: 1, from: 1, entries: [['k', offset, 'x']] });

  it('a send never takes an offset the key already has', () => {
    const c = threeSends();
    c.node('n0').logs.get('k')!.known = 1;
    expect(() => c.send('n0', 'k', 'd')).toThrow(KafkaInvariantError);
    expect(() => c.send('n0', 'k', 'd')).toThrow(/offset 2 of k assigned twice/);
  });

  it("a key's offsets strictly increase", () => {
    const c = threeSends();
    c.node('n0').logs.get('k')!.known = 2; // so n1's 3 goes after 4
    expect(() => receive(c.node('n0'), 'n1', entryFromN1(3), 0, discard)).toThrow(/offsets of k not strictly increasing: 4, 3/);
  });

  it("a key's offsets and messages match one to one", () => {
    const c = threeSends();
    c.node('n0').logs.get('k')!.msgs.delete(2);
    expect(() => c.send('n0', 'k', 'd')).toThrow(/k has 4 offsets and 3 messages/);
  });

  it("a key's known offset is its last one", () => {
    const c = threeSends();
    c.node('n0').logs.get('k')!.known = 10;
    expect(() => receive(c.node('n0'), 'n1', entryFromN1(5), 0, discard)).toThrow(/known offset of k is 10 but its last offset 5/);
  });

  it('a committed offset holds what was committed and never goes down', () => {
    const c = threeSends();
    commit(c.node('n0'), { k: 9 }, discard);
    const lowering: Persist = () => void (c.node('n0').logs.get('k')!.committed = 2);
    expect(() => commit(c.node('n0'), { k: 5 }, lowering)).toThrow(/k committed through 2 after a commit of 5 \(it was 9\)/);
    c.node('n0').logs.get('k')!.committed = 9;
    const body = { type: 'repl', epoch: 1, peer_epoch: null, ack: 0, end: 0, mid: 1, commits: { k: 3 } };
    expect(() => receive(c.node('n0'), 'n1', body, 0, lowering)).toThrow(/k committed through 2 after a commit of 3/);
  });

  it('our stream to a peer is acknowledged no further than sent, nor sent past its end', () => {
    const c = threeSends();
    const peer = c.node('n0').peers.get('n1')!;
    peer.sentThrough = 7;
    expect(() => tick(c.node('n0'), 0)).toThrow(/stream to n1: acknowledged through 0, sent through 7, 3 long/);
    peer.sentThrough = 1;
    peer.ackedThrough = 2;
    expect(() => receive(c.node('n0'), 'n1', { type: 'repl', epoch: 1, peer_epoch: null, ack: 0, end: 0 }, 0, discard)).toThrow(/acknowledged through 2, sent through 1/);
  });

  it('at most 64 message ids are owed to a peer', () => {
    const c = threeSends();
    c.node('n0').peers.get('n1')!.midsOwed.push(...Array.from({ length: 65 }, (_, i) => i + 1));
    const body = { type: 'repl', epoch: 1, peer_epoch: null, ack: 0, end: 0, mid: 1, commits: { k: 0 } };
    expect(() => receive(c.node('n0'), 'n1', body, 0, discard)).toThrow(/65 message ids owed to n1/);
  });

  it('the whole-state check: counted size, our stream, and what peers are owed', () => {
    const corruptions: Array<[(state: KafkaState) => void, RegExp]> = [
      [(s) => void (s.entryBytes += 1), /bytes as counted/],
      [(s) => void s.own.pop(), /3 entries of ours in the log, 2 in our stream/],
      [(s) => void (s.own[0] = ['k', 0, 'other']), /offset 0 of k in our stream is not the log's entry/],
      [(s) => void s.peers.get('n1')!.claims.set('k', { offset: 9, sentIn: 0, sentAtMs: 0 }), /claim of k through 9 pending to n1, above our known 4/],
      [(s) => void s.peers.get('n1')!.commits.set('k', { offset: 1, sentIn: 0, sentAtMs: 0 }), /commit of k through 1 pending to n1, above ours -1/],
      [(s) => void s.logs.get('k')!.offsets.reverse(), /offsets of k not strictly increasing: 4, 2/],
    ];
    for (const [corrupt, message] of corruptions) {
      const state = threeSends().node('n0');
      expect(() => checkKafkaState(state)).not.toThrow();
      corrupt(state);
      expect(() => checkKafkaState(state), String(message)).toThrow(message);
    }
  });
});

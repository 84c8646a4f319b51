import { describe, expect, it } from 'vitest';
import {
  addClientValue,
  createGossip,
  pendingCount,
  readValues,
  receive,
  setOverlay,
  tick,
  type GossipConfig,
  type GossipState,
  type Outgoing,
} from './gossip.js';
import { buildOverlay, type OverlaySpec } from './overlay.js';
import { decodeRanges } from './ranges.js';

const base: GossipConfig = { flushIntervalMs: 0, retryMs: 1000, maxBatchValues: 100, ackDelayMs: Number.POSITIVE_INFINITY };
const star = (self: string, others: string[]) =>
  self === 'hub' ? { neighbours: others, relay: true } : { neighbours: ['hub'], relay: true };
const valuesOf = (message: Outgoing | undefined): number[] => decodeRanges(message?.body.values ?? [], 1e6) ?? [];
const ackOf = (message: Outgoing | undefined): number[] => decodeRanges(message?.body.ack ?? [], 1e6) ?? [];

describe('gossip core: sending', () => {
  it('immediate mode sends a client value to every neighbour at once', () => {
    const hub = createGossip(base, star('hub', ['a', 'b', 'c']));
    const out = addClientValue(hub, 4, 0);
    expect(out.map((m) => m.dest).sort()).toEqual(['a', 'b', 'c']);
    for (const message of out) expect(valuesOf(message)).toEqual([4]);
    expect(readValues(hub)).toEqual([4]);
  });

  it('relays a peer value to every neighbour except its source', () => {
    const hub = createGossip(base, star('hub', ['a', 'b', 'c']));
    const out = receive(hub, 'a', { values: [9] }, 0);
    const gossip = out.filter((m) => valuesOf(m).length > 0);
    expect(gossip.map((m) => m.dest).sort()).toEqual(['b', 'c']);
    expect(pendingCount(hub, 'a')).toBe(0);
  });

  it('does not relay in a complete graph, but still sends its own clients values', () => {
    const node = createGossip(base, { neighbours: ['n1', 'n2'], relay: false });
    expect(receive(node, 'n1', { values: [1] }, 0).filter((m) => valuesOf(m).length > 0)).toEqual([]);
    expect(addClientValue(node, 2, 0).map((m) => m.dest).sort()).toEqual(['n1', 'n2']);
    expect(readValues(node).sort()).toEqual([1, 2]);
  });

  it('interval mode holds values until the tick and batches them', () => {
    const hub = createGossip({ ...base, flushIntervalMs: 300 }, star('hub', ['a', 'b']));
    expect(addClientValue(hub, 1, 0)).toEqual([]);
    expect(receive(hub, 'a', { values: [2, 3] }, 10)).toEqual([]);
    const out = tick(hub, 300);
    const toB = out.find((m) => m.dest === 'b');
    expect(valuesOf(toB)).toEqual([1, 2, 3]);
    expect(toB!.body.values).toEqual([[1, 3]]);
    const toA = out.find((m) => m.dest === 'a');
    expect(valuesOf(toA)).toEqual([1]);
    expect(ackOf(toA)).toEqual([2, 3]);
    expect(tick(hub, 600)).toEqual([]);
  });

  it('never puts more than maxBatchValues values in one message', () => {
    const node = createGossip({ ...base, flushIntervalMs: 100, maxBatchValues: 3 }, { neighbours: ['x'], relay: true });
    for (let v = 0; v < 7; v += 1) addClientValue(node, v * 2, 0);
    const sizes: number[] = [];
    for (let t = 100; t <= 400; t += 100) sizes.push(...tick(node, t).map((m) => valuesOf(m).length));
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('a neighbour added later is owed everything already known', () => {
    const node = createGossip(base, { neighbours: [], relay: true });
    addClientValue(node, 1, 0);
    addClientValue(node, 2, 0);
    setOverlay(node, { neighbours: ['late'], relay: true });
    expect(valuesOf(tick(node, 5)[0])).toEqual([1, 2]);
  });
});

describe('gossip core: acknowledgements and resends', () => {
  it('resends an unacknowledged value once per retry interval, flagged as a resend', () => {
    const leaf = createGossip(base, star('a', []));
    expect(valuesOf(addClientValue(leaf, 5, 0)[0])).toEqual([5]);
    expect(tick(leaf, 999)).toEqual([]);
    const resend = tick(leaf, 1000);
    expect(resend).toHaveLength(1);
    expect(valuesOf(resend[0])).toEqual([5]);
    expect(resend[0]!.body.resend).toBe(true);
    expect(tick(leaf, 1500)).toEqual([]);
    expect(tick(leaf, 2000)).toHaveLength(1);
  });

  it('an ack stops resends', () => {
    const leaf = createGossip(base, star('a', []));
    addClientValue(leaf, 5, 0);
    addClientValue(leaf, 6, 0);
    receive(leaf, 'hub', { ack: [[5, 6]] }, 200);
    expect(pendingCount(leaf, 'hub')).toBe(0);
    expect(tick(leaf, 5000)).toEqual([]);
  });

  it('a value received from a neighbour counts as acknowledged by it', () => {
    const leaf = createGossip(base, star('a', []));
    addClientValue(leaf, 5, 0);
    receive(leaf, 'hub', { values: [5] }, 100);
    expect(pendingCount(leaf, 'hub')).toBe(0);
  });

  it('acks ride on the next message instead of going alone', () => {
    const hub = createGossip({ ...base, flushIntervalMs: 250 }, star('hub', ['a', 'b', 'c']));
    receive(hub, 'a', { values: [1] }, 0);
    receive(hub, 'c', { values: [2] }, 0);
    const out = tick(hub, 250);
    expect(out).toHaveLength(3);
    const toA = out.find((m) => m.dest === 'a');
    expect([valuesOf(toA), ackOf(toA)]).toEqual([[2], [1]]);
    expect(out.find((m) => m.dest === 'b')!.body.ack).toBeUndefined();
    // Nothing new for anyone: the acks already went, so the hub stays silent.
    expect(tick(hub, 500)).toEqual([]);
  });

  it('with nothing to carry it, an ack goes alone after ackDelayMs or at once when the sender resends', () => {
    const leaf = createGossip({ ...base, ackDelayMs: 400 }, star('a', []));
    expect(receive(leaf, 'hub', { values: [1] }, 0)).toEqual([]);
    expect(tick(leaf, 399)).toEqual([]);
    const delayed = tick(leaf, 400);
    expect(delayed).toHaveLength(1);
    expect(ackOf(delayed[0])).toEqual([1]);
    expect(delayed[0]!.body.values).toBeUndefined();

    const patient = createGossip({ ...base, flushIntervalMs: 250 }, star('a', []));
    expect(receive(patient, 'hub', { values: [1] }, 0)).toEqual([]);
    expect(tick(patient, 10_000)).toEqual([]);
    const urgent = receive(patient, 'hub', { values: [1], resend: true }, 10_050);
    expect(ackOf(urgent[0])).toEqual([1]);
  });

  it('ignores malformed values and acks without losing state', () => {
    const node = createGossip(base, star('a', []));
    addClientValue(node, 3, 0);
    expect(() => receive(node, 'hub', { values: 'junk', ack: [[9, 1]] }, 1)).not.toThrow();
    expect(readValues(node)).toEqual([3]);
    expect(pendingCount(node, 'hub')).toBe(1);
  });

  it('a suspected neighbour is sent at most one message per retry interval', () => {
    const hub = createGossip({ ...base, flushIntervalMs: 100 }, star('hub', ['a']));
    let sentToA = 0;
    for (let t = 0; t <= 10_000; t += 100) {
      addClientValue(hub, t, t); // a fresh value every flush, and 'a' never answers
      sentToA += tick(hub, t).filter((m) => m.dest === 'a').length;
    }
    // Until the first resend goes unanswered the hub cannot know; after that, one per retry.
    expect(sentToA).toBeLessThanOrEqual(10 + 10_000 / 1000 + (10_000 / 1000) * 5);
    expect(sentToA).toBeGreaterThanOrEqual(10);
    expect(pendingCount(hub, 'a')).toBe(101);
  });
});

// ---------------------------------------------------------------------------------------------
// A deterministic simulated network: constant latency, partitions drop at the receiver.

interface SimOptions {
  nodes: number;
  overlay: OverlaySpec;
  config: (degree: number) => GossipConfig;
  latencyMs: number;
  /** returns true when a message from src to dest sent at time t is dropped */
  drop?: (src: string, dest: string, t: number) => boolean;
}

function simulate(options: SimOptions, broadcasts: Array<{ t: number; node: number; value: number }>, untilMs: number) {
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i}`);
  const states = new Map<string, GossipState>();
  for (const id of ids) {
    const overlay = buildOverlay(options.overlay, id, ids)!;
    states.set(id, createGossip(options.config(overlay.neighbours.length), overlay));
  }
  type InFlight = { at: number; src: string; dest: string; out: Outgoing };
  let queue: InFlight[] = [];
  let messages = 0;
  let maxPending = 0;
  const post = (src: string, out: Outgoing[], t: number): void => {
    for (const message of out) {
      messages += 1;
      if (options.drop?.(src, message.dest, t)) continue;
      queue.push({ at: t + options.latencyMs, src, dest: message.dest, out: message });
    }
  };
  const arrival = new Map<number, number>();
  const pendingBroadcasts = [...broadcasts].sort((a, b) => a.t - b.t);
  for (let t = 0; t <= untilMs; t += 1) {
    for (const b of pendingBroadcasts.filter((x) => x.t === t)) {
      const id = ids[b.node]!;
      post(id, addClientValue(states.get(id)!, b.value, t), t);
    }
    const due = queue.filter((m) => m.at <= t);
    queue = queue.filter((m) => m.at > t);
    for (const m of due) post(m.dest, receive(states.get(m.dest)!, m.src, m.out.body, t), t);
    for (const id of ids) {
      const state = states.get(id)!;
      const period = state.config.flushIntervalMs > 0 ? state.config.flushIntervalMs : 50;
      if (t % period === 0) post(id, tick(state, t), t);
      for (const peer of state.neighbours) maxPending = Math.max(maxPending, pendingCount(state, peer));
    }
    for (const b of broadcasts) {
      if (!arrival.has(b.value) && ids.every((id) => states.get(id)!.known.has(b.value))) arrival.set(b.value, t - b.t);
    }
  }
  return { states, ids, messages, maxPending, arrival };
}

function workload(count: number, nodes: number, spacingMs: number) {
  return Array.from({ length: count }, (_, i) => ({ t: 10 + i * spacingMs, node: (i * 7) % nodes, value: i }));
}

describe('gossip core on a simulated network', () => {
  it('star, leaves immediate and hub batching: every value everywhere within two hops plus one flush', () => {
    const sim = simulate(
      {
        nodes: 25,
        overlay: { kind: 'star', fanout: 1 },
        latencyMs: 100,
        config: (degree) => ({ ...base, flushIntervalMs: degree > 1 ? 250 : 0, retryMs: 2000 }),
      },
      workload(200, 25, 20),
      6000,
    );
    expect(sim.arrival.size).toBe(200);
    expect(Math.max(...sim.arrival.values())).toBeLessThanOrEqual(200 + 250);
    // 1 upload per value plus 24 per hub flush (4 s of load at 250 ms), a few acks and resends.
    expect(sim.messages).toBeLessThan(200 + 24 * 17 + 60);
  });

  it('loses nothing across partitions and keeps pending sets bounded by the values broadcast', () => {
    // Nodes n0..n4 are cut off in both directions from 1 s to 6 s, and n7 from 3 s to 9 s.
    const cut = (id: string, t: number): boolean =>
      (['n0', 'n1', 'n2', 'n3', 'n4'].includes(id) && t >= 1000 && t < 6000) || (id === 'n7' && t >= 3000 && t < 9000);
    for (const overlay of [
      { kind: 'star', fanout: 1 },
      { kind: 'tree', fanout: 3 },
      { kind: 'grid', fanout: 1 },
      { kind: 'total', fanout: 1 },
    ] as OverlaySpec[]) {
      const values = workload(300, 25, 25);
      const sim = simulate(
        {
          nodes: 25,
          overlay,
          latencyMs: 100,
          config: (degree) => ({ ...base, flushIntervalMs: degree > 1 ? 200 : 0, retryMs: 700, maxBatchValues: 50 }),
          drop: (src, dest, t) => cut(src, t) !== cut(dest, t),
        },
        values,
        20_000,
      );
      for (const id of sim.ids) expect(sim.states.get(id)!.known.size, `${overlay.kind} ${id}`).toBe(300);
      expect(sim.maxPending).toBeLessThanOrEqual(300);
      // Everything acknowledged in the end: nothing left to resend.
      for (const id of sim.ids) for (const peer of sim.states.get(id)!.neighbours) expect(pendingCount(sim.states.get(id)!, peer)).toBe(0);
    }
  });

  it('after a partition heals, values cross within one retry interval, not one per hop', () => {
    // Leaves n1 and n2 of a star are cut off while values are broadcast on them and on n3; whatever
    // the phase of the resend timers at the heal, every value must be everywhere within one retry
    // interval plus two hops and a hub flush.
    const retryMs = 3000;
    let worstMs = 0;
    for (let healMs = 4000; healMs < 7000; healMs += 250) {
      const cut = (id: string, t: number): boolean => (id === 'n1' || id === 'n2') && t >= 500 && t < healMs;
      // Broadcasts on both sides, until just before the heal.
      const values = Array.from({ length: 30 }, (_, i) => ({ t: Math.round(600 + (i * (healMs - 700)) / 29), node: 1 + (i % 4), value: i }));
      const sim = simulate(
        {
          nodes: 5,
          overlay: { kind: 'star', fanout: 1 },
          latencyMs: 100,
          config: (degree) => ({ ...base, flushIntervalMs: degree > 1 ? 250 : 0, retryMs, ackDelayMs: 2000 }),
          drop: (src, dest, t) => cut(src, t) !== cut(dest, t),
        },
        values,
        healMs + 3 * retryMs,
      );
      expect(sim.arrival.size).toBe(30);
      for (const value of values) worstMs = Math.max(worstMs, value.t + (sim.arrival.get(value.value) ?? Infinity) - healMs);
    }
    expect(worstMs, `worst ${worstMs} ms after the heal`).toBeLessThanOrEqual(retryMs + 2 * 100 + 250 + 50);
  });

  it('recovers from random loss', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sim = simulate(
      {
        nodes: 10,
        overlay: { kind: 'tree', fanout: 2 },
        latencyMs: 20,
        config: (degree) => ({ ...base, flushIntervalMs: degree > 1 ? 100 : 0, retryMs: 300 }),
        drop: (_src, _dest, t) => t < 8000 && random() < 0.3,
      },
      workload(150, 10, 40),
      15_000,
    );
    for (const id of sim.ids) expect(sim.states.get(id)!.known.size).toBe(150);
  });
});

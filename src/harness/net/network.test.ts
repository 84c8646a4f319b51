import { describe, expect, it } from 'vitest';
import { LATENESS_BUCKETS, createLatenessRecorder, createNetwork, drawLatencyMs, type Network } from './network.js';
import { createRng } from '../util/rng.js';
import { eventLineWithBody } from './journal.js';
import type { JournalEvent, LatencyDist, Message } from '../types.js';

function setup(latencyMs: number, latencyDist: LatencyDist = 'constant') {
  const t0 = process.hrtime.bigint();
  const nowNs = () => Number(process.hrtime.bigint() - t0);
  const journal: JournalEvent[] = [];
  const network = createNetwork({ latencyMs, latencyDist, rng: createRng(1), nowNs, journal: (event) => journal.push(event) });
  const received = new Map<string, { message: Message; atNs: number }[]>();
  const add = (id: string) => {
    received.set(id, []);
    network.register(id, { deliver: (message) => received.get(id)?.push({ message, atNs: nowNs() }) });
  };
  return { network, received, add, nowNs, journal };
}

const settle = (network: Network, ms: number) =>
  new Promise<void>((resolve) => {
    const started = Date.now();
    const poll = () => (network.pendingCount() === 0 || Date.now() - started > ms ? resolve() : setTimeout(poll, 5));
    poll();
  });

describe('network', () => {
  it('delivers client messages at once and server messages after the latency, in order', async () => {
    const { network, received, add } = setup(30);
    for (const id of ['n0', 'n1', 'c0']) add(id);
    network.send('c0', 'n0', { type: 'a' });
    expect(received.get('n0')).toHaveLength(1); // client link: latency 0, synchronous
    for (let k = 0; k < 5; k++) network.send('n0', 'n1', { type: 'p', k });
    expect(received.get('n1')).toHaveLength(0);
    await settle(network, 1000);
    const got = received.get('n1') ?? [];
    expect(got.map((r) => r.message.body.k)).toEqual([0, 1, 2, 3, 4]);
    for (const r of got) expect(r.atNs / 1e6).toBeGreaterThanOrEqual(29);
    expect(got.every((r) => typeof r.message.id === 'number')).toBe(true);
    network.close();
  });

  it('orders each destination by deadline, not by send order', async () => {
    const { network, received, add } = setup(20, 'uniform');
    for (const id of ['n0', 'n1']) add(id);
    for (let k = 0; k < 50; k++) network.send('n0', 'n1', { type: 'p', k });
    await settle(network, 1000);
    const got = received.get('n1') ?? [];
    expect(got).toHaveLength(50);
    expect(got.map((r) => r.message.body.k)).not.toEqual([...Array(50).keys()]);
    const lateness = network.lateness();
    expect(lateness.deliveries).toBe(50);
    // a sanity bound: timers on a busy machine fire late by scheduler slices, not by deadlines
    expect(lateness.maxMs).toBeLessThan(250);
    network.close();
  });

  it('drops at the receiver when it holds a grudge against the sender, and journals both', async () => {
    const { network, received, add, journal } = setup(5);
    for (const id of ['n0', 'n1', 'n2']) add(id);
    network.setGrudge({ n1: ['n0'] });
    network.send('n0', 'n1', { type: 'blocked' });
    network.send('n1', 'n0', { type: 'other-way' });
    network.send('n2', 'n1', { type: 'third' });
    await settle(network, 500);
    expect(received.get('n1')?.map((r) => r.message.body.type)).toEqual(['third']);
    expect(received.get('n0')?.map((r) => r.message.body.type)).toEqual(['other-way']);
    expect(journal.filter((e) => e.kind === 'send')).toHaveLength(3);
    expect(journal.filter((e) => e.kind === 'recv')).toHaveLength(2);
    expect(network.counters.droppedByPartition).toBe(1);
    network.heal();
    network.send('n0', 'n1', { type: 'healed' });
    await settle(network, 500);
    expect(received.get('n1')?.map((r) => r.message.body.type)).toEqual(['third', 'healed']);
    network.close();
  });

  it('assigns network-wide increasing ids', () => {
    const { network, add } = setup(0);
    for (const id of ['n0', 'n1', 'c0']) add(id);
    const ids = [network.send('c0', 'n0', { type: 'x' }), network.send('n0', 'n1', { type: 'y' }), network.send('n1', 'n0', { type: 'z' })];
    expect(ids).toEqual([0, 1, 2]);
    network.close();
  });
});

describe('latency distributions', () => {
  const draw = (dist: LatencyDist, mean: number) => {
    const rng = createRng(9);
    return Array.from({ length: 20_000 }, () => drawLatencyMs(dist, mean, rng));
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('constant is exactly the latency', () => {
    expect(new Set(draw('constant', 100))).toEqual(new Set([100]));
  });
  it('uniform is an integer in [0, 2L)', () => {
    const xs = draw('uniform', 100);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 200)).toBe(true);
    expect(Math.max(...xs)).toBe(199);
    expect(mean(xs)).toBeGreaterThan(97);
    expect(mean(xs)).toBeLessThan(102);
  });
  it('exponential has mean L, truncated to whole ms', () => {
    const xs = draw('exponential', 100);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    // truncation lowers the mean by about half a ms
    expect(mean(xs)).toBeGreaterThan(96);
    expect(mean(xs)).toBeLessThan(102);
  });
});

describe('lateness record', () => {
  it('gives quantiles within 2.2 % and the exact maximum, in a fixed number of counters', () => {
    const recorder = createLatenessRecorder();
    const valuesNs = Array.from({ length: 100_000 }, (_, k) => ((k * 7919) % 100_000) * 1_000); // 0 .. 99.999 ms
    for (const ns of valuesNs) recorder.record(ns);
    const sorted = [...valuesNs].sort((a, b) => a - b);
    const exactMs = (p: number): number => (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) / 1e6;
    const stats = recorder.stats();
    expect(stats.deliveries).toBe(100_000);
    expect(Math.abs(stats.p50Ms - exactMs(0.5)) / exactMs(0.5)).toBeLessThan(0.022);
    expect(Math.abs(stats.p99Ms - exactMs(0.99)) / exactMs(0.99)).toBeLessThan(0.022);
    expect(stats.maxMs).toBe(99.999);
    expect(stats.behind).toBe(true);
    expect(LATENESS_BUCKETS).toBeLessThan(2_000);
  });

  it('reports zeros exactly (simulated runs are never late) and nothing for no deliveries', () => {
    const recorder = createLatenessRecorder();
    expect(recorder.stats()).toEqual({ deliveries: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, behind: false });
    for (let k = 0; k < 10; k++) recorder.record(0);
    expect(recorder.stats()).toEqual({ deliveries: 10, p50Ms: 0, p99Ms: 0, maxMs: 0, behind: false });
  });
});

describe('journal lines', () => {
  it('are the text JSON.stringify makes of the event, around the body text the network made', () => {
    const events: JournalEvent[] = [
      { kind: 'send', timeNs: 123_456_789, id: 0, src: 'c1', dest: 'n0', body: { type: 'echo', echo: 'a"b\\c\n😀' } },
      { kind: 'recv', timeNs: 1.5, id: 42, src: 'n"0', dest: 'lin-kv', body: { type: 'cas', key: 1, from: null, to: [1, { x: -0 }] } },
    ];
    for (const event of events) expect(eventLineWithBody(event, JSON.stringify(event.body))).toBe(JSON.stringify(event));
  });
});

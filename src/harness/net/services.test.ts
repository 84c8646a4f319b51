import { describe, expect, it } from 'vitest';
import { createNetwork } from './network.js';
import { createRng } from '../util/rng.js';
import { startServices } from './services.js';
import type { Body, Json } from '../types.js';

// Latency 0 between a node and a service keeps every exchange to one microtask turn.
function setup(seed = 1) {
  const t0 = process.hrtime.bigint();
  const network = createNetwork({ latencyMs: 0, latencyDist: 'constant', rng: createRng(seed), nowNs: () => Number(process.hrtime.bigint() - t0) });
  const logs: string[] = [];
  startServices(network, createRng(seed), (line) => logs.push(line));
  const inbox = new Map<string, Body[]>();
  let msgId = 0;
  const call = async (from: string, service: string, body: Omit<Body, 'msg_id'>): Promise<Body | undefined> => {
    if (!inbox.has(from)) {
      inbox.set(from, []);
      network.register(from, { deliver: (message) => inbox.get(from)?.push(message.body) });
    }
    const id = ++msgId;
    network.send(from, service, { ...body, msg_id: id } as Body);
    for (let turn = 0; turn < 20; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const reply = inbox.get(from)?.find((b) => b.in_reply_to === id);
      if (reply) return reply;
    }
    return undefined;
  };
  return { network, call, logs };
}

describe('lin-kv', () => {
  it('reads, writes and compares-and-sets atomically, with Maelstrom error codes', async () => {
    const { network, call } = setup();
    expect(await call('n0', 'lin-kv', { type: 'read', key: 'k' })).toMatchObject({ type: 'error', code: 20 });
    expect(await call('n0', 'lin-kv', { type: 'cas', key: 'k', from: 1, to: 2 })).toMatchObject({ type: 'error', code: 20 });
    expect(await call('n0', 'lin-kv', { type: 'cas', key: 'k', from: 1, to: 2, create_if_not_exists: true })).toEqual({ type: 'cas_ok', in_reply_to: 3 });
    expect(await call('n1', 'lin-kv', { type: 'read', key: 'k' })).toMatchObject({ type: 'read_ok', value: 2 });
    expect(await call('n1', 'lin-kv', { type: 'cas', key: 'k', from: 1, to: 3 })).toMatchObject({ type: 'error', code: 22 });
    await call('n1', 'lin-kv', { type: 'write', key: 'k', value: 'w' });
    expect(await call('n0', 'lin-kv', { type: 'read', key: 'k' })).toMatchObject({ value: 'w' });
    // keys compare as parsed JSON: 1 and "1" are different keys
    await call('n0', 'lin-kv', { type: 'write', key: 1, value: 'one' });
    expect(await call('n0', 'lin-kv', { type: 'read', key: '1' })).toMatchObject({ code: 20 });
    network.close();
  });

  it('answers without msg_id and ignores unknown request types (no reply, a log line)', async () => {
    const { network, call, logs } = setup();
    const reply = await call('n0', 'lin-kv', { type: 'write', key: 'a', value: 1 });
    expect(reply).toBeDefined();
    expect(reply?.msg_id).toBeUndefined();
    expect(await call('n0', 'lin-kv', { type: 'frobnicate', key: 'a' })).toBeUndefined();
    expect(logs.some((line) => line.includes('frobnicate'))).toBe(true);
    network.close();
  });
});

describe('seq-kv', () => {
  it('shows a caller its own writes but may show others stale values, never future ones', async () => {
    const { network, call } = setup(3);
    let staleReads = 0;
    for (let value = 1; value <= 40; value++) {
      await call('n0', 'seq-kv', { type: 'write', key: 'x', value });
      expect(await call('n0', 'seq-kv', { type: 'read', key: 'x' })).toMatchObject({ value });
      const other = await call('n1', 'seq-kv', { type: 'read', key: 'x' });
      const seen = other?.type === 'read_ok' ? (other.value as number) : 0;
      expect(seen).toBeLessThanOrEqual(value);
      if (seen < value) staleReads++;
    }
    expect(staleReads).toBeGreaterThan(0);
    network.close();
  });

  it('never moves a caller back to an older state once it saw a newer one', async () => {
    const { network, call } = setup(5);
    for (let value = 1; value <= 30; value++) await call('n0', 'seq-kv', { type: 'write', key: 'y', value });
    let last = 0;
    for (let i = 0; i < 30; i++) {
      const reply = await call('n1', 'seq-kv', { type: 'read', key: 'y' });
      const value = reply?.type === 'read_ok' ? (reply.value as number) : 0;
      expect(value).toBeGreaterThanOrEqual(last);
      last = value;
    }
    network.close();
  });
});

describe('lww-kv and lin-tso', () => {
  it('lww-kv ignores create_if_not_exists', async () => {
    const { network, call } = setup();
    expect(await call('n0', 'lww-kv', { type: 'cas', key: 'z', from: null, to: 1, create_if_not_exists: true })).toMatchObject({ code: 20 });
    network.close();
  });

  it('lww-kv replicas never converge: a write is visible only on the replica that took it', async () => {
    const { network, call } = setup(9);
    await call('n0', 'lww-kv', { type: 'write', key: 'w', value: 1 });
    const outcomes = new Set<Json | undefined>();
    for (let i = 0; i < 40; i++) {
      const reply = await call('n1', 'lww-kv', { type: 'read', key: 'w' });
      outcomes.add(reply?.type === 'read_ok' ? (reply.value as Json) : reply?.code);
    }
    expect(outcomes).toEqual(new Set([1, 20]));
    network.close();
  });

  it('lin-tso hands out 0, 1, 2, ...', async () => {
    const { network, call } = setup();
    const stamps = [];
    for (let i = 0; i < 3; i++) stamps.push((await call('n0', 'lin-tso', { type: 'ts' }))?.ts);
    expect(stamps).toEqual([0, 1, 2]);
    network.close();
  });
});

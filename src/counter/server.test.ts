// The counter node through the runtime's in-process stdio, with a fake seq-kv that is stale the
// way Maelstrom's is: single nodes first, then a three-node cluster with partitions and kills whose
// history goes through the counter checker.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCounter } from '../harness/check/checkers/counter.js';
import type { Op } from '../harness/types.js';
import { keyFor } from './counter.js';
import { localFilePath, saveLocal } from './disk.js';
import { defaultCounterOptions, RUN_KEY, type CounterOptions } from './server.js';
import { Cluster } from '../../test/support/counter-cluster.js';

const fast: CounterOptions = {
  ...defaultCounterOptions,
  flushMs: 20,
  gossipMs: 20,
  keepaliveMs: 60,
  kvTimeoutMs: 200,
  replyDeadlineMs: 800,
};
const ids = ['n0', 'n1', 'n2'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let clusters: Cluster[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  clusters = [];
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'counter-test-'));
  dirs.push(dir);
  return dir;
}
function diskOptions(dataDir = tempDir()): CounterOptions {
  return { ...fast, durability: 'disk', dataDir };
}
async function cluster(seed: number, count = 3, options: CounterOptions = fast): Promise<Cluster> {
  const c = new Cluster(seed, ids.slice(0, count), options);
  clusters.push(c);
  for (const id of ids.slice(0, count)) await c.start(id);
  return c;
}

describe('counter node', () => {
  it('acks an add only once its own seq-kv key holds it', async () => {
    const c = await cluster(1, 1);
    const reply = await c.request('n0', { type: 'add', delta: 5 }, 1000);
    expect(reply).toMatchObject({ type: 'add_ok' });
    expect(c.kv.newest(keyFor('n0'))).toEqual([5, 1, expect.any(String)]);
    expect(await c.request('n0', { type: 'read' }, 1000)).toMatchObject({ type: 'read_ok', value: 5 });
  });

  it('writes the first add at once and batches the adds that arrive meanwhile into one more cas', async () => {
    const c = await cluster(2, 1);
    await sleep(50); // start-up reads done
    const before = c.kv.requestCount;
    const replies = await Promise.all([1, 2, 3, 4, -6].map((delta) => c.request('n0', { type: 'add', delta }, 1000)));
    expect(replies.every((r) => r?.type === 'add_ok')).toBe(true);
    expect(c.kv.requestCount - before).toBe(2);
    expect(c.kv.newest(keyFor('n0'))).toEqual([4, 2, expect.any(String)]);
  });

  it('a restarted process starts from its durable count, not zero', async () => {
    const c = await cluster(3, 1);
    await c.request('n0', { type: 'add', delta: 7 }, 1000);
    await c.kill('n0');
    expect(await c.request('n0', { type: 'add', delta: 2 }, 1000)).toMatchObject({ type: 'add_ok' });
    expect(c.kv.newest(keyFor('n0'))).toEqual([9, 2, expect.any(String)]);
    expect(await c.request('n0', { type: 'read' }, 1000)).toMatchObject({ value: 9 });
  });

  it('reads converge on every node through pushes, whatever seq-kv serves stale', async () => {
    const c = await cluster(4);
    await Promise.all([
      c.request('n0', { type: 'add', delta: 3 }, 1000),
      c.request('n1', { type: 'add', delta: -2 }, 1000),
      c.request('n2', { type: 'add', delta: 10 }, 1000),
    ]);
    await sleep(150);
    for (const id of ids) expect(await c.request(id, { type: 'read' }, 1000)).toMatchObject({ value: 11 });
  });

  it('never answers an add past its reply deadline (a closed client would silence the node)', async () => {
    const c = new Cluster(5, ['n0'], { ...fast, replyDeadlineMs: 30, flushMs: 200 });
    clusters.push(c);
    await c.start('n0');
    expect(await c.request('n0', { type: 'add', delta: 1 }, 500)).toBeUndefined();
    // still durable: the client saw an indeterminate add, which may count
    expect(c.kv.newest(keyFor('n0'))).toEqual([1, 1, expect.any(String)]);
  });

  it('disk mode: acks from the local file with no seq-kv request, and the key follows in one cas', async () => {
    const c = await cluster(7, 1, { ...diskOptions(), flushMs: 400 });
    await sleep(60); // start-up done
    const before = c.kv.requestCount;
    for (const delta of [3, 4, -2]) expect(await c.request('n0', { type: 'add', delta }, 1000)).toMatchObject({ type: 'add_ok' });
    expect(c.kv.requestCount).toBe(before);
    await sleep(500);
    expect(c.kv.requestCount - before).toBe(1);
    expect(c.kv.newest(keyFor('n0'))).toEqual([5, 3, expect.any(String)]);
  });

  it('disk mode: a restarted process reads its file; a file of another run is ignored', async () => {
    const dir = tempDir();
    saveLocal(localFilePath(dir, 'some-old-run', 'n0'), { count: 1000, version: 50 });
    // flushes far apart: the seq-kv copy never catches up, so only the file can bring the 7 back
    const c = await cluster(8, 1, { ...diskOptions(dir), flushMs: 5000 });
    expect(await c.request('n0', { type: 'add', delta: 7 }, 1000)).toMatchObject({ type: 'add_ok' });
    await c.kill('n0');
    expect(c.kv.newest(keyFor('n0'))).toBeUndefined();
    await sleep(60); // the new process's start-up
    expect(await c.request('n0', { type: 'read' }, 1000)).toMatchObject({ value: 7 });
    expect(await c.request('n0', { type: 'add', delta: 1 }, 1000)).toMatchObject({ type: 'add_ok' });
    expect(await c.request('n0', { type: 'read' }, 1000)).toMatchObject({ value: 8 });
    const token = c.kv.newest(RUN_KEY) as string;
    expect(typeof token).toBe('string');
    expect(token).not.toBe('some-old-run');
  });

  it('a cas whose reply is lost is recognised by reading the key back, and its add acked once', async () => {
    const c = await cluster(9, 1);
    await sleep(60);
    c.casRepliesToLose = 1;
    const reply = await c.request('n0', { type: 'add', delta: 6 }, 2000);
    expect(reply).toMatchObject({ type: 'add_ok' });
    expect(c.kv.newest(keyFor('n0'))).toEqual([6, 1, expect.any(String)]);
    expect(await c.request('n0', { type: 'add', delta: 1 }, 2000)).toMatchObject({ type: 'add_ok' });
    expect(c.kv.newest(keyFor('n0'))).toEqual([7, 2, expect.any(String)]);
  });

  it('rejects a non-integer delta', async () => {
    const c = await cluster(6, 1);
    expect(await c.request('n0', { type: 'add', delta: 1.5 }, 1000)).toMatchObject({ type: 'error', code: 12 });
  });
});

describe.each(['kv', 'disk'] as const)('a three-node cluster under partitions and kills (%s mode)', (mode) => {
  it.each([11, 12, 13])('final reads are exact (seed %i), judged by the counter checker', async (seed) => {
    const c = await cluster(seed, 3, mode === 'kv' ? fast : diskOptions());
    const history: Op[] = [];
    let index = 0;
    const record = (op: Omit<Op, 'index' | 'time'>) => history.push({ ...op, index: index++, time: index } as Op);
    let random = seed;
    const rand = (n: number) => {
      random = (random * 1103515245 + 12345) % 2147483648;
      return random % n;
    };
    const clientTimeoutMs = 1000;
    const ops: Promise<void>[] = [];
    for (let i = 0; i < 120; i++) {
      const process = i;
      const node = ids[rand(3)]!;
      const delta = rand(10) - 5;
      if (i === 30) c.partition([['n0'], ['n1', 'n2']]);
      if (i === 60) c.partition([['n0', 'n1'], ['n2']]);
      if (i === 45) ops.push(c.kill('n1'));
      if (i === 90) ops.push(c.kill('n2'));
      record({ process, type: 'invoke', f: 'add', value: delta });
      ops.push(
        c.request(node, { type: 'add', delta }, clientTimeoutMs).then((reply) => {
          if (reply?.type === 'add_ok') record({ process, type: 'ok', f: 'add', value: delta });
          else if (reply?.type === 'error') record({ process, type: 'fail', f: 'add', value: delta });
          else record({ process, type: 'info', f: 'add', value: delta });
        }),
      );
      await sleep(3);
    }
    await Promise.all(ops);
    c.partition([]);
    await sleep(300); // heal, then quiet: pushes bring every node up to date
    for (const [i, node] of ids.entries()) {
      const reply = await c.request(node, { type: 'read' }, 1000);
      record({ process: 1000 + i, type: 'invoke', f: 'read', value: null, 'final?': true });
      record({ process: 1000 + i, type: 'ok', f: 'read', value: reply?.value ?? null, 'final?': true });
    }
    const result = checkCounter(history);
    expect(result['final-reads']).toHaveLength(3);
    expect(result).toMatchObject({ 'valid?': true, errors: null });
    const acked = history.filter((op) => op.type === 'ok' && op.f === 'add').length;
    expect(acked).toBeGreaterThan(60);
  }, 15_000);
});

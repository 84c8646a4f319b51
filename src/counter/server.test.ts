// The counter node through the runtime's in-process stdio, with a fake seq-kv that is stale the
// way Maelstrom's is: single nodes first, then a three-node cluster with partitions and kills whose
// history goes through the counter checker.
import { afterEach, describe, expect, it } from 'vitest';
import { checkCounter } from '../harness/checkers/counter.js';
import type { Op } from '../harness/types.js';
import type { Body, Message } from '../lib/index.js';
import { startTestNode, type TestNode } from '../lib/testing.js';
import { keyFor } from './counter.js';
import { createFakeSeqKv, type FakeSeqKv } from './fake-seq-kv.js';
import { defaultCounterOptions, installCounter, type CounterOptions } from './server.js';

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

/**
 * A tiny network: routes what nodes write to seq-kv, to peers (unless partitioned) and to clients.
 * A killed node is replaced by a fresh process under the same id, as a kill nemesis does.
 */
class Cluster {
  readonly nodes = new Map<string, TestNode>();
  readonly kv: FakeSeqKv;
  readonly clientReplies = new Map<number, Body>();
  readonly cut = new Set<string>(); // "a>b": b drops messages from a
  serverMessages = 0;
  private nextMsgId = 1000;
  private pump: NodeJS.Timeout;

  constructor(
    seed: number,
    readonly ids: string[],
    readonly options: CounterOptions = fast,
  ) {
    this.kv = createFakeSeqKv(seed);
    this.pump = setInterval(() => this.route(), 2);
  }

  async start(id: string): Promise<void> {
    const t = startTestNode((node) => installCounter(node, this.options));
    this.nodes.set(id, t);
    // init goes through the router like any request: the node's first seq-kv read may come out
    // before init_ok, and must be routed too
    const reply = await this.request(id, { type: 'init', node_id: id, node_ids: this.ids }, 2000);
    if (reply?.type !== 'init_ok') throw new Error(`${id} did not answer init`);
  }

  async kill(id: string): Promise<void> {
    const old = this.nodes.get(id)!;
    this.nodes.delete(id);
    await old.end();
    old.drain(); // what it had not sent yet dies with it
    await this.start(id);
  }

  partition(groups: string[][]): void {
    this.cut.clear();
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
  }

  private route(): void {
    for (const [id, t] of this.nodes) {
      for (const message of t.drain()) this.deliver(id, message);
    }
  }

  private deliver(from: string, message: Message): void {
    const { dest, body } = message;
    if (dest.startsWith('c')) {
      if (typeof body.in_reply_to === 'number') this.clientReplies.set(body.in_reply_to, body);
      return;
    }
    this.serverMessages += 1;
    if (dest === 'seq-kv') {
      const reply = this.kv.handle(from, body);
      this.serverMessages += 1;
      this.nodes.get(from)?.deliver({ src: 'seq-kv', dest: from, body: { ...reply, type: String(reply.type), in_reply_to: body.msg_id as number } });
      return;
    }
    if (this.cut.has(`${from}>${dest}`)) return;
    this.nodes.get(dest)?.deliver(message);
  }

  /** One client request; resolves with the reply body, or undefined after timeoutMs. */
  async request(node: string, body: Body, timeoutMs: number): Promise<Body | undefined> {
    const msgId = this.nextMsgId++;
    this.nodes.get(node)?.deliver({ src: `c${msgId}`, dest: node, body: { ...body, msg_id: msgId } });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const reply = this.clientReplies.get(msgId);
      if (reply) return reply;
      await sleep(3);
    }
    return undefined;
  }

  async stop(): Promise<void> {
    clearInterval(this.pump);
    await Promise.all([...this.nodes.values()].map((t) => t.end()));
  }
}

let clusters: Cluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  clusters = [];
});
async function cluster(seed: number, count = 3): Promise<Cluster> {
  const c = new Cluster(seed, ids.slice(0, count));
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

  it('batches concurrent adds into one cas', async () => {
    const c = await cluster(2, 1);
    await sleep(50); // start-up reads done
    const before = c.kv.requestCount;
    const replies = await Promise.all([1, 2, 3, 4, -6].map((delta) => c.request('n0', { type: 'add', delta }, 1000)));
    expect(replies.every((r) => r?.type === 'add_ok')).toBe(true);
    expect(c.kv.requestCount - before).toBe(1);
    expect(c.kv.newest(keyFor('n0'))).toEqual([4, 1, expect.any(String)]);
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

  it('rejects a non-integer delta', async () => {
    const c = await cluster(6, 1);
    expect(await c.request('n0', { type: 'add', delta: 1.5 }, 1000)).toMatchObject({ type: 'error', code: 12 });
  });
});

describe('a three-node cluster under partitions and kills', () => {
  it.each([11, 12, 13])('final reads are exact (seed %i), judged by the counter checker', async (seed) => {
    const c = await cluster(seed);
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

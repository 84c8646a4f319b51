// The txn node through the runtime's in-process stdio: handlers, closed reply schema, timers,
// and two nodes converging by replication.
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../lib/index.js';
import { startTestNode, type TestNode } from '../lib/testing.js';
import { defaultOptions, parseArgs, type TxnOptions } from './args.js';
import { installTxn } from './server.js';

let running: TestNode[] = [];
afterEach(async () => {
  await Promise.all(running.map((t) => t.end()));
  running = [];
});

function start(options: Partial<TxnOptions> = {}): TestNode {
  const t = startTestNode((node) => installTxn(node, { ...defaultOptions, ...options }));
  running.push(t);
  return t;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('txn node', () => {
  it('answers txn_ok with the same micro-ops, reads filled in, and no other body keys', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    const txn = [['r', 1, null], ['w', 1, 6], ['w', 2, 9], ['r', 1, null], ['r', 3, null]];
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 1, txn } });
    const reply = await t.next();
    expect(reply.dest).toBe('c1');
    expect(reply.body).toEqual({
      type: 'txn_ok',
      in_reply_to: 1,
      msg_id: expect.any(Number),
      txn: [['r', 1, null], ['w', 1, 6], ['w', 2, 9], ['r', 1, 6], ['r', 3, null]],
    });
    t.deliver({ src: 'c2', dest: 'n0', body: { type: 'txn', msg_id: 1, txn: [['r', 2, null], ['append', 4, 1], ['r', 4, null]] } });
    expect((await t.next()).body['txn']).toEqual([['r', 2, 9], ['append', 4, 1], ['r', 4, [1]]]);
  });

  it('answers a malformed txn with error 12 and applies none of it', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    const bad = [
      { type: 'txn', msg_id: 1 },
      { type: 'txn', msg_id: 2, txn: 'w 1 2' },
      { type: 'txn', msg_id: 3, txn: [['w', 1, 2], ['cas', 1, 3]] },
      { type: 'txn', msg_id: 4, txn: [['w', 1, 2], ['z', 1, 3]] },
      { type: 'txn', msg_id: 5, txn: [] },
    ];
    for (const body of bad) {
      t.deliver({ src: 'c1', dest: 'n0', body });
      expect((await t.next()).body, JSON.stringify(body)).toMatchObject({ type: 'error', code: 12, in_reply_to: body.msg_id });
    }
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 6, txn: [['r', 1, null]] } });
    expect((await t.next()).body['txn']).toEqual([['r', 1, null]]);
  });

  it('sends nothing to peers on a single node, and ignores replication from a client', async () => {
    const t = start({ flushIntervalMs: 20 });
    await t.init('n0', ['n0']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 1, txn: [['w', 1, 1]] } });
    expect((await t.next()).body.type).toBe('txn_ok');
    t.deliver({ src: 'c9', dest: 'n0', body: { type: 'txn_replicate', msg_id: 1, batches: [[1, [['w', 1, 99, 50, 0]]]] } });
    await sleep(100);
    expect(t.drain()).toEqual([]);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 2, txn: [['r', 1, null]] } });
    expect((await t.next()).body['txn']).toEqual([['r', 1, 1]]);
  });

  it('two nodes converge: batches at the flush interval, applied, acknowledged, not resent', async () => {
    const ids = ['n0', 'n1'];
    const nodes = { n0: start({ flushIntervalMs: 30, retryMs: 300 }), n1: start({ flushIntervalMs: 30, retryMs: 300 }) };
    await nodes.n0.init('n0', ids);
    await nodes.n1.init('n1', ids);
    nodes.n0.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 1, txn: [['w', 1, 10], ['w', 2, 20]] } });
    nodes.n1.deliver({ src: 'c2', dest: 'n1', body: { type: 'txn', msg_id: 1, txn: [['w', 2, 21], ['w', 3, 31]] } });
    expect((await nodes.n0.next()).body.type).toBe('txn_ok');
    expect((await nodes.n1.next()).body.type).toBe('txn_ok');

    // Pump the peer messages both ways for a while, counting them.
    const peerMessages: Message[] = [];
    const pump = async (ms: number): Promise<void> => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        for (const [id, t] of Object.entries(nodes)) {
          for (const message of t.drain()) {
            expect(message.src).toBe(id);
            peerMessages.push(message);
            nodes[message.dest as keyof typeof nodes].deliver(message);
          }
        }
        await sleep(5);
      }
    };
    await pump(600);
    // Batches, acks and watermarks settle: nothing more is sent once both sides agree.
    const settled = peerMessages.length;
    await pump(400);
    expect(peerMessages.length).toBe(settled);
    const read = [['r', 1, null], ['r', 2, null], ['r', 3, null]];
    nodes.n0.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 2, txn: read } });
    nodes.n1.deliver({ src: 'c2', dest: 'n1', body: { type: 'txn', msg_id: 2, txn: read } });
    const fromN0 = (await nodes.n0.next()).body['txn'];
    const fromN1 = (await nodes.n1.next()).body['txn'];
    // Both wrote key 2 with counter 1; n1 has the higher node index, so 21 wins everywhere.
    expect(fromN0).toEqual([['r', 1, 10], ['r', 2, 21], ['r', 3, 31]]);
    expect(fromN1).toEqual(fromN0);
    // One batch each way, acks and a few watermark updates, then silence: no resends.
    expect(peerMessages.length).toBeGreaterThanOrEqual(2);
    expect(peerMessages.length).toBeLessThanOrEqual(8);
    expect(peerMessages.every((m) => m.body.type === 'txn_replicate')).toBe(true);
  });
});

describe('parseArgs', () => {
  it('gives the defaults, reads every flag in both forms, and rejects bad values', () => {
    expect(parseArgs([])).toEqual({ kind: 'options', options: defaultOptions });
    expect(parseArgs(['--interval', '300', '--retry=2000', '--max-inflight', '8', '--max-message=500'])).toEqual({
      kind: 'options',
      options: { ...defaultOptions, flushIntervalMs: 300, retryMs: 2000, maxInflightBatches: 8, maxMessageWrites: 500 },
    });
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    for (const bad of [['--interval', '0'], ['--retry'], ['--max-inflight', '1.5'], ['--bogus', '1'], ['--interval', 'x']]) {
      expect(parseArgs(bad).kind, bad.join(' ')).toBe('error');
    }
  });
});

describe('txn limits through the node', () => {
  it('answers a 100,000-write txn with 12 at once, applies none of it, and keeps serving', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    const huge = Array.from({ length: 100_000 }, (_, i) => ['w', i, i]);
    const startedMs = performance.now();
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 1, txn: huge } });
    const reply = await t.next(30_000);
    expect(reply.body).toMatchObject({ type: 'error', code: 12, in_reply_to: 1 });
    expect(String(reply.body['text'])).toContain('at most 1000');
    // Refused before running: far below the seconds executing it took (generous for a loaded machine).
    expect(performance.now() - startedMs).toBeLessThan(10_000);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 2, txn: [['r', 5, null]] } });
    expect((await t.next()).body['txn']).toEqual([['r', 5, null]]);
  });

  it('answers a txn past the key limit with 14', async () => {
    const t = start({ maxKeys: 1 });
    await t.init('n0', ['n0']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 1, txn: [['w', 1, 1]] } });
    expect((await t.next()).body['type']).toBe('txn_ok');
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'txn', msg_id: 2, txn: [['w', 2, 1]] } });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 14 });
    expect(parseArgs(['--max-ops', '0']).kind).toBe('error');
    expect(parseArgs(['--max-state-mb', '2'])).toMatchObject({ kind: 'options', options: { maxStateBytes: 2 * 1024 * 1024 } });
  });
});

// The broadcast node through the runtime's in-process stdio: handlers, wiring and timers.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../lib/testing.js';
import { defaultOptions, type BroadcastOptions } from './args.js';
import { installBroadcast } from './server.js';

let running: TestNode[] = [];
afterEach(async () => {
  await Promise.all(running.map((t) => t.end()));
  running = [];
});

function start(options: Partial<BroadcastOptions> = {}): TestNode {
  const t = startTestNode((node) => installBroadcast(node, { ...defaultOptions, ...options }));
  running.push(t);
  return t;
}

const ids = ['n0', 'n1', 'n2'];

describe('broadcast node', () => {
  it('a leaf acknowledges the client and uploads the value to the hub at once', async () => {
    const t = start();
    await t.init('n1', ids);
    t.deliver({ src: 'c1', dest: 'n1', body: { type: 'broadcast', message: 7, msg_id: 1 } });
    const first = await t.next();
    const second = await t.next();
    const byDest = Object.fromEntries([first, second].map((m) => [m.dest, m.body]));
    expect(byDest['c1']).toMatchObject({ type: 'broadcast_ok', in_reply_to: 1 });
    expect(byDest['n0']).toMatchObject({ type: 'gossip', values: [7] });
    t.deliver({ src: 'c1', dest: 'n1', body: { type: 'read', msg_id: 2 } });
    expect((await t.next()).body).toMatchObject({ type: 'read_ok', messages: [7], in_reply_to: 2 });
  });

  it('the hub batches on its interval and acks the uploader on the same message', async () => {
    const t = start({ intervalMs: 50 });
    await t.init('n0', ids);
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'gossip', values: [[1, 3]], msg_id: 1 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'broadcast', message: 4, msg_id: 1 } });
    expect((await t.next()).body.type).toBe('broadcast_ok');
    const batch = [await t.next(), await t.next()];
    const toN1 = batch.find((m) => m.dest === 'n1')!;
    const toN2 = batch.find((m) => m.dest === 'n2')!;
    expect(toN1.body).toMatchObject({ values: [4], ack: [[1, 3]] });
    expect(toN2.body).toMatchObject({ values: [[1, 4]] });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'read', msg_id: 2 } });
    const read = await t.next();
    expect([...(read.body['messages'] as number[])].sort()).toEqual([1, 2, 3, 4]);
  });

  it('uses the topology message only when told to', async () => {
    const topology = { n0: ['n2'], n1: [], n2: ['n0'] };
    const t = start({ overlay: { kind: 'maelstrom', fanout: 2 } });
    await t.init('n0', ids);
    t.deliver({ src: 'c9', dest: 'n0', body: { type: 'topology', topology, msg_id: 1 } });
    expect((await t.next()).body).toMatchObject({ type: 'topology_ok', in_reply_to: 1 });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'broadcast', message: 5, msg_id: 2 } });
    const out = [await t.next(), await t.next()];
    expect(out.map((m) => m.dest).sort()).toEqual(['c1', 'n2']);
  });

  it('resends an unacknowledged upload after the retry interval, and stops once acked', async () => {
    const t = start({ retryMs: 120, ackDelayMs: Number.POSITIVE_INFINITY });
    await t.init('n2', ids);
    t.deliver({ src: 'c1', dest: 'n2', body: { type: 'broadcast', message: 11, msg_id: 1 } });
    const firstTwo = [await t.next(), await t.next()];
    expect(firstTwo.find((m) => m.dest === 'n0')!.body).toMatchObject({ values: [11] });
    // The upload is "lost": no ack comes back, so it goes again, flagged as a resend.
    const resend = await t.next(1000);
    expect(resend).toMatchObject({ dest: 'n0', body: { type: 'gossip', values: [11], resend: true } });
    t.deliver({ src: 'n0', dest: 'n2', body: { type: 'gossip', ack: [11], msg_id: 5 } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(t.drain()).toEqual([]);
  });

  it('acks a resend from the hub at once', async () => {
    const t = start();
    await t.init('n1', ids);
    t.deliver({ src: 'n0', dest: 'n1', body: { type: 'gossip', values: [[20, 22]], resend: true, msg_id: 9 } });
    expect(await t.next()).toMatchObject({ dest: 'n0', body: { type: 'gossip', ack: [[20, 22]] } });
  });

  it('ignores gossip from anything but a server', async () => {
    const t = start({ intervalMs: 20 });
    await t.init('n0', ids);
    t.deliver({ src: 'c4', dest: 'n0', body: { type: 'gossip', values: [1], resend: true, msg_id: 1 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'read', msg_id: 2 } });
    expect((await t.next()).body).toMatchObject({ type: 'read_ok', messages: [] });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(t.drain()).toEqual([]);
  });

  it('rejects a non-integer broadcast with malformed-request', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'broadcast', message: 'x', msg_id: 3 } });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 3 });
  });
});

describe('broadcast node: refusals at the edge', () => {
  it('with --overlay maelstrom, a malformed topology gets 12 saying why, is logged, and the node still gossips on a good one', async () => {
    const t = start({ overlay: { ...defaultOptions.overlay, kind: 'maelstrom' } });
    await t.init('n0', ids);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'topology', msg_id: 1, topology: { n0: 'n1' } } });
    const refused = await t.next();
    expect(refused.body).toMatchObject({ type: 'error', code: 12, in_reply_to: 1 });
    expect(String(refused.body.text)).toMatch(/malformed topology: "n0" maps to "n1", not a list/);
    expect(t.stderrLines.join('\n')).toMatch(/refusing topology from c1: malformed topology/);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'topology', msg_id: 2, topology: { n0: ['n1', 'n7'], n1: ['n0'] } } });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 2 });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'topology', msg_id: 3, topology: { n0: ['n1'], n1: ['n0'], n2: [] } } });
    expect((await t.next()).body).toMatchObject({ type: 'topology_ok', in_reply_to: 3 });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'broadcast', message: 5, msg_id: 4 } });
    const out = [await t.next(), await t.next()];
    expect(out.map((m) => m.dest).sort()).toEqual(['c1', 'n1']);
  });

  it('refuses a broadcast value beyond 2^53 with 12 and keeps the others', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    t.write('{"src":"c1","dest":"n0","body":{"type":"broadcast","msg_id":1,"message":9007199254740993}}\n');
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 1 });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'broadcast', msg_id: 2, message: 3 } });
    expect((await t.next()).body).toMatchObject({ type: 'broadcast_ok', in_reply_to: 2 });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'read', msg_id: 3 } });
    expect((await t.next()).body).toMatchObject({ type: 'read_ok', messages: [3] });
  });
});

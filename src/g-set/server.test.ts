// The g-set node through the runtime's in-process stdio: client checks and peers' messages.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../lib/testing.js';
import { defaultGsetConfig } from './core.js';
import { installGset } from './server.js';

let nodes: TestNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((t) => t.end()));
  nodes = [];
});

async function started(): Promise<TestNode> {
  // Rounds far apart: these tests look at replies, not at gossip.
  const t = startTestNode((node) => installGset(node, { ...defaultGsetConfig, roundMs: 600_000 }));
  nodes.push(t);
  await t.init('n1', ['n0', 'n1', 'n2']);
  return t;
}

describe('g-set node', () => {
  it('adds and reads integers', async () => {
    const t = await started();
    t.deliver({ src: 'c1', dest: 'n1', body: { type: 'add', element: 7, msg_id: 2 } });
    expect((await t.next(10_000)).body).toMatchObject({ type: 'add_ok', in_reply_to: 2 });
    t.deliver({ src: 'c1', dest: 'n1', body: { type: 'read', msg_id: 3 } });
    expect((await t.next(10_000)).body).toMatchObject({ type: 'read_ok', value: [7] });
  });

  it('refuses elements that cannot travel with 12, and keeps serving', async () => {
    const t = await started();
    t.write('{"src":"c1","dest":"n1","body":{"type":"add","element":1e400,"msg_id":2}}\n');
    for (const [id, element] of [[3, 1.5], [4, 2 ** 53], [5, 'x'], [6, null]] as const) {
      t.deliver({ src: 'c1', dest: 'n1', body: { type: 'add', element, msg_id: id } });
    }
    for (let k = 0; k < 5; k++) expect((await t.next(10_000)).body).toMatchObject({ type: 'error', code: 12 });
    t.deliver({ src: 'c1', dest: 'n1', body: { type: 'read', msg_id: 7 } });
    expect((await t.next(10_000)).body).toMatchObject({ type: 'read_ok', value: [] });
  });

  it('takes gset messages from peers only; a bad one from a peer is dropped without a reply', async () => {
    const t = await started();
    const merge = { type: 'gset', from: 'n2:1-a', data: [['n2:1-a', 0, [4, 5]]], know: {}, cut: [], at: 1, heard: {} };
    t.deliver({ src: 'c1', dest: 'n1', body: { ...merge, msg_id: 2 } });
    expect((await t.next(10_000)).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 2 });
    t.deliver({ src: 'n2', dest: 'n1', body: { ...merge, data: [['n2:1-a', 0, [1.5]]], msg_id: 3 } });
    t.deliver({ src: 'n2', dest: 'n1', body: { ...merge, msg_id: 4 } });
    t.deliver({ src: 'c1', dest: 'n1', body: { type: 'read', msg_id: 5 } });
    expect((await t.next(10_000)).body).toMatchObject({ type: 'read_ok', in_reply_to: 5, value: [4, 5] });
    expect(t.stderrLines.some((line) => line.includes('dropping gset from n2'))).toBe(true);
  });
});

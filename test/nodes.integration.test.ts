// The real bundles over real pipes: what Maelstrom (or bin/glomers) sees.
import { describe, expect, it } from 'vitest';
import { spawnNode } from './support/spawn.js';

const init = (id: string, ids: string[]) => ({
  src: 'c0',
  dest: id,
  body: { type: 'init', msg_id: 1, node_id: id, node_ids: ids },
});

describe('bin/echo', () => {
  it('answers init and echoes, survives bad input, exits 0 on EOF', async () => {
    const node = spawnNode('echo');
    node.send(init('n0', ['n0']));
    expect((await node.next()).body).toEqual({ type: 'init_ok', msg_id: 1, in_reply_to: 1 });
    node.send('this is not json');
    node.send({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 1 } });
    expect((await node.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 1 });
    node.send({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 2, echo: 'Please echo 7' } });
    const reply = await node.next();
    expect(reply).toMatchObject({ src: 'n0', dest: 'c1', body: { type: 'echo_ok', echo: 'Please echo 7', in_reply_to: 2 } });
    expect(await node.close()).toBe(0);
    expect(node.stderr()).toContain('not JSON');
  });
});

describe('bin/idgen', () => {
  it('hands out distinct string ids across nodes with no messages between them', async () => {
    const nodes = ['n0', 'n1', 'n2'].map((id) => ({ id, process: spawnNode('idgen') }));
    const ids = new Set<string>();
    for (const { id, process } of nodes) {
      process.send(init(id, ['n0', 'n1', 'n2']));
      expect((await process.next()).body.type).toBe('init_ok');
      for (let i = 0; i < 500; i++) process.send({ src: 'c9', dest: id, body: { type: 'generate', msg_id: i + 1 } });
      for (let i = 0; i < 500; i++) {
        const reply = await process.next();
        expect(reply.dest).toBe('c9');
        expect(typeof reply.body.id).toBe('string');
        ids.add(reply.body.id as string);
      }
    }
    expect(ids.size).toBe(1500);
    for (const { process } of nodes) expect(await process.close()).toBe(0);
  });
});

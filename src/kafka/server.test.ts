// The kafka node through the runtime's in-process stdio: client RPCs, replication between two
// test nodes, and restarts from the record file.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../lib/index.js';
import { startTestNode, type TestNode } from '../lib/testing.js';
import { defaultOptions, flushIntervalFor, parseArgs, retryIntervalFor, type KafkaOptions } from './args.js';
import { installKafka } from './server.js';
import { fileStore, removeStaleFiles, sessionIsLive, sessionTag, storePath } from './storage.js';

let running: TestNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.map((t) => t.end()));
  running = [];
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kafka-test-'));
  dirs.push(dir);
  return dir;
}

function start(options: Partial<KafkaOptions> = {}, session = 'test-session'): TestNode {
  const merged = { ...defaultOptions, storage: 'memory' as const, intervalMs: 20, ...options };
  const t = startTestNode((node) =>
    installKafka(node, merged, {
      openStore: merged.storage === 'memory' ? undefined : (id) => fileStore(storePath(merged.dir, id, session), session, merged.storage === 'fsync'),
    }),
  );
  running.push(t);
  return t;
}

let msgId = 100;
/** A client request; returns the reply, passing any replication messages to `peers`. */
async function call(t: TestNode, dest: string, body: Record<string, unknown>, peers: Map<string, TestNode> = new Map()): Promise<Message> {
  const id = (msgId += 1);
  t.deliver({ src: 'c1', dest, body: { ...body, type: String(body['type']), msg_id: id } });
  for (;;) {
    const message = await t.next();
    if (message.dest === 'c1' && message.body.in_reply_to === id) return message;
    peers.get(message.dest)?.deliver(message);
  }
}

/** Passes replication messages between test nodes for a while. */
async function pump(nodes: Map<string, TestNode>, durationMs: number): Promise<void> {
  const until = Date.now() + durationMs;
  while (Date.now() < until) {
    for (const t of nodes.values()) for (const message of t.drain()) nodes.get(message.dest)?.deliver(message);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('kafka node', () => {
  it('answers send, poll, commit_offsets and list_committed_offsets on one node', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    const first = await call(t, 'n0', { type: 'send', key: '9', msg: 1 });
    const second = await call(t, 'n0', { type: 'send', key: '9', msg: 2 });
    expect(first.body).toMatchObject({ type: 'send_ok', offset: 0 });
    expect(second.body).toMatchObject({ type: 'send_ok', offset: 1 });
    expect((await call(t, 'n0', { type: 'poll', offsets: {} })).body).toEqual({ type: 'poll_ok', msgs: {}, in_reply_to: msgId, msg_id: expect.any(Number) });
    expect((await call(t, 'n0', { type: 'poll', offsets: { '9': 1, '8': 0 } })).body['msgs']).toEqual({ '9': [[1, 2]] });
    expect((await call(t, 'n0', { type: 'commit_offsets', offsets: { '9': 1 } })).body['type']).toBe('commit_offsets_ok');
    await call(t, 'n0', { type: 'commit_offsets', offsets: { '9': 0 } });
    expect((await call(t, 'n0', { type: 'list_committed_offsets', keys: ['9', '8'] })).body).toMatchObject({
      type: 'list_committed_offsets_ok',
      offsets: { '9': 1 },
    });
  });

  it('rejects malformed offsets with error 12', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    expect((await call(t, 'n0', { type: 'poll', offsets: { k: 'x' } })).body).toMatchObject({ type: 'error', code: 12 });
    expect((await call(t, 'n0', { type: 'send', key: 3, msg: 1 })).body).toMatchObject({ type: 'error', code: 12 });
  });

  it('two nodes: polls on either side see one log, never a message past one not yet seen', async () => {
    const nodes = new Map([
      ['n0', start()],
      ['n1', start()],
    ]);
    await nodes.get('n0')!.init('n0', ['n0', 'n1']);
    await nodes.get('n1')!.init('n1', ['n0', 'n1']);
    const sent: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const id = i % 2 === 0 ? 'n0' : 'n1';
      const reply = await call(nodes.get(id)!, id, { type: 'send', key: 'k', msg: i }, nodes);
      sent.push(reply.body['offset'] as number);
      // Polls in between must always be a prefix of what will be the final log.
      const polled = (await call(nodes.get(id)!, id, { type: 'poll', offsets: { k: 0 } }, nodes)).body['msgs'] as Record<string, Array<[number, number]>>;
      const offsets = (polled['k'] ?? []).map(([o]) => o);
      expect(offsets).toEqual([...sent].sort((a, b) => a - b).slice(0, offsets.length));
    }
    await pump(nodes, 300);
    for (const [id, t] of nodes) {
      const polled = (await call(t, id, { type: 'poll', offsets: { k: 0 } }, nodes)).body['msgs'] as Record<string, Array<[number, number]>>;
      expect(polled['k']!.map(([o]) => o)).toEqual([...sent].sort((a, b) => a - b));
    }
  });

  it('keeps acknowledged messages and committed offsets across a restart (file storage)', async () => {
    const dir = tempDir();
    const first = start({ storage: 'file', dir });
    await first.init('n0', ['n0']);
    for (let i = 0; i < 5; i += 1) await call(first, 'n0', { type: 'send', key: 'k', msg: i });
    await call(first, 'n0', { type: 'commit_offsets', offsets: { k: 3 } });
    await first.end();
    running = running.filter((t) => t !== first);

    const second = start({ storage: 'file', dir });
    await second.init('n0', ['n0']);
    expect((await call(second, 'n0', { type: 'send', key: 'k', msg: 5 })).body['offset']).toBe(5);
    const polled = (await call(second, 'n0', { type: 'poll', offsets: { k: 0 } })).body['msgs'] as Record<string, unknown>;
    expect(polled['k']).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, i]));
    expect((await call(second, 'n0', { type: 'list_committed_offsets', keys: ['k'] })).body['offsets']).toEqual({ k: 3 });
  });

  it('fsync storage acknowledges only after the records are on disk', async () => {
    const dir = tempDir();
    const t = start({ storage: 'fsync', dir });
    await t.init('n0', ['n0']);
    await call(t, 'n0', { type: 'send', key: 'k', msg: 'x' });
    expect(readFileSync(storePath(dir, 'n0', 'test-session'), 'utf8')).toContain('["e","k",0,"x"]');
  });

  it('a restarted node catches up from its peer and its offsets stay above the old ones', async () => {
    const dir = tempDir();
    const n1 = start({ storage: 'file', dir });
    let n0 = start({ storage: 'file', dir });
    const nodes = new Map([
      ['n0', n0],
      ['n1', n1],
    ]);
    await n0.init('n0', ['n0', 'n1']);
    await n1.init('n1', ['n0', 'n1']);
    const a = (await call(n0, 'n0', { type: 'send', key: 'k', msg: 'a' }, nodes)).body['offset'] as number;
    const b = (await call(n1, 'n1', { type: 'send', key: 'k', msg: 'b' }, nodes)).body['offset'] as number;
    await pump(nodes, 200);
    await n0.end();
    running = running.filter((t) => t !== n0);
    n0 = start({ storage: 'file', dir });
    nodes.set('n0', n0);
    await n0.init('n0', ['n0', 'n1']);
    const c = (await call(n0, 'n0', { type: 'send', key: 'k', msg: 'c' }, nodes)).body['offset'] as number;
    expect(c).toBeGreaterThan(Math.max(a, b));
    await pump(nodes, 300);
    for (const [id, t] of nodes) {
      const polled = (await call(t, id, { type: 'poll', offsets: { k: 0 } }, nodes)).body['msgs'] as Record<string, Array<[number, string]>>;
      expect(polled['k']!.map(([, m]) => m)).toEqual(['a', 'b', 'c']);
    }
  });
});

describe('record file', () => {
  it('drops a line cut short by a kill and appends after the last whole one', () => {
    const dir = tempDir();
    const file = storePath(dir, 'n0', 's1');
    const store = fileStore(file, 's1', false);
    store.append([{ kind: 'entry', key: 'k', offset: 0, msg: 'a' }, { kind: 'commit', key: 'k', offset: 0 }]);
    store.close();
    writeFileSync(file, readFileSync(file, 'utf8') + '["e","k",2,"b');
    const reopened = fileStore(file, 's1', false);
    expect(reopened.restored).toEqual([{ kind: 'entry', key: 'k', offset: 0, msg: 'a' }, { kind: 'commit', key: 'k', offset: 0 }]);
    reopened.append([{ kind: 'entry', key: 'k', offset: 2, msg: 'c' }]);
    reopened.close();
    expect(fileStore(file, 's1', false).restored).toHaveLength(3);
  });

  it('names files by node and test, and deletes those of tests that have ended', () => {
    const dir = tempDir();
    const mine = storePath(dir, 'n0', sessionTag());
    const live = storePath(dir, 'n1', 'live-1');
    const ended = storePath(dir, 'n0', 'ended-1');
    for (const file of [mine, live, ended]) fileStore(file, 'x', false).close();
    writeFileSync(path.join(dir, 'unrelated.jsonl'), '');
    removeStaleFiles(dir, sessionTag(), (session) => session === 'live-1');
    expect(readdirSync(dir).sort()).toEqual([path.basename(mine), path.basename(live), 'unrelated.jsonl'].sort());
    expect(sessionIsLive(sessionTag())).toBe(true);
    expect(sessionIsLive('999999999-1')).toBe(false);
  });

  it('discards a file whose header names another test', () => {
    const dir = tempDir();
    const file = storePath(dir, 'n0', 'x');
    const store = fileStore(file, 'old-test', false);
    store.append([{ kind: 'entry', key: 'k', offset: 0, msg: 'a' }]);
    store.close();
    expect(fileStore(file, 'new-test', false).restored).toEqual([]);
    expect(readFileSync(file, 'utf8')).not.toContain('"k"');
  });
});

describe('arguments', () => {
  it('parses flags and rejects bad ones', () => {
    expect(parseArgs(['--interval', '50', '--storage=fsync', '--dir', '/x'])).toEqual({
      kind: 'options',
      options: { ...defaultOptions, intervalMs: 50, storage: 'fsync', dir: '/x' },
    });
    expect(parseArgs(['--interval', 'auto'])).toEqual({ kind: 'options', options: defaultOptions });
    expect(flushIntervalFor(defaultOptions, 2)).toBe(100);
    expect(flushIntervalFor(defaultOptions, 5)).toBe(250);
    expect(flushIntervalFor({ ...defaultOptions, intervalMs: 30 }, 5)).toBe(30);
    expect(retryIntervalFor(defaultOptions, 5)).toBe(1000);
    expect(retryIntervalFor(defaultOptions, 25)).toBe(5000);
    expect(parseArgs(['--storage', 'tape']).kind).toBe('error');
    expect(parseArgs(['--batch', '0']).kind).toBe('error');
    expect(parseArgs(['--bogus']).kind).toBe('error');
    expect(parseArgs(['-h']).kind).toBe('help');
  });
});

// The kafka node through the runtime's in-process stdio: client RPCs, replication between two
// test nodes, and restarts from the record file.
import * as nodeFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../lib/index.js';
import { startTestNode, type TestNode } from '../lib/testing.js';
import type { DurableFs } from '../lib/durable.js';
import { defaultOptions, flushIntervalFor, parseArgs, requestLimits, retryIntervalFor, type KafkaOptions } from './args.js';
import { installKafka, type OpenStore } from './server.js';
import { openFileStore, removeStaleFiles, sessionIsLive, sessionTag, storePath, type FileStoreOptions } from './storage.js';

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

const session = 'test-session';

function start(options: Partial<KafkaOptions> = {}, storeOptions: Partial<FileStoreOptions> = {}): TestNode {
  const merged = { ...defaultOptions, storage: 'memory' as const, intervalMs: 20, ...options };
  const openStore: OpenStore | undefined =
    merged.storage === 'memory'
      ? undefined
      : (id, restore, live, log) => openFileStore(storePath(merged.dir, id, session), restore, { fsync: merged.storage === 'fsync', live, log, ...storeOptions });
  const t = startTestNode((node) => installKafka(node, merged, openStore === undefined ? {} : { openStore }));
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

/** Restarts node n0 (alone) on the same directory; returns the new test node and its init reply. */
async function restart(previous: TestNode, options: Partial<KafkaOptions>, storeOptions: Partial<FileStoreOptions> = {}): Promise<{ t: TestNode; init: Message }> {
  await previous.end();
  running = running.filter((t) => t !== previous);
  const t = start(options, storeOptions);
  return { t, init: await t.init('n0', ['n0']) };
}

async function sendAll(t: TestNode, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) expect((await call(t, 'n0', { type: 'send', key: 'k', msg: i })).body['offset']).toBe(i);
}

function flipBitAt(file: string, needle: string): Buffer {
  const bytes = readFileSync(file);
  const at = bytes.indexOf(needle);
  expect(at).toBeGreaterThan(0);
  bytes[at] = bytes[at]! ^ 0x01;
  writeFileSync(file, bytes);
  return bytes;
}

/** node:fs whose writes can be made to fail with ENOSPC after a few bytes, and whose fsyncs are counted or failed. */
function faultyFs(): { fs: DurableFs; full: { on: boolean }; fsyncs: { count: number; fail: boolean } } {
  const full = { on: false };
  const fsyncs = { count: 0, fail: false };
  const fs: DurableFs = {
    ...(nodeFs as DurableFs),
    writeSync(fd, buffer, offset, length, position) {
      if (!full.on) return nodeFs.writeSync(fd, buffer, offset, length, position);
      if (length > 4) return nodeFs.writeSync(fd, buffer, offset, 4, position);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
    fsyncSync(fd) {
      fsyncs.count += 1;
      if (fsyncs.fail) throw new Error('EIO: i/o error, fsync');
      nodeFs.fsyncSync(fd);
    },
  };
  return { fs, full, fsyncs };
}

describe('record file', () => {
  it('names files by node and test, and deletes those of tests that have ended', () => {
    const dir = tempDir();
    const mine = storePath(dir, 'n0', sessionTag());
    const live = storePath(dir, 'n1', 'live-1');
    const ended = storePath(dir, 'n0', 'ended-1');
    for (const file of [mine, live, ended]) writeFileSync(file, '');
    writeFileSync(path.join(dir, 'unrelated.jsonl'), '');
    removeStaleFiles(dir, sessionTag(), (session) => session === 'live-1');
    expect(readdirSync(dir).sort()).toEqual([path.basename(mine), path.basename(live), 'unrelated.jsonl'].sort());
    expect(sessionIsLive(sessionTag())).toBe(true);
    expect(sessionIsLive('999999999-1')).toBe(false);
  });


  it('drops a record torn by a crash and restores the rest', async () => {
    const dir = tempDir();
    const first = start({ storage: 'file', dir });
    await first.init('n0', ['n0']);
    await sendAll(first, 5);
    const file = storePath(dir, 'n0', session);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('0123abcd ["e","k",5,')]));
    const { t, init } = await restart(first, { storage: 'file', dir });
    expect(init.body['type']).toBe('init_ok');
    expect((await call(t, 'n0', { type: 'poll', offsets: { k: 0 } })).body['msgs']).toEqual({ k: [0, 1, 2, 3, 4].map((i) => [i, i]) });
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 'next' })).body['offset']).toBe(5);
  });

  it('refuses to start from a file damaged mid-way: init fails naming the file, which is left unchanged', async () => {
    const dir = tempDir();
    const first = start({ storage: 'file', dir });
    await first.init('n0', ['n0']);
    await sendAll(first, 10);
    const file = storePath(dir, 'n0', session);
    const damaged = flipBitAt(file, '"k",5,5');
    const { t, init } = await restart(first, { storage: 'file', dir });
    expect(init.body).toMatchObject({ type: 'error', code: 13 });
    expect(String(init.body['text'])).toContain(`${file}: line 7: checksum mismatch`);
    expect(readFileSync(file).equals(damaged)).toBe(true);
    // It keeps serving, with errors: nothing is acknowledged from a state it could not load.
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 'x' })).body).toMatchObject({ type: 'error', code: 11 });
    expect(readFileSync(file).equals(damaged)).toBe(true);
  });

  it('refuses a file whose header is damaged', async () => {
    const dir = tempDir();
    const first = start({ storage: 'file', dir });
    await first.init('n0', ['n0']);
    await sendAll(first, 3);
    const file = storePath(dir, 'n0', session);
    const damaged = flipBitAt(file, 'glomers-records');
    const { init } = await restart(first, { storage: 'file', dir });
    expect(String(init.body['text'])).toContain(`${file}: line 1: checksum mismatch`);
    expect(readFileSync(file).equals(damaged)).toBe(true);
  });

  it('compacts superseded commits, keeping the file bounded and every entry and the last commit', async () => {
    const dir = tempDir();
    const first = start({ storage: 'file', dir }, { compactMinBytes: 2000 });
    await first.init('n0', ['n0']);
    await sendAll(first, 5);
    const file = storePath(dir, 'n0', session);
    let largestBytes = 0;
    for (let i = 0; i < 300; i += 1) {
      await call(first, 'n0', { type: 'commit_offsets', offsets: { k: i } });
      largestBytes = Math.max(largestBytes, statSync(file).size);
    }
    // 300 commit records alone take about 7 KB; live records are about 200 bytes.
    expect(largestBytes).toBeLessThan(4500);
    expect(first.stderrLines.some((line) => line.includes('compacted'))).toBe(true);
    const { t } = await restart(first, { storage: 'file', dir });
    expect((await call(t, 'n0', { type: 'poll', offsets: { k: 0 } })).body['msgs']).toEqual({ k: [0, 1, 2, 3, 4].map((i) => [i, i]) });
    expect((await call(t, 'n0', { type: 'list_committed_offsets', keys: ['k'] })).body['offsets']).toEqual({ k: 299 });
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 5 })).body['offset']).toBe(5);
  });
});

describe('storage failures', () => {
  it('a write that fails (ENOSPC after a short write) is answered 11, never acknowledged, and leaves no offset behind', async () => {
    const dir = tempDir();
    const faults = faultyFs();
    const first = start({ storage: 'file', dir }, { fs: faults.fs });
    await first.init('n0', ['n0']);
    expect((await call(first, 'n0', { type: 'send', key: 'k', msg: 'a' })).body['offset']).toBe(0);
    faults.full.on = true;
    const failed = await call(first, 'n0', { type: 'send', key: 'k', msg: 'lost' });
    expect(failed.body).toMatchObject({ type: 'error', code: 11 });
    expect(String(failed.body['text'])).toContain('ENOSPC');
    expect((await call(first, 'n0', { type: 'commit_offsets', offsets: { k: 0 } })).body).toMatchObject({ type: 'error', code: 11 });
    expect((await call(first, 'n0', { type: 'poll', offsets: { k: 0 } })).body['msgs']).toEqual({ k: [[0, 'a']] });
    faults.full.on = false;
    expect((await call(first, 'n0', { type: 'send', key: 'k', msg: 'b' })).body['offset']).toBe(1);
    const { t } = await restart(first, { storage: 'file', dir });
    expect((await call(t, 'n0', { type: 'poll', offsets: { k: 0 } })).body['msgs']).toEqual({ k: [[0, 'a'], [1, 'b']] });
    expect((await call(t, 'n0', { type: 'list_committed_offsets', keys: ['k'] })).body['offsets']).toEqual({});
  });

  it('fsync mode: sends wait for an fsync, share it when they arrive together, and a failed fsync is answered 13', async () => {
    const dir = tempDir();
    const faults = faultyFs();
    const t = start({ storage: 'fsync', dir }, { fs: faults.fs });
    await t.init('n0', ['n0']);
    const before = faults.fsyncs.count;
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 'x' })).body['type']).toBe('send_ok');
    expect(faults.fsyncs.count).toBe(before + 1);
    // A read with nothing unsynced before it costs no fsync.
    expect((await call(t, 'n0', { type: 'poll', offsets: { k: 0 } })).body['msgs']).toEqual({ k: [[0, 'x']] });
    expect(faults.fsyncs.count).toBe(before + 1);
    const burst = 20;
    const start0 = faults.fsyncs.count;
    for (let i = 0; i < burst; i += 1) t.deliver({ src: 'c1', dest: 'n0', body: { type: 'send', key: 'k', msg: i, msg_id: 9000 + i } });
    const replies = await Promise.all(Array.from({ length: burst }, () => t.next(10_000)));
    expect(replies.every((reply) => reply.body['type'] === 'send_ok')).toBe(true);
    expect(faults.fsyncs.count - start0).toBeLessThan(burst);
    faults.fsyncs.fail = true;
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 'y' })).body).toMatchObject({ type: 'error', code: 13 });
    // The file takes nothing more once an fsync failed.
    faults.fsyncs.fail = false;
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 'z' })).body).toMatchObject({ type: 'error', code: 11 });
  });
});

/**
 * node:fs where a "power cut" puts every file back to what its last fsync covered: writes reach
 * the file at once (the page cache) and survive a kill, but only fsynced bytes survive cut().
 */
function powerCutFs(): { fs: DurableFs; cut(): void } {
  const pathOf = new Map<number, string>();
  const synced = new Map<string, Buffer>();
  const fs: DurableFs = {
    ...(nodeFs as DurableFs),
    openSync(file, flags) {
      const fd = nodeFs.openSync(file, flags);
      pathOf.set(fd, file);
      return fd;
    },
    fsyncSync(fd) {
      nodeFs.fsyncSync(fd);
      const file = pathOf.get(fd);
      if (file !== undefined && nodeFs.statSync(file).isFile()) synced.set(file, nodeFs.readFileSync(file));
    },
  };
  return {
    fs,
    cut() {
      for (const file of new Set(pathOf.values())) {
        if (!nodeFs.statSync(file).isFile()) continue;
        writeFileSync(file, synced.get(file) ?? Buffer.alloc(0));
      }
    },
  };
}

describe('power cut', () => {
  async function sendThenCut(storage: 'file' | 'fsync'): Promise<unknown> {
    const dir = tempDir();
    const power = powerCutFs();
    const first = start({ storage, dir }, { fs: power.fs });
    await first.init('n0', ['n0']);
    await sendAll(first, 20);
    await first.end();
    power.cut();
    const { t, init } = await restart(first, { storage, dir });
    expect(init.body['type']).toBe('init_ok');
    return (await call(t, 'n0', { type: 'poll', offsets: { k: 0 } })).body['msgs'];
  }

  it('fsync mode keeps every acknowledged send', async () => {
    expect(await sendThenCut('fsync')).toEqual({ k: Array.from({ length: 20 }, (_, i) => [i, i]) });
  });

  it('file mode may lose acknowledged sends (here: all of them, nothing was fsynced)', async () => {
    expect(await sendThenCut('file')).toEqual({});
  });
});

describe('limits', () => {
  it('answers oversized and malformed requests with 12, and keeps serving', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    const longKey = 'k'.repeat(requestLimits.maxKeyChars + 1);
    expect((await call(t, 'n0', { type: 'send', key: longKey, msg: 1 })).body).toMatchObject({ type: 'error', code: 12 });
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 'x'.repeat(requestLimits.maxMsgBytes) })).body).toMatchObject({ type: 'error', code: 12 });
    const manyKeys = Object.fromEntries(Array.from({ length: requestLimits.maxKeysPerRequest + 1 }, (_, i) => [`k${i}`, 0]));
    expect((await call(t, 'n0', { type: 'poll', offsets: manyKeys })).body).toMatchObject({ type: 'error', code: 12 });
    expect((await call(t, 'n0', { type: 'list_committed_offsets', keys: ['k', 3] })).body).toMatchObject({ type: 'error', code: 12 });
    expect((await call(t, 'n0', { type: 'send', key: 'k', msg: 'fits' })).body).toMatchObject({ type: 'send_ok', offset: 0 });
  });

  it('refuses commits for keys it holds nothing for with 20, committing none of the request', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    await call(t, 'n0', { type: 'send', key: 'k', msg: 1 });
    const reply = await call(t, 'n0', { type: 'commit_offsets', offsets: { k: 0, ghost: 7 } });
    expect(reply.body).toMatchObject({ type: 'error', code: 20 });
    expect(String(reply.body['text'])).toContain('"ghost"');
    expect((await call(t, 'n0', { type: 'list_committed_offsets', keys: ['k', 'ghost'] })).body['offsets']).toEqual({});
  });

  it('refuses sends past the key count and the state size with 14', async () => {
    const t = start({ maxKeys: 2, maxStateBytes: 1000 });
    await t.init('n0', ['n0']);
    await call(t, 'n0', { type: 'send', key: 'a', msg: 1 });
    await call(t, 'n0', { type: 'send', key: 'b', msg: 1 });
    expect((await call(t, 'n0', { type: 'send', key: 'c', msg: 1 })).body).toMatchObject({ type: 'error', code: 14 });
    let refused: Message | undefined;
    for (let i = 0; i < 100 && refused === undefined; i += 1) {
      const reply = await call(t, 'n0', { type: 'send', key: 'a', msg: 'x'.repeat(100) });
      if (reply.body['type'] === 'error') refused = reply;
    }
    expect(refused?.body).toMatchObject({ code: 14 });
    expect(String(refused?.body['text'])).toContain('--max-state-mb');
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

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ErrorCode,
  KeyDoesNotExistError,
  PreconditionFailedError,
  RPCError,
  TimeoutError,
  createKV,
  type Body,
  type Node,
} from './index.js';
import { startTestNode, type TestNode } from './testing.js';

const running: TestNode[] = [];
function start(setup?: (node: Node) => void): TestNode {
  const testNode = startTestNode(setup);
  running.push(testNode);
  return testNode;
}
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(running.splice(0).map((testNode) => testNode.end()));
});

function echoNode(node: Node): void {
  node.handle('echo', { echo: 'any' }, (message) => ({ type: 'echo_ok', echo: message.body.echo }));
}

describe('init', () => {
  it('answers init_ok, sets id and ids, and runs the hook first', async () => {
    const order: string[] = [];
    const t = start((node) => node.onInit(() => void order.push(`hook ${node.id} ${node.nodeIds.join(',')}`)));
    const reply = await t.init('n1', ['n1', 'n2']);
    expect(reply).toEqual({ src: 'n1', dest: 'c0', body: { type: 'init_ok', msg_id: 1, in_reply_to: 1 } });
    expect(order).toEqual(['hook n1 n1,n2']);
    expect(t.node.id).toBe('n1');
  });

  it('holds messages that arrive while an async init hook runs, then serves them after init_ok', async () => {
    let release!: () => void;
    const t = start((node) => {
      echoNode(node);
      node.onInit(() => new Promise<void>((resolve) => (release = resolve)));
    });
    t.deliver({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 1, node_id: 'n0', node_ids: ['n0'] } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 1, echo: 'early' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.drain()).toEqual([]);
    release();
    expect((await t.next()).body.type).toBe('init_ok');
    expect((await t.next()).body).toMatchObject({ type: 'echo_ok', echo: 'early', in_reply_to: 1 });
  });

  it('answers error 11 to a request before init, from the id it was addressed to', async () => {
    const t = start(echoNode);
    t.deliver({ src: 'n2', dest: 'n1', body: { type: 'echo', msg_id: 7, echo: 1 } });
    const reply = await t.next();
    expect(reply.src).toBe('n1');
    expect(reply.body).toMatchObject({ type: 'error', in_reply_to: 7, code: ErrorCode.TemporarilyUnavailable });
  });
});

describe('dispatch and replies', () => {
  it('numbers msg_id from 1 and replies with in_reply_to; output has only src, dest, body', async () => {
    const t = start(echoNode);
    await t.init('n0', ['n0']);
    t.deliver({ id: 42, src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 5, echo: { nested: [1, 'x'] } } });
    const reply = await t.next();
    expect(Object.keys(reply).sort()).toEqual(['body', 'dest', 'src']);
    expect(reply.body).toEqual({ type: 'echo_ok', echo: { nested: [1, 'x'] }, msg_id: 2, in_reply_to: 5 });
  });

  it('serves async handlers and explicit reply()', async () => {
    const t = start((node) => {
      node.handle('slow', {}, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { type: 'slow_ok' };
      });
      node.handle('manual', {}, (message) => node.reply(message, { type: 'manual_ok' }));
    });
    await t.init('n0', ['n0']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'slow', msg_id: 1 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'manual', msg_id: 2 } });
    const replies = [await t.next(), await t.next()].map((m) => m.body.type).sort();
    expect(replies).toEqual(['manual_ok', 'slow_ok']);
  });

  it('answers unknown types with 10 and missing or ill-typed fields with 12', async () => {
    const t = start((node) => node.handle('add', { delta: 'integer', note: 'string?' }, () => ({ type: 'add_ok' })));
    await t.init('n0', ['n0']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'frobnicate', msg_id: 1 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'add', msg_id: 2 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'add', msg_id: 3, delta: 1.5 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'add', msg_id: 4, delta: 1, note: 3 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'add', msg_id: 5, delta: 2 } });
    const bodies = await Promise.all([t.next(), t.next(), t.next(), t.next(), t.next()]).then((ms) => ms.map((m) => m.body));
    expect(bodies.map((b) => [b.in_reply_to, b.type === 'error' ? b.code : b.type])).toEqual([
      [1, 10],
      [2, 12],
      [3, 12],
      [4, 12],
      [5, 'add_ok'],
    ]);
    expect(String(bodies[1]?.text)).toContain("'delta'");
  });

  it('turns a thrown RPCError into its code and any other exception into 13, and keeps serving', async () => {
    const t = start((node) => {
      echoNode(node);
      node.handle('definite', {}, () => {
        throw new RPCError(ErrorCode.Abort, 'no');
      });
      node.handle('boom', {}, async () => {
        throw new Error('kaput');
      });
      node.handle('sync-boom', {}, () => {
        throw new TypeError('sync kaput');
      });
    });
    await t.init('n0', ['n0']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'definite', msg_id: 1 } });
    expect((await t.next()).body).toEqual({ type: 'error', in_reply_to: 1, code: 14, text: 'no' });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'boom', msg_id: 2 } });
    expect((await t.next()).body).toMatchObject({ type: 'error', in_reply_to: 2, code: 13 });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'sync-boom', msg_id: 3 } });
    expect((await t.next()).body).toMatchObject({ type: 'error', in_reply_to: 3, code: 13 });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 4, echo: 'still here' } });
    expect((await t.next()).body).toMatchObject({ type: 'echo_ok', echo: 'still here' });
    expect(t.stderrLines.join('\n')).toContain('kaput');
  });

  it('logs malformed JSON and non-messages to stderr and carries on', async () => {
    const t = start(echoNode);
    await t.init('n0', ['n0']);
    t.write('{"this is": not json\n');
    t.write('[1,2,3]\n');
    t.write('{"src":"c1","dest":"n0","body":{"msg_id":1}}\n');
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 2, echo: 'ok' } });
    expect((await t.next()).body).toMatchObject({ type: 'echo_ok', in_reply_to: 2 });
    expect(t.stderrLines.filter((line) => line.includes('ignoring'))).toHaveLength(3);
    expect(t.drain()).toEqual([]);
  });

  it('reassembles a line split across chunks, byte by byte', async () => {
    const t = start(echoNode);
    await t.init('n0', ['n0']);
    const line = JSON.stringify({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 9, echo: 'split ✓ across chunks' } }) + '\n';
    for (const char of line) t.write(char);
    expect((await t.next()).body).toMatchObject({ echo: 'split ✓ across chunks', in_reply_to: 9 });
  });

  it('drops a reply that matches no pending request, unless a handler wants its type', async () => {
    const acks: number[] = [];
    const t = start((node) => node.handle('gossip_ok', (message) => void acks.push(message.body.in_reply_to ?? -1)));
    await t.init('n0', ['n0', 'n1']);
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'read_ok', in_reply_to: 99 } });
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'gossip_ok', in_reply_to: 98 } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.stderrLines.some((line) => line.includes('matches no pending request'))).toBe(true);
    expect(acks).toEqual([98]);
    expect(t.drain()).toEqual([]);
  });

  it('refuses to register a handler for init', () => {
    const t = start();
    expect(() => t.node.handle('init', () => undefined)).toThrow(/onInit/);
  });
});

describe('rpc', () => {
  it('resolves with the reply and rejects error replies with typed errors', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1']);
    const ok = t.node.rpc('n1', { type: 'ping' }, { timeoutMs: 1000 });
    const request = await t.next();
    expect(request).toEqual({ src: 'n0', dest: 'n1', body: { type: 'ping', msg_id: 2 } });
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'pong', in_reply_to: 2 } });
    expect(await ok).toEqual({ type: 'pong', in_reply_to: 2 });

    const failing = t.node.rpc('lin-kv', { type: 'read', key: 'k' });
    const read = await t.next();
    t.deliver({ src: 'lin-kv', dest: 'n0', body: { type: 'error', in_reply_to: read.body.msg_id, code: 20, text: 'nope' } });
    await expect(failing).rejects.toBeInstanceOf(KeyDoesNotExistError);
    expect(t.node.pendingCount).toBe(0);
  });

  it('times out with code 0, removes the pending entry, and drops the late reply', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1']);
    const call = t.node.rpc('n1', { type: 'ping' }, { timeoutMs: 30 });
    const request = await t.next();
    expect(t.node.pendingCount).toBe(1);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as RPCError).code).toBe(0);
    expect(t.node.pendingCount).toBe(0);
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'pong', in_reply_to: request.body.msg_id } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.stderrLines.some((line) => line.includes('matches no pending request'))).toBe(true);
  });

  it('keeps the pending table empty after many timeouts', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1']);
    const calls = Array.from({ length: 200 }, () => t.node.rpc('n1', { type: 'ping' }, { timeoutMs: 10 }).catch(() => 'timeout'));
    expect(t.node.pendingCount).toBe(200);
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['timeout']));
    expect(t.node.pendingCount).toBe(0);
  });

  it('supports the callback form', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1']);
    const result = new Promise<[RPCError | undefined, Body | undefined]>((resolve) =>
      t.node.rpc('n1', { type: 'ping' }, { timeoutMs: 500 }, (error, reply) => resolve([error, reply])),
    );
    const request = await t.next();
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'error', in_reply_to: request.body.msg_id, code: 22 } });
    const [error, reply] = await result;
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect(reply).toBeUndefined();
  });

  it('fails pending calls and stops timers when stdin ends', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1']);
    let ticks = 0;
    t.node.every(5, () => void ticks++);
    const call = t.node.rpc('n1', { type: 'ping' }, { timeoutMs: 60_000 });
    await t.next();
    await t.end();
    await expect(call).rejects.toMatchObject({ code: ErrorCode.Crash });
    const ticksAtEnd = ticks;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toBe(ticksAtEnd);
  });
});

describe('timers', () => {
  it('every() ticks until cancelled and survives a throwing callback; after() fires once', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    let ticks = 0;
    const cancel = t.node.every(5, () => {
      ticks++;
      throw new Error('tick trouble');
    });
    let fired = 0;
    t.node.after(5, () => void fired++);
    await new Promise((resolve) => setTimeout(resolve, 60));
    cancel();
    const ticksAtCancel = ticks;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticksAtCancel).toBeGreaterThanOrEqual(3);
    expect(ticks).toBe(ticksAtCancel);
    expect(fired).toBe(1);
    expect(t.stderrLines.some((line) => line.includes('tick trouble'))).toBe(true);
  });
});

describe('group calls', () => {
  it('askAny fails over to the next node on timeout and indefinite errors', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1', 'n2', 'n3']);
    const asked = t.node.askAny(['n1', 'n2', 'n3'], { type: 'q' }, { timeoutMs: 30, deadlineMs: 1000 });
    const first = await t.next(); // times out
    const second = await t.next(200);
    t.deliver({ src: second.dest, dest: 'n0', body: { type: 'error', in_reply_to: second.body.msg_id, code: 13 } });
    const third = await t.next();
    t.deliver({ src: third.dest, dest: 'n0', body: { type: 'a', in_reply_to: third.body.msg_id, v: 1 } });
    const answer = await asked;
    expect(new Set([first.dest, second.dest, third.dest]).size).toBe(3);
    expect(answer).toEqual({ from: third.dest, body: { type: 'a', in_reply_to: third.body.msg_id, v: 1 } });
  });

  it('askAny goes round robin between calls and rejects definite errors at once', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1', 'n2']);
    const a = t.node.askAny(['n1', 'n2'], { type: 'q' });
    const first = await t.next();
    const b = t.node.askAny(['n1', 'n2'], { type: 'q' });
    const second = await t.next();
    expect(first.dest).not.toBe(second.dest);
    t.deliver({ src: first.dest, dest: 'n0', body: { type: 'error', in_reply_to: first.body.msg_id, code: 11 } });
    await expect(a).rejects.toMatchObject({ code: 11 });
    t.deliver({ src: second.dest, dest: 'n0', body: { type: 'a', in_reply_to: second.body.msg_id } });
    await expect(b).resolves.toMatchObject({ from: second.dest });
  });

  it('askAny rejects with a timeout once the deadline passes', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1']);
    const started = Date.now();
    await expect(t.node.askAny(['n1'], { type: 'q' }, { timeoutMs: 20, deadlineMs: 70 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(t.node.pendingCount).toBe(0);
  });

  it('askAll collects every answer and error', async () => {
    const t = start();
    await t.init('n0', ['n0', 'n1', 'n2', 'n3']);
    const all = t.node.askAll(['n1', 'n2', 'n3'], { type: 'q' }, { timeoutMs: 50 });
    const requests = [await t.next(), await t.next(), await t.next()];
    const byDest = new Map(requests.map((m) => [m.dest, m.body.msg_id]));
    t.deliver({ src: 'n1', dest: 'n0', body: { type: 'a', in_reply_to: byDest.get('n1'), v: 1 } });
    t.deliver({ src: 'n2', dest: 'n0', body: { type: 'error', in_reply_to: byDest.get('n2'), code: 14 } });
    const results = await all;
    expect(results.map((r) => [r.node, r.ok, r.ok ? r.body.v : r.error.code])).toEqual([
      ['n1', true, 1],
      ['n2', false, 14],
      ['n3', false, 0],
    ]);
  });
});

describe('KV clients', () => {
  it('maps requests and error codes for read, write, cas', async () => {
    const t = start();
    await t.init('n0', ['n0']);
    const kv = createKV(t.node, 'seq-kv', { timeoutMs: 500 });

    const read = kv.read('x');
    let request = await t.next();
    expect(request.dest).toBe('seq-kv');
    expect(request.body).toMatchObject({ type: 'read', key: 'x' });
    t.deliver({ src: 'seq-kv', dest: 'n0', body: { type: 'read_ok', in_reply_to: request.body.msg_id, value: 3 } });
    expect(await read).toBe(3);

    const missing = kv.readOr('y', 0);
    request = await t.next();
    t.deliver({ src: 'seq-kv', dest: 'n0', body: { type: 'error', in_reply_to: request.body.msg_id, code: 20 } });
    expect(await missing).toBe(0);

    const cas = kv.cas('x', 3, 4, { createIfNotExists: true });
    request = await t.next();
    expect(request.body).toMatchObject({ type: 'cas', key: 'x', from: 3, to: 4, create_if_not_exists: true });
    t.deliver({ src: 'seq-kv', dest: 'n0', body: { type: 'error', in_reply_to: request.body.msg_id, code: 22, text: 'from mismatch' } });
    await expect(cas).rejects.toBeInstanceOf(PreconditionFailedError);

    const write = kv.write('x', 5);
    request = await t.next();
    expect(request.body).toMatchObject({ type: 'write', key: 'x', value: 5 });
    t.deliver({ src: 'seq-kv', dest: 'n0', body: { type: 'write_ok', in_reply_to: request.body.msg_id } });
    await expect(write).resolves.toBeUndefined();
  });
});

describe('fuzz', () => {
  it('still answers after thousands of random and truncated lines', async () => {
    const t = start(echoNode);
    await t.init('n0', ['n0']);
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const valid = JSON.stringify({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 1, echo: 'x' } });
    const alphabet = '{}[]":,\\ abcnul0123456789.-eE\u00e9\ud83d';
    let garbage = '';
    for (let i = 0; i < 3000; i++) {
      const kind = random();
      if (kind < 0.4) garbage += valid.slice(0, Math.floor(random() * valid.length)) + '\n';
      else if (kind < 0.8) {
        let line = '';
        const length = Math.floor(random() * 80);
        for (let j = 0; j < length; j++) line += alphabet[Math.floor(random() * alphabet.length)];
        garbage += line + '\n';
      } else {
        garbage += JSON.stringify({ src: 'c1', dest: 'n0', body: { type: random() < 0.5 ? 'echo' : 'zzz', msg_id: i + 10 } }) + '\n';
      }
    }
    t.write(garbage);
    t.drain();
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.drain();
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 999_999, echo: 'alive' } });
    let reply = await t.next();
    while (reply.body.in_reply_to !== 999_999) reply = await t.next();
    expect(reply.body).toMatchObject({ type: 'echo_ok', echo: 'alive' });
  });
});

describe('hardening: what a request holds never stops the node', () => {
  const initLine = JSON.stringify({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 1, node_id: 'n0', node_ids: ['n0'] } });
  const echoLine = (msgId: string, echo: string): string => `{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":${msgId},"echo":${echo}}}`;
  const nestedText = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

  async function answerTo(t: TestNode, msgId: number) {
    let reply = await t.next();
    while (reply.body.in_reply_to !== msgId) reply = await t.next();
    return reply;
  }

  it('answers a request nested 5000 deep with 12, sends the init_ok of the same batch, and keeps serving', async () => {
    const t = start(echoNode);
    t.write(`${initLine}\n${echoLine('2', nestedText(5000))}\n${echoLine('3', '"after"')}\n`);
    expect((await t.next()).body).toMatchObject({ type: 'init_ok', in_reply_to: 1 });
    const deep = await t.next();
    expect(deep.body).toMatchObject({ type: 'error', code: 12, in_reply_to: 2 });
    expect(String(deep.body.text)).toMatch(/nested deeper than 1000 levels/);
    expect((await t.next()).body).toMatchObject({ type: 'echo_ok', in_reply_to: 3, echo: 'after' });
  });

  it('accepts and echoes a value just inside the depth limit', async () => {
    const t = start(echoNode);
    await t.init('n0', ['n0']);
    // envelope and body take two levels
    t.write(`${echoLine('2', nestedText(998))}\n`);
    const reply = await t.next();
    expect(reply.body).toMatchObject({ type: 'echo_ok', in_reply_to: 2 });
    t.write(`${echoLine('3', nestedText(999))}\n`);
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 3 });
  });

  it('answers 13 when a reply cannot be serialized, without losing the init_ok batched before it', async () => {
    let deep: unknown[] = [];
    for (let k = 0; k < 20_000; k++) deep = [deep];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const t = start((node) => {
      node.handle('deep', () => ({ type: 'deep_ok', value: deep as never }));
      node.handle('cyclic', () => ({ type: 'cyclic_ok', value: cyclic as never }));
      node.handle('big', () => ({ type: 'big_ok', value: 10n as never }));
    });
    const request = (type: string, msgId: number): string => JSON.stringify({ src: 'c1', dest: 'n0', body: { type, msg_id: msgId } });
    t.write(`${initLine}\n${request('deep', 2)}\n${request('cyclic', 3)}\n${request('big', 4)}\n`);
    expect((await t.next()).body).toMatchObject({ type: 'init_ok', in_reply_to: 1 });
    for (const msgId of [2, 3, 4]) {
      const reply = await t.next();
      expect(reply.body).toMatchObject({ type: 'error', code: 13, in_reply_to: msgId });
      expect(String(reply.body.text)).toMatch(/could not be serialized/);
    }
    expect(t.stderrLines.join('\n')).toMatch(/cannot serialize deep_ok/);
  });

  it('never answers a msg_id that is not a safe integer (logs it) and never writes Infinity', async () => {
    const t = start(echoNode);
    await t.init('n0', ['n0']);
    const lines = ['1e400', '-1e400', '9007199254740993', '1.5', '"7"'].map((id, k) => echoLine(id, `"x${k}"`));
    t.write(`${lines.join('\n')}\n${echoLine('42', '"ok"')}\n`);
    const reply = await t.next();
    expect(reply.body).toMatchObject({ type: 'echo_ok', in_reply_to: 42 });
    const logged = t.stderrLines.join('\n');
    expect(logged).toMatch(/msg_id Infinity \(not JSON\) is not a safe integer/);
    expect(logged).toMatch(/msg_id 9007199254740992 is not a safe integer/);
    expect(logged).toMatch(/msg_id "7" is not a safe integer/);
    expect(t.drain()).toEqual([]);
  });

  it('refuses integers beyond 2^53 and non-finite numbers at the edge with 12', async () => {
    const t = start((node) => {
      node.handle('add', { element: 'integer', weight: 'number?' }, () => ({ type: 'add_ok' }));
    });
    await t.init('n0', ['n0']);
    t.write('{"src":"c1","dest":"n0","body":{"type":"add","msg_id":2,"element":9007199254740993}}\n');
    t.write('{"src":"c1","dest":"n0","body":{"type":"add","msg_id":3,"element":1,"weight":-1e999}}\n');
    t.write('{"src":"c1","dest":"n0","body":{"type":"add","msg_id":4,"element":9007199254740991}}\n');
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 2 });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 3 });
    expect((await t.next()).body).toMatchObject({ type: 'add_ok', in_reply_to: 4 });
  });

  it('bounds error texts, whatever the size of the offending value or name', async () => {
    const t = start((node) => {
      node.handle('add', { element: 'integer' }, () => ({ type: 'add_ok' }));
      node.handle('boom', () => {
        throw new Error('e'.repeat(100_000));
      });
      node.handle('refuse', () => {
        throw new RPCError(ErrorCode.Abort, 'r'.repeat(100_000));
      });
    });
    await t.init('n0', ['n0']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'add', msg_id: 2, element: 'v'.repeat(1_000_000) } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 't'.repeat(1_000_000), msg_id: 3 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'boom', msg_id: 4 } });
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'refuse', msg_id: 5 } });
    for (const [msgId, code] of [[2, 12], [3, 10], [4, 13], [5, 14]] as const) {
      const reply = await t.next();
      expect(reply.body).toMatchObject({ type: 'error', code, in_reply_to: msgId });
      expect(String(reply.body.text).length).toBeLessThanOrEqual(1100);
    }
  });

  it('a second init with the same identity gets init_ok again without re-running hooks; another identity gets 22', async () => {
    let hookRuns = 0;
    const values: number[] = [];
    const t = start((node) => {
      node.onInit(() => {
        hookRuns++;
      });
      node.handle('add', { element: 'integer' }, (m) => {
        values.push(m.body.element);
        return { type: 'add_ok' };
      });
    });
    await t.init('n0', ['n0', 'n1']);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'add', msg_id: 2, element: 7 } });
    await t.next();
    t.deliver({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 3, node_id: 'n0', node_ids: ['n0', 'n1'] } });
    expect((await t.next()).body).toMatchObject({ type: 'init_ok', in_reply_to: 3 });
    t.deliver({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 4, node_id: 'n1', node_ids: ['n0', 'n1'] } });
    const refused = await t.next();
    expect(refused.body).toMatchObject({ type: 'error', code: 22, in_reply_to: 4 });
    expect(String(refused.body.text)).toMatch(/already initialized as n0 .*keeps its state/);
    t.deliver({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 5, node_id: 'n0', node_ids: ['n0'] } });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 22, in_reply_to: 5 });
    expect(hookRuns).toBe(1);
    expect(t.node.id).toBe('n0');
    expect(t.node.nodeIds).toEqual(['n0', 'n1']);
    expect(values).toEqual([7]);
  });

  it('refuses an init whose node_ids are not all strings', async () => {
    const t = start();
    t.deliver({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 1, node_id: 'n0', node_ids: ['n0', 5] } });
    expect((await t.next()).body).toMatchObject({ type: 'error', code: 12, in_reply_to: 1 });
    expect(t.node.initialized).toBe(false);
  });

  it('fuzz: generated depths and number forms; every output line is JSON and the node always answers', async () => {
    const t = start((node) => {
      echoNode(node);
      node.handle('add', { element: 'integer' }, () => ({ type: 'add_ok' }));
    });
    await t.init('n0', ['n0']);
    let seed = 99;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const numbers = ['0', '-0', '1e400', '-1e400', '1e-400', '9007199254740991', '9007199254740992', '-9007199254740993', '1.5', '2e3', '123456789012345678901234567890'];
    const pick = (): string => numbers[Math.floor(random() * numbers.length)] as string;
    let text = '';
    for (let k = 0; k < 300; k++) {
      const depth = Math.floor(random() ** 3 * 6000);
      const shape = random();
      if (shape < 0.4) text += echoLine(pick(), `${'['.repeat(depth)}${pick()}${']'.repeat(depth)}`) + '\n';
      else if (shape < 0.7) text += `{"src":"c1","dest":"n0","body":{"type":"add","msg_id":${pick()},"element":${pick()}}}\n`;
      else text += `{"src":"c1","dest":"n0","body":{"type":"echo","msg_id":${k + 10},"echo":${'{"a":'.repeat(depth)}${pick()}${'}'.repeat(depth)}}}\n`;
    }
    t.write(text);
    t.deliver({ src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: 1_000_000, echo: 'alive' } });
    // testing.ts parses every output line with JSON.parse: a line that is not JSON fails the test.
    const reply = await answerTo(t, 1_000_000);
    expect(reply.body).toMatchObject({ type: 'echo_ok', echo: 'alive' });
  });
});

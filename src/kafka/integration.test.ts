// bin/kafka as real processes (after `node build.mjs`): a short workload in the shape of
// Maelstrom's kafka clients, a SIGKILL and restart in the same directory, and the checks that
// matter to the kafka checker: no poll skips an offset of the final log, every acknowledged
// send is polled at the end, and few node-to-node messages per operation.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { checkKafka } from '../harness/check/checkers/kafka.js';
import type { Json, Op } from '../harness/types.js';

const bin = path.resolve('bin/kafka');
type Body = Record<string, unknown>;
type Pairs = Array<[number, unknown]>;

class Cluster {
  readonly procs = new Map<string, ChildProcessWithoutNullStreams>();
  private readonly waiting = new Map<string, (body: Body) => void>();
  serverMessages = 0;
  private nextId = 1;

  constructor(
    readonly ids: string[],
    readonly dir: string,
    readonly args: string[],
  ) {}

  async start(id: string): Promise<void> {
    const child = spawn(process.execPath, [bin, ...this.args], { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    this.procs.set(id, child);
    child.stderr.resume();
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { src: string; dest: string; body: Body };
      const target = this.procs.get(message.dest);
      if (target !== undefined) {
        this.serverMessages += 1;
        if (target.exitCode === null && target.signalCode === null) target.stdin.write(line + '\n');
        return;
      }
      this.waiting.get(`${message.dest}/${String(message.body['in_reply_to'])}`)?.(message.body);
    });
    await this.request(`c-init-${id}`, id, { type: 'init', node_id: id, node_ids: this.ids });
  }

  kill(id: string): void {
    this.procs.get(id)?.kill('SIGKILL');
    this.procs.delete(id);
  }

  /** One client RPC; undefined on timeout (an indeterminate result). */
  request(client: string, dest: string, body: Body, timeoutMs = 2000): Promise<Body | undefined> {
    const msgId = (this.nextId += 1);
    const key = `${client}/${msgId}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(key, (reply) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(reply);
      });
      const proc = this.procs.get(dest);
      if (proc === undefined) return;
      proc.stdin.write(JSON.stringify({ src: client, dest, body: { ...body, msg_id: msgId } }) + '\n');
    });
  }

  stop(): void {
    for (const id of [...this.procs.keys()]) this.kill(id);
  }
}

let cluster: Cluster | undefined;
let dir: string | undefined;
afterEach(() => {
  cluster?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  cluster = undefined;
  dir = undefined;
});

interface Outcome {
  acked: Map<string, Map<number, unknown>>;
  polls: Array<{ key: string; from: number; pairs: Pairs }>;
  ops: number;
  /** The run as a Maelstrom history, for the kafka checker. */
  history: Op[];
}

const keyCount = 6;
const allKeys = Array.from({ length: keyCount }, (_, i) => String(i));

/**
 * Workers bound to node t mod N send and poll for durationMs as Maelstrom's kafka clients do:
 * polls carry one offset per assigned key ({} before the first assign), a key joins through an
 * assign at offset 0, commits follow polls that returned messages, and an operation that times
 * out is indeterminate and the worker goes on as a new process. Then the final phase: every
 * worker, as a new process, assigns every key from the beginning and polls until it has caught up.
 */
async function workload(c: Cluster, workers: number, durationMs: number, during?: () => Promise<void>): Promise<Outcome> {
  const acked = new Map<string, Map<number, unknown>>();
  const polls: Outcome['polls'] = [];
  const history: Op[] = [];
  const t0 = process.hrtime.bigint();
  const record = (op: Omit<Op, 'index' | 'time'>): void => {
    history.push({ ...op, index: history.length, time: Number(process.hrtime.bigint() - t0) } as Op);
  };
  let ops = 0;
  const highest = new Map<string, number>();
  const saw = (key: string, offset: number): void => void highest.set(key, Math.max(highest.get(key) ?? -1, offset));

  const pollOnce = async (w: number, proc: number, node: string, offsets: Record<string, number>): Promise<boolean> => {
    ops += 1;
    const asked = { ...offsets };
    record({ process: proc, type: 'invoke', f: 'poll', value: [['poll']] });
    const reply = await c.request(`c${w}`, node, { type: 'poll', offsets: asked });
    if (reply?.['type'] !== 'poll_ok') {
      record({ process: proc, type: 'info', f: 'poll', value: [['poll']], error: 'net-timeout' });
      return false;
    }
    const msgs = reply['msgs'] as Record<string, Pairs>;
    record({ process: proc, type: 'ok', f: 'poll', value: [['poll', msgs as unknown as Json]] });
    for (const [k, pairs] of Object.entries(msgs)) {
      polls.push({ key: k, from: asked[k]!, pairs });
      offsets[k] = pairs[pairs.length - 1]![0] + 1;
      saw(k, offsets[k] - 1);
    }
    if (Object.keys(msgs).length > 0) {
      const committed = Object.fromEntries(Object.entries(msgs).map(([k, pairs]) => [k, pairs[pairs.length - 1]![0]]));
      await c.request(`c${w}`, node, { type: 'commit_offsets', offsets: committed });
    }
    return true;
  };

  const until = Date.now() + durationMs;
  const worker = async (w: number): Promise<void> => {
    const node = c.ids[w % c.ids.length]!;
    let proc = w;
    let offsets: Record<string, number> = {};
    let counter = 0;
    const newProcess = (): void => {
      proc += workers;
      offsets = {};
    };
    while (Date.now() < until) {
      const key = allKeys[Math.floor(Math.random() * keyCount)]!;
      if (Math.random() < 0.5) {
        if (!(key in offsets)) {
          const keys = [...Object.keys(offsets), key];
          record({ process: proc, type: 'invoke', f: 'assign', value: keys });
          record({ process: proc, type: 'ok', f: 'assign', value: keys });
          offsets[key] = 0;
        }
        ops += 1;
        const msg = `${w}-${(counter += 1)}`;
        record({ process: proc, type: 'invoke', f: 'send', value: [['send', key, msg]] });
        const reply = await c.request(`c${w}`, node, { type: 'send', key, msg });
        if (reply?.['type'] === 'send_ok') {
          const offset = reply['offset'] as number;
          record({ process: proc, type: 'ok', f: 'send', value: [['send', key, [offset, msg]]] });
          if (!acked.has(key)) acked.set(key, new Map());
          acked.get(key)!.set(offset, msg);
          saw(key, offset);
        } else {
          record({ process: proc, type: 'info', f: 'send', value: [['send', key, msg]], error: 'net-timeout' });
          newProcess();
        }
      } else if (!(await pollOnce(w, proc, node, offsets))) {
        newProcess();
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    // Final phase.
    record({ process: proc, type: 'invoke', f: 'crash', value: null });
    record({ process: proc, type: 'info', f: 'crash', value: null });
    proc += workers;
    offsets = Object.fromEntries(allKeys.map((k) => [k, 0]));
    record({ process: proc, type: 'invoke', f: 'assign', value: allKeys, 'seek-to-beginning?': true });
    record({ process: proc, type: 'ok', f: 'assign', value: allKeys, 'seek-to-beginning?': true });
    const target = new Map(highest);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && [...target].some(([k, o]) => (offsets[k] ?? 0) <= o)) {
      await pollOnce(w, proc, node, offsets);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  await Promise.all([...Array.from({ length: workers }, (_, w) => worker(w)), during?.() ?? Promise.resolve()]);
  return { acked, polls, ops, history };
}

async function finalLogs(c: Cluster, keys: string[]): Promise<Map<string, Map<string, Pairs>>> {
  const logs = new Map<string, Map<string, Pairs>>();
  for (const id of c.ids) {
    const reply = await c.request('c-final', id, { type: 'poll', offsets: Object.fromEntries(keys.map((k) => [k, 0])) });
    logs.set(id, new Map(Object.entries((reply?.['msgs'] ?? {}) as Record<string, Pairs>)));
  }
  return logs;
}

function checkOutcome(outcome: Outcome, logs: Map<string, Map<string, Pairs>>): void {
  const [first] = logs.values();
  // Every node ends with the same log, and every acknowledged send is in it.
  for (const log of logs.values()) expect([...log].sort()).toEqual([...first!].sort());
  for (const [key, sends] of outcome.acked) {
    const log = new Map(first!.get(key) ?? []);
    for (const [offset, msg] of sends) expect(log.get(offset)).toBe(msg);
  }
  // Each poll is exactly the final log from the requested offset on, as far as it went.
  for (const poll of outcome.polls) {
    const log = first!.get(poll.key) ?? [];
    const last = poll.pairs[poll.pairs.length - 1]![0];
    expect(poll.pairs).toEqual(log.filter(([o]) => o >= poll.from && o <= last));
  }
  // And Maelstrom's own verdict on the history.
  const result = checkKafka(outcome.history);
  expect({ valid: result['valid?'], bad: result['bad-error-types'] }).toEqual({ valid: true, bad: [] });
}

describe.skipIf(!existsSync(bin))('bin/kafka processes', () => {
  it('two nodes: nothing skipped or lost, and few messages between nodes per operation', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kafka-int-'));
    cluster = new Cluster(['n0', 'n1'], dir, []);
    await Promise.all(cluster.ids.map((id) => cluster!.start(id)));
    const outcome = await workload(cluster, 4, 1500);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const logs = await finalLogs(cluster, allKeys);
    checkOutcome(outcome, logs);
    expect(outcome.polls.length).toBeGreaterThan(50);
    const perOp = cluster.serverMessages / outcome.ops;
    expect(perOp).toBeLessThan(0.2);
  }, 20_000);

  it('a node SIGKILLed mid-run and restarted in the same directory loses no acknowledged send', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kafka-int-'));
    const c = new Cluster(['n0', 'n1'], dir, []);
    cluster = c;
    await Promise.all(c.ids.map((id) => c.start(id)));
    const outcome = await workload(c, 4, 2000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      c.kill('n0');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await c.start('n0');
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    checkOutcome(outcome, await finalLogs(c, allKeys));
  }, 20_000);
});

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
}

/** Workers bound to node t mod N send and poll for durationMs, as Maelstrom's clients do. */
async function workload(c: Cluster, workers: number, durationMs: number, during?: () => Promise<void>): Promise<Outcome> {
  const acked = new Map<string, Map<number, unknown>>();
  const polls: Outcome['polls'] = [];
  let ops = 0;
  const until = Date.now() + durationMs;
  const worker = async (w: number): Promise<void> => {
    const node = c.ids[w % c.ids.length]!;
    const offsets: Record<string, number> = {};
    let counter = 0;
    while (Date.now() < until) {
      const key = String(Math.floor(Math.random() * 6));
      ops += 1;
      if (Math.random() < 0.5) {
        const msg = `${w}-${(counter += 1)}`;
        const reply = await c.request(`c${w}`, node, { type: 'send', key, msg });
        if (reply?.['type'] === 'send_ok') {
          if (!acked.has(key)) acked.set(key, new Map());
          acked.get(key)!.set(reply['offset'] as number, msg);
        }
        offsets[key] ??= 0;
      } else {
        const asked = { ...offsets };
        const reply = await c.request(`c${w}`, node, { type: 'poll', offsets: asked });
        const msgs = (reply?.['msgs'] ?? {}) as Record<string, Pairs>;
        for (const [k, pairs] of Object.entries(msgs)) {
          polls.push({ key: k, from: asked[k]!, pairs });
          offsets[k] = pairs[pairs.length - 1]![0] + 1;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  await Promise.all([...Array.from({ length: workers }, (_, w) => worker(w)), during?.() ?? Promise.resolve()]);
  return { acked, polls, ops };
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
}

describe.skipIf(!existsSync(bin))('bin/kafka processes', () => {
  it('two nodes: nothing skipped or lost, and few messages between nodes per operation', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kafka-int-'));
    cluster = new Cluster(['n0', 'n1'], dir, []);
    await Promise.all(cluster.ids.map((id) => cluster!.start(id)));
    const outcome = await workload(cluster, 4, 1500);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const logs = await finalLogs(cluster, ['0', '1', '2', '3', '4', '5']);
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
    checkOutcome(outcome, await finalLogs(c, ['0', '1', '2', '3', '4', '5']));
  }, 20_000);
});

// Stand-in load test for bin/raft until the harness has the lin-kv workload: real node processes
// behind a zero-latency router, lin-kv-shaped clients (per key group N readers and N writers
// doing write 1/3, cas 2/3 over values 0..4, 1 s client timeout, a new process after :info),
// Maelstrom's partition shapes and schedule, optional SIGKILL + restart. Prints availability,
// server msgs-per-op, latencies, the gap after each leader loss, and checks the history with the
// brute-force checker (keys rotate every --rotate-ms to keep per-key histories small).
//
//   npx tsx src/raft/loadtest.ts --nodes 3 --concurrency 12 --rate 30 --time 60 --interval 10
//   flags: --kill (kills as well as partitions), --no-partition, --shape NAME, --bin PATH

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { Body, Json } from '../lib/index.js';
import type { KvOp } from './kv.js';
import { checkLinearizable } from './lincheck.js';
import type { HistoryOp } from './sim.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const has = (name: string): boolean => process.argv.includes(`--${name}`);
const shapeAt = process.argv.indexOf('--shape');
const binAt = process.argv.indexOf('--bin');

const nodeCount = flag('nodes', 3);
const concurrency = flag('concurrency', 4 * nodeCount);
const rate = flag('rate', 30);
const seconds = flag('time', 60);
const intervalMs = flag('interval', 10) * 1000;
const rotateMs = flag('rotate-ms', 2500);
const kills = has('kill');
const partitions = !has('no-partition');
const forcedShape = shapeAt === -1 ? undefined : process.argv[shapeAt + 1];
const bin = binAt === -1 ? path.resolve('bin/raft') : path.resolve(process.argv[binAt + 1] as string);

const ids = Array.from({ length: nodeCount }, (_, k) => `n${k}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-loadtest-'));
const startedMs = Date.now();
const now = (): number => Date.now() - startedMs;
const random = (k: number): number => Math.floor(Math.random() * k);

const processes = new Map<string, ChildProcess>();
/** "src>dest" pairs whose messages are dropped (at the receiver, as Maelstrom does) */
const blocked = new Set<string>();
const waiting = new Map<string, (body: Body) => void>();
const nodeLog: Array<{ atMs: number; line: string }> = [];
let serverMessages = 0;
let clientCounter = 0;

function startNode(id: string): Promise<void> {
  const child = spawn(bin, [], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  processes.set(id, child);
  child.stdin?.on('error', () => {}); // a killed node's pipe
  readline.createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => nodeLog.push({ atMs: now(), line }));
  return new Promise((resolve) => {
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const message = JSON.parse(line) as { src: string; dest: string; body: Body };
      if (message.dest.startsWith('c')) {
        if (message.body.type === 'init_ok') resolve();
        else waiting.get(`${message.dest}:${message.body.in_reply_to}`)?.(message.body);
        return;
      }
      serverMessages += 1;
      if (!blocked.has(`${message.src}>${message.dest}`)) processes.get(message.dest)?.stdin?.write(line + '\n');
    });
    const init = { type: 'init', msg_id: 1, node_id: id, node_ids: ids };
    child.stdin?.write(JSON.stringify({ src: `c${++clientCounter}`, dest: id, body: init }) + '\n');
  });
}

function request(id: string, body: Record<string, Json>): Promise<Body | undefined> {
  const client = `c${++clientCounter}`;
  return new Promise((resolve) => {
    const key = `${client}:1`;
    const timer = setTimeout(() => {
      waiting.delete(key);
      resolve(undefined);
    }, 1_000);
    waiting.set(key, (reply) => {
      clearTimeout(timer);
      waiting.delete(key);
      resolve(reply);
    });
    processes.get(id)?.stdin?.write(JSON.stringify({ src: client, dest: id, body: { ...body, msg_id: 1 } }) + '\n');
  });
}

const history: HistoryOp[] = [];
const events: Array<{ atMs: number; kind: 'kill' | 'partition' | 'heal' | 'restart'; detail: string }> = [];
const processOf = Array.from({ length: concurrency }, (_, t) => t);
let nextProcess = concurrency;
const busy = new Array<boolean>(concurrency).fill(false);

async function runOp(thread: number): Promise<void> {
  busy[thread] = true;
  const node = ids[thread % nodeCount] as string;
  const key = Math.floor(thread / (2 * nodeCount)) * 1_000_000 + Math.floor(now() / rotateMs);
  const reader = thread % (2 * nodeCount) < nodeCount;
  const op: KvOp = reader
    ? { f: 'read', key }
    : Math.random() < 1 / 3
      ? { f: 'write', key, value: random(5) }
      : { f: 'cas', key, from: random(5), to: random(5) };
  const entry: HistoryOp = { process: processOf[thread] as number, node, op, invokeMs: now(), completeMs: undefined, outcome: 'pending' };
  history.push(entry);
  const { f, ...fields } = op;
  const reply = await request(node, { type: f, ...fields });
  entry.completeMs = now();
  const code = reply?.type === 'error' ? Number(reply.code) : undefined;
  if (reply === undefined || code === 0 || code === 13) {
    entry.outcome = 'info';
    processOf[thread] = nextProcess++;
  } else if (code !== undefined && code !== 20 && code !== 22) {
    entry.outcome = 'fail';
  } else {
    entry.outcome = 'ok';
    if (code !== undefined) entry.code = code;
    if (reply.type === 'read_ok') entry.value = reply.value as Json;
  }
  busy[thread] = false;
}

function partition(): string {
  const shapes = ['one', 'majority', 'minority-third', 'majorities-ring'];
  const shape = forcedShape ?? (shapes[random(shapes.length)] as string);
  const ring = [...ids].sort(() => Math.random() - 0.5);
  const cut = (a: string[], b: string[]): void => {
    for (const x of a) for (const y of b) blocked.add(`${x}>${y}`).add(`${y}>${x}`);
  };
  if (shape === 'one') cut(ring.slice(0, 1), ring.slice(1));
  else if (shape === 'majority') cut(ring.slice(0, Math.floor(nodeCount / 2)), ring.slice(Math.floor(nodeCount / 2)));
  else if (shape === 'minority-third') cut(ring.slice(0, Math.floor((nodeCount - 1) / 3)), ring.slice(Math.floor((nodeCount - 1) / 3)));
  else {
    const size = Math.floor(nodeCount / 2) + 1;
    for (let k = 0; k < nodeCount; k++) {
      const window = Array.from({ length: size }, (_, j) => ring[(k + j) % nodeCount] as string);
      const middle = window[Math.floor(size / 2)] as string;
      for (const other of ids) if (!window.includes(other)) blocked.add(`${other}>${middle}`);
    }
  }
  return `${shape} ${[...blocked].join(',')}`;
}

await Promise.all(ids.map(startNode));
const inflight: Array<Promise<void>> = [];
const down = new Set<string>();
let faulty = false;
let nextNemesisMs = 0;
while (now() < seconds * 1000) {
  await new Promise((resolve) => setTimeout(resolve, (Math.random() * 2000) / rate));
  const free = busy.flatMap((isBusy, thread) => (isBusy ? [] : [thread]));
  if (free.length > 0) inflight.push(runOp(free[random(free.length)] as number));
  if (now() < nextNemesisMs || (!kills && !partitions)) continue;
  nextNemesisMs = now() + Math.random() * 2 * intervalMs;
  if (faulty) {
    for (const id of down) {
      await startNode(id);
      events.push({ atMs: now(), kind: 'restart', detail: id });
    }
    down.clear();
    blocked.clear();
    events.push({ atMs: now(), kind: 'heal', detail: '' });
    faulty = false;
  } else if (kills && (!partitions || Math.random() < 0.5)) {
    const victim = ids[random(nodeCount)] as string;
    processes.get(victim)?.kill('SIGKILL');
    down.add(victim);
    events.push({ atMs: now(), kind: 'kill', detail: victim });
    faulty = true;
  } else {
    events.push({ atMs: now(), kind: 'partition', detail: partition() });
    faulty = true;
  }
}
blocked.clear();
for (const id of down) await startNode(id);
await Promise.all(inflight);
for (const child of processes.values()) child.kill('SIGKILL');
fs.rmSync(dir, { recursive: true, force: true });

const count = (outcome: HistoryOp['outcome']): number => history.filter((op) => op.outcome === outcome).length;
const latencies = history
  .filter((op) => op.outcome === 'ok')
  .map((op) => (op.completeMs as number) - op.invokeMs)
  .sort((a, b) => a - b);
const quantile = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
console.log(`ops ${history.length}: ok ${count('ok')} (availability ${(count('ok') / history.length).toFixed(3)}), fail ${count('fail')}, info ${count('info')}`);
console.log(`server messages ${serverMessages}, msgs-per-op ${(serverMessages / history.length).toFixed(2)}`);
console.log(`ok latency ms: p50 ${quantile(0.5)} p99 ${quantile(0.99)} max ${quantile(1)}`);

/** The leader at a time, from the nodes' "raft: leader term=…" log lines. */
function leaderAt(atMs: number): string | undefined {
  let leader: string | undefined;
  for (const { atMs: lineMs, line } of nodeLog) {
    if (lineMs > atMs) break;
    const match = /^(\S+): raft: leader term=/.exec(line);
    if (match !== null) leader = match[1];
  }
  return leader;
}
for (const event of events) {
  if (event.kind !== 'kill' && event.kind !== 'partition') continue;
  const leader = leaderAt(event.atMs);
  const lost = event.kind === 'kill' ? event.detail === leader : event.detail.includes(`>${leader},`) || event.detail.endsWith(`>${leader}`);
  if (leader === undefined || !lost) continue;
  const firstOk = history
    .filter((op) => op.outcome === 'ok' && op.invokeMs >= event.atMs && op.node !== leader)
    .map((op) => (op.completeMs as number) - event.atMs)
    .sort((a, b) => a - b)[0];
  console.log(`leader ${leader} lost (${event.kind} ${event.detail.split(' ')[0]}) at ${event.atMs} ms: first ok elsewhere after ${firstOk ?? '-'} ms`);
}
console.log(`faults: ${events.map((event) => `${event.atMs}:${event.kind} ${event.detail.split(' ')[0]}`).join(', ')}`);
const verdict = checkLinearizable(history, 5_000_000);
console.log(`linearizable: ${verdict.valid}${verdict.key === undefined ? '' : ` (key ${verdict.key})`}`);
process.exit(verdict.valid ? 0 : 1);

// Load driver for bin/kafka until the harness has the kafka workload: starts NODES processes in a
// temp directory, routes their messages, and runs 2*NODES clients (client t on node t mod N) at
// RATE operations a second in all for SECONDS (half sends, half polls; a commit after each poll
// that returned messages; keys drift over time as the workload's do). Prints one JSON line:
// operations, node-to-node messages (all of them, the tail after the load included), messages
// per operation, client latency quantiles in ms, and the longest ack-to-first-poll lag seen.
//
//   node build.mjs && node src/kafka/load.mjs 2 1000 20 [node args, e.g. --storage fsync]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const [nodeCount, rate, seconds] = process.argv.slice(2, 5).map(Number);
const nodeArgs = process.argv.slice(5);
if (!(nodeCount >= 1 && rate > 0 && seconds > 0)) {
  process.stderr.write('usage: node src/kafka/load.mjs NODES RATE SECONDS [node args]\n');
  process.exit(2);
}
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/kafka');
const ids = Array.from({ length: nodeCount }, (_, i) => `n${i}`);
const dir = mkdtempSync(path.join(tmpdir(), 'kafka-load-'));
const procs = new Map();
const waiting = new Map();
let serverMessages = 0;
let nextMsgId = 1;

function request(client, dest, body) {
  const msgId = nextMsgId++;
  const started = performance.now();
  return new Promise((resolve) => {
    waiting.set(`${client}/${msgId}`, (reply) => {
      waiting.delete(`${client}/${msgId}`);
      resolve([reply, performance.now() - started]);
    });
    procs.get(dest).stdin.write(JSON.stringify({ src: client, dest, body: { ...body, msg_id: msgId } }) + '\n');
  });
}

function start(id) {
  const child = spawn(process.execPath, [bin, ...nodeArgs], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
  procs.set(id, child);
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line);
    const peer = procs.get(message.dest);
    if (peer !== undefined) {
      serverMessages += 1;
      peer.stdin.write(line + '\n');
      return;
    }
    waiting.get(`${message.dest}/${message.body.in_reply_to}`)?.(message.body);
  });
  return request(`init-${id}`, id, { type: 'init', node_id: id, node_ids: ids });
}

await Promise.all(ids.map(start));
const workers = 2 * nodeCount;
const latencies = [];
const ackedAt = new Map();
let ops = 0;
let maxLagMs = 0;
const began = Date.now();
const until = began + seconds * 1000;

async function worker(w) {
  const node = ids[w % nodeCount];
  const offsets = {};
  let counter = 0;
  while (Date.now() < until) {
    const key = String(Math.floor(Math.random() * 10 + (Date.now() - began) / 300));
    ops += 1;
    if (Math.random() < 0.5) {
      const [reply, ms] = await request(`c${w}`, node, { type: 'send', key, msg: (counter += 1) });
      latencies.push(ms);
      ackedAt.set(`${key}/${reply.offset}`, Date.now());
      offsets[key] ??= 0;
    } else {
      const [reply, ms] = await request(`c${w}`, node, { type: 'poll', offsets });
      latencies.push(ms);
      const committed = {};
      for (const [k, pairs] of Object.entries(reply.msgs)) {
        offsets[k] = pairs[pairs.length - 1][0] + 1;
        committed[k] = offsets[k] - 1;
        for (const [offset] of pairs) {
          const at = ackedAt.get(`${k}/${offset}`);
          if (at !== undefined) maxLagMs = Math.max(maxLagMs, Date.now() - at);
        }
      }
      if (Object.keys(committed).length > 0) await request(`c${w}`, node, { type: 'commit_offsets', offsets: committed });
    }
    // Uniform gaps with the mean that gives `rate` over all workers, as Maelstrom's stagger does.
    await new Promise((resolve) => setTimeout(resolve, (Math.random() * 2 * workers * 1000) / rate));
  }
}

await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
const loadSeconds = (Date.now() - began) / 1000;
await new Promise((resolve) => setTimeout(resolve, 3000));
latencies.sort((a, b) => a - b);
const quantile = (q) => Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))].toFixed(2));
console.log(
  JSON.stringify({
    nodes: nodeCount,
    nodeArgs,
    ops,
    opsPerSecond: Math.round(ops / loadSeconds),
    serverMessages,
    msgsPerOp: Number((serverMessages / ops).toFixed(4)),
    latencyMs: { p50: quantile(0.5), p99: quantile(0.99), max: quantile(1) },
    maxAckToPollLagMs: maxLagMs,
  }),
);
for (const child of procs.values()) child.kill('SIGKILL');
rmSync(dir, { recursive: true, force: true });

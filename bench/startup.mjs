#!/usr/bin/env node
// Start-up time of a bundled node: spawn to init_ok, for one process and for 25 started at once
// (Maelstrom allows 10 s). Usage: node bench/startup.mjs [binary=bin/echo] [rounds=5]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binary = path.resolve(root, process.argv[2] ?? 'bin/echo');
const rounds = Number(process.argv[3] ?? 5);

function startOne(id, ids) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout.once('data', () => {
      const ms = performance.now() - started;
      child.stdin.end();
      child.on('exit', () => resolve(ms));
    });
    child.stdin.write(JSON.stringify({ src: 'c0', dest: id, body: { type: 'init', msg_id: 1, node_id: id, node_ids: ids } }) + '\n');
  });
}

async function startMany(count) {
  const ids = Array.from({ length: count }, (_, i) => `n${i}`);
  const started = performance.now();
  const each = await Promise.all(ids.map((id) => startOne(id, ids)));
  return { allMs: performance.now() - started, slowestMs: Math.max(...each) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const single = [];
const parallel = [];
for (let round = 0; round < rounds; round++) {
  single.push((await startMany(1)).allMs);
  parallel.push((await startMany(25)).allMs);
}
console.log(`${path.relative(root, binary)}: spawn to init_ok, median of ${rounds} rounds`);
console.log(`1 process:             ${median(single).toFixed(0)} ms`);
console.log(`25 processes at once:  ${median(parallel).toFixed(0)} ms until the last init_ok (Maelstrom allows 10000 ms)`);

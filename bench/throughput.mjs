#!/usr/bin/env node
// Message throughput of one node process over a pipe: echo requests in, replies out, per second.
// Compares bin/echo (our runtime) with bench/bare-echo.mjs (no runtime: the ceiling for this design).
// Usage: node bench/throughput.mjs [messages=200000] [rounds=5]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const messageCount = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 5);

const init = JSON.stringify({ src: 'c0', dest: 'n0', body: { type: 'init', msg_id: 1, node_id: 'n0', node_ids: ['n0'] } }) + '\n';
let input = '';
for (let i = 0; i < messageCount; i++) {
  input += JSON.stringify({ id: i, src: 'c1', dest: 'n0', body: { type: 'echo', msg_id: i + 1, echo: `Please echo ${i % 128}` } }) + '\n';
}

function measure(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let replies = 0;
    let started = 0;
    child.stdout.on('data', (chunk) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) replies++;
      if (replies === 1 && started === 0) {
        // init_ok arrived: start the clock and pour in the load.
        started = performance.now();
        child.stdin.write(input, () => child.stdin.end());
      }
      if (replies === messageCount + 1) {
        const seconds = (performance.now() - started) / 1000;
        child.kill();
        resolve(messageCount / seconds);
      }
    });
    child.on('error', reject);
    child.stdin.write(init);
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ours = [];
const bare = [];
for (let round = 0; round < rounds; round++) {
  // Alternate so both see the same machine conditions.
  bare.push(await measure(process.execPath, [path.join(root, 'bench/bare-echo.mjs')]));
  ours.push(await measure(path.join(root, 'bin/echo'), []));
}
const format = (rate) => `${Math.round(rate).toLocaleString('en-US')} msg/s`;
console.log(`messages per round: ${messageCount}, rounds: ${rounds} (median shown)`);
console.log(`bare parse/stringify loop: ${format(median(bare))}`);
console.log(`runtime (bin/echo):        ${format(median(ours))}`);
console.log(`ratio:                     ${((median(ours) / median(bare)) * 100).toFixed(1)}%`);

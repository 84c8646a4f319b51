#!/usr/bin/env node
// The sched targets (issue 16) through bin/glomers, each line repeated, one table row per run:
//   poc      make sched-poc      valid; efficiency >= 0.99 in 5 of 5
//   sparrow  make sched-sparrow  valid; response ratio median <= 1.05, p99 <= 1.5
//   kill     make sched-kill     valid 5 of 5; 0 duplicated; p99 reported
// Every row also gives the servers' msgs-per-op and messages per completed task, and the ideal
// response ratio (one global FIFO queue onto every slot, no messages, the run's own submits).
// Usage: node bench/sched.mjs [--runs 5] [--lines poc,sparrow,kill] [--sim] [-- node args]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { own, nodeArgs, flag } = benchArgs();
const runs = Number(flag('runs', '5'));
const wanted = flag('lines', 'poc,sparrow,kill').split(',');
const sim = own.includes('--sim');

const sparrow = ['--node-count', '13', '--schedulers', '3', '--slots', '4', '--job-tasks', '10', '--task-ms', '100', '--rate', '32', '--time-limit', '20'];
const LINES = {
  poc: ['--node-count', '8', '--schedulers', '3', '--slots', '2', '--rate', '1000', '--time-limit', '1', '--task-ms', '100'],
  sparrow,
  kill: [...sparrow, '--nemesis', 'partition,kill', '--nemesis-interval', '5'],
};

const store = mkdtempSync(path.join(os.tmpdir(), 'glomers-bench-sched-'));

function runOnce(name, k) {
  const dir = path.join(store, `${name}-${k}`);
  const args = ['test', '-w', 'sched', '--bin', 'bin/sched', ...LINES[name], '--store', dir, ...(sim ? ['--sim', '--seed', String(k + 1)] : []), '--', ...nodeArgs];
  const started = performance.now();
  const result = spawnSync(path.join(root, 'bin', 'glomers'), args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallS = (performance.now() - started) / 1000;
  const results = JSON.parse(readFileSync(path.join(dir, 'sched', 'latest', 'results.json'), 'utf8'));
  const w = results.workload;
  const servers = results.net.servers;
  const tasks = w['completed-task-count'];
  return {
    line: name,
    run: k + 1,
    status: result.status,
    valid: results['valid?'],
    jobs: `${w['ok-job-count']}/${w['job-count']}`,
    efficiency: w.efficiency,
    'ratio p50': w['response-ratio']?.['0.5'],
    'ratio p99': w['response-ratio']?.['0.99'],
    'ideal p99': results.glomers.workload?.['ideal-response-ratio']?.['0.99'],
    lost: w['lost-count'],
    dup: w['duplicated-count'],
    killed: w['killed-count'],
    'msgs/op': servers['msgs-per-op'],
    'msgs/task': tasks > 0 ? Math.round((servers['msg-count'] / tasks) * 10) / 10 : null,
    'wall s': Math.round(wallS * 10) / 10,
  };
}

const rows = [];
try {
  for (const name of wanted) {
    if (!(name in LINES)) throw new Error(`unknown line ${name}; expected ${Object.keys(LINES).join(', ')}`);
    for (let k = 0; k < runs; k++) {
      const row = runOnce(name, k);
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  }
} finally {
  rmSync(store, { recursive: true, force: true });
}

const columns = Object.keys(rows[0] ?? {});
const cell = (value) => (value === undefined || value === null ? '-' : typeof value === 'number' ? String(Math.round(value * 10000) / 10000) : String(value));
process.stdout.write(`sched bench: ${runs} run(s) per line${sim ? ', --sim (seeds 1..runs)' : ', real processes'}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${os.cpus().length} cores\n`);
process.stdout.write(`| ${columns.join(' | ')} |\n|${columns.map(() => '---').join('|')}|\n`);
for (const row of rows) process.stdout.write(`| ${columns.map((c) => cell(row[c])).join(' | ')} |\n`);

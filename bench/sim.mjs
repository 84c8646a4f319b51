#!/usr/bin/env node
// The deterministic simulation's targets (issue 12), measured through bin/glomers:
//   1. challenge 3d line under --sim, wall time of the whole command (median of --runs)
//   2. challenge 3c line under --sim, the same
//   3. a sweep of --seeds seeds of the 3c line (--sim --seeds N), wall time
//   4. the same node under --sim and as real processes, --compare seeds each (the 3d line, no
//      nemesis): servers msgs-per-op and stable latency median, mean of each side and their ratio
//   5. replay: --replays seeds of the 3c line run twice each; history.jsonl and results.json compared
// Usage: node bench/sim.mjs [--runs 5] [--seeds 1000] [--compare 5] [--replays 10] [--skip-real] [--bin bin/broadcast]
//        [-- node args for the 3d line (default: --overlay star --interval 15, make broadcast-d)]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { own, nodeArgs, flag } = benchArgs(['--overlay', 'star', '--interval', '15']);
const runs = Number(flag('runs', '5'));
const sweepSeeds = Number(flag('seeds', '1000'));
const compareSeeds = Number(flag('compare', '5'));
const replays = Number(flag('replays', '10'));
const skipReal = own.includes('--skip-real');
const bin = flag('bin', 'bin/broadcast');

const line3d = ['-w', 'broadcast', '--bin', bin, '--node-count', '25', '--time-limit', '20', '--rate', '100', '--latency', '100'];
const line3c = ['-w', 'broadcast', '--bin', bin, '--node-count', '5', '--time-limit', '20', '--rate', '10', '--nemesis', 'partition'];
const store = mkdtempSync(path.join(os.tmpdir(), 'glomers-bench-sim-'));

function glomers(args) {
  const started = performance.now();
  const result = spawnSync(path.join(root, 'bin', 'glomers'), ['test', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallS = (performance.now() - started) / 1000;
  if (result.status !== 0) process.stderr.write(`exit ${result.status}: glomers test ${args.join(' ')}\n${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}\n`);
  return { wallS, status: result.status, stdout: result.stdout };
}

function figures(storeDir) {
  const results = JSON.parse(readFileSync(path.join(storeDir, 'broadcast', 'latest', 'results.json'), 'utf8'));
  return { msgsPerOp: results.net.servers['msgs-per-op'], medianMs: results.workload['stable-latencies']['0.5'] };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const rows = [];

function timeLine(name, args, target) {
  const walls = [];
  for (let k = 0; k < runs; k++) walls.push(glomers(['--sim', '--seed', String(k + 1), '--store', path.join(store, `${name}-${k}`), ...args]).wallS);
  rows.push([`${name} line, --sim, whole command (median of ${runs})`, `${median(walls).toFixed(2)} s`, target, `min ${Math.min(...walls).toFixed(2)} s, max ${Math.max(...walls).toFixed(2)} s`]);
}

if (runs > 0) {
  timeLine('3d', [...line3d, '--', ...nodeArgs], '≤ 2 s');
  timeLine('3c', line3c, '≤ 0.3 s');
}

if (sweepSeeds > 0) {
  const sweep = glomers(['--sim', '--seeds', String(sweepSeeds), '--seed', '1', '--store', path.join(store, 'sweep'), ...line3c]);
  const valid = /^valid\s+(\d+)$/m.exec(sweep.stdout)?.[1] ?? '?';
  rows.push([`${sweepSeeds} seeds of 3c (--seeds), ${os.availableParallelism()} workers`, `${sweep.wallS.toFixed(1)} s`, '≤ 60 s (1,000 seeds)', `${valid} valid; ${(sweep.wallS * 1000 / sweepSeeds).toFixed(0)} ms per seed`]);
}

if (compareSeeds > 0) {
  const side = (sim) => {
    const out = [];
    for (let k = 0; k < compareSeeds; k++) {
      const dir = path.join(store, `${sim ? 'sim' : 'real'}-${k}`);
      glomers([...(sim ? ['--sim'] : []), '--seed', String(k + 1), '--store', dir, ...line3d, '--', ...nodeArgs]);
      out.push(figures(dir));
    }
    return out;
  };
  const sim = side(true);
  const fmt = (list, key) => list.map((f) => f[key].toFixed(key === 'msgsPerOp' ? 2 : 0)).join(' ');
  rows.push(['3d --sim msgs-per-op (servers) per seed', fmt(sim, 'msgsPerOp'), '', `mean ${mean(sim.map((f) => f.msgsPerOp)).toFixed(3)}`]);
  rows.push(['3d --sim stable latency median ms per seed', fmt(sim, 'medianMs'), '', `mean ${mean(sim.map((f) => f.medianMs)).toFixed(1)}`]);
  if (!skipReal) {
    const real = side(false);
    const ratio = (key) => mean(sim.map((f) => f[key])) / mean(real.map((f) => f[key]));
    rows.push(['3d real msgs-per-op (servers) per seed', fmt(real, 'msgsPerOp'), '', `mean ${mean(real.map((f) => f.msgsPerOp)).toFixed(3)}`]);
    rows.push(['3d real stable latency median ms per seed', fmt(real, 'medianMs'), '', `mean ${mean(real.map((f) => f.medianMs)).toFixed(1)}`]);
    rows.push(['sim / real msgs-per-op', `${((ratio('msgsPerOp') - 1) * 100).toFixed(1)} %`, '±5 %', '']);
    rows.push(['sim / real stable latency median', `${((ratio('medianMs') - 1) * 100).toFixed(1)} %`, '±10 %', '']);
  }
}

if (replays > 0) {
  let same = 0;
  for (let seed = 1; seed <= replays; seed++) {
    const files = ['a', 'b'].map((side) => {
      const dir = path.join(store, `replay-${seed}-${side}`);
      glomers(['--sim', '--seed', String(seed), '--store', dir, ...line3c]);
      return ['history.jsonl', 'results.json'].map((file) => readFileSync(path.join(dir, 'broadcast', 'latest', file)));
    });
    if (files[0].every((bytes, k) => bytes.equals(files[1][k]))) same++;
  }
  rows.push([`replay: 3c seeds 1..${replays}, run twice each`, `${same}/${replays} byte-identical`, `${replays}/${replays}`, 'history.jsonl and results.json']);
}

rmSync(store, { recursive: true, force: true });
const widths = [0, 1, 2].map((k) => Math.max(...rows.map((row) => row[k].length)));
process.stdout.write(`node bench/sim.mjs ${process.argv.slice(2).join(' ')}  (3d node args: ${nodeArgs.join(' ')})\n\n`);
for (const row of rows) process.stdout.write(`${row[0].padEnd(widths[0])}  ${row[1].padEnd(widths[1])}  ${row[2].padEnd(widths[2])}  ${row[3]}\n`);

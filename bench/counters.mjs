// Repeats the counter and g-set lines under bin/glomers and prints one Markdown table, a row per
// run: verdict, servers msgs-per-op, latency (stable latency for g-set, operation latency of ok
// operations for the counters), and what the nemesis did. docs/counters.md quotes its output.
//
// usage: node bench/counters.mjs [NAME...] [--runs N] [--keep]
//   NAME: any of the lines below (default: all, each its own number of runs); --runs N runs each
//   chosen line N times; --keep leaves the results (in a temp dir, printed) instead of deleting them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runGlomers } from './broadcast-runs.mjs';

const counter = ['--node-count', '3', '--rate', '100', '--time-limit', '20'];
const gset = ['--node-count', '3', '--rate', '10', '--time-limit', '20', '--nemesis', 'partition'];

/** name -> [workload, bin, harness args, node args, runs, latency kind] */
const LINES = {
  'g-counter (4), kv mode (default)': ['g-counter', 'counter', [...counter, '--nemesis', 'partition'], [], 5, 'op'],
  'pn-counter, memory mode': ['pn-counter', 'counter', [...counter, '--nemesis', 'partition'], ['--durability', 'memory'], 5, 'op'],
  'g-set': ['g-set', 'g-set', gset, [], 5, 'stable'],
  'g-counter partition,kill, kv mode': ['g-counter', 'counter', [...counter, '--nemesis', 'partition,kill'], [], 2, 'op'],
};

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(`usage: node bench/counters.mjs [NAME...] [--runs N] [--keep]\nlines: ${Object.keys(LINES).join(' | ')}`);
  process.exit(0);
}
const runsIndex = argv.indexOf('--runs');
const runsOverride = runsIndex === -1 ? undefined : Number(argv[runsIndex + 1]);
const keep = argv.includes('--keep');
const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs');
const chosen = names.length === 0 ? Object.keys(LINES) : names;
const unknown = chosen.filter((name) => LINES[name] === undefined);
if (unknown.length > 0) {
  console.error(`unknown line(s): ${unknown.join(', ')}; lines: ${Object.keys(LINES).join(' | ')}`);
  process.exit(2);
}

/** p50 and max latency (ms) of the ok operations in a run's history.jsonl. */
function opLatencyMs(storeDir) {
  const invoked = new Map();
  const latencies = [];
  const lines = readFileSync(path.join(storeDir, 'latest', 'history.jsonl'), 'utf8').split('\n');
  for (const line of lines) {
    if (line === '') continue;
    const op = JSON.parse(line);
    if (typeof op.process !== 'number') continue;
    if (op.type === 'invoke') invoked.set(op.process, op.time);
    else if (op.type === 'ok' && invoked.has(op.process)) latencies.push((op.time - invoked.get(op.process)) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  return { p50: latencies[Math.floor(latencies.length / 2)] ?? NaN, max: latencies.at(-1) ?? NaN };
}

const ms = (value) => (Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(1)) : '—');

function faults(results) {
  const nemesis = results?.glomers?.nemesis ?? {};
  const isolated = Object.entries(nemesis['isolated-s'] ?? {}).map(([node, s]) => `${node} ${Number(s).toFixed(1)} s`);
  const shapes = Object.entries(nemesis['partition-shapes'] ?? {}).map(([shape, n]) => `${shape}×${n}`);
  const kills = nemesis.kills ? `, ${nemesis.kills} kills` : '';
  return `seed ${results?.glomers?.seed}: partitioned ${Number(nemesis['partitioned-s'] ?? 0).toFixed(1)} s (${shapes.join(' ') || 'none'}); isolated ${isolated.join(', ') || 'none'}${kills}`;
}

const storeRoot = mkdtempSync(path.join(os.tmpdir(), 'bench-counters-'));
console.log('| line | run | valid | servers msgs-per-op | latency p50 / max (ms) | faults |');
console.log('|---|---|---|---|---|---|');
const commands = [];
let failures = 0;
try {
  for (const name of chosen) {
    const [workload, bin, harnessArgs, nodeArgs, defaultRuns, latencyKind] = LINES[name];
    const runs = runsOverride ?? defaultRuns;
    for (let run = 1; run <= runs; run++) {
      const storeDir = path.join(storeRoot, `${bin}-${workload}-${run}`);
      const result = await runGlomers({ workload, bin, harnessArgs, nodeArgs, storeDir });
      if (run === 1) commands.push(`- ${name}: \`${result.command}\``);
      if (result.error !== undefined) {
        failures += 1;
        console.log(`| ${name} | ${run} | error | — | — | ${result.error.replace(/\|/g, '/').slice(0, 200)} |`);
        continue;
      }
      if (result.valid !== true) failures += 1;
      const latency = latencyKind === 'stable' ? { p50: result.p50, max: result.max } : opLatencyMs(storeDir);
      const label = latencyKind === 'stable' ? 'stable' : 'op';
      console.log(`| ${name} | ${run} | ${result.valid} | ${result.msgsPerOpServers.toFixed(4)} | ${label} ${ms(latency.p50)} / ${ms(latency.max)} | ${faults(result.results)} |`);
    }
  }
} finally {
  console.log(`\n${commands.join('\n')}`);
  if (keep) console.log(`\nresults kept in ${storeRoot}`);
  else rmSync(storeRoot, { recursive: true, force: true });
}
process.exitCode = failures === 0 ? 0 : 1;

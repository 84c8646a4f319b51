// Repeats the counter and g-set lines under bin/glomers and prints one Markdown table, a row per
// run: verdict, servers msgs-per-op, latency (stable latency for g-set, operation latency of ok
// operations for the counters), and what the nemesis did. docs/counters.md quotes its output.
//
// usage: node bench/counters.mjs [NAME...] [--runs N] [--seed S] [--against PATH] [--keep]
//   NAME: any of the lines below (default: all, each its own number of runs); --runs N runs each
//   chosen line N times; --seed S gives run k the seed S+k-1 (default: a random seed per run);
//   --keep leaves the results (in a temp dir, printed) instead of deleting them.
//   --against PATH: a side-by-side. Each run is made twice on the same seed (S defaults to 1), once
//   with our node and once with the node at PATH (an executable, such as Maelstrom's
//   demo/js/crdt_gset.js), and one row per seed gives both binaries' figures, the partition
//   schedule (the same seed plays the same nemesis on real processes), and for stable latency the
//   floor that schedule imposes on any node (bench/partition-floor.mjs).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runGlomers } from './broadcast-runs.mjs';
import { describeSchedule, partitions, readHistory, stableFloor } from './partition-floor.mjs';

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
  console.log(`usage: node bench/counters.mjs [NAME...] [--runs N] [--seed S] [--against PATH] [--keep]\nlines: ${Object.keys(LINES).join(' | ')}`);
  process.exit(0);
}
const VALUED = ['--runs', '--seed', '--against'];
const valueOf = (flag) => {
  const index = argv.indexOf(flag);
  return index === -1 ? undefined : argv[index + 1];
};
const runsOverride = valueOf('--runs') === undefined ? undefined : Number(valueOf('--runs'));
const against = valueOf('--against') === undefined ? undefined : path.resolve(valueOf('--against'));
const firstSeed = valueOf('--seed') !== undefined ? Number(valueOf('--seed')) : against !== undefined ? 1 : undefined;
if ([runsOverride, firstSeed].some((n) => n !== undefined && !(Number.isSafeInteger(n) && n >= 0))) {
  console.error('--runs and --seed take a whole number');
  process.exit(2);
}
const keep = argv.includes('--keep');
const names = argv.filter((a, i) => !a.startsWith('--') && !VALUED.includes(argv[i - 1]));
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
const commands = [];
let failures = 0;

/** One run of a line with `bin` on `seed` (random when undefined): the summary and the figures of a row. */
async function measure(name, bin, run, seed) {
  const [workload, , harnessArgs, nodeArgs, , latencyKind] = LINES[name];
  const storeDir = path.join(storeRoot, `${path.basename(bin)}-${workload}-${run}`);
  const seedArgs = seed === undefined ? [] : ['--seed', String(seed)];
  const result = await runGlomers({ workload, bin, harnessArgs: [...harnessArgs, ...seedArgs], nodeArgs: bin === LINES[name][1] ? nodeArgs : [], storeDir });
  const seeds = seed === undefined ? '' : ` (run k: --seed ${seed}+k-1)`;
  if (run === 1) commands.push(`- ${name}${bin === LINES[name][1] ? '' : ` against ${bin}`}: \`${result.command}\`${seeds}`);
  if (result.error !== undefined) {
    failures += 1;
    return { result, error: result.error.replace(/\|/g, '/').slice(0, 200) };
  }
  if (result.valid !== true) failures += 1;
  const history = readHistory(storeDir);
  const latency = latencyKind === 'stable' ? { p50: result.p50, max: result.max } : opLatencyMs(storeDir);
  const floor = latencyKind === 'stable' ? stableFloor(history, runOptions(storeDir)) : undefined;
  return { result, latency, floor, history, label: latencyKind === 'stable' ? 'stable' : 'op' };
}

/** The run's node ids and client concurrency, as its run.json records them. */
function runOptions(storeDir) {
  const { nodes, concurrency } = JSON.parse(readFileSync(path.join(storeDir, 'latest', 'run.json'), 'utf8')).options;
  return { nodes, concurrency };
}

/** "valid · msgs-per-op · p50 / max (floor p50 / max)" for one binary's run. */
function cell(m) {
  if (m.error !== undefined) return `error: ${m.error}`;
  const floor = m.floor === undefined ? '' : ` (floor ${ms(m.floor.p50)} / ${ms(m.floor.max)})`;
  return `${m.result.valid} · ${m.result.msgsPerOpServers.toFixed(4)} · ${m.label} ${ms(m.latency.p50)} / ${ms(m.latency.max)}${floor}`;
}

/** Whether two runs played the same cuts, and how far apart in time (ms) their starts and heals were. */
function sameSchedule(a, b) {
  const [x, y] = [partitions(a), partitions(b)];
  if (x.length !== y.length || x.some((span, k) => JSON.stringify(span.grudge) !== JSON.stringify(y[k].grudge))) return 'SCHEDULES DIFFER';
  const drift = Math.max(0, ...x.flatMap((span, k) => [span.startNs - y[k].startNs, span.endNs - y[k].endNs]).filter(Number.isFinite).map((d) => Math.abs(d) / 1e6));
  return `same cuts, times within ${drift.toFixed(0)} ms`;
}

try {
  if (against === undefined) {
    console.log('| line | run | valid | servers msgs-per-op | latency p50 / max (ms) | faults |');
    console.log('|---|---|---|---|---|---|');
  } else {
    console.log(`| line | seed | ours: valid · msgs-per-op · latency p50 / max (ms) | ${path.basename(against)}: the same | partitions (s from the start) |`);
    console.log('|---|---|---|---|---|');
  }
  for (const name of chosen) {
    const runs = runsOverride ?? LINES[name][4];
    for (let run = 1; run <= runs; run++) {
      const seed = firstSeed === undefined ? undefined : firstSeed + run - 1;
      const ours = await measure(name, LINES[name][1], run, seed);
      if (against === undefined) {
        if (ours.error !== undefined) console.log(`| ${name} | ${run} | error | — | — | ${ours.error} |`);
        else console.log(`| ${name} | ${run} | ${ours.result.valid} | ${ours.result.msgsPerOpServers.toFixed(4)} | ${ours.label} ${ms(ours.latency.p50)} / ${ms(ours.latency.max)} | ${faults(ours.result.results)} |`);
        continue;
      }
      const theirs = await measure(name, against, run, seed);
      const schedule = ours.history === undefined ? '—' : describeSchedule(ours.history);
      const same = ours.history === undefined || theirs.history === undefined ? 'not compared' : sameSchedule(ours.history, theirs.history);
      console.log(`| ${name} | ${seed} | ${cell(ours)} | ${cell(theirs)} | ${schedule} (${same}) |`);
    }
  }
} finally {
  console.log(`\n${commands.join('\n')}`);
  if (keep) console.log(`\nresults kept in ${storeRoot}`);
  else rmSync(storeRoot, { recursive: true, force: true });
}
process.exitCode = failures === 0 ? 0 : 1;

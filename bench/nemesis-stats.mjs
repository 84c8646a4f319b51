// Issue 24.2: do our partitions cost a node that never retries what Maelstrom's would? Two sources
// of the same figures on the 3c line (-w broadcast --node-count 5 --time-limit 20 --rate 10
// --nemesis partition), per run: lost values, seconds partitioned during load, nemesis operations.
//
//   model  what Maelstrom's source implies (docs/nemesis.md §2), computed here without the harness:
//          Jepsen's stagger and flip-flop cut by time-limit, uniform shapes, messages delivered at
//          once (latency 0) and dropped by a receiver that holds a grudge, a node that forwards a
//          value once along the grid, final reads on every node in a random order, set-full's rule
//          for lost (the last read to begin lacks the value).
//   sim    bin/glomers --sim runs of test/fixtures/workload/broadcast-grid-once.ts, read back from
//          each seed's history.jsonl and results.json.
//
//   real   the same runs as processes (bin/glomers without --sim, --final-wait 1: a node that never
//          retries recovers nothing in the wait), two at a time.
//
// Usage: node --import tsx bench/nemesis-stats.mjs [runs=200] [first-seed=1] [sim|real]
// Needs bin/glomers (node build.mjs). Prints a table of both and the difference of means in
// standard errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixture } from './build-fixture.mjs';
import { createRng, shuffled } from '../src/harness/util/rng.ts';
import { gridTopology } from '../src/lib/topology.ts';
import { PARTITION_SHAPES, partitionGrudge } from '../src/harness/run/nemesis.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 200);
const firstSeed = Number(process.argv[3] ?? 1);
const NODES = ['n0', 'n1', 'n2', 'n3', 'n4'];
const LIMIT_S = 20;
const RATE = 10;
const INTERVAL_S = 10;
const mode = process.argv[4] ?? 'sim';

// ---------------------------------------------------------------------------------------------
// The model

/** Nodes a value broadcast at origin reaches when every hop is delivered at once under grudge. */
function reach(origin, topology, grudge) {
  const seen = new Set([origin]);
  const frontier = [origin];
  while (frontier.length > 0) {
    const from = frontier.pop();
    for (const to of topology[from] ?? []) {
      if (seen.has(to) || (grudge[to] ?? []).includes(from)) continue;
      seen.add(to);
      frontier.push(to);
    }
  }
  return seen;
}

/** Nemesis operations of one run: start at 0, gaps uniform in [0, 2·interval), cut at the limit. */
function modelSchedule(rng) {
  const ops = [];
  let starting = true;
  for (let t = 0; t < LIMIT_S; t += rng.next() * 2 * INTERVAL_S) {
    ops.push({ t, start: starting, shape: starting ? PARTITION_SHAPES[rng.int(PARTITION_SHAPES.length)] : null });
    starting = !starting;
  }
  return ops;
}

function modelRun(seed) {
  const rng = createRng(seed);
  const topology = gridTopology(NODES);
  const schedule = modelSchedule(rng);
  const clientTimes = [];
  for (let t = 0; t < LIMIT_S; t += rng.next() * 2 / RATE) clientTimes.push(t);
  const endS = Math.max(clientTimes.at(-1), schedule.at(-1).t);
  const held = new Map(NODES.map((node) => [node, new Set()]));
  let grudge = {};
  let nextValue = 0;
  let k = 0;
  for (const t of clientTimes) {
    for (; k < schedule.length && schedule[k].t <= t; k++) {
      grudge = schedule[k].start ? partitionGrudge(schedule[k].shape, NODES, rng) : {};
    }
    if (rng.int(2) === 1) continue; // a read: it changes nothing the final reads see
    const value = nextValue++;
    for (const node of reach(NODES[rng.int(NODES.length)], topology, grudge)) held.get(node).add(value);
  }
  const lastReader = shuffled(NODES, rng).at(-1);
  const lost = nextValue - held.get(lastReader).size;
  return { lost, partitionedS: partitionedSeconds(schedule.map((op) => ({ t: op.t, start: op.start })), endS), ops: schedule.length, shapes: schedule.filter((op) => op.start).map((op) => op.shape) };
}

/** Seconds between each start and the next stop (or endS). */
function partitionedSeconds(ops, endS) {
  let total = 0;
  let since = null;
  for (const op of ops) {
    if (op.start && since === null) since = op.t;
    else if (!op.start && since !== null) {
      total += Math.min(op.t, endS) - since;
      since = null;
    }
  }
  return since === null ? total : total + (endS - since);
}

// ---------------------------------------------------------------------------------------------
// Our harness under --sim

const LINE = ['-w', 'broadcast', '--node-count', '5', '--time-limit', String(LIMIT_S), '--rate', String(RATE), '--nemesis', 'partition'];

/** Per-seed folders of a sweep; seeds that passed keep none, so they are run again one by one. */
function simDirs(bin, store) {
  const sweep = spawnSync(path.join(root, 'bin/glomers'), ['test', '--sim', '--bin', bin, ...LINE, '--seeds', String(runs), '--seed', String(firstSeed), '--store', store], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (sweep.status !== 0 && sweep.status !== 1) throw new Error(`sweep failed (${sweep.status}): ${sweep.stderr}`);
  const sweepDir = path.join(store, 'broadcast', readdirSync(path.join(store, 'broadcast')).find((name) => name.startsWith('sweep-')));
  const dirs = [];
  for (let seed = firstSeed; seed < firstSeed + runs; seed++) {
    const dir = path.join(sweepDir, `seed-${seed}`);
    if (existsSync(dir)) dirs.push(dir);
    else {
      const single = path.join(store, `single-${seed}`);
      spawnSync(path.join(root, 'bin/glomers'), ['test', '--sim', '--bin', bin, ...LINE, '--seed', String(seed), '--store', single], { encoding: 'utf8' });
      dirs.push(path.join(single, 'broadcast', 'latest'));
    }
  }
  return dirs;
}

/** Each seed as processes, two at a time (the figures are per seed, so order does not matter). */
async function realDirs(bin, store) {
  const { spawn } = await import('node:child_process');
  const one = (seed) =>
    new Promise((resolve) => {
      const dir = path.join(store, `real-${seed}`);
      const child = spawn(path.join(root, 'bin/glomers'), ['test', '--bin', bin, ...LINE, '--final-wait', '1', '--seed', String(seed), '--store', dir], { stdio: 'ignore' });
      child.on('exit', () => resolve(path.join(dir, 'broadcast', 'latest')));
    });
  const dirs = [];
  for (let seed = firstSeed; seed < firstSeed + runs; seed += 2) {
    dirs.push(...(await Promise.all([one(seed), ...(seed + 1 < firstSeed + runs ? [one(seed + 1)] : [])])));
  }
  return dirs;
}

function simRun(dir) {
  const history = readFileSync(path.join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
  // Nemesis invocations are the first of each pair; the final phase's stop comes after every load op.
  const invocations = history.filter((op, i) => op.process === 'nemesis' && history.slice(0, i).filter((o) => o.process === 'nemesis').length % 2 === 0);
  const lastLoad = history.filter((op) => op.process !== 'nemesis' && op.type === 'invoke' && op['final?'] !== true).at(-1);
  const endS = lastLoad.time / 1e9;
  const load = invocations.filter((op) => op.time / 1e9 <= endS && !(op.f === 'stop-partition' && op === invocations.at(-1)));
  const ops = load.map((op) => ({ t: op.time / 1e9, start: op.f === 'start-partition' }));
  return { lost: results.workload['lost-count'], partitionedS: partitionedSeconds(ops, endS), ops: ops.length, shapes: load.filter((op) => op.f === 'start-partition').map((op) => op.value), firstS: ops[0]?.t ?? null };
}

// ---------------------------------------------------------------------------------------------

function stats(values) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(n - 1, Math.floor(p * n))];
  return { n, mean, se: sd / Math.sqrt(n), sd, p10: q(0.1), p50: q(0.5), p90: q(0.9) };
}

function row(name, model, sim) {
  const m = stats(model);
  const s = stats(sim);
  const z = (s.mean - m.mean) / Math.sqrt(m.se ** 2 + s.se ** 2);
  const f = (x) => x.toFixed(2).padStart(7);
  console.log(`${name.padEnd(16)} model ${f(m.mean)} ±${f(m.se)} [${f(m.p10)} ${f(m.p50)} ${f(m.p90)}]   sim ${f(s.mean)} ±${f(s.se)} [${f(s.p10)} ${f(s.p50)} ${f(s.p90)}]   z ${z.toFixed(2)}`);
}

const modelRuns = Array.from({ length: runs }, (_, k) => modelRun(firstSeed + k));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'glomers-nemesis-stats-'));
try {
  const bin = await buildFixture('broadcast-grid-once', tmp);
  const dirs = mode === 'real' ? await realDirs(bin, path.join(tmp, 'store')) : simDirs(bin, path.join(tmp, 'store'));
  const simRuns = dirs.map(simRun);
  console.log(`${runs} runs each (model seeds and ${mode === 'real' ? 'process' : '--sim'} seeds ${firstSeed}..${firstSeed + runs - 1}, shown as sim); mean ±se [p10 p50 p90]`);
  row('lost values', modelRuns.map((r) => r.lost), simRuns.map((r) => r.lost));
  row('partitioned s', modelRuns.map((r) => r.partitionedS), simRuns.map((r) => r.partitionedS));
  row('nemesis ops', modelRuns.map((r) => r.ops), simRuns.map((r) => r.ops));
  row('lost per part. s', modelRuns.map((r) => r.lost / Math.max(r.partitionedS, 0.5)), simRuns.map((r) => r.lost / Math.max(r.partitionedS, 0.5)));
  const shares = (rs) => PARTITION_SHAPES.map((shape) => `${shape} ${(rs.flatMap((r) => r.shapes).filter((s) => s === shape).length / rs.flatMap((r) => r.shapes).length).toFixed(3)}`).join(', ');
  console.log(`shapes model: ${shares(modelRuns)}`);
  console.log(`shapes sim:   ${shares(simRuns)}`);
  // The four pairs: Maelstrom lost 11..17, ours 39..67.
  const share = (rs, pred) => (rs.filter((r) => pred(r.lost)).length / rs.length).toFixed(3);
  console.log(`share of runs losing <= 17: model ${share(modelRuns, (x) => x <= 17)}, sim ${share(simRuns, (x) => x <= 17)}; >= 39: model ${share(modelRuns, (x) => x >= 39)}, sim ${share(simRuns, (x) => x >= 39)}`);
  console.log(`first nemesis op in sim runs: max ${Math.max(...simRuns.map((r) => r.firstS)).toFixed(3)} s`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

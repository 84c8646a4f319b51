// Issue 22: bin/g-set beside a model of Maelstrom's g-set demo on many seeds under --sim, where both
// nodes meet the same partitions at the same virtual times. A real-process side-by-side
// (bench/counters.mjs g-set --against) decides little per seed: where a heal falls between two of
// a node's rounds is chance. Over many seeds the chance evens out.
//
// usage: node bench/gset-sim.mjs [--seeds N] [--seed S] [-- NODE-ARGS...]
//   runs `bin/glomers test --sim -w g-set --node-count 3 --rate 10 --time-limit 20 --nemesis
//   partition --seed K` for K = S … S+N-1 (default 1 … 30) with bin/g-set (NODE-ARGS after `--`)
//   and with test/fixtures/workload/gset-full-state.ts (the demo's model, bundled here), then
//   prints a row per seed and a summary: valid counts, servers msgs-per-op (median, max, seeds over
//   0.15), stable latency p50 and max (medians over the seeds, and on how many seeds ours is lower).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildFixture } from './build-fixture.mjs';
import { pool, runGlomers } from './broadcast-runs.mjs';
import { describeSchedule, readHistory } from './partition-floor.mjs';

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes === -1 ? argv : argv.slice(0, dashes);
const nodeArgs = dashes === -1 ? [] : argv.slice(dashes + 1);
const valueOf = (flag, fallback) => {
  const index = own.indexOf(flag);
  return index === -1 ? fallback : Number(own[index + 1]);
};
const seedCount = valueOf('--seeds', 30);
const firstSeed = valueOf('--seed', 1);
if (![seedCount, firstSeed].every((n) => Number.isSafeInteger(n) && n >= 0)) {
  console.error('usage: node bench/gset-sim.mjs [--seeds N] [--seed S] [-- NODE-ARGS...]');
  process.exit(2);
}
const LINE = ['--sim', '--node-count', '3', '--rate', '10', '--time-limit', '20', '--nemesis', 'partition'];
const BUDGET = 0.15;

async function runSeed(bin, args, seed, storeRoot) {
  const storeDir = path.join(storeRoot, `${path.basename(bin)}-${seed}`);
  const result = await runGlomers({ workload: 'g-set', bin, harnessArgs: [...LINE, '--seed', String(seed)], nodeArgs: args, storeDir });
  if (result.error !== undefined) return { error: result.error };
  return { valid: result.valid, msgs: result.msgsPerOpServers, p50: result.p50, max: result.max, schedule: describeSchedule(readHistory(storeDir)) };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

const storeRoot = mkdtempSync(path.join(os.tmpdir(), 'bench-gset-sim-'));
try {
  const model = await buildFixture('gset-full-state', storeRoot);
  const seeds = Array.from({ length: seedCount }, (_, k) => firstSeed + k);
  const tasks = seeds.flatMap((seed) => [() => runSeed('g-set', nodeArgs, seed, storeRoot), () => runSeed(model, [], seed, storeRoot)]);
  const results = await pool(tasks, Math.max(1, os.availableParallelism()));
  console.log('| seed | partitions | bin/g-set: valid · msgs-per-op · stable p50 / max (ms) | demo model: the same |');
  console.log('|---|---|---|---|');
  const pairs = seeds.map((seed, k) => ({ seed, ours: results[2 * k], theirs: results[2 * k + 1] }));
  const cell = (r) => (r.error !== undefined ? `error: ${r.error.slice(0, 120)}` : `${r.valid} · ${r.msgs.toFixed(3)} · ${r.p50} / ${r.max}`);
  for (const { seed, ours, theirs } of pairs) console.log(`| ${seed} | ${ours.schedule ?? '—'} | ${cell(ours)} | ${cell(theirs)} |`);
  const ok = pairs.filter(({ ours, theirs }) => ours.error === undefined && theirs.error === undefined);
  const summary = (pick) => {
    const side = ok.map(pick);
    return `valid ${side.filter((r) => r.valid === true).length}/${pairs.length}; msgs-per-op median ${median(side.map((r) => r.msgs)).toFixed(3)}, max ${Math.max(...side.map((r) => r.msgs)).toFixed(3)}, over ${BUDGET} on ${side.filter((r) => r.msgs > BUDGET).length}; stable p50 median ${median(side.map((r) => r.p50))} ms, max median ${median(side.map((r) => r.max))} ms, mean of max ${Math.round(side.reduce((a, r) => a + r.max, 0) / side.length)} ms`;
  };
  console.log(`\nbin/g-set ${nodeArgs.join(' ')}: ${summary((p) => p.ours)}`);
  console.log(`demo model: ${summary((p) => p.theirs)}`);
  const lower = (key) => ok.filter(({ ours, theirs }) => ours[key] < theirs[key]).length;
  const ties = (key) => ok.filter(({ ours, theirs }) => ours[key] === theirs[key]).length;
  console.log(`bin/g-set lower: p50 on ${lower('p50')}/${ok.length} seeds (${ties('p50')} equal), max on ${lower('max')}/${ok.length} (${ties('max')} equal)`);
  if (ok.length < pairs.length) process.exitCode = 1;
} finally {
  rmSync(storeRoot, { recursive: true, force: true });
}

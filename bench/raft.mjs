#!/usr/bin/env node
// bin/raft under bin/glomers on Maelstrom's lin-kv lines (issue 22's targets), runs one after
// another so they do not share the two cores:
//   quiet      the tutorial line without a nemesis: operation latency p50 <= 10 ms, p99 <= 100 ms
//   partition  the tutorial line as `make lin-kv` runs it: valid, servers msgs-per-op <= 2.5
//   latency10  the quiet line at --latency 10 (20 ms round trips): p50 within 3 round trips
//   kill       `make lin-kv-kill`: five nodes, partitions and kills: valid
//   stress     `make lin-kv-stress` (0 runs unless --stress-runs N)
// Per line: runs, how many valid, servers msgs-per-op, latency p50/p99/max of every client
// operation (invoke to completion, from history.jsonl; ok, fail and info alike), Maelstrom's
// ok-fraction (a cas whose `from` does not match, error 22, counts as not ok there), and the
// harness's delivery lateness (p99; large values mean the machine, not the node, was slow).
// "served" counts a key-does-not-exist (20) or precondition-failed (22) answer as served: those are
// correct answers that Maelstrom's ok-fraction counts as failures.
// Results land in store/bench-raft/<line>/; --stored prints the table from the latest --runs runs
// stored there instead of running anything.
// Usage: node bench/raft.mjs [--runs 5] [--time 60] [--only quiet,partition] [--stress-runs 0] [--bin bin/raft]
//        [--stored] [-- node args]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { own, nodeArgs, flag } = benchArgs();
const runs = Number(flag('runs', '5'));
const time = flag('time', '60');
const stressRuns = Number(flag('stress-runs', '0'));
const only = flag('only', undefined)?.split(',');
const bin = flag('bin', 'bin/raft');
const stored = own.includes('--stored');

const tutorial = ['--node-count', '3', '--concurrency', '4n', '--rate', '30', '--time-limit', time];
const lines = [
  { name: 'quiet', args: tutorial, runs },
  { name: 'partition', args: [...tutorial, '--nemesis', 'partition', '--nemesis-interval', '10'], runs },
  { name: 'latency10', args: [...tutorial, '--latency', '10'], runs },
  { name: 'kill', args: ['--node-count', '5', '--concurrency', '4n', '--rate', '30', '--time-limit', time, '--nemesis', 'partition,kill', '--nemesis-interval', '10'], runs },
  { name: 'stress', args: ['--node-count', '3', '--concurrency', '10n', '--rate', '100', '--time-limit', time, '--nemesis', 'partition', '--nemesis-interval', '3'], runs: stressRuns },
].filter((line) => line.runs > 0 && (only === undefined || only.includes(line.name)));

function percentile(sorted, p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * From history.jsonl: the latency (ms) of every client operation, from its invocation to its
 * completion; and, after each partition begins, how long until an operation invoked after it
 * completes ok (the worst of these is a failover: the leader cut off, a new one elected).
 */
function analyze(historyFile) {
  const open = new Map();
  const all = [];
  const partitions = [];
  const recovery = [];
  let completed = 0;
  let served = 0;
  for (const text of readFileSync(historyFile, 'utf8').split('\n')) {
    if (text.length === 0) continue;
    const op = JSON.parse(text);
    if (op.process === 'nemesis') {
      if (op.f === 'start-partition' && typeof op.value === 'object') partitions.push(op.time);
      continue;
    }
    if (typeof op.process !== 'number') continue;
    if (op.type === 'invoke') open.set(op.process, op.time);
    else if (open.has(op.process)) {
      const invoked = open.get(op.process);
      all.push((op.time - invoked) / 1e6);
      open.delete(op.process);
      completed += 1;
      if (op.type === 'ok' || (op.type === 'fail' && ['key-does-not-exist', 'precondition-failed'].includes(op.error?.[0]))) served += 1;
      if (op.type === 'ok') {
        while (partitions.length > 0 && partitions[0] <= invoked) recovery.push((op.time - partitions.shift()) / 1e6);
      }
    }
  }
  return { latencies: all.sort((a, b) => a - b), recovery, served: served / completed };
}

function runOnce(line, index) {
  const store = path.join(root, 'store', 'bench-raft', line.name);
  mkdirSync(store, { recursive: true });
  const args = ['test', '-w', 'lin-kv', '--bin', bin, ...line.args, '--store', store, ...(nodeArgs.length > 0 ? ['--', ...nodeArgs] : [])];
  const ran = spawnSync(path.join(root, 'bin', 'glomers'), args, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 });
  return summarize(line, index, path.join(store, 'latest'), ran);
}

/** The latest `count` runs of a line already in the store, oldest first. */
function storedRuns(line, count) {
  const dir = path.join(root, 'store', 'bench-raft', line.name, 'lin-kv');
  if (!existsSync(dir)) return [];
  const runs = readdirSync(dir).filter((name) => /^\d{8}T/.test(name) && existsSync(path.join(dir, name, 'results.json'))).sort().slice(-count);
  return runs.map((name, index) => summarize(line, index, path.join(dir, name), { status: 'stored', stderr: '' }));
}

function summarize(line, index, dir, ran) {
  try {
    const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    const { latencies: lat, recovery, served } = analyze(path.join(dir, 'history.jsonl'));
    const run = {
      valid: results['valid?'],
      mpo: results.net?.servers?.['msgs-per-op'] ?? NaN,
      ok: results.availability?.['ok-fraction'] ?? results.stats['ok-count'] / results.stats.count,
      served,
      ops: results.stats.count,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      max: lat.at(-1) ?? NaN,
      latenessP99: results.glomers?.lateness?.['p99-ms'] ?? NaN,
      recovery,
    };
    console.error(`  ${line.name} run ${index + 1}: ${JSON.stringify(run)}`);
    return run;
  } catch (error) {
    console.error(`  ${line.name} run ${index + 1}: no results (exit ${ran.status}): ${error.message}\n${ran.stderr.slice(-800)}`);
    return { valid: 'error', mpo: NaN, ok: NaN, served: NaN, ops: 0, p50: NaN, p99: NaN, max: NaN, latenessP99: NaN, recovery: [] };
  }
}

const fmt = (values, digits = 1) => {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '-';
  const median = [...finite].sort((a, b) => a - b)[Math.floor(finite.length / 2)];
  return `${median.toFixed(digits)} (${Math.min(...finite).toFixed(digits)}–${Math.max(...finite).toFixed(digits)})`;
};

const rows = [];
for (const line of lines) {
  console.error(`${line.name}: bin/glomers test -w lin-kv --bin ${bin} ${line.args.join(' ')}${nodeArgs.length > 0 ? ` -- ${nodeArgs.join(' ')}` : ''}`);
  const results = stored ? storedRuns(line, line.runs) : Array.from({ length: line.runs }, (_, k) => runOnce(line, k));
  rows.push({ line, results });
}

console.log('\nbin/raft on lin-kv (median (min–max) over runs; latency of every client operation, ms)\n');
console.log('| line | runs | valid | servers msgs-per-op | latency p50 | p99 | max | ok-fraction | served | first ok after a partition: median, max (count) | lateness p99 |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const { line, results } of rows) {
  const valid = results.filter((r) => r.valid === true).length;
  const pick = (key) => results.map((r) => r[key]);
  const recovery = results.flatMap((r) => r.recovery).sort((a, b) => a - b);
  const recoveryText = recovery.length === 0 ? '-' : `${percentile(recovery, 0.5).toFixed(0)}, ${recovery.at(-1).toFixed(0)} (${recovery.length})`;
  console.log(
    `| ${line.name} | ${results.length} | ${valid} | ${fmt(pick('mpo'), 2)} | ${fmt(pick('p50'))} | ${fmt(pick('p99'))} | ${fmt(pick('max'), 0)} | ${fmt(pick('ok'), 3)} | ${fmt(pick('served'), 3)} | ${recoveryText} | ${fmt(pick('latenessP99'), 2)} |`,
  );
}
console.log('\nCommand lines:');
for (const { line } of rows) console.log(`  ${line.name}: bin/glomers test -w lin-kv --bin ${bin} ${line.args.join(' ')}${nodeArgs.length > 0 ? ` -- ${nodeArgs.join(' ')}` : ''}`);

// The timers targets (docs/workloads/timers.md), repeated: `make timers` and `make timers-faults`
// lines, one run after another, and a table of what each run measured. Usage:
//   node bench/timers.mjs [--clean-runs N] [--fault-runs N]      (defaults 2 and 5)
// Besides the checker's figures, each row has the lateness not owed to the nemesis's outages ("live
// max"): counted from the later of due time and acknowledgement (a client's request to a paused
// node waits), less the time every node was killed or paused before the fire. That column says
// what the node's failover costs, apart from the outages.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runGlomers } from './broadcast-runs.mjs';

const TIMERS = ['--node-count', '3', '--rate', '50', '--time-limit', '30'];
const FAULTS = [...TIMERS, '--nemesis', 'partition,kill,pause', '--nemesis-interval', '5'];

function flag(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

function readHistory(storeDir) {
  return readFileSync(path.join(storeDir, 'latest', 'history.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

/** Spans (ms since the start) during which every node was killed or paused, from the nemesis's completions. */
function allDownSpans(history, nodeCount) {
  const down = new Set();
  const spans = [];
  let since = null;
  const nemesis = history.filter((op) => op.process === 'nemesis');
  for (let k = 1; k < nemesis.length; k += 2) {
    const op = nemesis[k];
    const atMs = nemesis[k - 1].time / 1e6;
    const value = op.value !== null && typeof op.value === 'object' && !Array.isArray(op.value) ? op.value : {};
    for (const [node, what] of Object.entries(value)) {
      if (what === 'killed' || what === 'paused') down.add(node);
      if (what === 'started' || what === 'resumed') down.delete(node);
    }
    if (down.size === nodeCount && since === null) since = atMs;
    if (down.size < nodeCount && since !== null) {
      spans.push([since, nemesis[k].time / 1e6]);
      since = null;
    }
  }
  if (since !== null) spans.push([since, Infinity]);
  return spans;
}

/** When each timer's schedule was acknowledged (ms since the start). */
function acknowledgedAtMs(history) {
  const open = new Map();
  const acked = new Map();
  for (const op of history) {
    if (op.f !== 'schedule') continue;
    if (op.type === 'invoke') open.set(op.process, op.value.timer);
    else if (op.type === 'ok') acked.set(open.get(op.process), op.time / 1e6);
  }
  return acked;
}

/**
 * Worst lateness not owed to the nemesis's outages: counted from the later of the due time and the
 * schedule's acknowledgement (a timer acknowledged after its due time was late before the node knew
 * of it), less the time between that and the fire during which every node was killed or paused.
 */
function liveLatenessMax(results, history) {
  const spans = allDownSpans(history, 3);
  const acked = acknowledgedAtMs(history);
  let worst = 0;
  for (const [dueAtMs, lateMs, timer] of results.glomers?.workload?.['lateness-points'] ?? []) {
    const fromMs = Math.max(dueAtMs, acked.get(timer) ?? 0);
    const firedAtMs = dueAtMs + lateMs;
    const down = spans.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, firedAtMs) - Math.max(a, fromMs)), 0);
    worst = Math.max(worst, firedAtMs - fromMs - down);
  }
  return { worst: Math.round(worst), allDownS: spans.reduce((s, [a, b]) => s + (Math.min(b, 40_000) - a), 0) / 1000 };
}

/** Server messages per client op by purpose, from the network journal (sends; a request and its reply count two). */
function messageBreakdown(storeDir, opCount) {
  const counts = {};
  const pending = new Map();
  const purposeOf = (body) => {
    const key = typeof body.key === 'string' ? body.key : '';
    if (key === 'timers/lease') return 'lease (election)';
    if (key.startsWith('timers/fired/')) return 'fired records';
    if (key.startsWith('timers/bucket/')) return `bucket ${body.type}`;
    if (body.type === 'fire') return 'fire';
    if (body.type === 'timer_added') return 'notes to the leader';
    return body.type;
  };
  for (const line of readFileSync(path.join(storeDir, 'latest', 'net-journal.jsonl'), 'utf8').split('\n')) {
    if (line === '') continue;
    const e = JSON.parse(line);
    if (e.kind !== 'send' || e.src.startsWith('c') || e.dest.startsWith('c')) continue;
    let purpose = purposeOf(e.body);
    if (e.body.in_reply_to !== undefined) purpose = pending.get(`${e.dest}:${e.body.in_reply_to}`) ?? 'other replies';
    else if (e.body.msg_id !== undefined) pending.set(`${e.src}:${e.body.msg_id}`, purpose);
    counts[purpose] = (counts[purpose] ?? 0) + 1;
  }
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([purpose, n]) => `${purpose} ${(n / opCount).toFixed(2)}`)
    .join(', ');
}

async function run(label, harnessArgs, k) {
  const storeDir = path.join(os.tmpdir(), 'glomers-bench-timers', `${label}-${k}`);
  const load = os.loadavg()[0].toFixed(1);
  const started = Date.now();
  const outcome = await runGlomers({ workload: 'timers', bin: 'timers', harnessArgs, storeDir, timeoutMs: 300_000 });
  if (outcome.results === undefined) return { label, k, load, error: outcome.error };
  const w = outcome.results.workload;
  const live = liveLatenessMax(outcome.results, readHistory(storeDir));
  return {
    label,
    k,
    load,
    command: outcome.command,
    valid: outcome.results['valid?'],
    missed: w['missed-count'],
    duplicated: w['duplicated-count'],
    late: w['lateness-ms'] ?? {},
    fault: w['fault-lateness-ms'] ?? {},
    live,
    msgsPerOp: outcome.results.net?.servers?.['msgs-per-op'],
    harnessP99: outcome.results.glomers?.lateness?.['p99-ms'],
    wallS: ((Date.now() - started) / 1000).toFixed(0),
    breakdown: messageBreakdown(storeDir, readHistory(storeDir).filter((op) => op.type === 'invoke' && op.process !== 'nemesis').length),
  };
}

const rows = [];
for (let k = 1; k <= flag('--clean-runs', 2); k++) rows.push(await run('timers', TIMERS, k));
for (let k = 1; k <= flag('--fault-runs', 5); k++) rows.push(await run('timers-faults', FAULTS, k));

const q = (m) => `${m['0.5'] ?? '-'}/${m['0.99'] ?? '-'}/${m['1'] ?? '-'}`;
console.log(`timers bench on ${os.cpus().length} cores; 1-min load average at each run's start in the load column\n`);
console.log('| target | run | valid | missed | dup | lateness ms p50/p99/max | fault-lateness ms p50/p99/max | live max ms (all-down s) | servers msgs/op | harness p99 ms | load |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  if (r.error !== undefined) {
    console.log(`| ${r.label} | ${r.k} | error: ${r.error.slice(0, 80)} |`);
    continue;
  }
  console.log(
    `| ${r.label} | ${r.k} | ${r.valid} | ${r.missed} | ${r.duplicated} | ${q(r.late)} | ${q(r.fault)} | ${r.live.worst} (${r.live.allDownS.toFixed(1)}) | ${Number(r.msgsPerOp).toFixed(1)} | ${r.harnessP99} | ${r.load} |`,
  );
}
console.log('\nserver messages per op by purpose (request and reply both counted):');
for (const r of rows) if (r.breakdown !== undefined) console.log(`  ${r.label} ${r.k}: ${r.breakdown}`);
const commands = [...new Set(rows.filter((r) => r.command).map((r) => r.command.replace(/ --$/, '')))];
console.log(`\ncommands:\n${commands.map((c) => `  ${c}`).join('\n')}`);

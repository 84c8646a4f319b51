// Repeats the Gossip Glomers command lines of challenges 4-6 and the Raft tutorial under
// bin/glomers and prints one Markdown table: runs valid, servers msgs-per-op, availability and
// how long the workload checker took.
//
// usage: node bench/challenges.mjs [NAME...] [--runs N] [--time-limit S]
//   NAME: any of the lines below (default: all); `--time-limit` shortens every line for a quick look.
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, runGlomers } from './broadcast-runs.mjs';

// Disk-mode counters keep their files here, not in the shared temp dir the nodes run in.
const counterDataDir = path.join(os.tmpdir(), `bench-counter-data-${process.pid}`);
const disk = ['--durability', 'disk', '--data-dir', counterDataDir];

const counter = ['--node-count', '3', '--rate', '100', '--time-limit', '20'];
const kafka = ['--node-count', '2', '--concurrency', '2n', '--time-limit', '20', '--rate', '1000'];
const txn = ['--node-count', '2', '--concurrency', '2n', '--time-limit', '20', '--rate', '1000'];
const tutorial = ['--node-count', '3', '--concurrency', '4n', '--rate', '30', '--time-limit', '60', '--nemesis', 'partition', '--nemesis-interval', '10'];

/** name -> workload, bin, harness args, node args */
const LINES = {
  'counter (4)': ['g-counter', 'counter', [...counter, '--nemesis', 'partition'], []],
  'counter --durability disk': ['g-counter', 'counter', [...counter, '--nemesis', 'partition'], disk],
  'counter partition,kill': ['g-counter', 'counter', [...counter, '--nemesis', 'partition,kill'], []],
  'counter disk partition,kill': ['g-counter', 'counter', [...counter, '--nemesis', 'partition,kill'], disk],
  'pn-counter': ['pn-counter', 'counter', [...counter, '--nemesis', 'partition'], []],
  'kafka 5a': ['kafka', 'kafka', ['--node-count', '1', '--concurrency', '2n', '--time-limit', '20', '--rate', '1000'], []],
  'kafka 5c': ['kafka', 'kafka', kafka, []],
  'kafka 5c 5 nodes': ['kafka', 'kafka', ['--node-count', '5', ...kafka.slice(2)], []],
  'kafka 5c kill': ['kafka', 'kafka', [...kafka, '--nemesis', 'kill'], []],
  'kafka 5c kill fsync': ['kafka', 'kafka', [...kafka, '--nemesis', 'kill'], ['--storage', 'fsync']],
  'txn 6a': ['txn-rw-register', 'txn', ['--node-count', '1', '--time-limit', '20', '--rate', '1000', '--concurrency', '2n', '--consistency-models', 'read-uncommitted', '--availability', 'total'], []],
  'txn 6b': ['txn-rw-register', 'txn', [...txn, '--consistency-models', 'read-uncommitted'], []],
  'txn 6b partition': ['txn-rw-register', 'txn', [...txn, '--consistency-models', 'read-uncommitted', '--availability', 'total', '--nemesis', 'partition'], []],
  'txn 6c': ['txn-rw-register', 'txn', [...txn, '--consistency-models', 'read-committed', '--availability', 'total', '--nemesis', 'partition'], []],
  'txn 6c --strict': ['txn-rw-register', 'txn', [...txn, '--consistency-models', 'read-committed', '--availability', 'total', '--nemesis', 'partition', '--strict'], []],
  'lin-kv tutorial': ['lin-kv', 'raft', tutorial, []],
  'lin-kv stress': ['lin-kv', 'raft', ['--node-count', '3', '--concurrency', '10n', '--rate', '100', '--time-limit', '60', '--nemesis', 'partition', '--nemesis-interval', '3'], []],
  'lin-kv 5 nodes kill': ['lin-kv', 'raft', ['--node-count', '5', '--concurrency', '4n', '--rate', '30', '--time-limit', '60', '--nemesis', 'partition,kill', '--nemesis-interval', '10'], []],
};

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(`usage: node bench/challenges.mjs [NAME...] [--runs N] [--time-limit S]\nlines: ${Object.keys(LINES).join(' | ')}`);
  process.exit(0);
}
const runs = Number(flag('--runs') ?? 1);
const timeLimit = flag('--time-limit');
const names = argv.filter((a, i) => !a.startsWith('--') && !['--runs', '--time-limit'].includes(argv[i - 1]));
const chosen = names.length === 0 ? Object.keys(LINES) : names;
const unknown = chosen.filter((name) => LINES[name] === undefined);
if (unknown.length > 0) {
  console.error(`unknown line(s): ${unknown.join(', ')}; lines: ${Object.keys(LINES).join(' | ')}`);
  process.exit(2);
}

const withLimit = (args) => (timeLimit === undefined ? args : args.map((a, i, all) => (all[i - 1] === '--time-limit' ? timeLimit : a)));
const range = (values) => {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '—';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(v < 1 ? 4 : 2));
  return lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
};

mkdirSync(counterDataDir, { recursive: true });
console.log('| line | command | runs valid | servers msgs-per-op | availability | checker s |');
console.log('|---|---|---|---|---|---|');
let failures = 0;
for (const name of chosen) {
  const [workload, bin, harnessArgs, nodeArgs] = LINES[name];
  const rows = [];
  for (let run = 0; run < runs; run++) {
    rows.push(await runGlomers({ workload, bin, harnessArgs: withLimit(harnessArgs), nodeArgs, storeDir: path.join(repoRoot, 'store') }));
  }
  const valid = rows.filter((r) => r.valid === true).length;
  failures += runs - valid;
  const command = `\`${rows[0]?.command ?? ''}\``;
  console.log(
    `| ${name} | ${command} | ${valid}/${runs} | ${range(rows.map((r) => r.msgsPerOpServers))} | ${range(rows.map((r) => r.availability))} | ${range(rows.map((r) => r.checkerMs / 1000))} |`,
  );
  for (const row of rows) if (row.error) console.error(`${name}: ${row.error}`);
}
rmSync(counterDataDir, { recursive: true, force: true });
process.exit(failures === 0 ? 0 : 1);

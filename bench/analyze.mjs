#!/usr/bin/env node
// Wall time and peak memory of `glomers analyze` on Maelstrom-format store folders (history.edn),
// the whole command including Node's start-up, as a user types it. The inputs are made here: a
// real run of bin/glomers per case (its history.jsonl written out as Maelstrom's history.edn), kept
// in the inputs folder so later runs of this script reuse them. The txn-rw-register case has
// G1a anomalies planted (every 10th committed write transaction turned into a failed one, the way a
// node that acknowledges aborts would look), so the checker has thousands of findings to report.
//
// Usage: node bench/analyze.mjs [--runs N] [--inputs DIR] [--glomers FILE] [--only a,b]
// Needs bin/ built (node build.mjs) and /usr/bin/time for peak memory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at === -1 ? fallback : args[at + 1];
};
const RUNS = Number(flag('runs', '5'));
const INPUTS = path.resolve(flag('inputs', '/tmp/glomers-bench-analyze'));
const GLOMERS = path.resolve(flag('glomers', 'bin/glomers'));
const ONLY = flag('only', '')?.split(',').filter((s) => s !== '');

/** name, the test that makes the history, the flags analyze needs, Maelstrom's time where known */
const CASES = [
  {
    name: 'txn-rw-register 20 s rate 1000, G1a planted',
    dir: 'txn-rw-20',
    test: ['-w', 'txn-rw-register', '--bin', 'bin/txn', '--node-count', '2', '--concurrency', '2n', '--time-limit', '20', '--rate', '1000'],
    analyze: ['-w', 'txn-rw-register', '--consistency-models', 'read-committed'],
    plantG1a: true,
    maelstromS: 7,
  },
  {
    name: 'txn-list-append 20 s rate 1000',
    dir: 'txn-append-20',
    test: ['-w', 'txn-list-append', '--bin', 'bin/txn', '--node-count', '2', '--concurrency', '2n', '--time-limit', '20', '--rate', '1000'],
    analyze: ['-w', 'txn-list-append', '--consistency-models', 'read-committed'],
  },
  {
    name: 'lin-kv 3 nodes 20 s (raft)',
    dir: 'lin-kv-20',
    test: ['-w', 'lin-kv', '--bin', 'bin/raft', '--node-count', '3', '--concurrency', '4n', '--time-limit', '20', '--rate', '30'],
    analyze: ['-w', 'lin-kv', '--node-count', '3', '--concurrency', '4n'],
    maelstromS: 3,
  },
  {
    name: 'kafka 20 s rate 1000',
    dir: 'kafka-20',
    test: ['-w', 'kafka', '--bin', 'bin/kafka', '--node-count', '2', '--concurrency', '2n', '--time-limit', '20', '--rate', '1000'],
    analyze: ['-w', 'kafka'],
    maelstromS: 49,
  },
  {
    name: 'txn-rw-register 60 s rate 1000, G1a planted',
    dir: 'txn-rw-60',
    test: ['-w', 'txn-rw-register', '--bin', 'bin/txn', '--node-count', '2', '--concurrency', '2n', '--time-limit', '60', '--rate', '1000'],
    analyze: ['-w', 'txn-rw-register', '--consistency-models', 'read-committed'],
    plantG1a: true,
  },
];

// ---- Maelstrom's history.edn from our history.jsonl --------------------------------------------

const KEYWORD = /^[A-Za-z*+!_?<>=-][A-Za-z0-9*+!_?<>=.\-/]*$/;

function ednValue(value, keywordStrings) {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return keywordStrings && KEYWORD.test(value) ? `:${value}` : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => ednValue(item, false)).join(' ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${ednValue(k, true)} ${ednValue(v, false)}`).join(', ')}}`;
}

/** Micro-ops of a transaction are [:r k v] / [:w k v] / [:append k v] in Maelstrom's EDN. */
function ednOpValue(op) {
  if (op.f === 'txn' && Array.isArray(op.value)) {
    return `[${op.value.map(([f, k, v]) => `[:${f} ${ednValue(k, false)} ${ednValue(v, false)}]`).join(' ')}]`;
  }
  return ednValue(op.value, false);
}

function ednOp(op) {
  const fields = [`:type :${op.type}`, `:f :${op.f}`, `:value ${ednOpValue(op)}`, `:time ${op.time}`];
  fields.push(`:process ${op.process === 'nemesis' ? ':nemesis' : op.process}`, `:index ${op.index}`);
  for (const [key, item] of Object.entries(op)) {
    if (!['type', 'f', 'value', 'time', 'process', 'index'].includes(key)) fields.push(`:${key} ${ednValue(item, key === 'error')}`);
  }
  return `{${fields.join(', ')}}`;
}

/** Every 10th ok transaction that writes becomes :fail, invocation and all: its reads are then G1a. */
function plantG1a(history) {
  const failed = new Set();
  let writers = 0;
  for (const op of history) {
    if (op.type === 'ok' && op.f === 'txn' && op.value.some(([f]) => f === 'w') && ++writers % 10 === 0) failed.add(op.process + ':' + op.index);
  }
  // Completions pair with the invocation of the same process just before them; only the completion changes.
  return history.map((op) => (failed.has(op.process + ':' + op.index) ? { ...op, type: 'fail', error: 'aborted' } : op));
}

function findHistory(store) {
  const stack = [store];
  while (stack.length > 0) {
    const dir = stack.pop();
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (entry === 'history.jsonl') return full;
      if (statSync(full, { throwIfNoEntry: false })?.isDirectory() && entry !== 'latest' && entry !== 'current') stack.push(full);
    }
  }
  throw new Error(`no history.jsonl under ${store}`);
}

function makeInput(testCase) {
  const folder = path.join(INPUTS, testCase.dir);
  const edn = path.join(folder, 'history.edn');
  if (existsSync(edn)) return folder;
  mkdirSync(folder, { recursive: true });
  const store = path.join(INPUTS, `${testCase.dir}.store`);
  process.stderr.write(`making ${testCase.name}: glomers test ${testCase.test.join(' ')}\n`);
  spawnSync(GLOMERS, ['test', ...testCase.test, '--final-wait', '2', '--seed', '7', '--store', store], { stdio: ['ignore', 'ignore', 'inherit'] });
  let history = readFileSync(findHistory(store), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  if (testCase.plantG1a) history = plantG1a(history);
  writeFileSync(edn, history.map(ednOp).join('\n') + '\n');
  rmSync(store, { recursive: true, force: true });
  return folder;
}

// ---- timing -------------------------------------------------------------------------------------

function timeOnce(folder, analyzeArgs) {
  for (const file of ['results.edn', 'results.json', 'report.html']) rmSync(path.join(folder, file), { force: true });
  const started = process.hrtime.bigint();
  const child = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, GLOMERS, 'analyze', folder, ...analyzeArgs], { encoding: 'utf8' });
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const [rssKb, userS, sysS] = child.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wallS, cpuS: userS + sysS, rssMb: rssKb / 1024, exit: child.status, stderr: child.stderr };
}

const rows = [];
for (const testCase of CASES) {
  if (ONLY.length > 0 && !ONLY.includes(testCase.dir)) continue;
  const folder = makeInput(testCase);
  const ops = readFileSync(path.join(folder, 'history.edn'), 'utf8').split('\n').length - 1;
  const mb = statSync(path.join(folder, 'history.edn')).size / 1e6;
  const times = [];
  const cpus = [];
  let last;
  for (let run = 0; run < RUNS; run++) {
    last = timeOnce(folder, testCase.analyze);
    times.push(last.wallS);
    cpus.push(last.cpuS);
  }
  if (last.exit !== 0 && last.exit !== 1) process.stderr.write(last.stderr);
  const resultsFile = path.join(folder, 'results.json');
  const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : { 'valid?': 'no results' };
  rows.push({
    case: testCase.name,
    ops,
    'edn MB': mb.toFixed(1),
    'min s': Math.min(...times).toFixed(2),
    'median s': times.sort((a, b) => a - b)[Math.floor(times.length / 2)].toFixed(2),
    // user + system: what the command cost the machine, less sensitive to other load than wall time
    'min cpu s': Math.min(...cpus).toFixed(2),
    'peak MB': last.rssMb.toFixed(0),
    exit: last.exit,
    'valid?': String(results['valid?']),
    maelstrom: testCase.maelstromS === undefined ? '' : `${testCase.maelstromS} s`,
  });
}
process.stdout.write(`glomers analyze (${GLOMERS}), min of ${RUNS} runs each, whole command (node start-up included); machine load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
console.table(rows);

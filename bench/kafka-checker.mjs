#!/usr/bin/env node
// How fast the kafka checker analyses a history, and how much memory it needs: a synthesized
// valid 60 s run at rate 1000 (about 60,000 operations), the same at 10x, and the kafka
// reference runs of the real Maelstrom. Each case runs in its own child process so its peak
// RSS is its own. cpu s (user + system of the analysis) is the figure to trust on a busy machine;
// it exceeds wall time when the garbage collector works in parallel.
//
//   node --import tsx bench/kafka-checker.mjs            all cases
//   node --import tsx bench/kafka-checker.mjs --sparse   synthesized offsets near 2^53
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

/** xorshift32, so every run synthesizes the same history */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * A valid kafka history shaped like Maelstrom's: `concurrency` processes, one operation per
 * 1/rate s overall, half sends and half polls over 10 active keys (a key is replaced after 16
 * sends), occasional assigns, then a final phase where one process assigns every key from the
 * beginning and polls it all. Offsets grow with random gaps (sparse), from `offsetBase`.
 */
export function synthesize({ timeLimitS, rate, concurrency = 10, offsetBase = 0, seed = 7 }) {
  const random = rng(seed);
  const events = [];
  const logs = new Map(); // key -> [{offset, msg}]
  const nextOffset = new Map();
  let keySerial = 0;
  const active = [];
  const sentCount = new Map();
  const newKey = () => {
    const key = String(keySerial++);
    logs.set(key, []);
    nextOffset.set(key, offsetBase);
    sentCount.set(key, 0);
    return key;
  };
  for (let i = 0; i < 10; i++) active.push(newKey());
  const positions = new Map(); // process -> Map(key -> next log position)
  const busyUntil = new Array(concurrency).fill(0);
  const totalOps = Math.round(timeLimitS * rate);
  const stepNs = 1e9 / rate;
  // Completions are applied in time order, so build a timeline of (invoke, complete) pairs first.
  const pending = [];
  for (let i = 0; i < totalOps; i++) {
    const process = i % concurrency;
    const invokeNs = Math.max(Math.round(i * stepNs), busyUntil[process] + 1);
    const completeNs = invokeNs + 200_000 + Math.round(random() * 3_000_000);
    busyUntil[process] = completeNs;
    const roll = random();
    const f = roll < 1 / 64 ? 'assign' : roll < 0.5 ? 'send' : 'poll';
    pending.push({ process, invokeNs, completeNs, f, keyPick: random() });
  }
  // Apply in completion order (the moment the "server" acts), emit events, then sort by time.
  const byCompletion = [...pending].sort((a, b) => a.completeNs - b.completeNs);
  for (const op of byCompletion) {
    const { process } = op;
    if (!positions.has(process)) positions.set(process, new Map());
    const mine = positions.get(process);
    if (op.f === 'send') {
      const key = active[Math.floor(op.keyPick * active.length)];
      const msg = sentCount.get(key) + 1;
      sentCount.set(key, msg);
      const offset = nextOffset.get(key);
      nextOffset.set(key, offset + 1 + Math.floor(random() * 3));
      logs.get(key).push({ offset, msg });
      events.push({ t: op.invokeNs, op: { process, type: 'invoke', f: 'send', value: [['send', key, msg]] } });
      events.push({ t: op.completeNs, op: { process, type: 'ok', f: 'send', value: [['send', key, [offset, msg]]] } });
      if (msg >= 16) active[active.indexOf(key)] = newKey();
    } else if (op.f === 'assign') {
      const keys = [...active];
      const kept = new Map();
      for (const key of keys) kept.set(key, mine.get(key) ?? 0);
      positions.set(process, kept);
      events.push({ t: op.invokeNs, op: { process, type: 'invoke', f: 'assign', value: keys } });
      events.push({ t: op.completeNs, op: { process, type: 'ok', f: 'assign', value: keys } });
    } else {
      const polled = {};
      for (const [key, position] of mine) {
        const log = logs.get(key);
        const batch = log.slice(position, position + 5);
        if (batch.length === 0) continue;
        polled[key] = batch.map(({ offset, msg }) => [offset, msg]);
        mine.set(key, position + batch.length);
      }
      events.push({ t: op.invokeNs, op: { process, type: 'invoke', f: 'poll', value: [['poll']] } });
      events.push({ t: op.completeNs, op: { process, type: 'ok', f: 'poll', value: [['poll', polled]] } });
    }
  }
  events.sort((a, b) => a.t - b.t);
  // Final phase: process `concurrency` assigns every key from the beginning and polls it all.
  let t = events.length ? events[events.length - 1].t + 1_000_000 : 0;
  const finalProcess = concurrency;
  const allKeys = [...logs.keys()];
  events.push({ t: t++, op: { process: finalProcess, type: 'invoke', f: 'assign', value: allKeys, 'seek-to-beginning?': true } });
  events.push({ t: t++, op: { process: finalProcess, type: 'ok', f: 'assign', value: allKeys, 'seek-to-beginning?': true } });
  const keysPerPoll = 50;
  for (let i = 0; i < allKeys.length; i += keysPerPoll) {
    const polled = {};
    for (const key of allKeys.slice(i, i + keysPerPoll)) polled[key] = logs.get(key).map(({ offset, msg }) => [offset, msg]);
    events.push({ t: (t += 1_000_000), op: { process: finalProcess, type: 'invoke', f: 'poll', value: [['poll']] } });
    events.push({ t: (t += 1_000_000), op: { process: finalProcess, type: 'ok', f: 'poll', value: [['poll', polled]] } });
  }
  return events.map((event, index) => ({ index, time: event.t, ...event.op }));
}

async function runOne(spec) {
  const { checkKafka } = await import('../src/harness/check/checkers/kafka.ts');
  let history;
  if (spec.reference) {
    const { loadReferenceHistory } = await import('../test/support/reference-runs.ts');
    history = loadReferenceHistory(spec.reference);
  } else {
    history = synthesize(spec);
  }
  global.gc?.();
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = checkKafka(history);
  const analysisMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const invocations = history.filter((op) => op.type === 'invoke').length;
  process.stdout.write(
    JSON.stringify({ historyOps: history.length, invocations, analysisMs, cpuMs, rssBeforeMb, peakRssMb, valid: result['valid?'], errorTypes: result['error-types'] }) + '\n',
  );
}

function runChild(label, spec) {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=4096', self, '--one', JSON.stringify(spec)], {
    encoding: 'utf8',
  });
  const line = child.stdout.trim().split('\n').pop();
  if (child.status !== 0 || !line) {
    console.log(`${label.padEnd(34)} failed: ${child.stderr.slice(-400)}`);
    return;
  }
  const r = JSON.parse(line);
  console.log(
    `${label.padEnd(34)} ${String(r.historyOps).padStart(8)} ${String(r.invocations).padStart(8)} ${(r.analysisMs / 1000).toFixed(2).padStart(9)} ${(r.cpuMs / 1000).toFixed(2).padStart(8)} ${r.rssBeforeMb.toFixed(0).padStart(9)} ${r.peakRssMb.toFixed(0).padStart(9)}  ${String(r.valid)} ${JSON.stringify(r.errorTypes)}`,
  );
}

const args = process.argv.slice(2);
const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (!isMain) {
  // imported for synthesize()
} else if (args[0] === '--one') {
  await runOne(JSON.parse(args[1]));
} else {
  const sparse = args.includes('--sparse');
  const offsetBase = sparse ? Number.MAX_SAFE_INTEGER - 10_000_000 : 0;
  console.log(`${'case'.padEnd(34)} ${'ops'.padStart(8)} ${'invokes'.padStart(8)} ${'wall s'.padStart(9)} ${'cpu s'.padStart(8)} ${'rss0 MB'.padStart(9)} ${'peak MB'.padStart(9)}  verdict`);
  runChild(`synthetic 60 s rate 1000${sparse ? ' (2^53)' : ''}`, { timeLimitS: 60, rate: 1000, offsetBase });
  runChild(`synthetic 60 s rate 10000${sparse ? ' (2^53)' : ''}`, { timeLimitS: 60, rate: 10000, offsetBase });
  for (const reference of ['kafka-single', 'kafka-lossy', 'kafka-local-2node', 'kafka-linkv-2node']) {
    runChild(`reference ${reference}`, { reference });
  }
}

#!/usr/bin/env node
// Speed and peak memory of the transaction checker (src/harness/check/checkers/elle) on synthetic
// histories of 10k, 100k and 1M transactions: strict-serializable ones, and ones with a planted
// lost update (which Elle also reports as a G2-item / G-single-item cycle). Each case runs in its
// own child process so that its peak RSS is its own.
// Usage: node --import tsx bench/elle.mjs [sizes=10000,100000,1000000]
//        node --import tsx bench/elle.mjs --one <rw|append> <txns> <clean|planted>
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CONCURRENCY = 10;
const ACTIVE_KEYS = 10;
const WRITES_PER_KEY = 16;

/** xorshift32: a fixed seed, so every run checks the same histories */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * Batches of CONCURRENCY transactions are invoked together, then complete one by one, each
 * applied atomically at its completion: a strict-serializable history. With `planted`, one
 * transaction in the middle reads the state from before the previous completion and writes over
 * it: a lost update.
 */
export function synthesize(kind, txnCount, planted) {
  const random = rng(42);
  const history = [];
  const state = new Map();
  const writes = new Map();
  let nextKey = ACTIVE_KEYS;
  const active = Array.from({ length: ACTIVE_KEYS }, (_, i) => i);
  let time = 0;
  const plantAt = planted ? Math.floor(txnCount / 2) : -1;
  let previous = new Map();
  const push = (op) => history.push({ index: history.length, time: (time += 1000), ...op });
  for (let done = 0; done < txnCount; ) {
    const batch = Math.min(CONCURRENCY, txnCount - done);
    const txns = [];
    for (let p = 0; p < batch; p++) {
      const length = 1 + Math.floor(random() * 4);
      const mops = [];
      for (let m = 0; m < length; m++) {
        const slot = Math.floor(-Math.log(1 - random() * 0.999) * 2) % ACTIVE_KEYS;
        const key = active[slot];
        if (random() < 0.5) {
          mops.push(['r', key, null]);
        } else {
          const n = (writes.get(key) ?? 0) + 1;
          writes.set(key, n);
          mops.push([kind === 'rw' ? 'w' : 'append', key, n]);
          if (n >= WRITES_PER_KEY) active[slot] = nextKey++;
        }
      }
      txns.push({ process: p, mops });
      push({ type: 'invoke', process: p, f: 'txn', value: mops });
    }
    for (const t of txns) {
      // the planted pair: two read-modify-writes of one key, the second seeing the state from
      // before the first (a lost update)
      const planting = done === plantAt - 1 || done === plantAt;
      if (planting) {
        const key = -1; // a key of its own, so that nothing else touches it
        const n = (writes.get(key) ?? 0) + 1;
        writes.set(key, n);
        t.mops = [['r', key, null], [kind === 'rw' ? 'w' : 'append', key, n]];
      }
      const view = done === plantAt ? previous : state;
      if (done === plantAt - 1) previous = new Map(state);
      const value = t.mops.map(([f, k, v]) => {
        if (f === 'r') {
          const current = view.get(k);
          return ['r', k, kind === 'rw' ? (current ?? null) : current === undefined ? null : [...current]];
        }
        if (kind === 'rw') state.set(k, v);
        else state.set(k, [...(state.get(k) ?? []), v]);
        return [f, k, v];
      });
      push({ type: 'ok', process: t.process, f: 'txn', value });
      done++;
    }
  }
  // invocations must carry the planted mops too
  return fixInvocations(history);
}

function fixInvocations(history) {
  const pending = new Map();
  for (const op of history) {
    if (op.type === 'invoke') pending.set(op.process, op);
    else {
      const inv = pending.get(op.process);
      inv.value = op.value.map(([f, k, v]) => [f, k, f === 'r' ? null : v]);
    }
  }
  return history;
}

async function one(kind, txnCount, variant) {
  const { checkRwRegister, checkListAppend } = await import('../src/harness/check/checkers/elle/index.ts');
  const history = synthesize(kind, txnCount, variant === 'planted');
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = (kind === 'rw' ? checkRwRegister : checkListAppend)(history, { consistencyModels: ['strict-serializable'] });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const w = result.workload;
  console.log(
    JSON.stringify({
      kind,
      txns: txnCount,
      variant,
      ms: Math.round(ms),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      txnsPerS: Math.round(txnCount / (ms / 1000)),
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      historyRssMb: Math.round(before / 1048576),
      valid: w['valid?'],
      types: w['anomaly-types'] ?? [],
    }),
  );
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (!isMain) {
  // imported (tests, experiments): nothing to run
} else if (process.argv[2] === '--one') {
  await one(process.argv[3], Number(process.argv[4]), process.argv[5]);
} else {
  const sizes = (process.argv[2] ?? '10000,100000,1000000').split(',').map(Number);
  const self = fileURLToPath(import.meta.url);
  console.log('kind    txns      variant  wall ms  cpu ms  txns/s(wall)  peak RSS MB  valid?  anomaly types');
  for (const kind of ['rw', 'append']) {
    for (const n of sizes) {
      for (const variant of ['clean', 'planted']) {
        const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', self, '--one', kind, String(n), variant], { encoding: 'utf8' });
        const line = r.stdout.trim().split('\n').pop();
        if (r.status !== 0 || !line) {
          console.log(`${kind} ${n} ${variant}: failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
          continue;
        }
        const x = JSON.parse(line);
        console.log(
          `${x.kind.padEnd(7)} ${String(x.txns).padEnd(9)} ${x.variant.padEnd(8)} ${String(x.ms).padStart(7)}  ${String(x.cpuMs).padStart(6)}  ${String(x.txnsPerS).padStart(12)}  ${String(x.maxRssMb).padStart(11)}  ${String(x.valid).padEnd(6)}  ${x.types.join(',')}`,
        );
      }
    }
  }
}

#!/usr/bin/env node
// Speed and memory of the lin-kv linearizability checker (src/harness/check/checkers/linearizable.ts) on
// random compare-and-set register histories, all on ONE key (the worst case: keys are checked
// separately). Histories are linearizable by construction (lin-kv's mix: half the threads read,
// half write or cas values 0..4; by default 2% of writes/cas time out as info); the "invalid" variant turns
// the ok read nearest the middle into a read of a value never written. Each case runs in its own
// child process so its peak RSS is its own.
// Usage: node --import tsx bench/linearizable.mjs [budgetS=10] [sizes=1000,10000,100000] [threads=5,10,20,50] [infoRate=0.02]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--case') {
  const [ops, threads, invalid, budgetS, infoRate] = process.argv.slice(3).map(Number);
  const { checkRegisterKey } = await import('../src/harness/check/checkers/linearizable.ts');
  const { randomRegisterHistory, withImpossibleRead } = await import('../src/harness/check/checkers/linearizable/random-history.ts');
  const base = randomRegisterHistory({ threads, ops, seed: ops + threads, infoRate });
  const history = invalid ? withImpossibleRead(base) : base;
  const infos = history.filter((op) => op.type === 'info').length;
  global.gc?.();
  const rssBeforeMB = process.memoryUsage().rss / 2 ** 20;
  const started = performance.now();
  const result = checkRegisterKey(history, { deadlineMs: Date.now() + budgetS * 1000 });
  const ms = performance.now() - started;
  const peakMB = process.resourceUsage().maxRSS / 1024;
  const cause = result.linearizable?.cause ?? result.error ?? '';
  console.log(JSON.stringify({ verdict: result['valid?'], ms, rssBeforeMB, peakMB, infos, cause }));
  process.exit(0);
}

const budgetS = Number(process.argv[2] ?? 10);
const sizes = (process.argv[3] ?? '1000,10000,100000').split(',').map(Number);
const threadCounts = (process.argv[4] ?? '5,10,20,50').split(',').map(Number);
const infoRate = Number(process.argv[5] ?? 0.02);

console.log(`one key, ${infoRate * 100}% of writes/cas end in info, budget ${budgetS} s per case; times are checking only`);
console.log('ops      threads  history   expected  verdict   time        RSS before→peak   infos');
for (const ops of sizes) {
  for (const threads of threadCounts) {
    for (const invalid of [0, 1]) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', '--expose-gc', self, '--case', String(ops), String(threads), String(invalid), String(budgetS), String(infoRate)],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      const r = JSON.parse(out.trim().split('\n').pop());
      const time = r.ms >= 1000 ? `${(r.ms / 1000).toFixed(2)} s` : `${r.ms.toFixed(1)} ms`;
      console.log(
        [
          String(ops).padEnd(8),
          String(threads).padEnd(8),
          (invalid ? 'invalid' : 'valid').padEnd(9),
          String(!invalid).padEnd(9),
          String(r.verdict).padEnd(9),
          time.padEnd(11),
          `${r.rssBeforeMB.toFixed(0)}→${r.peakMB.toFixed(0)} MB`.padEnd(17),
          String(r.infos),
          r.cause ? ` (${r.cause})` : '',
        ].join(' '),
      );
    }
  }
}

// Repeated 3d/3e runs of bin/broadcast under bin/glomers, checked against the challenge limits
// and the project's targets.
//
// usage: node bench/broadcast.mjs d|e|e-partition|c [--runs N] [--time-limit S] [-- node args...]
//   d            3d command line; limits msgs-per-op < 30, median < 400 ms, max < 600 ms
//   e            the same command line; limits < 20, < 1 s, < 2 s
//   e-partition  3e plus --nemesis partition: must stay valid
//   c            3c (5 nodes, rate 10, partitions): must stay valid
import path from 'node:path';
import { challengeArgs, repoRoot, runBroadcast } from './broadcast-runs.mjs';

const modes = {
  d: { harnessArgs: challengeArgs, limits: { mpo: 30, p50: 400, max: 600 }, targets: { mpo: 12, p50: 210, max: 250 } },
  e: { harnessArgs: challengeArgs, limits: { mpo: 20, p50: 1000, max: 2000 }, targets: { mpo: 1.5, p50: 350, max: 500 } },
  'e-partition': { harnessArgs: [...challengeArgs, '--nemesis', 'partition'] },
  c: { harnessArgs: ['--node-count', '5', '--time-limit', '20', '--rate', '10', '--nemesis', 'partition'] },
};

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split === -1 ? argv : argv.slice(0, split);
const nodeArgs = split === -1 ? [] : argv.slice(split + 1);
const mode = modes[own[0]];
if (mode === undefined || own.includes('--help') || own.includes('-h')) {
  console.log('usage: node bench/broadcast.mjs d|e|e-partition|c [--runs N] [--time-limit S] [-- node args...]');
  process.exit(mode === undefined ? 2 : 0);
}
const runsIndex = own.indexOf('--runs');
const runs = runsIndex === -1 ? 1 : Number(own[runsIndex + 1]);
const limitIndex = own.indexOf('--time-limit');
const harnessArgs =
  limitIndex === -1
    ? mode.harnessArgs
    : mode.harnessArgs.map((a, i, all) => (all[i - 1] === '--time-limit' ? own[limitIndex + 1] : a));

const verdict = (row, bounds) =>
  bounds === undefined
    ? ''
    : row.msgsPerOpServers < bounds.mpo && row.p50 < bounds.p50 && row.max < bounds.max
      ? 'yes'
      : 'NO';
const targetVerdict = (row, bounds) =>
  bounds === undefined
    ? ''
    : row.msgsPerOpServers <= bounds.mpo && row.p50 <= bounds.p50 && row.max <= bounds.max
      ? 'yes'
      : 'no';

let failures = 0;
for (let run = 1; run <= runs; run += 1) {
  const row = await runBroadcast({ harnessArgs, nodeArgs, storeDir: path.join(repoRoot, 'store') });
  if (run === 1) console.log(row.command);
  const passes = row.valid === true && verdict(row, mode.limits) !== 'NO';
  if (!passes) failures += 1;
  console.log(
    `run ${run}: valid=${row.valid} msgs-per-op ${row.msgsPerOpServers?.toFixed(2)} p50 ${row.p50} p95 ${row.p95} p99 ${row.p99} max ${row.max} lost ${row.lostCount}` +
      ` | harness lateness p99 ${row.latenessP99Ms?.toFixed(1)} ms${row.harnessBehind ? ' (BEHIND)' : ''}` +
      (mode.limits ? ` | limits ${verdict(row, mode.limits)} | targets ${targetVerdict(row, mode.targets)}` : '') +
      (row.error ? ` | error ${row.error}` : ''),
  );
}
console.log(`${runs - failures}/${runs} runs passed`);
process.exit(failures === 0 ? 0 : 1);

// `glomers test --sim --seeds N`: the same test over N consecutive seeds on a small pool of
// simulation workers; a line per failing seed with the command that replays it, then a summary.
import path from 'node:path';
import type { TestOptions } from '../types.js';
import { createSweepDir, SimWorker, sweepParallelism, type SimJobResult } from './worker.js';

/** Seeds one worker runs before it is replaced: each run leaves its nodes' module instances behind. */
export const SEEDS_PER_WORKER = 100;

export interface SweepOutcome {
  exitCode: number;
  results: SimJobResult[];
}

/** Shell-quotes one argument if it needs it. */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command that replays one seed: the sweep's own arguments with --seeds N taken out. */
export function replayCommand(testArgs: readonly string[], seed: number): string {
  const kept: string[] = [];
  let afterDashes = false;
  for (let i = 0; i < testArgs.length; i++) {
    const arg = testArgs[i] as string;
    if (!afterDashes && arg === '--') afterDashes = true;
    if (!afterDashes && (arg === '--seeds' || arg === '--seed')) {
      i++;
      continue;
    }
    if (!afterDashes && (arg.startsWith('--seeds=') || arg.startsWith('--seed=') || arg === '--sim')) continue;
    kept.push(arg);
  }
  const dashes = kept.indexOf('--');
  const head = dashes === -1 ? kept : kept.slice(0, dashes);
  const tail = dashes === -1 ? [] : kept.slice(dashes);
  return ['bin/glomers', 'test', '--sim', ...head, '--seed', String(seed), ...tail].map(quote).join(' ');
}

function verdictWord(result: SimJobResult): string {
  if (result.error !== undefined) return 'error';
  if (result.exitCode === 255) return 'errored';
  if (result.valid === true) return 'valid';
  if (result.valid === false) return 'invalid';
  return 'unknown';
}

export async function runSweep(
  opts: TestOptions,
  count: number,
  testArgs: readonly string[],
  out: NodeJS.WritableStream = process.stdout,
  stopRequested: () => boolean = () => false,
): Promise<SweepOutcome> {
  const sweepDir = await createSweepDir(opts);
  const started = performance.now();
  out.write(`glomers: --sim sweep of ${count} seed(s) from ${opts.seed}, ${sweepParallelism(count)} worker(s); failing seeds keep their results in ${sweepDir}\n`);
  const results: SimJobResult[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    let worker: SimWorker | null = null;
    let used = 0;
    try {
      while (next < count && !stopRequested()) {
        const seed = opts.seed + next++;
        if (worker === null || used >= SEEDS_PER_WORKER) {
          await worker?.close();
          worker = new SimWorker();
          used = 0;
        }
        used++;
        const result = await worker.run({ opts: { ...opts, seed }, sweepDir: path.join(sweepDir, `seed-${seed}`) });
        // A worker killed by the Ctrl-C that stops the sweep did not fail its seed.
        if (stopRequested()) break;
        results.push(result);
        if (result.exitCode !== 0) {
          out.write(`seed ${seed}: ${verdictWord(result)} (exit ${result.exitCode})${result.error === undefined ? '' : `: ${result.error.split('\n')[0]}`}\n  replay: ${replayCommand(testArgs, seed)}\n`);
        }
      }
    } finally {
      await worker?.close();
    }
  };
  await Promise.all(Array.from({ length: sweepParallelism(count) }, lane));
  results.sort((a, b) => a.seed - b.seed);
  if (stopRequested()) out.write(`glomers: sweep interrupted after ${results.length} of ${count} seed(s)\n`);
  out.write(formatSweepSummary(results, performance.now() - started));
  const words = results.map(verdictWord);
  const exitCode = words.some((w) => w === 'error' || w === 'errored')
    ? 255
    : words.includes('invalid')
      ? 1
      : words.includes('unknown')
        ? 2
        : 0;
  return { exitCode, results };
}

function worst(values: Array<number | null>): string {
  const numbers = values.filter((v): v is number => v !== null);
  return numbers.length === 0 ? '-' : String(Math.round(Math.max(...numbers) * 100) / 100);
}

export function formatSweepSummary(results: readonly SimJobResult[], wallMs: number): string {
  const count = (word: string): number => results.filter((r) => verdictWord(r) === word).length;
  const rows: Array<[string, string]> = [
    ['seeds', String(results.length)],
    ['valid', String(count('valid'))],
    ['invalid', String(count('invalid'))],
    ['unknown', String(count('unknown'))],
    ['errored', String(count('errored') + count('error'))],
    ['worst msgs-per-op (servers)', worst(results.map((r) => r.msgsPerOp))],
    ['worst stable latency median ms', worst(results.map((r) => r.latencyMedianMs))],
    ['worst stable latency max ms', worst(results.map((r) => r.latencyMaxMs))],
    ['wall time s', (wallMs / 1000).toFixed(1)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return `\n${rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n')}\n`;
}

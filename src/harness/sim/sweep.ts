// `glomers test --sim --seeds N`: the same test over N consecutive seeds on a small pool of
// simulation workers; a line per failing seed with the command that replays it, then a summary,
// also written as summary.json into the sweep's folder. `--shard I/N` runs every N-th seed from
// the I-th (0-based, as Kubernetes' JOB_COMPLETION_INDEX), so that machines of any scheduler split
// one sweep; `glomers merge DIR...` combines their summary.json files into the one sweep's summary.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatStoreTimestamp } from '../report/index.js';
import type { TestOptions } from '../types.js';
import { whyNoFolder } from '../util/writable.js';
import { SimWorker, sweepParallelism, type SimJobResult } from './worker.js';
import { maxOf } from '../util/extent.js';

/** Seeds one worker runs before it is replaced: each run leaves its nodes' module instances behind. */
export const SEEDS_PER_WORKER = 100;

/** How often a sweep looks whether it was asked to stop (then it ends its workers at once). */
const STOP_POLL_MS = 200;

/** summary.json's layout version; merge refuses another. */
export const SUMMARY_VERSION = 1;

/** The I-th (0-based) of N interleaved parts of a sweep's seeds. */
export interface Shard {
  index: number;
  count: number;
}

export interface FailingSeed {
  seed: number;
  verdict: string;
  exitCode: number;
  /** the harness's own failure, first line */
  error?: string;
  replay: string;
  /** the seed's kept results folder */
  dir: string | null;
}

/** What a sweep found: summary.json, and what its console summary prints. */
export interface SweepSummary {
  version: number;
  workload: string;
  /** the sweep's `glomers test` arguments without --shard and --store: shards of one sweep share it */
  command: string[];
  firstSeed: number;
  seedCount: number;
  /** the shards this summary covers (one for a shard's own, all merged ones for a merge) */
  shards: Shard[];
  seedsRun: number;
  valid: number;
  invalid: number;
  unknown: number;
  errored: number;
  worstMsgsPerOp: number | null;
  worstLatencyMedianMs: number | null;
  worstLatencyMaxMs: number | null;
  wallMs: number;
  interrupted: boolean;
  exitCode: number;
  /** by seed */
  failing: FailingSeed[];
}

export interface SweepOutcome {
  exitCode: number;
  results: SimJobResult[];
  summary: SweepSummary;
  sweepDir: string;
}

/** Shell-quotes one argument if it needs it. */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** How the user reaches this harness: `npx glomers` from a project's node_modules, else its path. */
export function harnessCommand(script: string = process.argv[1] ?? 'glomers', cwd: string = process.cwd()): string {
  if (script.split(/[\\/]/).includes('node_modules')) return 'npx glomers';
  const relative = path.relative(cwd, script);
  return relative.startsWith('..') || path.isAbsolute(relative) ? script : relative;
}

/** The sweep's arguments without the given flags (each with its value) and switches, up to `--`. */
function withoutFlags(testArgs: readonly string[], valued: readonly string[], switches: readonly string[]): string[] {
  const kept: string[] = [];
  let afterDashes = false;
  for (let i = 0; i < testArgs.length; i++) {
    const arg = testArgs[i] as string;
    if (!afterDashes && arg === '--') afterDashes = true;
    if (!afterDashes && valued.includes(arg)) {
      i++;
      continue;
    }
    if (!afterDashes && (switches.includes(arg) || valued.some((flag) => arg.startsWith(`${flag}=`)))) continue;
    kept.push(arg);
  }
  return kept;
}

/** The command that replays one seed: the sweep's own arguments with --seeds and --shard taken out. */
export function replayCommand(testArgs: readonly string[], seed: number, harness: string = harnessCommand()): string {
  const kept = withoutFlags(testArgs, ['--seeds', '--seed', '--shard'], ['--sim']);
  const dashes = kept.indexOf('--');
  const head = dashes === -1 ? kept : kept.slice(0, dashes);
  const tail = dashes === -1 ? [] : kept.slice(dashes);
  return [harness, ...['test', '--sim', ...head, '--seed', String(seed), ...tail].map(quote)].join(' ');
}

function verdictWord(result: SimJobResult): string {
  if (result.error !== undefined) return 'error';
  if (result.exitCode === 255) return 'errored';
  if (result.valid === true) return 'valid';
  if (result.valid === false) return 'invalid';
  return 'unknown';
}

/** The seeds of a shard, in order: opts.seed + k for every k in [0, count) with k mod N = I. */
export function shardSeeds(firstSeed: number, count: number, shard: Shard): number[] {
  const seeds: number[] = [];
  for (let k = shard.index; k < count; k += shard.count) seeds.push(firstSeed + k);
  return seeds;
}

/** The folder of a sweep (of a shard: its index in the name, so shards sharing a store never meet). */
export async function createSweepDir(opts: TestOptions, shard: Shard): Promise<string> {
  const suffix = shard.count === 1 ? '' : `-shard-${shard.index}-of-${shard.count}`;
  const dir = path.join(path.resolve(opts.storeDir), opts.workload, `sweep-${formatStoreTimestamp(new Date())}${suffix}`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new Error(`--store ${opts.storeDir}: cannot create the sweep's folder there (${await whyNoFolder(opts.storeDir, err)}); pick a writable directory`);
  }
  return dir;
}

function failingLine(failing: FailingSeed): string {
  return `seed ${failing.seed}: ${failing.verdict} (exit ${failing.exitCode})${failing.error === undefined ? '' : `: ${failing.error}`}\n  replay: ${failing.replay}\n`;
}

function failingOf(result: SimJobResult, testArgs: readonly string[]): FailingSeed {
  return {
    seed: result.seed,
    verdict: verdictWord(result),
    exitCode: result.exitCode,
    ...(result.error === undefined ? {} : { error: result.error.split('\n')[0] ?? '' }),
    replay: replayCommand(testArgs, result.seed),
    dir: result.storeDir,
  };
}

export interface SweepRequest {
  opts: TestOptions;
  count: number;
  testArgs: readonly string[];
  shard?: Shard;
  out?: NodeJS.WritableStream;
  stopRequested?: () => boolean;
}

export async function runSweep(request: SweepRequest): Promise<SweepOutcome> {
  const { opts, count, testArgs } = request;
  const shard = request.shard ?? { index: 0, count: 1 };
  const out = request.out ?? process.stdout;
  const stopRequested = request.stopRequested ?? (() => false);
  const seeds = shardSeeds(opts.seed, count, shard);
  const sweepDir = await createSweepDir(opts, shard);
  const started = performance.now();
  const part = shard.count === 1 ? '' : ` (shard ${shard.index}/${shard.count}: ${seeds.length} of them)`;
  out.write(`glomers: --sim sweep of ${count} seed(s) from ${opts.seed}${part}, ${sweepParallelism(seeds.length)} worker(s); failing seeds keep their results in ${sweepDir}\n`);
  const results = await runSeeds(opts, seeds, sweepDir, stopRequested, (result) => {
    if (result.exitCode !== 0) out.write(failingLine(failingOf(result, testArgs)));
  });
  results.sort((a, b) => a.seed - b.seed);
  const interrupted = stopRequested();
  if (interrupted) out.write(`glomers: sweep interrupted after ${results.length} of ${seeds.length} seed(s)\n`);
  const summary = summarize({ opts, count, testArgs, shard, results, wallMs: performance.now() - started, interrupted });
  out.write(formatSweepSummary(summary));
  await writeSummaryFile(sweepDir, summary, out);
  return { exitCode: summary.exitCode, results, summary, sweepDir };
}

/**
 * Runs the seeds on a pool of workers and reports each result as it comes. When a stop is
 * requested, the running seeds' workers are ended at once (a SIGTERM reaches only this process).
 */
async function runSeeds(
  opts: TestOptions,
  seeds: readonly number[],
  sweepDir: string,
  stopRequested: () => boolean,
  onResult: (result: SimJobResult) => void,
): Promise<SimJobResult[]> {
  const results: SimJobResult[] = [];
  const active = new Set<SimWorker>();
  const stopWatch = setInterval(() => {
    if (stopRequested()) for (const worker of active) void worker.close(0);
  }, STOP_POLL_MS);
  let next = 0;
  const lane = async (): Promise<void> => {
    let worker: SimWorker | null = null;
    let used = 0;
    try {
      while (next < seeds.length && !stopRequested()) {
        const seed = seeds[next++] as number;
        if (worker === null || used >= SEEDS_PER_WORKER) {
          if (worker !== null) active.delete(worker);
          await worker?.close();
          worker = new SimWorker();
          active.add(worker);
          used = 0;
        }
        used++;
        const result = await worker.run({ opts: { ...opts, seed }, sweepDir: path.join(sweepDir, `seed-${seed}`) });
        // A worker ended by the stop did not fail its seed.
        if (stopRequested()) break;
        results.push(result);
        onResult(result);
      }
    } finally {
      if (worker !== null) active.delete(worker);
      await worker?.close(stopRequested() ? 0 : undefined);
    }
  };
  try {
    await Promise.all(Array.from({ length: sweepParallelism(seeds.length) }, lane));
  } finally {
    clearInterval(stopWatch);
  }
  return results;
}

function exitCodeOf(counts: { errored: number; invalid: number; unknown: number }): number {
  if (counts.errored > 0) return 255;
  if (counts.invalid > 0) return 1;
  return counts.unknown > 0 ? 2 : 0;
}

function worst(values: ReadonlyArray<number | null>): number | null {
  const numbers = values.filter((v): v is number => v !== null);
  return numbers.length === 0 ? null : Math.round(maxOf(numbers) * 100) / 100;
}

function summarize(sweep: {
  opts: TestOptions;
  count: number;
  testArgs: readonly string[];
  shard: Shard;
  results: readonly SimJobResult[];
  wallMs: number;
  interrupted: boolean;
}): SweepSummary {
  const { results } = sweep;
  const count = (...words: string[]): number => results.filter((r) => words.includes(verdictWord(r))).length;
  const counts = { valid: count('valid'), invalid: count('invalid'), unknown: count('unknown'), errored: count('errored', 'error') };
  return {
    version: SUMMARY_VERSION,
    workload: sweep.opts.workload,
    command: withoutFlags(sweep.testArgs, ['--shard', '--store'], []),
    firstSeed: sweep.opts.seed,
    seedCount: sweep.count,
    shards: [sweep.shard],
    seedsRun: results.length,
    ...counts,
    worstMsgsPerOp: worst(results.map((r) => r.msgsPerOp)),
    worstLatencyMedianMs: worst(results.map((r) => r.latencyMedianMs)),
    worstLatencyMaxMs: worst(results.map((r) => r.latencyMaxMs)),
    wallMs: Math.round(sweep.wallMs),
    interrupted: sweep.interrupted,
    exitCode: exitCodeOf(counts),
    failing: results.filter((r) => r.exitCode !== 0).map((r) => failingOf(r, sweep.testArgs)),
  };
}

async function writeSummaryFile(sweepDir: string, summary: SweepSummary, out: NodeJS.WritableStream): Promise<void> {
  const file = path.join(sweepDir, 'summary.json');
  try {
    await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
  } catch (err) {
    out.write(`glomers: could not write ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

/** The table a sweep ends with; a merge of its shards prints the same one. */
export function formatSweepSummary(summary: SweepSummary): string {
  const shown = (value: number | null): string => (value === null ? '-' : String(value));
  const rows: Array<[string, string]> = [
    ['seeds', String(summary.seedsRun)],
    ['valid', String(summary.valid)],
    ['invalid', String(summary.invalid)],
    ['unknown', String(summary.unknown)],
    ['errored', String(summary.errored)],
    ['worst msgs-per-op (servers)', shown(summary.worstMsgsPerOp)],
    ['worst stable latency median ms', shown(summary.worstLatencyMedianMs)],
    ['worst stable latency max ms', shown(summary.worstLatencyMaxMs)],
    ['wall time s', (summary.wallMs / 1000).toFixed(1)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return `\n${rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n')}\n`;
}

/**
 * One summary of the shards of one sweep, as the sweep run on one machine would give it: counts
 * added, worst figures the worst of any shard, failing seeds in seed order, wall time the longest
 * shard's (they run side by side). A stopped shard's summary gives way to a complete one of the same
 * shard. Throws on summaries of different sweeps or a shard given twice.
 */
export function mergeSummaries(given: readonly SweepSummary[]): { summary: SweepSummary; missingShards: number[] } {
  const first = given[0];
  if (first === undefined) throw new Error('no summaries to merge');
  const sameSweep = (s: SweepSummary): boolean =>
    s.version === SUMMARY_VERSION &&
    s.workload === first.workload &&
    s.firstSeed === first.firstSeed &&
    s.seedCount === first.seedCount &&
    JSON.stringify(s.command) === JSON.stringify(first.command) &&
    s.shards.every((shard) => shard.count === first.shards[0]?.count);
  const stranger = given.find((s) => !sameSweep(s));
  if (stranger !== undefined) {
    throw new Error(`these summaries are not shards of one sweep: ${describeSweep(first)} and ${describeSweep(stranger)}`);
  }
  const summaries = withoutRetriedShards(given);
  const shards = summaries.flatMap((s) => s.shards).sort((a, b) => a.index - b.index);
  const twice = shards.find((shard, k) => k > 0 && shards[k - 1]?.index === shard.index);
  if (twice !== undefined) throw new Error(`shard ${twice.index}/${twice.count} is given more than once`);
  const shardCount = shards[0]?.count ?? 1;
  const missingShards = Array.from({ length: shardCount }, (_, k) => k).filter((k) => !shards.some((shard) => shard.index === k));
  const sum = (pick: (s: SweepSummary) => number): number => summaries.reduce((total, s) => total + pick(s), 0);
  const counts = { valid: sum((s) => s.valid), invalid: sum((s) => s.invalid), unknown: sum((s) => s.unknown), errored: sum((s) => s.errored) };
  const summary: SweepSummary = {
    ...first,
    shards,
    seedsRun: sum((s) => s.seedsRun),
    ...counts,
    worstMsgsPerOp: worst(summaries.map((s) => s.worstMsgsPerOp)),
    worstLatencyMedianMs: worst(summaries.map((s) => s.worstLatencyMedianMs)),
    worstLatencyMaxMs: worst(summaries.map((s) => s.worstLatencyMaxMs)),
    wallMs: Math.max(...summaries.map((s) => s.wallMs)),
    interrupted: summaries.some((s) => s.interrupted),
    exitCode: exitCodeOf(counts),
    failing: summaries.flatMap((s) => s.failing).sort((a, b) => a.seed - b.seed),
  };
  return { summary, missingShards };
}

/**
 * A shard run again after it was stopped (a pod evicted and restarted, a job re-run) leaves an
 * interrupted summary beside the complete one: the complete one counts.
 */
function withoutRetriedShards(summaries: readonly SweepSummary[]): readonly SweepSummary[] {
  const complete = new Set(summaries.filter((s) => !s.interrupted).flatMap((s) => s.shards.map((shard) => shard.index)));
  return summaries.filter((s) => !s.interrupted || !s.shards.some((shard) => complete.has(shard.index)));
}

function describeSweep(s: SweepSummary): string {
  return `${s.workload} seeds ${s.firstSeed}+${s.seedCount} in ${s.shards[0]?.count ?? 1} shard(s) of "${s.command.join(' ')}"`;
}

/** A merge's console output: every failing seed with its replay command, then the table. */
export function formatMerged(summary: SweepSummary, missingShards: readonly number[]): string {
  const shardCount = summary.shards[0]?.count ?? 1;
  const head = `glomers: merged ${summary.shards.length} of ${shardCount} shard(s) of a --sim sweep of ${summary.seedCount} seed(s) from ${summary.firstSeed}\n`;
  const missing =
    missingShards.length === 0 ? '' : `glomers: incomplete: shard(s) ${missingShards.join(', ')} of ${shardCount} missing; their seeds were not checked\n`;
  const stopped = summary.interrupted ? 'glomers: at least one shard was interrupted before its last seed\n' : '';
  return `${head}${summary.failing.map(failingLine).join('')}${missing}${stopped}${formatSweepSummary(summary)}`;
}

/** A merge's exit status: the sweep's, and 2 (unknown) for seeds never checked when nothing worse was found. */
export function mergedExitCode(summary: SweepSummary, missingShards: readonly number[]): number {
  const incomplete = missingShards.length > 0 || summary.interrupted;
  return summary.exitCode === 0 && incomplete ? 2 : summary.exitCode;
}

/** Depth below a merge's DIR at which summary.json files are looked for (a downloaded artifacts tree). */
const MERGE_SEARCH_DEPTH = 4;

/** DIR's summary.json, or every summary.json below DIR (MERGE_SEARCH_DEPTH levels at most). */
export async function findSummaryFiles(dir: string, depth = MERGE_SEARCH_DEPTH): Promise<string[]> {
  const own = path.join(dir, 'summary.json');
  if (await stat(own).then((s) => s.isFile(), () => false)) return [own];
  if (depth === 0) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => findSummaryFiles(path.join(dir, e.name), depth - 1)));
  return found.flat().sort();
}

async function readSummary(file: string): Promise<SweepSummary> {
  const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
  const looksLikeOne = typeof parsed === 'object' && parsed !== null && 'version' in parsed && 'failing' in parsed && 'shards' in parsed;
  if (!looksLikeOne) throw new Error(`${file} is not a sweep's summary.json`);
  if (parsed.version !== SUMMARY_VERSION) throw new Error(`${file} has summary version ${String(parsed.version)}; this glomers reads ${SUMMARY_VERSION}`);
  return parsed as SweepSummary;
}

/** `glomers merge DIR...`: the shards' summaries as one sweep's; the exit status as the sweep's (mergedExitCode). */
export async function mergeCommand(dirs: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (dirs.length === 0) {
    err.write('glomers merge: give the sweep folders (store/<workload>/sweep-*) of the shards to merge\n');
    return 254;
  }
  const files = (await Promise.all(dirs.map((dir) => findSummaryFiles(dir)))).flat();
  if (files.length === 0) {
    err.write(`glomers merge: no summary.json under ${dirs.join(', ')} (a sweep writes one into its folder)\n`);
    return 254;
  }
  try {
    const summaries = await Promise.all(files.map(readSummary));
    const { summary, missingShards } = mergeSummaries(summaries);
    out.write(formatMerged(summary, missingShards));
    return mergedExitCode(summary, missingShards);
  } catch (error) {
    err.write(`glomers merge: ${error instanceof Error ? error.message : String(error)}\n`);
    return 254;
  }
}

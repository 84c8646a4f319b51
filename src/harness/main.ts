// Entry of bin/glomers, our local Maelstrom: `glomers test ...`, `glomers analyze DIR ...`,
// `glomers merge DIR...` (a sharded sweep's summaries) and `glomers node NAME` (our node programs).
// The same bundle is the checking stage's worker thread (check.ts) and the sweeps' worker process.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import packageJson from '../../package.json' with { type: 'json' };
import { EXIT_USAGE, MAIN_HELP, UsageError, parseTestArgs, testHelp, type ShardOption } from './cli/cli.js';
import { analyzeCommand } from './analyze.js';
import { challengeMismatch } from './check/challenge.js';
import { isCheckWorker, runCheckWorker } from './check/check-worker.js';
import { installTeardownHandlers, killAllChildren } from './nodes/process.js';
import { createStoreDir } from './report/index.js';
import { finishRun } from './finish.js';
import { makeRunRecord, writeRunRecord } from './run/record.js';
import { resolveBinary, runTest } from './run/runner.js';
import { isSimWorker, runSimWorker } from './sim/worker.js';
import { runSimHere } from './sim/single.js';
import { mergeCommand, runSweep } from './sim/sweep.js';
import { getWorkload, workloads } from './workloads/index.js';
import type { TestOptions } from './types.js';

/** Maelstrom's workload names, in its order; the ones we implement are those getWorkload knows, followed by our own (sched, timers). */
const MAELSTROM_WORKLOADS = [
  'broadcast',
  'echo',
  'g-counter',
  'g-set',
  'kafka',
  'lin-kv',
  'pn-counter',
  'txn-list-append',
  'txn-rw-register',
  'unique-ids',
];

export function knownWorkloads(): string[] {
  const ours = Object.keys(workloads).filter((name) => !MAELSTROM_WORKLOADS.includes(name)).sort();
  return [...MAELSTROM_WORKLOADS.filter((name) => getWorkload(name) !== undefined), ...ours];
}

interface TestRequest {
  opts: TestOptions;
  sim?: { seeds: number | null; shard?: ShardOption };
}

/** Parses a command's flags, or returns the exit status for help and bad usage. */
function parseOrExit(args: string[]): TestRequest | number {
  try {
    const parsed = parseTestArgs(args, knownWorkloads(), { requireBin: true });
    if (parsed.kind === 'help') {
      process.stdout.write(testHelp());
      return 0;
    }
    const mismatch = parsed.challenge === undefined ? undefined : challengeMismatch(parsed.challenge, parsed.opts);
    if (mismatch !== undefined) throw new UsageError(mismatch);
    return parsed.sim === undefined ? { opts: parsed.opts } : { opts: parsed.opts, sim: parsed.sim };
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`glomers: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

/** The signal that stopped the run (its results are still written), and the exit status it gives. */
let stoppedBy: 'SIGINT' | 'SIGTERM' | null = null;
const SIGNAL_EXIT_STATUS = { SIGINT: 130, SIGTERM: 143 } as const;
const stopRequested = (): boolean => stoppedBy !== null;

/** Bytes of a --bin file read to tell whether the simulation can load it. */
const SIM_PROBE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Why the simulation cannot load this node, or undefined: it loads JavaScript built on the glomers
 * runtime (our bundles carry the runtime's host hook; a user's file imports the package).
 */
async function simRefusal(bin: string, binPath: string): Promise<string | undefined> {
  const bytes = await readFile(binPath);
  const start = bytes.subarray(0, 4).toString('latin1');
  const native = start === '\x7fELF' || start.startsWith('MZ') || ['\xcf\xfa\xed\xfe', '\xce\xfa\xed\xfe', '\xca\xfe\xba\xbe'].includes(start);
  const text = bytes.length > SIM_PROBE_MAX_BYTES || native ? '' : bytes.toString('utf8');
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(text)?.slice(1).join(' ') ?? '';
  const kind = native ? 'a compiled program' : shebang !== '' && !/\bnode\b|\btsx\b|\bbun\b|\bdeno\b/.test(shebang) ? `a script for ${shebang}` : null;
  const onRuntime = text.includes('glomers.node-host') || /(?:from\s*|import\s*\(\s*|require\s*\(\s*)['"]glomers['"]/.test(text);
  if (kind === null && onRuntime) return undefined;
  const what = kind ?? 'JavaScript that does not use the glomers runtime';
  return `--sim runs nodes built on the glomers runtime (import { createNode } from 'glomers') inside the harness; --bin ${bin} is ${what}: run it without --sim`;
}

async function test(args: string[]): Promise<number> {
  const request = parseOrExit(args);
  if (typeof request === 'number') return request;
  const { opts, sim } = request;
  installTeardownHandlers({ onInterrupt: (signal) => (stoppedBy ??= signal) });
  const exitStatus = (code: number): number => (stoppedBy === null ? code : SIGNAL_EXIT_STATUS[stoppedBy]);
  try {
    const seeds = sim?.seeds;
    if (seeds !== undefined) {
      // A bad --bin is a usage error before any worker starts.
      const refusal = await simRefusal(opts.bin, await resolveBinary(opts.bin));
      if (refusal !== undefined) return usageFailure(refusal);
    }
    if (seeds !== undefined && seeds !== null) {
      const swept = await runSweep({ opts, count: seeds, testArgs: args, ...(sim?.shard === undefined ? {} : { shard: sim.shard }), stopRequested });
      return exitStatus(swept.exitCode);
    }
    if (seeds === null) return exitStatus(await runSimHere(opts, stopRequested));
    // run.json goes in as the folder is made, so even a run that never finishes says what it was.
    const createRecordedStoreDir = async (o: TestOptions, startedAt: Date): Promise<string> => {
      const dir = await createStoreDir(o, startedAt);
      await writeRunRecord(dir, await makeRunRecord(args, o, startedAt, await resolveBinary(o.bin)));
      return dir;
    };
    const outcome = await runTest(opts, { getWorkload, createStoreDir: createRecordedStoreDir, finishRun, stopRequested });
    return exitStatus(outcome.exitCode);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message.startsWith('--bin') || message.startsWith('--store')) return usageFailure(message);
    throw err;
  }
}

function usageFailure(message: string): number {
  process.stderr.write(`glomers: ${message}\n`);
  return EXIT_USAGE;
}

/** Our node programs: the bundles beside this one (bin/<name>, build.mjs), but the harness and examples. */
function nodePrograms(binDir: string): string[] {
  const programs = readdirSync(binDir, { withFileTypes: true }).filter((entry) => entry.isFile() && /^[a-z0-9-]+$/.test(entry.name));
  return programs.map((entry) => entry.name).filter((name) => name !== 'glomers' && !name.endsWith('-example')).sort();
}

/** `glomers node NAME [args]`: one of our node programs, this process's stdio being the node's. */
function runNodeProgram(args: string[]): Promise<number> {
  const [name, ...nodeArgs] = args;
  const binDir = path.dirname(fileURLToPath(import.meta.url));
  const programs = nodePrograms(binDir);
  if (name === undefined || !programs.includes(name)) {
    return Promise.resolve(usageFailure(`node takes a program name: ${programs.join(', ')}; e.g. glomers node broadcast --help; as a --bin: node_modules/.bin/glomers-broadcast`));
  }
  const child = spawn(process.execPath, [path.join(binDir, name), ...nodeArgs], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 255 : 128 + signalNumber(signal)))));
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: { [name: string]: number } = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}

/** Runs the CLI and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return 0;
  }
  if (command === '-V' || command === '--version' || command === 'version') {
    process.stdout.write(`glomers ${packageJson.version}\n`);
    return 0;
  }
  try {
    if (command === 'test') return await test(rest);
    if (command === 'analyze') return await analyzeCommand(rest, knownWorkloads());
    if (command === 'merge') return await mergeCommand(rest, process.stdout, process.stderr);
    if (command === 'node') return await runNodeProgram(rest);
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`glomers: internal error: ${message}\n`);
    return 255;
  } finally {
    killAllChildren();
  }
  process.stderr.write(`glomers: unknown command ${JSON.stringify(command)}; commands are test, analyze, merge and node (glomers --help)\n`);
  return EXIT_USAGE;
}

/** A reader that went away (`glomers test ... | head -2`) must not cost the run: output to it is dropped. */
function ignoreClosedOutput(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

const entry = process.argv[1] ?? '';
if (isCheckWorker()) {
  void runCheckWorker();
} else if (isSimWorker()) {
  runSimWorker();
} else if (/(?:^|[\\/])(?:glomers|main\.ts|main\.js)$/.test(entry)) {
  ignoreClosedOutput(process.stdout);
  ignoreClosedOutput(process.stderr);
  main(process.argv.slice(2)).then(
    (code) => {
      // Let stdout/stderr drain before leaving.
      process.exitCode = code;
      setTimeout(() => process.exit(code), 50).unref();
    },
    (err: unknown) => {
      process.stderr.write(`glomers: internal error: ${String(err)}\n`);
      killAllChildren();
      process.exit(255);
    },
  );
}

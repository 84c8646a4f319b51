// Entry of bin/glomers, our local Maelstrom: `glomers test ...` and `glomers analyze DIR ...`.
// The same bundle is the checking stage's worker thread (check.ts).
import { EXIT_USAGE, MAIN_HELP, UsageError, parseTestArgs, testHelp } from './cli/cli.js';
import { analyzeCommand } from './analyze.js';
import { isCheckWorker, runCheckWorker } from './check/check-worker.js';
import { installTeardownHandlers, killAllChildren } from './nodes/process.js';
import { createStoreDir } from './report/index.js';
import { finishRun } from './finish.js';
import { makeRunRecord, writeRunRecord } from './run/record.js';
import { resolveBinary, runTest } from './run/runner.js';
import { isSimWorker, runSimHere, runSimWorker } from './sim/worker.js';
import { runSweep } from './sim/sweep.js';
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

/** Parses a command's flags, or returns the exit status for help and bad usage. */
function parseOrExit(args: string[], requireBin: boolean, sim?: { seeds: number | null }[]): TestOptions | number {
  try {
    const parsed = parseTestArgs(args, knownWorkloads(), { requireBin });
    if (parsed.kind === 'help') {
      process.stdout.write(testHelp());
      return 0;
    }
    if (parsed.sim !== undefined) sim?.push(parsed.sim);
    return parsed.opts;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`glomers: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

let interrupted = false;

async function test(args: string[]): Promise<number> {
  const sim: { seeds: number | null }[] = [];
  const opts = parseOrExit(args, true, sim);
  if (typeof opts === 'number') return opts;
  installTeardownHandlers({ onInterrupt: () => (interrupted = true) });
  try {
    const seeds = sim[0]?.seeds;
    // A bad --bin is a usage error before any worker starts.
    if (seeds !== undefined) await resolveBinary(opts.bin);
    if (seeds !== undefined && seeds !== null) {
      const swept = await runSweep(opts, seeds, args, process.stdout, () => interrupted);
      return interrupted ? 130 : swept.exitCode;
    }
    if (seeds === null) return await runSimHere(opts);
    // run.json goes in as the folder is made, so even a run that never finishes says what it was.
    const createRecordedStoreDir = async (o: TestOptions, startedAt: Date): Promise<string> => {
      const dir = await createStoreDir(o, startedAt);
      await writeRunRecord(dir, await makeRunRecord(args, o, startedAt, await resolveBinary(o.bin)));
      return dir;
    };
    const outcome = await runTest(opts, { getWorkload, createStoreDir: createRecordedStoreDir, finishRun, stopRequested: () => interrupted });
    return interrupted ? 130 : outcome.exitCode;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message.startsWith('--bin') || message.startsWith('--store')) {
      process.stderr.write(`glomers: ${message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

/** Runs the CLI and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command === undefined ? EXIT_USAGE : 0;
  }
  try {
    if (command === 'test') return await test(rest);
    if (command === 'analyze') return await analyzeCommand(rest, knownWorkloads());
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`glomers: internal error: ${message}\n`);
    return 255;
  } finally {
    killAllChildren();
  }
  process.stderr.write(`glomers: unknown command ${JSON.stringify(command)}; commands are "test" and "analyze" (glomers --help)\n`);
  return EXIT_USAGE;
}

const entry = process.argv[1] ?? '';
if (isCheckWorker()) {
  void runCheckWorker();
} else if (isSimWorker()) {
  runSimWorker();
} else if (/(?:^|[\\/])(?:glomers|main\.ts|main\.js)$/.test(entry)) {
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

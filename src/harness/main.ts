// Entry of bin/glomers, our local Maelstrom: `glomers test ...`.
import { EXIT_USAGE, MAIN_HELP, TEST_HELP, UsageError, parseTestArgs } from './cli.js';
import { installTeardownHandlers, killAllChildren } from './process.js';
import { finishRun, createStoreDir } from './report/index.js';
import { runTest } from './runner.js';
import { getWorkload } from './workloads/index.js';

/** Maelstrom's workload names, in its order; the ones we implement are those getWorkload knows. */
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
  return MAELSTROM_WORKLOADS.filter((name) => getWorkload(name) !== undefined);
}

/** Runs the CLI and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command !== 'test') {
    process.stderr.write(`glomers: unknown command ${JSON.stringify(command)}; the only command is "test" (glomers --help)\n`);
    return EXIT_USAGE;
  }
  let parsed;
  try {
    parsed = parseTestArgs(rest, knownWorkloads());
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`glomers: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(TEST_HELP);
    return 0;
  }
  installTeardownHandlers();
  try {
    const outcome = await runTest(parsed.opts, { getWorkload, createStoreDir, finishRun });
    return outcome.exitCode;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (message.startsWith('--bin')) {
      process.stderr.write(`glomers: ${message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`glomers: internal error: ${err instanceof Error ? (err.stack ?? message) : message}\n`);
    return 255;
  } finally {
    killAllChildren();
  }
}

const entry = process.argv[1] ?? '';
if (/(?:^|[\\/])(?:glomers|main\.ts|main\.js)$/.test(entry)) {
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

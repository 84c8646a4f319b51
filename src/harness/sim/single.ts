// `glomers test --sim` (one run): the run goes to a sim worker process (worker.ts), as a sweep's
// seeds do, so that this process stays free to keep its promises whatever the nodes do: a signal
// stops the run, and a run past its wall budget, or a worker that dies (V8's heap limit), is
// ended here, with its results written from what the worker streamed (history.jsonl). The cost is
// the worker's start-up, about 0.15 s (docs/simulation.md).
import path from 'node:path';
import { readStoredHistory, readNetCounts } from '../analyze.js';
import { emptyNetCounts } from '../net/journal.js';
import { createStoreDir } from '../report/index.js';
import { finishRun } from '../finish.js';
import { EXIT_TEST_ERRORED } from '../run/runner.js';
import { getWorkload } from '../workloads/index.js';
import type { Op, RunOutput, TestOptions } from '../types.js';
import { SimWorker } from './worker.js';

/** How often this process looks whether it was asked to stop. */
const STOP_POLL_MS = 200;
/** Real time a stopped run gets to write its own results before its worker is killed. */
export const STOP_GRACE_MS = 10_000;

/** One simulated run on a worker; the exit status as for a real run. */
export async function runSimHere(opts: TestOptions, stopRequested: () => boolean = () => false): Promise<number> {
  const storeDir = await createStoreDir(opts, new Date());
  const worker = new SimWorker();
  const watch = watchForStop(worker, stopRequested);
  // A second Ctrl-C exits this process at once; a worker whose node spins would not see its
  // channel close, so it goes with this process.
  const killOnExit = (): void => worker.kill('glomers exited');
  process.once('exit', killOnExit);
  try {
    const result = await worker.run({ opts, storeDir });
    if (result.error === undefined) return result.exitCode;
    const reason = watch.killedFor() ?? firstLine(result.error);
    process.stderr.write(`glomers --sim: the run's worker ended before its results: ${result.error}\nglomers --sim: writing the results from what it recorded\n`);
    await writeResultsFromStream(opts, storeDir, reason);
    return EXIT_TEST_ERRORED;
  } finally {
    process.removeListener('exit', killOnExit);
    watch.end();
    await worker.close(0);
  }
}

/** Forwards a stop to the worker, and kills it if its run has not ended STOP_GRACE_MS later. */
function watchForStop(worker: SimWorker, stopRequested: () => boolean): { killedFor(): string | undefined; end(): void } {
  let stoppedAtMs: number | null = null;
  let killedFor: string | undefined;
  const timer = setInterval(() => {
    if (!stopRequested()) return;
    if (stoppedAtMs === null) {
      stoppedAtMs = performance.now();
      worker.stop();
    } else if (killedFor === undefined && performance.now() - stoppedAtMs > STOP_GRACE_MS) {
      killedFor = `interrupted; the run did not stop within ${STOP_GRACE_MS / 1000} s (a node's code never returned), so its worker was killed`;
      worker.kill(killedFor);
    }
  }, STOP_POLL_MS);
  return { killedFor: () => killedFor, end: () => clearInterval(timer) };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] as string;
}

/**
 * The results of a run whose worker ended before writing them: the history and network counts it
 * streamed (a torn last line dropped), every node named in one problem with the reason, and the
 * run marked stopped early. Its exit status is EXIT_TEST_ERRORED whatever the checker finds.
 */
export async function writeResultsFromStream(opts: TestOptions, storeDir: string, reason: string): Promise<void> {
  const workload = getWorkload(opts.workload);
  if (workload === undefined) throw new Error(`unknown workload ${opts.workload}`);
  let history: Op[] = [];
  try {
    history = readStoredHistory(storeDir).ops;
  } catch (err) {
    process.stderr.write(`glomers --sim: no history to judge (${err instanceof Error ? err.message : String(err)})\n`);
  }
  const net = await readNetCounts(storeDir);
  const run: RunOutput = {
    opts,
    startedAt: new Date(),
    storeDir: path.resolve(storeDir),
    history,
    historyWritten: true,
    netCounts: net?.counts ?? emptyNetCounts(),
    journalHead: net?.head ?? [],
    lateness: { deliveries: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, behind: false },
    simulated: true,
    problems: [{ node: opts.nodes.join(', '), kind: 'exit', detail: `the simulation ended every node: ${reason}`, exitCode: null, signal: 'SIGKILL', stderrTail: [] }],
    stoppedEarly: reason,
  };
  await finishRun(run, workload);
}

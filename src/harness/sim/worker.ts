// Where simulated tests run. One `--sim` run: in the glomers process itself (it has nothing else to
// do while the run's globals are patched). A sweep (`--seeds N`): on child processes of the harness
// ("sim workers"), one per core, each a realm of its own that can give every run its own working
// directory (process.chdir, which worker threads cannot do; the nodes' default data directories
// are relative). In the bundle, bin/glomers itself is the child's script (main.ts calls
// runSimWorker); from the TypeScript sources, sim-worker-dev.mjs is.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { DEFAULT_CHECK_BUDGET_S, checkWorkload } from '../check/check.js';
import { assembleResults, createStoreDir, exitCodeFor, writeResults } from '../report/index.js';
import { finishRun } from '../finish.js';
import type { Workload } from '../workload.js';
import { getWorkload } from '../workloads/index.js';
import type { RunDeps } from '../run/runner.js';
import type { Json, RunOutput, TestOptions, Validity } from '../types.js';
import { HARD_HEAP_MARGIN_MB, killAfterMs, simBudget } from './budget.js';
import { superviseGroup } from '../nodes/process.js';
import { runSimTest } from './run.js';

/** The argument that makes bin/glomers a sim worker. */
export const SIM_WORKER_FLAG = '--glomers-sim-worker';

/** One simulated test for a worker: a plain run, or one seed of a sweep (quiet, its own folder). */
export interface SimJob {
  opts: TestOptions;
  /** sweep: the folder the seed's run writes into; its files are kept only if the seed fails */
  sweepDir?: string;
  /**
   * a plain run: the store folder the parent made, so that it can write the results from the
   * streamed history if it has to kill the run (single.ts)
   */
  storeDir?: string;
}

/** What the parent may send a worker besides jobs. */
type WorkerCommand = { close: true } | { stop: true };

export interface SimJobResult {
  seed: number;
  exitCode: number;
  valid: boolean | 'unknown' | null;
  msgsPerOp: number | null;
  latencyMedianMs: number | null;
  latencyMaxMs: number | null;
  wallMs: number;
  storeDir: string | null;
  /** the harness failed (not the test) */
  error?: string;
}

export function isSimWorker(): boolean {
  return process.argv[2] === SIM_WORKER_FLAG && typeof process.send === 'function';
}

/** The worker's loop: one job at a time until the harness disconnects. */
export function runSimWorker(): void {
  // A worker dies with its parent: a closed channel (the parent exited, however) ends it. The real
  // exit, taken now: during a run process.exit is the simulated nodes' (globals.ts).
  const exitWorker = process.exit.bind(process);
  process.on('disconnect', () => exitWorker(0));
  const reply = (result: SimJobResult): void => {
    if (process.connected) process.send?.(result, undefined, {}, () => {});
  };
  // A plain run stops early on a signal or the parent's word and writes its results (a sweep's
  // parent ends its workers instead); SIGINT reaches this process too from a terminal's Ctrl-C.
  let stopRequested = false;
  const stop = (): void => {
    stopRequested = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('message', (job: SimJob | WorkerCommand) => {
    if ('close' in job) {
      process.disconnect();
      return;
    }
    if ('stop' in job) {
      stop();
      return;
    }
    runJob(job, () => stopRequested).then(
      reply,
      (error: unknown) =>
        reply({
          seed: job.opts.seed,
          exitCode: 255,
          valid: null,
          msgsPerOp: null,
          latencyMedianMs: null,
          latencyMaxMs: null,
          wallMs: 0,
          storeDir: null,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        } satisfies SimJobResult),
    );
  });
}

const sink = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

async function runJob(job: SimJob, stopRequested: () => boolean = () => false): Promise<SimJobResult> {
  const started = performance.now();
  const { opts, sweepDir, storeDir } = job;
  let figures: Figures = { msgsPerOp: null, latencyMedianMs: null, latencyMaxMs: null };
  const deps: RunDeps =
    sweepDir === undefined
      ? { getWorkload, createStoreDir: storeDir === undefined ? createStoreDir : async () => storeDir, finishRun, stopRequested }
      : {
          getWorkload,
          createStoreDir: async () => {
            await mkdir(path.join(sweepDir, 'node-logs'), { recursive: true });
            return sweepDir;
          },
          finishRun: async (run, workload) => {
            const finished = await finishSweepRun(run, workload);
            figures = finished.figures;
            return finished;
          },
          progressStream: null,
          // A failing seed is replayed for its journal; the others' would only be deleted.
          journalFile: false,
        };
  const outcome = await runSimTest(opts, deps);
  const wallMs = performance.now() - started;
  if (sweepDir === undefined) figures = await readFigures(outcome.storeDir);
  const failed = outcome.exitCode !== 0;
  if (sweepDir !== undefined && !failed) await rm(sweepDir, { recursive: true, force: true });
  return {
    seed: opts.seed,
    exitCode: outcome.exitCode,
    valid: outcome.valid ?? null,
    ...figures,
    wallMs,
    storeDir: sweepDir !== undefined && !failed ? null : outcome.storeDir,
  };
}

type Figures = Pick<SimJobResult, 'msgsPerOp' | 'latencyMedianMs' | 'latencyMaxMs'>;

/**
 * The checking stage of one seed of a sweep: the same checkers and results as finishRun, checked in
 * this thread (the worker is already off the main thread; a checker's own worker would cost more
 * than most checks), and the results files written only when the seed did not pass.
 */
async function finishSweepRun(run: RunOutput, workload: Workload): Promise<{ valid: Validity; exitCode: number; figures: Figures }> {
  const budgetMs = (run.opts.checkBudgetS ?? DEFAULT_CHECK_BUDGET_S) * 1000;
  const { verdict, timing } = await checkWorkload(workload, run.history, run.opts, { budgetMs, inWorker: false, serviceEvents: run.serviceEvents ?? [] });
  const results = assembleResults({ ...run, verdict, timings: [timing] });
  const valid = results['valid?'];
  if (valid !== true) await writeResults({ ...run, verdict, timings: [timing] }, { out: sink() });
  return { valid, exitCode: exitCodeFor(valid), figures: figuresOf(results as unknown as { [key: string]: Json }) };
}

async function readFigures(storeDir: string): Promise<Figures> {
  try {
    return figuresOf(JSON.parse(await readFile(path.join(storeDir, 'results.json'), 'utf8')) as { [key: string]: Json });
  } catch {
    return { msgsPerOp: null, latencyMedianMs: null, latencyMaxMs: null };
  }
}

function figuresOf(results: { [key: string]: Json }): Figures {
  const at = (...keys: string[]): number | null => {
    let value: Json | undefined = results;
    for (const key of keys) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
      value = value[key];
    }
    return typeof value === 'number' ? value : null;
  };
  return {
    msgsPerOp: at('net', 'servers', 'msgs-per-op'),
    latencyMedianMs: at('workload', 'stable-latencies', '0.5'),
    latencyMaxMs: at('workload', 'stable-latencies', '1'),
  };
}

// ---------------------------------------------------------------------------------------------
// The parent's side.

function workerEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return self.endsWith('.ts') ? path.join(path.dirname(self), 'sim-worker-dev.mjs') : self;
}

/** A sim worker process that runs jobs one at a time. */
export class SimWorker {
  private worker!: ChildProcess;
  private waiting: ((result: SimJobResult) => void) | null = null;
  private failure: string | null = null;
  private exited!: Promise<void>;
  private hasExited = false;

  /**
   * heapLimitMb: V8's heap limit for the worker, past which V8 ends it (default: the budget's heap
   * plus HARD_HEAP_MARGIN_MB; the run's own check stops its nodes at the budget itself)
   */
  constructor(private readonly heapLimitMb: number = simBudget({ timeLimitS: 0, finalWaitS: 0 }).heapMb + HARD_HEAP_MARGIN_MB) {
    this.spawn();
  }

  /** Starts the worker process (again, after one that died or was killed: the next job gets a fresh one). */
  private spawn(): void {
    const file = workerEntry();
    if (!existsSync(file)) throw new Error(`--sim: the simulation's worker script ${file} is missing (run \`make build\`)`);
    // Its own process group under the harness's watchdog: a worker spinning in a node's handler
    // reads no disconnect, and must not outlive a harness that was SIGKILLed.
    const worker = fork(file, [SIM_WORKER_FLAG], { stdio: 'inherit', detached: true, execArgv: [`--max-old-space-size=${Math.ceil(this.heapLimitMb)}`] });
    const release = superviseGroup(worker);
    this.worker = worker;
    this.failure = null;
    this.hasExited = false;
    worker.on('message', (result: SimJobResult) => this.settle(result));
    worker.on('error', (err) => {
      this.failure = err instanceof Error ? (err.stack ?? err.message) : String(err);
    });
    this.exited = new Promise<void>((resolve) => worker.on('exit', (code, signal) => {
      // V8 aborts the process when its heap passes the limit (it prints why on stderr).
      const oom = signal === 'SIGABRT' ? ` (V8 aborts so when the heap passes its limit, here ${Math.ceil(this.heapLimitMb)} MB)` : '';
      if (code !== 0) this.failure ??= `the simulation worker exited with ${signal ?? `status ${code}`}${oom}`;
      this.hasExited = true;
      release();
      resolve();
    }));
    void this.exited.then(() => {
      if (this.waiting === null) return;
      const reason = this.failure ?? 'the simulation worker exited';
      this.settle({ seed: -1, exitCode: 255, valid: null, msgsPerOp: null, latencyMedianMs: null, latencyMaxMs: null, wallMs: 0, storeDir: null, error: reason });
    });
  }

  private settle(result: SimJobResult): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(result);
  }

  /**
   * Runs one job. A job still running at killAfterMs (past its wall budget: a node spinning in one
   * handler, which no check inside the worker can interrupt) has its worker killed; it settles with
   * the reason as its error.
   */
  run(job: SimJob): Promise<SimJobResult> {
    if (this.waiting !== null) throw new Error('a simulation worker runs one job at a time');
    if (this.hasExited) this.spawn();
    const budget = simBudget(job.opts);
    const watchdog = setTimeout(() => {
      this.kill(`killed after ${Math.round(killAfterMs(budget) / 1000)} s of real time, past its wall budget of ${Math.round(budget.wallMs / 1000)} s (docs/simulation.md): a node's code never returned (a loop waiting for Date.now() or performance.now() to move, which under --sim they do only between events, or one that never ends)`);
    }, killAfterMs(budget));
    return new Promise<SimJobResult>((resolve) => {
      this.waiting = (result) => {
        clearTimeout(watchdog);
        resolve(result.seed === -1 ? { ...result, seed: job.opts.seed } : result);
      };
      // A worker that died meanwhile settles through its exit; the failed send has nothing to add.
      this.worker.send(job, (error) => {
        if (error !== null) this.failure ??= error.message;
      });
    });
  }

  /** Asks the worker's plain run to stop early and write its results (as a first Ctrl-C does). */
  stop(): void {
    if (this.worker.connected) this.worker.send({ stop: true }, () => {});
  }

  /** Ends the worker at once; a job it runs settles with this reason as its error. */
  kill(reason: string): void {
    this.failure ??= reason;
    this.worker.kill('SIGKILL');
  }

  /** Lets the worker finish writing its output and end; ends it after graceMs otherwise. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.worker.connected) this.worker.send({ close: true }, () => {});
    const timer = setTimeout(() => this.worker.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}


/** Workers for a sweep: one per core, at most one per seed. */
export function sweepParallelism(seeds: number): number {
  return Math.max(1, Math.min(seeds, os.availableParallelism()));
}

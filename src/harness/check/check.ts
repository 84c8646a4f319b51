// The checking stage: the workload's checker runs once over the finished history, in a worker
// thread with a time budget, so a long check (cycle search, linearizability) never runs on the
// thread that delivers messages, and a checker that throws, runs out of memory or out of time
// yields valid? "unknown" with the reason instead of losing the run's results.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckResult, Op, ServiceEvent, TestOptions } from '../types.js';
import type { Workload, WorkloadVerdict } from '../workload.js';
import { DEFAULT_CHECK_BUDGET_S } from '../cli/options.js';

export { DEFAULT_CHECK_BUDGET_S };

/** Heap limit of the checker's worker. */
const WORKER_HEAP_MB = 4096;

export interface CheckTiming {
  checker: string;
  ms: number;
}

export interface CheckOptions {
  budgetMs: number;
  /** where to check: default in a worker for workloads with a slow checker, in this thread otherwise */
  inWorker?: boolean;
  /** how long past the budget a checker may take to say itself that it ran out (default 5 s) */
  graceMs?: number;
  /** what the workload's services recorded (CheckContext.serviceEvents); default none */
  serviceEvents?: readonly ServiceEvent[];
}

const DEFAULT_GRACE_MS = 5_000;

function overBudget(workload: Workload, budgetMs: number): WorkloadVerdict {
  return unknownVerdict(
    `the ${workload.name} checker did not finish within its budget of ${(budgetMs / 1000).toFixed(budgetMs < 1000 ? 3 : 0)} s (raise it with --check-budget)`,
  );
}

function unknownVerdict(error: string): WorkloadVerdict {
  return { workload: { 'valid?': 'unknown', error } };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Runs workload.check in this thread, turning a throw into unknown (Jepsen's check-safe), and an
 * asynchronous checker that outlives its budget into unknown too (a synchronous loop can only be
 * stopped by the worker).
 */
export async function checkInThread(
  workload: Workload,
  history: readonly Op[],
  opts: TestOptions,
  budgetMs: number,
  graceMs = DEFAULT_GRACE_MS,
  serviceEvents: readonly ServiceEvent[] = [],
): Promise<WorkloadVerdict> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<WorkloadVerdict>((resolve) => {
    timer = setTimeout(() => resolve(overBudget(workload, budgetMs)), budgetMs + graceMs);
  });
  try {
    const checking = Promise.resolve().then(() => workload.check(history, { opts, serviceEvents, deadlineMs: Date.now() + budgetMs }));
    return await Promise.race([checking, expired]);
  } catch (err) {
    return unknownVerdict(errorText(err));
  } finally {
    clearTimeout(timer);
  }
}

/** Where the worker's code is: this bundle itself (bin/glomers), or the TypeScript entry under tsx. */
export function workerEntry(): { file: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.ts')) {
    return { file: path.join(path.dirname(self), 'check-worker-dev.mjs'), execArgv: [] };
  }
  return { file: self, execArgv: [] };
}

export interface CheckWorkerData {
  kind: 'glomers-check';
  workload: string;
  opts: TestOptions;
  history: readonly Op[];
  serviceEvents: readonly ServiceEvent[];
  budgetMs: number;
}

async function checkInWorker(
  workload: Workload,
  history: readonly Op[],
  opts: TestOptions,
  budgetMs: number,
  graceMs: number,
  serviceEvents: readonly ServiceEvent[],
): Promise<WorkloadVerdict> {
  const entry = workerEntry();
  if (!existsSync(entry.file)) return checkInThread(workload, history, opts, budgetMs, graceMs, serviceEvents);
  const data: CheckWorkerData = { kind: 'glomers-check', workload: workload.name, opts, history, serviceEvents, budgetMs };
  return new Promise<WorkloadVerdict>((resolve) => {
    let settled = false;
    const settle = (verdict: WorkloadVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(verdict);
    };
    const worker = new Worker(entry.file, {
      workerData: data,
      execArgv: entry.execArgv,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      stdout: false,
      stderr: false,
    });
    // The checker gets the budget as its deadline; the grace period is for it to say so itself.
    const timer = setTimeout(() => settle(overBudget(workload, budgetMs)), budgetMs + graceMs);
    worker.on('message', (verdict: WorkloadVerdict) => settle(verdict));
    worker.on('error', (err) => settle(unknownVerdict(`the ${workload.name} checker failed: ${errorText(err)}`)));
    worker.on('exit', (code) => settle(unknownVerdict(`the ${workload.name} checker's worker exited (status ${code}) without a verdict`)));
  });
}

export async function checkWorkload(
  workload: Workload,
  history: readonly Op[],
  opts: TestOptions,
  options: CheckOptions,
): Promise<{ verdict: WorkloadVerdict; timing: CheckTiming }> {
  const start = performance.now();
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const inWorker = options.inWorker ?? workload.slowChecker === true;
  const serviceEvents = options.serviceEvents ?? [];
  const verdict =
    !inWorker
      ? await checkInThread(workload, history, opts, options.budgetMs, graceMs, serviceEvents)
      : await checkInWorker(workload, history, opts, options.budgetMs, graceMs, serviceEvents);
  return { verdict, timing: { checker: 'workload', ms: performance.now() - start } };
}

/** Runs one cheap checker, timed, turning a throw into unknown. */
export function timedCheck(name: string, timings: CheckTiming[], check: () => CheckResult): CheckResult {
  const start = performance.now();
  try {
    return check();
  } catch (err) {
    return { 'valid?': 'unknown', error: errorText(err) };
  } finally {
    timings.push({ checker: name, ms: performance.now() - start });
  }
}

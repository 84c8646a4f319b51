// The checking stage's worker thread: runs one workload checker and posts its verdict. In the
// bundle, bin/glomers itself is the worker script and main.ts calls runCheckWorker; from the
// TypeScript sources, check-worker-dev.mjs does.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { checkInThread, type CheckWorkerData } from './check.js';
import type { TaskWorkerData } from './parallel.js';
import { getWorkload, parallelTask } from '../workloads/index.js';

export function isCheckWorker(): boolean {
  const kind = (workerData as { kind?: string } | undefined)?.kind;
  return !isMainThread && (kind === 'glomers-check' || kind === 'glomers-task');
}

export async function runCheckWorker(): Promise<void> {
  if ((workerData as { kind: string }).kind === 'glomers-task') {
    const data = workerData as TaskWorkerData;
    const task = parallelTask(data.task);
    if (task === undefined) throw new Error(`unknown task ${data.task}`);
    parentPort?.postMessage(data.inputs.map((input) => task(input as never)));
    return;
  }
  const data = workerData as CheckWorkerData;
  const workload = getWorkload(data.workload);
  const verdict =
    workload === undefined
      ? { workload: { 'valid?': 'unknown' as const, error: `unknown workload ${data.workload}` } }
      : await checkInThread(workload, data.history, data.opts, data.budgetMs, undefined, data.serviceEvents);
  parentPort?.postMessage(verdict);
}

// The checking stage's worker thread: runs one workload checker and posts its verdict. In the
// bundle, bin/glomers itself is the worker script and main.ts calls runCheckWorker; from the
// TypeScript sources, check-worker-dev.mjs does.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { checkInThread, type CheckWorkerData } from './check.js';
import { getWorkload } from './workloads/index.js';

export function isCheckWorker(): boolean {
  return !isMainThread && (workerData as CheckWorkerData | undefined)?.kind === 'glomers-check';
}

export async function runCheckWorker(): Promise<void> {
  const data = workerData as CheckWorkerData;
  const workload = getWorkload(data.workload);
  const verdict =
    workload === undefined
      ? { workload: { 'valid?': 'unknown' as const, error: `unknown workload ${data.workload}` } }
      : await checkInThread(workload, data.history, data.opts, data.budgetMs);
  parentPort?.postMessage(verdict);
}

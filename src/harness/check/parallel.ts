// Pure tasks a checker spreads over worker threads (lin-kv's keys). A worker can only run code it
// can import, so tasks are named; check-worker.ts holds the table of task functions. Inputs are
// dealt to the workers largest first, so one large key does not leave the other cores idle.
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { workerEntry } from './check.js';

export interface TaskWorkerData {
  kind: 'glomers-task';
  task: string;
  inputs: unknown[];
}

/** Fewer items than this are not worth a worker's start-up (a few hundred ms). */
export const MIN_PARALLEL_WORK = 20_000;

/**
 * Runs `run` over every input, in worker threads when there is enough work and more than one
 * core, in this thread otherwise (and for any chunk whose worker fails). Results keep the inputs'
 * order.
 */
export async function runTasks<I, O>(
  task: string,
  inputs: readonly I[],
  run: (input: I) => O,
  size: (input: I) => number,
): Promise<O[]> {
  const threads = Math.min(availableParallelism(), inputs.length);
  const work = inputs.reduce((sum, input) => sum + size(input), 0);
  const entry = workerEntry();
  if (threads < 2 || work < MIN_PARALLEL_WORK || !existsSync(entry.file)) return inputs.map(run);
  const chunks: number[][] = Array.from({ length: threads }, () => []);
  const load = new Array<number>(threads).fill(0);
  const order = inputs.map((_, k) => k).sort((a, b) => size(inputs[b] as I) - size(inputs[a] as I));
  for (const k of order) {
    const lightest = load.indexOf(Math.min(...load));
    chunks[lightest]?.push(k);
    load[lightest] = (load[lightest] ?? 0) + size(inputs[k] as I);
  }
  const results = new Array<O>(inputs.length);
  await Promise.all(
    chunks.map(async (indices) => {
      const chunk = indices.map((k) => inputs[k] as I);
      const outputs = await inWorker<O>(entry, task, chunk).catch(() => chunk.map(run));
      indices.forEach((k, j) => (results[k] = outputs[j] as O));
    }),
  );
  return results;
}

function inWorker<O>(entry: { file: string; execArgv: string[] }, task: string, inputs: unknown[]): Promise<O[]> {
  return new Promise<O[]>((resolve, reject) => {
    const data: TaskWorkerData = { kind: 'glomers-task', task, inputs };
    const worker = new Worker(entry.file, { workerData: data, execArgv: entry.execArgv, stdout: false, stderr: false });
    worker.once('message', (outputs: O[]) => {
      resolve(outputs);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`task worker exited with status ${code}`)));
  });
}

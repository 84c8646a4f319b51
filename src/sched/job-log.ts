// A scheduler's job log in lin-kv (docs/workloads/sched.md, "bin/sched"): accepted jobs in chunks
// written once each (create-only, up to MAX_CHUNKS_IN_FLIGHT at a time), and a low-water mark
// below which every job has finished. A job is scheduled as its chunk is sent and acknowledged
// once the chunk is written; a restarted scheduler reads the log back from the mark.

import { ErrorCode, RPCError, type Json, type KV, type Node } from '../lib/index.js';
import { ABSENT, logChunkKey, logLowKey } from './keys.js';
import { parseJob, type JobSpec } from './job.js';
import { addJob, hold, lowWater, moveChunk, type SchedulerState, type Task } from './scheduler.js';

/** Jobs per log chunk: one lin-kv value stays small. */
const MAX_CHUNK_JOBS = 256;
/**
 * Log chunks written at once: a submit waits for one lin-kv round trip, not for the chunk ahead of
 * it. Recovery reads past this many missing chunks in a row, the gaps writes in flight can leave.
 */
const MAX_CHUNKS_IN_FLIGHT = 4;
/** Chunk-write attempts before the waiting submits are answered with an indefinite error. */
const MAX_CHUNK_ATTEMPTS = 50;
const KV_RETRY_MS = 100;

interface Waiting {
  job: JobSpec;
  settle: (error?: RPCError) => void;
}

export interface JobLog {
  /** jobs waiting for their chunk */
  readonly waitingCount: number;
  /** Resolves once the job is in the log (and scheduled); rejects with an indefinite RPCError. */
  append(job: JobSpec): Promise<void>;
  /** Reads the log back into the state; returns its tasks, held until lin-kv says where they are. */
  recover(): Promise<Task[]>;
  /** Starts writing (after recovery, so a restarted scheduler never writes over its own log). */
  open(): void;
  /** Moves the low-water mark up to the first chunk with an unfinished job, if it moved. */
  writeLow(): void;
}

export function createJobLog(node: Node, kv: KV, state: SchedulerState, onScheduled: (newTasks: number) => void): JobLog {
  const waiting: Waiting[] = [];
  const nonce = `${node.id}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 10)}`;
  /** chunk indices being written now: the low-water mark must not pass them */
  const writing = new Set<number>();
  let opened = false;
  let nextChunk = 0;
  let lowWritten = 0;
  let lowWriting = false;
  const pause = (ms: number): Promise<void> => new Promise((resolve) => node.after(ms, resolve));

  function flush(): void {
    while (opened && writing.size < MAX_CHUNKS_IN_FLIGHT && waiting.length > 0) writeBatch(waiting.splice(0, MAX_CHUNK_JOBS));
  }

  function writeBatch(batch: Waiting[]): void {
    const provisional = nextChunk++;
    // Scheduled while the chunk is written, so a task does not wait a lin-kv round trip for its
    // first slot. Safe: the submit is acknowledged only once the chunk is written, and a chunk that
    // cannot be written is answered with an indefinite error (the tasks may run).
    let newTasks = 0;
    for (const { job } of batch) {
      if (!state.jobs.has(job.id)) newTasks += job.tasks.length;
      addJob(state, job, provisional);
    }
    onScheduled(newTasks);
    const value = { nonce, jobs: batch.map(({ job }) => ({ job: job.id, tasks: job.tasks.map((t) => ({ id: t.id, duration_ms: t.durationMs })) })) };
    void writeChunk(value, 0, provisional).then((chunk) => {
      if (chunk === null) {
        for (const { settle } of batch) settle(new RPCError(ErrorCode.Timeout, 'could not record the job in lin-kv; it may or may not run'));
      } else {
        moveChunk(state, batch.map(({ job }) => job.id), provisional, chunk);
        for (const { settle } of batch) settle();
      }
      flush();
    });
  }

  /** Writes the chunk at the next free index; its index, or null when lin-kv would not take it. */
  async function writeChunk(value: Json, attempt: number, index?: number): Promise<number | null> {
    const n = index ?? nextChunk++;
    writing.add(n);
    try {
      await kv.cas(logChunkKey(node.id, n), ABSENT, value, { createIfNotExists: true });
      return n;
    } catch {
      if (attempt + 1 >= MAX_CHUNK_ATTEMPTS) return null;
      // Taken (a late write of a previous incarnation), or unknown: look before trying again.
      const stored = await kv.readOr(logChunkKey(node.id, n), null).catch(() => undefined);
      if (stored === undefined || stored === null) {
        if (stored === undefined) await pause(KV_RETRY_MS);
        return writeChunk(value, attempt + 1, n);
      }
      const ours = typeof stored === 'object' && !Array.isArray(stored) && JSON.stringify(stored) === JSON.stringify(value);
      return ours ? n : writeChunk(value, attempt + 1);
    } finally {
      writing.delete(n);
    }
  }

  async function retry<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch {
        await pause(KV_RETRY_MS);
      }
    }
  }

  /** The jobs of chunk n into the state, their tasks held; false when the chunk is missing. */
  function restoreChunk(chunk: Json, n: number, restored: Task[]): boolean {
    if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk) || !Array.isArray(chunk.jobs)) return false;
    for (const entry of chunk.jobs) {
      const { job: id, tasks } = entry as { job?: Json; tasks?: Json };
      const job = parseJob(id, tasks);
      if (typeof job === 'string') continue;
      addJob(state, job, n);
      for (const spec of job.tasks) {
        const task = state.tasks.get(spec.id) as Task;
        hold(state, task);
        restored.push(task);
      }
    }
    return true;
  }

  return {
    get waitingCount() {
      return waiting.length;
    },
    append(job) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ job, settle: (error) => (error === undefined ? resolve() : reject(error)) });
        flush();
      });
    },
    async recover() {
      const low = await retry(() => kv.readOr(logLowKey(node.id), 0));
      lowWritten = typeof low === 'number' ? low : 0;
      const restored: Task[] = [];
      let missingInARow = 0;
      let end = lowWritten;
      for (let n = lowWritten; missingInARow < MAX_CHUNKS_IN_FLIGHT; n++) {
        const found = restoreChunk(await retry(() => kv.readOr(logChunkKey(node.id, n), null)), n, restored);
        missingInARow = found ? 0 : missingInARow + 1;
        if (found) end = n + 1;
      }
      nextChunk = end;
      return restored;
    },
    open() {
      opened = true;
      flush();
    },
    writeLow,
  };

  function writeLow(): void {
    const low = Math.min(lowWater(state, nextChunk), ...writing);
    if (lowWriting || low <= lowWritten) return;
    lowWriting = true;
    kv.write(logLowKey(node.id), low).then(
      () => {
        lowWritten = low;
        lowWriting = false;
        writeLow();
      },
      () => {
        lowWriting = false;
      },
    );
  }
}

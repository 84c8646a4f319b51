// The scheduler role wired to the runtime (docs/workloads/sched.md, "bin/sched"): accepts a job
// once it is in this node's job log in lin-kv, probes workers, grants a task to a worker that asks
// (recording the grant in lin-kv first), and follows granted tasks until they are done, granting
// one again only when its holder has promised not to run it or has restarted since.

import { ErrorCode, RPCError, type KV, type Node } from '../lib/index.js';
import type { Json } from '../lib/index.js';
import { ABSENT, claimKey, incarnationKey, logChunkKey, logLowKey } from './keys.js';
import { parseJob, type JobSpec } from './job.js';
import {
  addJob,
  cancellationsDue,
  checksDue,
  createScheduler,
  defaultSchedulerConfig,
  granted,
  hold,
  lowWater,
  markDone,
  noteAsk,
  probesDue,
  requeue,
  takeTask,
  type Claim,
  type SchedulerConfig,
  type SchedulerState,
  type Task,
} from './scheduler.js';
import { boundedSet, remember } from './worker.js';
import { createGuard, GUARD_TICK_MS, mayAnswer, tick as guardTick } from './client-guard.js';

const TICK_MS = 50;
/** Jobs waiting for their log chunk, beyond which submits are refused with 11. */
const MAX_WAITING_JOBS = 10_000;
/** Unfinished tasks this scheduler holds, beyond which submits are refused with 11. */
const MAX_OPEN_TASKS = 200_000;
/** Jobs per log chunk: one lin-kv value stays small. */
const MAX_CHUNK_JOBS = 256;
const MAX_CHECKS_IN_FLIGHT = 64;
const STATUS_TIMEOUT_MS = 1_000;
const KV_RETRY_MS = 100;
/**
 * Log chunks written at once: a submit waits for one lin-kv round trip, not for the chunk ahead of
 * it. Recovery reads past this many missing chunks in a row, the gaps writes in flight can leave.
 */
const MAX_CHUNKS_IN_FLIGHT = 4;
/** Chunk-write attempts before the waiting submits are answered with an indefinite error. */
const MAX_CHUNK_ATTEMPTS = 50;
/** Finished job ids remembered, so a repeated submit of one is acknowledged, not run again. */
const FINISHED_MEMORY = 100_000;

interface Waiting {
  job: JobSpec;
  settle: (error?: RPCError) => void;
}

export interface SchedulerRole {
  state: SchedulerState;
  /** resolves once the job log is read back and submits are being written */
  recovered: Promise<void>;
}

function isClaim(value: Json): value is { w: string; i: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.w === 'string' && typeof value.i === 'string';
}

const sameClaim = (a: Claim | null, b: Json): boolean => a !== null && a !== 'done' && isClaim(b) && a.w === b.w && a.i === b.i;

export function startScheduler(node: Node, kv: KV, workers: ReadonlyArray<{ id: string; slots: number }>, config: SchedulerConfig = defaultSchedulerConfig): SchedulerRole {
  const state = createScheduler();
  const finishedJobs = boundedSet(FINISHED_MEMORY);
  const waiting: Waiting[] = [];
  const nonce = `${node.id}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 10)}`;
  let ready = false;
  /** chunk indices being written now: the low-water mark must not pass them */
  const writing = new Set<number>();
  let nextChunk = 0;
  let lowWritten = 0;
  let lowWriting = false;
  let checksInFlight = 0;

  const probe = (targets: readonly string[]): void => {
    for (const worker of targets) node.send(worker, { type: 'reserve' });
  };

  // ---- accepting jobs: a batch of waiting jobs becomes one log chunk, then submit_ok

  function flush(): void {
    while (ready && writing.size < MAX_CHUNKS_IN_FLIGHT && waiting.length > 0) writeBatch(waiting.splice(0, MAX_CHUNK_JOBS));
  }

  function writeBatch(batch: Waiting[]): void {
    const value = { nonce, jobs: batch.map(({ job }) => ({ job: job.id, tasks: job.tasks.map((t) => ({ id: t.id, duration_ms: t.durationMs })) })) };
    void writeChunk(value, 0).then((chunk) => {
      if (chunk === null) {
        for (const { settle } of batch) settle(new RPCError(ErrorCode.Timeout, 'could not record the job in lin-kv; it may or may not run'));
      } else {
        let newTasks = 0;
        for (const { job } of batch) {
          addJob(state, job, chunk);
          newTasks += job.tasks.length;
        }
        probe(probesDue(state, workers, newTasks, Date.now(), config, Math.random));
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

  const pause = (ms: number): Promise<void> => new Promise((resolve) => node.after(ms, resolve));

  // Replies to clients that may have given up are not sent (client-guard.ts).
  const guard = createGuard(Date.now());
  node.every(GUARD_TICK_MS, () => guardTick(guard, Date.now()));
  const answerable = (receivedAtMs: number): boolean => mayAnswer(guard, receivedAtMs, Date.now());

  node.handle('submit', { job: 'string', tasks: 'array' }, async (msg) => {
    const receivedAtMs = Date.now();
    // Possibly read long after it was sent: neither taken nor answered (the client records info).
    if (!answerable(receivedAtMs)) return undefined;
    const job = parseJob(msg.body.job, msg.body.tasks);
    if (typeof job === 'string') throw new RPCError(ErrorCode.MalformedRequest, job);
    // While a restarted scheduler recovers its log, new jobs wait for it (flush starts after).
    if (state.jobs.has(job.id) || finishedJobs.items.has(job.id)) return { type: 'submit_ok' };
    if (waiting.length >= MAX_WAITING_JOBS || state.tasks.size + job.tasks.length > MAX_OPEN_TASKS) {
      throw new RPCError(ErrorCode.TemporarilyUnavailable, 'this scheduler has too much work queued; try another');
    }
    try {
      await new Promise<void>((resolve, reject) => {
        waiting.push({ job, settle: (error) => (error === undefined ? resolve() : reject(error)) });
        flush();
      });
    } catch (error) {
      if (!answerable(receivedAtMs)) return undefined;
      throw error;
    }
    return answerable(receivedAtMs) ? { type: 'submit_ok' } : undefined;
  });

  // ---- granting: the oldest pending task to whichever worker asks, its claim in lin-kv first

  node.handle('get_task', { inc: 'string' }, async (msg) => {
    noteAsk(state, msg.src, Date.now());
    const inc = msg.body.inc;
    const task = takeTask(state);
    if (task === undefined) {
      for (const worker of cancellationsDue(state)) node.send(worker, { type: 'cancel' });
      return { type: 'grant', task: null, inc };
    }
    const claim = { w: msg.src, i: inc };
    try {
      if (task.claim === null) await kv.cas(claimKey(task.id), ABSENT, claim, { createIfNotExists: true });
      else await kv.cas(claimKey(task.id), task.claim as Json, claim);
    } catch (error) {
      if (error instanceof RPCError && error.definite) void reconcile(task);
      // Unknown whether the claim landed: follow it as granted; the worker, never told, will
      // disown it when asked, and the task is granted again from that claim.
      else granted(state, task, claim, Date.now(), config);
      return { type: 'grant', task: null, inc };
    }
    granted(state, task, claim, Date.now(), config);
    if (state.pending.size === 0) for (const worker of cancellationsDue(state)) node.send(worker, { type: 'cancel' });
    return { type: 'grant', task: task.id, duration_ms: task.durationMs, inc, backlog: state.pending.size > 0 };
  });

  node.handle('task_done', { task: 'string' }, (msg) => {
    done(msg.body.task);
  });

  function done(taskId: string): void {
    const { finishedJob, finishedChunk } = markDone(state, taskId);
    if (finishedJob !== undefined) remember(finishedJobs, finishedJob);
    if (finishedChunk !== undefined) writeLow();
  }

  /** Sets a held task from what lin-kv says its claim is. */
  async function reconcile(task: Task): Promise<void> {
    hold(state, task);
    let value: Json;
    try {
      value = await kv.readOr(claimKey(task.id), null);
    } catch {
      node.after(KV_RETRY_MS, () => void reconcile(task));
      return;
    }
    if (task.status === 'done' || !state.tasks.has(task.id)) return;
    if (value === 'done') done(task.id);
    else if (isClaim(value)) granted(state, task, value, Date.now() - task.durationMs, config);
    else {
      task.claim = null;
      requeue(state, task);
    }
  }

  // ---- following granted tasks: done, still running, or safe to grant again

  async function check(task: Task): Promise<void> {
    const claim = task.claim;
    if (claim === null || claim === 'done') return;
    task.checking = true;
    checksInFlight++;
    try {
      const answer = await node.rpc(claim.w, { type: 'task_status', task: task.id }, { timeoutMs: STATUS_TIMEOUT_MS }).catch(() => null);
      if (task.status !== 'granted' || task.claim !== claim) return;
      if (answer?.state === 'done') return done(task.id);
      if (answer?.state === 'running' && answer.inc === claim.i) return later(task);
      if (answer === null) {
        // No answer: partitioned, paused or dead. Only a new incarnation proves the old one dead.
        const current = await kv.readOr(incarnationKey(claim.w), null).catch(() => claim.i);
        if (current === claim.i || task.status !== 'granted') return later(task);
      }
      await regrantFrom(task, claim);
    } finally {
      checksInFlight--;
      task.checking = false;
    }
  }

  function later(task: Task): void {
    task.checkAtMs = Date.now() + config.checkAfterMs;
  }

  /** The holder will never run the task: it is pending again, to be claimed from this claim. */
  async function regrantFrom(task: Task, claim: Claim): Promise<void> {
    hold(state, task);
    const value = await kv.readOr(claimKey(task.id), null).catch(() => undefined);
    if (task.status === 'done' || !state.tasks.has(task.id)) return;
    if (value === undefined) {
      granted(state, task, claim, Date.now(), config);
      return;
    }
    if (value === 'done') return done(task.id);
    if (sameClaim(claim, value)) {
      task.claim = claim;
      requeue(state, task);
    } else if (isClaim(value)) granted(state, task, value, Date.now(), config);
    else {
      task.claim = null;
      requeue(state, task);
    }
  }

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

  function tick(): void {
    if (!ready) return;
    const nowMs = Date.now();
    probe(probesDue(state, workers, 0, nowMs, config, Math.random));
    for (const task of checksDue(state, nowMs, MAX_CHECKS_IN_FLIGHT - checksInFlight)) void check(task);
    writeLow();
  }

  const recovered = recover().then(() => {
    ready = true;
    node.every(TICK_MS, tick);
    flush();
  });

  /** A restarted scheduler reads back its unfinished jobs and where lin-kv says their tasks are. */
  async function recover(): Promise<void> {
    const low = await retry(() => kv.readOr(logLowKey(node.id), 0));
    lowWritten = typeof low === 'number' ? low : 0;
    const restored: Task[] = [];
    let missingInARow = 0;
    let end = lowWritten;
    for (let n = lowWritten; missingInARow < MAX_CHUNKS_IN_FLIGHT; n++) {
      const chunk = await retry(() => kv.readOr(logChunkKey(node.id, n), null));
      if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk) || !Array.isArray(chunk.jobs)) {
        missingInARow++;
        continue;
      }
      missingInARow = 0;
      end = n + 1;
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
    }
    nextChunk = end;
    for (const task of restored) await reconcile(task);
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

  return { state, recovered };
}

// The worker role wired to the runtime: reservations in, fetches to schedulers, runs on exec,
// completions recorded in lin-kv and reported to the scheduler. See worker.ts for the state.

import { ErrorCode, type KV, type Node } from '../lib/index.js';
import { claimKey, incarnationKey } from './keys.js';
import {
  cancel,
  createWorker,
  defaultWorkerConfig,
  fetched,
  finished,
  plan,
  reserve,
  startNext,
  taskStatus,
  type HeldTask,
  type WorkerState,
} from './worker.js';

/** How long a fetch may take before the reservation is given up (the scheduler probes again). */
const FETCH_TIMEOUT_MS = 500;
/** Past a run's duration, how long to wait for exec (a paused node's reply waits for the resume). */
const EXEC_SLACK_MS = 600_000;
/** Retries of a run exec refused for want of a slot (our slot count disagrees with exec's). */
const MAX_BUSY_RETRIES = 20;
const BUSY_RETRY_MS = 5;
/** Attempts at recording a completion or an incarnation in lin-kv before giving up. */
const MAX_KV_ATTEMPTS = 20;
const KV_RETRY_MS = 100;

export interface WorkerRole {
  state: WorkerState;
}

export function startWorker(node: Node, kv: KV, slots: number): WorkerRole {
  const incarnation = `${node.id}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 10)}`;
  const state = createWorker(slots, incarnation);
  let ready = false;
  let cancelWake: (() => void) | undefined;

  function pump(): void {
    if (!ready) return;
    const nowMs = Date.now();
    const first = plan(state, nowMs);
    for (const k of first.start) run(k, startNext(state, k, nowMs), 0);
    // A slot that just started a task fetches its next shortly before that one ends: plan again,
    // or nothing would wake it for that fetch.
    const then = first.start.length > 0 ? plan(state, nowMs) : first;
    for (const { slot, scheduler } of then === first ? first.fetch : [...first.fetch, ...then.fetch]) fetchFor(slot, scheduler);
    cancelWake?.();
    cancelWake = then.wakeAtMs === null ? undefined : node.after(Math.max(0, then.wakeAtMs - nowMs), pump);
  }

  function fetchFor(k: number, scheduler: string): void {
    const sentMs = Date.now();
    node.rpc(scheduler, { type: 'get_task', inc: incarnation }, { timeoutMs: FETCH_TIMEOUT_MS }, (error, reply) => {
      const granted = error === undefined && reply !== undefined ? grantIn(reply, scheduler) : null;
      fetched(state, k, granted, error === undefined ? Date.now() - sentMs : null, granted !== null && reply?.backlog === true);
      // A scheduler that does not answer (dead, paused, cut off) would cost every slot a timeout
      // per reservation it left here: drop them all. If it is alive it probes again.
      if (error?.code === ErrorCode.Timeout) cancel(state, scheduler);
      pump();
    });
  }

  function grantIn(reply: { [key: string]: unknown }, scheduler: string): HeldTask | null {
    // A grant for another incarnation is a reply that outlived its process (message ids restart).
    if (reply.type !== 'grant' || reply.inc !== incarnation) return null;
    const { task, duration_ms: durationMs } = reply;
    if (typeof task !== 'string' || typeof durationMs !== 'number') return null;
    return { id: task, durationMs, scheduler };
  }

  function run(k: number, task: HeldTask, busyRetries: number): void {
    const body = { type: 'run', task: task.id, duration_ms: task.durationMs };
    node.rpc('exec', body, { timeoutMs: task.durationMs + EXEC_SLACK_MS }, (error) => {
      if (error?.code === ErrorCode.TemporarilyUnavailable && busyRetries < MAX_BUSY_RETRIES) {
        node.after(BUSY_RETRY_MS, () => run(k, task, busyRetries + 1));
        return;
      }
      if (error !== undefined) node.log(`exec did not run ${task.id}: ${error.message}`);
      finished(state, k, error === undefined);
      if (error === undefined) recordDone(task, 0);
      pump();
    });
  }

  function recordDone(task: HeldTask, attempt: number): void {
    // Recorded before the scheduler hears of it, so a scheduler that restarts finds it done.
    kv.write(claimKey(task.id), 'done').then(
      () => node.send(task.scheduler, { type: 'task_done', task: task.id }),
      () => {
        if (attempt + 1 < MAX_KV_ATTEMPTS) node.after(KV_RETRY_MS, () => recordDone(task, attempt + 1));
        else node.log(`could not record ${task.id} done in lin-kv`);
      },
    );
  }

  function announce(attempt: number): void {
    // Schedulers compare a grant's incarnation with this key to learn that its holder restarted.
    kv.write(incarnationKey(node.id), incarnation).then(
      () => {
        ready = true;
        pump();
      },
      () => node.after(KV_RETRY_MS * Math.min(10, attempt + 1), () => announce(attempt + 1)),
    );
  }

  node.handle('reserve', {}, (msg) => {
    if (!reserve(state, msg.src, defaultWorkerConfig)) node.log(`reservation queue full; dropped one from ${msg.src}`);
    pump();
  });
  node.handle('cancel', {}, (msg) => {
    cancel(state, msg.src);
  });
  node.handle('task_status', { task: 'string' }, (msg) => ({ type: 'task_status_ok', state: taskStatus(state, msg.body.task), inc: incarnation }));

  announce(0);
  return { state };
}


// The scheduler role wired to the runtime (docs/workloads/sched.md, "bin/sched"): accepts a job
// once it is in this node's job log in lin-kv, probes workers, grants a task to a worker that asks
// (recording the grant in lin-kv first), and follows granted tasks until they are done, granting
// one again only when its holder has promised not to run it or has restarted since.

import { createReplyGuard, ErrorCode, RPCError, type KV, type Node } from '../lib/index.js';
import type { Json } from '../lib/index.js';
import { ABSENT, claimKey, incarnationKey } from './keys.js';
import { parseJob } from './job.js';
import { createJobLog } from './job-log.js';
import {
  cancellationsDue,
  checksDue,
  createScheduler,
  defaultSchedulerConfig,
  granted,
  hold,
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

const TICK_MS = 50;
/** Under the harness's client timeout (5 s): a reply older than this may find its client closed. */
const REPLY_WITHIN_MS = 4_000;
/** A gap this long between our own ticks is a stall (paused or starved). */
const STALL_MS = 1_000;
const GUARD_TICK_MS = 50;
/** Jobs waiting for their log chunk, beyond which submits are refused with 11. */
const MAX_WAITING_JOBS = 10_000;
/** Unfinished tasks this scheduler holds, beyond which submits are refused with 11. */
const MAX_OPEN_TASKS = 200_000;
const MAX_CHECKS_IN_FLIGHT = 64;
const STATUS_TIMEOUT_MS = 1_000;
const KV_RETRY_MS = 100;
/** Finished job ids remembered, so a repeated submit of one is acknowledged, not run again. */
const FINISHED_MEMORY = 100_000;

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
  let ready = false;
  let checksInFlight = 0;

  const probe = (targets: readonly string[]): void => {
    for (const worker of targets) node.send(worker, { type: 'reserve' });
  };
  // A job is scheduled once it is in the log: d probes per new task.
  const log = createJobLog(node, kv, state, (newTasks) => probe(probesDue(state, workers, newTasks, Date.now(), config, Math.random)));

  // Replies to clients that may have given up are not sent (src/lib/reply-guard.ts).
  const replies = createReplyGuard(Date.now, { replyWithinMs: REPLY_WITHIN_MS, stallMs: STALL_MS });
  node.every(GUARD_TICK_MS, replies.tick);

  node.handle('submit', { job: 'string', tasks: 'array' }, (msg) =>
    replies.answer(async () => {
      const job = parseJob(msg.body.job, msg.body.tasks);
      if (typeof job === 'string') throw new RPCError(ErrorCode.MalformedRequest, job);
      // While a restarted scheduler recovers its log, new jobs wait for it (flush starts after).
      // A repeated submit of a job still open is logged again: its first chunk may not be written yet.
      if (finishedJobs.items.has(job.id)) return { type: 'submit_ok' };
      if (log.waitingCount >= MAX_WAITING_JOBS || state.tasks.size + job.tasks.length > MAX_OPEN_TASKS) {
        throw new RPCError(ErrorCode.TemporarilyUnavailable, 'this scheduler has too much work queued; try another');
      }
      await log.append(job);
      return { type: 'submit_ok' };
    }),
  );

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
    if (finishedChunk !== undefined) log.writeLow();
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

  function tick(): void {
    if (!ready) return;
    const nowMs = Date.now();
    probe(probesDue(state, workers, 0, nowMs, config, Math.random));
    for (const task of checksDue(state, nowMs, MAX_CHECKS_IN_FLIGHT - checksInFlight)) void check(task);
    log.writeLow();
  }

  // A restarted scheduler reads back its unfinished jobs and where lin-kv says their tasks are;
  // submits wait meanwhile (the log opens after).
  const recovered = log.recover().then(async (restored) => {
    for (const task of restored) await reconcile(task);
    ready = true;
    node.every(TICK_MS, tick);
    log.open();
  });

  return { state, recovered };
}

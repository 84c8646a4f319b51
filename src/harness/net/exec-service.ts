// The sched workload's `exec` service: every node's CPU (docs/workloads/sched.md). A node asks it
// to run a task for duration_ms in one of its slots; the reply comes when the task has run. It
// refuses at once, running nothing, when the node has no free slot (error 11) or the task is not
// one a client submitted with that duration (error 12). A killed node's runs die with it. Every
// start, completion, refusal and killed run goes to the service event log for the checker.
import { ErrorCode } from '../../lib/errors.js';
import type { Body, Json } from '../types.js';
import type { ServiceContext, WorkloadService } from '../workload.js';
import { createRecordBound } from './record-bound.js';

export const EXEC_SERVICE_ID = 'exec';

/** Longest run the service accepts; a longer one could not finish in any test. */
export const MAX_RUN_MS = 3_600_000;

/**
 * Refusals and phantoms a node can ask for as fast as it writes: each kind is recorded this many
 * times at most, then once more as `capped`, so a flooding node cannot grow the log (held in
 * memory for the checker) without bound. The checker reports a capped count as a lower bound.
 */
export const MAX_RECORDED_PER_KIND = 10_000;

export interface ExecServiceOptions {
  /** node -> slots (absent: none) */
  slots: Readonly<Record<string, number>>;
  /** the duration a client submitted the task with, or undefined when no client submitted it */
  submittedDurationMs(task: string): number | undefined;
}

interface Run {
  task: string;
  durationMs: number;
  startMs: number;
  msgId: number | undefined;
  cancel: () => void;
}

function errorBody(code: number, text: string): Body {
  return { type: 'error', code, text };
}

export function createExecService(options: ExecServiceOptions): WorkloadService {
  /** node -> run number -> run; a node's map never holds more runs than it has slots */
  const running = new Map<string, Map<number, Run>>();
  let nextRun = 0;

  const record = (ctx: ServiceContext, node: string, type: string, fields: { [key: string]: Json }, timeMs = ctx.nowMs()): void =>
    ctx.record({ service: EXEC_SERVICE_ID, node, type, timeMs, ...fields });
  const bound = createRecordBound(MAX_RECORDED_PER_KIND);
  /** Records a refusal or a phantom, up to MAX_RECORDED_PER_KIND of each. */
  const recordBounded = (ctx: ServiceContext, node: string, type: 'refused' | 'phantom', fields: { [key: string]: Json }): void => {
    const admitted = bound.admit(type);
    if (admitted === 'record') record(ctx, node, type, fields);
    else if (admitted === 'capped') record(ctx, node, 'capped', { kind: type, limit: MAX_RECORDED_PER_KIND });
  };

  function start(src: string, task: string, durationMs: number, msgId: number | undefined, ctx: ServiceContext): void {
    const runs = running.get(src) ?? new Map<number, Run>();
    running.set(src, runs);
    const run = nextRun++;
    record(ctx, src, 'start', { task, duration_ms: durationMs, run });
    const cancel = ctx.after(durationMs, () => finish(src, run, ctx, true));
    runs.set(run, { task, durationMs, startMs: ctx.nowMs(), msgId, cancel });
  }

  /**
   * A run has taken its duration: it completed at start + duration, and its slot is free from then
   * on, however late the harness's timer fires (a timer's lateness is the harness's, not the
   * node's). `reply`: false for a node being killed, which will never read it.
   */
  function finish(src: string, run: number, ctx: ServiceContext, reply: boolean): void {
    const runs = running.get(src);
    const entry = runs?.get(run);
    if (runs === undefined || entry === undefined) return;
    runs.delete(run);
    entry.cancel();
    record(ctx, src, 'complete', { task: entry.task, duration_ms: entry.durationMs, run }, entry.startMs + entry.durationMs);
    // A paused node gets this when it resumes, as every message to it; the network holds it.
    if (reply && entry.msgId !== undefined) ctx.reply(src, entry.msgId, { type: 'run_ok', task: entry.task });
  }

  /** Completes the node's runs whose time is up but whose timer has not fired yet. */
  function finishDue(src: string, ctx: ServiceContext, reply: boolean): void {
    const nowMs = ctx.nowMs();
    for (const [run, entry] of running.get(src) ?? []) if (entry.startMs + entry.durationMs <= nowMs) finish(src, run, ctx, reply);
  }

  return {
    id: EXEC_SERVICE_ID,
    handle({ src, body }, ctx) {
      const msgId = typeof body.msg_id === 'number' ? body.msg_id : undefined;
      const answer = (reply: Body): void => {
        if (msgId !== undefined) ctx.reply(src, msgId, reply);
      };
      if (body.type !== 'run') {
        answer(errorBody(ErrorCode.NotSupported, `exec answers only run, not ${JSON.stringify(body.type)}`));
        return;
      }
      const { task, duration_ms: durationMs } = body;
      if (typeof task !== 'string' || typeof durationMs !== 'number' || !Number.isInteger(durationMs) || durationMs < 0 || durationMs > MAX_RUN_MS) {
        answer(errorBody(ErrorCode.MalformedRequest, `run needs a string task and an integer duration_ms from 0 to ${MAX_RUN_MS}`));
        return;
      }
      const submittedMs = options.submittedDurationMs(task);
      if (submittedMs !== durationMs) {
        recordBounded(ctx, src, 'phantom', { task, duration_ms: durationMs, submitted_ms: submittedMs ?? null });
        answer(errorBody(ErrorCode.MalformedRequest, submittedMs === undefined ? `no client submitted task ${task}` : `task ${task} was submitted with duration_ms ${submittedMs}`));
        return;
      }
      finishDue(src, ctx, true);
      const busy = running.get(src)?.size ?? 0;
      if (busy >= (options.slots[src] ?? 0)) {
        recordBounded(ctx, src, 'refused', { task, duration_ms: durationMs, busy });
        answer(errorBody(ErrorCode.TemporarilyUnavailable, `no free slot: ${busy} of ${options.slots[src] ?? 0} busy`));
        return;
      }
      start(src, task, durationMs, msgId, ctx);
    },
    onNodeEvent(event, ctx) {
      if (event.kind !== 'killed') return;
      // Runs whose time was up completed before the kill, whether or not their timer fired.
      finishDue(event.node, ctx, false);
      const runs = running.get(event.node);
      if (runs === undefined) return;
      running.delete(event.node);
      for (const [run, { task, durationMs, startMs, cancel }] of runs) {
        cancel();
        record(ctx, event.node, 'killed', { task, duration_ms: durationMs, run, ran_ms: ctx.nowMs() - startMs });
      }
    },
  };
}

// Test helpers for workload modules: drive a generator without a runner, and put one operation
// through a workload's client against a scripted reply. Not imported by production code.
import type { Gen, GenContext, Invocation, OpSpec, Thread } from '../../src/harness/run/generator.js';
import type { Body, Completion, Op, Rng, TestOptions } from '../../src/harness/types.js';
import type { Connection, RpcResult, Workload } from '../../src/harness/workload.js';
import { createRng } from '../../src/harness/util/rng.js';

/** One operation a driven generator handed out, the process that ran it, and how it completed. */
export interface Driven {
  inv: Invocation;
  process: number;
  completion: Completion;
}

export interface DriveSetup {
  concurrency?: number;
  /** stop after this many operations */
  maxOps: number;
  /** stop once virtual time passes this */
  untilNs?: number;
  rng?: Rng;
  /** virtual time between one operation and the next (default 1 ms) */
  stepNs?: number;
  /** how each operation completes (default ok with its own value); an info gives the thread a new process */
  complete?: (inv: Invocation, process: number) => Completion;
}

/**
 * Drives a generator without a runner, on virtual time: every client thread is free and every
 * operation completes at once; the generator hears each invocation and completion.
 */
export function driveGenerator(gen: Gen, setup: DriveSetup): Driven[] {
  const concurrency = setup.concurrency ?? 1;
  const rng = setup.rng ?? createRng(1);
  // Client threads only, as the runner gives a workload's generators (through clients()).
  const threads: Thread[] = Array.from({ length: concurrency }, (_, k) => k);
  const processes = threads.map((t) => t as number);
  let timeNs = 0;
  let index = 0;
  const ctx = (): GenContext => ({
    timeNs,
    threads,
    freeThreads: threads,
    process: (t) => processes[t as number] as number,
    thread: (p) => (p === 'nemesis' ? 'nemesis' : p % concurrency),
    rng,
  });
  const out: Driven[] = [];
  const complete = setup.complete ?? ((inv: Invocation): Completion => ({ type: 'ok', value: inv.value }));
  // Bounded: a generator that stays pending forever ends the walk.
  for (let asks = 0; out.length < setup.maxOps && asks < setup.maxOps * 100 + 1000; asks++) {
    const step = gen.op(ctx());
    if (step.kind === 'done') break;
    if (step.kind === 'pending') {
      gen = step.next;
      timeNs = Math.max(timeNs + 1e6, step.wakeNs ?? 0);
      if (setup.untilNs !== undefined && timeNs > setup.untilNs) break;
      continue;
    }
    timeNs = Math.max(timeNs, step.op.timeNs);
    if (setup.untilNs !== undefined && timeNs > setup.untilNs) break;
    gen = step.next;
    const thread = step.op.thread as number;
    const process = processes[thread] as number;
    const base = { process, f: step.op.f, ...(step.op.attrs ?? {}) };
    gen = gen.update(ctx(), { ...base, index: index++, time: timeNs, type: 'invoke', value: step.op.value } as Op);
    const completion = complete(step.op, process);
    gen = gen.update(ctx(), { ...base, index: index++, time: timeNs, type: completion.type, value: completion.value } as Op);
    if (completion.type === 'info') processes[thread] = process + concurrency;
    out.push({ inv: step.op, process, completion });
    timeNs += setup.stepNs ?? 1e6;
  }
  return out;
}

/** The first `count` operations of a generator when every operation completes ok at once. */
export function takeOps(gen: Gen, count: number, options: { concurrency?: number; rng?: Rng } = {}): Invocation[] {
  return driveGenerator(gen, { ...options, maxOps: count }).map((d) => d.inv);
}

/** The specs of invocations, without thread and time. */
export function specs(invocations: readonly Invocation[]): OpSpec[] {
  return invocations.map(({ thread: _thread, timeNs: _time, ...spec }) => spec);
}

/**
 * One operation through a fresh client of the workload: every request it sent, and its
 * completion. `answer` gives the reply to each request (a body, or 'timeout').
 */
export async function runClientOp(
  workload: Workload,
  opts: TestOptions,
  op: OpSpec,
  answer: (request: Body, k: number) => Body | 'timeout',
): Promise<{ requests: Body[]; completion: Completion }> {
  const requests: Body[] = [];
  const conn: Connection = {
    id: 'c9',
    node: 'n0',
    async rpc(body): Promise<RpcResult> {
      requests.push(body);
      const reply = answer(body, requests.length - 1);
      return reply === 'timeout' ? { kind: 'timeout' } : { kind: 'reply', body: { in_reply_to: 1, ...reply } };
    },
  };
  const completion = await workload.openClient(conn, opts).invoke({ ...op, process: 0 });
  return { requests, completion };
}

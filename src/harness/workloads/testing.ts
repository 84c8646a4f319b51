// Test helpers for workload modules: drive a generator without a runner, and put one operation
// through a workload's client against a scripted reply. Not imported by production code.
import type { Gen, GenContext, Invocation, OpSpec, Thread } from '../generator.js';
import type { Body, Completion, Op, Rng, TestOptions } from '../types.js';
import type { Connection, RpcResult, Workload } from '../workload.js';
import { createRng } from '../rng.js';

/**
 * The first `count` operations of a generator when every thread is free and every operation
 * completes ok at once; time moves to each op's time (or 1 ms per op).
 */
export function takeOps(gen: Gen, count: number, options: { concurrency?: number; rng?: Rng } = {}): Invocation[] {
  const concurrency = options.concurrency ?? 1;
  const rng = options.rng ?? createRng(1);
  // Client threads only, as the runner gives a workload's generators (through clients()).
  const threads: Thread[] = Array.from({ length: concurrency }, (_, k) => k);
  const out: Invocation[] = [];
  let timeNs = 0;
  let index = 0;
  const ctx = (): GenContext => ({
    timeNs,
    threads,
    freeThreads: threads,
    process: (t) => t,
    thread: (p) => (p === 'nemesis' ? 'nemesis' : p % concurrency),
    rng,
  });
  // Bounded: a generator that stays pending forever ends the walk.
  for (let asks = 0; out.length < count && asks < count * 100 + 100; asks++) {
    const step = gen.op(ctx());
    if (step.kind === 'done') break;
    if (step.kind === 'pending') {
      gen = step.next;
      timeNs = Math.max(timeNs + 1e6, step.wakeNs ?? 0);
      continue;
    }
    timeNs = Math.max(timeNs, step.op.timeNs);
    out.push(step.op);
    gen = step.next;
    const base = { process: step.op.thread, f: step.op.f, value: step.op.value };
    gen = gen.update(ctx(), { ...base, index: index++, time: timeNs, type: 'invoke' } as Op);
    gen = gen.update(ctx(), { ...base, index: index++, time: timeNs, type: 'ok' } as Op);
    timeNs += 1e6;
  }
  return out;
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

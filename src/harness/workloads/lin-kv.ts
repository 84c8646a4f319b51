// Maelstrom's lin-kv workload: a linearizable key-value store. Keys are handed to groups of 2·N
// threads (N nodes), N reading and N writing (1/3) or cas-ing (2/3) values 0..4; a key is dropped
// once more than 20 processes have used it. Checked key by key against a compare-and-set register.
import { checkRegisterKey, keyTasks, linKvResult, type KeyResult } from '../check/checkers/linearizable.js';
import { runTasks } from '../check/parallel.js';
import { explainSafely } from '../check/explain.js';
import { explainLinKv } from '../check/explain/lin-kv.js';
import { concurrentKeys, mix, processLimit, repeat, reserve } from '../run/generator.js';
import type { Completion, Json, Op, TestOptions } from '../types.js';
import type { Connection, Workload, WorkloadClient } from '../workload.js';
import { call, validateReply, withErrors } from './rpc.js';
import { S } from './reply-schema.js';
import { linearizableView } from '../report/views/linearizable.js';

/** Processes that may use one key before the group moves on (Jepsen's linearizable-register). */
export const PROCESS_LIMIT_PER_KEY = 20;

/** Maelstrom's lin-kv timeout: 10 × the mean latency, at least 1 s. */
export function linKvTimeoutMs(opts: TestOptions): number {
  return Math.max(10 * opts.latencyMs, 1000);
}

function linKvClient(conn: Connection, opts: TestOptions): WorkloadClient {
  const timeoutMs = linKvTimeoutMs(opts);
  return {
    invoke: (op) =>
      // Reads are idempotent: any error or timeout means the read did not happen.
      withErrors(op, op.f === 'read', async (): Promise<Completion> => {
        const [key, value] = op.value as [Json, Json];
        if (op.f === 'read') {
          const request = { type: 'read', key };
          const reply = await call(conn, request, timeoutMs);
          validateReply(request, reply, 'read_ok', { value: S.any });
          return { type: 'ok', value: [key, reply.value ?? null] };
        }
        if (op.f === 'write') {
          const request = { type: 'write', key, value };
          validateReply(request, await call(conn, request, timeoutMs), 'write_ok', {});
          return { type: 'ok', value: op.value };
        }
        const [from, to] = value as [Json, Json];
        const request = { type: 'cas', key, from, to };
        validateReply(request, await call(conn, request, timeoutMs), 'cas_ok', {});
        return { type: 'ok', value: op.value };
      }),
  };
}

export const linKvWorkload: Workload = {
  name: 'lin-kv',
  options: [],
  validate(opts) {
    const group = 2 * opts.nodes.length;
    if (opts.concurrency % group === 0) return undefined;
    return (
      `lin-kv runs each key with ${group} threads (2 per node) and needs --concurrency to be a multiple of ${group}; ` +
      `it is ${opts.concurrency}. Use --concurrency 2n (or 4n, 6n, ...), as Maelstrom requires.`
    );
  },
  generator(opts) {
    const n = opts.nodes.length;
    const read = repeat(() => ({ f: 'read', value: null }));
    const write = repeat((ctx) => ({ f: 'write', value: ctx.rng.int(5) }));
    const cas = repeat((ctx) => ({ f: 'cas', value: [ctx.rng.int(5), ctx.rng.int(5)] }));
    return concurrentKeys(2 * n, () => processLimit(PROCESS_LIMIT_PER_KEY, reserve(n, read, mix([write, cas, cas]))));
  },
  openClient: linKvClient,
  // Jepsen's Reusable: the lin-kv client keeps its connection when its process crashes.
  reusableClient: true,
  slowChecker: true,
  view: linearizableView,
  parallelTasks: { 'lin-kv-key': (task: KeyTask) => checkLinKvTask(task) },
  // Keys are independent (Knossos' P-compositionality): they are checked in parallel.
  async check(history, ctx) {
    const tasks = keyTasks(history).map(({ key, ops }) => ({ key, ops, deadlineMs: ctx.deadlineMs }));
    const results = await runTasks('lin-kv-key', tasks, checkLinKvTask, (task) => task.ops.length);
    const perKey = tasks.map(({ key }, k) => ({ key, result: results[k] as KeyResult }));
    return { workload: linKvResult(perKey), explanation: explainSafely(() => explainLinKv(perKey, ctx.opts)) };
  },
};

/** One key's linearizability check, as a task a worker thread can run (plain data in and out). */
type KeyTask = { key: Json; ops: readonly Op[]; deadlineMs: number };

export function checkLinKvTask(task: KeyTask): KeyResult {
  return checkRegisterKey(task.ops, { deadlineMs: task.deadlineMs, key: task.key });
}

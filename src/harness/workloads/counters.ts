// The CRDT workloads of Maelstrom: g-set (add elements, read the set; set-full), and g-counter /
// pn-counter (add deltas, read the total; final reads in the acceptable set of sums). Maelstrom's
// clients for these have no error handling: any error or timeout makes the op :info.
import { counterVerdict } from '../check/explain/counter.js';
import { setFullVerdict } from '../check/explain/set-full.js';
import { counting, eachThread, filter, mix, once, repeat, type Gen } from '../run/generator.js';
import type { Completion } from '../types.js';
import type { Connection, Workload, WorkloadClient } from '../workload.js';
import { DEFAULT_RPC_TIMEOUT_MS, call, validateReply } from './rpc.js';
import { S, type ReplySchema } from './reply-schema.js';

const reads = (): Gen => repeat(() => ({ f: 'read', value: null }));

/**
 * Maelstrom's clients for the CRDT workloads: add sends the value under `addField`, read expects
 * `value` matching `readSchema` (g-set: a list or null; counters: an integer); no error handling (any error or timeout throws, so the op is :info).
 */
function addReadClient(addField: 'element' | 'delta', readSchema: ReplySchema): (conn: Connection) => WorkloadClient {
  return (conn) => ({
    async invoke(op): Promise<Completion> {
      if (op.f === 'add') {
        const request = { type: 'add', [addField]: op.value };
        validateReply(request, await call(conn, request, DEFAULT_RPC_TIMEOUT_MS), 'add_ok', {});
        return { type: 'ok', value: op.value };
      }
      const reply = await call(conn, { type: 'read' }, DEFAULT_RPC_TIMEOUT_MS);
      validateReply({ type: 'read' }, reply, 'read_ok', { value: readSchema });
      return { type: 'ok', value: reply.value ?? null };
    },
  });
}

export const gSetWorkload: Workload = {
  name: 'g-set',
  options: [],
  generator: () => mix([counting((n) => ({ f: 'add', value: n })), reads()]),
  // Maelstrom's g-set final reads are not marked final?.
  finalGenerator: () => eachThread(() => once({ f: 'read', value: null })),
  openClient: addReadClient('element', S.seq(S.any)),
  check: (history, ctx) => setFullVerdict(history, ctx.opts, {}, { verb: 'added' }),
};

/** Deltas uniform in -5..4, half the operations; the other half reads. */
const pnOps = (): Gen => mix([repeat((ctx) => ({ f: 'add', value: ctx.rng.int(10) - 5 })), reads()]);

export const pnCounterWorkload: Workload = {
  name: 'pn-counter',
  options: [],
  generator: pnOps,
  finalGenerator: () => eachThread(() => once({ f: 'read', value: null, final: true })),
  openClient: addReadClient('delta', S.int),
  check: (history, ctx) => counterVerdict(history, ctx.opts),
};

export const gCounterWorkload: Workload = {
  ...pnCounterWorkload,
  name: 'g-counter',
  // Maelstrom filters pn-counter's operations: negative adds are dropped and the mix asked again.
  generator: () => filter((op) => !(op.f === 'add' && typeof op.value === 'number' && op.value < 0), pnOps()),
};

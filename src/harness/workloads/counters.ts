// The CRDT workloads of Maelstrom: g-set (add elements, read the set; set-full), and g-counter /
// pn-counter (add deltas, read the total; final reads in the acceptable set of sums). Maelstrom's
// clients for these have no error handling: any error or timeout makes the op :info.
import { checkCounter } from '../checkers/counter.js';
import { checkSetFull } from '../checkers/set-full.js';
import { eachThread, filter, mix, once, repeat, type Gen } from '../generator.js';
import type { Completion } from '../types.js';
import type { Connection, Workload, WorkloadClient } from '../workload.js';
import { DEFAULT_RPC_TIMEOUT_MS, call, validateReply } from './rpc.js';

/** The integers from n on, one per add (g-set's elements). */
function elements(n: number): Gen {
  return {
    op(ctx) {
      const step = once({ f: 'add', value: n }).op(ctx);
      return step.kind === 'op' ? { ...step, next: elements(n + 1) } : step.kind === 'pending' ? { ...step, next: elements(n) } : step;
    },
    update() {
      return this;
    },
  };
}

const reads = (): Gen => repeat(() => ({ f: 'read', value: null }));

function gSetClient(conn: Connection): WorkloadClient {
  return {
    async invoke(op): Promise<Completion> {
      if (op.f === 'add') {
        const request = { type: 'add', element: op.value };
        validateReply(request, await call(conn, request, DEFAULT_RPC_TIMEOUT_MS), 'add_ok', {});
        return { type: 'ok', value: op.value };
      }
      const reply = await call(conn, { type: 'read' }, DEFAULT_RPC_TIMEOUT_MS);
      validateReply({ type: 'read' }, reply, 'read_ok', { value: 'array' });
      return { type: 'ok', value: reply.value ?? null };
    },
  };
}

export const gSetWorkload: Workload = {
  name: 'g-set',
  options: [],
  generator: () => mix([elements(0), reads()]),
  // Maelstrom's g-set final reads are not marked final?.
  finalGenerator: () => eachThread(() => once({ f: 'read', value: null })),
  openClient: gSetClient,
  check: (history) => ({ workload: checkSetFull(history) }),
};

function counterClient(conn: Connection): WorkloadClient {
  return {
    async invoke(op): Promise<Completion> {
      if (op.f === 'add') {
        const request = { type: 'add', delta: op.value };
        validateReply(request, await call(conn, request, DEFAULT_RPC_TIMEOUT_MS), 'add_ok', {});
        return { type: 'ok', value: op.value };
      }
      const reply = await call(conn, { type: 'read' }, DEFAULT_RPC_TIMEOUT_MS);
      validateReply({ type: 'read' }, reply, 'read_ok', { value: 'integer' });
      return { type: 'ok', value: reply.value ?? null };
    },
  };
}

/** Deltas uniform in -5..4, half the operations; the other half reads. */
const pnOps = (): Gen => mix([repeat((ctx) => ({ f: 'add', value: ctx.rng.int(10) - 5 })), reads()]);

export const pnCounterWorkload: Workload = {
  name: 'pn-counter',
  options: [],
  generator: pnOps,
  finalGenerator: () => eachThread(() => once({ f: 'read', value: null, final: true })),
  openClient: counterClient,
  check: (history) => ({ workload: checkCounter(history) }),
};

export const gCounterWorkload: Workload = {
  ...pnCounterWorkload,
  name: 'g-counter',
  // Maelstrom filters pn-counter's operations: negative adds are dropped and the mix asked again.
  generator: () => filter((op) => !(op.f === 'add' && typeof op.value === 'number' && op.value < 0), pnOps()),
};

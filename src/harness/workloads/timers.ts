// The timers workload (docs/workloads/timers.md): clients schedule durable timers on the nodes and
// now and then cancel one scheduled earlier; the nodes must fire every acknowledged timer, once, at
// or after its due time, to the `webhook` service. Due times are Unix ms by the clock nodes and
// harness share (the virtual clock under --sim). The final phase waits until the last due time
// plus --final-wait, so every timer has had its chance to fire before the checker looks.
import type { TestOptions } from '../types.js';
import type { Workload, WorkloadClient } from '../workload.js';
import { repeat, sleepUntil, type OpSpec } from '../run/generator.js';
import { exactlyOnceOption, intOption, intOptionValue, optionValue } from '../cli/options.js';
import { createWebhookService, WEBHOOK_SERVICE_ID } from '../net/webhook-service.js';
import { cappedKinds } from '../net/record-bound.js';
import { checkTimers, firesOf, timersExplanation } from '../check/checkers/timers.js';
import { timersView } from '../report/views/timers.js';
import { call, DEFAULT_RPC_TIMEOUT_MS, validateReply, withErrors } from './rpc.js';

export const maxDelayOption = intOption('max-delay-ms', 'maxDelayMs', 'due times are uniform in [now, now + N] ms (default 5000)', 5000, { min: 0, max: 3_600_000 });

/** One op in CANCEL_ONE_IN is a cancel of a timer scheduled earlier (the 9 to 1). */
export const CANCEL_ONE_IN = 10;
/** Timers a cancel may pick from: the most recently scheduled ones (bounds the generator's memory). */
export const CANCEL_CANDIDATES = 1_000;
/** How often the final phase looks at the clock while it waits for the last due time. */
const FINAL_POLL_NS = 100e6;
/** This workload's --final-wait default: the last timer is due at most --max-delay-ms after load ends, and the wait starts then. */
export const TIMERS_FINAL_WAIT_S = 5;

interface RunTable {
  /** every timer id a client sent a schedule request for (what the webhook accepts) */
  scheduled: Set<string>;
  /** the latest due_ms of any schedule request */
  lastDueMs: number;
}

// The webhook must know which timers clients scheduled (error 12 otherwise), and the final phase
// the last due time. One table per run, found by the run's options object, which the runner hands
// to services(), generator() and openClient() alike.
const tables = new WeakMap<TestOptions, RunTable>();

function runTable(opts: TestOptions): RunTable {
  const table = tables.get(opts) ?? { scheduled: new Set<string>(), lastDueMs: 0 };
  tables.set(opts, table);
  return table;
}

function timersClient(opts: TestOptions): (conn: Parameters<Workload['openClient']>[0]) => WorkloadClient {
  const table = runTable(opts);
  return (conn) => ({
    invoke: (op) =>
      withErrors(op, false, async () => {
        const value = op.value as { timer: string; due_ms?: number };
        if (op.f === 'schedule') {
          const dueMs = value.due_ms as number;
          table.scheduled.add(value.timer);
          table.lastDueMs = Math.max(table.lastDueMs, dueMs);
          const request = { type: 'schedule', timer: value.timer, due_ms: dueMs };
          validateReply(request, await call(conn, request, DEFAULT_RPC_TIMEOUT_MS), 'schedule_ok', {});
        } else {
          const request = { type: 'cancel', timer: value.timer };
          validateReply(request, await call(conn, request, DEFAULT_RPC_TIMEOUT_MS), 'cancel_ok', {});
        }
        return { type: 'ok', value: op.value ?? null };
      }),
  });
}

export const timersWorkload: Workload = {
  name: 'timers',
  options: [maxDelayOption, exactlyOnceOption],
  defaultFinalWaitS: TIMERS_FINAL_WAIT_S,
  view: timersView,

  services(opts) {
    const table = runTable(opts);
    return [createWebhookService({ scheduled: (timer) => table.scheduled.has(timer), epochMs: () => Date.now() })];
  },

  // About 9 schedules to 1 cancel of a timer scheduled earlier; ids t0, t1, ... in order.
  generator(opts) {
    const maxDelayMs = intOptionValue(opts, maxDelayOption) ?? 5000;
    const recent: string[] = [];
    let next = 0;
    return repeat((ctx): OpSpec => {
      if (recent.length > 0 && ctx.rng.int(CANCEL_ONE_IN) === 0) {
        return { f: 'cancel', value: { timer: recent[ctx.rng.int(recent.length)] as string } };
      }
      const timer = `t${next++}`;
      recent.push(timer);
      if (recent.length > CANCEL_CANDIDATES) recent.shift();
      return { f: 'schedule', value: { timer, due_ms: Date.now() + ctx.rng.int(maxDelayMs + 1) } };
    });
  },

  // After the heal and --final-wait: on until the last due time plus --final-wait.
  finalGenerator(opts) {
    const table = runTable(opts);
    const maxDelayMs = intOptionValue(opts, maxDelayOption) ?? 5000;
    const waitMs = opts.finalWaitS * 1000;
    return sleepUntil((maxDelayMs + waitMs) * 1e6, FINAL_POLL_NS, () => Date.now() >= table.lastDueMs + waitMs);
  },

  openClient: (conn, opts) => timersClient(opts)(conn),

  check(history, ctx) {
    const fires = firesOf(ctx.serviceEvents ?? []);
    const exactlyOnce = optionValue(ctx.opts, exactlyOnceOption) === true;
    const verdict = checkTimers(history, fires, { exactlyOnce });
    // the webhook stopped recording these fires at its bound: their counts are lower bounds
    const capped = cappedKinds(ctx.serviceEvents ?? [], WEBHOOK_SERVICE_ID);
    if (capped.length > 0) verdict.workload['counts-capped'] = capped;
    return { ...verdict, explanation: timersExplanation(verdict) };
  },
};


// Interprets a generator (generator.ts) on a clock: one loop hands operations to free threads when
// they are due, records invocations and completions in the history, and tells the generator about
// each. Client threads and the nemesis thread run in this one loop, as in Jepsen's interpreter.
import type { Gen, GenContext, Invocation, OpSpec, Thread } from './generator.js';
import type { Completion, Json, Op, Rng } from '../types.js';
import type { Clock } from '../clock.js';

/** Longest the loop sleeps while a generator is pending with no wake-up time. */
export const MAX_PENDING_WAIT_MS = 1000;

export interface InterpreterDeps {
  clock: Clock;
  /** number of client threads (0..concurrency-1) */
  concurrency: number;
  rng: Rng;
  /** Performs a client operation on a thread, as the given process. */
  invokeClient(thread: number, process: number, op: OpSpec): Promise<Completion>;
  /** Performs a nemesis operation. */
  invokeNemesis(op: OpSpec): Completion | Promise<Completion>;
  /** Appends to the history (adds index). */
  record(op: Omit<Op, 'index'>): Op;
  /** A client thread's process crashed (an :info); the runner drops its client. */
  onProcessCrash(thread: number, process: number): void;
  /** true: hand out no more operations (interrupted, or the run must stop early) */
  shouldStop(): boolean;
}

interface Finished {
  thread: Thread;
  invocation: Invocation;
  process: number | 'nemesis';
  completion: Completion;
}

function indeterminate(op: OpSpec, err: unknown): Completion {
  const message = err instanceof Error ? err.message : String(err);
  return { type: 'info', value: op.value, error: `indeterminate: ${message}` };
}

export async function interpret(initial: Gen, deps: InterpreterDeps): Promise<void> {
  const { clock, concurrency } = deps;
  const threads: Thread[] = [...Array.from({ length: concurrency }, (_, k) => k), 'nemesis'];
  const processes = new Map<Thread, number | 'nemesis'>(threads.map((t) => [t, t]));
  const busy = new Set<Thread>();
  const finished: Finished[] = [];
  let wake: (() => void) | null = null;
  let gen = initial;

  const context = (): GenContext => ({
    timeNs: clock.nowNs(),
    threads,
    freeThreads: threads.filter((t) => !busy.has(t)),
    process: (thread) => processes.get(thread) ?? thread,
    thread: (process) => (process === 'nemesis' ? 'nemesis' : process % concurrency),
    rng: deps.rng,
  });

  const waitFor = (untilNs: number | undefined): Promise<void> =>
    new Promise<void>((resolve) => {
      const delayMs = untilNs === undefined ? MAX_PENDING_WAIT_MS : Math.min(MAX_PENDING_WAIT_MS, (untilNs - clock.nowNs()) / 1e6);
      const cancel = clock.setTimer(delayMs, () => {
        wake = null;
        resolve();
      });
      wake = () => {
        cancel();
        wake = null;
        resolve();
      };
    });

  const extra = (spec: OpSpec): { [key: string]: Json } => ({
    ...(spec.final === true ? { 'final?': true } : {}),
    ...(spec.attrs ?? {}),
  });

  const dispatch = (invocation: Invocation): void => {
    const { thread } = invocation;
    const process = processes.get(thread) ?? thread;
    busy.add(thread);
    const spec: OpSpec = { f: invocation.f, value: invocation.value, ...(invocation.final ? { final: true } : {}), ...(invocation.attrs ? { attrs: invocation.attrs } : {}) };
    const op = deps.record({
      time: clock.nowNs(),
      // Maelstrom records nemesis invocations as :info, like their completions.
      type: thread === 'nemesis' ? 'info' : 'invoke',
      process,
      f: spec.f,
      value: spec.value,
      ...extra(spec),
    });
    gen = gen.update(context(), op);
    let running: Promise<Completion>;
    try {
      running = Promise.resolve(thread === 'nemesis' ? deps.invokeNemesis(spec) : deps.invokeClient(thread, process as number, spec));
    } catch (err) {
      running = Promise.resolve(indeterminate(spec, err));
    }
    running
      .catch((err: unknown) => indeterminate(spec, err))
      .then((completion) => {
        finished.push({ thread, invocation, process, completion });
        wake?.();
      });
  };

  const complete = ({ thread, invocation, process, completion }: Finished): void => {
    busy.delete(thread);
    const op: Omit<Op, 'index'> = {
      time: clock.nowNs(),
      type: completion.type,
      process,
      f: invocation.f,
      value: completion.value,
      ...extra(invocation),
    };
    if (completion.error !== undefined) op.error = completion.error;
    gen = gen.update(context(), deps.record(op));
    if (completion.type === 'info' && typeof thread === 'number' && typeof process === 'number') {
      // Jepsen: a crashed process never returns; the thread goes on as a new process.
      processes.set(thread, process + concurrency);
      deps.onProcessCrash(thread, process);
    }
  };

  for (;;) {
    while (finished.length > 0) complete(finished.shift() as Finished);
    if (deps.shouldStop()) return;
    const step = gen.op(context());
    if (step.kind === 'done') {
      if (busy.size === 0) return;
      await waitFor(undefined);
      continue;
    }
    if (step.kind === 'pending') {
      gen = step.next;
      await waitFor(step.wakeNs);
      continue;
    }
    // Node's timers have ms resolution: an op due within a ms goes now.
    if (step.op.timeNs > clock.nowNs() + 1e6) {
      await waitFor(step.op.timeNs);
      continue;
    }
    gen = step.next;
    dispatch(step.op);
  }
}

// Generators in Jepsen's shape: a generator is an immutable value that the runner asks for the
// next operation (given the time, the free threads and their processes) and tells about every
// invocation and completion. Asking returns a new generator value, so the runner can ask again
// without committing (an op due in the future is only taken when its time comes).
//
// The combinators are the ones Maelstrom's workloads need, and no more: repeat, once, seq, mix,
// limit, filter, time limit, stagger, phases/synchronize, each thread, client/nemesis routing,
// reserve, process limit, per-key thread groups, sleep and a log line.
import type { Json, Op, Rng } from '../types.js';

/** A worker thread: client threads are numbered from 0; the nemesis has its own thread. */
export type Thread = number | 'nemesis';

/** What a generator asks the runner to invoke. */
export interface OpSpec {
  f: string;
  value: Json;
  /** marks Maelstrom's final reads (`:final? true` in the history) */
  final?: boolean;
  /** further history keys on the invocation, e.g. kafka's `seek-to-beginning?` */
  attrs?: { [key: string]: Json };
}

/** An operation bound to a thread and a time (ns since the test started). */
export interface Invocation extends OpSpec {
  thread: Thread;
  timeNs: number;
}

export interface GenContext {
  /** ns since the test started */
  readonly timeNs: number;
  /** threads this generator may use, ascending, the nemesis last */
  readonly threads: readonly Thread[];
  /** those of `threads` with no operation in flight */
  readonly freeThreads: readonly Thread[];
  /** the process a thread currently runs as (a client thread gets a new one after an :info) */
  process(thread: Thread): number | 'nemesis';
  /** the thread that runs (or ran) a process */
  thread(process: number | 'nemesis'): Thread;
  readonly rng: Rng;
}

export type Step =
  | { kind: 'op'; op: Invocation; next: Gen }
  /** nothing to do now; the runner adopts `next` and asks again at wakeNs or after a completion */
  | { kind: 'pending'; next: Gen; wakeNs?: number }
  | { kind: 'done' };

export interface Gen {
  op(ctx: GenContext): Step;
  /** Hears every invocation and completion the runner records. */
  update(ctx: GenContext, event: Op): Gen;
}

const DONE: Step = { kind: 'done' };

/**
 * Whether a candidate due at timeNs should replace the best so far (due at bestNs, with `ties`
 * candidates at that time already seen): the soonest wins, and ties are broken uniformly at random
 * so that no generator or thread is favoured.
 */
function soonerOrTie(ctx: GenContext, timeNs: number, best: { timeNs: number; ties: number } | undefined): boolean {
  if (best === undefined || timeNs < best.timeNs) return true;
  if (timeNs > best.timeNs) return false;
  best.ties++;
  return ctx.rng.int(best.ties) === 0;
}

/** A context narrowed to some threads (clients only, one group, one thread). */
export function restrict(ctx: GenContext, keep: (thread: Thread) => boolean): GenContext {
  return {
    timeNs: ctx.timeNs,
    threads: ctx.threads.filter(keep),
    freeThreads: ctx.freeThreads.filter(keep),
    process: ctx.process,
    thread: ctx.thread,
    rng: ctx.rng,
  };
}

function pickFree(ctx: GenContext): Thread | undefined {
  const free = ctx.freeThreads;
  if (free.length === 0) return undefined;
  return free.length === 1 ? free[0] : free[ctx.rng.int(free.length)];
}

/** update() of a generator that does not care about events. */
function ignoresUpdates(this: Gen): Gen {
  return this;
}

// ---------------------------------------------------------------------------------------------
// Sources

/** Endless operations from a function, each on a random free thread; undefined ends it. */
export function repeat(make: (ctx: GenContext) => OpSpec | undefined): Gen {
  const gen: Gen = {
    op(ctx) {
      const thread = pickFree(ctx);
      if (thread === undefined) return { kind: 'pending', next: gen };
      const spec = make(ctx);
      if (spec === undefined) return DONE;
      return { kind: 'op', op: { ...spec, thread, timeNs: ctx.timeNs }, next: gen };
    },
    update: ignoresUpdates,
  };
  return gen;
}

/** Operations made from the integers from n on, one integer per operation taken (0, 1, 2, …). */
export function counting(make: (n: number) => OpSpec, n = 0): Gen {
  return {
    op(ctx) {
      const step = once(make(n)).op(ctx);
      if (step.kind === 'op') return { ...step, next: counting(make, n + 1) };
      return step.kind === 'pending' ? { ...step, next: counting(make, n) } : step;
    },
    update: ignoresUpdates,
  };
}

/** One operation on a free thread, then done. */
export function once(spec: OpSpec): Gen {
  return {
    op(ctx) {
      const thread = pickFree(ctx);
      if (thread === undefined) return { kind: 'pending', next: this };
      return { kind: 'op', op: { ...spec, thread, timeNs: ctx.timeNs }, next: EMPTY };
    },
    update: ignoresUpdates,
  };
}

/** A generator with nothing to give. */
export const EMPTY: Gen = { op: () => DONE, update: ignoresUpdates };

/** Runs a side effect when reached (e.g. a progress line), then is done. */
export function call(effect: () => void): Gen {
  return {
    op(ctx) {
      effect();
      return { kind: 'pending', next: EMPTY, wakeNs: ctx.timeNs };
    },
    update: ignoresUpdates,
  };
}

/** Nothing for dtNs from when it is first asked. */
export function sleep(dtNs: number): Gen {
  const until = (endNs: number): Gen => ({
    op: (ctx) => (ctx.timeNs >= endNs ? DONE : { kind: 'pending', next: until(endNs), wakeNs: endNs }),
    update: ignoresUpdates,
  });
  return {
    op: (ctx) => until(ctx.timeNs + dtNs).op(ctx),
    update: ignoresUpdates,
  };
}

/**
 * Nothing for at most dtNs from when it is first asked, ending as soon as done() is true; done is
 * polled every pollNs (the final wait of workloads that know when they have recovered).
 */
export function sleepUntil(dtNs: number, pollNs: number, done: () => boolean): Gen {
  const until = (endNs: number): Gen => ({
    op: (ctx) => (ctx.timeNs >= endNs || done() ? DONE : { kind: 'pending', next: until(endNs), wakeNs: Math.min(endNs, ctx.timeNs + pollNs) }),
    update: ignoresUpdates,
  });
  return {
    op: (ctx) => until(ctx.timeNs + dtNs).op(ctx),
    update: ignoresUpdates,
  };
}

// ---------------------------------------------------------------------------------------------
// Sequencing and choice

/** Each generator to exhaustion, in order (without waiting for operations in flight). */
export function seq(gens: readonly Gen[]): Gen {
  if (gens.length === 0) return EMPTY;
  const [head, ...rest] = gens as [Gen, ...Gen[]];
  return {
    op(ctx) {
      const step = head.op(ctx);
      if (step.kind === 'done') return seq(rest).op(ctx);
      return { ...step, next: seq([step.next, ...rest]) };
    },
    update: (ctx, event) => seq([head.update(ctx, event), ...rest]),
  };
}

/** Each generator in turn, starting only once every thread is free (Jepsen's phases). */
export function phases(...gens: Gen[]): Gen {
  return seq(gens.map(synchronize));
}

/** Waits until every thread of the context is free, then behaves as gen. */
export function synchronize(gen: Gen): Gen {
  return {
    op(ctx) {
      if (ctx.freeThreads.length < ctx.threads.length) return { kind: 'pending', next: this };
      return gen.op(ctx);
    },
    update: (ctx, event) => synchronize(gen.update(ctx, event)),
  };
}

/** A random generator's operation each time (Jepsen's mix); exhausted ones drop out. */
export function mix(gens: readonly Gen[]): Gen {
  if (gens.length === 0) return EMPTY;
  return {
    op(ctx) {
      const index = ctx.rng.int(gens.length);
      const step = (gens[index] as Gen).op(ctx);
      if (step.kind === 'done') return mix(gens.filter((_, k) => k !== index)).op(ctx);
      const replaced = gens.map((g, k) => (k === index ? step.next : g));
      return { ...step, next: mix(replaced) };
    },
    update: (ctx, event) => mix(gens.map((g) => g.update(ctx, event))),
  };
}

/** Whichever generator has the soonest operation (Jepsen's any). */
export function any(...gens: Gen[]): Gen {
  if (gens.length === 0) return EMPTY;
  return {
    op(ctx) {
      let best: { index: number; step: Extract<Step, { kind: 'op' }>; timeNs: number; ties: number } | undefined;
      let pending: { wakeNs: number | undefined } | undefined;
      const nexts = [...gens];
      const live: number[] = [];
      gens.forEach((gen, index) => {
        const step = gen.op(ctx);
        if (step.kind === 'done') return;
        live.push(index);
        if (step.kind === 'pending') {
          nexts[index] = step.next;
          const wake = pending === undefined ? step.wakeNs : minDefined(pending.wakeNs, step.wakeNs);
          pending = { wakeNs: wake };
          return;
        }
        if (soonerOrTie(ctx, step.op.timeNs, best)) best = { index, step, timeNs: step.op.timeNs, ties: best?.timeNs === step.op.timeNs ? best.ties : 1 };
      });
      if (live.length === 0) return DONE;
      const keep = (k: number): boolean => live.includes(k);
      if (best !== undefined) {
        const chosen = best;
        const after = nexts.map((g, k) => (k === chosen.index ? chosen.step.next : g)).filter((_, k) => keep(k));
        return { kind: 'op', op: chosen.step.op, next: any(...after) };
      }
      const next = any(...nexts.filter((_, k) => keep(k)));
      return pending?.wakeNs === undefined ? { kind: 'pending', next } : { kind: 'pending', next, wakeNs: pending.wakeNs };
    },
    update: (ctx, event) => any(...gens.map((g) => g.update(ctx, event))),
  };
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

// ---------------------------------------------------------------------------------------------
// Limits and filters

/** At most n operations. */
export function limit(n: number, gen: Gen): Gen {
  if (n <= 0) return EMPTY;
  return {
    op(ctx) {
      const step = gen.op(ctx);
      if (step.kind === 'op') return { ...step, next: limit(n - 1, step.next) };
      if (step.kind === 'pending') return { ...step, next: limit(n, step.next) };
      return step;
    },
    update: (ctx, event) => limit(n, gen.update(ctx, event)),
  };
}

/** Only the operations pred accepts. */
export function filter(pred: (spec: OpSpec) => boolean, gen: Gen): Gen {
  return {
    op(ctx) {
      let current = gen;
      // Bounded: a generator whose every op is rejected would otherwise spin forever.
      for (let attempt = 0; attempt < 10_000; attempt++) {
        const step = current.op(ctx);
        if (step.kind !== 'op') return step.kind === 'done' ? step : { ...step, next: filter(pred, step.next) };
        if (pred(step.op)) return { ...step, next: filter(pred, step.next) };
        current = step.next;
      }
      throw new Error('filter: 10,000 operations in a row rejected');
    },
    update: (ctx, event) => filter(pred, gen.update(ctx, event)),
  };
}

/** Operations until dtNs after the first one (Jepsen's time-limit). */
export function timeLimit(dtNs: number, gen: Gen, cutoffNs?: number): Gen {
  return {
    op(ctx) {
      const cutoff = cutoffNs ?? ctx.timeNs + dtNs;
      if (ctx.timeNs >= cutoff) return DONE;
      const step = gen.op(ctx);
      if (step.kind === 'done') return step;
      if (step.kind === 'op' && step.op.timeNs >= cutoff) return DONE;
      const wakeNs = step.kind === 'pending' ? Math.min(step.wakeNs ?? cutoff, cutoff) : undefined;
      const next = timeLimit(dtNs, step.next, cutoff);
      return step.kind === 'op' ? { ...step, next } : { kind: 'pending', next, ...(wakeNs === undefined ? {} : { wakeNs }) };
    },
    update: (ctx, event) => timeLimit(dtNs, gen.update(ctx, event), cutoffNs),
  };
}

/**
 * How late an operation may come to its stagger slot and still count as on time. Jepsen's
 * interpreter wakes within microseconds; ours waits on timers of millisecond resolution, and
 * without this the schedule would drift by a timer's lateness on every wait (at --rate 1000, a
 * third of the operations lost). Later than this, every thread was busy, and the schedule slips
 * as Jepsen's does.
 */
export const STAGGER_ON_TIME_NS = 10e6;

/**
 * Spaces operations by gaps uniform in [0, 2·meanGapNs) across all threads (Jepsen's stagger):
 * an op is held until its slot; an op that is already late goes now and the next slot counts
 * from it.
 */
export function stagger(meanGapNs: number, gen: Gen, slotNs?: number): Gen {
  return {
    op(ctx) {
      const step = gen.op(ctx);
      if (step.kind === 'done') return step;
      if (step.kind === 'pending') return { ...step, next: stagger(meanGapNs, step.next, slotNs) };
      const slot = slotNs ?? ctx.timeNs;
      const at = step.op.timeNs - slot <= STAGGER_ON_TIME_NS ? slot : step.op.timeNs;
      const gapNs = ctx.rng.next() * 2 * meanGapNs;
      return { kind: 'op', op: { ...step.op, timeNs: at }, next: stagger(meanGapNs, step.next, at + gapNs) };
    },
    update: (ctx, event) => stagger(meanGapNs, gen.update(ctx, event), slotNs),
  };
}

/** Done once more than n distinct processes would have used it (Jepsen's process-limit). */
export function processLimit(n: number, gen: Gen, seen: ReadonlySet<number | 'nemesis'> = new Set()): Gen {
  return {
    op(ctx) {
      const step = gen.op(ctx);
      if (step.kind !== 'op') return step.kind === 'done' ? step : { ...step, next: processLimit(n, step.next, seen) };
      const process = ctx.process(step.op.thread);
      if (seen.has(process)) return { ...step, next: processLimit(n, step.next, seen) };
      if (seen.size >= n) return DONE;
      return { ...step, next: processLimit(n, step.next, new Set([...seen, process])) };
    },
    update: (ctx, event) => processLimit(n, gen.update(ctx, event), seen),
  };
}

// ---------------------------------------------------------------------------------------------
// Routing to threads

/** Only client threads. */
export function clients(gen: Gen): Gen {
  return onThreads((t) => t !== 'nemesis', gen);
}

/** Only the nemesis thread. */
export function nemesis(gen: Gen): Gen {
  return onThreads((t) => t === 'nemesis', gen);
}

/** Restricts gen to the threads keep accepts; it hears only their events. */
export function onThreads(keep: (thread: Thread) => boolean, gen: Gen): Gen {
  return {
    op(ctx) {
      const step = gen.op(restrict(ctx, keep));
      return step.kind === 'done' ? step : { ...step, next: onThreads(keep, step.next) };
    },
    update(ctx, event) {
      if (!keep(ctx.thread(event.process))) return this;
      return onThreads(keep, gen.update(restrict(ctx, keep), event));
    },
  };
}

/** The first n threads run a, the others b (Jepsen's reserve). */
export function reserve(n: number, a: Gen, b: Gen): Gen {
  return {
    op(ctx) {
      const first = new Set(ctx.threads.slice(0, n));
      return any(onThreads((t) => first.has(t), a), onThreads((t) => !first.has(t), b)).op(ctx);
    },
    update(ctx, event) {
      const first = new Set(ctx.threads.slice(0, n));
      const mine = first.has(ctx.thread(event.process));
      return reserve(n, mine ? a.update(ctx, event) : a, mine ? b : b.update(ctx, event));
    },
  };
}

/** Every thread runs its own copy of make(thread) (Jepsen's each-thread). */
export function eachThread(make: (thread: Thread) => Gen, perThread: ReadonlyMap<Thread, Gen> = new Map()): Gen {
  const genFor = (thread: Thread): Gen => perThread.get(thread) ?? make(thread);
  const withGen = (thread: Thread, gen: Gen): Gen => eachThread(make, new Map(perThread).set(thread, gen));
  return {
    op(ctx) {
      let best: { thread: Thread; step: Extract<Step, { kind: 'op' }>; timeNs: number; ties: number } | undefined;
      let anyPending = false;
      let wakeNs: number | undefined;
      let states = perThread;
      for (const thread of ctx.threads) {
        const only = restrict(ctx, (t) => t === thread);
        const step = genFor(thread).op(only);
        if (step.kind === 'done') continue;
        if (step.kind === 'pending') {
          anyPending = true;
          wakeNs = minDefined(wakeNs, step.wakeNs);
          states = new Map(states).set(thread, step.next);
          continue;
        }
        if (soonerOrTie(ctx, step.op.timeNs, best)) {
          if (best !== undefined) anyPending = true;
          best = { thread, step, timeNs: step.op.timeNs, ties: best?.timeNs === step.op.timeNs ? best.ties : 1 };
        } else anyPending = true;
      }
      if (best !== undefined) {
        const chosen = best;
        return { kind: 'op', op: chosen.step.op, next: eachThread(make, new Map(states).set(chosen.thread, chosen.step.next)) };
      }
      if (!anyPending) return DONE;
      const next = eachThread(make, states);
      return wakeNs === undefined ? { kind: 'pending', next } : { kind: 'pending', next, wakeNs };
    },
    update(ctx, event) {
      const thread = ctx.thread(event.process);
      if (!ctx.threads.includes(thread)) return this;
      return withGen(thread, genFor(thread).update(restrict(ctx, (t) => t === thread), event));
    },
  };
}

/**
 * Threads in groups of groupSize, each group working on one key at a time with its own
 * generator from make(key); when a group's generator is exhausted the group takes the next key.
 * Operation values become [key, value] tuples (Jepsen's independent/concurrent-generator).
 * The client threads must be a multiple of groupSize.
 */
export function concurrentKeys(groupSize: number, make: (key: number) => Gen): Gen {
  interface Group {
    key: number;
    gen: Gen;
  }
  const build = (groups: ReadonlyMap<number, Group>, nextKey: number): Gen => {
    const groupOf = (ctx: GenContext, thread: Thread): number => Math.floor(ctx.threads.indexOf(thread) / groupSize);
    return {
      op(ctx) {
        if (ctx.threads.length % groupSize !== 0) {
          throw new Error(
            `this workload runs each key with ${groupSize} threads; --concurrency must be a multiple of ${groupSize} (it is ${ctx.threads.length})`,
          );
        }
        let state = new Map(groups);
        let keyCounter = nextKey;
        let best: { group: number; step: Extract<Step, { kind: 'op' }>; g: Group; timeNs: number; ties: number } | undefined;
        const groupCount = ctx.threads.length / groupSize;
        for (let group = 0; group < groupCount; group++) {
          const members = new Set(ctx.threads.slice(group * groupSize, (group + 1) * groupSize));
          const only = restrict(ctx, (t) => members.has(t));
          if (only.freeThreads.length === 0) continue;
          let g = state.get(group) ?? { key: keyCounter++, gen: make(keyCounter - 1) };
          let step = g.gen.op(only);
          // Bounded: a fresh key's generator that is exhausted at once would loop forever.
          for (let fresh = 0; step.kind === 'done' && fresh < 100; fresh++) {
            g = { key: keyCounter, gen: make(keyCounter) };
            keyCounter++;
            step = g.gen.op(only);
          }
          if (step.kind === 'pending') {
            state.set(group, { key: g.key, gen: step.next });
            continue;
          }
          if (step.kind === 'done') continue;
          state.set(group, g);
          if (soonerOrTie(ctx, step.op.timeNs, best)) best = { group, step, g, timeNs: step.op.timeNs, ties: best?.timeNs === step.op.timeNs ? best.ties : 1 };
        }
        if (best === undefined) return { kind: 'pending', next: build(state, keyCounter) };
        state = new Map(state).set(best.group, { key: best.g.key, gen: best.step.next });
        const op = { ...best.step.op, value: [best.g.key, best.step.op.value] as Json };
        return { kind: 'op', op, next: build(state, keyCounter) };
      },
      update(ctx, event) {
        const thread = ctx.thread(event.process);
        if (!ctx.threads.includes(thread)) return this;
        const group = groupOf(ctx, thread);
        const g = groups.get(group);
        if (g === undefined) return this;
        return build(new Map(groups).set(group, { key: g.key, gen: g.gen.update(ctx, event) }), nextKey);
      },
    };
  };
  return clients(build(new Map(), 0));
}

// Random compare-and-set register histories that are linearizable by construction, for the
// checker's tests and bench: every operation takes effect at a random instant inside its
// invoke..complete interval, and its result is what the register held at that instant.
// The mix is lin-kv's: half the threads read, the other half write (1/3) or cas (2/3) values 0..4;
// a read or cas of a missing key fails, like Maelstrom's error 20. An operation that "times out"
// completes with info and took effect or not at random; its thread then continues as a new process
// (Jepsen's rule: process + thread count), as a crashed Jepsen worker does.

import type { Json, Op, OpType } from '../../../types.js';
import { createRng } from '../../../util/rng.js';

export interface RandomHistoryOptions {
  /** concurrent threads on the key */
  threads: number;
  /** client operations (invocations) in the history */
  ops: number;
  seed: number;
  /** fraction of write/cas operations that complete with info (default 0.02) */
  infoRate?: number;
  /** mean operation duration and mean pause between a thread's operations, in ns */
  meanDurationNs?: number;
  meanGapNs?: number;
  /** when set, values are wrapped as [key, v] tuples (a lin-kv history); a key list spreads ops */
  keys?: Json[];
}

/** Uniform in [0, 1) from a seed: the harness's generator (rng.ts), as a plain function. */
export function seededRandom(seed: number): () => number {
  const rng = createRng(seed);
  return () => rng.next();
}

interface Planned {
  process: number;
  key: Json;
  f: 'read' | 'write' | 'cas';
  arg: Json;
  startNs: number;
  endNs: number;
  effectNs: number;
  info: boolean;
  /** for an info op: whether it took effect */
  applied: boolean;
  type: Exclude<OpType, 'invoke'>;
  result: Json;
}

function plan(options: RandomHistoryOptions, random: () => number): Planned[] {
  const meanDuration = options.meanDurationNs ?? 5e6;
  const meanGap = options.meanGapNs ?? 1e6;
  const infoRate = options.infoRate ?? 0.02;
  const keys = options.keys ?? [null];
  const exponential = (mean: number): number => Math.max(1, Math.round(-Math.log(1 - random()) * mean));
  const freeAt = new Array<number>(options.threads).fill(0).map(() => exponential(meanGap));
  const processOf = Array.from({ length: options.threads }, (_, thread) => thread);
  const planned: Planned[] = [];
  for (let i = 0; i < options.ops; i++) {
    let thread = 0;
    for (let t = 1; t < options.threads; t++) if (freeAt[t]! < freeAt[thread]!) thread = t;
    const startNs = freeAt[thread]!;
    const endNs = startNs + exponential(meanDuration);
    const reader = thread < Math.ceil(options.threads / 2);
    const roll = random();
    const f = reader ? 'read' : roll < 1 / 3 ? 'write' : 'cas';
    const v = (): number => Math.floor(random() * 5);
    const arg: Json = f === 'read' ? null : f === 'write' ? v() : [v(), v()];
    const info = f !== 'read' && random() < infoRate;
    planned.push({
      process: processOf[thread]!,
      key: keys[Math.floor(random() * keys.length)] ?? null,
      f,
      arg,
      startNs,
      endNs,
      effectNs: startNs + random() * (endNs - startNs),
      info,
      applied: info ? random() < 0.5 : true,
      type: 'ok',
      result: arg,
    });
    if (info) processOf[thread] = processOf[thread]! + options.threads;
    freeAt[thread] = endNs + exponential(meanGap);
  }
  return planned;
}

/** Applies every operation at its instant of effect and records what it saw. */
function resolve(planned: Planned[]): void {
  const register = new Map<string, Json>();
  for (const op of [...planned].sort((a, b) => a.effectNs - b.effectNs)) {
    const key = JSON.stringify(op.key);
    const current = register.has(key) ? register.get(key)! : null;
    if (op.info) {
      op.type = 'info';
      if (!op.applied) continue;
    }
    if (op.f === 'read') {
      if (current === null) op.type = 'fail';
      op.result = current;
    } else if (op.f === 'write') {
      register.set(key, op.arg);
    } else {
      const [from, to] = op.arg as [number, number];
      if (current === from) register.set(key, to);
      else if (!op.info) op.type = 'fail';
    }
  }
}

export function randomRegisterHistory(options: RandomHistoryOptions): Op[] {
  const random = seededRandom(options.seed);
  const planned = plan(options, random);
  resolve(planned);
  const wrap = (key: Json, value: Json): Json => (options.keys ? [key, value] : value);
  const events: Array<{ timeNs: number; order: number; op: Omit<Op, 'index'> }> = [];
  for (const p of planned) {
    const invokeValue = p.f === 'read' ? null : p.arg;
    const common = { process: p.process, f: p.f };
    events.push({ timeNs: p.startNs, order: 1, op: { ...common, time: p.startNs, type: 'invoke', value: wrap(p.key, invokeValue) } });
    const completion: Omit<Op, 'index'> = { ...common, time: p.endNs, type: p.type, value: wrap(p.key, p.type === 'ok' ? p.result : invokeValue) };
    if (p.type === 'fail') completion.error = ['key-does-not-exist', 'not found'];
    if (p.type === 'info') completion.error = 'net-timeout';
    events.push({ timeNs: p.endNs, order: 0, op: completion });
  }
  // completions before invocations at the same instant: the earlier op then precedes the later
  events.sort((a, b) => a.timeNs - b.timeNs || a.order - b.order);
  return events.map((e, index) => ({ ...e.op, index }) as Op);
}

/**
 * Makes a linearizable history non-linearizable: the ok read nearest the middle now returns a
 * value no operation ever wrote.
 */
export function withImpossibleRead(history: Op[], impossibleValue: Json = 99): Op[] {
  const middle = Math.floor(history.length / 2);
  let target = -1;
  for (let distance = 0; distance < history.length && target < 0; distance++) {
    for (const i of [middle + distance, middle - distance]) {
      const op = history[i];
      if (op && op.type === 'ok' && op.f === 'read') {
        target = i;
        break;
      }
    }
  }
  if (target < 0) throw new Error('no ok read to corrupt');
  return history.map((op, i) => {
    if (i !== target) return op;
    const value = Array.isArray(op.value) ? [op.value[0] ?? null, impossibleValue] : impossibleValue;
    return { ...op, value };
  });
}

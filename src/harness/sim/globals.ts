// For the duration of a simulated run, the globals a node might read time or randomness from
// directly (Date, performance.now, process.hrtime, Math.random, node:crypto's random values,
// setTimeout and friends) answer from the virtual clock and a seeded generator. The run is in a worker thread of its own, so the patch
// never reaches the parent's realm, and restore() puts everything back before the checking stage.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Rng } from '../types.js';
import type { SimClock } from './clock.js';

// node:crypto as the object its named ESM exports mirror: what is replaced on it reaches a node's
// `import { randomBytes } from 'node:crypto'` once syncBuiltinESMExports() runs.
const cryptoModule = createRequire(import.meta.url)('node:crypto') as Record<string, unknown>;

/** Virtual wall-clock time at the start of every simulated run (2026-01-01T00:00:00Z): fixed, so replays match. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

/** What a node's own timers go through: the node decides whether a timer still runs (killed, paused). */
export interface TimerScope {
  readonly nodeId: string;
  schedule(delayMs: number, fn: () => void, repeatMs: number | null): () => void;
  /** false once the node is dead: none of its code runs any more */
  readonly alive: boolean;
  /** Ends the node as its process would end: process.exit, or an exception nothing caught. */
  crash(error: unknown, how: CrashCause): void;
}

/** What ended a node's process, as Node would say it. */
export type CrashCause = 'uncaught exception' | 'unhandled promise rejection';

/** A node called process.exit: the call throws this out of the node's code instead of ending the worker. */
export class SimExit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code}) called by a simulated node`);
    this.name = 'SimExit';
  }
}

export interface SimGlobals {
  /** The node whose code runs now (its timers belong to it); null between nodes. */
  current: TimerScope | null;
  /**
   * The node whose event ran last. Code that runs outside any event (a promise continuation after
   * an await, a callback of real I/O) is that node's: the clock runs one event per turn and lets
   * its microtasks settle before the next, so an unhandled rejection or a process.exit there is
   * charged to it.
   */
  lastRan: TimerScope | null;
  /** An exception or rejection no node code caught: the node it belongs to crashes. */
  uncaught(error: unknown, how: CrashCause): void;
  install(): void;
  restore(): void;
}

interface FakeTimeout {
  cancel: () => void;
  ref(): FakeTimeout;
  unref(): FakeTimeout;
  hasRef(): boolean;
  refresh(): FakeTimeout;
  [Symbol.toPrimitive](): number;
}

/** Replaces a property for the run, remembering how to put it back. */
type Replace = (target: Record<string, unknown>, key: string, value: unknown) => void;

function replacer(saved: Array<() => void>): Replace {
  return (target, key, value) => {
    const had = Object.prototype.hasOwnProperty.call(target, key);
    const old = target[key];
    Object.defineProperty(target, key, { value, configurable: true, writable: true });
    saved.push(() => {
      if (had) Object.defineProperty(target, key, { value: old, configurable: true, writable: true });
      else delete target[key];
    });
  };
}

/** Date, Math.random, performance.now and process.hrtime from the virtual clock and the seeded generator. */
function installTime(replace: Replace, clock: SimClock, rng: Rng): void {
  const nowMs = (): number => SIM_EPOCH_MS + Math.floor(clock.nowNs() / 1e6);
  const RealDate = Date;
  class SimDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(nowMs());
      else super(...(args as [string]));
    }
    static override now(): number {
      return nowMs();
    }
  }
  replace(globalThis as unknown as Record<string, unknown>, 'Date', SimDate);
  replace(Math as unknown as Record<string, unknown>, 'random', () => rng.next());
  replace(performance as unknown as Record<string, unknown>, 'now', () => clock.nowNs() / 1e6);
  const hrtime = Object.assign(
    (previous?: [number, number]): [number, number] => {
      const ns = clock.nowNs() - (previous === undefined ? 0 : previous[0] * 1e9 + previous[1]);
      return [Math.floor(ns / 1e9), ns % 1e9];
    },
    { bigint: (): bigint => BigInt(clock.nowNs()) },
  );
  replace(process as unknown as Record<string, unknown>, 'hrtime', hrtime);
}

/**
 * node:crypto's random values (randomBytes, randomFill(Sync), randomInt, randomUUID,
 * getRandomValues, and the web crypto's getRandomValues) from the seeded generator, so a node that
 * draws its ids there replays too. Not for keys: nothing in a simulated run is secret.
 */
function installCryptoRandom(replace: Replace, rng: Rng): void {
  const fill = <T extends ArrayBufferView>(view: T, offset = 0, size = view.byteLength - offset): T => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, size);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
    return view;
  };
  type Callback<V> = (error: Error | null, value: V) => void;
  // Node answers the callback forms asynchronously; a microtask keeps that, in virtual time.
  const later = <V>(callback: Callback<V> | undefined, value: V): V => {
    if (typeof callback === 'function') queueMicrotask(() => callback(null, value));
    return value;
  };
  const randomBytes = (size: number, callback?: Callback<Buffer>): Buffer => later(callback, fill(Buffer.alloc(size)));
  const randomFillSync = <T extends ArrayBufferView>(view: T, offset?: number, size?: number): T => fill(view, offset, size);
  const randomFill = <T extends ArrayBufferView>(view: T, ...rest: unknown[]): void => {
    const callback = rest.pop() as Callback<T>;
    const [offset, size] = rest as [number | undefined, number | undefined];
    later(callback, fill(view, offset, size));
  };
  const randomInt = (...args: unknown[]): number | undefined => {
    const callback = typeof args.at(-1) === 'function' ? (args.pop() as Callback<number>) : undefined;
    const [min, max] = args.length === 1 ? [0, args[0] as number] : (args as [number, number]);
    const value = min + Math.floor(rng.next() * (max - min));
    return callback === undefined ? value : void later(callback, value);
  };
  const randomUUID = (): string => {
    const b = fill(new Uint8Array(16));
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    const hex = Buffer.from(b).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  const getRandomValues = <T extends ArrayBufferView>(view: T): T => fill(view);
  // node:crypto's getRandomValues is a fixed getter of the web crypto's, which is patched instead.
  for (const [name, fn] of Object.entries({ randomBytes, randomFillSync, randomFill, randomInt, randomUUID })) replace(cryptoModule, name, fn);
  const web = (globalThis as { crypto?: object }).crypto;
  const webPrototype = web === undefined ? null : (Object.getPrototypeOf(web) as Record<string, unknown> | null);
  if (webPrototype !== null) {
    replace(webPrototype, 'getRandomValues', getRandomValues);
    replace(webPrototype, 'randomUUID', randomUUID);
  }
}

/** process.exit ends the node that calls it, not the worker. */
function installExit(replace: Replace, globals: SimGlobals): void {
  // The node dies here, before the throw unwinds: src/lib answers a handler's exception with
  // error 13, and that answer must not leave a process that has exited.
  replace(process as unknown as Record<string, unknown>, 'exit', (code?: number) => {
    const exit = new SimExit(typeof code === 'number' ? code : 0);
    globals.uncaught(exit, 'uncaught exception');
    throw exit;
  });
}

/** setTimeout, setInterval, setImmediate and their clears, on the virtual clock in the running node's scope. */
function installTimers(replace: Replace, clock: SimClock, globals: SimGlobals, ids: { next: number }): void {
  const timer = (delayMs: unknown, fn: unknown, args: unknown[], repeat: boolean): FakeTimeout => {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    // Node's rule: a delay below 1 ms (or not a number) is 1 ms; setImmediate's is 0 (next turn).
    const delay = delayMs === 'immediate' ? 0 : typeof delayMs === 'number' && delayMs >= 1 ? delayMs : 1;
    const run = (): void => {
      (fn as (...a: unknown[]) => void)(...args);
    };
    // A node's own timer runs in its scope, which crashes the node on a throw (as a process
    // dies of an exception in a bare setTimeout callback); one set after an await belongs to
    // the node whose event ran last.
    const scope = globals.current;
    const cancel = scope !== null ? scope.schedule(delay, run, repeat ? delay : null) : unscopedTimer(clock, globals, delay, run, repeat);
    const id = ids.next++;
    const handle: FakeTimeout = {
      cancel,
      ref: () => handle,
      unref: () => handle,
      hasRef: () => true,
      refresh: () => handle,
      [Symbol.toPrimitive]: () => id,
    };
    return handle;
  };
  const clear = (handle: unknown): void => {
    if (typeof handle === 'object' && handle !== null && typeof (handle as FakeTimeout).cancel === 'function') (handle as FakeTimeout).cancel();
  };
  const g = globalThis as unknown as Record<string, unknown>;
  replace(g, 'setTimeout', (fn: unknown, delayMs?: unknown, ...args: unknown[]) => timer(delayMs, fn, args, false));
  replace(g, 'setInterval', (fn: unknown, delayMs?: unknown, ...args: unknown[]) => timer(delayMs, fn, args, true));
  replace(g, 'setImmediate', (fn: unknown, ...args: unknown[]) => timer('immediate', fn, args, false));
  replace(g, 'clearTimeout', clear);
  replace(g, 'clearInterval', clear);
  replace(g, 'clearImmediate', clear);
}

/** onUncaught: an exception that belongs to no node (the harness's own, a bug) is reported there. */
export function createSimGlobals(clock: SimClock, rng: Rng, onUncaught: (error: unknown) => void): SimGlobals {
  const saved: Array<() => void> = [];
  const timerIds = { next: 1 };
  const globals: SimGlobals = {
    current: null,
    lastRan: null,
    uncaught(error, how) {
      const owner = globals.current ?? globals.lastRan;
      if (owner === null) onUncaught(error);
      else owner.crash(error, how);
    },
    install() {
      const replace = replacer(saved);
      installTime(replace, clock, rng);
      installExit(replace, globals);
      installTimers(replace, clock, globals, timerIds);
      installCryptoRandom(replace, rng);
      syncBuiltinESMExports();
    },
    restore() {
      while (saved.length > 0) (saved.pop() as () => void)();
      syncBuiltinESMExports();
    },
  };
  return globals;
}

/**
 * A timer set outside any node's event (after an await). It runs whether or not its node is
 * paused (as before), but not once its node is dead, and a throw in it crashes that node; set by
 * no node at all (the harness's own), a throw is reported through uncaught.
 */
function unscopedTimer(clock: SimClock, globals: SimGlobals, delayMs: number, run: () => void, repeat: boolean): () => void {
  const owner = globals.lastRan;
  let cancel = (): void => {};
  const arm = (): void => {
    cancel = clock.setTimer(delayMs, () => {
      if (owner !== null && !owner.alive) return;
      if (repeat) arm();
      globals.lastRan = owner;
      try {
        run();
      } catch (error) {
        globals.uncaught(error, 'uncaught exception');
      }
    });
  };
  arm();
  return () => cancel();
}

// The runtime's one door to the outside world: time, timers, randomness and the line transport.
// A real node uses the process (stdin/stdout/stderr, Node's timers, the wall clock); the harness's
// deterministic simulation installs a host of its own for each node it loads, so that every event
// a node sees comes from the simulation's virtual clock and seeded randomness.

import type { Readable, Writable } from 'node:stream';

/** An opaque timer handle; only the host that made it can clear it. */
export type TimerHandle = unknown;

export interface NodeHost {
  /** milliseconds; only differences are meaningful */
  now(): number;
  /** Calls fn once after delayMs. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Calls fn every intervalMs until cleared. */
  setRepeating(intervalMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** uniform in [0, 1) */
  random(): number;
  /** Starts the input: text arrives in chunks that may hold several lines or part of one. */
  listen(onText: (text: string) => void, onEnd: () => void, onError: (error: Error) => void): void;
  /** Writes output text (whole lines). */
  write(text: string): void;
  /** Writes log text (stderr). */
  writeLog(text: string): void;
  /** Calls done once everything written so far has been handed on. */
  flush(done: () => void): void;
  /** Runs fn after the current turn of the event loop (replies of handlers finishing now go first). */
  afterTurn(fn: () => void): void;
}

export interface StreamHostOptions {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
}

/** The host of a real node: the given streams (default the process's), Node's timers, the wall clock. */
export function streamHost(options: StreamHostOptions = {}): NodeHost {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  return {
    now: () => Date.now(),
    setTimer: (delayMs, fn) => setTimeout(fn, delayMs),
    setRepeating: (intervalMs, fn) => setInterval(fn, intervalMs),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
    random: () => Math.random(),
    listen(onText, onEnd, onError) {
      stdin.setEncoding('utf8');
      stdin.on('data', onText);
      stdin.on('error', onError);
      stdin.on('end', onEnd);
    },
    write: (text) => {
      stdout.write(text);
    },
    writeLog: (text) => {
      stderr.write(text);
    },
    flush: (done) => {
      stdout.write('', () => done());
    },
    afterTurn: (fn) => {
      setImmediate(fn);
    },
  };
}

/**
 * Where a simulation leaves the host for the node it is about to load. A global symbol, not a
 * module variable: each bundle carries its own copy of this library, and the harness that sets the
 * hook is another bundle.
 */
export const INSTALLED_HOST_KEY = Symbol.for('glomers.node-host');

/** Takes the host a simulation installed for the node being loaded (once), if there is one. */
export function takeInstalledHost(): NodeHost | undefined {
  const slot = globalThis as { [INSTALLED_HOST_KEY]?: NodeHost };
  const host = slot[INSTALLED_HOST_KEY];
  if (host === undefined) return undefined;
  delete slot[INSTALLED_HOST_KEY];
  return host;
}

/**
 * Where a simulation leaves the file operations that record files (durable.ts) use when given
 * none: the simulated disk, which can lose what was not fsynced at a power cut, tear a last write
 * or be full (docs/simulation.md). One for the whole run, unlike the host: it tells nodes apart
 * itself. A global symbol for the same reason as INSTALLED_HOST_KEY.
 */
export const INSTALLED_FS_KEY = Symbol.for('glomers.node-fs');

/** The file operations a simulation installed (a DurableFs), or undefined: use node:fs. Not taken: every file opened during the run uses it. */
export function installedFs(): unknown {
  return (globalThis as { [INSTALLED_FS_KEY]?: unknown })[INSTALLED_FS_KEY];
}

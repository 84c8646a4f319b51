// One simulated test: runTest (the same runner as a real test) with the simulation's backend:
// nodes as module instances in this process, everything on one virtual clock. Call it in a
// process of its own (worker.ts): while the nodes run, this realm's time, timer and randomness
// globals are the simulation's, and the working directory is a folder of this run.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTest, type RunDeps, type TestOutcome } from '../run/runner.js';
import { deriveRng } from '../util/rng.js';
import type { TestOptions } from '../types.js';
import { simBudget, type SimBudget } from './budget.js';
import { createSimClock, type OverBudget } from './clock.js';
import { INSTALLED_FS_KEY } from '../../lib/host.js';
import { createSimDisk } from './disk.js';
import { createSimGlobals } from './globals.js';
import { createSimBackend } from './nodes.js';

let runsInThisProcess = 0;

export async function runSimTest(opts: TestOptions, deps: RunDeps, budget: SimBudget = simBudget(opts)): Promise<TestOutcome> {
  // The backend stops nodes when the clock finds the run past its budget (docs/simulation.md).
  let onOver = (_over: OverBudget): void => {};
  const clock = createSimClock({
    eventsPerInstant: budget.eventsPerInstant,
    heapBytes: budget.heapMb * 2 ** 20,
    wallMs: budget.wallMs,
    onOver: (over) => onOver(over),
  });
  const globals = createSimGlobals(clock, deriveRng(opts.seed, 'node-globals'), (error) => {
    process.stderr.write(`glomers --sim: uncaught exception outside every node: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  });
  const runTag = `${process.pid}-${++runsInThisProcess}`;
  // Files nodes write in their working directory or under os.tmpdir() go to a folder of this run,
  // so no run (or seed) sees another's: a replay starts from the same empty folder.
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'glomers-sim-'));
  const savedTmpDir = process.env.TMPDIR;
  const savedCwd = process.cwd();
  const savedArgv = process.argv;
  // Record files (src/lib/durable.ts) write through the simulated disk, each file its opener's.
  const disk = createSimDisk(() => (globals.current ?? globals.lastRan)?.nodeId ?? 'harness', deriveRng(opts.seed, 'disk'));
  const simBackend = createSimBackend({ clock, globals, seed: opts.seed, runTag, disk: { disk, tearOnKill: opts.nemesis.includes('disk') } });
  onOver = (over) => simBackend.overBudget(over);
  let installed = false;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    globals.restore();
    delete (globalThis as { [INSTALLED_FS_KEY]?: unknown })[INSTALLED_FS_KEY];
    clock.close();
    process.chdir(savedCwd);
    if (savedTmpDir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpDir;
  };
  const backend = {
    ...simBackend,
    start(...args: Parameters<typeof simBackend.start>) {
      // The globals change only once the run's real I/O is done (store folder, binary check).
      if (!installed) {
        installed = true;
        process.chdir(tmpDir);
        process.env.TMPDIR = tmpDir;
        globals.install();
        (globalThis as { [INSTALLED_FS_KEY]?: unknown })[INSTALLED_FS_KEY] = disk.fs;
      }
      return simBackend.start(...args);
    },
    afterNodes: restore,
  };
  // What a node's code leaves unhandled ends a node process, and here ends that node (the one whose
  // event ran last: globals.lastRan); it must not end the harness, whose own handlers would take
  // it for an internal error.
  const swapped = swapListeners({
    unhandledRejection: (reason: unknown) => globals.uncaught(reason, 'unhandled promise rejection'),
    uncaughtException: (error: unknown) => globals.uncaught(error, 'uncaught exception'),
  });
  try {
    return await clock.drive(runTest(opts, { ...deps, backend }));
  } finally {
    restore();
    swapped.restore();
    process.argv = savedArgv;
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

type ProcessEvent = 'unhandledRejection' | 'uncaughtException';

/** Replaces the process's listeners for these events until restore(). */
function swapListeners(handlers: Record<ProcessEvent, (reason: unknown) => void>): { restore(): void } {
  const saved = new Map<ProcessEvent, Array<(...args: unknown[]) => void>>();
  for (const [event, handler] of Object.entries(handlers) as Array<[ProcessEvent, (reason: unknown) => void]>) {
    saved.set(event, process.listeners(event as 'unhandledRejection') as Array<(...args: unknown[]) => void>);
    process.removeAllListeners(event);
    process.on(event as 'unhandledRejection', handler);
  }
  return {
    restore() {
      for (const [event, listeners] of saved) {
        process.removeAllListeners(event);
        for (const listener of listeners) process.on(event as 'unhandledRejection', listener);
      }
    },
  };
}

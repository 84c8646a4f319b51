// Simulated nodes: the same bundle a real run spawns, imported into this thread once per node (a
// fresh module instance per start), with a NodeHost (src/lib/host.ts) that the runtime picks up
// from a global hook when createNode is called without streams. Every delivery and timer of a node
// is an event on the virtual clock; a kill abandons the instance, a pause holds its events.
import { pathToFileURL } from 'node:url';
import { INSTALLED_HOST_KEY, type NodeHost } from '../../lib/host.js';
import type { NodeProcess, NodeProcessOptions } from '../nodes/process.js';
import { deriveRng } from '../util/rng.js';
import type { NodeBackend } from '../nodes/backend.js';
import type { Message } from '../types.js';
import type { OverBudget, SimClock } from './clock.js';
import { SimExit, type CrashCause, type SimGlobals, type TimerScope } from './globals.js';
import type { SimDisk } from './disk.js';
import { nodeFactory } from './load.js';
import { createInbox, createNodeLog, createNodeTimers, createSimHost, createStdoutReader, type NodeInbox, type NodeLife, type NodeLog } from './node-parts.js';

export interface SimBackendOptions {
  clock: SimClock;
  globals: SimGlobals;
  seed: number;
  /** tags module URLs so that no two runs in one thread share a module instance */
  runTag: string;
  /** the run's simulated disk and whether a kill tears a node's last unsynced write (--nemesis disk) */
  disk?: { disk: SimDisk; tearOnKill: boolean };
}

interface SimNode extends NodeProcess, TimerScope {
  pause(): boolean;
  resume(): boolean;
  /** Ends the node for the simulation's budget: with this problem reported, or silently (null). */
  halt(problem: string | null): void;
}

export interface SimBackend extends NodeBackend {
  /** The run went past its budget: stops the node at fault (every node for heap and wall time). */
  overBudget(over: OverBudget): void;
}

const BUDGET_ADVICE: Record<OverBudget['kind'], string> = {
  instant:
    'it never let virtual time pass (a setTimeout(0), setImmediate or promise loop, or waiting for Date.now() to move, which under --sim it does only between events); the run went on without it',
  heap: 'every node was stopped and the run went on to its end without them',
  wall: 'every node was stopped and the run went on to its end without them',
};

export function createSimBackend(options: SimBackendOptions): SimBackend {
  const { clock } = options;
  const simNodes = new Map<NodeProcess, SimNode>();
  const incarnations = new Map<string, number>();
  // Nodes load one at a time: each import runs the bundle's top-level code with its own host installed.
  let loadQueue: Promise<void> = Promise.resolve();

  return {
    kind: 'sim',
    clock,
    start(nodeOptions) {
      const incarnation = (incarnations.get(nodeOptions.nodeId) ?? 0) + 1;
      incarnations.set(nodeOptions.nodeId, incarnation);
      const node = createSimNode(nodeOptions, options, incarnation, (load) => {
        loadQueue = loadQueue.then(load);
      });
      // Dead incarnations leave: the map holds the running nodes and those killed since the last start.
      for (const [key, old] of simNodes) if (!old.alive) simNodes.delete(key);
      simNodes.set(node, node);
      return node;
    },
    pause: (node) => simNodes.get(node)?.pause() ?? false,
    resume: (node) => simNodes.get(node)?.resume() ?? false,
    ...(options.disk === undefined ? {} : { storage: diskFaults(options.disk.disk) }),
    overBudget(over) {
      const live = [...simNodes.values()].filter((node) => node.alive);
      const culprit = live.find((node) => node === options.globals.lastRan);
      const problem = `stopped by the simulation's budget (docs/simulation.md): ${over.detail}; ${BUDGET_ADVICE[over.kind]}`;
      if (over.kind === 'instant' && culprit !== undefined) {
        culprit.halt(problem);
        return;
      }
      // One problem for the lot, named after every node it stopped.
      (culprit ?? live[0])?.halt(problem.replace('stopped by', `${live.map((node) => node.nodeId).join(', ')} stopped by`));
      for (const node of live) node.halt(null);
    },
  };
}

/** The nemesis's storage faults on the simulated disk. */
function diskFaults(disk: SimDisk): NonNullable<NodeBackend['storage']> {
  return {
    // Said as a kill's is, so that reports count it as one (the history marks it power: true).
    powerCut(nodeId) {
      disk.powerCut(nodeId);
      return 'killed';
    },
    setDiskFull(nodeId, full) {
      disk.setFull(nodeId, full);
      return full ? 'disk-full' : 'disk-ok';
    },
  };
}

/** What a node's problem reports, for the two ways a simulated node ends (crash, budget). */
interface Ending {
  detail: string | null;
  exitCode: number | null;
}

/** How a crash ends the node, as Node would end its process (status 1 for both causes). */
function crashEnding(error: unknown, how: CrashCause): Ending {
  if (error instanceof SimExit) return { detail: `crashed during the test with exit status ${error.code} (process.exit)`, exitCode: error.code };
  return { detail: `crashed during the test with an ${how}: ${error instanceof Error ? error.message : String(error)}`, exitCode: 1 };
}

/**
 * One start of a node: its parts (node-parts.ts) over one shared life, the NodeProcess the run
 * drives, and the TimerScope its own global timers go through. Its bundle loads when the backend's
 * queue reaches it.
 */
function createSimNode(options: NodeProcessOptions, sim: SimBackendOptions, incarnation: number, enqueueLoad: (load: () => Promise<void>) => void): SimNode {
  const { clock, globals } = sim;
  const life: NodeLife = { state: 'loading', inScope: (fn) => runInScope(globals, node, fn) };
  const log = createNodeLog(options);
  const inbox = createInbox(clock, life);
  const timers = createNodeTimers(clock, life);
  const stdout = createStdoutReader(options, life, log);
  const host = createSimHost(clock, deriveRng(sim.seed, `node:${options.nodeId}:${incarnation}`), life, { timers, inbox, log, stdout });

  /** Marks the node dead (its inbox and timers dropped) and reports the problem, if it has one. */
  const end = (ending: Ending): void => {
    if (life.state === 'dead') return;
    life.state = 'dead';
    inbox.clear();
    timers.dropAll();
    if (ending.detail !== null) options.onProblem({ node: options.nodeId, kind: 'exit', detail: ending.detail, exitCode: ending.exitCode, signal: null, stderrTail: log.tail() });
  };
  const crash = (error: unknown, how: CrashCause): void => {
    if (life.state === 'dead') return;
    if (!(error instanceof SimExit)) log.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    end(crashEnding(error, how));
  };

  const node: SimNode = {
    nodeId: options.nodeId,
    pid: undefined,
    dropped: { notDraining: 0 },
    get exited() {
      return life.state === 'dead';
    },
    get alive() {
      return life.state !== 'dead';
    },
    crash,
    halt: (problem) => end({ detail: problem, exitCode: null }),
    write(message: Message) {
      if (life.state !== 'dead') inbox.push(`${JSON.stringify(message)}\n`);
    },
    stderrTail: () => log.tail(),
    stop() {
      const killed = life.state !== 'dead';
      end({ detail: null, exitCode: null });
      log.flush();
      // A kill that lands mid-append (or the end of the run, where it changes nothing).
      if (killed && sim.disk?.tearOnKill === true) sim.disk.disk.tearLastWrites(options.nodeId);
      return Promise.resolve();
    },
    schedule: (delayMs, fn, repeatMs) => timers.schedule(delayMs, fn, repeatMs),
    pause() {
      if (life.state !== 'running') return false;
      life.state = 'paused';
      return true;
    },
    resume() {
      if (life.state !== 'paused') return false;
      life.state = 'running';
      timers.releaseHeld();
      inbox.arm();
      return true;
    },
  };
  enqueueLoad(() => loadNode({ options, sim, incarnation, node, life, host, log, inbox, end, crash }));
  return node;
}

/** Runs one of a node's events with the node's scope current (its direct timers are its own). */
function runInScope(globals: SimGlobals, node: SimNode, fn: () => void): void {
  const previous = globals.current;
  globals.current = node;
  globals.lastRan = node;
  try {
    fn();
  } catch (error) {
    node.crash(error, 'uncaught exception');
  } finally {
    globals.current = previous;
  }
}

interface Loading {
  options: NodeProcessOptions;
  sim: SimBackendOptions;
  incarnation: number;
  node: SimNode;
  life: NodeLife;
  host: NodeHost;
  log: NodeLog;
  inbox: NodeInbox;
  end(ending: Ending): void;
  crash(error: unknown, how: CrashCause): void;
}

/**
 * Runs the bundle's top level once more with the node's host left at the global hook, until the
 * runtime claims it (createNode) or the top level ends without claiming it (not a src/lib node).
 * Virtual time stands still meanwhile: loading is real I/O.
 */
async function loadNode(loading: Loading): Promise<void> {
  const { options, sim, node, life } = loading;
  const { clock, globals } = sim;
  if (life.state === 'dead') return;
  const release = clock.hold();
  const claimed = offerHost(loading.host);
  const factory = await nodeFactory(options.binPath).catch(() => null);
  const url = `${pathToFileURL(options.binPath).href}?sim=${encodeURIComponent(sim.runTag)}&node=${encodeURIComponent(options.nodeId)}&start=${loading.incarnation}`;
  process.argv = [process.argv[0] ?? 'node', options.binPath, ...options.args];
  globals.current = node;
  globals.lastRan = node;
  // Not awaited: the bundle's top level ends in `await node.run()`, which settles only when the node stops.
  const evaluated = (factory !== null ? factory() : import(url)).then(
    () => 'finished' as const,
    (error: unknown) => {
      loading.crash(error, 'uncaught exception');
      return 'failed' as const;
    },
  );
  const outcome = await Promise.race([claimed.then(() => 'claimed' as const), evaluated]);
  globals.current = null;
  delete (globalThis as Record<symbol, unknown>)[INSTALLED_HOST_KEY];
  if (outcome === 'finished') {
    loading.log.write(`glomers --sim: ${options.binPath} finished loading without calling createNode() from src/lib; the simulation can only run nodes built on it\n`);
    loading.end({ detail: 'is not a node built on src/lib (it never called createNode()), which --sim needs', exitCode: null });
  }
  if (life.state === 'loading') {
    life.state = 'running';
    loading.inbox.arm();
  }
  release();
}

/** Leaves the host at the global hook src/lib's takeInstalledHost reads; settles when it is taken. */
function offerHost(host: NodeHost): Promise<void> {
  return new Promise<void>((resolve) => {
    Object.defineProperty(globalThis, INSTALLED_HOST_KEY, {
      configurable: true,
      get() {
        delete (globalThis as Record<symbol, unknown>)[INSTALLED_HOST_KEY];
        resolve();
        return host;
      },
    });
  });
}

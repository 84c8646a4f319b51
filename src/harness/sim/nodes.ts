// Simulated nodes: the same bundle a real run spawns, imported into this thread once per node (a
// fresh module instance per start), with a NodeHost (src/lib/host.ts) that the runtime picks up
// from a global hook when createNode is called without streams. Every delivery and timer of a node
// is an event on the virtual clock; a kill abandons the instance, a pause holds its events.
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { INSTALLED_HOST_KEY, type NodeHost, type TimerHandle } from '../../lib/host.js';
import { createLineSplitter } from '../../lib/protocol.js';
import { checkLine, STDERR_TAIL_LINES, type NodeProcess, type NodeProcessOptions } from '../nodes/process.js';
import { deriveRng } from '../util/rng.js';
import type { NodeBackend } from '../nodes/backend.js';
import type { Message } from '../types.js';
import type { SimClock } from './clock.js';
import { SimExit, type CrashCause, type SimGlobals, type TimerScope } from './globals.js';
import type { OverBudget } from './clock.js';
import { nodeFactory } from './load.js';

/** Log text buffered per node before it is appended to the node's log file. */
const LOG_FLUSH_CHARS = 64 * 1024;

type State = 'loading' | 'running' | 'paused' | 'dead';

export interface SimBackendOptions {
  clock: SimClock;
  globals: SimGlobals;
  seed: number;
  /** tags module URLs so that no two runs in one thread share a module instance */
  runTag: string;
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

function createSimNode(
  options: NodeProcessOptions,
  sim: SimBackendOptions,
  incarnation: number,
  enqueueLoad: (load: () => Promise<void>) => void,
): SimNode {
  const { clock, globals } = sim;
  const { nodeId } = options;
  let state: State = 'loading';
  let exited = false;
  let readingStdout = true;
  const inbox: string[] = [];
  let drainArmed = false;
  let onText: ((text: string) => void) | null = null;
  /** timer callbacks that came due while paused, run on resume in order */
  const held: Array<() => void> = [];
  /**
   * The clock timers of this node's own timers, cancelled when it dies: a dead node's timers are
   * gone from the clock, not run and ignored (they would count as its events at their instant).
   */
  const armed = new Set<() => void>();
  const tail: string[] = [];
  let logBuffer = '';
  const rng = deriveRng(sim.seed, `node:${nodeId}:${incarnation}`);

  try {
    // The log file exists from the start, as a real node's does, even if it never logs.
    appendFileSync(options.logFile, '');
  } catch {
    // reported when the first text cannot be written
  }
  const flushLog = (): void => {
    if (logBuffer.length === 0) return;
    try {
      appendFileSync(options.logFile, logBuffer);
    } catch (err) {
      process.stderr.write(`glomers: cannot write ${options.logFile}: ${String(err)}\n`);
    }
    logBuffer = '';
  };
  const stderrLines = createLineSplitter(
    (line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    },
    () => {},
    64 * 1024,
  );
  const writeLog = (text: string): void => {
    logBuffer += text;
    stderrLines.push(text);
    if (options.logStderr) process.stderr.write(text.replace(/^(?=.)/gm, `${nodeId} | `));
    if (logBuffer.length >= LOG_FLUSH_CHARS) flushLog();
  };

  const die = (kind: 'exit', detail: string | null, exitCode: number | null): void => {
    if (state === 'dead') return;
    state = 'dead';
    exited = true;
    inbox.length = 0;
    held.length = 0;
    for (const cancel of armed) cancel();
    armed.clear();
    if (detail !== null) options.onProblem({ node: nodeId, kind, detail, exitCode, signal: null, stderrTail: tail.slice() });
  };

  /** Runs one of this node's events with the node's scope current (its direct timers are its own). */
  const inScope = (fn: () => void): void => {
    const previous = globals.current;
    globals.current = node;
    globals.lastRan = node;
    try {
      fn();
    } catch (error) {
      crashed(error, 'uncaught exception');
    } finally {
      globals.current = previous;
    }
  };
  const crashed = (error: unknown, how: CrashCause): void => {
    if (state === 'dead') return;
    if (error instanceof SimExit) {
      die('exit', `crashed during the test with exit status ${error.code} (process.exit)`, error.code);
      return;
    }
    writeLog(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    // Node ends a process with status 1 on both.
    die('exit', `crashed during the test with an ${how}: ${error instanceof Error ? error.message : String(error)}`, 1);
  };

  const drain = (): void => {
    drainArmed = false;
    if (state !== 'running' || onText === null || inbox.length === 0) return;
    const text = inbox.join('');
    inbox.length = 0;
    const deliver = onText;
    inScope(() => deliver(text));
  };
  const armDrain = (): void => {
    if (drainArmed || state !== 'running' || onText === null) return;
    drainArmed = true;
    clock.setTimerNs(0, drain);
  };

  const onOutput = (text: string): void => {
    if (state === 'dead') return;
    outputLines.push(text);
  };
  const outputLines = createLineSplitter(
    (line) => {
      if (!readingStdout || state === 'dead' || line.trim() === '') return;
      const checked = checkLine(line, options.isRegistered);
      if (!checked.ok) {
        readingStdout = false;
        const shown = line.length > 2000 ? `${line.slice(0, 2000)}… (${line.length} chars)` : line;
        options.onProblem({
          node: nodeId,
          kind: 'bad-line',
          detail: `printed a bad line to stdout (${checked.reason}); glomers ignores its stdout for the rest of the test, as Maelstrom does.\n  line: ${shown}`,
          stderrTail: tail.slice(),
        });
        return;
      }
      options.onMessage(checked.message);
    },
    (bytes) => writeLog(`(a stdout line of more than ${bytes} chars, dropped)\n`),
    64 * 1024 * 1024,
  );

  const host: NodeHost = {
    now: () => clock.nowNs() / 1e6,
    setTimer: (delayMs, fn) => node.schedule(delayMs >= 1 ? delayMs : 1, fn, null),
    setRepeating: (intervalMs, fn) => node.schedule(intervalMs >= 1 ? intervalMs : 1, fn, intervalMs >= 1 ? intervalMs : 1),
    clearTimer: (handle: TimerHandle) => (handle as () => void)(),
    random: () => rng.next(),
    listen(listener) {
      onText = listener;
      if (state === 'running') armDrain();
    },
    write: onOutput,
    writeLog,
    flush: (done) => {
      clock.setTimerNs(0, done);
    },
    afterTurn: (fn) => {
      clock.setTimerNs(0, () => {
        if (state !== 'dead') inScope(fn);
      });
    },
  };

  const load = async (): Promise<void> => {
    if (state === 'dead') return;
    const release = clock.hold();
    const claimed = new Promise<void>((resolve) => {
      Object.defineProperty(globalThis, INSTALLED_HOST_KEY, {
        configurable: true,
        get() {
          delete (globalThis as Record<symbol, unknown>)[INSTALLED_HOST_KEY];
          resolve();
          return host;
        },
      });
    });
    const factory = await nodeFactory(options.binPath).catch(() => null);
    const url = `${pathToFileURL(options.binPath).href}?sim=${encodeURIComponent(sim.runTag)}&node=${encodeURIComponent(nodeId)}&start=${incarnation}`;
    process.argv = [process.argv[0] ?? 'node', options.binPath, ...options.args];
    globals.current = node;
    globals.lastRan = node;
    // Not awaited: the bundle's top level ends in `await node.run()`, which settles only when the node stops.
    const evaluated = (factory !== null ? factory() : import(url)).then(
      () => 'finished' as const,
      (error: unknown) => {
        crashed(error, 'uncaught exception');
        return 'failed' as const;
      },
    );
    const outcome = await Promise.race([claimed.then(() => 'claimed' as const), evaluated]);
    globals.current = null;
    delete (globalThis as Record<symbol, unknown>)[INSTALLED_HOST_KEY];
    if (outcome === 'finished') {
      writeLog(`glomers --sim: ${options.binPath} finished loading without calling createNode() from src/lib; the simulation can only run nodes built on it\n`);
      die('exit', 'is not a node built on src/lib (it never called createNode()), which --sim needs', null);
    }
    if (state === 'loading') {
      state = 'running';
      armDrain();
    }
    release();
  };

  const node: SimNode = {
    nodeId,
    pid: undefined,
    dropped: { notDraining: 0 },
    get exited() {
      return exited;
    },
    get alive() {
      return state !== 'dead';
    },
    crash: crashed,
    halt(problem) {
      die('exit', problem, null);
    },
    write(message: Message) {
      if (state === 'dead') return;
      inbox.push(`${JSON.stringify(message)}\n`);
      armDrain();
    },
    stderrTail: () => tail.slice(),
    stop() {
      if (state !== 'dead') {
        state = 'dead';
        exited = true;
        inbox.length = 0;
        held.length = 0;
        for (const cancel of armed) cancel();
        armed.clear();
      }
      flushLog();
      return Promise.resolve();
    },
    schedule(delayMs, fn, repeatMs) {
      let cancelled = false;
      let cancel = (): void => {};
      const fire = (): void => {
        armed.delete(cancel);
        if (cancelled || state === 'dead') return;
        if (state === 'paused') {
          // A stopped process's timers fire once it continues; an interval fires once, not per period missed.
          held.push(fire);
          return;
        }
        if (repeatMs !== null) arm(repeatMs);
        inScope(fn);
      };
      const arm = (ms: number): void => {
        cancel = clock.setTimer(ms, fire);
        armed.add(cancel);
      };
      arm(delayMs);
      return () => {
        cancelled = true;
        armed.delete(cancel);
        cancel();
      };
    },
    pause() {
      if (state !== 'running') return false;
      state = 'paused';
      return true;
    },
    resume() {
      if (state !== 'paused') return false;
      state = 'running';
      const due = held.splice(0, held.length);
      for (const fire of due) clock.setTimerNs(0, fire);
      armDrain();
      return true;
    },
  };
  enqueueLoad(load);
  return node;
}

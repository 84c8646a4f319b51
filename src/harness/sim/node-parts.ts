// The parts of one simulated node (composed by createSimNode in nodes.ts), each over the node's
// shared life: its log (file, stderr tail), the reader of its stdout, its inbox, its own timers,
// and the host its runtime takes. A part reads the node's state; only nodes.ts changes it.
import { appendFileSync } from 'node:fs';
import type { NodeHost, TimerHandle } from '../../lib/host.js';
import { createLineSplitter } from '../../lib/protocol.js';
import { checkLine, STDERR_TAIL_LINES, type NodeProcessOptions } from '../nodes/process.js';
import type { Rng } from '../types.js';
import type { SimClock } from './clock.js';

/** Log text buffered per node before it is appended to the node's log file. */
const LOG_FLUSH_CHARS = 64 * 1024;
/** Longest stderr line kept whole in the tail shown with a problem. */
const STDERR_LINE_MAX_CHARS = 64 * 1024;
/** Longest stdout line read, as a real node's pipe reader allows. */
const STDOUT_LINE_MAX_CHARS = 64 * 1024 * 1024;
/** Characters of a bad stdout line quoted in its problem. */
const BAD_LINE_SHOWN_CHARS = 2000;

export type NodeState = 'loading' | 'running' | 'paused' | 'dead';

/** What every part of a node shares: whether it runs, and how to run one of its events. */
export interface NodeLife {
  state: NodeState;
  /** Runs fn as one of this node's events (its scope current; a throw crashes the node). */
  inScope(fn: () => void): void;
}

export interface NodeLog {
  write(text: string): void;
  /** Appends what is buffered to the log file. */
  flush(): void;
  /** The last STDERR_TAIL_LINES lines, for a problem's report. */
  tail(): string[];
}

/** The node's stderr: buffered into its log file, its last lines kept, echoed with --log-stderr. */
export function createNodeLog(options: Pick<NodeProcessOptions, 'nodeId' | 'logFile' | 'logStderr'>): NodeLog {
  const tail: string[] = [];
  let buffered = '';
  try {
    // The log file exists from the start, as a real node's does, even if it never logs.
    appendFileSync(options.logFile, '');
  } catch {
    // reported when the first text cannot be written
  }
  const flush = (): void => {
    if (buffered.length === 0) return;
    try {
      appendFileSync(options.logFile, buffered);
    } catch (err) {
      process.stderr.write(`glomers: cannot write ${options.logFile}: ${String(err)}\n`);
    }
    buffered = '';
  };
  const lines = createLineSplitter(
    (line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    },
    () => {},
    STDERR_LINE_MAX_CHARS,
  );
  return {
    write(text) {
      buffered += text;
      lines.push(text);
      if (options.logStderr) process.stderr.write(text.replace(/^(?=.)/gm, `${options.nodeId} | `));
      if (buffered.length >= LOG_FLUSH_CHARS) flush();
    },
    flush,
    tail: () => tail.slice(),
  };
}

/**
 * The node's stdout: each line checked as a real run checks it and handed to the network; after a
 * bad line the rest is ignored, as Maelstrom does.
 */
export function createStdoutReader(options: NodeProcessOptions, life: NodeLife, log: NodeLog): (text: string) => void {
  let reading = true;
  const lines = createLineSplitter(
    (line) => {
      if (!reading || life.state === 'dead' || line.trim() === '') return;
      const checked = checkLine(line, options.isRegistered);
      if (checked.ok) {
        options.onMessage(checked.message);
        return;
      }
      reading = false;
      const shown = line.length > BAD_LINE_SHOWN_CHARS ? `${line.slice(0, BAD_LINE_SHOWN_CHARS)}… (${line.length} chars)` : line;
      options.onProblem({
        node: options.nodeId,
        kind: 'bad-line',
        detail: `printed a bad line to stdout (${checked.reason}); glomers ignores its stdout for the rest of the test, as Maelstrom does.\n  line: ${shown}`,
        stderrTail: log.tail(),
      });
    },
    (bytes) => log.write(`(a stdout line of more than ${bytes} chars, dropped)\n`),
    STDOUT_LINE_MAX_CHARS,
  );
  return (text) => {
    if (life.state !== 'dead') lines.push(text);
  };
}

export interface NodeInbox {
  /** A line for the node's stdin; delivered in the next turn with the others that came meanwhile. */
  push(line: string): void;
  /** The runtime starts reading. */
  listen(onText: (text: string) => void): void;
  /** Delivers what waits once the node runs (loaded, resumed). */
  arm(): void;
  clear(): void;
}

/** The node's stdin: lines that arrive at one instant reach it as one chunk, in one event. */
export function createInbox(clock: SimClock, life: NodeLife): NodeInbox {
  const waiting: string[] = [];
  let armed = false;
  let onText: ((text: string) => void) | null = null;
  const drain = (): void => {
    armed = false;
    if (life.state !== 'running' || onText === null || waiting.length === 0) return;
    const text = waiting.join('');
    waiting.length = 0;
    const deliver = onText;
    life.inScope(() => deliver(text));
  };
  const arm = (): void => {
    if (armed || life.state !== 'running' || onText === null) return;
    armed = true;
    clock.setTimerNs(0, drain);
  };
  return {
    push(line) {
      waiting.push(line);
      arm();
    },
    listen(listener) {
      onText = listener;
      if (life.state === 'running') arm();
    },
    arm,
    clear() {
      waiting.length = 0;
    },
  };
}

export interface NodeTimers {
  schedule(delayMs: number, fn: () => void, repeatMs: number | null): () => void;
  /** The timers that came due while paused, run now in order. */
  releaseHeld(): void;
  /** The node died: its timers leave the clock, and held ones are forgotten. */
  dropAll(): void;
}

/**
 * The node's own timers on the virtual clock. While paused, a timer that comes due waits and runs
 * once on resume (an interval once, not per period missed), as a stopped process's do. A dead
 * node's timers are cancelled, not run and ignored: they would count as its events at their
 * instant (the events-per-instant budget, clock.ts).
 */
export function createNodeTimers(clock: SimClock, life: NodeLife): NodeTimers {
  const held: Array<() => void> = [];
  const armed = new Set<() => void>();
  return {
    schedule(delayMs, fn, repeatMs) {
      let cancelled = false;
      let cancel = (): void => {};
      const fire = (): void => {
        armed.delete(cancel);
        if (cancelled || life.state === 'dead') return;
        if (life.state === 'paused') {
          held.push(fire);
          return;
        }
        if (repeatMs !== null) arm(repeatMs);
        life.inScope(fn);
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
    releaseHeld() {
      const due = held.splice(0, held.length);
      for (const fire of due) clock.setTimerNs(0, fire);
    },
    dropAll() {
      held.length = 0;
      for (const cancel of armed) cancel();
      armed.clear();
    },
  };
}

/** The host the node's runtime takes (src/lib/host.ts): virtual time, its own timers and randomness, the inbox and stdout. */
export function createSimHost(clock: SimClock, rng: Rng, life: NodeLife, parts: { timers: NodeTimers; inbox: NodeInbox; log: NodeLog; stdout: (text: string) => void }): NodeHost {
  const { timers, inbox, log } = parts;
  return {
    now: () => clock.nowNs() / 1e6,
    setTimer: (delayMs, fn) => timers.schedule(delayMs >= 1 ? delayMs : 1, fn, null),
    setRepeating: (intervalMs, fn) => timers.schedule(intervalMs >= 1 ? intervalMs : 1, fn, intervalMs >= 1 ? intervalMs : 1),
    clearTimer: (handle: TimerHandle) => (handle as () => void)(),
    random: () => rng.next(),
    listen: (listener) => inbox.listen(listener),
    write: parts.stdout,
    writeLog: (text) => log.write(text),
    flush: (done) => {
      clock.setTimerNs(0, done);
    },
    afterTurn: (fn) => {
      clock.setTimerNs(0, () => {
        if (life.state !== 'dead') life.inScope(fn);
      });
    },
  };
}

// Node process supervision: spawn, stdout lines into the network (validated as Maelstrom does),
// stderr into node-logs/<node>.log, crash detection, and a guarantee that no child outlives us.
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { MAX_JSON_DEPTH, createLineSplitter, jsonDepthExceeds, lineMayBeTooDeep, previewJson } from '../../lib/protocol.js';
import type { Body, Message, NodeProblem } from '../types.js';

/** Lines of stderr kept per node for problem reports. */
export const STDERR_TAIL_LINES = 20;
/** A stdout "line" longer than this without a newline is treated as a bad line. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;
const MAX_STDERR_LINE_CHARS = 64 * 1024;
/** How much lower than the harness node processes run (Unix niceness steps). */
const NODE_NICENESS = 10;

/** Bytes waiting for a node's stdin beyond which nodes sending to it are read no further. */
export const STDIN_SOFT_LIMIT_BYTES = 1 << 20;
/** Bytes waiting for a node's stdin beyond which it is declared not draining at once. */
export const STDIN_HARD_LIMIT_BYTES = 16 << 20;
/** A node whose stdin backlog (over the soft limit) takes nothing for this long is not draining. */
export const NOT_DRAINING_AFTER_MS = 2_000;
/** Bytes of stderr waiting for the log file beyond which the node's stderr is read no further. */
const LOG_BACKLOG_LIMIT_BYTES = 16 << 20;
/** After its process exits, how long a node's pipes may stay open before they are torn down. */
const PIPE_CLOSE_GRACE_MS = 500;

// ---------------------------------------------------------------------------------------------
// Every child we spawn, so that teardown paths (normal end, signals, crashes) can kill them.
//
// Each node starts in its own process group (detached: a new session), so that what it forks goes
// with it: teardown SIGKILLs the whole group, never only the node. A group is forgotten only once it
// has been killed, since children a node forked may outlive the node itself.

const liveChildren = new Set<ChildProcess>();
const liveGroups = new Set<number>();

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // the group is empty already
  }
}

/** SIGKILLs every node's process group. Synchronous, so it is safe inside an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pgid of liveGroups) killGroup(pgid);
}

// A SIGKILLed harness runs no handler at all. One watchdog process per harness (awk, a few hundred
// KB) holds a pipe from us and is told each node's group id; when the pipe closes, however we
// died, it kills every group it still holds. It sits in its own session, so Ctrl-C on the terminal
// does not reach it, and it is unref'd, so it never keeps the harness alive.
const WATCHDOG_SCRIPT = [
  '/^[0-9]+$/ { live[$0] = 1 }',
  '/^-[0-9]+$/ { delete live[substr($0, 2)] }',
  'END { for (g in live) system("kill -9 -" g " 2>/dev/null") }',
].join('\n');
let watchdog: ChildProcess | null | undefined;

function tellWatchdog(line: string): void {
  if (watchdog === undefined) {
    try {
      watchdog = spawn('awk', [WATCHDOG_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      watchdog.on('error', (err) => {
        process.stderr.write(`glomers: no watchdog (${err.message}); nodes may outlive a SIGKILLed harness\n`);
        watchdog = null;
      });
      watchdog.stdin?.on('error', () => {});
      watchdog.unref();
      (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    } catch {
      watchdog = null;
    }
  }
  if (watchdog?.stdin && !watchdog.stdin.destroyed) watchdog.stdin.write(`${line}\n`);
}

/**
 * Puts a child spawned with `detached: true` (its own process group) under teardown and the
 * watchdog, so it dies with the harness however the harness dies. Returns the release, which
 * forgets the group: call it once the child has exited and its group was killed (a group id
 * forgotten later could name some other process's group).
 */
export function superviseGroup(child: ChildProcess): () => void {
  liveChildren.add(child);
  const pgid = child.pid;
  if (pgid !== undefined) {
    liveGroups.add(pgid);
    tellWatchdog(String(pgid));
  }
  return () => {
    liveChildren.delete(child);
    if (pgid === undefined || !liveGroups.delete(pgid)) return;
    tellWatchdog(`-${pgid}`);
  };
}

/** Pid of the watchdog process, if one runs (for tests). */
export function watchdogPid(): number | undefined {
  return watchdog?.pid;
}

let handlersInstalled = false;

/**
 * Makes sure no node outlives the harness: on exit, SIGINT, SIGTERM and uncaught errors every
 * child gets SIGKILL. Signals exit with 128+signal; uncaught errors exit 255.
 */
export function installTeardownHandlers(hooks: { onInterrupt?: (signal: 'SIGINT' | 'SIGTERM') => void } = {}): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllChildren);
  const onSignal = (signal: NodeJS.Signals, code: number) => () => {
    process.stderr.write(`\nglomers: ${signal} received, killing nodes\n`);
    killAllChildren();
    process.exit(code);
  };
  // The first Ctrl-C (or SIGTERM, as from `timeout`) stops the run and writes what it recorded;
  // a second one quits at once.
  let interrupts = 0;
  const onInterrupt = (signal: 'SIGINT' | 'SIGTERM', code: number) => () => {
    interrupts++;
    if (hooks.onInterrupt === undefined || interrupts > 1) return onSignal(signal, code)();
    process.stderr.write(`\nglomers: ${signal === 'SIGINT' ? 'interrupted' : 'SIGTERM received'}; stopping the run and writing the results recorded so far (again to quit now)\n`);
    hooks.onInterrupt(signal);
  };
  process.on('SIGINT', onInterrupt('SIGINT', 130));
  process.on('SIGTERM', onInterrupt('SIGTERM', 143));
  process.on('SIGHUP', onSignal('SIGHUP', 129));
  const onCrash = (err: unknown) => {
    process.stderr.write(`glomers: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAllChildren();
    process.exit(255);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
}

// ---------------------------------------------------------------------------------------------
// Validation of one stdout line (docs/protocol.md §1).

const ALLOWED_TOP_LEVEL_KEYS = new Set(['src', 'dest', 'body', 'id']);

export type LineCheck = { ok: true; message: Message } | { ok: false; reason: string };

function extraTopLevelKeys(record: Record<string, unknown>): string[] {
  const extra: string[] = [];
  for (const key in record) if (!ALLOWED_TOP_LEVEL_KEYS.has(key)) extra.push(key);
  return extra;
}

export function checkLine(line: string, isRegistered: (id: string) => boolean): LineCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not well-formed JSON (was it meant for stderr?)' };
  }
  // Everything downstream (forwarding, journal, checkers, result files) walks values recursively.
  if (lineMayBeTooDeep(line.length) && jsonDepthExceeds(parsed)) {
    return { ok: false, reason: `nested deeper than ${MAX_JSON_DEPTH} levels` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const record = parsed as Record<string, unknown>;
  const extra = extraTopLevelKeys(record);
  if (extra.length > 0) {
    return { ok: false, reason: `top-level keys other than src/dest/body/id: ${extra.join(', ')}` };
  }
  const { src, dest, body, id } = record;
  if (typeof src !== 'string') return { ok: false, reason: 'src is missing or not a string' };
  if (typeof dest !== 'string') return { ok: false, reason: 'dest is missing or not a string' };
  if (!('body' in record)) return { ok: false, reason: 'body is missing' };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, reason: 'body is not a JSON object' };
  }
  if (id !== undefined && !Number.isInteger(id)) return { ok: false, reason: 'id is not an integer' };
  if (!isRegistered(src)) return { ok: false, reason: `src ${previewJson(src)} is not a node, service or open client` };
  if (!isRegistered(dest)) {
    return {
      ok: false,
      reason: `dest ${previewJson(dest)} is not a node, service or open client (a reply to a client that timed out counts too)`,
    };
  }
  return { ok: true, message: { src, dest, body: body as Body } };
}

// ---------------------------------------------------------------------------------------------
// One node process.

export interface NodeProcessOptions {
  nodeId: string;
  /** absolute canonical path */
  binPath: string;
  args: string[];
  logFile: string;
  logStderr: boolean;
  isRegistered: (id: string) => boolean;
  /** a valid line from the node's stdout */
  onMessage: (message: Message) => void;
  onProblem: (problem: NodeProblem) => void;
  /** a node that floods a peer or stops reading its stdin (default: printed to stderr) */
  onWarning?: (warning: SupervisionWarning) => void;
}

/**
 * What supervision notices about a node that is not a failure of the test: it sends faster than
 * its destinations read ('flood'), or it stopped reading its stdin ('not-draining').
 */
export interface SupervisionWarning {
  node: string;
  kind: 'flood' | 'not-draining';
  detail: string;
  stderrTail: string[];
}

/** Messages dropped because their destination node stopped reading its stdin. */
export interface DropCounts {
  /** messages not written to this node's stdin */
  notDraining: number;
}

export interface NodeProcess {
  readonly nodeId: string;
  readonly pid: number | undefined;
  /** writes one message line to the node's stdin; bodyJson: the body as the network serialised it */
  write(message: Message, bodyJson?: string | null): void;
  stderrTail(): string[];
  /** what supervision dropped on the way to this node */
  readonly dropped: DropCounts;
  /** SIGKILLs the node (if alive) and resolves when it is gone and its log is flushed */
  stop(timeoutMs?: number): Promise<void>;
  readonly exited: boolean;
}

export function formatProblem(problem: Pick<NodeProblem, 'node' | 'detail' | 'stderrTail'>): string {
  const tail =
    problem.stderrTail.length === 0
      ? '  (no stderr output)'
      : problem.stderrTail.map((line) => `  | ${line}`).join('\n');
  return `\n*** glomers: node ${problem.node}: ${problem.detail}\n  last stderr lines of ${problem.node}:\n${tail}\n`;
}

// ---------------------------------------------------------------------------------------------
// Back-pressure between nodes. A node's stdin backlog lives in this process; a node that sends
// faster than its destination reads would grow it without bound. So a node's stdout is read no
// further while a node it just sent to has more than STDIN_SOFT_LIMIT_BYTES waiting, until that
// backlog drains. A destination that takes nothing for NOT_DRAINING_AFTER_MS (or whose backlog
// passes STDIN_HARD_LIMIT_BYTES) is declared not draining: messages to it are dropped and counted
// until it catches up, which also breaks any cycle of nodes waiting on each other.

interface Inbox {
  /** true while senders to this node should wait */
  congested(): boolean;
  /** senders waiting for this inbox to drain */
  readonly waiters: Set<() => void>;
}

/** Inboxes by node id; a set, since concurrent runs in one process may reuse ids. */
const inboxes = new Map<string, Set<Inbox>>();

function congestedInbox(nodeId: string): Inbox | undefined {
  const candidates = inboxes.get(nodeId);
  if (candidates === undefined) return undefined;
  for (const inbox of candidates) if (inbox.congested()) return inbox;
  return undefined;
}

function wake(inbox: Inbox): void {
  const waiting = [...inbox.waiters];
  inbox.waiters.clear();
  for (const resume of waiting) resume();
}

/** What the parts of one supervised node share. */
interface Supervised {
  readonly options: NodeProcessOptions;
  readonly child: ChildProcessWithoutNullStreams;
  /** the last STDERR_TAIL_LINES lines of stderr */
  readonly tail: string[];
  /** problems and warnings announced, whose stderr tails are refreshed when the node stops */
  readonly reported: Array<{ stderrTail: string[] }>;
  /** resolve on the child's 'exit' and 'close', listened for from the start */
  readonly exitEvent: Promise<void>;
  readonly closeEvent: Promise<void>;
  /** forgets the node's group once it is killed and gone (superviseGroup) */
  readonly release: () => void;
  exited: boolean;
  stopping: boolean;
}

function report(node: Supervised, problem: NodeProblem): void {
  node.reported.push(problem);
  node.options.onProblem(problem);
}

function warn(node: Supervised, kind: SupervisionWarning['kind'], detail: string): void {
  const warning: SupervisionWarning = { node: node.options.nodeId, kind, detail, stderrTail: node.tail.slice() };
  node.reported.push(warning);
  if (node.options.onWarning) node.options.onWarning(warning);
  else process.stderr.write(formatProblem(warning));
}

// -- spawn and exit

/** Spawns the node in its own process group, known to teardown and the watchdog, at lower priority. */
function spawnSupervised(options: NodeProcessOptions): { child: ChildProcessWithoutNullStreams; release: () => void } {
  const child = spawn(options.binPath, options.args, {
    cwd: os.tmpdir(),
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: teardown kills what the node forks too.
    detached: true,
  });
  const release = superviseGroup(child);
  if (child.pid !== undefined) {
    // The simulated network's clock runs in this process: nodes get a lower CPU priority so that
    // on a small machine a busy node delays itself (as it would anywhere) rather than every delivery.
    try {
      os.setPriority(child.pid, Math.min(19, os.getPriority(child.pid) + NODE_NICENESS));
    } catch {
      // not permitted here: nodes share the CPU equally, and the lateness figures will show it
    }
  }
  return { child, release };
}

/** Reports a node that could not start, or that died before the harness stopped it. */
function watchExit(node: Supervised, onExit: () => void): void {
  const { child, options } = node;
  child.on('error', (err) => {
    // spawn failures (ENOENT, EACCES) arrive here instead of 'exit'
    if (node.stopping) return;
    node.exited = true;
    liveChildren.delete(child);
    report(node, {
      node: options.nodeId,
      kind: 'exit',
      detail: `could not start ${options.binPath}: ${err.message}`,
      exitCode: null,
      signal: null,
      stderrTail: node.tail.slice(),
    });
  });
  child.on('exit', (code, signal) => {
    node.exited = true;
    liveChildren.delete(child);
    onExit();
    if (node.stopping) return;
    // 'close' comes once stderr is drained too, so the tail shows why it died; a child the node
    // forked may hold the pipes open, so do not wait for it for long.
    let announced = false;
    const announce = (): void => {
      if (announced) return;
      announced = true;
      report(node, {
        node: options.nodeId,
        kind: 'exit',
        detail: `crashed during the test with ${signal !== null ? `signal ${signal}` : `exit status ${code}`}`,
        exitCode: code,
        signal,
        stderrTail: node.tail.slice(),
      });
    };
    child.once('close', announce);
    setTimeout(announce, PIPE_CLOSE_GRACE_MS).unref();
  });
}

// -- stdin: bounded backlog, back-pressure on senders, not-draining detection

interface StdinWriter {
  readonly inbox: Inbox;
  readonly dropped: DropCounts;
  write(message: Message, bodyJson?: string | null): void;
  /** stops the not-draining watch and releases waiting senders */
  stop(): void;
}

/**
 * Each message is written when it is due (docs/network.md): messages due at different times go to
 * the pipe in writes of their own, so a node reading with select() sees each at its time. The lines
 * handed over in one turn of the event loop (all due at that moment: one chunk of a sender's output
 * at latency 0, or one timer wake) share a write, made when the turn ends; on a flood that moved
 * 55 % more messages for 25 % less harness CPU per message than a write per line, and no reader can
 * tell them apart from lines written microseconds apart. When the pipe is full, Node's stream keeps
 * the text until it drains.
 */
/** Watches a backlog over the soft limit: calls onStuck once nothing of it is taken for NOT_DRAINING_AFTER_MS. */
function createStallWatch(takenBytes: () => number, onStuck: () => void): { start(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let lastTaken = 0;
  let lastProgressMs = 0;
  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  const check = (): void => {
    const taken = takenBytes();
    if (taken > lastTaken) {
      lastTaken = taken;
      lastProgressMs = Date.now();
    } else if (Date.now() - lastProgressMs >= NOT_DRAINING_AFTER_MS) {
      onStuck();
    }
  };
  return {
    start() {
      if (timer !== undefined) return;
      lastTaken = takenBytes();
      lastProgressMs = Date.now();
      timer = setInterval(check, NOT_DRAINING_AFTER_MS / 4);
      timer.unref();
    },
    stop,
  };
}

function createStdinWriter(node: Supervised): StdinWriter {
  const { child, options } = node;
  const stdin = child.stdin;
  let queuedBytes = 0;
  /** this turn's lines, written as one string when the turn ends (at most one stdout chunk's worth) */
  let turnText = '';
  let notDraining = false;
  const dropped: DropCounts = { notDraining: 0 };
  const backlog = (): number => stdin.writableLength + turnText.length;
  const inbox: Inbox = {
    congested: () => !notDraining && !node.exited && !node.stopping && backlog() > STDIN_SOFT_LIMIT_BYTES,
    waiters: new Set(),
  };
  const declareNotDraining = (why: string): void => {
    if (notDraining) return;
    notDraining = true;
    stall.stop();
    warn(node, 'not-draining', `is not reading its stdin (${why}); glomers drops messages to it, counted, until it catches up`);
    wake(inbox);
  };
  const stall = createStallWatch(
    () => queuedBytes - backlog(),
    () => declareNotDraining(`${(backlog() / 1e6).toFixed(1)} MB waiting, none taken for ${NOT_DRAINING_AFTER_MS / 1000} s`),
  );
  const endTurn = (): void => {
    const text = turnText;
    turnText = '';
    if (node.exited || stdin.destroyed) return;
    stdin.write(text);
    const waiting = stdin.writableLength;
    if (waiting > STDIN_HARD_LIMIT_BYTES) declareNotDraining(`${(waiting / 1e6).toFixed(1)} MB waiting`);
    else if (waiting > STDIN_SOFT_LIMIT_BYTES) stall.start();
  };
  stdin.on('drain', () => {
    stall.stop();
    if (notDraining) {
      notDraining = false;
      process.stderr.write(`glomers: node ${options.nodeId} reads its stdin again; ${dropped.notDraining} message(s) to it were dropped meanwhile\n`);
    }
    wake(inbox);
  });
  stdin.on('error', () => {
    // EPIPE when the node died; the exit handler reports it
  });

  return {
    inbox,
    dropped,
    write(message, bodyJson) {
      if (node.exited || stdin.destroyed) return;
      if (notDraining) {
        dropped.notDraining++;
        return;
      }
      const line = messageLine(message, bodyJson);
      if (line === null) {
        process.stderr.write(`glomers: cannot forward a message to ${options.nodeId}: its body cannot be written as JSON\n`);
        return;
      }
      queuedBytes += line.length;
      if (turnText === '') process.nextTick(endTurn);
      turnText += line;
    },
    stop() {
      stall.stop();
      wake(inbox);
    },
  };
}

/**
 * The line a node reads: the same text as JSON.stringify({id, src, dest, body}) plus a newline,
 * around the body text the network made once. null if the body cannot be written.
 */
export function messageLine(message: Message, bodyJson?: string | null): string | null {
  const body = bodyJson ?? bodyJsonOrNull(message.body);
  if (body === null) return null;
  const id = message.id === undefined ? '' : `"id":${message.id},`;
  return `{${id}"src":${JSON.stringify(message.src)},"dest":${JSON.stringify(message.dest)},"body":${body}}\n`;
}

function bodyJsonOrNull(body: Body): string | null {
  try {
    return JSON.stringify(body) ?? null;
  } catch {
    return null;
  }
}

// -- stderr: into the node's log file and the tail kept for problem reports

/** Resolves once the log file has everything the node wrote to stderr. */
function pipeStderr(node: Supervised): { end(): Promise<void> } {
  const { child, options, tail } = node;
  const log: WriteStream = createWriteStream(options.logFile, { flags: 'a' });
  log.on('error', (err) => process.stderr.write(`glomers: cannot write ${options.logFile}: ${err.message}\n`));
  const pushTail = (line: string): void => {
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
  };
  const lines = createLineSplitter(
    (line) => {
      pushTail(line);
      if (options.logStderr) process.stderr.write(`${options.nodeId} | ${line}\n`);
    },
    (bytes) => pushTail(`(a stderr line of more than ${bytes} chars, left out)`),
    MAX_STDERR_LINE_CHARS,
  );
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // A node that floods stderr faster than the disk takes it waits for the log file.
    if (!log.write(chunk) && log.writableLength > LOG_BACKLOG_LIMIT_BYTES) {
      child.stderr.pause();
      log.once('drain', () => child.stderr.resume());
    }
    lines.push(chunk);
  });
  return {
    end() {
      lines.end();
      return new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

// -- stdout: validated lines into the network, read no faster than their destinations drain

function readStdout(node: Supervised): void {
  const { child, options } = node;
  const { nodeId } = options;
  let reading = true;
  let waitingOn: Inbox | undefined;
  let floodWarned = false;
  let pausedFor: string | undefined;

  const badLine = (line: string, reason: string): void => {
    reading = false;
    const shown = line.length > 2000 ? `${line.slice(0, 2000)}… (${line.length} chars)` : line;
    report(node, {
      node: nodeId,
      kind: 'bad-line',
      detail: `printed a bad line to stdout (${reason}); glomers ignores its stdout for the rest of the test, as Maelstrom does.\n  line: ${shown}`,
      stderrTail: node.tail.slice(),
    });
  };
  const lines = createLineSplitter(
    (line) => {
      if (!reading || line.trim() === '') return;
      const checked = checkLine(line, options.isRegistered);
      if (!checked.ok) return badLine(line, checked.reason);
      options.onMessage(checked.message);
      if (waitingOn !== undefined) return;
      waitingOn = congestedInbox(checked.message.dest);
      if (waitingOn !== undefined) pausedFor = checked.message.dest;
    },
    (bytes) => badLine(`(${bytes} chars)`, `no newline after ${MAX_LINE_CHARS} chars`),
    MAX_LINE_CHARS,
  );
  const resume = (): void => {
    waitingOn = undefined;
    if (!child.stdout.destroyed) child.stdout.resume();
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    // After a bad line we keep draining (so the node never blocks on a full pipe) but ignore it.
    if (!reading) return;
    lines.push(chunk);
    if (waitingOn === undefined || !reading) return;
    if (!floodWarned) {
      floodWarned = true;
      warn(node, 'flood', `sends faster than ${pausedFor ?? 'its destination'} reads its stdin; glomers reads ${nodeId}'s stdout only as fast as its messages are taken`);
    }
    child.stdout.pause();
    if (waitingOn.congested()) waitingOn.waiters.add(resume);
    else resume();
  });
}

// -- stop

/** SIGKILLs the node's group, waits (bounded) for its exit and pipes, and forgets it. */
async function stopSupervised(node: Supervised, stdinWriter: StdinWriter, stderr: { end(): Promise<void> }, timeoutMs: number): Promise<void> {
  const { child, options } = node;
  node.stopping = true;
  stdinWriter.stop();
  const pgid = child.pid;
  // The whole group, even when the node itself is gone: what it forked may not be.
  if (pgid !== undefined) killGroup(pgid);
  // and the node itself, where process groups do not exist (Windows)
  if (!node.exited) child.kill('SIGKILL');
  await within(node.exitEvent, timeoutMs);
  await within(node.closeEvent, PIPE_CLOSE_GRACE_MS);
  // Pipes still open belong to a process outside the group (it called setsid); stop reading them.
  child.stdout.destroy();
  child.stderr.destroy();
  child.stdin.destroy();
  node.release();
  const ids = inboxes.get(options.nodeId);
  ids?.delete(stdinWriter.inbox);
  if (ids?.size === 0) inboxes.delete(options.nodeId);
  for (const problem of node.reported) problem.stderrTail = node.tail.slice();
  const { notDraining } = stdinWriter.dropped;
  if (notDraining > 0) process.stderr.write(`glomers: ${notDraining} message(s) to ${options.nodeId} were dropped: it was not reading its stdin\n`);
  await stderr.end();
}

/** Resolves when promise does or after ms, whichever is first. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

export function startNode(options: NodeProcessOptions): NodeProcess {
  const { child, release } = spawnSupervised(options);
  const node: Supervised = {
    options,
    child,
    release,
    tail: [],
    reported: [],
    exitEvent: new Promise<void>((resolve) => child.once('exit', () => resolve())),
    closeEvent: new Promise<void>((resolve) => child.once('close', () => resolve())),
    exited: false,
    stopping: false,
  };
  const stdinWriter = createStdinWriter(node);
  let ids = inboxes.get(options.nodeId);
  if (ids === undefined) inboxes.set(options.nodeId, (ids = new Set()));
  ids.add(stdinWriter.inbox);
  watchExit(node, () => wake(stdinWriter.inbox));
  const stderr = pipeStderr(node);
  readStdout(node);

  return {
    nodeId: options.nodeId,
    pid: child.pid,
    dropped: stdinWriter.dropped,
    get exited() {
      return node.exited;
    },
    write: stdinWriter.write,
    stderrTail: () => node.tail.slice(),
    stop: (timeoutMs = 5000) => stopSupervised(node, stdinWriter, stderr, timeoutMs),
  };
}

/** Where the node's stderr goes. */
export function nodeLogPath(storeDir: string, nodeId: string): string {
  return path.join(storeDir, 'node-logs', `${nodeId}.log`);
}

/** SIGSTOP/SIGCONT to a node's whole process group. */
export function signalGroup(node: NodeProcess, signal: NodeJS.Signals): boolean {
  if (node.pid === undefined || node.exited) return false;
  try {
    process.kill(-node.pid, signal);
    return true;
  } catch {
    return false;
  }
}

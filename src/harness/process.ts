// Node process supervision: spawn, stdout lines into the network (validated as Maelstrom does),
// stderr into node-logs/<node>.log, crash detection, and a guarantee that no child outlives us.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { createLineSplitter } from '../lib/protocol.js';
import type { Body, Message, NodeProblem } from './types.js';

/** Lines of stderr kept per node for problem reports. */
export const STDERR_TAIL_LINES = 20;
/** A stdout "line" longer than this without a newline is treated as a bad line. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;
const MAX_STDERR_LINE_CHARS = 64 * 1024;
/** How much lower than the harness node processes run (Unix niceness steps). */
const NODE_NICENESS = 10;

// ---------------------------------------------------------------------------------------------
// Every child we spawn, so that teardown paths (normal end, signals, crashes) can kill them.

const liveChildren = new Set<ChildProcess>();

/** SIGKILLs every child still running. Synchronous, so it is safe inside an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

let handlersInstalled = false;

/**
 * Makes sure no node outlives the harness: on exit, SIGINT, SIGTERM and uncaught errors every
 * child gets SIGKILL. Signals exit with 128+signal; uncaught errors exit 255.
 */
export function installTeardownHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllChildren);
  const onSignal = (signal: NodeJS.Signals, code: number) => () => {
    process.stderr.write(`\nglomers: ${signal} received, killing nodes\n`);
    killAllChildren();
    process.exit(code);
  };
  process.on('SIGINT', onSignal('SIGINT', 130));
  process.on('SIGTERM', onSignal('SIGTERM', 143));
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
// Validation of one stdout line (spec section 1).

const ALLOWED_TOP_LEVEL_KEYS = new Set(['src', 'dest', 'body', 'id']);

export type LineCheck = { ok: true; message: Message } | { ok: false; reason: string };

export function checkLine(line: string, isRegistered: (id: string) => boolean): LineCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not well-formed JSON (was it meant for stderr?)' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const record = parsed as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => !ALLOWED_TOP_LEVEL_KEYS.has(key));
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
  if (!isRegistered(src)) return { ok: false, reason: `src ${JSON.stringify(src)} is not a node, service or open client` };
  if (!isRegistered(dest)) {
    return {
      ok: false,
      reason: `dest ${JSON.stringify(dest)} is not a node, service or open client (a reply to a client that timed out counts too)`,
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
}

export interface NodeProcess {
  readonly nodeId: string;
  readonly pid: number | undefined;
  /** writes one message line to the node's stdin */
  write(message: Message): void;
  stderrTail(): string[];
  /** SIGKILLs the node (if alive) and resolves when it is gone and its log is flushed */
  stop(timeoutMs?: number): Promise<void>;
  readonly exited: boolean;
}

export function formatProblem(problem: NodeProblem): string {
  const tail =
    problem.stderrTail.length === 0
      ? '  (no stderr output)'
      : problem.stderrTail.map((line) => `  | ${line}`).join('\n');
  return `\n*** glomers: node ${problem.node}: ${problem.detail}\n  last stderr lines of ${problem.node}:\n${tail}\n`;
}

export function startNode(options: NodeProcessOptions): NodeProcess {
  const { nodeId } = options;
  const tail: string[] = [];
  let stopping = false;
  let exited = false;
  let readingStdout = true;

  const log: WriteStream = createWriteStream(options.logFile, { flags: 'a' });
  log.on('error', (err) => process.stderr.write(`glomers: cannot write ${options.logFile}: ${err.message}\n`));

  const child = spawn(options.binPath, options.args, {
    cwd: os.tmpdir(),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: false,
  });
  liveChildren.add(child);
  // The simulated network's clock runs in this process: nodes get a lower CPU priority so that on
  // a small machine a busy node delays itself (as it would anywhere) rather than every delivery.
  if (child.pid !== undefined) {
    try {
      os.setPriority(child.pid, Math.min(19, os.getPriority(child.pid) + NODE_NICENESS));
    } catch {
      // not permitted here: nodes share the CPU equally, and the lateness figures will show it
    }
  }

  const exitPromise = new Promise<void>((resolve) => {
    child.on('close', () => resolve());
  });

  // Problems are announced at once; their stderr tails are refreshed when the node stops, since
  // stderr and stdout are separate pipes and the lines explaining a problem may arrive after it.
  const reported: NodeProblem[] = [];
  const report = (problem: NodeProblem): void => {
    reported.push(problem);
    options.onProblem(problem);
  };

  child.on('error', (err) => {
    // spawn failures (ENOENT, EACCES) arrive here instead of 'exit'
    if (stopping) return;
    exited = true;
    liveChildren.delete(child);
    report({
      node: nodeId,
      kind: 'exit',
      detail: `could not start ${options.binPath}: ${err.message}`,
      exitCode: null,
      signal: null,
      stderrTail: tail.slice(),
    });
  });

  child.on('exit', (code, signal) => {
    exited = true;
    liveChildren.delete(child);
    if (stopping) return;
    // 'close' comes once stderr is drained too, so the tail shows why it died.
    child.once('close', () =>
      report({
        node: nodeId,
        kind: 'exit',
        detail: `crashed during the test with ${signal !== null ? `signal ${signal}` : `exit status ${code}`}`,
        exitCode: code,
        signal,
        stderrTail: tail.slice(),
      }),
    );
  });

  child.stdin.on('error', () => {
    // EPIPE when the node died; the exit handler reports it
  });

  const pushTail = (line: string): void => {
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
  };

  const stderrLines = createLineSplitter(
    (line) => {
      pushTail(line);
      if (options.logStderr) process.stderr.write(`${nodeId} | ${line}\n`);
    },
    (bytes) => pushTail(`(a stderr line of more than ${bytes} chars, left out)`),
    MAX_STDERR_LINE_CHARS,
  );
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    log.write(chunk);
    stderrLines.push(chunk);
  });

  const badLine = (line: string, reason: string): void => {
    readingStdout = false;
    const shown = line.length > 2000 ? `${line.slice(0, 2000)}… (${line.length} chars)` : line;
    report({
      node: nodeId,
      kind: 'bad-line',
      detail: `printed a bad line to stdout (${reason}); glomers ignores its stdout for the rest of the test, as Maelstrom does.\n  line: ${shown}`,
      stderrTail: tail.slice(),
    });
  };

  const stdoutLines = createLineSplitter(
    (line) => {
      if (!readingStdout || line.trim() === '') return;
      const checked = checkLine(line, options.isRegistered);
      if (checked.ok) options.onMessage(checked.message);
      else badLine(line, checked.reason);
    },
    (bytes) => badLine(`(${bytes} chars)`, `no newline after ${MAX_LINE_CHARS} chars`),
    MAX_LINE_CHARS,
  );
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    // After a bad line we keep draining (so the node never blocks on a full pipe) but ignore it.
    if (readingStdout) stdoutLines.push(chunk);
  });

  return {
    nodeId,
    pid: child.pid,
    get exited() {
      return exited;
    },
    write(message) {
      if (exited || child.stdin.destroyed) return;
      child.stdin.write(`${JSON.stringify(message)}\n`);
    },
    stderrTail: () => tail.slice(),
    async stop(timeoutMs = 5000) {
      stopping = true;
      if (!exited) {
        try {
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        exitPromise,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      stderrLines.end();
      for (const problem of reported) problem.stderrTail = tail.slice();
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

/** Where the node's stderr goes. */
export function nodeLogPath(storeDir: string, nodeId: string): string {
  return path.join(storeDir, 'node-logs', `${nodeId}.log`);
}

// The node runtime: reads Maelstrom messages from stdin, dispatches them to handlers, writes replies
// and requests to stdout, and keeps the bookkeeping (msg_id, pending RPCs, timers) every node needs.
//
// Event model: stdin lines and timer ticks are dispatched one at a time from Node's event loop. A
// handler's synchronous part runs to completion before any other event is looked at, so a handler
// that changes state synchronously never sees another's half-finished work; after an `await`, other
// events may have run.

import type { Readable, Writable } from 'node:stream';
import { ErrorCode, RPCError, TimeoutError, errorFromReply } from './errors.js';
import {
  type Body,
  type BodyOf,
  type FieldSpec,
  type InitBody,
  type Json,
  type Message,
  MAX_JSON_DEPTH,
  boundText,
  checkEnvelope,
  checkFields,
  createLineSplitter,
  jsonDepthExceeds,
  lineMayBeTooDeep,
  previewJson,
} from './protocol.js';
import { streamHost, takeInstalledHost, type NodeHost, type TimerHandle } from './host.js';

/** A body the node sends: the runtime adds msg_id (and in_reply_to for replies). */
export interface OutBody {
  type: string;
  [key: string]: Json | undefined;
}

export type HandlerResult = OutBody | void | undefined;
export type Handler<B extends Body> = (message: Message<B>) => HandlerResult | Promise<HandlerResult>;

export interface RpcOptions {
  /** how long to wait for the reply before rejecting with a TimeoutError (code 0) */
  timeoutMs?: number;
}

export type RpcCallback = (error: RPCError | undefined, reply: Body | undefined) => void;

export interface AskAnyOptions {
  /** per-attempt timeout */
  timeoutMs?: number;
  /** overall deadline from the call, after which the call rejects with a TimeoutError */
  deadlineMs?: number;
  /** upper bound on attempts, whatever the deadline (default: three rounds over the nodes) */
  maxAttempts?: number;
}

export type AskAllResult =
  | { node: string; ok: true; body: Body }
  | { node: string; ok: false; error: RPCError };

export interface NodeOptions {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /**
   * Time, timers, randomness and transport (src/lib/host.ts). Default: the streams above (or the
   * process's), unless no stream is given and a simulation installed a host for this node.
   */
  host?: NodeHost;
}

export interface Node {
  /** this node's id; throws before init */
  readonly id: string;
  /** every node's id, in Maelstrom's order; throws before init */
  readonly nodeIds: readonly string[];
  readonly initialized: boolean;
  /** RPCs awaiting a reply right now */
  readonly pendingCount: number;

  /** Registers the handler for a message type; the body is checked against `fields` first (error 12). */
  handle<S extends FieldSpec>(type: string, fields: S, handler: Handler<BodyOf<S>>): void;
  handle(type: string, handler: Handler<Body>): void;
  /** Runs after init sets id and nodeIds, before init_ok is sent. */
  onInit(hook: () => void | Promise<void>): void;

  send(dest: string, body: OutBody): void;
  reply(request: Message, body: OutBody): void;
  rpc(dest: string, body: OutBody, options?: RpcOptions): Promise<Body>;
  rpc(dest: string, body: OutBody, options: RpcOptions, callback: RpcCallback): void;
  askAny(nodes: readonly string[], body: OutBody, options?: AskAnyOptions): Promise<{ from: string; body: Body }>;
  askAll(nodes: readonly string[], body: OutBody, options?: RpcOptions): Promise<AskAllResult[]>;

  /** Calls fn every intervalMs until cancelled or the node stops; returns the cancel function. */
  every(intervalMs: number, fn: () => void | Promise<void>): () => void;
  /** Calls fn once after delayMs unless cancelled or the node stops; returns the cancel function. */
  after(delayMs: number, fn: () => void | Promise<void>): () => void;

  log(...parts: unknown[]): void;
  /** Serves until stdin ends, then stops timers, fails pending RPCs and flushes stdout. */
  run(): Promise<void>;
}

export const defaultRpcTimeoutMs = 5_000;

interface PendingRpc {
  resolve(body: Body): void;
  reject(error: RPCError): void;
  timer: TimerHandle;
}

interface Registration {
  fields: FieldSpec | undefined;
  handler: Handler<Body>;
}

export function createNode(options: NodeOptions = {}): Node {
  const host = options.host ?? chooseHost(options);

  const handlers = new Map<string, Registration>();
  const pending = new Map<number, PendingRpc>();
  const timers = new Set<TimerHandle>();
  const initHooks: Array<() => void | Promise<void>> = [];
  let nodeId: string | undefined;
  let nodeIds: readonly string[] | undefined;
  let nextMsgId = 1;
  let nextAskAnyStart = 0;
  let stopped = false;

  // Output is collected and written once per turn of the event loop: one write for a whole chunk of
  // requests is what keeps the runtime close to a bare parse/stringify loop.
  let outBuffer = '';
  let flushScheduled = false;
  function flush(): void {
    flushScheduled = false;
    if (outBuffer.length === 0) return;
    const text = outBuffer;
    outBuffer = '';
    host.write(text);
  }
  function emit(src: string, dest: string, body: OutBody, msgId?: number, inReplyTo?: number): void {
    if (stopped) return;
    let line: string;
    try {
      line = serialize(src, dest, body, msgId, inReplyTo);
    } catch (error) {
      // A body JSON cannot write (too deep, cyclic, a BigInt) must not take the batch with it: what
      // is already in outBuffer (an init_ok, say) still goes out, and a request still gets an answer.
      log(`cannot serialize ${short(body.type)} to ${short(dest)}: ${errorText(error)}`);
      if (inReplyTo !== undefined) {
        outBuffer += serialize(src, dest, {
          type: 'error',
          code: ErrorCode.Crash,
          text: `the reply (${short(body.type)}) could not be serialized: ${errorText(error)}`,
        }, undefined, inReplyTo);
      }
      scheduleFlush();
      return;
    }
    outBuffer += line;
    scheduleFlush();
  }
  function scheduleFlush(): void {
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flush);
    }
  }

  function log(...parts: unknown[]): void {
    const text = parts
      .map((part) => (typeof part === 'string' ? part : part instanceof Error ? (part.stack ?? part.message) : safeJson(part)))
      .join(' ');
    host.writeLog(`${nodeId ?? 'node'}: ${text}\n`);
  }

  function send(dest: string, body: OutBody): number {
    if (nodeId === undefined) throw new Error(`cannot send ${body.type} to ${dest} before init`);
    const msgId = nextMsgId++;
    emit(nodeId, dest, body, msgId);
    return msgId;
  }

  // Before init our id is only known from the request's dest; answering from anything else would
  // make Maelstrom reject the line and stop reading this node.
  function reply(request: Message, body: OutBody): void {
    const requestId = request.body.msg_id;
    const src = nodeId ?? request.dest;
    emit(src, request.src, body, nextMsgId++, Number.isSafeInteger(requestId) ? requestId : undefined);
  }

  function replyError(request: Message, error: RPCError): void {
    const requestId = request.body.msg_id;
    if (!Number.isSafeInteger(requestId)) {
      log(
        `cannot answer ${short(request.body.type)} from ${short(request.src)} (no usable msg_id) with error ${error.code}: ${boundText(error.message, maxErrorTextChars)}`,
      );
      return;
    }
    emit(nodeId ?? request.dest, request.src, error.toBody(requestId as number));
  }

  function rpcPromise(dest: string, body: OutBody, timeoutMs: number): Promise<Body> {
    return new Promise<Body>((resolve, reject) => {
      if (stopped) {
        reject(new RPCError(ErrorCode.Crash, 'node stopped'));
        return;
      }
      const msgId = nextMsgId;
      const timer = host.setTimer(timeoutMs, () => {
        // Removing the entry on timeout is what keeps the table bounded when peers never answer.
        pending.delete(msgId);
        reject(new TimeoutError(`no reply from ${dest} to ${body.type} within ${timeoutMs} ms`));
      });
      pending.set(msgId, { resolve, reject, timer });
      send(dest, body);
    });
  }

  function rpc(dest: string, body: OutBody, rpcOptions?: RpcOptions): Promise<Body>;
  function rpc(dest: string, body: OutBody, rpcOptions: RpcOptions, callback: RpcCallback): void;
  function rpc(dest: string, body: OutBody, rpcOptions: RpcOptions = {}, callback?: RpcCallback): Promise<Body> | void {
    const promise = rpcPromise(dest, body, rpcOptions.timeoutMs ?? defaultRpcTimeoutMs);
    if (!callback) return promise;
    promise.then(
      (replyBody) => callback(undefined, replyBody),
      (error: RPCError) => callback(error, undefined),
    );
  }

  async function askAny(
    nodes: readonly string[],
    body: OutBody,
    askOptions: AskAnyOptions = {},
  ): Promise<{ from: string; body: Body }> {
    if (nodes.length === 0) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'askAny needs at least one node');
    const timeoutMs = askOptions.timeoutMs ?? defaultRpcTimeoutMs;
    const deadline = host.now() + (askOptions.deadlineMs ?? timeoutMs * nodes.length);
    const maxAttempts = askOptions.maxAttempts ?? nodes.length * 3;
    const start = nextAskAnyStart++;
    let lastError: RPCError = new TimeoutError('askAny deadline passed before any attempt');
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const remainingMs = deadline - host.now();
      if (remainingMs <= 0) break;
      const target = nodes[(start + attempt) % nodes.length] as string;
      try {
        const answer = await rpcPromise(target, body, Math.min(timeoutMs, remainingMs));
        return { from: target, body: answer };
      } catch (error) {
        if (!(error instanceof RPCError)) throw error;
        // A definite error is an answer: the operation did not happen, and another node would say the same.
        if (error.definite) throw error;
        lastError = error;
      }
    }
    throw lastError instanceof TimeoutError ? lastError : new TimeoutError(`askAny: no node answered (${lastError.message})`);
  }

  function askAll(nodes: readonly string[], body: OutBody, rpcOptions: RpcOptions = {}): Promise<AskAllResult[]> {
    return Promise.all(
      nodes.map((target) =>
        rpcPromise(target, body, rpcOptions.timeoutMs ?? defaultRpcTimeoutMs).then(
          (answer): AskAllResult => ({ node: target, ok: true, body: answer }),
          (error: unknown): AskAllResult => ({
            node: target,
            ok: false,
            error: error instanceof RPCError ? error : new RPCError(ErrorCode.Crash, String(error)),
          }),
        ),
      ),
    );
  }

  function guard(what: string, fn: () => void | Promise<void>): void {
    try {
      const result = fn();
      if (result instanceof Promise) result.catch((error: unknown) => log(`${what} failed:`, error));
    } catch (error) {
      log(`${what} failed:`, error);
    }
  }

  function every(intervalMs: number, fn: () => void | Promise<void>): () => void {
    if (!(intervalMs > 0)) throw new RangeError(`every() needs a positive interval, got ${intervalMs}`);
    if (stopped) return () => {};
    const timer = host.setRepeating(intervalMs, () => guard('timer', fn));
    timers.add(timer);
    return () => {
      host.clearTimer(timer);
      timers.delete(timer);
    };
  }

  function after(delayMs: number, fn: () => void | Promise<void>): () => void {
    if (stopped) return () => {};
    const timer = host.setTimer(Math.max(0, delayMs), () => {
      timers.delete(timer);
      guard('timer', fn);
    });
    timers.add(timer);
    return () => {
      host.clearTimer(timer);
      timers.delete(timer);
    };
  }

  // Messages that arrive while init hooks run wait here, so no handler sees a node whose init is
  // half done and init_ok leaves before any other reply. Bounded: past the limit, error 11.
  const maxHeldMessages = 10_000;
  let held: Message[] | undefined;

  async function handleInit(message: Message): Promise<void> {
    const fieldError = checkFields(message.body, { node_id: 'string', node_ids: 'array' });
    if (fieldError) {
      replyError(message, new RPCError(ErrorCode.MalformedRequest, `init: ${fieldError}`));
      return;
    }
    const body = message.body as InitBody;
    const badId = body.node_ids.find((id) => typeof id !== 'string');
    if (badId !== undefined) {
      replyError(message, new RPCError(ErrorCode.MalformedRequest, `init: node_ids must hold strings, got ${previewJson(badId)}`));
      return;
    }
    if (nodeId !== undefined) {
      answerSecondInit(message, body);
      return;
    }
    nodeId = body.node_id;
    nodeIds = body.node_ids.slice();
    held = [];
    try {
      for (const hook of initHooks) await hook();
      reply(message, { type: 'init_ok' });
    } finally {
      const waiting = held;
      held = undefined;
      for (const heldMessage of waiting) dispatch(heldMessage);
    }
  }

  // A second init never resets the node (hooks ran once; their state stays): the same identity is
  // answered with init_ok again, as Maelstrom's own libraries answer every init; a different one
  // is refused with 22 (precondition failed: this node already is someone).
  function answerSecondInit(message: Message, body: InitBody): void {
    const sameIds = nodeIds !== undefined && nodeIds.length === body.node_ids.length && nodeIds.every((id, k) => id === body.node_ids[k]);
    if (body.node_id === nodeId && sameIds) {
      reply(message, { type: 'init_ok' });
      return;
    }
    const text = `init: already initialized as ${short(nodeId ?? '')} of ${nodeIds?.length ?? 0} node(s); a second init as ${short(body.node_id)} of ${body.node_ids.length} node(s) is refused and the node keeps its state`;
    log(text);
    replyError(message, new RPCError(ErrorCode.PreconditionFailed, text));
  }

  function dispatch(message: Message): void {
    const { body } = message;
    if (body.msg_id !== undefined && !Number.isSafeInteger(body.msg_id)) {
      // No reply can name this request (in_reply_to must be a JSON integer), so it is only logged.
      log(`ignoring ${short(body.type)} from ${short(message.src)}: msg_id ${previewJson(body.msg_id)} is not a safe integer`);
      return;
    }
    if (typeof body.in_reply_to === 'number') {
      const waiting = pending.get(body.in_reply_to);
      if (waiting) {
        pending.delete(body.in_reply_to);
        host.clearTimer(waiting.timer);
        if (body.type === 'error') {
          waiting.reject(errorFromReply(Number(body.code), typeof body.text === 'string' ? body.text : undefined));
        } else {
          waiting.resolve(body);
        }
        return;
      }
      // Not an RPC of ours (late, or sent with send()): a handler for its type may still want it.
      if (!handlers.has(body.type)) {
        log(`dropping ${short(body.type)} from ${short(message.src)}: in_reply_to ${body.in_reply_to} matches no pending request`);
        return;
      }
    }

    if (held) {
      if (held.length < maxHeldMessages) held.push(message);
      else replyError(message, new RPCError(ErrorCode.TemporarilyUnavailable, 'still initializing'));
      return;
    }
    if (body.type === 'init') {
      handleInit(message).catch((error: unknown) => {
        log('init failed:', error);
        replyError(message, new RPCError(ErrorCode.Crash, `init failed: ${errorText(error)}`));
      });
      return;
    }
    if (nodeId === undefined) {
      replyError(message, new RPCError(ErrorCode.TemporarilyUnavailable, `not initialized yet; got ${short(body.type)} before init`));
      return;
    }
    const registration = handlers.get(body.type);
    if (!registration) {
      replyError(message, new RPCError(ErrorCode.NotSupported, `unsupported message type '${short(body.type)}'`));
      return;
    }
    if (registration.fields) {
      const fieldError = checkFields(body, registration.fields);
      if (fieldError) {
        replyError(message, new RPCError(ErrorCode.MalformedRequest, `${short(body.type)}: ${fieldError}`));
        return;
      }
    }
    // The synchronous path allocates no closures: it is the per-message hot path.
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = registration.handler(message);
    } catch (error) {
      handlerFailed(message, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (settled) => {
          if (settled) reply(message, settled);
        },
        (error: unknown) => handlerFailed(message, error),
      );
    } else if (result) {
      reply(message, result);
    }
  }

  function handlerFailed(message: Message, error: unknown): void {
    if (error instanceof RPCError) {
      replyError(message, error);
      return;
    }
    log(`handler for ${short(message.body.type)} crashed:`, error);
    replyError(message, new RPCError(ErrorCode.Crash, `handler for ${short(message.body.type)} crashed: ${errorText(error)}`));
  }

  function onLine(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      log(`ignoring a line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    const envelopeError = checkEnvelope(parsed);
    if (envelopeError) {
      log(`ignoring a line that is not a message (${envelopeError}): ${line.slice(0, 200)}`);
      return;
    }
    const message = parsed as Message;
    if (lineMayBeTooDeep(line.length) && jsonDepthExceeds(parsed)) {
      // Answered before any handler sees it: JSON.stringify and recursive code overflow on such values.
      replyError(message, new RPCError(ErrorCode.MalformedRequest, `${short(message.body.type)}: nested deeper than ${MAX_JSON_DEPTH} levels`));
      return;
    }
    try {
      dispatch(message);
    } catch (error) {
      // Last line of defence: nothing a message holds may stop the node from reading the next one.
      log(`internal error while dispatching ${short(message.body.type)}:`, error);
    }
  }

  function stop(): void {
    if (stopped) return;
    flush();
    stopped = true;
    for (const timer of timers) host.clearTimer(timer);
    timers.clear();
    for (const [msgId, waiting] of pending) {
      host.clearTimer(waiting.timer);
      pending.delete(msgId);
      waiting.reject(new RPCError(ErrorCode.Crash, 'node stopped before the reply arrived'));
    }
  }

  function run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const splitter = createLineSplitter(onLine, (bytes) => log(`dropping a line of more than ${bytes} bytes`));
      host.listen(
        (chunk) => splitter.push(chunk),
        () => {
          splitter.end();
          // Replies of handlers that finish in this turn still go out before the final flush.
          host.afterTurn(() => {
            stop();
            host.flush(resolve);
          });
        },
        reject,
      );
    });
  }

  return {
    get id() {
      if (nodeId === undefined) throw new Error('node id is not known before init');
      return nodeId;
    },
    get nodeIds() {
      if (nodeIds === undefined) throw new Error('node ids are not known before init');
      return nodeIds;
    },
    get initialized() {
      return nodeId !== undefined;
    },
    get pendingCount() {
      return pending.size;
    },
    handle(type: string, fieldsOrHandler: FieldSpec | Handler<Body>, maybeHandler?: Handler<Body>): void {
      if (type === 'init') throw new Error('init is handled by the runtime; use onInit() to run code at init');
      const registration: Registration =
        typeof fieldsOrHandler === 'function'
          ? { fields: undefined, handler: fieldsOrHandler }
          : { fields: fieldsOrHandler, handler: maybeHandler as Handler<Body> };
      handlers.set(type, registration);
    },
    onInit(hook) {
      initHooks.push(hook);
    },
    send(dest, body) {
      send(dest, body);
    },
    reply,
    rpc,
    askAny,
    askAll,
    every,
    after,
    log,
    run,
  } as Node;
}

/** The process's streams, unless none was given and a simulation installed a host for this node. */
function chooseHost(options: NodeOptions): NodeHost {
  const streamsGiven = options.stdin !== undefined || options.stdout !== undefined || options.stderr !== undefined;
  return (streamsGiven ? undefined : takeInstalledHost()) ?? streamHost(options);
}

/**
 * One output line. Only src, dest and body at the top level: Maelstrom rejects any other key.
 * msg_id and in_reply_to are spliced into the body's JSON rather than copied into a new object,
 * which is the single largest cost per message otherwise.
 */
function serialize(src: string, dest: string, body: OutBody, msgId?: number, inReplyTo?: number): string {
  let bodyJson: string;
  if (body.msg_id !== undefined || body.in_reply_to !== undefined) {
    bodyJson = JSON.stringify({ ...body, msg_id: msgId ?? body.msg_id, in_reply_to: inReplyTo ?? body.in_reply_to });
  } else {
    bodyJson = JSON.stringify(body);
    if (msgId !== undefined || inReplyTo !== undefined) {
      let ids = msgId === undefined ? '' : `,"msg_id":${msgId}`;
      if (inReplyTo !== undefined) ids += `,"in_reply_to":${inReplyTo}`;
      bodyJson = bodyJson.slice(0, -1) + ids + '}';
    }
  }
  return `{"src":${quoted(src)},"dest":${quoted(dest)},"body":${bodyJson}}\n`;
}

// Node and client ids recur on every line; quoting each once saves two stringify calls per
// message. Bounded: a run with very many client ids just starts the cache over.
const quotedIds = new Map<string, string>();
const maxQuotedIds = 4096;
function quoted(id: string): string {
  let text = quotedIds.get(id);
  if (text === undefined) {
    if (quotedIds.size >= maxQuotedIds) quotedIds.clear();
    text = JSON.stringify(id);
    quotedIds.set(id, text);
  }
  return text;
}

/** Bound on any text the runtime builds into an error reply or a log line from received data. */
const maxErrorTextChars = 500;
const maxQuotedNameChars = 100;

/** A received name (type, node id) as quoted in texts: bounded, whatever the sender put there. */
function short(name: string): string {
  return boundText(String(name), maxQuotedNameChars);
}

function errorText(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? error.message : String(error);
  } catch {
    text = '(an error that cannot be shown)';
  }
  return boundText(text, maxErrorTextChars);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

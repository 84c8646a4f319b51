// The node runtime: reads Maelstrom messages from stdin, dispatches them to handlers, writes replies
// and requests to stdout, and keeps the bookkeeping (msg_id, pending RPCs, timers) every node needs.
//
// Event model: stdin lines and timer ticks are dispatched one at a time from Node's event loop. A
// handler's synchronous part runs to completion before any other event is looked at, so a handler
// that changes state synchronously never sees another's half-finished work; after an `await`, other
// events may have run.

import type { Readable, Writable } from 'node:stream';
import { ErrorCode, RPCError } from './errors.js';
import { askAll, askAny, type AskAllResult, type AskAnyOptions } from './group.js';
import { streamHost, takeInstalledHost, type NodeHost } from './host.js';
import { createOutbox, type OutBody } from './outbox.js';
import {
  type Body,
  type BodyOf,
  type FieldSpec,
  type InitBody,
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
import { createRpcTable } from './rpc-table.js';
import { errorText, maxErrorTextChars, safeJson, short } from './text.js';
import { createTimers, type TimerFn } from './timers.js';

export type { AskAllResult, AskAnyOptions, OutBody };

export type HandlerResult = OutBody | void | undefined;
export type Handler<B extends Body> = (message: Message<B>) => HandlerResult | Promise<HandlerResult>;

export interface RpcOptions {
  /** how long to wait for the reply before rejecting with a TimeoutError (code 0) */
  timeoutMs?: number;
}

export type RpcCallback = (error: RPCError | undefined, reply: Body | undefined) => void;

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

interface Registration {
  fields: FieldSpec | undefined;
  handler: Handler<Body>;
}

export function createNode(options: NodeOptions = {}): Node {
  const host = options.host ?? chooseHost(options);
  const handlers = new Map<string, Registration>();
  const initHooks: Array<() => void | Promise<void>> = [];
  let nodeId: string | undefined;
  let nodeIds: readonly string[] | undefined;
  let nextMsgId = 1;
  let nextAskAnyStart = 0;
  let stopped = false;

  function log(...parts: unknown[]): void {
    const text = parts
      .map((part) => (typeof part === 'string' ? part : part instanceof Error ? (part.stack ?? part.message) : safeJson(part)))
      .join(' ');
    host.writeLog(`${nodeId ?? 'node'}: ${text}\n`);
  }
  const outbox = createOutbox(host, log);
  const rpcs = createRpcTable(host);
  const timers = createTimers(host, guard);

  function send(dest: string, body: OutBody): number {
    if (nodeId === undefined) throw new Error(`cannot send ${body.type} to ${dest} before init`);
    const msgId = nextMsgId++;
    outbox.emit(nodeId, dest, body, msgId);
    return msgId;
  }

  // Before init our id is only known from the request's dest; answering from anything else would
  // make Maelstrom reject the line and stop reading this node.
  function reply(request: Message, body: OutBody): void {
    const requestId = request.body.msg_id;
    outbox.emit(nodeId ?? request.dest, request.src, body, nextMsgId++, Number.isSafeInteger(requestId) ? requestId : undefined);
  }

  function replyError(request: Message, error: RPCError): void {
    const requestId = request.body.msg_id;
    if (!Number.isSafeInteger(requestId)) {
      log(
        `cannot answer ${short(request.body.type)} from ${short(request.src)} (no usable msg_id) with error ${error.code}: ${boundText(error.message, maxErrorTextChars)}`,
      );
      return;
    }
    outbox.emit(nodeId ?? request.dest, request.src, error.toBody(requestId as number));
  }

  function call(dest: string, body: OutBody, timeoutMs: number): Promise<Body> {
    if (stopped) return Promise.reject(new RPCError(ErrorCode.Crash, 'node stopped'));
    const reply = rpcs.wait(nextMsgId, () => `no reply from ${dest} to ${body.type}`, timeoutMs);
    send(dest, body);
    return reply;
  }

  function rpc(dest: string, body: OutBody, rpcOptions?: RpcOptions): Promise<Body>;
  function rpc(dest: string, body: OutBody, rpcOptions: RpcOptions, callback: RpcCallback): void;
  function rpc(dest: string, body: OutBody, rpcOptions: RpcOptions = {}, callback?: RpcCallback): Promise<Body> | void {
    const promise = call(dest, body, rpcOptions.timeoutMs ?? defaultRpcTimeoutMs);
    if (!callback) return promise;
    promise.then(
      (replyBody) => callback(undefined, replyBody),
      (error: RPCError) => callback(error, undefined),
    );
  }

  function guard(what: string, fn: TimerFn): void {
    try {
      const result = fn();
      if (result instanceof Promise) result.catch((error: unknown) => log(`${what} failed:`, error));
    } catch (error) {
      log(`${what} failed:`, error);
    }
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
      if (rpcs.settle(body.in_reply_to, body)) return;
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
    outbox.close();
    stopped = true;
    timers.stop();
    rpcs.failAll('node stopped before the reply arrived');
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
      return rpcs.size;
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
    askAny: (nodes, body, askOptions = {}) =>
      askAny(call, () => host.now(), nextAskAnyStart++, nodes, body, { ...askOptions, timeoutMs: askOptions.timeoutMs ?? defaultRpcTimeoutMs }),
    askAll: (nodes, body, rpcOptions = {}) => askAll(call, nodes, body, rpcOptions.timeoutMs ?? defaultRpcTimeoutMs),
    every: timers.every,
    after: timers.after,
    log,
    run,
  } as Node;
}

/** The process's streams, unless none was given and a simulation installed a host for this node. */
function chooseHost(options: NodeOptions): NodeHost {
  const streamsGiven = options.stdin !== undefined || options.stdout !== undefined || options.stderr !== undefined;
  return (streamsGiven ? undefined : takeInstalledHost()) ?? streamHost(options);
}

// The node's output: lines are serialized as they are produced and written once per turn of the
// event loop. One write for a whole chunk of requests is what keeps the runtime close to a bare
// parse/stringify loop.
import { ErrorCode } from './errors.js';
import type { NodeHost } from './host.js';
import type { Json } from './protocol.js';
import { errorText, short } from './text.js';

/** A body the node sends: the runtime adds msg_id (and in_reply_to for replies). */
export interface OutBody {
  type: string;
  [key: string]: Json | undefined;
}

export interface Outbox {
  /** Queues one line; a body that cannot be serialized is logged and, for a reply, answered with 13. */
  emit(src: string, dest: string, body: OutBody, msgId?: number, inReplyTo?: number): void;
  /** Writes what is queued now. */
  flush(): void;
  /** Writes what is queued, then refuses everything after. */
  close(): void;
}

export function createOutbox(host: NodeHost, log: (text: string) => void): Outbox {
  let buffer = '';
  let flushScheduled = false;
  let closed = false;
  const flush = (): void => {
    flushScheduled = false;
    if (buffer.length === 0) return;
    const text = buffer;
    buffer = '';
    host.write(text);
  };
  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    queueMicrotask(flush);
  };
  const emit = (src: string, dest: string, body: OutBody, msgId?: number, inReplyTo?: number): void => {
    if (closed) return;
    buffer += serializeOrError(src, dest, body, msgId, inReplyTo, log);
    scheduleFlush();
  };
  return {
    emit,
    flush,
    close() {
      flush();
      closed = true;
    },
  };
}

/**
 * A body JSON cannot write (too deep, cyclic, a BigInt) must not take the batch with it: what is
 * already queued (an init_ok, say) still goes out, and a request still gets an answer.
 */
function serializeOrError(src: string, dest: string, body: OutBody, msgId: number | undefined, inReplyTo: number | undefined, log: (text: string) => void): string {
  try {
    return serialize(src, dest, body, msgId, inReplyTo);
  } catch (error) {
    log(`cannot serialize ${short(body.type)} to ${short(dest)}: ${errorText(error)}`);
    if (inReplyTo === undefined) return '';
    const text = `the reply (${short(body.type)}) could not be serialized: ${errorText(error)}`;
    return serialize(src, dest, { type: 'error', code: ErrorCode.Crash, text }, undefined, inReplyTo);
  }
}

/**
 * One output line. Only src, dest and body at the top level: Maelstrom rejects any other key.
 * msg_id and in_reply_to are spliced into the body's JSON rather than copied into a new object,
 * which is the single largest cost per message otherwise.
 */
export function serialize(src: string, dest: string, body: OutBody, msgId?: number, inReplyTo?: number): string {
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

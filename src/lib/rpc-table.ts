// Requests this node is waiting on, by msg_id. An entry leaves on its reply, its timeout or the
// node's stop, so the table never outgrows the requests in flight within their timeouts.
import { ErrorCode, RPCError, TimeoutError, errorFromReply } from './errors.js';
import type { NodeHost, TimerHandle } from './host.js';
import type { Body } from './protocol.js';

interface PendingRpc {
  resolve(body: Body): void;
  reject(error: RPCError): void;
  timer: TimerHandle;
}

export interface RpcTable {
  readonly size: number;
  /** Waits for the reply to the request `send` makes under msgId; rejects with TimeoutError (0) after timeoutMs. */
  wait(msgId: number, describe: () => string, timeoutMs: number): Promise<Body>;
  /** Settles the request a reply answers; false when no pending request has that msg_id. */
  settle(inReplyTo: number, body: Body): boolean;
  /** Rejects every pending request (the node stops). */
  failAll(text: string): void;
}

export function createRpcTable(host: NodeHost): RpcTable {
  const pending = new Map<number, PendingRpc>();
  return {
    get size() {
      return pending.size;
    },
    wait(msgId, describe, timeoutMs) {
      return new Promise<Body>((resolve, reject) => {
        const timer = host.setTimer(timeoutMs, () => {
          pending.delete(msgId);
          reject(new TimeoutError(`${describe()} within ${timeoutMs} ms`));
        });
        pending.set(msgId, { resolve, reject, timer });
      });
    },
    settle(inReplyTo, body) {
      const waiting = pending.get(inReplyTo);
      if (waiting === undefined) return false;
      pending.delete(inReplyTo);
      host.clearTimer(waiting.timer);
      if (body.type === 'error') waiting.reject(errorFromReply(Number(body.code), typeof body.text === 'string' ? body.text : undefined));
      else waiting.resolve(body);
      return true;
    },
    failAll(text) {
      for (const [msgId, waiting] of pending) {
        host.clearTimer(waiting.timer);
        pending.delete(msgId);
        waiting.reject(new RPCError(ErrorCode.Crash, text));
      }
    },
  };
}

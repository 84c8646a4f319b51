// Maelstrom's synchronous network client: a fresh id per connection (c0, c1, ...), msg_id from
// 1, one outstanding request, replies matched by in_reply_to and everything else dropped.
import type { Clock } from '../clock.js';
import { realTimer, type Network } from './network.js';
import type { Body } from '../types.js';

export type RpcResult = { kind: 'reply'; body: Body } | { kind: 'timeout' };

export interface Client {
  readonly id: string;
  /** Sends body (msg_id added) to dest and waits up to timeoutMs for the matching reply. */
  rpc(dest: string, body: Body, timeoutMs: number): Promise<RpcResult>;
  /** Unregisters the client: late replies to it become "unknown dest" for the node. */
  close(): void;
}

export interface ClientFactory {
  open(): Client;
  /** how many client ids have been handed out */
  readonly opened: number;
}

/** setTimer: the run's clock (virtual in a simulation); default Node's timers. */
export function createClientFactory(network: Network, setTimer: Clock['setTimer'] = realTimer): ClientFactory {
  let nextClientId = 0;

  return {
    get opened() {
      return nextClientId;
    },
    open(): Client {
      const id = `c${nextClientId++}`;
      let nextMsgId = 1;
      let waiting: { msgId: number; resolve: (result: RpcResult) => void; cancelTimer: () => void } | null = null;
      let closed = false;

      network.register(id, {
        deliver(message) {
          if (waiting === null || message.body.in_reply_to !== waiting.msgId) return;
          const { resolve, cancelTimer } = waiting;
          waiting = null;
          cancelTimer();
          resolve({ kind: 'reply', body: message.body });
        },
      });

      return {
        id,
        rpc(dest, body, timeoutMs) {
          if (closed) throw new Error(`client ${id} is closed`);
          if (waiting !== null) throw new Error(`client ${id} already has a request outstanding`);
          const msgId = nextMsgId++;
          return new Promise<RpcResult>((resolve) => {
            const cancelTimer = setTimer(timeoutMs, () => {
              waiting = null;
              resolve({ kind: 'timeout' });
            });
            waiting = { msgId, resolve, cancelTimer };
            network.send(id, dest, { ...body, msg_id: msgId });
          });
        },
        close() {
          if (closed) return;
          closed = true;
          if (waiting !== null) {
            waiting.cancelTimer();
            waiting.resolve({ kind: 'timeout' });
            waiting = null;
          }
          network.unregister(id);
        },
      };
    },
  };
}

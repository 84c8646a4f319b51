// Clients for Maelstrom's key-value services (docs/protocol.md §4). Errors arrive as typed RPCErrors:
// KeyDoesNotExistError (20) and PreconditionFailedError (22) among them.

import { KeyDoesNotExistError } from './errors.js';
import type { Node } from './node.js';
import type { Json } from './protocol.js';

export type KVService = 'seq-kv' | 'lin-kv' | 'lww-kv';

export interface KVOptions {
  /** per-request timeout; the services answer at once, so this only covers latency and overload */
  timeoutMs?: number;
}

export interface KV {
  readonly service: KVService;
  /** The key's value; rejects with KeyDoesNotExistError when it has none. */
  read(key: Json): Promise<Json>;
  /** The key's value, or `fallback` when the key does not exist. */
  readOr<T extends Json>(key: Json, fallback: T): Promise<Json | T>;
  write(key: Json, value: Json): Promise<void>;
  /** Sets key to `to` if it holds `from`; rejects with PreconditionFailedError (22) or KeyDoesNotExistError (20). */
  cas(key: Json, from: Json, to: Json, options?: { createIfNotExists?: boolean }): Promise<void>;
}

export const defaultKvTimeoutMs = 1_000;

export function createKV(node: Node, service: KVService, options: KVOptions = {}): KV {
  const rpcOptions = { timeoutMs: options.timeoutMs ?? defaultKvTimeoutMs };
  async function read(key: Json): Promise<Json> {
    const reply = await node.rpc(service, { type: 'read', key }, rpcOptions);
    return reply.value ?? null;
  }
  return {
    service,
    read,
    async readOr(key, fallback) {
      try {
        return await read(key);
      } catch (error) {
        if (error instanceof KeyDoesNotExistError) return fallback;
        throw error;
      }
    },
    async write(key, value) {
      await node.rpc(service, { type: 'write', key, value }, rpcOptions);
    },
    async cas(key, from, to, casOptions = {}) {
      const body = casOptions.createIfNotExists
        ? { type: 'cas', key, from, to, create_if_not_exists: true }
        : { type: 'cas', key, from, to };
      await node.rpc(service, body, rpcOptions);
    },
  };
}

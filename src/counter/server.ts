// Wires the counter core to the node runtime: client handlers, the seq-kv writer loop, and the
// push of durable counts to peers.

import { randomBytes } from 'node:crypto';
import {
  createKV,
  ErrorCode,
  KeyDoesNotExistError,
  PreconditionFailedError,
  RPCError,
  type KV,
  type Node,
} from '../lib/index.js';
import {
  createCounter,
  decodeStored,
  encodeStored,
  isRecovered,
  keyFor,
  MAX_WRITES_IN_DOUBT,
  mergeView,
  observeOwnKey,
  planWrite,
  readTotal,
  recordAdd,
  seedPeer,
  viewMessage,
  writeApplied,
  writeRejected,
  type CounterState,
  type Stored,
  type Write,
} from './counter.js';

export interface CounterOptions {
  /** how often pending adds go to seq-kv in one cas */
  flushMs: number;
  /** how often a node pushes its view to its peers when its own count changed */
  gossipMs: number;
  /** longest a node goes without pushing its view (so peers catch up after a partition or restart) */
  keepaliveMs: number;
  /** timeout of one seq-kv request */
  kvTimeoutMs: number;
  /**
   * Adds older than this get no reply: Maelstrom's client gives up after 5 s and closes, and a
   * reply to a closed client makes Maelstrom stop reading this node. The add may still become
   * durable; the client recorded it as indeterminate, which allows either.
   */
  replyDeadlineMs: number;
  /** most adds waiting for seq-kv; beyond it adds fail at once (error 11, so they count for nothing) */
  maxPendingAdds: number;
}

export const defaultCounterOptions: CounterOptions = {
  flushMs: 500,
  gossipMs: 1000,
  keepaliveMs: 2000,
  kvTimeoutMs: 1000,
  replyDeadlineMs: 4000,
  maxPendingAdds: 10_000,
};

/** Wait before retrying the start-up read of the node's own key after it failed. */
const recoveryRetryMs = 100;

interface Waiter {
  resolve: () => void;
}

export interface CounterHandle {
  state(): CounterState | undefined;
}

export function installCounter(node: Node, options: CounterOptions = defaultCounterOptions): CounterHandle {
  let state: CounterState | undefined;
  let kv: KV | undefined;
  /** one seq-kv request of the writer at a time: a cas, or the read that follows a failed one */
  let busy = false;
  let nextAddId = 1;
  const waiters = new Map<number, Waiter>();
  /** own version in the last push, so a change of the node's own count goes out at the next tick */
  let pushedOwnVersion = -1;
  let lastPushMs = -Infinity;
  const now = (): number => performance.now();

  const peers = (): string[] => node.nodeIds.filter((id) => id !== node.id);

  const acknowledge = (ids: number[]): void => {
    for (const id of ids) {
      waiters.get(id)?.resolve();
      waiters.delete(id);
    }
  };

  async function readOwnKey(store: KV, self: string): Promise<Stored | undefined> {
    const value = await store.readOr(keyFor(self), null);
    return value === null ? undefined : decodeStored(value);
  }

  async function casWrite(store: KV, current: CounterState, write: Write): Promise<void> {
    try {
      await store.cas(keyFor(current.self), encodeStored(write.from), encodeStored(write.to), {
        createIfNotExists: write.createIfMissing,
      });
      acknowledge(writeApplied(current, write));
      return;
    } catch (error) {
      // A definite refusal means this write never applies; a timeout leaves it in doubt. Either
      // way, reading the key back tells what the store holds now.
      if (error instanceof PreconditionFailedError || error instanceof KeyDoesNotExistError) {
        writeRejected(current, write);
      } else {
        node.log(`cas of ${keyFor(current.self)} in doubt:`, error);
      }
    }
    acknowledge(observeOwnKey(current, await readOwnKey(store, current.self)));
  }

  /** Sends pending adds to seq-kv unless a request is already out. */
  async function flush(): Promise<void> {
    if (busy || state === undefined || kv === undefined || !isRecovered(state)) return;
    const current = state;
    const store = kv;
    busy = true;
    try {
      // Too many timed-out writes: find out which (if any) applied before sending more.
      if (current.inDoubt.length >= MAX_WRITES_IN_DOUBT) {
        acknowledge(observeOwnKey(current, await readOwnKey(store, current.self)));
      }
      const write = planWrite(current);
      if (write !== undefined) await casWrite(store, current, write);
    } catch (error) {
      node.log('counter write failed, retrying at the next flush:', error);
    } finally {
      busy = false;
    }
  }

  async function recover(current: CounterState, store: KV): Promise<void> {
    while (!isRecovered(current)) {
      try {
        acknowledge(observeOwnKey(current, await readOwnKey(store, current.self)));
      } catch (error) {
        node.log('reading own key failed, retrying:', error);
        await new Promise<void>((resolve) => node.after(recoveryRetryMs, resolve));
      }
    }
  }

  async function seedPeers(current: CounterState, store: KV): Promise<void> {
    // A head start for a restarted node; the peers' pushes correct anything stale.
    for (const peer of peers()) {
      try {
        const value = await store.readOr(keyFor(peer), null);
        seedPeer(current, peer, value === null ? undefined : decodeStored(value));
      } catch {
        // pushes will bring it
      }
    }
  }

  function push(): void {
    if (state === undefined) return;
    const ownVersion = state.view.get(state.self)?.version ?? -1;
    const due = now() - lastPushMs >= options.keepaliveMs;
    if (ownVersion === pushedOwnVersion && !due) return;
    const counts = viewMessage(state);
    for (const peer of peers()) node.send(peer, { type: 'counts', counts });
    pushedOwnVersion = ownVersion;
    lastPushMs = now();
  }

  node.onInit(() => {
    const current = createCounter(node.id, randomBytes(6).toString('hex'));
    const store = createKV(node, 'seq-kv', { timeoutMs: options.kvTimeoutMs });
    state = current;
    kv = store;
    // Not awaited: init_ok goes out at once, adds wait for the key to be read.
    void recover(current, store)
      .then(() => seedPeers(current, store))
      .catch((error: unknown) => node.log('start-up failed:', error));
    node.every(options.flushMs, flush);
    node.every(options.gossipMs, push);
  });

  node.handle('add', { delta: 'integer' }, async (message) => {
    if (state === undefined) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'not initialised');
    if (waiters.size >= options.maxPendingAdds) {
      throw new RPCError(ErrorCode.TemporarilyUnavailable, 'too many adds waiting for seq-kv');
    }
    const receivedMs = now();
    const id = nextAddId++;
    const durable = new Promise<void>((resolve) => waiters.set(id, { resolve }));
    recordAdd(state, { id, delta: message.body.delta });
    await durable;
    if (now() - receivedMs > options.replyDeadlineMs) return undefined;
    return { type: 'add_ok' };
  });

  node.handle('read', {}, () => ({ type: 'read_ok', value: state === undefined ? 0 : readTotal(state) }));

  node.handle('counts', { counts: 'object' }, (message) => {
    // Only servers push views; never answer (a reply could address a closed client).
    if (state === undefined || !node.nodeIds.includes(message.src)) return;
    mergeView(state, message.body.counts, node.nodeIds);
  });

  return { state: () => state };
}

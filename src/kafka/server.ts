// Wires the kafka core to the node runtime: client handlers with their limits, replication
// messages, the flush timer, and the record file that lets acknowledged sends survive a kill.

import { ErrorCode, RPCError, type Json, type Node, type OutBody } from '../lib/index.js';
import { DurableWriteError, type DurableFs } from '../lib/durable.js';
import { jsonLength } from '../lib/protocol.js';
import { flushIntervalFor, requestLimits, retryIntervalFor, type KafkaOptions } from './args.js';
import {
  commit,
  createKafka,
  entryBytes,
  hasKey,
  listCommitted,
  liveRecords,
  poll,
  receive,
  send,
  tick,
  type KafkaState,
  type Persist,
  type StoredRecord,
} from './core.js';
import { memoryStore, openFileStore, removeStaleFiles, sessionTag, storePath, type Store } from './storage.js';

/** Opens the node's store, streaming what it holds to `restore`. */
export type OpenStore = (nodeId: string, restore: (record: StoredRecord) => void, live: () => Iterable<StoredRecord>, log: (text: string) => void) => Store;

export interface KafkaDeps {
  /** The node's store; by default from --storage and --dir. */
  openStore?: OpenStore;
  /** The file system the default store uses (a simulated disk, say); node:fs by default. */
  fs?: DurableFs;
  /** This incarnation's epoch, larger than any earlier one's; by default from the clock. */
  epoch?: () => number;
  now?: () => number;
}

export function defaultStore(options: KafkaOptions, fs?: DurableFs): OpenStore {
  return (nodeId, restore, live, log) => {
    if (options.storage === 'memory') return memoryStore();
    const session = sessionTag();
    removeStaleFiles(options.dir, session);
    return openFileStore(storePath(options.dir, nodeId, session), restore, { fsync: options.storage === 'fsync', live, log, ...(fs === undefined ? {} : { fs }) });
  };
}

/** Larger for every restart (restarts are far more than a millisecond apart); safe below 2^53. */
function clockEpoch(): number {
  return Date.now() * 1024 + Math.floor(Math.random() * 1024);
}

function malformed(text: string): RPCError {
  return new RPCError(ErrorCode.MalformedRequest, text);
}

function checkKey(key: string, where: string): void {
  if (key.length > requestLimits.maxKeyChars) throw malformed(`${where}: key of ${key.length} characters; at most ${requestLimits.maxKeyChars}`);
}

/** A map of key -> offset from a client, or an RPCError 12 naming what is wrong. */
function offsetsField(value: { [key: string]: Json }, field: string): Record<string, number> {
  const keys = Object.keys(value);
  if (keys.length > requestLimits.maxKeysPerRequest) throw malformed(`${field}: ${keys.length} keys; at most ${requestLimits.maxKeysPerRequest} per request`);
  const result: Record<string, number> = {};
  for (const key of keys) {
    checkKey(key, field);
    const offset = value[key];
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw malformed(`${field}.${key} must be an integer >= 0`);
    result[key] = offset;
  }
  return result;
}

function keysField(value: Json[]): string[] {
  if (value.length > requestLimits.maxKeysPerRequest) throw malformed(`keys: ${value.length} keys; at most ${requestLimits.maxKeysPerRequest} per request`);
  return value.map((key) => {
    if (typeof key !== 'string') throw malformed('keys must hold strings');
    checkKey(key, 'keys');
    return key;
  });
}

/** Refuses a send the node will not store: past the message size (12), or the key count or state size (14). */
function checkSend(state: KafkaState, options: KafkaOptions, key: string, msg: Json): void {
  checkKey(key, 'send');
  const msgBytes = jsonLength(msg);
  if (msgBytes > requestLimits.maxMsgBytes) throw malformed(`send: msg of ${msgBytes} bytes as JSON; at most ${requestLimits.maxMsgBytes}`);
  if (!hasKey(state, key) && state.logs.size >= options.maxKeys) {
    throw new RPCError(ErrorCode.Abort, `send: this node holds ${state.logs.size} keys and its limit is ${options.maxKeys} (--max-keys); a new key is refused`);
  }
  if (state.entryBytes + entryBytes(key, msg) > options.maxStateBytes) {
    throw new RPCError(ErrorCode.Abort, `send: the log holds ${state.entryBytes} bytes and its limit is ${options.maxStateBytes} (--max-state-mb)`);
  }
}

function unknownKeyError(state: KafkaState, offsets: Readonly<Record<string, number>>): RPCError | undefined {
  for (const key of Object.keys(offsets)) {
    if (!hasKey(state, key)) return new RPCError(ErrorCode.KeyDoesNotExist, `commit_offsets: no message of key ${JSON.stringify(key.slice(0, 100))} on this node; nothing committed`);
  }
  return undefined;
}

/** A store failure as the client sees it: nothing stored (11), or unknown after a failed fsync (13). */
function storageError(error: unknown, afterWrite: boolean): RPCError {
  const text = error instanceof Error ? error.message : String(error);
  if (afterWrite) return new RPCError(ErrorCode.Crash, `storage: written but not made durable: ${text}`);
  if (error instanceof DurableWriteError) return new RPCError(ErrorCode.TemporarilyUnavailable, `storage: nothing stored: ${text}`);
  throw error;
}

/** Opens the node's store and rebuilds its state from it, streaming each record in. */
function restoreNode(node: Node, options: KafkaOptions, deps: KafkaDeps): { state: KafkaState; store: Store } {
  const openStore = deps.openStore ?? defaultStore(options, deps.fs);
  const config = {
    retryMs: retryIntervalFor(options, node.nodeIds.length),
    maxBatchEntries: options.maxBatchEntries,
    maxPollPerKey: options.maxPollPerKey,
    maxPollBytes: requestLimits.maxPollBytes,
  };
  let restoredCount = 0;
  let store: Store = memoryStore();
  const state = createKafka(config, node.id, node.nodeIds, (deps.epoch ?? clockEpoch)(), (apply) => {
    store = openStore(node.id, (record) => (apply(record), (restoredCount += 1)), () => liveRecords(state), node.log);
  });
  if (restoredCount > 0) node.log(`restored ${restoredCount} records, ${state.own.length} of them our own entries`);
  return { state, store };
}

/** The replication flush timer. In fsync mode its acks wait for the disk. */
function startFlushing(node: Node, options: KafkaOptions, state: KafkaState, store: Store, now: () => number): void {
  let replicationStopped = false;
  node.every(flushIntervalFor(options, node.nodeIds.length), async () => {
    const out = tick(state, now());
    // Acks in these messages cover records received before this tick: make them durable first.
    if (store.syncs && out.length > 0) {
      try {
        await store.sync();
      } catch (error) {
        // A failed fsync poisons the file for good: say so once, not every flush.
        if (!replicationStopped) node.log(`replication stopped, records not durable: ${error instanceof Error ? error.message : String(error)}`);
        replicationStopped = true;
        return;
      }
    }
    for (const { dest, body } of out) node.send(dest, body);
  });
}

export function installKafka(node: Node, options: KafkaOptions, deps: KafkaDeps = {}): { state(): KafkaState | undefined } {
  let state: KafkaState | undefined;
  let store: Store = memoryStore();
  const now = deps.now ?? ((): number => performance.now());

  const ready = (): KafkaState => {
    if (state === undefined) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'not initialized');
    return state;
  };
  const persist: Persist = (records) => store.append(records);
  // Runs a change that persists its records; a write that fails becomes the client's error.
  const change = <T>(apply: () => T): T => {
    try {
      return apply();
    } catch (error) {
      throw storageError(error, false);
    } finally {
      store.compactIfWorthIt();
    }
  };
  // In fsync mode every reply waits for the disk, reads too: a poll must not show a message a
  // power cut could still take away. Otherwise replies go synchronously, in request order.
  const durableReply = (reply: OutBody): OutBody | Promise<OutBody> =>
    store.syncs
      ? store.sync().then(
          () => reply,
          (error: unknown) => Promise.reject(storageError(error, true)),
        )
      : reply;
  node.onInit(() => {
    const restored = restoreNode(node, options, deps);
    state = restored.state;
    store = restored.store;
    startFlushing(node, options, restored.state, restored.store, now);
  });

  node.handle('send', { key: 'string', msg: 'any' }, (message) => {
    const current = ready();
    const { key, msg } = message.body;
    checkSend(current, options, key, msg);
    const { offset } = change(() => send(current, key, msg, persist));
    return durableReply({ type: 'send_ok', offset });
  });

  node.handle('poll', { offsets: 'object' }, (message) => durableReply({ type: 'poll_ok', msgs: poll(ready(), offsetsField(message.body.offsets, 'offsets')) }));

  node.handle('commit_offsets', { offsets: 'object' }, (message) => {
    const current = ready();
    const offsets = offsetsField(message.body.offsets, 'offsets');
    const unknown = unknownKeyError(current, offsets);
    if (unknown !== undefined) throw unknown;
    change(() => commit(current, offsets, persist));
    return durableReply({ type: 'commit_offsets_ok' });
  });

  node.handle('list_committed_offsets', { keys: 'array' }, (message) =>
    durableReply({ type: 'list_committed_offsets_ok', offsets: listCommitted(ready(), keysField(message.body.keys)) }),
  );

  node.handle('repl', {}, (message) => {
    // Only servers replicate; answering anything else could address a closed client.
    if (state === undefined || !node.nodeIds.includes(message.src) || message.src === node.id) return;
    const current = state;
    try {
      change(() => receive(current, message.src, message.body, now(), persist));
    } catch (error) {
      // Not stored, so not acknowledged: the peer sends it again.
      node.log(`replication from ${message.src} not stored: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  return { state: () => state };
}

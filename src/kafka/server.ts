// Wires the kafka core to the node runtime: client handlers, replication messages, the flush
// timer, and the record file that lets acknowledged sends survive a kill.

import { ErrorCode, RPCError, type Json, type Node, type OutBody } from '../lib/index.js';
import { flushIntervalFor, retryIntervalFor, type KafkaOptions } from './args.js';
import { commit, createKafka, listCommitted, poll, receive, send, tick, type KafkaState, type Outgoing, type StoredRecord } from './core.js';
import { fileStore, memoryStore, removeStaleFiles, sessionTag, storePath, type Store } from './storage.js';

export interface KafkaDeps {
  /** The node's store; by default from --storage and --dir. */
  openStore?: (nodeId: string) => Store;
  /** This incarnation's epoch, larger than any earlier one's; by default from the clock. */
  epoch?: () => number;
  now?: () => number;
}

export function defaultStore(options: KafkaOptions, nodeId: string): Store {
  if (options.storage === 'memory') return memoryStore();
  const session = sessionTag();
  removeStaleFiles(options.dir, session);
  return fileStore(storePath(options.dir, nodeId, session), session, options.storage === 'fsync');
}

/** Larger for every restart (restarts are far more than a millisecond apart); safe below 2^53. */
function clockEpoch(): number {
  return Date.now() * 1024 + Math.floor(Math.random() * 1024);
}

/** A map of key -> offset from a client, or an RPCError 12 naming what is wrong. */
function offsetsField(value: { [key: string]: Json }, field: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [key, offset] of Object.entries(value)) {
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      throw new RPCError(ErrorCode.MalformedRequest, `${field}.${key} must be an integer >= 0`);
    }
    result[key] = offset;
  }
  return result;
}

export function installKafka(node: Node, options: KafkaOptions, deps: KafkaDeps = {}): { state(): KafkaState | undefined } {
  let state: KafkaState | undefined;
  let store: Store = memoryStore();
  const now = deps.now ?? ((): number => performance.now());

  const ready = (): KafkaState => {
    if (state === undefined) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'not initialized');
    return state;
  };
  // Records are written before the reply; in fsync mode the reply also waits for the disk.
  // Otherwise it goes synchronously, so replies leave in the order requests came.
  const persistThen = (records: readonly StoredRecord[], reply: OutBody): OutBody | Promise<OutBody> => {
    store.append(records);
    return store.syncs ? store.sync().then(() => reply) : reply;
  };
  const sendAll = (messages: readonly Outgoing[]): void => {
    for (const { dest, body } of messages) node.send(dest, body);
  };

  node.onInit(() => {
    store = (deps.openStore ?? ((id: string) => defaultStore(options, id)))(node.id);
    state = createKafka(
      { retryMs: retryIntervalFor(options, node.nodeIds.length), maxBatchEntries: options.maxBatchEntries, maxPollPerKey: options.maxPollPerKey },
      node.id,
      node.nodeIds,
      (deps.epoch ?? clockEpoch)(),
      store.restored,
    );
    if (store.restored.length > 0) node.log(`restored ${store.restored.length} records, ${state.own.length} of them our own entries`);
    const current = state;
    node.every(flushIntervalFor(options, node.nodeIds.length), async () => {
      const out = tick(current, now());
      // Acks in these messages cover records received before this tick: make them durable first.
      if (store.syncs && out.length > 0) await store.sync();
      sendAll(out);
    });
  });

  node.handle('send', { key: 'string', msg: 'any' }, (message) => {
    const { offset, persist } = send(ready(), message.body.key, message.body.msg);
    return persistThen(persist, { type: 'send_ok', offset });
  });

  node.handle('poll', { offsets: 'object' }, (message) => ({
    type: 'poll_ok',
    msgs: poll(ready(), offsetsField(message.body.offsets, 'offsets')),
  }));

  node.handle('commit_offsets', { offsets: 'object' }, (message) =>
    persistThen(commit(ready(), offsetsField(message.body.offsets, 'offsets')), { type: 'commit_offsets_ok' }),
  );

  node.handle('list_committed_offsets', { keys: 'array' }, (message) => {
    const keys = message.body.keys.filter((key): key is string => typeof key === 'string');
    return { type: 'list_committed_offsets_ok', offsets: listCommitted(ready(), keys) };
  });

  node.handle('repl', {}, (message) => {
    // Only servers replicate; answering anything else could address a closed client.
    if (state === undefined || !node.nodeIds.includes(message.src) || message.src === node.id) return;
    store.append(receive(state, message.src, message.body, now()).persist);
  });

  return { state: () => state };
}

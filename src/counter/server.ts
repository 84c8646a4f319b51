// Wires the counter core to the node runtime: client handlers, the seq-kv writer, the local file
// (disk mode), and the push of durable counts to peers.

import { randomBytes } from 'node:crypto';
import { DurableFileError } from '../lib/durable.js';
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
  commitLocal,
  countBoundFor,
  createCounter,
  fitsBound,
  decodeStored,
  encodeStored,
  isRecovered,
  keyFor,
  MAX_WRITES_IN_DOUBT,
  mergeView,
  nextLocal,
  observeOwnKey,
  planMirror,
  planWrite,
  readTotal,
  recordAdd,
  refuseOverflowing,
  restoreLocal,
  seedPeer,
  viewMessage,
  writeApplied,
  writeRejected,
  type CounterState,
  type Stored,
  type Write,
} from './counter.js';
import { localFilePath, openLocal, type LocalFile } from './disk.js';

/**
 * Where an add must be before it is acknowledged:
 * - `kv`: in a cas of the node's seq-kv key. Every add costs a seq-kv round trip (with Maelstrom's
 *   one client per node there is never a second add to batch it with).
 * - `disk`: in the node's local file; the seq-kv key follows in one cas per flush interval.
 */
export type Durability = 'kv' | 'disk';

export interface CounterOptions {
  durability: Durability;
  /** directory of the local file in disk mode (Maelstrom starts nodes in the shared temp dir) */
  dataDir: string;
  /**
   * disk mode: how often the local count goes to seq-kv (one cas). kv mode: adds are written at
   * once and batched only while a cas is out; this is the retry tick after a failed write.
   */
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
  /** most adds waiting (for seq-kv, or for start-up); beyond it adds fail at once (error 11) */
  maxPendingAdds: number;
}

export const defaultCounterOptions: CounterOptions = {
  durability: 'kv',
  dataDir: '.',
  flushMs: 500,
  gossipMs: 1000,
  keepaliveMs: 2000,
  kvTimeoutMs: 1000,
  replyDeadlineMs: 4000,
  maxPendingAdds: 10_000,
};

/** The seq-kv key that names the test run (disk mode: keeps files of earlier runs out). */
export const RUN_KEY = 'counter-run';

/** Wait before retrying start-up after a seq-kv request failed. */
const startRetryMs = 100;

export interface CounterHandle {
  state(): CounterState | undefined;
}

/** Durable state that is there but unreadable: the node refuses to start rather than count from 0. */
export class DamagedStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DamagedStateError';
  }
}

/** The node's own key: undefined if it was never written; throws if it holds something no node writes. */
async function readOwnKey(store: KV, self: string, bound: number): Promise<Stored | undefined> {
  const value = await store.readOr(keyFor(self), null);
  if (value === null) return undefined;
  const stored = decodeStored(value, bound);
  if (stored === undefined) {
    throw new DamagedStateError(`seq-kv key ${keyFor(self)} holds ${JSON.stringify(value).slice(0, 200)}, not a count within ±${bound}`);
  }
  return stored;
}

/**
 * The run's token: whoever creates the key first wins. A read may be stale and miss the key;
 * the cas then fails (it is re-run on the newest state), and the next read is current.
 */
async function runToken(store: KV, mine: string): Promise<string> {
  for (;;) {
    const value = await store.readOr(RUN_KEY, null);
    if (typeof value === 'string') return value;
    try {
      await store.cas(RUN_KEY, null, mine, { createIfNotExists: true });
      return mine;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
    }
  }
}

interface AddWaiter {
  resolve(): void;
  reject(error: RPCError): void;
}

function overflowError(bound: number): RPCError {
  return new RPCError(ErrorCode.MalformedRequest, `add refused: this node's count would leave ±${bound} (reads sum one count per node and must stay safe integers)`);
}

export function installCounter(node: Node, options: CounterOptions = defaultCounterOptions): CounterHandle {
  let state: CounterState | undefined;
  let kv: KV | undefined;
  let localFile: LocalFile | undefined;
  /** one seq-kv request of the writer at a time: a cas, or the read that follows a failed one */
  let busy = false;
  let nextAddId = 1;
  /** adds waiting for their cas (kv mode), bounded by maxPendingAdds */
  const waiters = new Map<number, AddWaiter>();
  /** adds that arrived during start-up, bounded by maxPendingAdds */
  const startWaiters: Array<() => void> = [];
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
  const refuse = (ids: number[], bound: number): void => {
    for (const id of ids) {
      waiters.get(id)?.reject(overflowError(bound));
      waiters.delete(id);
    }
  };
  /** What the key holds now, read back: acks the adds it turns out to hold, refuses those that no longer fit. */
  async function resolveOwnKey(store: KV, current: CounterState): Promise<void> {
    acknowledge(observeOwnKey(current, await readOwnKey(store, current.self, current.bound)));
    refuse(refuseOverflowing(current), current.bound);
  }
  const sleep = (ms: number) => new Promise<void>((resolve) => node.after(ms, resolve));

  /** Ready for adds: kv mode once the key is read, disk mode once the local count is restored. */
  const ready = (current: CounterState): boolean =>
    options.durability === 'kv' ? isRecovered(current) : current.local !== undefined;

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
    await resolveOwnKey(store, current);
  }

  /** Sends pending adds (kv mode) or the local count (disk mode) to seq-kv, one request at a time. */
  async function flush(): Promise<void> {
    if (busy || state === undefined || kv === undefined || !ready(state)) return;
    const current = state;
    const store = kv;
    busy = true;
    const durableBefore = current.durable;
    try {
      // Too many timed-out writes: find out which (if any) applied before sending more.
      if (current.inDoubt.length >= MAX_WRITES_IN_DOUBT) await resolveOwnKey(store, current);
      const write = options.durability === 'kv' ? planWrite(current) : planMirror(current);
      if (write !== undefined) await casWrite(store, current, write);
    } catch (error) {
      node.log('seq-kv write failed, retrying at the next flush:', error);
    } finally {
      busy = false;
    }
    // kv mode: adds that arrived during this write go at once, provided the key moved on (a write
    // applied, or a predecessor's was found); otherwise the next tick retries, so a store that keeps
    // refusing never turns this into a busy loop.
    const progressed = current.durable !== durableBefore;
    if (progressed && options.durability === 'kv' && current.unacked.size > 0) void flush();
  }

  /**
   * Reads what the node's durable state is before it takes adds. Retries what may pass (timeouts);
   * throws DamagedStateError for durable state that is there but unreadable.
   */
  async function startUp(current: CounterState, store: KV): Promise<void> {
    while (!ready(current)) {
      try {
        const token = options.durability === 'disk' ? await runToken(store, current.incarnation) : undefined;
        await resolveOwnKey(store, current);
        if (token !== undefined) {
          localFile = openLocalOrRefuse(current, localFilePath(options.dataDir, token, current.self));
          restoreLocal(current, localFile.restored);
        }
      } catch (error) {
        if (error instanceof DamagedStateError) throw error;
        node.log('start-up read failed, retrying:', error);
        await sleep(startRetryMs);
      }
    }
    for (const resume of startWaiters.splice(0)) resume();
  }

  /** The node's file; damage (or a count no node of this run can hold) is a DamagedStateError naming it. */
  function openLocalOrRefuse(current: CounterState, file: string): LocalFile {
    let opened: LocalFile;
    try {
      opened = openLocal(file);
    } catch (error) {
      if (error instanceof DurableFileError) throw new DamagedStateError(`counter file ${error.message}`);
      throw error;
    }
    const count = opened.restored?.count ?? 0;
    if (Math.abs(count) > current.bound) {
      opened.close();
      throw new DamagedStateError(`counter file ${file} holds ${count}, outside ±${current.bound} (file left untouched)`);
    }
    return opened;
  }

  /** A head start for a restarted node; the peers' pushes correct anything stale. */
  async function seedPeers(current: CounterState, store: KV): Promise<void> {
    for (const peer of peers()) {
      try {
        const value = await store.readOr(keyFor(peer), null);
        seedPeer(current, peer, value === null ? undefined : decodeStored(value, current.bound));
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

  node.onInit(async () => {
    const current = createCounter(node.id, randomBytes(6).toString('hex'), countBoundFor(node.nodeIds.length));
    const store = createKV(node, 'seq-kv', { timeoutMs: options.kvTimeoutMs });
    state = current;
    kv = store;
    node.every(options.flushMs, flush);
    node.every(options.gossipMs, push);
    // Awaited: durable state that cannot be read fails init with an error that names it, rather
    // than the node serving from zero.
    await startUp(current, store);
    void seedPeers(current, store);
  });

  function checkRoom(): void {
    if (waiters.size + startWaiters.length >= options.maxPendingAdds) {
      throw new RPCError(ErrorCode.TemporarilyUnavailable, 'too many adds waiting');
    }
  }

  function addToDisk(current: CounterState, delta: number): void {
    const next = nextLocal(current, delta);
    try {
      (localFile as LocalFile).save(next);
    } catch (error) {
      node.log('writing the local file failed:', error);
      throw new RPCError(ErrorCode.TemporarilyUnavailable, 'local file not writable');
    }
    commitLocal(current, next);
  }

  async function addToKv(current: CounterState, delta: number): Promise<void> {
    checkRoom();
    const id = nextAddId++;
    const durable = new Promise<void>((resolve, reject) => waiters.set(id, { resolve, reject }));
    recordAdd(current, { id, delta });
    // With one client per node there is rarely a second add to wait for: write now, and let
    // adds that arrive meanwhile share the next cas.
    void flush();
    await durable;
  }

  node.handle('add', { delta: 'integer' }, async (message) => {
    const current = state;
    if (current === undefined) throw new RPCError(ErrorCode.TemporarilyUnavailable, 'not initialised');
    const receivedMs = now();
    const delta = message.body.delta;
    if (!ready(current)) {
      checkRoom();
      await new Promise<void>((resolve) => startWaiters.push(resolve));
    }
    if (!fitsBound(current, delta)) throw overflowError(current.bound);
    if (options.durability === 'kv') await addToKv(current, delta);
    else addToDisk(current, delta);
    if (now() - receivedMs > options.replyDeadlineMs) return undefined;
    return { type: 'add_ok' };
  });

  node.handle('read', {}, () => ({ type: 'read_ok', value: state === undefined ? 0 : readTotal(state) }));

  node.handle('counts', { counts: 'object' }, (message) => {
    if (message.src === node.id || !node.nodeIds.includes(message.src)) {
      throw new RPCError(ErrorCode.MalformedRequest, 'counts messages come from peers only');
    }
    // A peer's push gets no reply (peers never wait for one); malformed entries are skipped.
    if (state !== undefined) mergeView(state, message.body.counts, node.nodeIds);
    return undefined;
  });

  return { state: () => state };
}

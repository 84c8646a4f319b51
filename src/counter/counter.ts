// The pure core of the counter node (g-counter and pn-counter). No I/O: the server feeds it
// events (an add arrived, a write to seq-kv succeeded or failed, a value was read back, a peer
// sent its view) and carries out what it returns.
//
// Durability: each node owns one seq-kv key, `count-<node>`, holding [count, version, tag]. An
// add is acknowledged only after a cas that includes it has succeeded, so an acknowledged add
// survives a kill. Only the owner writes its key, so for the owner seq-kv's staleness never shows
// on that key: every state the store may pick for it (from the caller's last-seen state to the
// newest) holds the owner's latest value. The owner therefore knows its durable count exactly,
// also after a restart (the store remembers callers by node id, not by process).
//
// Exact reads: every node pushes its durable [count, version] to its peers; the newest version per
// node wins. A read is the sum of those durable counts. Once the network heals and adds stop, one
// push from every node makes every read exact, without ever reading another node's key from the
// (possibly stale) store.

import type { Json } from '../lib/index.js';

/** One node's durable count; versions grow by one with every successful write of its key. */
export interface Versioned {
  count: number;
  version: number;
}

/** What a node's key holds: the tag names the write, so a node can recognise its own write. */
export interface Stored extends Versioned {
  tag: string;
}

/** The value of a key that was never written. */
export const NEVER_WRITTEN: Stored = { count: 0, version: 0, tag: '' };

/** Timed-out writes whose fate is still unknown; past this many, no new write until one is resolved. */
export const MAX_WRITES_IN_DOUBT = 8;

/**
 * The largest |count| one node may hold among `nodeCount` nodes. A read sums one count per node,
 * so with every node inside this bound every total a read computes is a safe integer (docs/counters.md).
 */
export function countBoundFor(nodeCount: number): number {
  return Math.floor(Number.MAX_SAFE_INTEGER / Math.max(1, nodeCount));
}

function assertWithin(bound: number, count: number, what: string): void {
  if (!Number.isSafeInteger(count) || Math.abs(count) > bound) {
    throw new Error(`invariant: ${what} ${count} outside ±${bound}`);
  }
}

export function keyFor(node: string): string {
  return `count-${node}`;
}

export function encodeStored(stored: Stored): Json {
  return [stored.count, stored.version, stored.tag];
}

/** The stored value, or undefined when it is not one a node of a run with this bound can have written. */
export function decodeStored(value: Json | undefined, bound = Number.MAX_SAFE_INTEGER): Stored | undefined {
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [count, version, tag] = value;
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(version) || typeof tag !== 'string') return undefined;
  if (Math.abs(count as number) > bound || (version as number) < 0) return undefined;
  return { count: count as number, version: version as number, tag };
}

export function sameStored(a: Stored, b: Stored): boolean {
  return a.count === b.count && a.version === b.version && a.tag === b.tag;
}

export interface PendingAdd {
  id: number;
  delta: number;
}

/** A cas of the node's key from `from` to `to` that makes `adds` durable. */
export interface Write {
  from: Stored;
  to: Stored;
  adds: readonly PendingAdd[];
  /** the key was never written: create it if it is still missing */
  createIfMissing: boolean;
}

export interface CounterState {
  readonly self: string;
  /** |count| of every node stays within it (countBoundFor), so sums stay safe integers */
  readonly bound: number;
  /** different in every process, so a restarted node never mistakes its predecessor's write for its own */
  readonly incarnation: string;
  nextWriteSeq: number;
  /** what the node's key holds; undefined until it has been read after start */
  durable: Stored | undefined;
  /** adds received and not yet known to be durable, by id */
  unacked: Map<number, PendingAdd>;
  /** writes sent from `durable` whose outcome is not known (at most one of them can ever apply) */
  inDoubt: Write[];
  /** newest durable count known per node, this one included */
  view: Map<string, Versioned>;
  /**
   * Disk mode only: this node's count as its local file holds it (acks wait for the file, and the
   * key in seq-kv follows behind as a copy). Undefined in seq-kv mode and until restored.
   */
  local: Versioned | undefined;
}

export function createCounter(self: string, incarnation: string, bound = Number.MAX_SAFE_INTEGER): CounterState {
  return {
    self,
    bound,
    incarnation,
    nextWriteSeq: 1,
    durable: undefined,
    unacked: new Map(),
    inDoubt: [],
    view: new Map(),
    local: undefined,
  };
}

export function recordAdd(state: CounterState, add: PendingAdd): void {
  state.unacked.set(add.id, add);
}

/** The sum of the durable counts this node knows of. */
export function readTotal(state: CounterState): number {
  let total = 0;
  for (const entry of state.view.values()) total += entry.count;
  if (!Number.isSafeInteger(total)) throw new Error(`invariant: total ${total} of ${state.view.size} counts is not a safe integer`);
  return total;
}

/** The count this node's next write (kv mode) or file (disk mode) would hold with `delta` added. */
function projectedCount(state: CounterState, delta: number): number | undefined {
  if (state.local !== undefined) return state.local.count + delta;
  if (state.durable === undefined) return undefined;
  let count = state.durable.count;
  for (const add of state.unacked.values()) count += add.delta;
  return count + delta;
}

/**
 * Whether an add of `delta` keeps this node's count within its bound. False also before the node
 * knows its count (the caller waits for start-up first).
 */
export function fitsBound(state: CounterState, delta: number): boolean {
  const projected = projectedCount(state, delta);
  return projected !== undefined && Number.isSafeInteger(projected) && Math.abs(projected) <= state.bound;
}

/**
 * kv mode: after the key turned out to hold a predecessor's write, the waiting adds were checked
 * against another base. Drops (in arrival order) those that no longer fit; returns their ids.
 */
export function refuseOverflowing(state: CounterState): number[] {
  const durable = state.durable;
  if (durable === undefined) return [];
  const refused: number[] = [];
  let count = durable.count;
  for (const add of [...state.unacked.values()]) {
    if (Math.abs(count + add.delta) <= state.bound) {
      count += add.delta;
    } else {
      state.unacked.delete(add.id);
      refused.push(add.id);
    }
  }
  return refused;
}

function adopt(state: CounterState, node: string, entry: Versioned): boolean {
  const known = state.view.get(node);
  if (known !== undefined && known.version >= entry.version) return false;
  state.view.set(node, { count: entry.count, version: entry.version });
  return true;
}

function setDurable(state: CounterState, stored: Stored): void {
  state.durable = stored;
  adopt(state, state.self, stored);
}

/**
 * The next write, or undefined when there is nothing to write or it must wait (the key not read
 * yet, or too many writes in doubt). It carries every unacknowledged add, those of writes in doubt
 * too: it starts from the same state as they do, so at most one of them all can apply.
 */
export function planWrite(state: CounterState): Write | undefined {
  const durable = state.durable;
  if (durable === undefined || state.unacked.size === 0) return undefined;
  if (state.inDoubt.length >= MAX_WRITES_IN_DOUBT) return undefined;
  const adds = [...state.unacked.values()];
  const delta = adds.reduce((sum, add) => sum + add.delta, 0);
  assertWithin(state.bound, durable.count + delta, 'planned count');
  const to: Stored = {
    count: durable.count + delta,
    version: durable.version + 1,
    tag: `${state.incarnation}.${state.nextWriteSeq++}`,
  };
  const write: Write = { from: durable, to, adds, createIfMissing: durable.version === 0 };
  state.inDoubt.push(write);
  return write;
}

/** The write applied: its adds are durable. Returns the ids to acknowledge. */
export function writeApplied(state: CounterState, write: Write): number[] {
  setDurable(state, write.to);
  // Every other write in doubt started from the state this one replaced, so none can apply now.
  state.inDoubt = [];
  const acked: number[] = [];
  for (const add of write.adds) {
    if (state.unacked.delete(add.id)) acked.push(add.id);
  }
  return acked;
}

/** The store said no (precondition failed, key missing): this write never applies. */
export function writeRejected(state: CounterState, write: Write): void {
  state.inDoubt = state.inDoubt.filter((candidate) => candidate !== write);
}

/**
 * What the node's key holds, read back after a rejected or timed-out write, or at start. The
 * value is either the state writes start from (nothing applied yet), one of our writes in doubt
 * (it applied), or something else: a write of an earlier process of this node, which becomes the
 * new starting point (its adds were never acknowledged by anyone alive). Returns ids to ack.
 */
export function observeOwnKey(state: CounterState, value: Stored | undefined): number[] {
  const observed = value ?? NEVER_WRITTEN;
  const durable = state.durable;
  if (durable !== undefined && sameStored(observed, durable)) return [];
  const applied = state.inDoubt.find((write) => sameStored(write.to, observed));
  if (applied !== undefined) return writeApplied(state, applied);
  state.inDoubt = [];
  setDurable(state, observed);
  return [];
}

/** Whether the node knows its own key (it answers adds only from then on). */
export function isRecovered(state: CounterState): boolean {
  return state.durable !== undefined;
}

/** What a node pushes to its peers: every durable count it knows, as {node: [count, version]}. */
export function viewMessage(state: CounterState): { [node: string]: Json } {
  const counts: { [node: string]: Json } = {};
  for (const [node, entry] of state.view) counts[node] = [entry.count, entry.version];
  return counts;
}

/**
 * Merges a peer's view, keeping the newest version per node (an entry about this node too: it
 * is still a durable state of its key). Ignores malformed entries. Returns whether anything changed.
 */
export function mergeView(state: CounterState, counts: { [node: string]: Json }, knownNodes: readonly string[]): boolean {
  let changed = false;
  for (const [node, value] of Object.entries(counts)) {
    if (!knownNodes.includes(node) || !Array.isArray(value) || value.length !== 2) continue;
    const [count, version] = value;
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(version)) continue;
    if (Math.abs(count as number) > state.bound) continue;
    if (adopt(state, node, { count: count as number, version: version as number })) changed = true;
  }
  return changed;
}

/** A peer's key read from the store at start: possibly stale, still a durable state of that node. */
export function seedPeer(state: CounterState, node: string, value: Stored | undefined): void {
  if (value !== undefined) adopt(state, node, value);
}

// ---------------------------------------------------------------------------------------------
// Disk mode: an add is durable once the node's local file holds it (a SIGKILL loses no completed
// write; a restarted process finds the file in the same working directory). The seq-kv key is
// a copy that follows in one cas per flush, so it costs nothing per add.

/** The local count after start: the file, or the seq-kv copy if that is newer (no file, e.g. a new directory). */
export function restoreLocal(state: CounterState, fromDisk: Versioned | undefined): Versioned {
  const copy = state.durable ?? NEVER_WRITTEN;
  const local = fromDisk !== undefined && fromDisk.version >= copy.version ? fromDisk : copy;
  assertWithin(state.bound, local.count, 'restored count');
  state.local = { count: local.count, version: local.version };
  adopt(state, state.self, state.local);
  return state.local;
}

/** The local count after an add; persist it, then commitLocal, then acknowledge. */
export function nextLocal(state: CounterState, delta: number): Versioned {
  const local = state.local;
  if (local === undefined) throw new Error('nextLocal before restoreLocal');
  assertWithin(state.bound, local.count + delta, 'next local count');
  return { count: local.count + delta, version: local.version + 1 };
}

export function commitLocal(state: CounterState, local: Versioned): void {
  state.local = local;
  adopt(state, state.self, local);
}

/** The cas that brings the seq-kv copy up to the local count, or undefined if it is current. */
export function planMirror(state: CounterState): Write | undefined {
  const durable = state.durable;
  const local = state.local;
  if (durable === undefined || local === undefined || local.version <= durable.version) return undefined;
  if (state.inDoubt.length >= MAX_WRITES_IN_DOUBT) return undefined;
  const to: Stored = { count: local.count, version: local.version, tag: `${state.incarnation}.${state.nextWriteSeq++}` };
  const write: Write = { from: durable, to, adds: [], createIfMissing: durable.version === 0 };
  state.inDoubt.push(write);
  return write;
}

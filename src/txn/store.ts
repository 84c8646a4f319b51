// The transactional store of the txn node: pure state and functions, no I/O, no clocks.
//
// Every transaction that writes gets a stamp (counter, node index): the counter is a Lamport
// clock and the node index (position of the node in node_ids, which every node receives in the
// same order) breaks ties, so all nodes agree on one total order of stamps.
//
// - Registers ("w"): last writer wins per key by stamp. Only a transaction's final write to a
//   key is installed, so nobody else can read an intermediate write (G1b).
// - Lists ("append"): every append is kept, the list is ordered by (stamp, position in the
//   transaction), so one transaction's appends stay contiguous. Reads show only the stable
//   prefix: items whose counter is below stableBelow, a bound under which this node holds every
//   append any node will ever make (replication.ts computes it from the peers' watermarks). So
//   every list read on every node is a prefix of one order, which Elle's list-append version
//   inference needs (incompatible-order otherwise), and a later append never lands inside what
//   someone already read. With no peers everything is stable at once.
// - The clock is kept above every stamp in the store (local commits take clock + 1; applying a
//   remote write raises the clock to its counter). So a transaction's stamp exceeds the stamp
//   of every version it read, and a node's value of a key only ever moves to higher stamps.
// - A transaction runs synchronously from its first micro-op to its commit, so no other event
//   sees it half done; a malformed transaction is rejected before anything changes.
//
// Invariants (TxnInvariantError when one breaks: a bug, never bad input): a local commit's stamp
// is above every version of each key it writes (so it never loses to what is stored); a new
// list item never sorts before an item already readable (below stableBelow), so every read
// stays a prefix of later ones; sizeBytes never goes below zero. Each is checked where it could
// break, at the cost of the write; checkStore checks the whole store (tests).

import type { Json } from '../lib/index.js';
import { jsonLength } from '../lib/protocol.js';

export interface Stamp {
  readonly counter: number;
  readonly node: number;
}

/** A committed write as it is replicated: the final value of a register, or one append. */
export type Write =
  | { readonly kind: 'w'; readonly key: Key; readonly value: Json; readonly stamp: Stamp }
  | { readonly kind: 'append'; readonly key: Key; readonly value: Json; readonly stamp: Stamp; readonly sub: number };

/** Keys are what Maelstrom sends: integers in practice; strings are accepted too. */
export type Key = number | string;

interface RegisterEntry {
  value: Json;
  stamp: Stamp;
}

interface ListItem {
  value: Json;
  stamp: Stamp;
  sub: number;
}

export interface Store {
  /** This node's index in node_ids; the tie-breaker of its stamps. */
  readonly nodeIndex: number;
  /** Lamport clock: never below the counter of any stamp in the store. */
  clock: number;
  /** List items with a counter below this are final: nothing can sort before them any more. */
  stableBelow: number;
  readonly registers: Map<string, RegisterEntry>;
  readonly lists: Map<string, ListItem[]>;
  /** Every register's current value and every list item, as storedBytes counts them (limits.ts bounds it). */
  sizeBytes: number;
}

/** A txn store invariant broke: a bug, never bad input, so the node must not carry on quietly. */
export class TxnInvariantError extends Error {
  constructor(message: string) {
    super(`txn invariant broken: ${message}`);
    this.name = 'TxnInvariantError';
  }
}

export type MicroOp = ['r', Key, Json] | ['w', Key, Json] | ['append', Key, Json];

export type TxnResult =
  | { ok: true; txn: MicroOp[]; writes: Write[] }
  | { ok: false; error: string };

/** A store; `stableBelow` stays Infinity for a node without peers. */
export function createStore(nodeIndex: number, stableBelow = Number.POSITIVE_INFINITY): Store {
  if (!(Number.isInteger(nodeIndex) && nodeIndex >= 0)) throw new RangeError(`node index must be an integer >= 0, got ${nodeIndex}`);
  return { nodeIndex, clock: 0, stableBelow, registers: new Map(), lists: new Map(), sizeBytes: 0 };
}

export function compareStamps(a: Stamp, b: Stamp): number {
  return a.counter !== b.counter ? a.counter - b.counter : a.node - b.node;
}

function compareItems(a: ListItem, b: ListItem): number {
  return compareStamps(a.stamp, b.stamp) || a.sub - b.sub;
}

/** Map key for a Maelstrom key: 1 and "1" stay distinct. */
export function keyId(key: Key): string {
  return typeof key === 'number' ? `n${key}` : `s${key}`;
}

/** The key a map key stands for (keyId's inverse). */
function keyOfId(id: string): Key {
  return id.startsWith('n') ? Number(id.slice(1)) : id.slice(1);
}

function isKey(value: unknown): value is Key {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string';
}

/** Checks the shape of every micro-op; the error text says which one is wrong and why. */
export function parseTxn(raw: readonly Json[]): MicroOp[] | string {
  if (raw.length === 0) return 'txn is empty';
  const ops: MicroOp[] = [];
  for (const [index, mop] of raw.entries()) {
    if (!Array.isArray(mop) || mop.length !== 3) return `micro-op ${index} is not a [f, key, value] triple`;
    const [f, key, value] = mop as [Json, Json, Json];
    if (!isKey(key)) return `micro-op ${index} has a key that is neither a number nor a string`;
    if (f === 'r') ops.push(['r', key, null]);
    else if (f === 'w') ops.push(['w', key, value]);
    else if (f === 'append') ops.push(['append', key, value]);
    else return `micro-op ${index} has unknown function ${JSON.stringify(f)} (expected r, w or append)`;
  }
  return ops;
}

/** What a read returns from the committed store: a list's stable prefix, a register value, or null. */
function readCommitted(store: Store, id: string): Json {
  const items = store.lists.get(id);
  if (items !== undefined) {
    const stable: Json[] = [];
    for (const item of items) {
      if (item.stamp.counter >= store.stableBelow) break;
      stable.push(item.value);
    }
    return stable.length > 0 ? stable : null;
  }
  return store.registers.get(id)?.value ?? null;
}

/** A key is a register or a list; a transaction may not treat one as the other. */
function kindConflict(store: Store, ops: readonly MicroOp[]): string | undefined {
  const kinds = new Map<string, 'w' | 'append'>();
  for (const [f, key] of ops) {
    if (f === 'r') continue;
    const id = keyId(key);
    const stored = store.lists.has(id) ? 'append' : store.registers.has(id) ? 'w' : undefined;
    const seen = kinds.get(id) ?? stored;
    if (seen !== undefined && seen !== f) return `key ${JSON.stringify(key)} is used both as a register (w) and a list (append)`;
    kinds.set(id, f);
  }
  return undefined;
}

/**
 * Runs a client transaction to completion: reads see the committed store plus this
 * transaction's own earlier writes; the writes are installed together with one new stamp.
 * Never aborts; the only failure is a malformed request, which changes nothing.
 */
export function executeTxn(store: Store, raw: readonly Json[]): TxnResult {
  const ops = parseTxn(raw);
  if (typeof ops === 'string') return { ok: false, error: ops };
  const conflict = kindConflict(store, ops);
  if (conflict !== undefined) return { ok: false, error: conflict };

  const ownRegisters = new Map<string, { key: Key; value: Json }>();
  const ownAppends = new Map<string, Json[]>();
  const appendOrder: Array<{ key: Key; value: Json }> = [];
  const result: MicroOp[] = [];
  for (const [f, key, value] of ops) {
    const id = keyId(key);
    if (f === 'r') {
      result.push(['r', key, readOwn(store, id, ownRegisters, ownAppends)]);
    } else if (f === 'w') {
      ownRegisters.set(id, { key, value });
      result.push(['w', key, value]);
    } else {
      const appended = ownAppends.get(id) ?? [];
      appended.push(value);
      ownAppends.set(id, appended);
      appendOrder.push({ key, value });
      result.push(['append', key, value]);
    }
  }
  if (ownRegisters.size === 0 && appendOrder.length === 0) return { ok: true, txn: result, writes: [] };

  store.clock += 1;
  const stamp: Stamp = { counter: store.clock, node: store.nodeIndex };
  const writes: Write[] = [];
  for (const { key, value } of ownRegisters.values()) writes.push({ kind: 'w', key, value, stamp });
  for (const [sub, { key, value }] of appendOrder.entries()) writes.push({ kind: 'append', key, value, stamp, sub });
  checkStampAboveKeys(store, stamp, writes);
  applyWrites(store, writes);
  return { ok: true, txn: result, writes };
}

/** A local commit must win over every version of the keys it writes, or an acknowledged write is lost. */
function checkStampAboveKeys(store: Store, stamp: Stamp, writes: readonly Write[]): void {
  for (const write of writes) {
    const id = keyId(write.key);
    const latest = write.kind === 'w' ? store.registers.get(id)?.stamp : store.lists.get(id)?.at(-1)?.stamp;
    if (latest !== undefined && compareStamps(stamp, latest) <= 0) {
      throw new TxnInvariantError(`local stamp ${stampText(stamp)} not above ${stampText(latest)} of key ${JSON.stringify(write.key)}`);
    }
  }
}

function stampText(stamp: Stamp): string {
  return `${stamp.counter}/${stamp.node}`;
}

function readOwn(
  store: Store,
  id: string,
  ownRegisters: ReadonlyMap<string, { value: Json }>,
  ownAppends: ReadonlyMap<string, Json[]>,
): Json {
  const written = ownRegisters.get(id);
  if (written !== undefined) return written.value;
  const appended = ownAppends.get(id);
  const committed = readCommitted(store, id);
  // Own appends will carry counter clock + 1; showing them before that is stable could put
  // them after items that later sort before them (a read no other read is a prefix of).
  if (appended === undefined || store.clock + 1 >= store.stableBelow) return committed;
  return [...(Array.isArray(committed) ? committed : []), ...appended];
}

/**
 * Installs committed writes (local or from a peer) in one step: registers last-writer-wins by
 * stamp, appends merged into stamp order (a repeated append is ignored). Raises the clock to
 * every stamp seen, so later local stamps exceed everything readable here.
 */
export function applyWrites(store: Store, writes: readonly Write[]): void {
  for (const write of writes) {
    if (write.stamp.counter > store.clock) store.clock = write.stamp.counter;
    const id = keyId(write.key);
    if (write.kind === 'w') {
      const current = store.registers.get(id);
      if (current === undefined || compareStamps(write.stamp, current.stamp) > 0) {
        store.registers.set(id, { value: write.value, stamp: write.stamp });
        store.sizeBytes += storedBytes(write.key, write.value) - (current === undefined ? 0 : storedBytes(write.key, current.value));
      }
    } else if (insertItem(store, id, { value: write.value, stamp: write.stamp, sub: write.sub })) {
      store.sizeBytes += storedBytes(write.key, write.value);
    }
    if (!(store.sizeBytes >= 0)) throw new TxnInvariantError(`store size ${store.sizeBytes} bytes after a write to ${JSON.stringify(write.key)}`);
  }
}

/** What one stored value counts for in Store.sizeBytes: key and value as JSON, plus its stamp and bookkeeping. */
export function storedBytes(key: Key, value: Json): number {
  return jsonLength(key) + jsonLength(value) + 48;
}

/** Adds an item in stamp order; false if it was there already. */
function insertItem(store: Store, id: string, item: ListItem): boolean {
  let items = store.lists.get(id);
  if (items === undefined) {
    items = [];
    store.lists.set(id, items);
  }
  // Local appends and in-order replication land at the end: search backwards.
  let position = items.length;
  while (position > 0 && compareItems(items[position - 1]!, item) > 0) position -= 1;
  const previous = items[position - 1];
  if (previous !== undefined && compareItems(previous, item) === 0) return false;
  // Someone may have read the items below stableBelow: one sorting in among them would make a
  // later read no extension of that one.
  const next = items[position];
  if (next !== undefined && next.stamp.counter < store.stableBelow) {
    throw new TxnInvariantError(`item ${stampText(item.stamp)}.${item.sub} of ${id} sorts before readable item ${stampText(next.stamp)}.${next.sub} (stable below ${store.stableBelow})`);
  }
  items.splice(position, 0, item);
  return true;
}

/** The committed value of a key as a read sees it (tests and logs). */
export function readKey(store: Store, key: Key): Json {
  return readCommitted(store, keyId(key));
}

/** Every item of a list, stable or not (tests). */
export function allListItems(store: Store, key: Key): Json[] {
  return (store.lists.get(keyId(key)) ?? []).map((item) => item.value);
}

/** The stamp of a register's current value (tests). */
export function registerStamp(store: Store, key: Key): Stamp | undefined {
  return store.registers.get(keyId(key))?.stamp;
}

/** Every invariant over the whole store, in time linear in its size (tests). Throws TxnInvariantError. */
export function checkStore(store: Store): void {
  const fail = (what: string): never => {
    throw new TxnInvariantError(what);
  };
  let countedBytes = 0;
  for (const [id, entry] of store.registers) {
    if (entry.stamp.counter > store.clock) fail(`register ${id} stamped ${stampText(entry.stamp)}, above the clock ${store.clock}`);
    countedBytes += storedBytes(keyOfId(id), entry.value);
  }
  for (const [id, items] of store.lists) {
    items.forEach((item, i) => {
      const previous = items[i - 1];
      if (previous !== undefined && compareItems(previous, item) >= 0) fail(`items of ${id} out of order at ${i}: ${stampText(previous.stamp)}.${previous.sub}, ${stampText(item.stamp)}.${item.sub}`);
      if (item.stamp.counter > store.clock) fail(`item of ${id} stamped ${stampText(item.stamp)}, above the clock ${store.clock}`);
      countedBytes += storedBytes(keyOfId(id), item.value);
    });
  }
  if (countedBytes !== store.sizeBytes) fail(`values take ${countedBytes} bytes as counted, the store says ${store.sizeBytes}`);
}

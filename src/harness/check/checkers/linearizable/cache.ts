// The memo of Lowe's improvement to Wing & Gong: every configuration (set of linearized calls,
// register state) the search has entered. Reaching one again cannot lead anywhere new, so the
// search skips it. Configurations are packed into one Int32Array pool and found through an
// open-addressing table, because millions of small JS objects would cost several times the memory.
//
// One step further than Porcupine: a configuration is also skipped when it is *dominated*, that
// is an entered one has the same ok calls linearized, the same register state, and a subset of its
// pending-forever calls. Those calls may take effect at any later time or never, so the smaller
// configuration can do everything the larger one can. Without this, every timed-out write doubles
// the configurations a non-linearizable history has to exhaust. The table is therefore keyed by
// the key's prefix (state and ok calls); entries with the same prefix form a chain.
//
// Entry layout in the pool: [parent, lastCall, keyLength, nextInChain, ...key]. `parent` is the
// pool offset of the configuration the search was in when it linearized `lastCall` to get here
// (-1 for the initial one), so any configuration's linearization order can be read back.

export class BudgetExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}

const HEADER_WORDS = 4;

export function hashKey(key: Int32Array, length: number): number {
  let h = 0x811c9dc5 ^ length;
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ key[i]!, 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h | 0;
}

/** Open addressing from a 32-bit hash to pool offsets; equality is decided by the caller. */
class OffsetTable {
  slots = new Int32Array(1 << 12); // pool offset + 1, 0 when free
  hashes = new Int32Array(1 << 12);
  count = 0;

  /** The matching entry's offset, or ~slot of the free slot where it would go. */
  find(hash: number, matches: (offset: number) => boolean): number {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const stored = this.slots[slot]!;
      if (stored === 0) return ~slot;
      if (this.hashes[slot] === hash && matches(stored - 1)) return stored - 1;
      slot = (slot + 1) & mask;
    }
  }

  insertAt(freeSlot: number, hash: number, offset: number): void {
    this.slots[freeSlot] = offset + 1;
    this.hashes[freeSlot] = hash;
    this.count++;
  }

  get needsGrowth(): boolean {
    return this.count * 2 > this.slots.length;
  }

  grow(): void {
    const capacity = this.slots.length * 2;
    const slots = new Int32Array(capacity);
    const hashes = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < this.slots.length; i++) {
      const stored = this.slots[i]!;
      if (stored === 0) continue;
      const hash = this.hashes[i]!;
      let slot = hash & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = stored;
      hashes[slot] = hash;
    }
    this.slots = slots;
    this.hashes = hashes;
  }
}

/**
 * How many configurations of a chain are tried as dominators (the oldest first: the search enters
 * those with fewer pending-forever calls first). Chains can grow long; exact repeats are found
 * through their own table whatever the chain length.
 */
const DOMINANCE_CHECKS = 64;

export class ConfigCache {
  private pool: Int32Array;
  private used = 0;
  private readonly exact = new OffsetTable();
  private readonly chains = new OffsetTable();
  private count = 0;

  /** @param maxWords bound on the pool and tables together, in 4-byte words */
  constructor(private readonly maxWords: number) {
    this.pool = new Int32Array(1 << 16);
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return (this.pool.length + (this.exact.slots.length + this.chains.slots.length) * 2) * 4;
  }

  /**
   * Adds the configuration unless an entered one equals or dominates it (see above): its pool
   * offset, or -1. `key[0..prefixLength)` is the state and ok part, the rest the pending part.
   */
  addUnlessDominated(key: Int32Array, length: number, prefixLength: number, parent: number, lastCall: number): number {
    const fullHash = hashKey(key, length);
    const exactSlot = this.exact.find(fullHash, (offset) => this.keyEquals(offset, key, length));
    if (exactSlot >= 0) return -1;
    const prefixHash = length === prefixLength ? fullHash : hashKey(key, prefixLength);
    const head = this.chains.find(prefixHash, (offset) => this.prefixEquals(offset, key, prefixLength));
    if (head >= 0) {
      let checks = 0;
      for (let entry = head; entry !== -1 && checks < DOMINANCE_CHECKS; entry = this.pool[entry + 3]!, checks++) {
        if (this.pendingSubset(entry, key, prefixLength, length)) return -1;
      }
    }
    const offset = this.append(key, length, parent, lastCall);
    this.exact.insertAt(~exactSlot, fullHash, offset);
    if (head >= 0) {
      // after the head and the checked ones, so the oldest stay the ones checked
      let at = head;
      for (let i = 1; i < DOMINANCE_CHECKS && this.pool[at + 3] !== -1; i++) at = this.pool[at + 3]!;
      this.pool[offset + 3] = this.pool[at + 3]!;
      this.pool[at + 3] = offset;
    } else {
      this.chains.insertAt(~head, prefixHash, offset);
    }
    this.count++;
    if (this.exact.needsGrowth) this.growTable(this.exact);
    if (this.chains.needsGrowth) this.growTable(this.chains);
    return offset;
  }

  parentOf(offset: number): number {
    return this.pool[offset]!;
  }

  lastCallOf(offset: number): number {
    return this.pool[offset + 1]!;
  }

  /** The configuration's key: [state, okLow, okWordCount, ...okWords, infoLow, ...infoWords]. */
  keyOf(offset: number): Int32Array {
    const length = this.pool[offset + 2]!;
    return this.pool.subarray(offset + HEADER_WORDS, offset + HEADER_WORDS + length);
  }

  /** Pool offsets of every configuration, in the order they were added. */
  *offsets(): Generator<number> {
    for (let offset = 0; offset < this.used; offset += HEADER_WORDS + this.pool[offset + 2]!) yield offset;
  }

  private prefixEquals(offset: number, key: Int32Array, prefixLength: number): boolean {
    const pool = this.pool;
    const base = offset + HEADER_WORDS;
    for (let i = 0; i < prefixLength; i++) if (pool[base + i] !== key[i]) return false;
    return true;
  }

  /** Is the entry's pending part (a windowed set: [low, ...words]) a subset of the key's? */
  private pendingSubset(offset: number, key: Int32Array, prefixLength: number, length: number): boolean {
    const pool = this.pool;
    const at = offset + HEADER_WORDS + prefixLength;
    const entryLow = pool[at]!;
    const keyLow = key[prefixLength]!;
    if (entryLow > keyLow) return false; // the entry holds keyLow, which the key lacks
    const entryWords = pool[offset + 2]! - prefixLength - 1;
    const entryFirst = entryLow >>> 5;
    const keyFirst = keyLow >>> 5;
    const keyWords = length - prefixLength - 1;
    for (let w = 0; w < entryWords; w++) {
      const word = entryFirst + w;
      if (word < keyFirst) continue; // the key holds every call below keyLow
      const k = word - keyFirst;
      const keyWord = k < keyWords ? key[prefixLength + 1 + k]! : 0;
      if ((pool[at + 1 + w]! & ~keyWord) !== 0) return false;
    }
    return true;
  }

  private append(key: Int32Array, length: number, parent: number, lastCall: number): number {
    const needed = this.used + HEADER_WORDS + length;
    if (needed > this.pool.length) this.growPool(needed);
    const offset = this.used;
    const pool = this.pool;
    pool[offset] = parent;
    pool[offset + 1] = lastCall;
    pool[offset + 2] = length;
    pool[offset + 3] = -1;
    pool.set(key.subarray(0, length), offset + HEADER_WORDS);
    this.used = needed;
    return offset;
  }

  private ensureWithinBudget(poolWords: number, tableSlots: number): void {
    if (poolWords + tableSlots * 2 > this.maxWords) {
      throw new BudgetExceededError(
        `memory budget exhausted: ${this.count} configurations need more than ${Math.round((this.maxWords * 4) / 2 ** 20)} MB`,
      );
    }
  }

  private growPool(needed: number): void {
    let length = this.pool.length * 2;
    while (length < needed) length *= 2;
    this.ensureWithinBudget(length, this.exact.slots.length + this.chains.slots.length);
    const pool = new Int32Array(length);
    pool.set(this.pool.subarray(0, this.used));
    this.pool = pool;
  }

  private growTable(table: OffsetTable): void {
    this.ensureWithinBudget(this.pool.length, this.exact.slots.length + this.chains.slots.length + table.slots.length);
    table.grow();
  }

  private keyEquals(offset: number, key: Int32Array, length: number): boolean {
    return this.pool[offset + 2] === length && this.prefixEquals(offset, key, length);
  }
}

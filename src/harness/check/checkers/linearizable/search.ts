// Wing & Gong's search with Lowe's memo, as Porcupine runs it. The history is a doubly linked list
// of call and return events. Walking it from the front, the search linearizes a call (applies it to
// the register and lifts the call and its return out of the list) whenever the register allows it
// and the resulting configuration is new; meeting a return whose call is still in the list means
// the current order cannot go on, so it backtracks: it puts the last linearized call back and tries
// the next candidate after it. When no ok call is left in the list, the history is linearizable.
//
// Calls that are pending forever have no return; they live in a second list in invocation order,
// and are candidates while their invocation comes before the first return of the main list. They
// are tried after the ok candidates (see cache.ts for why), and keeping them out of the main list
// means the common scan does not walk past every timed-out call the search left unlinearized.
//
// Call ids are ok calls in completion order, then pending-forever calls. The linearized set is kept
// as "every ok id below okLow" plus a bitmap window above it, and the same for pending-forever ids:
// the key of a configuration stays a few words long however long the history is.

import { BudgetExceededError, ConfigCache } from './cache.js';
import { OpKind, stepState, type PreparedHistory } from './prepare.js';

export interface SearchLimits {
  /** Date.now() after which the search gives up */
  deadlineMs: number;
  /** bound on the memo, in 4-byte words */
  maxCacheWords: number;
}

export type SearchOutcome =
  | {
      kind: 'valid';
      /** call ids in the order they were linearized */
      order: number[];
      finalState: number;
    }
  | {
      kind: 'invalid';
      cache: ConfigCache;
      /** the ok call (id) that no configuration could linearize after all ok calls before it */
      blockedCall: number;
    }
  | { kind: 'unknown'; cause: string };

/** How often (in loop iterations) the clock is read: cheap enough, and well under a millisecond. */
const CLOCK_CHECK_EVERY = 1 << 12;

/** A set of call ids [base, base+count) as "all below low" + bitmap window, with its maximum. */
class WindowedSet {
  readonly words: Uint32Array;
  low = 0;
  high = -1;

  constructor(readonly count: number) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(count / 32)));
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  add(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
    if (i > this.high) this.high = i;
    if (i === this.low) {
      let low = i + 1;
      while (low < this.count && this.has(low)) low++;
      this.low = low;
    }
  }

  delete(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
    if (i < this.low) this.low = i;
    if (i === this.high) this.high = this.highestBelow(i);
  }

  /** Writes [low, ...window words] into key at `at`, optionally with the window length first. */
  encode(key: Int32Array, at: number, withLength: boolean): number {
    const first = this.low >>> 5;
    const last = this.high >= this.low ? this.high >>> 5 : first - 1;
    key[at++] = this.low;
    if (withLength) key[at++] = last - first + 1;
    for (let w = first; w <= last; w++) key[at++] = this.words[w]!;
    return at;
  }

  private highestBelow(i: number): number {
    let w = i >>> 5;
    let word = this.words[w]! & ((1 << (i & 31)) - 1);
    for (;;) {
      if (word !== 0) return w * 32 + 31 - Math.clz32(word);
      if (--w < 0) return -1;
      word = this.words[w]!;
    }
  }
}

export function searchLinearization(prepared: PreparedHistory, limits: SearchLimits): SearchOutcome {
  const { calls, okCount, events } = prepared;
  const callCount = calls.length;
  // Node i+1 is events[i], so node numbers follow history order. Node 0 heads the main list (ok
  // calls and their returns); node `pendingHead` heads the list of pending-forever calls.
  const pendingHead = events.length + 1;
  const nodeCount = events.length + 2;
  const next = new Int32Array(nodeCount).fill(-1);
  const prev = new Int32Array(nodeCount).fill(-1);
  const match = new Int32Array(nodeCount).fill(-1);
  const callOfNode = new Int32Array(nodeCount);
  const returnNode = new Int32Array(callCount).fill(-1);
  const callNode = new Int32Array(callCount);
  let mainTail = 0;
  let pendingTail = pendingHead;
  for (let i = 0; i < events.length; i++) {
    const node = i + 1;
    const event = events[i]!;
    const id = event >= 0 ? event : ~event;
    callOfNode[node] = id;
    if (id >= okCount) {
      if (event < 0) continue; // a pending-forever call has no return
      callNode[id] = node;
      prev[node] = pendingTail;
      next[pendingTail] = node;
      pendingTail = node;
      continue;
    }
    if (event >= 0) callNode[id] = node;
    else returnNode[id] = node;
    prev[node] = mainTail;
    next[mainTail] = node;
    mainTail = node;
  }
  for (let id = 0; id < okCount; id++) match[callNode[id]!] = returnNode[id]!;

  const lift = (node: number): void => {
    const after = next[node]!;
    next[prev[node]!] = after;
    if (after !== -1) prev[after] = prev[node]!;
    const ret = match[node]!;
    if (ret === -1) return;
    next[prev[ret]!] = next[ret]!;
    if (next[ret] !== -1) prev[next[ret]!] = prev[ret]!;
  };
  const unlift = (node: number): void => {
    const ret = match[node]!;
    if (ret !== -1) {
      next[prev[ret]!] = ret;
      if (next[ret] !== -1) prev[next[ret]!] = ret;
    }
    next[prev[node]!] = node;
    if (next[node] !== -1) prev[next[node]!] = node;
  };

  const ok = new WindowedSet(okCount);
  const pending = new WindowedSet(callCount - okCount);
  const linearize = (id: number): void => (id < okCount ? ok.add(id) : pending.add(id - okCount));
  const unlinearize = (id: number): void => (id < okCount ? ok.delete(id) : pending.delete(id - okCount));
  const key = new Int32Array(4 + ok.words.length + pending.words.length);
  const encode = (state: number): number => {
    key[0] = state;
    return pending.encode(key, ok.encode(key, 1, true), false);
  };
  /** the state and ok part of the last encoded key: [state, okLow, okWords, ...okWords] */
  const okPrefixLength = (): number => 3 + key[2]!;

  // A read that is legal now changes nothing, and any later place for it could move here (no call
  // still in the list returned before its invocation), so linearizing it now is never wrong: it
  // needs no alternative. That partial-order reduction keeps reads from multiplying the search.
  const isRead = (id: number): boolean => prepared.kind[id] === OpKind.ReadAny || prepared.kind[id] === OpKind.Read;

  const cache = new ConfigCache(limits.maxCacheWords);
  const stackNode = new Int32Array(callCount);
  const stackState = new Int32Array(callCount);
  const stackConfig = new Int32Array(callCount);
  const stackForced = new Uint8Array(callCount);
  const stackFirstReturn = new Int32Array(callCount);
  let depth = 0;
  let state = 0;
  let config = cache.addUnlessDominated(key, encode(state), okPrefixLength(), -1, -1);
  let node = next[0]!;
  let iterations = 0;
  // Candidates are the calls before the first return. Ok calls are tried first, pending-forever
  // ones second, so configurations with fewer pending-forever calls are entered first and the
  // ones with more are then dominated (see cache.ts) instead of explored.
  let pendingPhase = false;
  let firstReturn = -1; // in the pending phase: the main list's first return node
  // Pending-forever twins (same operation, same value) are interchangeable, so only orders that
  // linearize them oldest first are explored: a symmetry reduction.
  const twinWaiting = (id: number): boolean => {
    const twin = prepared.twinBefore[id]!;
    return twin >= 0 && !pending.has(twin - okCount);
  };
  let furthestOkLow = 0; // Knossos' "highest contiguous linearized entry", over every configuration

  try {
    while (next[0] !== -1) {
      if (++iterations % CLOCK_CHECK_EVERY === 0 && Date.now() > limits.deadlineMs) {
        return {
          kind: 'unknown',
          cause: `time budget exhausted after ${iterations} steps and ${cache.size} configurations (${callCount} calls)`,
        };
      }
      let exhausted = false;
      if (pendingPhase ? node !== -1 && node < firstReturn : match[node] !== -1) {
        const id = callOfNode[node]!;
        if (pendingPhase && twinWaiting(id)) {
          node = next[node]!; // an earlier twin goes first
          continue;
        }
        // a call: linearize it here if the register allows it and the configuration is new
        const nextState = stepState(prepared, state, id);
        if (nextState >= 0) {
          const forced = isRead(id);
          linearize(id);
          const added = cache.addUnlessDominated(key, encode(nextState), okPrefixLength(), config, id);
          if (added >= 0) {
            stackNode[depth] = node;
            stackState[depth] = state;
            stackConfig[depth] = config;
            stackForced[depth] = forced ? 1 : 0;
            stackFirstReturn[depth] = pendingPhase ? firstReturn : -1;
            depth++;
            pendingPhase = false;
            config = added;
            state = nextState;
            if (ok.low > furthestOkLow) furthestOkLow = ok.low;
            lift(node);
            node = next[0]!;
            continue;
          }
          unlinearize(id);
          // a legal read was this configuration's only move worth making, and it has failed before
          exhausted = forced;
        }
        if (!exhausted) {
          node = next[node]!;
          continue;
        }
      } else if (!pendingPhase) {
        // the first return: ok candidates are tried, now the pending-forever ones invoked before it
        pendingPhase = true;
        firstReturn = node;
        node = next[pendingHead]!;
        continue;
      }
      // Dead end: undo linearizations back to the last free choice and try the next candidate
      // after it. Undoing a forced read lands in a configuration that has failed too.
      for (;;) {
        if (depth === 0) return { kind: 'invalid', cache, blockedCall: furthestOkLow };
        depth--;
        const undone = stackNode[depth]!;
        state = stackState[depth]!;
        config = stackConfig[depth]!;
        unlinearize(callOfNode[undone]!);
        unlift(undone);
        if (stackForced[depth] === 0) {
          node = next[undone]!;
          firstReturn = stackFirstReturn[depth]!;
          pendingPhase = firstReturn !== -1;
          break;
        }
      }
    }
  } catch (err) {
    if (err instanceof BudgetExceededError) return { kind: 'unknown', cause: err.message };
    throw err;
  }
  const order: number[] = [];
  for (let i = 0; i < depth; i++) order.push(callOfNode[stackNode[i]!]!);
  return { kind: 'valid', order, finalState: state };
}

// The leader's half of the timers node (docs/workloads/timers.md): which timers are due, their
// claim in lin-kv, the fire on a local timer at the due time, the fired record and the mark.
//
// - The view: live timers the leader knows of, from its reads of the buckets (all of them when it
//   takes over, and every sweep) and from notes of the nodes that stored them.
// - A timer is claimed (bucket.ts) up to claimAheadMs before it is due, so the claim's round trip
//   to lin-kv is not part of its lateness; it then waits on a local timer.
// - The fence: right before each fire the lease is checked by this node's own clock, so a leader
//   paused past its lease, whose timers a successor claimed and fired meanwhile, fires none of them.
// - The fire and its fired record leave in one write; the mark in the bucket rides on the next
//   claim there (or the next sweep). A successor that finds a timer claimed by an earlier epoch
//   fires it again only when its fired record is absent.

import type { KV, Node } from '../lib/index.js';
import type { TimersOptions } from './args.js';
import { claimDue, liveTimers, markFired, type Bucket, type Change, type Claimed, type TimerEntry } from './bucket.js';
import { leaseEpoch, leaseValid, type LeaseState } from './lease.js';
import type { Store } from './store.js';

export const WEBHOOK = 'webhook';
/** A fired timer's record in lin-kv: the epoch that sent its fire. */
export const firedKey = (id: string): string => `timers/fired/${id}`;

export interface Clock {
  /** Unix ms: what due_ms is measured against */
  epochMs(): number;
  /** a clock that only moves forward, for the lease */
  monoMs(): number;
}

interface ViewEntry {
  dueMs: number;
  bucket: number;
  /** an earlier leader claimed it: ask its fired record before firing it again */
  takenOver?: boolean;
}

interface Leadership {
  /** live timers the leader knows of (only while leader), bounded by maxViewTimers */
  view: Map<string, ViewEntry>;
  /** buckets with a claim in flight */
  claiming: Set<number>;
  /** timers this leader sent a fire for and has not yet marked fired */
  firedUnmarked: Set<string>;
  /** claimed timers waiting for their due time (at most the buckets' entries), with the cancel of their local timer */
  armed: Map<string, () => void>;
  /** fired timers whose mark has not been written yet, by bucket (a subset of firedUnmarked) */
  toMark: Map<number, Set<string>>;
}

export interface FiringDeps {
  node: Node;
  kv: KV;
  store: Store;
  clock: Clock;
  options: TimersOptions;
  /** the lease as this node sees it now */
  lease(): LeaseState;
}

export interface Firing {
  /** Claims and arms what is due (each tick). */
  fireDue(): void;
  /** A value of a bucket this node just learned. */
  observe(bucket: number, value: Bucket): void;
  /** A timer stored by this node or noted by another. */
  note(id: string, dueMs: number, bucket: number): void;
  /** Marks fired timers no claim has marked yet (each sweep). */
  flushMarks(): void;
  /** Forgets everything (a new epoch, or no longer leader). */
  reset(): void;
}

export function createFiring(deps: FiringDeps): Firing {
  const { node, kv, store, clock, options } = deps;
  const state: Leadership = { view: new Map(), claiming: new Set(), firedUnmarked: new Set(), armed: new Map(), toMark: new Map() };

  function fireDue(): void {
    const epoch = leaseEpoch(deps.lease());
    if (epoch === undefined) return;
    if (options.fence && !leaseValid(deps.lease(), clock.monoMs())) return;
    const horizonMs = clock.epochMs() + (options.fence ? options.claimAheadMs : 0);
    for (const [bucket, ids] of dueByBucket(state, horizonMs)) {
      if (options.fence) claimAndArm(bucket, ids, epoch);
      else fireUnfenced(bucket, ids, epoch);
    }
  }

  // Timers are claimed up to claimAheadMs before they are due, so the claim's round trip to lin-kv
  // is not part of their lateness; each then waits on a local timer and fires on time.
  function claimAndArm(bucket: number, dueIds: readonly string[], epoch: number): void {
    state.claiming.add(bucket);
    // The claim carries the marks of the timers this leader fired in the bucket since its last write there.
    const marking = [...(state.toMark.get(bucket) ?? [])];
    const change = (current: Bucket, nowMs: number): Change<Claimed[]> =>
      claimDue(markFired(current, marking, epoch, nowMs).next, epoch, nowMs + options.claimAheadMs, options.maxChangesPerCas);
    store.change(bucket, change, (result) => {
      state.claiming.delete(bucket);
      if (!result.ok) return;
      marked(bucket, marking);
      const claimed = new Set(result.outcome.map(({ id }) => id));
      // A due timer the bucket does not show as ours was cancelled, fired, or claimed by a successor.
      for (const id of dueIds) if (!claimed.has(id)) state.view.delete(id);
      if (leaseEpoch(deps.lease()) !== epoch) return;
      for (const { id, dueMs, takenOver } of result.outcome) {
        const viewed = state.view.get(id);
        state.view.delete(id);
        if (state.firedUnmarked.has(id) || state.armed.has(id)) continue;
        if (takenOver || viewed?.takenOver === true) armUnlessFired(id, dueMs, bucket, epoch);
        else arm(id, dueMs, bucket, epoch);
      }
    });
  }

  // A timer an earlier leader claimed: it fired it if its fired record exists (written in the same
  // write as the fire), and then only the mark is missing. Unreadable: fire (a duplicate at worst).
  function armUnlessFired(id: string, dueMs: number, bucket: number, epoch: number): void {
    state.armed.set(id, () => {});
    kv.readOr(firedKey(id), null).then(
      (record) => {
        state.armed.delete(id);
        if (leaseEpoch(deps.lease()) !== epoch) return;
        if (record === null) arm(id, dueMs, bucket, epoch);
        else firedAwaitingMark(bucket, id);
      },
      () => {
        state.armed.delete(id);
        if (leaseEpoch(deps.lease()) === epoch) arm(id, dueMs, bucket, epoch);
      },
    );
  }

  function arm(id: string, dueMs: number, bucket: number, epoch: number): void {
    state.armed.set(id, node.after(Math.max(0, dueMs - clock.epochMs()), () => fireArmed(id, dueMs, bucket, epoch)));
  }

  function fireArmed(id: string, dueMs: number, bucket: number, epoch: number): void {
    state.armed.delete(id);
    if (leaseEpoch(deps.lease()) !== epoch) return;
    // The fence: no fire leaves a leader whose lease has lapsed by its own clock. The claim stays
    // ours in lin-kv; the view brings the timer back to be fired once the lease is renewed.
    if (!leaseValid(deps.lease(), clock.monoMs())) {
      addToView(state, id, { dueMs, bucket }, options.maxViewTimers);
      return;
    }
    if (clock.epochMs() < dueMs) {
      arm(id, dueMs, bucket, epoch);
      return;
    }
    sendFire(id);
    // In the same write as the fire, so no crash or pause can come between them: a successor that
    // finds the timer still claimed under this epoch learns from it that the fire was sent. So the
    // mark in the bucket need not hurry: it rides on the next claim there, or the next flush.
    kv.write(firedKey(id), epoch).catch(() => {});
    firedAwaitingMark(bucket, id);
  }

  /** Fired (by us, or by the predecessor whose record says so): never fired again, marked soon. */
  function firedAwaitingMark(bucket: number, id: string): void {
    state.firedUnmarked.add(id);
    const pending = state.toMark.get(bucket) ?? new Set<string>();
    pending.add(id);
    state.toMark.set(bucket, pending);
  }

  // Only for the test fixture of an unfenced leader (test/fixtures): fires from its view as soon as
  // it believes it leads, and claims and marks afterwards.
  function fireUnfenced(bucket: number, dueIds: readonly string[], epoch: number): void {
    for (const id of dueIds) {
      state.view.delete(id);
      sendFire(id);
    }
    store.change(bucket, (current, nowMs) => {
      const claim = claimDue(current, epoch, nowMs, options.maxChangesPerCas);
      return markFired(claim.next, dueIds, epoch, nowMs);
    }, () => {});
  }

  function sendFire(id: string): void {
    state.firedUnmarked.add(id);
    state.view.delete(id);
    node.rpc(WEBHOOK, { type: 'fire', timer: id }, { timeoutMs: options.kvTimeoutMs }).catch((error: unknown) => node.log(`fire ${id}: ${String(error)}`));
  }

  function markAsFired(bucket: number, ids: readonly string[], epoch: number): void {
    store.change(bucket, (current, nowMs) => markFired(current, ids, epoch, nowMs), (result) => {
      if (leaseEpoch(deps.lease()) !== epoch) return;
      // Unmarked fires stay out of every claim of ours (no second fire) until a mark lands; a
      // successor that finds them claimed by this epoch reads their fired records first.
      if (result.ok) marked(bucket, ids);
    });
  }

  function marked(bucket: number, ids: readonly string[]): void {
    const pending = state.toMark.get(bucket);
    for (const id of ids) {
      state.firedUnmarked.delete(id);
      pending?.delete(id);
    }
    if (pending?.size === 0) state.toMark.delete(bucket);
  }

  /** Marks what no claim has carried yet (each sweep), so the buckets do not keep fired timers as claimed. */
  function flushMarks(): void {
    const epoch = leaseEpoch(deps.lease());
    if (epoch === undefined) return;
    for (const [bucket, ids] of state.toMark) {
      if (!state.claiming.has(bucket)) markAsFired(bucket, [...ids], epoch);
    }
  }

  return {
    fireDue,
    flushMarks,
    observe(bucket, value) {
      const epoch = leaseEpoch(deps.lease());
      if (epoch !== undefined) syncView(state, bucket, value, epoch, options.maxViewTimers);
    },
    note(id, dueMs, bucket) {
      if (leaseEpoch(deps.lease()) !== undefined) addToView(state, id, { dueMs, bucket }, options.maxViewTimers);
    },
    reset: () => resetLeadership(state),
  };
}

function resetLeadership(state: Leadership): void {
  for (const cancel of state.armed.values()) cancel();
  state.armed.clear();
  state.view.clear();
  state.claiming.clear();
  state.firedUnmarked.clear();
  state.toMark.clear();
}

function addToView(state: Leadership, id: string, entry: ViewEntry, maxViewTimers: number): void {
  // Past the bound a timer is left to the sweep, which finds it in its bucket when it is due.
  if (state.view.has(id) || state.view.size < maxViewTimers) state.view.set(id, entry);
}

/** Brings the view of one bucket in line with a value of it the leader just learned. */
function syncView(state: Leadership, bucket: number, value: Bucket, epoch: number, maxViewTimers: number): void {
  for (const [id, entry] of value) {
    if (isDone(entry)) state.view.delete(id);
  }
  for (const { id, dueMs, takenOver } of liveTimers(value, epoch)) addToView(state, id, { dueMs, bucket, takenOver }, maxViewTimers);
  // Claimed by us earlier but not fired (the lease had lapsed then): fire them when it is valid again.
  for (const [id, entry] of value) {
    if (entry.state === 'firing' && entry.epoch === epoch && !state.firedUnmarked.has(id) && !state.armed.has(id)) addToView(state, id, { dueMs: entry.dueMs, bucket }, maxViewTimers);
  }
}

function isDone(entry: TimerEntry): boolean {
  return entry.state === 'fired' || entry.state === 'cancelled';
}

/** Timers of the view due by nowMs, by bucket, leaving out buckets with a claim in flight and timers already armed or fired. */
function dueByBucket(state: Leadership, nowMs: number): Map<number, string[]> {
  const due = new Map<number, string[]>();
  for (const [id, entry] of state.view) {
    if (entry.dueMs > nowMs || state.claiming.has(entry.bucket) || state.firedUnmarked.has(id) || state.armed.has(id)) continue;
    const ids = due.get(entry.bucket);
    if (ids === undefined) due.set(entry.bucket, [id]);
    else ids.push(id);
  }
  return due;
}

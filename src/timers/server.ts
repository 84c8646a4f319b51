// The timers node (docs/workloads/timers.md): durable timers in lin-kv, fired by one leader.
//
// - schedule/cancel: a change to the timer's bucket in lin-kv (store.ts, bucket.ts); the reply
//   goes once lin-kv took it, so an acknowledged timer outlives the kill of any node.
// - The leader (lease.ts) keeps a view of live timers: from its reads of the buckets (all of them
//   when it takes over, and every pollMs) and from `timer_added` notes other nodes send it after a
//   schedule. A timer is claimed in lin-kv under the leader's epoch up to claimAheadMs before it
//   is due, fired on a local timer at its due time, then marked fired; the fire and the mark leave
//   in the same write to stdout when the bucket has no other change in flight.
// - Fencing: a leader fires only while its lease is valid by its own clock (checked right before
//   each fire is sent), so a leader that was paused past its lease, and whose timers a successor
//   has claimed and fired meanwhile, fires none of them when it wakes.

import { ErrorCode, RPCError, createKV, type Node, type OutBody } from '../lib/index.js';
import { bucketOf, cancelTimer, claimDue, liveTimers, markFired, scheduleTimer, type Bucket, type Change, type TimerEntry } from './bucket.js';
import { decodeLease, encodeLease, initialLease, leaseEpoch, leaseHolder, leaseValid, stepLease, type LeaseAction, type LeaseEvent, type LeaseState } from './lease.js';
import { createStore } from './store.js';
import type { TimersOptions } from './args.js';

export const LEASE_KEY = 'timers/lease';
/** A fired timer's record in lin-kv: the epoch that sent its fire. */
export const firedKey = (id: string): string => `timers/fired/${id}`;
export const WEBHOOK = 'webhook';

export interface Clock {
  /** Unix ms: what due_ms is measured against */
  epochMs(): number;
  /** a clock that only moves forward, for the lease */
  monoMs(): number;
}

const systemClock: Clock = { epochMs: () => Date.now(), monoMs: () => performance.now() };

interface ViewEntry {
  dueMs: number;
  bucket: number;
  /** an earlier leader claimed it: ask its fired record before firing it again */
  takenOver?: boolean;
}

interface Leadership {
  lease: LeaseState;
  /** live timers the leader knows of (only while leader), bounded by maxViewTimers */
  view: Map<string, ViewEntry>;
  /** buckets with a claim in flight */
  claiming: Set<number>;
  /** timers this leader sent a fire for and has not yet marked fired */
  firedUnmarked: Set<string>;
  /** claimed timers waiting for their due time, with the cancel of their local timer */
  armed: Map<string, () => void>;
}

export function installTimers(node: Node, options: TimersOptions, clock: Clock = systemClock): void {
  const kv = createKV(node, 'lin-kv', { timeoutMs: options.kvTimeoutMs });
  const state: Leadership = { lease: initialLease(clock.monoMs()), view: new Map(), claiming: new Set(), firedUnmarked: new Set(), armed: new Map() };
  const store = createStore(
    { kv, nowMs: clock.epochMs, after: (delayMs, fn) => void node.after(delayMs, fn), observe, log: (text) => node.log(text) },
    {
      bucketCount: options.buckets,
      maxQueuedPerBucket: options.maxQueuedPerBucket,
      maxChangesPerCas: options.maxChangesPerCas,
      changeDeadlineMs: options.changeDeadlineMs,
      readRetryMs: options.readRetryMs,
    },
  );

  function observe(bucket: number, value: Bucket): void {
    const epoch = leaseEpoch(state.lease);
    if (epoch !== undefined) syncView(state, bucket, value, epoch, options.maxViewTimers);
  }

  function feedLease(event: LeaseEvent): void {
    const step = stepLease(state.lease, event, node.id, options);
    state.lease = step.state;
    for (const action of step.actions) runLeaseAction(action);
  }

  function runLeaseAction(action: LeaseAction): void {
    switch (action.kind) {
      case 'read':
        kv.readOr(LEASE_KEY, null).then(
          (value) => feedLease({ kind: 'read', value: decodeLease(value), nowMs: clock.monoMs() }),
          () => feedLease({ kind: 'read-failed', nowMs: clock.monoMs() }),
        );
        return;
      case 'cas': {
        const sentAtMs = clock.monoMs();
        const { to } = action;
        kv.cas(LEASE_KEY, action.from === null ? null : encodeLease(action.from), encodeLease(to), { createIfNotExists: action.from === null }).then(
          () => feedLease({ kind: 'cas-ok', to, sentAtMs, nowMs: clock.monoMs() }),
          (error: unknown) => feedLease({ kind: 'cas-failed', definite: error instanceof RPCError && error.definite, nowMs: clock.monoMs() }),
        );
        return;
      }
      case 'became-leader':
        node.log(`leader of epoch ${action.epoch}`);
        resetLeadership(state);
        store.refreshAll();
        return;
      case 'stepped-down':
        node.log(`no longer leader (epoch ${action.epoch})`);
        resetLeadership(state);
        return;
    }
  }

  // A client that waited longer than its timeout is gone, and a reply to it would silence this node
  // for the rest of the test (Maelstrom's rule). A request is answered only within replyWithinMs of
  // the earliest moment it may have been sent: when it arrives, unless this node's event loop was
  // stalled (a pause: the request may have waited in the pipe since the stall began).
  const ticks: TickRecord = { lastTickMs: clock.monoMs(), lastStall: undefined };
  function clientRequest(handle: () => Promise<OutBody>): Promise<OutBody | undefined> {
    const sentNoEarlierThanMs = earliestSendMs(clock.monoMs(), ticks, options.stallMs);
    const inTime = (): boolean => clock.monoMs() - sentNoEarlierThanMs <= options.replyWithinMs;
    if (!inTime()) return Promise.resolve(undefined);
    return handle().then(
      (reply) => (inTime() ? reply : undefined),
      (error: unknown) => {
        if (inTime()) throw error;
        return undefined;
      },
    );
  }

  /** A store change as a promise of its outcome; a change that did not happen (or may have) rejects with 11 (or 0). */
  function changeOutcome<O>(bucket: number, apply: (current: Bucket, nowMs: number, retried: boolean) => Change<O>): Promise<O> {
    return new Promise((resolve, reject) => {
      store.change(bucket, apply, (result) => {
        if (result.ok) resolve(result.outcome);
        // A change that never left can be refused (11); one that may have landed can only be reported as unknown.
        else reject(new RPCError(result.definite ? ErrorCode.TemporarilyUnavailable : ErrorCode.Timeout, result.reason));
      });
    });
  }

  node.handle('schedule', { timer: 'string', due_ms: 'number' }, (message) => {
    const { timer, due_ms: dueMs } = message.body;
    checkTimerId(timer, options.maxTimerIdChars);
    if (!Number.isSafeInteger(dueMs) || dueMs < 0) throw new RPCError(ErrorCode.MalformedRequest, 'due_ms must be a non-negative integer (Unix ms)');
    const bucket = bucketOf(timer, options.buckets);
    return clientRequest(async () => {
      const outcome = await changeOutcome(bucket, (current, nowMs) => scheduleTimer(current, timer, dueMs, nowMs, options));
      if (outcome === 'conflict') throw new RPCError(ErrorCode.KeyAlreadyExists, `timer ${timer} exists with another due_ms`);
      if (outcome === 'full') throw new RPCError(ErrorCode.TemporarilyUnavailable, `timer bucket ${bucket} is full (${options.maxEntries} timers)`);
      noteNewTimer(timer, dueMs, bucket);
      return { type: 'schedule_ok' };
    });
  });

  node.handle('cancel', { timer: 'string' }, (message) => {
    const { timer } = message.body;
    checkTimerId(timer, options.maxTimerIdChars);
    return clientRequest(async () => {
      const outcome = await changeOutcome(bucketOf(timer, options.buckets), (current, nowMs, retried) => cancelTimer(current, timer, nowMs, retried));
      if (outcome === 'not-found') throw new RPCError(ErrorCode.KeyDoesNotExist, `no timer ${timer}`);
      if (outcome === 'already-done') throw new RPCError(ErrorCode.PreconditionFailed, `timer ${timer} already fired or was cancelled`);
      return { type: 'cancel_ok' };
    });
  });

  // A peer's note of a timer it just stored; no reply (the leader's sweep covers a lost note).
  node.handle('timer_added', { timer: 'string', due_ms: 'number' }, (message) => {
    const { timer, due_ms: dueMs } = message.body;
    if (leaseEpoch(state.lease) === undefined || timer.length > options.maxTimerIdChars) return;
    addToView(state, timer, { dueMs, bucket: bucketOf(timer, options.buckets) }, options.maxViewTimers);
  });

  function noteNewTimer(timer: string, dueMs: number, bucket: number): void {
    const holder = leaseHolder(state.lease);
    if (holder === node.id) addToView(state, timer, { dueMs, bucket }, options.maxViewTimers);
    else if (holder !== undefined) node.send(holder, { type: 'timer_added', timer, due_ms: dueMs });
  }

  function fireDue(): void {
    const epoch = leaseEpoch(state.lease);
    if (epoch === undefined) return;
    if (options.fence && !leaseValid(state.lease, clock.monoMs())) return;
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
    store.change(bucket, (current, nowMs) => claimDue(current, epoch, nowMs + options.claimAheadMs, options.maxChangesPerCas), (result) => {
      state.claiming.delete(bucket);
      if (!result.ok) return;
      const claimed = new Set(result.outcome.map(({ id }) => id));
      // A due timer the bucket does not show as ours was cancelled, fired, or claimed by a successor.
      for (const id of dueIds) if (!claimed.has(id)) state.view.delete(id);
      if (leaseEpoch(state.lease) !== epoch) return;
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
        if (leaseEpoch(state.lease) !== epoch) return;
        if (record === null) arm(id, dueMs, bucket, epoch);
        else markAsFired(bucket, [id], epoch);
      },
      () => {
        state.armed.delete(id);
        if (leaseEpoch(state.lease) === epoch) arm(id, dueMs, bucket, epoch);
      },
    );
  }

  function arm(id: string, dueMs: number, bucket: number, epoch: number): void {
    state.armed.set(id, node.after(Math.max(0, dueMs - clock.epochMs()), () => fireArmed(id, dueMs, bucket, epoch)));
  }

  function fireArmed(id: string, dueMs: number, bucket: number, epoch: number): void {
    state.armed.delete(id);
    if (leaseEpoch(state.lease) !== epoch) return;
    // The fence: no fire leaves a leader whose lease has lapsed by its own clock. The claim stays
    // ours in lin-kv; the view brings the timer back to be fired once the lease is renewed.
    if (!leaseValid(state.lease, clock.monoMs())) {
      addToView(state, id, { dueMs, bucket }, options.maxViewTimers);
      return;
    }
    if (clock.epochMs() < dueMs) {
      arm(id, dueMs, bucket, epoch);
      return;
    }
    sendFire(id);
    // In the same write as the fire, so no crash or pause can come between them: a successor that
    // finds the timer still claimed under this epoch learns from it that the fire was sent.
    kv.write(firedKey(id), epoch).catch(() => {});
    markAsFired(bucket, [id], epoch);
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
      if (leaseEpoch(state.lease) !== epoch) return;
      // Unmarked fires stay out of every claim of ours (no second fire) until a retry marks them;
      // retries end when the epoch does (a successor may then fire them again: a duplicate, not a miss).
      if (!result.ok) node.after(options.readRetryMs, () => markAsFired(bucket, ids, epoch));
      else for (const id of ids) state.firedUnmarked.delete(id);
    });
  }

  node.onInit(() => {
    node.every(options.tickMs, () => {
      noteTick(ticks, clock.monoMs(), options.stallMs);
      feedLease({ kind: 'tick', nowMs: clock.monoMs() });
      fireDue();
    });
    node.every(options.pollMs, () => {
      if (leaseEpoch(state.lease) !== undefined) store.refreshAll();
    });
  });
}

/** When this node's ticks last ran, and the last stall (a gap between ticks) they saw. */
export interface TickRecord {
  lastTickMs: number;
  lastStall: { fromMs: number; toMs: number } | undefined;
}

export function noteTick(ticks: TickRecord, nowMs: number, stallMs: number): void {
  if (nowMs - ticks.lastTickMs > stallMs) ticks.lastStall = { fromMs: ticks.lastTickMs, toMs: nowMs };
  ticks.lastTickMs = nowMs;
}

/**
 * The earliest a request read now may have been sent. Normally now; but requests that waited in
 * the pipe through a stall are read either before the first tick after it (the gap is still open)
 * or just after it (the tick ran first): either way they may date from the stall's start.
 */
export function earliestSendMs(nowMs: number, ticks: TickRecord, stallMs: number): number {
  if (nowMs - ticks.lastTickMs > stallMs) return ticks.lastTickMs;
  if (ticks.lastStall !== undefined && nowMs - ticks.lastStall.toMs <= stallMs) return ticks.lastStall.fromMs;
  return nowMs;
}

function checkTimerId(timer: string, maxChars: number): void {
  if (timer.length === 0 || timer.length > maxChars) throw new RPCError(ErrorCode.MalformedRequest, `timer must be an id of 1 to ${maxChars} characters`);
}

function resetLeadership(state: Leadership): void {
  for (const cancel of state.armed.values()) cancel();
  state.armed.clear();
  state.view.clear();
  state.claiming.clear();
  state.firedUnmarked.clear();
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

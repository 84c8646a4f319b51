// The timers node (docs/workloads/timers.md): durable timers in lin-kv, fired by one leader.
//
// - schedule/cancel: a change to the timer's bucket in lin-kv (store.ts, bucket.ts), made by the
//   leader when it answers a forward, else by this node (then noting the timer to the leader); the
//   reply goes once lin-kv took it, so an acknowledged timer outlives the kill of any node.
// - Every node takes part in the lease (lease.ts); the one holding it fires (leader.ts).

import { ErrorCode, RPCError, createKV, createReplyGuard, type Node, type OutBody } from '../lib/index.js';
import { bucketOf, cancelTimer, scheduleTimer, type Bucket, type CancelOutcome, type Change } from './bucket.js';
import { decodeLease, encodeLease, initialLease, leaseEpoch, leaseHolder, stepLease, type LeaseAction, type LeaseEvent, type LeaseState } from './lease.js';
import { createFiring, type Clock } from './leader.js';
import { createStore } from './store.js';
import type { TimersOptions } from './args.js';

export const LEASE_KEY = 'timers/lease';

const systemClock: Clock = { epochMs: () => Date.now(), monoMs: () => performance.now() };

export function installTimers(node: Node, options: TimersOptions, clock: Clock = systemClock): void {
  const kv = createKV(node, 'lin-kv', { timeoutMs: options.kvTimeoutMs });
  let lease: LeaseState = initialLease(clock.monoMs());
  const store = createStore(
    { kv, nowMs: clock.epochMs, after: (delayMs, fn) => void node.after(delayMs, fn), observe: (bucket, value) => firing.observe(bucket, value), log: (text) => node.log(text) },
    {
      bucketCount: options.buckets,
      maxQueuedPerBucket: options.maxQueuedPerBucket,
      maxChangesPerCas: options.maxChangesPerCas,
      changeDeadlineMs: options.changeDeadlineMs,
      readRetryMs: options.readRetryMs,
    },
  );
  const firing = createFiring({ node, kv, store, clock, options, lease: () => lease });

  function feedLease(event: LeaseEvent): void {
    const step = stepLease(lease, event, node.id, options);
    lease = step.state;
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
        firing.reset();
        store.refreshAll();
        return;
      case 'stepped-down':
        node.log(`no longer leader (epoch ${action.epoch})`);
        firing.reset();
        return;
    }
  }

  // A client that waited longer than its timeout is gone: src/lib/reply-guard.ts.
  const replies = createReplyGuard(() => clock.monoMs(), { replyWithinMs: options.replyWithinMs, stallMs: options.stallMs });
  const clientRequest = (handle: () => Promise<OutBody>): Promise<OutBody | undefined> => replies.answer(handle);

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

  function schedule(timer: string, dueMs: number): Promise<OutBody> {
    const bucket = bucketOf(timer, options.buckets);
    return changeOutcome(bucket, (current, nowMs) => scheduleTimer(current, timer, dueMs, nowMs, options)).then((outcome) => {
      if (outcome === 'conflict') throw new RPCError(ErrorCode.KeyAlreadyExists, `timer ${timer} exists with another due_ms`);
      if (outcome === 'full') throw new RPCError(ErrorCode.TemporarilyUnavailable, `timer bucket ${bucket} is full (${options.maxEntries} timers)`);
      noteNewTimer(timer, dueMs, bucket);
      return { type: 'schedule_ok' };
    });
  }

  /** retriedBefore: a forward of this cancel may have landed, so finding it cancelled is our own doing. */
  function cancel(timer: string, retriedBefore: boolean): Promise<OutBody> {
    const apply = (current: Bucket, nowMs: number, retried: boolean): Change<CancelOutcome> => cancelTimer(current, timer, nowMs, retried || retriedBefore);
    return changeOutcome(bucketOf(timer, options.buckets), apply).then((outcome) => {
      if (outcome === 'not-found') throw new RPCError(ErrorCode.KeyDoesNotExist, `no timer ${timer}`);
      if (outcome === 'already-done') throw new RPCError(ErrorCode.PreconditionFailed, `timer ${timer} already fired or was cancelled`);
      return { type: 'cancel_ok' };
    });
  }

  // Writes go through the leader when one is known and answers: it is then the buckets' only
  // writer, so its cached values stay current (no refused cas-es) and it needs no note. A forward
  // that fails or times out is done here instead; after a timeout the node writes here for
  // forwardPauseMs (a partition from the leader lasts seconds).
  let forwardPausedUntilMs = -Infinity;
  async function viaLeader(forward: OutBody, replyType: string, here: (forwarded: boolean) => Promise<OutBody>): Promise<OutBody> {
    const holder = leaseHolder(lease);
    if (holder === undefined || holder === node.id || clock.monoMs() < forwardPausedUntilMs) return here(false);
    try {
      const reply = await node.rpc(holder, forward, { timeoutMs: options.forwardTimeoutMs });
      if (reply.type === replyType) return { type: replyType };
    } catch (error) {
      // The leader's definite answer is the answer (it did not happen); anything else may have.
      if (error instanceof RPCError && error.definite) throw error;
      if (error instanceof RPCError && error.code === ErrorCode.Timeout) forwardPausedUntilMs = clock.monoMs() + options.forwardPauseMs;
    }
    return here(true);
  }

  node.handle('schedule', { timer: 'string', due_ms: 'number' }, (message) => {
    const { timer, due_ms: dueMs } = message.body;
    checkTimerId(timer, options.maxTimerIdChars);
    if (!Number.isSafeInteger(dueMs) || dueMs < 0) throw new RPCError(ErrorCode.MalformedRequest, 'due_ms must be a non-negative integer (Unix ms)');
    return clientRequest(() => viaLeader({ type: 'forward_schedule', timer, due_ms: dueMs }, 'schedule_ok', () => schedule(timer, dueMs)));
  });

  node.handle('cancel', { timer: 'string' }, (message) => {
    const { timer } = message.body;
    checkTimerId(timer, options.maxTimerIdChars);
    return clientRequest(() => viaLeader({ type: 'forward_cancel', timer }, 'cancel_ok', (forwarded) => cancel(timer, forwarded)));
  });

  // A peer's client request, forwarded to this node as the leader it knew (it may no longer be).
  node.handle('forward_schedule', { timer: 'string', due_ms: 'number' }, (message) => {
    const { timer, due_ms: dueMs } = message.body;
    checkTimerId(timer, options.maxTimerIdChars);
    if (!Number.isSafeInteger(dueMs) || dueMs < 0) throw new RPCError(ErrorCode.MalformedRequest, 'due_ms must be a non-negative integer (Unix ms)');
    return schedule(timer, dueMs);
  });

  node.handle('forward_cancel', { timer: 'string' }, (message) => {
    checkTimerId(message.body.timer, options.maxTimerIdChars);
    return cancel(message.body.timer, false);
  });

  // A peer's note of a timer it just stored; no reply (the leader's sweep covers a lost note).
  node.handle('timer_added', { timer: 'string', due_ms: 'number' }, (message) => {
    const { timer, due_ms: dueMs } = message.body;
    if (timer.length > options.maxTimerIdChars) return;
    firing.note(timer, dueMs, bucketOf(timer, options.buckets));
  });

  function noteNewTimer(timer: string, dueMs: number, bucket: number): void {
    const holder = leaseHolder(lease);
    if (holder === node.id) firing.note(timer, dueMs, bucket);
    else if (holder !== undefined) node.send(holder, { type: 'timer_added', timer, due_ms: dueMs });
  }

  node.onInit(() => {
    node.every(options.tickMs, () => {
      replies.tick();
      feedLease({ kind: 'tick', nowMs: clock.monoMs() });
      firing.fireDue();
    });
    node.every(options.pollMs, () => {
      if (leaseEpoch(lease) === undefined) return;
      firing.flushMarks();
      store.refreshAll();
    });
  });
}

function checkTimerId(timer: string, maxChars: number): void {
  if (timer.length === 0 || timer.length > maxChars) throw new RPCError(ErrorCode.MalformedRequest, `timer must be an id of 1 to ${maxChars} characters`);
}


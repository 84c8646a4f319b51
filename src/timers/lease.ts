// Leader election by a lease in lin-kv, as a pure state machine (docs/workloads/timers.md).
//
// The lease is one lin-kv key holding {epoch, holder, beat}. The holder renews it by a cas that
// bumps beat every renewMs. Every other node reads it every watchMs and takes it over (a cas to
// epoch + 1) once it has seen the same value for leaseMs by its own clock. No clocks are compared
// between nodes: the holder counts its lease from the moment it *sent* its last successful renewal,
// and a watcher counts from the moment it *first saw* that renewal's value, which is later. So the
// holder's own idea of its lease always ends before any watcher may take over, and it ends guardMs
// earlier still, for the time between a holder's check and its message leaving the process.
//
// The epoch is the fencing token: fires are claimed in lin-kv under it (bucket.ts), and a leader
// that finds its renewal refused has lost the lease for good and steps down.

import type { Json } from '../lib/index.js';

export interface LeaseConfig {
  leaseMs: number;
  renewMs: number;
  watchMs: number;
  guardMs: number;
}

export interface LeaseRecord {
  epoch: number;
  holder: string;
  beat: number;
}

export type LeaseState =
  | {
      role: 'follower';
      /** the value last read: a record, null for "no key", undefined before any read */
      seen: LeaseRecord | null | undefined;
      /** local time that value was first seen */
      seenSinceMs: number;
      lastReadMs: number;
      inFlight: boolean;
    }
  | {
      role: 'leader';
      record: LeaseRecord;
      /** local time until which this node may fire: its last acknowledged renewal's send time + leaseMs - guardMs */
      validUntilMs: number;
      lastRenewMs: number;
      inFlight: boolean;
    };

export type LeaseEvent =
  | { kind: 'tick'; nowMs: number }
  | { kind: 'read'; value: LeaseRecord | null; nowMs: number }
  /** the cas sent at sentAtMs (from `from` to `to`) was applied */
  | { kind: 'cas-ok'; to: LeaseRecord; sentAtMs: number; nowMs: number }
  /** definite: the lease held something else (22/20); otherwise the outcome is unknown */
  | { kind: 'cas-failed'; definite: boolean; nowMs: number }
  | { kind: 'read-failed'; nowMs: number };

export type LeaseAction =
  | { kind: 'read' }
  | { kind: 'cas'; from: LeaseRecord | null; to: LeaseRecord }
  | { kind: 'became-leader'; epoch: number }
  | { kind: 'stepped-down'; epoch: number };

export interface LeaseStep {
  state: LeaseState;
  actions: LeaseAction[];
}

export function initialLease(nowMs: number): LeaseState {
  return { role: 'follower', seen: undefined, seenSinceMs: nowMs, lastReadMs: -Infinity, inFlight: false };
}

/** May this node fire now? Only a leader within its lease. */
export function leaseValid(state: LeaseState, nowMs: number): boolean {
  return state.role === 'leader' && nowMs < state.validUntilMs;
}

export function leaseEpoch(state: LeaseState): number | undefined {
  return state.role === 'leader' ? state.record.epoch : undefined;
}

/** Who holds the lease as far as this node knows (where to send new timers). */
export function leaseHolder(state: LeaseState): string | undefined {
  return state.role === 'leader' ? state.record.holder : (state.seen ?? undefined)?.holder;
}

export function stepLease(state: LeaseState, event: LeaseEvent, self: string, config: LeaseConfig): LeaseStep {
  const step = state.role === 'leader' ? stepLeader(state, event, config) : stepFollower(state, event, self, config);
  assertLease(step.state, event.nowMs);
  return step;
}

function stepLeader(state: Extract<LeaseState, { role: 'leader' }>, event: LeaseEvent, config: LeaseConfig): LeaseStep {
  switch (event.kind) {
    case 'tick': {
      if (state.inFlight || event.nowMs - state.lastRenewMs < config.renewMs) return { state, actions: [] };
      const to = { ...state.record, beat: state.record.beat + 1 };
      return { state: { ...state, inFlight: true, lastRenewMs: event.nowMs }, actions: [{ kind: 'cas', from: state.record, to }] };
    }
    case 'cas-ok': {
      const validUntilMs = Math.max(state.validUntilMs, event.sentAtMs + config.leaseMs - config.guardMs);
      return { state: { ...state, record: event.to, validUntilMs, inFlight: false }, actions: [] };
    }
    case 'cas-failed': {
      // Refused: someone took the lease. Unknown: the lease simply runs out unless a retry lands; a
      // renewal from the old value still succeeds if nobody else moved it.
      if (!event.definite) return { state: { ...state, inFlight: false }, actions: [] };
      return {
        state: { role: 'follower', seen: undefined, seenSinceMs: event.nowMs, lastReadMs: -Infinity, inFlight: false },
        actions: [{ kind: 'stepped-down', epoch: state.record.epoch }],
      };
    }
    default:
      // A leader sends no reads; a late answer to a follower's read changes nothing.
      return { state, actions: [] };
  }
}

function stepFollower(state: Extract<LeaseState, { role: 'follower' }>, event: LeaseEvent, self: string, config: LeaseConfig): LeaseStep {
  switch (event.kind) {
    case 'tick':
      if (state.inFlight || event.nowMs - state.lastReadMs < config.watchMs) return { state, actions: [] };
      return { state: { ...state, inFlight: true, lastReadMs: event.nowMs }, actions: [{ kind: 'read' }] };
    case 'read': {
      const changed = state.seen === undefined || !sameRecord(state.seen, event.value);
      const seenSinceMs = changed ? event.nowMs : state.seenSinceMs;
      const next = { ...state, seen: event.value, seenSinceMs, inFlight: false };
      // Nobody ever held it: nothing to wait out. Otherwise the holder must have been silent for leaseMs.
      const expired = event.value === null || (event.value.holder !== self && event.nowMs - seenSinceMs >= config.leaseMs);
      const ownStale = event.value !== null && event.value.holder === self;
      if (!expired && !ownStale) return { state: next, actions: [] };
      const to = { epoch: (event.value?.epoch ?? 0) + 1, holder: self, beat: 0 };
      return { state: { ...next, inFlight: true }, actions: [{ kind: 'cas', from: event.value, to }] };
    }
    case 'cas-ok':
      return {
        state: { role: 'leader', record: event.to, validUntilMs: event.sentAtMs + config.leaseMs - config.guardMs, lastRenewMs: event.sentAtMs, inFlight: false },
        actions: [{ kind: 'became-leader', epoch: event.to.epoch }],
      };
    case 'cas-failed':
    case 'read-failed':
      return { state: { ...state, inFlight: false }, actions: [] };
  }
}

function sameRecord(a: LeaseRecord | null, b: LeaseRecord | null): boolean {
  if (a === null || b === null) return a === b;
  return a.epoch === b.epoch && a.holder === b.holder && a.beat === b.beat;
}

function assertLease(state: LeaseState, nowMs: number): void {
  if (state.role === 'leader' && !(state.record.epoch >= 1)) throw new Error(`lease: leader with epoch ${state.record.epoch}`);
  if (state.role === 'leader' && state.validUntilMs > nowMs + 3_600_000) throw new Error('lease: validity far beyond any lease length');
}

/** The record as lin-kv holds it. */
export function encodeLease(record: LeaseRecord): Json {
  return { epoch: record.epoch, holder: record.holder, beat: record.beat };
}

/** A value read from the lease key; throws on one this protocol never writes. */
export function decodeLease(value: Json | undefined): LeaseRecord | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError('the lease must be an object');
  const { epoch, holder, beat } = value;
  if (typeof epoch !== 'number' || typeof holder !== 'string' || typeof beat !== 'number') throw new TypeError('bad lease record');
  return { epoch, holder, beat };
}

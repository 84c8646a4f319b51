// Turns one key's sub-history into the calls the search works on, the way Knossos preprocesses a
// history: each invocation takes its ok completion's value, failed calls vanish, and a call that
// ended in `info` (or never ended) stays pending forever: it may take effect at any point after
// its invocation, or never. Order is position in the history, never `time`.

import type { Json, Op } from '../../../types.js';
import { isClientOp, valueKey, type ValueKey } from '../json-values.js';

/** Register operations after interning values to small integers (state 0 is null). */
export const OpKind = {
  /** a read of null: legal in every state */
  ReadAny: 0,
  Read: 1,
  Write: 2,
  Cas: 3,
} as const;
export type OpKind = (typeof OpKind)[keyof typeof OpKind];

/** One client operation of the key, as a bar on a timeline and, unless it failed, a search call. */
export interface PreparedCall {
  invoke: Op;
  /** the ok/fail/info op that completed it; null when the history ends with it still running */
  completion: Op | null;
  outcome: 'ok' | 'fail' | 'info';
  /** the invocation's value after completion (a read's value is what it read) */
  value: Json;
  /** positions in the key's history */
  invokePos: number;
  completionPos: number;
}

/** What the search needs: calls numbered so that required (ok) calls come first, by completion. */
export interface PreparedHistory {
  /** every client call of the key in invocation order, failed ones included (for the bars) */
  all: PreparedCall[];
  /** search calls: ids 0..okCount-1 are ok calls in completion order, then the pending-forever ones */
  calls: PreparedCall[];
  okCount: number;
  kind: Uint8Array;
  /** Read/Write: the value's state id; Cas: the expected state id */
  argA: Int32Array;
  /** Cas: the new state id */
  argB: Int32Array;
  /** state id -> the value it stands for */
  stateValues: Json[];
  /**
   * For a pending-forever call: the previous pending-forever call (in invocation order) with the
   * same operation and value, or -1. Such twins are interchangeable.
   */
  twinBefore: Int32Array;
  /**
   * Event list in history order: call id for an invocation, ~id for a completion. Completions of
   * pending-forever calls come last, after every ok completion.
   */
  events: Int32Array;
}

/** Thrown for histories Knossos would reject outright (Jepsen reports those as unknown). */
export class MalformedHistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedHistoryError';
  }
}

function pairCalls(history: readonly Op[]): PreparedCall[] {
  const open = new Map<number, PreparedCall>();
  const all: PreparedCall[] = [];
  history.forEach((op, pos) => {
    if (!isClientOp(op)) return; // nemesis ops never take part in a register's history
    const process = op.process as number;
    const running = open.get(process);
    if (op.type === 'invoke') {
      if (running) {
        throw new MalformedHistoryError(
          `process ${process} is still executing op ${running.invoke.index} and cannot invoke op ${op.index}`,
        );
      }
      const call: PreparedCall = {
        invoke: op,
        completion: null,
        outcome: 'info',
        value: op.value ?? null,
        invokePos: pos,
        completionPos: Number.POSITIVE_INFINITY,
      };
      open.set(process, call);
      all.push(call);
      return;
    }
    if (!running) {
      if (op.type === 'info') return; // an info with no invocation says nothing about the register
      throw new MalformedHistoryError(`process ${process} completed op ${op.index} without invoking it`);
    }
    open.delete(process);
    running.completion = op;
    running.outcome = op.type;
    running.completionPos = pos;
    if (op.type === 'ok') running.value = op.value ?? null;
  });
  return all;
}

class StateTable {
  readonly values: Json[] = [null];
  private readonly ids = new Map<ValueKey, number>([[null, 0]]);

  idOf(value: Json): number {
    const key = valueKey(value);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(key, id);
      this.values.push(value);
    }
    return id;
  }
}

function encodeCall(call: PreparedCall, states: StateTable): [OpKind, number, number] {
  const { f } = call.invoke;
  const value = call.value;
  switch (f) {
    case 'read':
      return value === null ? [OpKind.ReadAny, 0, 0] : [OpKind.Read, states.idOf(value), 0];
    case 'write':
      return [OpKind.Write, states.idOf(value), 0];
    case 'cas': {
      if (!Array.isArray(value) || value.length !== 2) {
        throw new MalformedHistoryError(`cas op ${call.invoke.index} has value ${JSON.stringify(value)}, not [from, to]`);
      }
      return [OpKind.Cas, states.idOf(value[0] ?? null), states.idOf(value[1] ?? null)];
    }
    default:
      throw new MalformedHistoryError(`a compare-and-set register has no operation ${JSON.stringify(f)}`);
  }
}

/** A pending-forever read changes nothing and may be left out of any linearization: drop it. */
function isSearchCall(call: PreparedCall): boolean {
  if (call.outcome === 'fail') return false;
  return !(call.outcome === 'info' && call.invoke.f === 'read');
}

export function prepareHistory(history: readonly Op[]): PreparedHistory {
  const all = pairCalls(history);
  const searchCalls = all.filter(isSearchCall);
  const ok = searchCalls.filter((c) => c.outcome === 'ok').sort((a, b) => a.completionPos - b.completionPos);
  const pending = searchCalls.filter((c) => c.outcome === 'info'); // already in invocation order
  const calls = [...ok, ...pending];

  const states = new StateTable();
  const kind = new Uint8Array(calls.length);
  const argA = new Int32Array(calls.length);
  const argB = new Int32Array(calls.length);
  calls.forEach((call, id) => {
    const [k, a, b] = encodeCall(call, states);
    kind[id] = k;
    argA[id] = a;
    argB[id] = b;
  });

  const twinBefore = new Int32Array(calls.length).fill(-1);
  const lastTwin = new Map<string, number>();
  for (let id = ok.length; id < calls.length; id++) {
    const signature = `${kind[id]}:${argA[id]}:${argB[id]}`;
    twinBefore[id] = lastTwin.get(signature) ?? -1;
    lastTwin.set(signature, id);
  }

  const idOf = new Map<PreparedCall, number>(calls.map((c, id) => [c, id]));
  const positioned: Array<[number, number]> = [];
  for (const [call, id] of idOf) {
    positioned.push([call.invokePos, id]);
    if (call.outcome === 'ok') positioned.push([call.completionPos, ~id]);
  }
  positioned.sort((a, b) => a[0] - b[0]);
  const events = new Int32Array(calls.length * 2);
  let at = 0;
  for (const [, event] of positioned) events[at++] = event;
  for (let id = ok.length; id < calls.length; id++) events[at++] = ~id;

  return { all, calls, okCount: ok.length, kind, argA, argB, stateValues: states.values, twinBefore, events };
}

/** The register's transition: the next state id, or -1 when the call is impossible in `state`. */
export function stepState(prepared: PreparedHistory, state: number, id: number): number {
  switch (prepared.kind[id]) {
    case OpKind.ReadAny:
      return state;
    case OpKind.Read:
      return prepared.argA[id] === state ? state : -1;
    case OpKind.Write:
      return prepared.argA[id]!;
    default:
      return prepared.argA[id] === state ? prepared.argB[id]! : -1;
  }
}

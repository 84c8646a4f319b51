// Builds small hand-made histories for checker tests: ops get consecutive indices, and times
// are given explicitly so latency arithmetic can be checked to the nanosecond.

import type { Json, Op, OpType } from '../../src/harness/types.js';

export interface HistoryBuilder {
  readonly ops: Op[];
  invoke(process: number, f: string, value: Json, timeNs: number, extra?: Record<string, Json>): Op;
  complete(
    process: number,
    type: Exclude<OpType, 'invoke'>,
    f: string,
    value: Json,
    timeNs: number,
    extra?: Record<string, Json>,
  ): Op;
  nemesis(f: string, value: Json, timeNs: number): Op;
}

export function historyBuilder(): HistoryBuilder {
  const ops: Op[] = [];
  const push = (op: Omit<Op, 'index'>): Op => {
    const full = { ...op, index: ops.length } as Op;
    ops.push(full);
    return full;
  };
  return {
    ops,
    invoke: (process, f, value, timeNs, extra = {}) =>
      push({ time: timeNs, type: 'invoke', process, f, value, ...extra }),
    complete: (process, type, f, value, timeNs, extra = {}) =>
      push({ time: timeNs, type, process, f, value, ...extra }),
    nemesis: (f, value, timeNs) => push({ time: timeNs, type: 'info', process: 'nemesis', f, value }),
  };
}

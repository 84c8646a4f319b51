// Jepsen's unhandled-exceptions checker: groups :info operations that carry an exception by
// the exception's class. It never invalidates a run; it only reports.

import type { CheckResult, Json, Op } from '../types.js';

/**
 * The class name of an op's exception. Jepsen stores a Throwable map ({via: [{type, ...}]});
 * our clients may store a plain string or {type, message}; anything else is grouped together.
 */
export function exceptionClass(exception: Json | undefined): string {
  if (typeof exception === 'string') return exception.split(':')[0] ?? exception;
  if (exception !== null && typeof exception === 'object' && !Array.isArray(exception)) {
    const via = exception['via'];
    if (Array.isArray(via)) {
      const first = via[0];
      if (first !== null && typeof first === 'object' && !Array.isArray(first) && typeof first['type'] === 'string') {
        return first['type'];
      }
    }
    if (typeof exception['type'] === 'string') return exception['type'];
    if (typeof exception['class'] === 'string') return exception['class'];
  }
  return 'unknown';
}

/** An op as a plain JSON map (absent optional fields dropped). */
export function opAsJson(op: Op): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(op)) if (value !== undefined) out[key] = value;
  return out;
}

export function checkExceptions(history: Op[]): CheckResult {
  const groups = new Map<string, Op[]>();
  for (const op of history) {
    if (op.type !== 'info' || op['exception'] === undefined || op['exception'] === null) continue;
    const cls = exceptionClass(op['exception']);
    const group = groups.get(cls);
    if (group) group.push(op);
    else groups.set(cls, [op]);
  }
  if (groups.size === 0) return { 'valid?': true };
  const exceptions: Json[] = [...groups.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .map(([cls, ops]) => ({ count: ops.length, class: cls, example: opAsJson(ops[0] as Op) }));
  return { 'valid?': true, exceptions };
}

// Maelstrom's availability checker: the fraction of invoked client operations that completed
// :ok, held against `--availability` (`total` = every one; a number = a lower bound; unset =
// reported but never invalid).

import type { Availability, CheckResult, Op } from '../types.js';
import { isClientOp } from './json-values.js';

/**
 * The JSON number Maelstrom's results show for a 32-bit float: Clojure computes the fraction as
 * a Java float and prints it with the fewest digits that identify it (e.g. 0.99980295).
 */
export function float32AsPrinted(value: number): number {
  const single = Math.fround(value);
  if (!Number.isFinite(single) || Number.isInteger(single)) return single;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}

export function checkAvailability(history: readonly Op[], availability: Availability | null): CheckResult {
  let okCount = 0;
  let invokeCount = 0;
  for (const op of history) {
    if (!isClientOp(op)) continue;
    if (op.type === 'ok') okCount++;
    else if (op.type === 'invoke') invokeCount++;
  }
  // Compare against the float itself, as Clojure does, not against its printed digits.
  const exactFraction = invokeCount === 0 ? 1 : Math.fround(okCount / invokeCount);
  let valid = true;
  if (availability === 'total') valid = exactFraction === 1;
  else if (typeof availability === 'number') valid = availability <= exactFraction;
  return { 'valid?': valid, 'ok-fraction': float32AsPrinted(exactFraction) };
}

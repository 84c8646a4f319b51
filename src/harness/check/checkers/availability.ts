// Maelstrom's availability checker: the fraction of invoked client operations that completed
// :ok, held against `--availability` (`total` = every one; a number = a lower bound; unset =
// reported but never invalid).

import type { Availability, CheckResult, Op } from '../../types.js';
import { float32AsPrinted } from '../../util/float32.js';
import { isClientOp } from './json-values.js';

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

import { describe, expect, it } from 'vitest';
import { float32AsPrinted } from '../../util/float32.js';
import { checkAvailability } from './availability.js';
import { historyBuilder } from '../../../../test/support/history-builder.js';

function historyWith(okCount: number, failCount: number) {
  const h = historyBuilder();
  let process = 0;
  for (let i = 0; i < okCount; i++) {
    h.invoke(process, 'write', i, i);
    h.complete(process++, 'ok', 'write', i, i);
  }
  for (let i = 0; i < failCount; i++) {
    h.invoke(process, 'write', i, i);
    h.complete(process++, 'fail', 'write', i, i, { error: ['abort', null] });
  }
  h.nemesis('start-partition', 'one', 1);
  return h.ops;
}

describe('checkAvailability', () => {
  it('is unchecked when --availability is unset, but still reports the fraction', () => {
    expect(checkAvailability(historyWith(1, 3), null)).toEqual({ 'valid?': true, 'ok-fraction': 0.25 });
  });

  it('fails total availability on a single failure', () => {
    expect(checkAvailability(historyWith(9, 0), 'total')).toEqual({ 'valid?': true, 'ok-fraction': 1 });
    expect(checkAvailability(historyWith(9, 1), 'total')).toEqual({ 'valid?': false, 'ok-fraction': 0.9 });
  });

  it('holds a number as a lower bound on the ok fraction', () => {
    expect(checkAvailability(historyWith(3, 1), 0.75)['valid?']).toBe(true);
    expect(checkAvailability(historyWith(3, 1), 0.76)['valid?']).toBe(false);
  });

  it('reports 1 when nothing was invoked', () => {
    expect(checkAvailability([], 'total')).toEqual({ 'valid?': true, 'ok-fraction': 1 });
  });

  it('prints the fraction as a Java float would', () => {
    // 2/3 as a float is 0.6666666865...; Java prints it as 0.6666667
    expect(checkAvailability(historyWith(2, 1), null)['ok-fraction']).toBe(0.6666667);
    expect(float32AsPrinted(15223 / 15226)).toBe(0.99980295);
    expect(float32AsPrinted(0.1)).toBe(0.1);
  });
});

import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import { checkStats } from './stats.js';

describe('checkStats', () => {
  it('counts client completions overall and per f', () => {
    const h = historyBuilder();
    h.invoke(0, 'read', null, 0);
    h.complete(0, 'ok', 'read', [], 1);
    h.nemesis('start-partition', 'majority', 2);
    h.invoke(1, 'write', 3, 3);
    h.complete(1, 'fail', 'write', 3, 4, { error: ['temporarily-unavailable', 'not a leader'] });
    h.invoke(2, 'write', 4, 5);
    h.complete(2, 'info', 'write', 4, 6, { error: 'net-timeout' });
    h.invoke(3, 'write', 5, 7);
    h.complete(3, 'ok', 'write', 5, 8);
    expect(checkStats(h.ops)).toEqual({
      count: 4,
      'ok-count': 2,
      'fail-count': 1,
      'info-count': 1,
      'valid?': true,
      'by-f': {
        read: { count: 1, 'ok-count': 1, 'fail-count': 0, 'info-count': 0, 'valid?': true },
        write: { count: 3, 'ok-count': 1, 'fail-count': 1, 'info-count': 1, 'valid?': true },
      },
    });
  });

  it('is invalid when some f never succeeded', () => {
    const h = historyBuilder();
    h.invoke(0, 'echo', 'a', 0);
    h.complete(0, 'info', 'echo', 'a', 1, { error: 'net-timeout' });
    h.invoke(1, 'echo', 'b', 2);
    h.complete(1, 'fail', 'echo', 'b', 3, { error: ['not-supported', null] });
    const r = checkStats(h.ops);
    expect(r['valid?']).toBe(false);
    expect(r['by-f']).toMatchObject({ echo: { 'valid?': false, 'ok-count': 0 } });
  });

  it('forgives crash ops that never succeed, as Maelstrom does for Kafka', () => {
    const h = historyBuilder();
    h.invoke(0, 'crash', null, 0);
    h.complete(0, 'info', 'crash', null, 1);
    h.invoke(1, 'send', null, 2);
    h.complete(1, 'ok', 'send', null, 3);
    const r = checkStats(h.ops);
    expect(r['valid?']).toBe(true);
    expect(r['by-f']).toMatchObject({ crash: { 'valid?': false } });
    // ...but not when another f fails too
    h.invoke(2, 'poll', null, 4);
    h.complete(2, 'fail', 'poll', null, 5);
    expect(checkStats(h.ops)['valid?']).toBe(false);
  });

  it('is valid with zero counts for an empty history', () => {
    expect(checkStats([])).toEqual({
      count: 0,
      'ok-count': 0,
      'fail-count': 0,
      'info-count': 0,
      'by-f': {},
      'valid?': true,
    });
  });
});

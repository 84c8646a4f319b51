import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import { checkTimers, faultSpansMs, faultStartsMs, firesOf, type Fire } from './timers.js';

const ms = 1e6;
/** Unix ms of the test's start, as the nodes' clock reads it */
const T0 = 1_733_338_800_000;

function fire(timer: string, atMs: number, node = 'n0', known = true): Fire {
  return { timer, node, atMs, epochMs: T0 + atMs, known };
}

/** A history where process p schedules `timer` due dueAtMs after the start, invoked at atMs. */
function schedule(b: ReturnType<typeof historyBuilder>, p: number, timer: string, atMs: number, dueAtMs: number, type: 'ok' | 'fail' | 'info' = 'ok'): void {
  const value = { timer, due_ms: T0 + dueAtMs };
  b.invoke(p, 'schedule', value, atMs * ms);
  b.complete(p, type, 'schedule', value, (atMs + 2) * ms, type === 'ok' ? {} : { error: type === 'fail' ? ['temporarily-unavailable', 'x'] : 'net-timeout' });
}

function cancel(b: ReturnType<typeof historyBuilder>, p: number, timer: string, atMs: number, type: 'ok' | 'fail' | 'info' = 'ok', durationMs = 2): void {
  b.invoke(p, 'cancel', { timer }, atMs * ms);
  b.complete(p, type, 'cancel', { timer }, (atMs + durationMs) * ms, type === 'fail' ? { error: ['precondition-failed', null] } : {});
}

const once = { exactlyOnce: false };

describe('timers checker', () => {
  it('accepts a clean history and measures lateness', () => {
    const b = historyBuilder();
    schedule(b, 0, 't1', 0, 100);
    schedule(b, 1, 't2', 10, 200);
    schedule(b, 0, 't3', 20, 300);
    cancel(b, 1, 't3', 30);
    const { workload } = checkTimers(b.ops, [fire('t1', 105), fire('t2', 230, 'n1')], once);
    expect(workload['valid?']).toBe(true);
    expect(workload['lateness-ms']).toEqual({ '0.5': 30, '0.95': 30, '0.99': 30, '1': 30 });
    expect(workload['fires-by-node']).toEqual({ n0: 1, n1: 1 });
    expect(workload['cancelled-count']).toBe(1);
  });

  it('rejects a missed timer, and not one whose schedule was indeterminate or failed', () => {
    const b = historyBuilder();
    schedule(b, 0, 'lost', 0, 100);
    schedule(b, 1, 'maybe', 0, 100, 'info');
    schedule(b, 2, 'refused', 0, 100, 'fail');
    cancel(b, 0, 'lost', 50, 'fail');
    const { workload } = checkTimers(b.ops, [], once);
    expect(workload['valid?']).toBe(false);
    expect(workload['missed-count']).toBe(1);
    expect((workload.missed as Array<{ timer: string }>)[0]?.timer).toBe('lost');
  });

  it('rejects an early fire', () => {
    const b = historyBuilder();
    schedule(b, 0, 't1', 0, 100);
    const { workload } = checkTimers(b.ops, [fire('t1', 99)], once);
    expect(workload['valid?']).toBe(false);
    expect(workload['early-count']).toBe(1);
    expect((workload.early as Array<{ fires: Array<{ late_ms: number }> }>)[0]?.fires[0]?.late_ms).toBe(-1);
  });

  it('rejects phantom fires: never scheduled, or a schedule that definitely failed; an indeterminate one may fire', () => {
    const b = historyBuilder();
    schedule(b, 0, 'refused', 0, 100, 'fail');
    schedule(b, 1, 'maybe', 0, 100, 'info');
    const { workload } = checkTimers(b.ops, [fire('refused', 120), fire('ghost', 130, 'n2', false), fire('maybe', 140)], once);
    expect(workload['valid?']).toBe(false);
    expect(workload['phantom-count']).toBe(2);
    expect(workload['unknown-fire-count']).toBe(1);
    expect((workload.phantom as Array<{ timer: string }>).map((e) => e.timer).sort()).toEqual(['ghost', 'refused']);
  });

  it('rejects any fire of a timer whose cancel was ok, before, during or after the cancel, and says which', () => {
    for (const [fireAtMs, when] of [[40, 'before-cancel'], [51, 'during-cancel'], [60, 'after-cancel']] as const) {
      const b = historyBuilder();
      schedule(b, 0, 't1', 0, 30);
      cancel(b, 1, 't1', 50, 'ok', 5);
      const { workload } = checkTimers(b.ops, [fire('t1', fireAtMs)], once);
      expect(workload['valid?']).toBe(false);
      expect(workload['fired-after-cancel-count']).toBe(1);
      expect((workload['fired-after-cancel'] as Array<{ fires: Array<{ vs_cancel: string }> }>)[0]?.fires[0]?.vs_cancel).toBe(when);
    }
  });

  it('a fire of a timer whose cancel failed or is indeterminate is fine', () => {
    const b = historyBuilder();
    schedule(b, 0, 't1', 0, 30);
    schedule(b, 0, 't2', 3, 30);
    cancel(b, 1, 't1', 50, 'fail');
    cancel(b, 1, 't2', 60, 'info');
    expect(checkTimers(b.ops, [fire('t1', 31), fire('t2', 31)], once).workload['valid?']).toBe(true);
  });

  it('counts duplicated timers, invalid only with --exactly-once', () => {
    const b = historyBuilder();
    schedule(b, 0, 't1', 0, 30);
    const fires = [fire('t1', 31, 'n0'), fire('t1', 900, 'n1')];
    const loose = checkTimers(b.ops, fires, once).workload;
    expect(loose['valid?']).toBe(true);
    expect(loose['duplicated-count']).toBe(1);
    expect(checkTimers(b.ops, fires, { exactlyOnce: true }).workload['valid?']).toBe(false);
  });

  it('measures lateness of timers due within 5 s after a fault apart', () => {
    const b = historyBuilder();
    b.nemesis('kill', 'one', 1000 * ms);
    b.nemesis('kill', { n0: 'killed' }, 1001 * ms);
    b.nemesis('start', 'all', 3000 * ms);
    b.nemesis('start', { n0: 'started' }, 3001 * ms);
    schedule(b, 0, 'calm', 0, 500);
    schedule(b, 1, 'hit', 900, 2000);
    schedule(b, 2, 'later', 900, 7000);
    expect(faultStartsMs(b.ops)).toEqual([{ f: 'kill', atMs: 1000 }]);
    const { workload, extra } = checkTimers(b.ops, [fire('calm', 510), fire('hit', 3400), fire('later', 7020)], once);
    expect(workload['fault-lateness-ms']).toEqual({ '0.5': 1400, '0.95': 1400, '0.99': 1400, '1': 1400 });
    expect((workload['lateness-ms'] as Record<string, number>)['1']).toBe(1400);
    expect(extra['lateness-points']).toEqual([[500, 10, 'calm'], [2000, 1400, 'hit'], [7000, 20, 'later']]);
  });

  it('takes its faults from the nemesis reading every view shares: one per operation, none for a partition that cuts no link', () => {
    const b = historyBuilder();
    b.nemesis('start-partition', 'minority-third', 1000 * ms);
    b.nemesis('start-partition', ['isolated', { n0: [], n1: [], n2: [] }], 1001 * ms);
    b.nemesis('stop-partition', null, 2000 * ms);
    b.nemesis('stop-partition', 'network-healed', 2001 * ms);
    b.nemesis('kill', 'all', 3000 * ms);
    b.nemesis('kill', { n0: 'killed', n1: 'killed' }, 3001 * ms);
    b.nemesis('start', 'all', 4000 * ms);
    b.nemesis('start', { n0: 'started', n1: 'started' }, 4001 * ms);
    expect(faultSpansMs(b.ops, 9000)).toEqual([{ f: 'kill', fromMs: 3000, toMs: 4000 }]);
  });

  it('reads fires from the service log, ignoring other services and types', () => {
    const fires = firesOf([
      { service: 'webhook', node: 'n1', type: 'fire', timeMs: 12, timer: 't1', epoch_ms: T0 + 12, known: true },
      { service: 'webhook', node: 'n1', type: 'fire', timeMs: 13, timer: 'zz', epoch_ms: T0 + 13, known: false },
      { service: 'exec', node: 'n1', type: 'fire', timeMs: 12, timer: 't1', epoch_ms: 1 },
    ]);
    expect(fires).toEqual([fire('t1', 12, 'n1'), fire('zz', 13, 'n1', false)]);
  });
});

// The sched checker on hand-made histories and exec logs: each error kind rejected, correct runs
// accepted, and the figures computed to the millisecond.
import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import type { Json, ServiceEvent } from '../../types.js';
import { checkSched, idealResponseRatios, type SchedCheckOptions } from './sched.js';

const MS = 1e6;
const options: SchedCheckOptions = { totalSlots: 2, slotsByWorker: { n1: 2 }, exactlyOnce: false, schedulers: ['n0'], concurrency: 2 };

function job(id: string, durations: number[]): Json {
  return { job: id, tasks: durations.map((d, k) => ({ id: `${id}.${k}`, duration_ms: d })) };
}

/** A submit of job `id` by process p, invoked at t0 and completed (type) at t1 (ms). */
function submits(entries: Array<[number, string, number[], 'ok' | 'fail' | 'info', number, number]>) {
  const h = historyBuilder();
  // invocations and completions interleave by time, as a real history does
  const events: Array<{ at: number; add: () => void }> = [];
  for (const [p, id, durations, type, t0, t1] of entries) {
    const value = job(id, durations);
    events.push({ at: t0, add: () => h.invoke(p, 'submit', value, t0 * MS) });
    events.push({ at: t1 + 0.001, add: () => h.complete(p, type, 'submit', value, t1 * MS) });
  }
  for (const event of events.sort((a, b) => a.at - b.at)) event.add();
  return h.ops;
}

let runCounter = 0;
/** start at t, complete at t + duration (or killed at killedAt). */
function ran(node: string, task: string, durationMs: number, t: number, killedAt?: number): ServiceEvent[] {
  const run = runCounter++;
  const start: ServiceEvent = { service: 'exec', node, type: 'start', timeMs: t, task, duration_ms: durationMs, run };
  if (killedAt !== undefined) {
    return [start, { service: 'exec', node, type: 'killed', timeMs: killedAt, task, duration_ms: durationMs, run, ran_ms: killedAt - t }];
  }
  return [start, { service: 'exec', node, type: 'complete', timeMs: t + durationMs, task, duration_ms: durationMs, run }];
}

const byTime = (events: ServiceEvent[]): ServiceEvent[] => [...events].sort((a, b) => a.timeMs - b.timeMs);

describe('sched checker', () => {
  it('accepts a run where every accepted task completed once, with the figures', () => {
    const history = submits([
      [0, 'j0', [100], 'ok', 0, 2],
      [1, 'j1', [100, 50], 'ok', 10, 12],
    ]);
    const events = byTime([...ran('n1', 'j0.0', 100, 1), ...ran('n1', 'j1.0', 100, 12), ...ran('n1', 'j1.1', 50, 101)]);
    const { workload, extra } = checkSched(history, events, options);
    expect(workload['valid?']).toBe(true);
    expect(workload['lost-count']).toBe(0);
    expect(workload['duplicated-count']).toBe(0);
    // 250 ms of work over 2 slots x (151 - 0) ms
    expect(workload.efficiency).toBeCloseTo(250 / (2 * 151), 4);
    // j0: (101 - 0) / 100; j1: (151 - 10) / 100
    expect(workload['response-ratio']).toEqual({ '0.5': 1.41, '0.95': 1.41, '0.99': 1.41, '1': 1.41 });
    // j0.0 started before its submit_ok reached the client (0), j1.0 at once (0), j1.1 89 ms after
    expect(workload['queue-delay-ms']).toEqual({ '0.5': 0, '0.95': 89, '0.99': 89, '1': 89 });
    // load window 0..10 ms: j0.0 ran 9 of the 20 slot-ms
    expect(workload.utilization).toBeCloseTo(9 / 20, 4);
    const occupancy = extra.occupancy as { byWorker: Record<string, number[]> };
    expect(Math.max(...(occupancy.byWorker.n1 ?? []))).toBeLessThanOrEqual(2);
  });

  it('rejects a lost task: an ok submit whose task never completed (a killed run does not count)', () => {
    const history = submits([[0, 'j0', [100, 100], 'ok', 0, 1]]);
    const events = byTime([...ran('n1', 'j0.0', 100, 1), ...ran('n1', 'j0.1', 100, 1, 40)]);
    const { workload } = checkSched(history, events, options);
    expect(workload['valid?']).toBe(false);
    expect(workload['lost-count']).toBe(1);
    expect(workload.lost).toEqual(['j0.1']);
    expect(workload['killed-count']).toBe(1);
    expect(workload['killed-slot-ms']).toBe(39);
    const { explanation } = checkSched(history, events, options);
    expect(explanation.facts[0]?.text).toBe('Lost: task j0.1 of job j0 submitted to n0 at 0.000 s (ok) never completed; killed on n1 from 0.001 s to 0.040 s.');
  });

  it('does not count an indeterminate submit whose tasks never ran as lost', () => {
    const history = submits([[0, 'j0', [100], 'info', 0, 5000]]);
    expect(checkSched(history, [], options).workload['valid?']).toBe(true);
  });

  it('rejects a phantom run: a task nobody submitted, or another duration than submitted', () => {
    const history = submits([[0, 'j0', [100], 'ok', 0, 1]]);
    const events = byTime([
      ...ran('n1', 'j0.0', 100, 1),
      { service: 'exec', node: 'n1', type: 'phantom', timeMs: 3, task: 'j9.0', duration_ms: 100, submitted_ms: null },
      { service: 'exec', node: 'n1', type: 'phantom', timeMs: 4, task: 'j0.0', duration_ms: 5, submitted_ms: 100 },
    ]);
    const { workload } = checkSched(history, events, options);
    expect(workload['valid?']).toBe(false);
    expect(workload['phantom-count']).toBe(2);
    expect(workload.phantom).toEqual([
      { task: 'j9.0', node: 'n1', duration_ms: 100, submitted_ms: null },
      { task: 'j0.0', node: 'n1', duration_ms: 5, submitted_ms: 100 },
    ]);
  });

  it('rejects a task of a definitely failed submit that ran anyway', () => {
    const history = submits([[0, 'j0', [100], 'fail', 0, 1]]);
    const { workload } = checkSched(history, ran('n1', 'j0.0', 100, 2), options);
    expect(workload['valid?']).toBe(false);
    expect(workload['ran-after-failure']).toEqual(['j0.0']);
  });

  it('counts duplicates, and rejects them only under --exactly-once', () => {
    const history = submits([[0, 'j0', [100], 'ok', 0, 1]]);
    const events = byTime([...ran('n1', 'j0.0', 100, 1), ...ran('n1', 'j0.0', 100, 150)]);
    const lenient = checkSched(history, events, options).workload;
    expect(lenient['valid?']).toBe(true);
    expect(lenient['duplicated-count']).toBe(1);
    expect(lenient.duplicated).toEqual([{ task: 'j0.0', completions: 2 }]);
    // efficiency counts the distinct task once
    expect(lenient.efficiency).toBeCloseTo(100 / (2 * 250), 4);
    const strict = checkSched(history, events, { ...options, exactlyOnce: true }).workload;
    expect(strict['valid?']).toBe(false);
    const { explanation } = checkSched(history, events, options);
    expect(explanation.facts.map((fact) => fact.text)).toEqual(['Duplicated: task j0.0 of job j0 submitted to n0 at 0.000 s (ok) completed 2 times (on n1); ran on n1 from 0.001 s to 0.101 s; ran on n1 from 0.150 s to 0.250 s.']);
    expect(explanation.plots.map((plot) => plot.id)).toEqual(['sched-occupancy', 'sched-response-ratio']);
  });

  it('counts refusals (no free slot) without failing the run', () => {
    const history = submits([[0, 'j0', [100], 'ok', 0, 1]]);
    const events = byTime([
      { service: 'exec', node: 'n1', type: 'refused', timeMs: 1, task: 'j0.0', duration_ms: 100, busy: 2 },
      ...ran('n1', 'j0.0', 100, 2),
    ]);
    const { workload } = checkSched(history, events, options);
    expect(workload['valid?']).toBe(true);
    expect(workload['refused-count']).toBe(1);
    expect(workload['counts-capped']).toBeUndefined();
    // exec stopped recording refusals at its bound: the count is marked as a lower bound
    const capped = checkSched(history, byTime([...events, { service: 'exec', node: 'n1', type: 'capped', timeMs: 3, kind: 'refused', limit: 1 }]), options).workload;
    expect(capped['counts-capped']).toEqual(['refused']);
  });

  it('ideal response ratios: one FIFO queue onto every slot, no overhead', () => {
    const jobs = [
      { invokeMs: 0, tasks: [{ id: 'a', durationMs: 100 }, { id: 'b', durationMs: 100 }, { id: 'c', durationMs: 100 }] },
      { invokeMs: 50, tasks: [{ id: 'd', durationMs: 100 }] },
    ];
    // two slots: a and b at 0, c at 100 (ratio 2); d waits for the slot b frees at 100 (150 ms for a 100 ms task)
    expect(idealResponseRatios(jobs, 2)).toEqual([2, 1.5]);
  });
});

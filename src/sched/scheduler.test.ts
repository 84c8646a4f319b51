// The scheduler's bookkeeping as pure steps, with its invariant checked after each.
import { describe, expect, it } from 'vitest';
import {
  addJob,
  assertSchedulerInvariant,
  cancellationsDue,
  checksDue,
  createScheduler,
  defaultSchedulerConfig as config,
  granted,
  hold,
  lowWater,
  markDone,
  moveChunk,
  noteAsk,
  probesDue,
  requeue,
  takeTask,
  type SchedulerState,
} from './scheduler.js';

const job = (id: string, n: number, durationMs = 100) => ({ id, tasks: Array.from({ length: n }, (_, k) => ({ id: `${id}.${k}`, durationMs })) });
const workers = ['w1', 'w2', 'w3'].map((id) => ({ id, slots: 2 }));
const fixedRandom = (): number => 0;

function step(state: SchedulerState, fn: () => void): void {
  fn();
  assertSchedulerInvariant(state);
}

describe('scheduler bookkeeping', () => {
  it('grants the oldest pending task first, each once', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 2), 0));
    step(state, () => addJob(state, job('b', 1), 0));
    const order: string[] = [];
    for (let k = 0; k < 3; k++) step(state, () => order.push(takeTask(state)?.id ?? 'none'));
    expect(order).toEqual(['a.0', 'a.1', 'b.0']);
    expect(takeTask(state)).toBeUndefined();
  });

  it('a task granted, then disowned, is pending again at the back; done once, whatever repeats', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 2), 0));
    const first = takeTask(state);
    if (first === undefined) throw new Error('no task');
    step(state, () => granted(state, first, { w: 'w1', i: 'x' }, 1_000, config));
    expect(checksDue(state, 1_000 + 100 + config.checkAfterMs - 1, 10)).toEqual([]);
    expect(checksDue(state, 1_000 + 100 + config.checkAfterMs, 10).map((t) => t.id)).toEqual(['a.0']);
    step(state, () => requeue(state, first));
    expect([...state.pending]).toEqual(['a.1', 'a.0']);
    step(state, () => markDone(state, 'a.1'));
    // the job's last task: the job leaves memory and its chunk is finished
    let result = {};
    step(state, () => {
      result = markDone(state, 'a.0');
    });
    expect(result).toEqual({ finishedJob: 'a', finishedChunk: 0 });
    step(state, () => expect(markDone(state, 'a.0')).toEqual({}));
    expect(state.tasks.size).toBe(0);
  });

  it('the low-water mark stays at the lowest chunk with an unfinished job', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 1), 0));
    step(state, () => addJob(state, job('b', 1), 1));
    step(state, () => addJob(state, job('c', 1), 1));
    expect(lowWater(state, 2)).toBe(0);
    step(state, () => markDone(state, 'a.0'));
    expect(lowWater(state, 2)).toBe(1);
    step(state, () => markDone(state, 'b.0'));
    expect(lowWater(state, 2)).toBe(1);
    step(state, () => markDone(state, 'c.0'));
    expect(lowWater(state, 2)).toBe(2);
  });

  it('a held task is neither pending nor granted until lin-kv says', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 1), 0));
    const task = state.tasks.get('a.0');
    if (task === undefined) throw new Error('no task');
    step(state, () => hold(state, task));
    expect(takeTask(state)).toBeUndefined();
    expect(checksDue(state, Infinity, 10)).toEqual([]);
  });

  it('probes d per new task over every worker before any gets two; then only what is uncovered, to the emptiest worker', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 3), 0));
    const first = probesDue(state, workers, 3, 0, config, fixedRandom);
    expect(first).toEqual(['w1', 'w2', 'w3', 'w1', 'w2', 'w3']);
    // 3 pending, 6 standing: covered
    expect(probesDue(state, workers, 0, 10, config, fixedRandom)).toEqual([]);
    // w1 and w2 asked recently (one reservation each left); w3 went quiet past the stale bound:
    // its two are written off, and the one pending task they no longer cover is probed there again
    noteAsk(state, 'w1', 900);
    noteAsk(state, 'w2', 900);
    const later = probesDue(state, workers, 0, config.reservationStaleMs + 1, config, fixedRandom);
    expect(later).toEqual(['w3']);
    expect(state.standing.get('w3')?.count).toBe(1);
  });

  it('a backlog beyond what the workers can cover is probed up to coverPerSlot x slots each, no more', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 100), 0));
    const probes = probesDue(state, workers, 0, 0, config, fixedRandom);
    expect(probes).toHaveLength(3 * config.coverPerSlot * 2);
    expect(new Set(probes)).toEqual(new Set(['w1', 'w2', 'w3']));
    expect(probesDue(state, workers, 0, 1, config, fixedRandom)).toEqual([]);
  });

  it('cancels standing reservations only when nothing is pending', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 1), 0));
    probesDue(state, workers, 1, 0, config, fixedRandom);
    expect(cancellationsDue(state)).toEqual([]);
    step(state, () => void takeTask(state));
    expect(cancellationsDue(state).sort()).toEqual(['w1', 'w2']);
    expect(cancellationsDue(state)).toEqual([]);
  });

  it('moves jobs whose chunk landed elsewhere, keeping the low-water mark below their open work', () => {
    const state = createScheduler();
    step(state, () => addJob(state, job('a', 1), 3));
    step(state, () => addJob(state, job('b', 1), 3));
    step(state, () => markDone(state, 'b.0'));
    step(state, () => moveChunk(state, ['a', 'b'], 3, 5));
    expect(lowWater(state, 9)).toBe(5);
    expect(state.jobs.get('a')?.chunk).toBe(5);
    // a counted chunk with no job in it breaks the invariant
    state.openByChunk.set(4, 1);
    expect(() => assertSchedulerInvariant(state)).toThrow(/chunk 4/);
  });
});

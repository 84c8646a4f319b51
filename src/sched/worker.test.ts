// The worker's bookkeeping as pure steps: late binding, the fetch ahead of a task's end, and the
// promise an "unknown" answer makes.
import { describe, expect, it } from 'vitest';
import { assertWorkerInvariant, cancel, createWorker, defaultWorkerConfig, fetched, finished, plan, remember, boundedSet, reserve, startNext, taskStatus } from './worker.js';

const task = (id: string, durationMs = 100) => ({ id, durationMs, scheduler: 's0' });

describe('worker bookkeeping', () => {
  it('an idle slot fetches at once with the oldest reservation; without reservations it waits', () => {
    const state = createWorker(2, 'inc-1');
    expect(plan(state, 0)).toEqual({ start: [], fetch: [], wakeAtMs: null });
    reserve(state, 's0');
    reserve(state, 's1');
    reserve(state, 's2');
    const first = plan(state, 0);
    expect(first.fetch).toEqual([
      { slot: 0, scheduler: 's0' },
      { slot: 1, scheduler: 's1' },
    ]);
    expect(state.reservations).toEqual(['s2']);
    assertWorkerInvariant(state);
  });

  it('a busy slot fetches its next task shortly before the running one should end, and starts it at once', () => {
    const state = createWorker(1, 'inc-1');
    state.fetchRttMs = 1;
    reserve(state, 's0');
    plan(state, 0);
    fetched(state, 0, task('a'), 1);
    const { start } = plan(state, 1);
    expect(start).toEqual([0]);
    startNext(state, 0, 1);
    reserve(state, 's0');
    const early = plan(state, 50);
    expect(early.fetch).toEqual([]);
    const lead = defaultWorkerConfig.leadMs + 2 * state.fetchRttMs;
    expect(early.wakeAtMs).toBeCloseTo(1 + 100 - lead);
    expect(plan(state, 101 - lead).fetch).toEqual([{ slot: 0, scheduler: 's0' }]);
    fetched(state, 0, task('b'), 1);
    assertWorkerInvariant(state);
    expect(finished(state, 0, true)?.id).toBe('a');
    expect(plan(state, 101).start).toEqual([0]);
  });

  it('answers running for a held task, done for a finished one, and disowns the rest for good', () => {
    const state = createWorker(1, 'inc-1');
    reserve(state, 's0');
    plan(state, 0);
    fetched(state, 0, task('a'), 1);
    expect(taskStatus(state, 'a')).toBe('running');
    startNext(state, 0, 0);
    finished(state, 0, true);
    expect(taskStatus(state, 'a')).toBe('done');
    expect(taskStatus(state, 'b')).toBe('unknown');
    // a grant for b arriving after the promise is refused
    reserve(state, 's0');
    plan(state, 200);
    fetched(state, 0, task('b'), 1);
    expect(state.slots[0]?.next).toBeNull();
  });

  it('a cancel drops every reservation of that scheduler only', () => {
    const state = createWorker(1, 'inc-1');
    for (const s of ['s0', 's1', 's0', 's2']) reserve(state, s);
    cancel(state, 's0');
    expect(state.reservations).toEqual(['s1', 's2']);
  });

  it('reservations and remembered ids are bounded', () => {
    const state = createWorker(1, 'inc-1');
    const config = { ...defaultWorkerConfig, maxReservations: 2 };
    expect([reserve(state, 's0', config), reserve(state, 's0', config), reserve(state, 's0', config)]).toEqual([true, true, false]);
    const set = boundedSet(2);
    for (const id of ['a', 'b', 'c']) remember(set, id);
    expect([...set.items]).toEqual(['b', 'c']);
  });

  it("a grant that says its scheduler has more waiting makes an idle slot without a reservation ask it too", () => {
    const state = createWorker(3, 'inc-1');
    reserve(state, 's0');
    expect(plan(state, 0).fetch).toEqual([{ slot: 0, scheduler: 's0' }]);
    fetched(state, 0, task('a'), 1, true);
    // slots 1 and 2 are idle with no reservation: the next plan asks s0 for one of them
    expect(plan(state, 1).fetch).toEqual([{ slot: 1, scheduler: 's0' }]);
    // without a backlog nothing more is asked
    fetched(state, 1, task('b'), 1, false);
    expect(plan(state, 2).fetch).toEqual([]);
    assertWorkerInvariant(state);
  });
});

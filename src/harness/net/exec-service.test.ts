// The exec service on a hand-driven clock: slots, refusals, phantoms, kills and what it records.
import { describe, expect, it } from 'vitest';
import type { Body, ServiceEvent } from '../types.js';
import type { ServiceContext } from '../workload.js';
import { createExecService, MAX_RECORDED_PER_KIND } from './exec-service.js';

function harness() {
  let nowMs = 0;
  const timers: Array<{ atMs: number; fn: () => void; live: boolean }> = [];
  const replies: Array<{ dest: string; inReplyTo: number; body: Body }> = [];
  const events: ServiceEvent[] = [];
  const ctx: ServiceContext = {
    nowMs: () => nowMs,
    reply: (dest, inReplyTo, body) => replies.push({ dest, inReplyTo, body }),
    after(delayMs, fn) {
      const timer = { atMs: nowMs + delayMs, fn, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
    record: (event) => events.push(event),
  };
  /** Moves the clock without firing timers: the harness's timer is late. */
  const lateTo = (toMs: number): void => {
    nowMs = toMs;
  };
  const advance = (toMs: number): void => {
    for (;;) {
      const due = timers.filter((t) => t.live && t.atMs <= toMs).sort((a, b) => a.atMs - b.atMs)[0];
      if (due === undefined) break;
      due.live = false;
      nowMs = due.atMs;
      due.fn();
    }
    nowMs = toMs;
  };
  const submitted = new Map([['a', 100], ['b', 100], ['c', 100]]);
  const service = createExecService({ slots: { n1: 2 }, submittedDurationMs: (task) => submitted.get(task) });
  const run = (src: string, task: string, durationMs: number, msgId: number): void =>
    service.handle({ src, body: { type: 'run', task, duration_ms: durationMs, msg_id: msgId } }, ctx);
  return { ctx, service, run, advance, lateTo, replies, events };
}

describe('exec service', () => {
  it('runs a task in a free slot and answers run_ok after its duration', () => {
    const h = harness();
    h.run('n1', 'a', 100, 1);
    expect(h.replies).toEqual([]);
    h.advance(99);
    expect(h.replies).toEqual([]);
    h.advance(100);
    expect(h.replies).toEqual([{ dest: 'n1', inReplyTo: 1, body: { type: 'run_ok', task: 'a' } }]);
    expect(h.events.map((e) => [e.type, e.timeMs, e.task])).toEqual([
      ['start', 0, 'a'],
      ['complete', 100, 'a'],
    ]);
  });

  it('refuses with 11 when every slot is busy, and frees a slot when a run completes', () => {
    const h = harness();
    h.run('n1', 'a', 100, 1);
    h.run('n1', 'b', 100, 2);
    h.run('n1', 'c', 100, 3);
    expect(h.replies[0]).toMatchObject({ inReplyTo: 3, body: { type: 'error', code: 11 } });
    h.advance(100);
    h.run('n1', 'c', 100, 4);
    expect(h.events.filter((e) => e.type === 'start').map((e) => e.task)).toEqual(['a', 'b', 'c']);
    expect(h.events.filter((e) => e.type === 'refused')).toHaveLength(1);
  });

  it('a node without slots is refused with 11', () => {
    const h = harness();
    h.run('n0', 'a', 100, 1);
    expect(h.replies[0]?.body).toMatchObject({ type: 'error', code: 11 });
  });

  it('answers 12 and runs nothing for an unsubmitted task or another duration', () => {
    const h = harness();
    h.run('n1', 'zzz', 100, 1);
    h.run('n1', 'a', 5, 2);
    expect(h.replies.map((r) => r.body.code)).toEqual([12, 12]);
    expect(h.events.map((e) => [e.type, e.task, e.submitted_ms])).toEqual([
      ['phantom', 'zzz', null],
      ['phantom', 'a', 100],
    ]);
  });

  it('answers malformed runs with 12 and other requests with 10', () => {
    const h = harness();
    h.service.handle({ src: 'n1', body: { type: 'run', task: 7, msg_id: 1 } }, h.ctx);
    h.service.handle({ src: 'n1', body: { type: 'stop', msg_id: 2 } }, h.ctx);
    expect(h.replies.map((r) => r.body.code)).toEqual([12, 10]);
    expect(h.events).toEqual([]);
  });

  it('a killed node loses its runs: recorded with the time they ran, no reply, slots freed', () => {
    const h = harness();
    h.run('n1', 'a', 100, 1);
    h.run('n1', 'b', 100, 2);
    h.advance(30);
    h.service.onNodeEvent?.({ kind: 'killed', node: 'n1' }, h.ctx);
    h.advance(500);
    expect(h.replies).toEqual([]);
    expect(h.events.filter((e) => e.type === 'killed').map((e) => [e.task, e.ran_ms])).toEqual([
      ['a', 30],
      ['b', 30],
    ]);
    h.run('n1', 'c', 100, 3);
    expect(h.events.at(-1)).toMatchObject({ type: 'start', task: 'c' });
  });

  it("frees a slot at its run's end even when the harness's timer fires late, and dates the completion to the end", () => {
    const h = harness();
    h.run('n1', 'a', 100, 1);
    h.run('n1', 'b', 100, 2);
    h.lateTo(100.4);
    h.run('n1', 'c', 100, 3);
    expect(h.events.map((e) => [e.type, e.timeMs, e.task])).toEqual([
      ['start', 0, 'a'],
      ['start', 0, 'b'],
      ['complete', 100, 'a'],
      ['complete', 100, 'b'],
      ['start', 100.4, 'c'],
    ]);
    expect(h.replies.map((r) => r.inReplyTo)).toEqual([1, 2]);
    // their timers, firing now, change nothing
    h.advance(150);
    expect(h.events).toHaveLength(5);
    expect(h.replies).toHaveLength(2);
  });

  it('a kill after a run took its time records it completed, not killed', () => {
    const h = harness();
    h.run('n1', 'a', 100, 1);
    h.lateTo(50);
    h.run('n1', 'b', 100, 2);
    h.lateTo(120);
    h.service.onNodeEvent?.({ kind: 'killed', node: 'n1' }, h.ctx);
    expect(h.events.map((e) => [e.type, e.timeMs, e.task])).toEqual([
      ['start', 0, 'a'],
      ['start', 50, 'b'],
      ['complete', 100, 'a'],
      ['killed', 120, 'b'],
    ]);
    // nothing is sent to the node being killed
    expect(h.replies).toEqual([]);
  });

  it('records refusals up to its bound, then once that it stopped, and still answers every one', () => {
    const h = harness();
    h.run('n1', 'a', 100, 1);
    h.run('n1', 'b', 100, 2);
    for (let k = 0; k < MAX_RECORDED_PER_KIND + 5; k++) h.run('n1', 'c', 100, 10 + k);
    const types = h.events.map((e) => e.type);
    expect(types.filter((t) => t === 'refused')).toHaveLength(MAX_RECORDED_PER_KIND);
    expect(h.events.filter((e) => e.type === 'capped')).toEqual([expect.objectContaining({ kind: 'refused', limit: MAX_RECORDED_PER_KIND })]);
    expect(h.replies.filter((r) => r.body.code === 11)).toHaveLength(MAX_RECORDED_PER_KIND + 5);
  });
});

// The sched workload's parts: roles from --schedulers, the cluster setup, jobs from the generator
// (deterministic per seed), the client's completions, the exec service's view of what clients
// submitted, and the final-wait predicate.
import { describe, expect, it } from 'vitest';
import { runClientOp, specs, takeOps } from '../../../test/support/workload-testing.js';
import type { Body, ServiceEvent, TestOptions } from '../types.js';
import type { ServiceContext } from '../workload.js';
import { allAcceptedTasksDone, jobTasks, schedCluster, schedWorkload } from './sched.js';
import { historyBuilder } from '../../../test/support/history-builder.js';

function options(workloadOptions: Record<string, number | string | boolean> = {}, nodes = 5): TestOptions {
  return { nodes: Array.from({ length: nodes }, (_, k) => `n${k}`), seed: 1, concurrency: nodes, workloadOptions } as unknown as TestOptions;
}

describe('sched workload', () => {
  it('S > 0: the first S nodes schedule without slots; S = 0: every node does both', () => {
    expect(schedCluster(options({ schedulers: 2, slots: 3 }, 4))).toEqual({ schedulers: ['n0', 'n1'], slots: { n2: 3, n3: 3 } });
    expect(schedCluster(options({}, 3))).toEqual({ schedulers: ['n0', 'n1', 'n2'], slots: { n0: 2, n1: 2, n2: 2 } });
    expect(schedWorkload.validate?.(options({ schedulers: 4 }, 4))).toMatch(/leaves no worker/);
    expect(schedWorkload.clientNodes?.(options({ schedulers: 2 }, 4))).toEqual(['n0', 'n1']);
  });

  it('every node gets the same cluster message before load', () => {
    const setup = schedWorkload.setup?.(options({ schedulers: 1, slots: 4 }, 3)) ?? [];
    expect(setup.map((s) => s.dest)).toEqual(['n0', 'n1', 'n2']);
    for (const request of setup) {
      expect(request.body).toEqual({ type: 'cluster', schedulers: ['n0'], slots: { n1: 4, n2: 4 } });
      expect(request.replyType).toBe('cluster_ok');
    }
  });

  it('generates jobs j0, j1, ... of --job-tasks tasks; durations follow --task-dist and the seed', () => {
    const opts = options({ jobTasks: 3, taskMs: 50 });
    expect(specs(takeOps(schedWorkload.generator(opts), 2))).toEqual([
      { f: 'submit', value: { job: 'j0', tasks: [0, 1, 2].map((k) => ({ id: `j0.${k}`, duration_ms: 50 })) } },
      { f: 'submit', value: { job: 'j1', tasks: [0, 1, 2].map((k) => ({ id: `j1.${k}`, duration_ms: 50 })) } },
    ]);
    const uniform = options({ jobTasks: 200, taskMs: 50, taskDist: 'uniform' });
    const durations = jobTasks(uniform, 7).map((t) => t.duration_ms);
    expect(jobTasks(uniform, 7).map((t) => t.duration_ms)).toEqual(durations);
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...durations)).toBeLessThan(100);
    expect(new Set(durations).size).toBeGreaterThan(20);
    const exponential = jobTasks(options({ jobTasks: 500, taskMs: 10, taskDist: 'exponential' }), 1).map((t) => t.duration_ms);
    expect(Math.max(...exponential)).toBeLessThanOrEqual(200);
  });

  it('submit_ok is ok; a definite error fails; a timeout is indeterminate', async () => {
    const opts = options();
    const op = { f: 'submit', value: { job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }] } };
    const ok = await runClientOp(schedWorkload, opts, op, () => ({ type: 'submit_ok' }));
    expect(ok.requests[0]).toMatchObject({ type: 'submit', job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }] });
    expect(ok.completion.type).toBe('ok');
    expect((await runClientOp(schedWorkload, opts, op, () => ({ type: 'error', code: 11 }))).completion.type).toBe('fail');
    expect((await runClientOp(schedWorkload, opts, op, () => 'timeout')).completion.type).toBe('info');
  });

  it('the exec service knows a task once a client has sent it, not before', async () => {
    const opts = options({ schedulers: 1, slots: 1 }, 2);
    const [exec] = schedWorkload.services?.(opts) ?? [];
    if (exec === undefined) throw new Error('no exec service');
    const replies: Body[] = [];
    const events: ServiceEvent[] = [];
    const ctx: ServiceContext = { nowMs: () => 0, reply: (_dest, _to, body) => replies.push(body), after: () => () => {}, record: (e) => events.push(e) };
    const run = (): void => exec.handle({ src: 'n1', body: { type: 'run', msg_id: 1, task: 'j0.0', duration_ms: 10 } }, ctx);
    run();
    expect(replies[0]).toMatchObject({ type: 'error', code: 12 });
    await runClientOp(schedWorkload, opts, { f: 'submit', value: { job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }] } }, () => ({ type: 'submit_ok' }));
    run();
    expect(events.map((e) => e.type)).toEqual(['phantom', 'start']);
  });

  it('the final wait ends once every task of every ok submit has completed', () => {
    const h = historyBuilder();
    const value = { job: 'j0', tasks: [{ id: 'j0.0', duration_ms: 10 }, { id: 'j0.1', duration_ms: 10 }] };
    h.invoke(0, 'submit', value, 0);
    h.complete(0, 'ok', 'submit', value, 1);
    h.invoke(1, 'submit', { job: 'j1', tasks: [{ id: 'j1.0', duration_ms: 10 }] }, 2);
    h.complete(1, 'info', 'submit', { job: 'j1', tasks: [{ id: 'j1.0', duration_ms: 10 }] }, 3);
    const complete = (task: string): ServiceEvent => ({ service: 'exec', node: 'n1', type: 'complete', timeMs: 5, task, duration_ms: 10, run: 0 });
    expect(allAcceptedTasksDone(h.ops, [complete('j0.0')])).toBe(false);
    // j1 is indeterminate: nothing to wait for
    expect(allAcceptedTasksDone(h.ops, [complete('j0.0'), complete('j0.1')])).toBe(true);
    // a submit still in flight may yet be acknowledged (a paused scheduler answers on resume)
    h.invoke(2, 'submit', { job: 'j2', tasks: [{ id: 'j2.0', duration_ms: 10 }] }, 4);
    expect(allAcceptedTasksDone(h.ops, [complete('j0.0'), complete('j0.1')])).toBe(false);
    expect(schedWorkload.defaultFinalWaitS).toBe(120);
  });
});

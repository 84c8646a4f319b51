// The workload contract end to end without processes: a kafka-shaped client (several RPCs per
// operation, state per process) run by the real interpreter, and the checking stage when a checker
// throws or runs out of its budget.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clients, eachThread, limit, once, phases, repeat, seq, type Gen } from './generator.js';
import { interpret } from './interpreter.js';
import { realClock } from '../clock.js';
import { finishRun } from '../finish.js';
import { runOutput, testOptions } from '../../../test/support/report-fixtures.js';
import { createRng } from '../util/rng.js';
import type { Body, Json, Op } from '../types.js';
import type { Connection, RpcResult, Workload, WorkloadClient } from '../workload.js';
import { call, withErrors } from '../workloads/rpc.js';

/** An in-memory log server answering send/poll/commit_offsets like a kafka node, with a failure switch. */
function fakeLog() {
  const log: Json[] = [];
  const requests: Body[] = [];
  let failPolls = false;
  const answer = (body: Body): Body => {
    requests.push(body);
    if (body.type === 'send') {
      log.push(body.msg ?? null);
      return { type: 'send_ok', offset: log.length - 1 };
    }
    if (body.type === 'poll') {
      if (failPolls) return { type: 'error', code: 13, text: 'crashed mid-poll' };
      const from = ((body.offsets as { k?: number } | undefined)?.k ?? 0) as number;
      return { type: 'poll_ok', msgs: { k: log.slice(from).map((m, i) => [from + i, m]) } };
    }
    return { type: 'commit_offsets_ok' };
  };
  return {
    requests,
    failPolls: (on: boolean) => (failPolls = on),
    connect: (): Connection => ({
      id: 'c0',
      node: 'n0',
      rpc: async (body): Promise<RpcResult> => ({ kind: 'reply', body: { in_reply_to: 1, ...answer(body) } }),
    }),
  };
}

/** Like Maelstrom's kafka client: per-process offsets, a commit after every poll that returned messages. */
function kafkaShapedClient(conn: Connection): WorkloadClient {
  let next = 0;
  return {
    invoke: (op) =>
      withErrors(op, false, async () => {
        if (op.f === 'send') {
          const reply = await call(conn, { type: 'send', key: 'k', msg: op.value }, 1000);
          return { type: 'ok', value: [op.value, reply.offset ?? null] };
        }
        const reply = await call(conn, { type: 'poll', offsets: { k: next } }, 1000);
        const pairs = ((reply.msgs as { k?: [number, Json][] }).k ?? []) as [number, Json][];
        if (pairs.length > 0) {
          next = (pairs.at(-1)?.[0] ?? -1) + 1;
          await call(conn, { type: 'commit_offsets', offsets: { k: next - 1 } }, 1000);
        }
        return { type: 'ok', value: pairs as unknown as Json };
      }),
  };
}

describe('the workload contract', () => {
  it('runs a client that makes several RPCs per operation and keeps state per process', async () => {
    const server = fakeLog();
    const history: Op[] = [];
    const opened = new Map<number, WorkloadClient>();
    let crashes = 0;
    const gen = phases(
      clients(limit(6, seq([once({ f: 'send', value: 1 }), once({ f: 'send', value: 2 }), once({ f: 'poll', value: null }), once({ f: 'poll', value: null })]))),
      clients(eachThread(() => once({ f: 'poll', value: null, final: true }))),
    );
    await interpret(gen, {
      clock: realClock(),
      concurrency: 1,
      rng: createRng(1),
      invokeClient(thread, _process, op) {
        let client = opened.get(thread);
        if (client === undefined) {
          client = kafkaShapedClient(server.connect());
          opened.set(thread, client);
        }
        if (op.f === 'poll' && op.final === true) server.failPolls(true);
        return client.invoke({ ...op, process: thread });
      },
      invokeNemesis: () => ({ type: 'info', value: null }),
      record(op) {
        const full = { index: history.length, ...op } as Op;
        history.push(full);
        return full;
      },
      onProcessCrash(thread) {
        crashes++;
        opened.delete(thread);
      },
      shouldStop: () => false,
    });
    expect(history.map((op) => `${op.type}:${op.f}`)).toEqual([
      'invoke:send', 'ok:send', 'invoke:send', 'ok:send', 'invoke:poll', 'ok:poll', 'invoke:poll', 'ok:poll', 'invoke:poll', 'info:poll',
    ]);
    // First poll read both messages and committed; the second started after them (client state).
    expect(history[5]?.value).toEqual([[0, 1], [1, 2]]);
    expect(history[7]?.value).toEqual([]);
    expect(server.requests.filter((r) => r.type === 'commit_offsets')).toEqual([{ type: 'commit_offsets', offsets: { k: 1 } }]);
    expect(server.requests.filter((r) => r.type === 'poll').map((r) => r.offsets)).toEqual([{ k: 0 }, { k: 2 }, { k: 2 }]);
    // The final poll's indefinite error is :info, and the process crashed.
    expect(history[9]).toMatchObject({ type: 'info', error: ['crash', 'crashed mid-poll'], 'final?': true });
    expect(crashes).toBe(1);
  });

  it('gives a thread a new process after an :info, and the generator hears every event', async () => {
    const events: string[] = [];
    let n = 0;
    const tracking = (inner: Gen): Gen => ({
      op(ctx) {
        const step = inner.op(ctx);
        return step.kind === 'done' ? step : { ...step, next: tracking(step.next) };
      },
      update(ctx, event) {
        events.push(`${event.type}:${String(event.process)}`);
        return tracking(inner.update(ctx, event));
      },
    });
    const history: Op[] = [];
    await interpret(tracking(clients(limit(4, repeat(() => ({ f: 'op', value: n++ }))))), {
      clock: realClock(),
      concurrency: 1,
      rng: createRng(2),
      invokeClient: async (_thread, process) => (process === 0 ? { type: 'info', value: null, error: 'net-timeout' } : { type: 'ok', value: null }),
      invokeNemesis: () => ({ type: 'info', value: null }),
      record(op) {
        const full = { index: history.length, ...op } as Op;
        history.push(full);
        return full;
      },
      onProcessCrash: () => {},
      shouldStop: () => false,
    });
    expect(history.map((op) => op.process)).toEqual([0, 0, 1, 1, 1, 1, 1, 1]);
    expect(events.slice(0, 4)).toEqual(['invoke:0', 'info:0', 'invoke:1', 'ok:1']);
  });
});

describe('the checking stage', () => {
  let dir: string;
  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  const workloadWith = (check: Workload['check']): Workload => ({
    name: 'test-workload',
    options: [],
    generator: () => repeat(() => ({ f: 'x', value: null })),
    openClient: () => ({ invoke: async () => ({ type: 'ok', value: null }) }),
    check,
  });

  async function finishWith(workload: Workload, budgetS: number, graceMs: number) {
    dir = await mkdtemp(path.join(tmpdir(), 'glomers-check-'));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const run = runOutput({ storeDir: dir, opts: testOptions({ checkBudgetS: budgetS }) });
    const outcome = await finishRun(run, workload, { inWorker: false, graceMs });
    const results = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as { workload: Record<string, Json>; 'valid?': Json };
    return { outcome, results, files: (await readdir(dir)).sort() };
  }

  it('a checker that throws gives unknown with the error, and every file is written', async () => {
    const { outcome, results, files } = await finishWith(
      workloadWith(() => {
        throw new Error('index out of range');
      }),
      10,
      0,
    );
    expect(outcome).toEqual({ valid: 'unknown', exitCode: 2 });
    expect(results.workload).toEqual({ 'valid?': 'unknown', error: 'Error: index out of range' });
    expect(files).toEqual(['history.jsonl', 'report.html', 'results.edn', 'results.json']);
  });

  it('a checker that outlives its budget gives unknown with the reason, and every file is written', async () => {
    const { outcome, results, files } = await finishWith(workloadWith(() => new Promise(() => {})), 0.05, 0);
    expect(outcome.exitCode).toBe(2);
    expect(String(results.workload.error)).toMatch(/did not finish within its budget of 0\.050 s/);
    expect(files).toEqual(['history.jsonl', 'report.html', 'results.edn', 'results.json']);
  });

  it('a checker in a worker thread that runs past its budget is stopped', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'glomers-check-'));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { getWorkload } = await import('../workloads/index.js');
    const echo = getWorkload('echo') as Workload;
    const run = runOutput({ storeDir: dir, opts: testOptions({ workload: 'echo', checkBudgetS: 0.001 }) });
    const outcome = await finishRun(run, echo, { inWorker: true, graceMs: 0 });
    expect(outcome.exitCode).toBe(2);
    const results = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as { workload: Record<string, Json> };
    expect(String(results.workload.error)).toMatch(/did not finish within its budget/);
  });

  it('a checker in a worker thread gives the same verdict as in this thread', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'glomers-check-'));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { getWorkload } = await import('../workloads/index.js');
    const echo = getWorkload('echo') as Workload;
    const history: Op[] = [
      { index: 0, time: 0, type: 'invoke', process: 0, f: 'echo', value: 'a' },
      { index: 1, time: 1, type: 'ok', process: 0, f: 'echo', value: { type: 'echo_ok', echo: 'b' } },
    ];
    const run = runOutput({ storeDir: dir, history, opts: testOptions({ workload: 'echo', checkBudgetS: 60 }) });
    const outcome = await finishRun(run, echo, { inWorker: true });
    const results = JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as { workload: Record<string, Json> };
    expect(results.workload['error']).toBeUndefined();
    expect(results.workload).toMatchObject({ 'valid?': false });
    expect(outcome).toEqual({ valid: false, exitCode: 1 });
  });
});

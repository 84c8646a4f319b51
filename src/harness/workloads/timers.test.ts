// The timers workload: its generator and client, its checker on a service log, and end to end
// under --sim: our node against two wrong ones (test/fixtures/timers), on the same seeds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTestNode } from '../../../test/support/build-node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../test/support/spawn.js';
import { runClientOp, takeOps } from '../../../test/support/workload-testing.js';
import type { Op, ServiceEvent, TestOptions } from '../types.js';
import { CANCEL_ONE_IN, timersWorkload } from './timers.js';

const opts = { nodes: ['n0', 'n1', 'n2'], concurrency: 3, latencyMs: 0, finalWaitS: 5, workloadOptions: { maxDelayMs: 1000 } } as unknown as TestOptions;

describe('timers workload', () => {
  it('schedules fresh ids due within --max-delay-ms of now, and cancels about one op in ten, of timers scheduled earlier', () => {
    const before = Date.now();
    const ops = takeOps(timersWorkload.generator(opts), 2000, { concurrency: 3 });
    const after = Date.now();
    const scheduled = new Set<string>();
    let cancels = 0;
    for (const op of ops) {
      const value = op.value as { timer: string; due_ms?: number };
      if (op.f === 'schedule') {
        expect(scheduled.has(value.timer)).toBe(false);
        scheduled.add(value.timer);
        expect(value.due_ms).toBeGreaterThanOrEqual(before);
        expect(value.due_ms).toBeLessThanOrEqual(after + 1000);
      } else {
        expect(op.f).toBe('cancel');
        expect(scheduled.has(value.timer)).toBe(true);
        cancels++;
      }
    }
    expect(cancels).toBeGreaterThan(2000 / CANCEL_ONE_IN / 2);
    expect(cancels).toBeLessThan((2000 / CANCEL_ONE_IN) * 2);
  });

  it('sends schedule and cancel as the issue gives them; 20 and 22 fail a cancel, a timeout leaves a schedule indeterminate', async () => {
    const value = { timer: 't1', due_ms: 1_733_338_800_123 };
    const scheduled = await runClientOp(timersWorkload, opts, { f: 'schedule', value }, () => ({ type: 'schedule_ok' }));
    expect(scheduled.requests).toEqual([{ type: 'schedule', timer: 't1', due_ms: 1_733_338_800_123 }]);
    expect(scheduled.completion).toEqual({ type: 'ok', value });
    const lost = await runClientOp(timersWorkload, opts, { f: 'schedule', value }, () => 'timeout');
    expect(lost.completion.type).toBe('info');
    for (const code of [20, 22]) {
      const cancel = await runClientOp(timersWorkload, opts, { f: 'cancel', value: { timer: 't1' } }, () => ({ type: 'error', code }));
      expect(cancel.completion.type).toBe('fail');
    }
  });

  it('checks the history against the webhook log: a missed timer makes the run invalid', async () => {
    const value = { timer: 't1', due_ms: 1000 };
    const history = [
      { index: 0, time: 0, type: 'invoke', process: 0, f: 'schedule', value },
      { index: 1, time: 1e6, type: 'ok', process: 0, f: 'schedule', value },
    ] as Op[];
    const fired: ServiceEvent[] = [{ service: 'webhook', node: 'n1', type: 'fire', timeMs: 5, timer: 't1', epoch_ms: 1004, known: true }];
    const ok = await timersWorkload.check(history, { opts, serviceEvents: fired, deadlineMs: Date.now() + 10_000 });
    expect(ok.workload['valid?']).toBe(true);
    expect(ok.workload['lateness-ms']).toEqual({ '0.5': 4, '0.95': 4, '0.99': 4, '1': 4 });
    const missed = await timersWorkload.check(history, { opts, serviceEvents: [], deadlineMs: Date.now() + 10_000 });
    expect(missed.workload['missed-count']).toBe(1);
    expect(missed.workload['valid?']).toBe(false);
    expect(ok.workload['counts-capped']).toBeUndefined();
    const capped: ServiceEvent = { service: 'webhook', node: 'n1', type: 'capped', timeMs: 6, kind: 'fires of t1' };
    const flooded = await timersWorkload.check(history, { opts, serviceEvents: [...fired, capped], deadlineMs: Date.now() + 10_000 });
    expect(flooded.workload['counts-capped']).toEqual(['fires of t1']);
  });
});

// End to end on virtual time. Each run is 20 s simulated, a few seconds of wall time.
const glomers = path.join(repoRoot, 'bin', 'glomers');
const built = ['glomers', 'timers'].every((name) => existsSync(path.join(repoRoot, 'bin', name)));
const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-timers-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface RunResult {
  status: number | null;
  workload: Record<string, unknown>;
  output: string;
}

function simRun(name: string, bin: string, args: string[]): RunResult {
  const store = path.join(root, name);
  const line = ['test', '--sim', '--store', store, '-w', 'timers', '--bin', bin, '--node-count', '3', '--rate', '50', '--time-limit', '20', ...args];
  const ran = spawnSync(glomers, line, { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  const resultsFile = path.join(store, 'timers', 'latest', 'results.json');
  const workload = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { workload: Record<string, unknown> }).workload : {};
  return { status: ran.status, workload, output: `${ran.stdout}${ran.stderr}` };
}

describe.skipIf(!built)('timers under --sim', () => {
  const fixtures: Record<string, string> = {};
  beforeAll(async () => {
    for (const name of ['memory', 'unfenced']) {
      const outfile = path.join(root, 'bin', name);
      await buildTestNode(path.join(repoRoot, 'test', 'fixtures', 'timers', `${name}.ts`), outfile);
      fixtures[name] = outfile;
    }
  }, 60_000);

  const kills = ['--nemesis', 'kill', '--nemesis-interval', '3', '--seed', '1'];
  it('a node that keeps its timers in memory is caught missing them under kills; ours, on the same seed, is not', () => {
    const memory = simRun('memory', fixtures.memory as string, kills);
    expect(memory.status, memory.output).toBe(1);
    expect(memory.workload['missed-count'] as number).toBeGreaterThan(10);
    const ours = simRun('ours-kill', 'bin/timers', kills);
    expect(ours.status, ours.output).toBe(0);
    expect(ours.workload['missed-count']).toBe(0);
  }, 240_000);

  const pauses = ['--nemesis', 'pause', '--nemesis-interval', '3', '--exactly-once', '--seed', '1'];
  it('a leader that does not fence itself is caught duplicating under pauses; ours, on the same seed, fires each timer once', () => {
    const unfenced = simRun('unfenced', fixtures.unfenced as string, pauses);
    expect(unfenced.status, unfenced.output).toBe(1);
    expect(unfenced.workload['duplicated-count'] as number).toBeGreaterThan(10);
    const ours = simRun('ours-pause', 'bin/timers', pauses);
    expect(ours.status, ours.output).toBe(0);
    expect(ours.workload['duplicated-count']).toBe(0);
  }, 240_000);
});

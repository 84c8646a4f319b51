// The sched workload end to end under --sim (virtual time, deterministic per seed): two schedulers
// broken on purpose are caught (one loses tasks to kills, one runs tasks twice under partitions),
// bin/sched passes the same lines, and the workload-service mechanism does its part (the exec log
// reaches the checker and the run folder, a restarted node gets its cluster message again, the
// final wait ends once every accepted task has run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTestNode } from './support/build-node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/spawn.js';

const glomers = path.join(repoRoot, 'bin', 'glomers');
const sched = path.join(repoRoot, 'bin', 'sched');
const built = existsSync(glomers) && existsSync(sched);
const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-sched-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fixtures = ['memory-scheduler', 'redispatch-scheduler'] as const;
const fixtureBin = (name: (typeof fixtures)[number]): string => path.join(root, 'bin', name);

beforeAll(async () => {
  if (!built) return;
  for (const name of fixtures) {
    await buildTestNode(path.join(repoRoot, 'test', 'fixtures', 'sched', `${name}.ts`), fixtureBin(name));
  }
}, 60_000);

interface SchedRun {
  status: number | null;
  output: string;
  dir: string;
  workload: Record<string, unknown>;
}

let runs = 0;
function simRun(bin: string, args: string[]): SchedRun {
  const store = path.join(root, `store-${runs++}`);
  const result = spawnSync(glomers, ['test', '--sim', '-w', 'sched', '--bin', bin, '--store', store, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  const dir = path.join(store, 'sched', 'latest');
  const results = existsSync(path.join(dir, 'results.json')) ? (JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { workload: Record<string, unknown> }) : { workload: {} };
  return { status: result.status, output: result.stdout + result.stderr, dir, workload: results.workload };
}

// Light load, long enough queues that a kill finds tasks waiting in a node's memory.
const killLine = ['--seed', '3', '--node-count', '3', '--slots', '1', '--job-tasks', '5', '--rate', '10', '--time-limit', '10', '--nemesis', 'kill', '--nemesis-interval', '2', '--final-wait', '30'];
// Many tasks in flight when a partition starts: their answers are cut off, not their runs.
const partitionLine = ['--seed', '4', '--node-count', '4', '--schedulers', '1', '--slots', '4', '--task-ms', '500', '--rate', '20', '--time-limit', '10', '--nemesis', 'partition', '--nemesis-interval', '2', '--final-wait', '30', '--exactly-once'];

// Pauses: replies wait for the resume, jobs are acknowledged late, clients give up meanwhile.
const pauseLine = ['--seed', '3', '--node-count', '5', '--slots', '2', '--job-tasks', '3', '--task-ms', '50', '--task-dist', 'exponential', '--rate', '20', '--time-limit', '10', '--nemesis', 'pause', '--nemesis-interval', '2', '--final-wait', '60'];

describe.skipIf(!built)('sched workload under --sim', () => {
  it('catches a scheduler that keeps accepted jobs only in memory losing tasks to kills', () => {
    const run = simRun(fixtureBin('memory-scheduler'), killLine);
    expect(run.status, run.output).toBe(1);
    expect(run.workload['valid?']).toBe(false);
    expect(run.workload['lost-count']).toBeGreaterThan(0);
    expect((run.workload.lost as string[]).length).toBeGreaterThan(0);
  }, 120_000);

  it('catches a scheduler that re-dispatches on a timeout running tasks twice under partitions', () => {
    const run = simRun(fixtureBin('redispatch-scheduler'), partitionLine);
    expect(run.status, run.output).toBe(1);
    expect(run.workload['duplicated-count']).toBeGreaterThan(0);
    expect(run.workload['lost-count']).toBe(0);
  }, 120_000);

  it('bin/sched passes the kill, partition and pause lines: nothing lost, nothing run twice', () => {
    for (const line of [killLine, partitionLine, pauseLine]) {
      const run = simRun(sched, [...line, '--exactly-once']);
      expect(run.status, run.output).toBe(0);
      expect(run.workload['lost-count']).toBe(0);
      expect(run.workload['duplicated-count']).toBe(0);
      expect(run.workload['phantom-count']).toBe(0);
    }
  }, 240_000);

  it('the exec log reaches the run folder; a restarted node gets cluster again; the final wait ends when all ran', () => {
    const run = simRun(sched, killLine);
    expect(run.status, run.output).toBe(0);
    const events = readFileSync(path.join(run.dir, 'service-events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { service: string; type: string });
    expect(events.filter((e) => e.service === 'exec' && e.type === 'complete').length).toBe(run.workload['completed-task-count']);
    // Every init after the first to a node is a restart; each is followed by that node's cluster.
    const journal = readFileSync(path.join(run.dir, 'net-journal.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { kind: string; dest: string; body: { type: string } });
    const sends = journal.filter((e) => e.kind === 'send');
    const count = (type: string, node: string): number => sends.filter((e) => e.body.type === type && e.dest === node).length;
    const restarted = ['n0', 'n1', 'n2'].filter((node) => count('init', node) > 1);
    expect(restarted.length).toBeGreaterThan(0);
    for (const node of restarted) expect(count('cluster', node)).toBe(count('init', node));
    // 10 s of load; the final wait is bounded at 30 s but ends as soon as every accepted task ran.
    const history = readFileSync(path.join(run.dir, 'history.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { time: number });
    expect((history.at(-1)?.time ?? 0) / 1e9).toBeLessThan(30);
    // glomers analyze reads the exec log back: the same verdict and figures
    // (a --sim run writes no run.json: the test's flags are given again)
    const analyzed = spawnSync(glomers, ['analyze', run.dir, '-w', 'sched', '--bin', sched, ...killLine], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(analyzed.status, analyzed.stdout + analyzed.stderr).toBe(0);
    const again = (JSON.parse(readFileSync(path.join(run.dir, 'results.json'), 'utf8')) as { workload: Record<string, unknown> }).workload;
    expect(again['completed-task-count']).toBe(run.workload['completed-task-count']);
    expect(again.efficiency).toBe(run.workload.efficiency);
  }, 120_000);
});

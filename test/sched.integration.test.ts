// bin/sched under bin/glomers with real processes, briefly: a valid run with every accepted task
// completed once, and one under the kill nemesis (SIGKILLed workers lose their runs, restarted
// nodes get cluster again) that loses nothing. The full lines are make sched-poc/-sparrow/-kill.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runGlomersTest } from './support/spawn.js';

const built = existsSync(path.join(repoRoot, 'bin', 'glomers')) && existsSync(path.join(repoRoot, 'bin', 'sched'));
const store = mkdtempSync(path.join(tmpdir(), 'sched-it-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

interface Results {
  'valid?': boolean | string;
  workload: { [key: string]: number | boolean | null | string[] };
  glomers: { nemesis: { kills: number; restarts: number } };
}

const line = ['--node-count', '4', '--schedulers', '1', '--slots', '2', '--job-tasks', '2', '--task-ms', '50', '--rate', '20'];

describe.skipIf(!built)('bin/sched under bin/glomers (processes)', () => {
  it('runs every accepted task once', () => {
    const run = runGlomersTest<Results>(store, 'sched', 'sched', [...line, '--time-limit', '3', '--final-wait', '60'], [], 120_000);
    expect(run.results['valid?'], run.output).toBe(true);
    expect(run.results.workload['ok-job-count']).toBeGreaterThan(20);
    expect(run.results.workload['completed-task-count']).toBe(run.results.workload['task-count']);
    expect(run.results.workload['duplicated-count']).toBe(0);
    expect(run.results.workload['refused-count']).toBe(0);
  }, 150_000);

  it('loses nothing when nodes are killed and restarted', () => {
    const args = [...line, '--time-limit', '6', '--nemesis', 'kill', '--nemesis-interval', '1', '--final-wait', '90', '--seed', '5'];
    const run = runGlomersTest<Results>(store, 'sched', 'sched', args, [], 180_000);
    expect(run.results['valid?'], run.output).toBe(true);
    expect(run.results.glomers.nemesis.kills).toBeGreaterThan(0);
    expect(run.results.workload['lost-count']).toBe(0);
    expect(run.results.workload['phantom-count']).toBe(0);
  }, 210_000);
});

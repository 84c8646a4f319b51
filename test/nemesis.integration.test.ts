// The kill and pause nemeses with real processes: what they record, that a node keeping its state
// only in memory is caught by a kill, that one keeping it on disk survives, and that paused nodes
// come back.
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTestArgs } from '../src/harness/cli/cli.js';
import { runTest } from '../src/harness/run/runner.js';
import { alive, engineDeps } from './support/engine.js';
import type { Json, Op, RunOutput, TestOptions } from '../src/harness/types.js';

const fixture = path.resolve('test/fixtures/fixture-node.js');

const { deps, cleanup } = engineDeps('glomers-nemesis');

function options(args: string[]): TestOptions {
  const parsed = parseTestArgs(['--seed', '11', ...args], undefined);
  // (a later --seed in args wins)
  if (parsed.kind !== 'test') throw new Error('expected test');
  return parsed.opts;
}


const nemesisOps = (run: RunOutput, f: string): Op[] => run.history.filter((op) => op.process === 'nemesis' && op.f === f);

afterAll(async () => {
  await cleanup();
  const leftovers = (await readdir(os.tmpdir())).filter((name) => name.startsWith(`fixture-ids-`) && name.endsWith(`-${process.pid}`));
  await Promise.all(leftovers.map((name) => rm(path.join(os.tmpdir(), name), { force: true })));
});

describe('--nemesis kill', () => {
  // Clients of a killed node wait out their 5 s timeout, so restarted nodes serve from about 5 s on.
  const killArgs = ['-w', 'unique-ids', '--node-count', '3', '--concurrency', '3n', '--time-limit', '8', '--rate', '100', '--nemesis', 'kill', '--nemesis-interval', '1'];

  it('catches a unique-ids node that counts in memory: its restarted counter repeats ids', async () => {
    // Seed 13 kills n2 at about 1.3 s and restarts it; its clients come back at about 6.3 s; later kills repeat the pattern.
    const outcome = await runTest(options([...killArgs, '--seed', '13', '--time-limit', '14', '--bin', fixture, '--', 'echo']), deps);
    const run = outcome.run as RunOutput;
    const kills = nemesisOps(run, 'kill');
    expect(kills.length).toBeGreaterThanOrEqual(2);
    // Invocation and completion are both :info; the completion maps each target to what happened.
    expect(kills.every((op) => op.type === 'info')).toBe(true);
    const killed = kills.filter((_, k) => k % 2 === 1).flatMap((op) => Object.entries(op.value as Record<string, Json>));
    expect(killed.some(([, what]) => what === 'killed')).toBe(true);
    const starts = nemesisOps(run, 'start').filter((_, k) => k % 2 === 1);
    expect(starts.flatMap((op) => Object.values(op.value as Record<string, Json>))).toContain('started');
    expect(outcome.valid).toBe(false);
    expect(outcome.problems.filter((p) => p.kind === 'exit')).toEqual([]);
    expect(outcome.pids.length).toBeGreaterThan(3);
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  }, 30_000);

  it('a node that keeps its counter on disk survives the same kills', async () => {
    const outcome = await runTest(options([...killArgs, '--seed', '13', '--bin', fixture, '--', 'disk-ids']), deps);
    const run = outcome.run as RunOutput;
    expect(nemesisOps(run, 'kill').length).toBeGreaterThanOrEqual(2);
    expect(run.history.filter((op) => op.type === 'ok').length).toBeGreaterThan(100);
    expect(outcome.valid).toBe(true);
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  }, 30_000);
});

describe('--nemesis pause', () => {
  it.skipIf(!existsSync('bin/broadcast'))('stops and resumes nodes; a broadcast run recovers in the final phase', async () => {
    const outcome = await runTest(
      options([
        '-w', 'broadcast', '--node-count', '3', '--time-limit', '3', '--rate', '20', '--nemesis', 'pause,partition',
        '--nemesis-interval', '0.5', '--final-wait', '2', '--bin', path.resolve('bin/broadcast'), '--', '--retry', '300',
      ]),
      deps,
    );
    const run = outcome.run as RunOutput;
    const pauses = nemesisOps(run, 'pause');
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    // The final phase heals, then resumes every node, in Jepsen's order.
    const finalNemesis = run.history.filter((op) => op.process === 'nemesis').slice(-4).map((op) => op.f);
    expect(finalNemesis).toEqual(['stop-partition', 'stop-partition', 'resume', 'resume']);
    const finalReads = run.history.filter((op) => op['final?'] === true && op.type === 'ok');
    expect(finalReads).toHaveLength(3);
    expect(outcome.valid).toBe(true);
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  }, 30_000);
});

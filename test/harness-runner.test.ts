// Process supervision through runTest, with plain-JS fixture nodes (test/fixtures/fixture-node.js).
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTestArgs } from '../src/harness/cli/cli.js';
import { runTest } from '../src/harness/run/runner.js';
import { alive, engineDeps } from './support/engine.js';
import { readFileSync, rmSync } from 'node:fs';
import type { JournalEvent, Json, RunOutput, TestOptions } from '../src/harness/types.js';

const fixture = path.resolve('test/fixtures/fixture-node.js');

const { deps, cleanup } = engineDeps('glomers');

function options(args: string[]): TestOptions {
  const parsed = parseTestArgs(['--bin', fixture, '--seed', '7', ...args], ['echo', 'broadcast', 'unique-ids']);
  if (parsed.kind !== 'test') throw new Error('expected test');
  return parsed.opts;
}

/** The network journal the run streamed to its store folder. */
function journalOf(run: RunOutput): JournalEvent[] {
  const text = readFileSync(path.join(run.storeDir, 'net-journal.jsonl'), 'utf8');
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as JournalEvent);
}


afterAll(async () => {
  await cleanup();
});

describe('runTest with fixture nodes', () => {
  it('a correct echo node is valid, with journal, logs and no process left', async () => {
    const outcome = await runTest(options(['-w', 'echo', '--node-count', '2', '--time-limit', '1.5', '--rate', '20']), deps);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.problems).toEqual([]);
    const run = outcome.run as RunOutput;
    const oks = run.history.filter((op) => op.type === 'ok');
    expect(oks.length).toBeGreaterThan(10);
    expect(run.history.filter((op) => op.type === 'invoke')).toHaveLength(oks.length);
    expect(run.history.map((op) => op.index)).toEqual(run.history.map((_, k) => k));
    // init (2 sends + 2 replies) plus 2 messages per op, all client traffic
    const journal = journalOf(run);
    expect(journal.filter((e) => e.kind === 'send')).toHaveLength(4 + 2 * oks.length);
    expect(run.netCounts.all.sends).toBe(4 + 2 * oks.length);
    expect(run.netCounts.servers.sends).toBe(0);
    expect(journal.some((e) => e.body.type === 'init' && e.src === 'c0' && e.dest === 'n0')).toBe(true);
    expect(journal.some((e) => e.body.type === 'init' && e.src === 'c1' && e.dest === 'n1')).toBe(true);
    // workers are c2, c3 after the two init clients
    expect(new Set(journal.filter((e) => e.body.type === 'echo').map((e) => e.src))).toEqual(new Set(['c2', 'c3']));
    const log = await readFile(path.join(outcome.storeDir, 'node-logs', 'n1.log'), 'utf8');
    expect(log).toContain('n1 initialised');
    expect(outcome.pids).toHaveLength(2);
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  });

  it.each([
    ['garbage', 'bad-line', /not well-formed JSON/, 'about to print garbage'],
    ['extra-key', 'bad-line', /top-level keys other than src\/dest\/body\/id: extra/, 'initialised'],
  ])('a node in mode %s is reported and silenced', async (mode, kind, detail, tailLine) => {
    const outcome = await runTest(
      options(['-w', 'echo', '--node-count', '1', '--time-limit', '0.5', '--rate', '10', '--', mode]),
      deps,
    );
    expect(outcome.problems).toHaveLength(1);
    const problem = outcome.problems[0];
    expect(problem?.node).toBe('n0');
    expect(problem?.kind).toBe(kind);
    expect(problem?.detail).toMatch(detail);
    expect(problem?.stderrTail.join('\n')).toContain(tailLine);
    // the node is ignored from then on: its operation timed out
    expect(outcome.run?.history.some((op) => op.type === 'info' && op.error === 'net-timeout')).toBe(true);
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  });

  it('a node that crashes mid-test errors the test (exit 255) with its exit status', async () => {
    const outcome = await runTest(
      options(['-w', 'echo', '--node-count', '1', '--time-limit', '0.5', '--rate', '10', '--', 'crash']),
      deps,
    );
    expect(outcome.exitCode).toBe(255);
    const problem = outcome.problems.find((p) => p.kind === 'exit');
    expect(problem?.node).toBe('n0');
    expect(problem?.exitCode).toBe(3);
    expect(problem?.stderrTail.join('\n')).toContain('crashing on purpose');
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  });

  it('a node that never answers init aborts the test after 10 s', async () => {
    const started = Date.now();
    const outcome = await runTest(options(['-w', 'echo', '--node-count', '2', '--time-limit', '1', '--', 'no-init']), deps);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_900);
    expect(outcome.exitCode).toBe(255);
    expect(outcome.run).toBeUndefined();
    expect(outcome.problems.map((p) => [p.node, p.kind]).sort()).toEqual([
      ['n0', 'init-timeout'],
      ['n1', 'init-timeout'],
    ]);
    expect(outcome.problems[0]?.stderrTail.join('\n')).toContain('ignoring init on purpose');
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  });

  it('broadcast with a partition nemesis records nemesis ops and final reads', async () => {
    const outcome = await runTest(
      options([
        '-w', 'broadcast', '--node-count', '3', '--time-limit', '2', '--rate', '20', '--latency', '10',
        '--nemesis', 'partition', '--nemesis-interval', '0.5', '--final-wait', '0.5',
      ]),
      deps,
    );
    const run = outcome.run as RunOutput;
    const nemesisOps = run.history.filter((op) => op.process === 'nemesis');
    expect(nemesisOps[0]?.f).toBe('start-partition');
    expect(typeof nemesisOps[0]?.value).toBe('string');
    expect((nemesisOps[1]?.value as unknown[])[0]).toBe('isolated');
    expect(nemesisOps.at(-1)?.value).toBe('network-healed');
    const finals = run.history.filter((op) => op['final?'] === true && op.type === 'invoke');
    expect(finals).toHaveLength(3);
    expect(journalOf(run).some((e) => e.body.type === "topology")).toBe(true);
    expect(run.lateness.deliveries).toBeGreaterThan(0);
    for (const pid of outcome.pids) expect(alive(pid)).toBe(false);
  });
});

describe('built CLI', () => {
  it.skipIf(!existsSync('bin/glomers'))('exits 254 on a bad flag and 0 on a valid echo run', () => {
    const bad = spawnSync('bin/glomers', ['test', '-w', 'echo', '--bin', fixture, '--bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(254);
    expect(bad.stderr).toContain('unknown option --bogus');
    const unknown = spawnSync('bin/glomers', ['test', '-w', 'nope', '--bin', fixture], { encoding: 'utf8' });
    expect(unknown.status).toBe(254);
    expect(unknown.stderr).toMatch(/known workloads: .*echo/);
    const store = path.join(os.tmpdir(), `glomers-cli-${process.pid}`);
    const ok = spawnSync(
      'bin/glomers',
      ['test', '-w', 'echo', '--bin', fixture, '--node-count', '1', '--time-limit', '1', '--store', store],
      { encoding: 'utf8', timeout: 30_000 },
    );
    rmSync(store, { recursive: true, force: true });
    expect(ok.status).toBe(0);
  });
});

describe('Ctrl-C', () => {
  it.skipIf(!existsSync('bin/glomers'))('stops the run and writes what it recorded, marked as interrupted', async () => {
    const store = path.join(os.tmpdir(), `glomers-interrupt-${process.pid}`);
    const harness = spawn('bin/glomers', ['test', '-w', 'echo', '--bin', fixture, '--node-count', '1', '--time-limit', '30', '--rate', '20', '--store', store], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    harness.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => harness.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!stderr.includes('results in') && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    harness.kill('SIGINT');
    const code = await exited;
    const latest = path.join(store, 'latest');
    const results = JSON.parse(readFileSync(path.join(latest, 'results.json'), 'utf8')) as Record<string, Json>;
    const history = readFileSync(path.join(latest, 'history.jsonl'), 'utf8').trim().split('\n');
    rmSync(store, { recursive: true, force: true });
    expect(code, stderr).toBe(130);
    expect((results['glomers'] as Record<string, Json>)['stopped-early']).toBe('interrupted');
    expect(results['valid?']).toBe('unknown');
    expect(history.length).toBeGreaterThan(10);
  }, 40_000);
});

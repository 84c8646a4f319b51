// Real binaries and deliberately broken tiny nodes, run end to end through the built bin/glomers:
// the verdicts, exit codes and message counts a user would see.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot } from './support/spawn.js';

const storeRoot = mkdtempSync(path.join(os.tmpdir(), 'glomers-it-'));
afterAll(() => rmSync(storeRoot, { recursive: true, force: true }));

const fixture = (name: string): string => path.join(repoRoot, 'test/fixtures/workload', name);

interface Outcome {
  exitCode: number | null;
  output: string;
  results: Record<string, any>;
  history: Array<Record<string, any>>;
}

function glomers(args: string[]): Outcome {
  const store = mkdtempSync(path.join(storeRoot, 'run-'));
  const run = spawnSync(binPath('glomers'), ['test', ...args, '--store', store, '--final-wait', '1', '--seed', '11'], {
    encoding: 'utf8',
    timeout: 90_000,
  });
  const latest = path.join(store, 'latest');
  const output = `${run.stdout}\n${run.stderr}`;
  let results: Record<string, any> = {};
  let history: Array<Record<string, any>> = [];
  try {
    results = JSON.parse(readFileSync(path.join(latest, 'results.json'), 'utf8'));
    history = readFileSync(path.join(latest, 'history.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line));
  } catch {
    // left empty: the assertions below say what was expected
  }
  return { exitCode: run.status, output, results, history };
}

describe('echo', () => {
  it('bin/echo is valid', () => {
    const run = glomers(['-w', 'echo', '--bin', binPath('echo'), '--node-count', '1', '--time-limit', '3']);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.results['valid?']).toBe(true);
    expect(run.results.stats['ok-count']).toBeGreaterThan(5);
    expect(run.output).toContain('Everything looks good!');
  });

  it('an echo that alters the payload is invalid', () => {
    const run = glomers(['-w', 'echo', '--bin', fixture('echo-alter.mjs'), '--node-count', '1', '--time-limit', '3']);
    expect(run.exitCode, run.output).toBe(1);
    expect(run.results.workload['valid?']).toBe(false);
    expect(run.results.workload.errors.length).toBeGreaterThan(0);
    expect(run.output).toContain('Analysis invalid!');
  });
});

describe('unique-ids', () => {
  it('bin/idgen is valid and totally available under partitions', () => {
    const run = glomers([
      '-w', 'unique-ids', '--bin', binPath('idgen'), '--node-count', '3', '--time-limit', '4', '--rate', '300',
      '--availability', 'total', '--nemesis', 'partition', '--nemesis-interval', '1',
    ]);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.results.workload['duplicated-count']).toBe(0);
    expect(run.results.availability['ok-fraction']).toBe(1);
    expect(run.history.some((op) => op.process === 'nemesis')).toBe(true);
  });

  it('ids that collide across nodes are invalid', () => {
    const run = glomers(['-w', 'unique-ids', '--bin', fixture('idgen-collide.mjs'), '--node-count', '3', '--time-limit', '2', '--rate', '100']);
    expect(run.exitCode, run.output).toBe(1);
    expect(run.results.workload['duplicated-count']).toBeGreaterThan(0);
  });
});

describe('broadcast', () => {
  it('a node that never tells its peers loses values', () => {
    const run = glomers(['-w', 'broadcast', '--bin', fixture('broadcast-never-gossips.mjs'), '--node-count', '5', '--time-limit', '3', '--rate', '20']);
    expect(run.exitCode, run.output).toBe(1);
    expect(run.results.workload['valid?']).toBe(false);
    expect(run.results.workload['lost-count']).toBeGreaterThan(0);
  });

  it('msgs-per-op matches a count made by hand for a node that forwards each value once to every peer', () => {
    const nodeCount = 4;
    const run = glomers([
      '-w', 'broadcast', '--bin', fixture('broadcast-flood-once.mjs'), '--node-count', String(nodeCount),
      '--time-limit', '3', '--rate', '30', '--latency', '5',
    ]);
    expect(run.exitCode, run.output).toBe(0);
    const invokes = run.history.filter((op) => op.type === 'invoke' && typeof op.process === 'number');
    const broadcasts = invokes.filter((op) => op.f === 'broadcast').length;
    expect(broadcasts).toBeGreaterThan(10);
    // Each broadcast is forwarded to the other nodes and nothing else passes between servers.
    const serverMessages = broadcasts * (nodeCount - 1);
    // Client messages: init and topology (a request and a reply per node), and a request and reply per op.
    const clientMessages = 2 * nodeCount + 2 * nodeCount + 2 * invokes.length;
    const net = run.results.net;
    expect(net.servers['msg-count']).toBe(serverMessages);
    expect(net.servers['send-count']).toBe(serverMessages);
    expect(net.servers['recv-count']).toBe(serverMessages);
    expect(net.clients['msg-count']).toBe(clientMessages);
    expect(net.all['msg-count']).toBe(serverMessages + clientMessages);
    expect(net.servers['msgs-per-op']).toBeCloseTo(serverMessages / invokes.length, 5);
    expect(net.all['msgs-per-op']).toBeCloseTo((serverMessages + clientMessages) / invokes.length, 5);
  });
});

describe('process hygiene', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('leaves no node process behind on %s', async (signal) => {
    // A marker argument (ignored by bin/echo) finds exactly this run's nodes.
    const marker = `hygiene-${signal}-${process.pid}-${Date.now()}`;
    const countNodes = (): number => {
      const found = spawnSync('pgrep', ['-fc', `bin/echo ${marker}`], { encoding: 'utf8' });
      return Number(found.stdout.trim() || '0');
    };
    const harness = spawn(
      binPath('glomers'),
      ['test', '-w', 'echo', '--bin', binPath('echo'), '--node-count', '3', '--time-limit', '60', '--store', storeRoot, '--', marker],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => harness.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (countNodes() < 3 && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(countNodes()).toBe(3);
    harness.kill(signal);
    const code = await exited;
    expect(code).not.toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(countNodes()).toBe(0);
  });
});

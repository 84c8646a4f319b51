// A --sim sweep split into shards (--shard I/N) run as separate processes, then `glomers merge`:
// the merged summary is the one the same sweep prints in one process (docs/use.md). Also: a
// sweep stopped by SIGTERM prints its summary and leaves no worker behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTestNode } from './support/build-node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeSummaries, type SweepSummary } from '../src/harness/sim/sweep.js';
import { repoRoot } from './support/spawn.js';
import { childrenOf, waitUntilGone } from './support/processes.js';

const glomers = path.join(repoRoot, 'bin', 'glomers');
const built = existsSync(glomers);
const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-shards-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every bound here is generous: the machine may be fully loaded. */
const PROCESS_TIMEOUT_MS = 120_000;
const SHARDS = 4;
const SEEDS = 8;

// Broadcast that tells each neighbour once, with no retry: a partition loses values on some seeds,
// so the sweep has failing seeds (with replay commands) as well as passing ones.
const WRONG_NODE = `
import { createNode } from ${JSON.stringify(path.join(repoRoot, 'src', 'lib', 'index.ts'))};
const node = createNode();
const seen = new Set();
let neighbours = [];
node.handle('topology', { topology: 'object' }, (m) => { neighbours = m.body.topology[node.id] ?? []; return { type: 'topology_ok' }; });
node.handle('read', {}, () => ({ type: 'read_ok', messages: [...seen] }));
node.handle('broadcast', { message: 'integer' }, (m) => {
  if (!seen.has(m.body.message)) {
    seen.add(m.body.message);
    for (const peer of neighbours) if (peer !== m.src) node.send(peer, { type: 'gossip', message: m.body.message });
  }
  return { type: 'broadcast_ok' };
});
node.handle('gossip', { message: 'integer' }, (m) => {
  if (!seen.has(m.body.message)) {
    seen.add(m.body.message);
    for (const peer of neighbours) if (peer !== m.src) node.send(peer, { type: 'gossip', message: m.body.message });
  }
});
await node.run();
`;

const wrongNode = path.join(root, 'bin', 'broadcast-once');
const line = (): string[] => ['-w', 'broadcast', '--bin', wrongNode, '--node-count', '5', '--time-limit', '5', '--rate', '10', '--nemesis', 'partition', '--nemesis-interval', '1'];

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/glomers as its own process; killed if it outlives PROCESS_TIMEOUT_MS. */
function runGlomers(args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(glomers, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The table's rows but wall time, and the failing seeds' lines in seed order. */
function comparable(output: string): { table: string[]; failing: string[] } {
  const table = output.split('\n').filter((row) => /^(seeds|valid|invalid|unknown|errored|worst [a-z -]+\(?[a-z]*\)?)\s{2,}\S+$/.test(row));
  // each shard had its own --store; the replay commands are otherwise the same
  const failing = [...output.matchAll(/^seed (\d+): .+\n {2}replay: .+$/gm)]
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => m[0].replace(/--store \S+/, '--store STORE'));
  return { table, failing };
}

/** The process ids whose parent is `pid`. */
function summaryUnder(store: string): SweepSummary {
  const sweeps = path.join(store, 'broadcast');
  const dir = readdirSync(sweeps).find((name) => name.startsWith('sweep-')) as string;
  return JSON.parse(readFileSync(path.join(sweeps, dir, 'summary.json'), 'utf8')) as SweepSummary;
}

describe.skipIf(!built)('sharded --sim sweeps', () => {
  beforeAll(async () => {
    const source = path.join(root, 'broadcast-once.mjs');
    writeFileSync(source, WRONG_NODE);
    await buildTestNode(source, wrongNode);
  });

  it(`${SHARDS} shards in separate processes, merged, give the one-process sweep's summary`, async () => {
    const sweep = ['test', '--sim', '--seeds', String(SEEDS), '--seed', '1'];
    const [one, ...shards] = await Promise.all([
      runGlomers([...sweep, '--store', path.join(root, 'one'), ...line()]),
      ...Array.from({ length: SHARDS }, (_, k) => runGlomers([...sweep, '--shard', `${k}/${SHARDS}`, '--store', path.join(root, `shard-${k}`), ...line()])),
    ]);
    if (one === undefined) throw new Error('no run');
    expect([1, 0], one.stdout + one.stderr).toContain(one.status);
    const merged = await runGlomers(['merge', ...Array.from({ length: SHARDS }, (_, k) => path.join(root, `shard-${k}`))]);
    expect(merged.status, merged.stderr).toBe(one.status);
    expect(comparable(merged.stdout)).toEqual(comparable(one.stdout));
    expect(comparable(one.stdout).table).toHaveLength(8);

    // summary.json: the same counts, worst figures and failing seeds (their folders and times aside)
    const single = summaryUnder(path.join(root, 'one'));
    const parts = shards.map((_, k) => summaryUnder(path.join(root, `shard-${k}`)));
    expect(parts.map((p) => p.seedsRun)).toEqual([2, 2, 2, 2]);
    const strip = (s: SweepSummary) => ({ ...s, wallMs: 0, shards: [], failing: s.failing.map((f) => ({ ...f, dir: null, replay: f.replay.replace(/--store \S+/, '--store STORE') })) });
    expect(strip(mergeSummaries(parts).summary)).toEqual(strip(single));
    expect(single.failing.length, 'the wrong node should fail some seeds').toBeGreaterThan(0);
    for (const failing of single.failing) expect(existsSync(failing.dir as string)).toBe(true);

    // a missing shard is said, and the merge cannot be valid
    const partial = await runGlomers(['merge', path.join(root, 'shard-0'), path.join(root, 'shard-1')]);
    expect(partial.stdout).toContain(`shard(s) 2, 3 of ${SHARDS} missing`);
    expect(partial.status).not.toBe(0);
    // a shard given twice, or a summary of another sweep, is refused
    const twice = await runGlomers(['merge', path.join(root, 'shard-0'), path.join(root, 'shard-0')]);
    expect([twice.status, twice.stderr]).toEqual([254, expect.stringContaining('shard 0/4 is given more than once')]);
    const stranger = await runGlomers(['merge', path.join(root, 'shard-0'), path.join(root, 'one')]);
    expect([stranger.status, stranger.stderr]).toEqual([254, expect.stringContaining('not shards of one sweep')]);
  }, 4 * PROCESS_TIMEOUT_MS);

  it('workers die with their sweep even when it is SIGKILLed (their channel closes)', async () => {
    const child = spawn(glomers, ['test', '--sim', '--seeds', '100000', '--seed', '1', '--store', path.join(root, 'killed'), ...line()], { cwd: repoRoot, stdio: 'ignore' });
    try {
      let seen: number[] = [];
      const started = Date.now();
      while (Date.now() - started < PROCESS_TIMEOUT_MS && (seen = childrenOf(child.pid)).length === 0) await new Promise((r) => setTimeout(r, 100));
      expect(seen.length).toBeGreaterThan(0);
      child.kill('SIGKILL');
      expect(await waitUntilGone(seen, PROCESS_TIMEOUT_MS)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 2 * PROCESS_TIMEOUT_MS);

  it('a SIGTERM stops a sweep: exit 143, its summary printed and written, no worker left behind', async () => {
    const store = path.join(root, 'stopped');
    const child = spawn(glomers, ['test', '--sim', '--seeds', '100000', '--seed', '1', '--store', store, ...line()], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    const workers = (): number[] => childrenOf(child.pid);
    try {
      const started = Date.now();
      let seen: number[] = [];
      // the workers are up once the sweep has printed its first line and has children
      while (Date.now() - started < PROCESS_TIMEOUT_MS && (seen = workers()).length === 0) await new Promise((r) => setTimeout(r, 100));
      expect(seen.length).toBeGreaterThan(0);
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      expect(await closed).toBe(143);
      expect(stdout).toMatch(/sweep interrupted after \d+ of 100000 seed\(s\)/);
      expect(stdout).toMatch(/^seeds\s+\d+$/m);
      expect(summaryUnder(store).interrupted).toBe(true);
      // the workers, and the watchdog that would kill them had glomers been SIGKILLed, end within moments
      expect(await waitUntilGone(seen, PROCESS_TIMEOUT_MS)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 2 * PROCESS_TIMEOUT_MS);
});

describe('mergeSummaries', () => {
  const shard = (index: number, over: Partial<SweepSummary> = {}): SweepSummary => ({
    version: 1,
    workload: 'broadcast',
    command: ['--sim', '--seeds', '8', '--seed', '1'],
    firstSeed: 1,
    seedCount: 8,
    shards: [{ index, count: 2 }],
    seedsRun: 4,
    valid: 4,
    invalid: 0,
    unknown: 0,
    errored: 0,
    worstMsgsPerOp: 1,
    worstLatencyMedianMs: 10,
    worstLatencyMaxMs: 20,
    wallMs: 1000,
    interrupted: false,
    exitCode: 0,
    failing: [],
    ...over,
  });

  it('a stopped shard run again: the complete summary counts, the stopped one is left out', () => {
    const { summary, missingShards } = mergeSummaries([shard(0), shard(1, { interrupted: true, seedsRun: 1, valid: 1 }), shard(1)]);
    expect([summary.seedsRun, summary.interrupted, missingShards]).toEqual([8, false, []]);
  });

  it('a shard only stopped counts as stopped; the worst figures are the worst of any shard', () => {
    const { summary } = mergeSummaries([shard(0, { worstLatencyMaxMs: 50 }), shard(1, { interrupted: true, seedsRun: 1, valid: 1 })]);
    expect([summary.seedsRun, summary.interrupted, summary.worstLatencyMaxMs]).toEqual([5, true, 50]);
  });
});

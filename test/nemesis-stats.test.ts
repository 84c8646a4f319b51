// Issue 24: the partition schedule over many seeds against what Jepsen's generator implies
// (docs/nemesis.md §2 derives each bound), the end of a test without a final phase (§4), and the
// network's message count under --sim against real processes for a node that retries.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTestNode } from './support/build-node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTestArgs } from '../src/harness/cli/cli.js';
import { realClock } from '../src/harness/clock.js';
import { interpret } from '../src/harness/run/interpreter.js';
import { EMPTY } from '../src/harness/run/generator.js';
import { PARTITION_SHAPES, createNemesis, partitionTimeline, type NemesisTarget } from '../src/harness/run/nemesis.js';
import { testGenerator } from '../src/harness/run/runner.js';
import { createRng, deriveRng } from '../src/harness/util/rng.js';
import { getWorkload } from '../src/harness/workloads/index.js';
import type { Op, TestOptions } from '../src/harness/types.js';
import type { Workload } from '../src/harness/workload.js';
import { repoRoot } from './support/spawn.js';

const SEEDS = 400;
const LIMIT_NS = 20e9;
/** 2 × --nemesis-interval 10 s: the stagger's gaps are uniform in [0, A). */
const A_S = 20;

describe('the partition schedule of the 3c line over seeds 1..400 (interval 10 s, limit 20 s)', () => {
  const runs = Array.from({ length: SEEDS }, (_, k) => partitionTimeline(10, LIMIT_NS, deriveRng(k + 1, 'nemesis')));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('starts a partition at once, then alternates stop and start', () => {
    for (const run of runs) {
      expect(run[0]?.offsetNs).toBe(0);
      run.forEach((entry, k) => expect(entry.spec.f).toBe(k % 2 === 0 ? 'start-partition' : 'stop-partition'));
    }
  });

  it('operations per run: e on average, exactly two in half the runs', () => {
    // P(k gaps fit in A) = 1/k!, so E[ops] = 1 + Σ 1/k! = e, and P(2 ops) = 1 − 1/2!.
    expect(mean(runs.map((run) => run.length))).toBeCloseTo(Math.E, 0);
    expect(Math.abs(mean(runs.map((run) => run.length)) - Math.E)).toBeLessThan(0.15);
    expect(Math.abs(runs.filter((run) => run.length === 2).length / SEEDS - 0.5)).toBeLessThan(0.1);
  });

  it('partitioned 1 − 1/e of the load phase', () => {
    // P(partitioned at t) = P(an even number of gaps fit in t) = e^(−t/A); its mean over [0, A].
    const fraction = mean(
      runs.map((run) => run.reduce((sum, e, k) => (e.spec.f === 'start-partition' ? sum + ((run[k + 1]?.offsetNs ?? LIMIT_NS) - e.offsetNs) : sum), 0) / LIMIT_NS),
    );
    expect(Math.abs(fraction - (1 - 1 / Math.E))).toBeLessThan(0.055);
  });

  it('gaps between operations: A(e − 2)/(e − 1) = 8.36 s pooled; 8.0 s per run with the gap to the end of load', () => {
    const gaps = runs.flatMap((run) => run.slice(1).map((e, k) => (e.offsetNs - (run[k] as { offsetNs: number }).offsetNs) / 1e9));
    expect(Math.abs(mean(gaps) - (A_S * (Math.E - 2)) / (Math.E - 1))).toBeLessThan(0.8);
    // The 7.98 s and 7.84 s: Σ_k P(k gaps) · A/(k + 1), P(k gaps) = 1/k! − 1/(k + 1)!.
    let expected = 0;
    let factorial = 1;
    for (let k = 1; k < 12; k++) {
      factorial *= k;
      expected += (1 / factorial - 1 / (factorial * (k + 1))) * (A_S / (k + 1));
    }
    expect(expected).toBeCloseTo(8.0, 1);
    expect(Math.abs(mean(runs.map((run) => A_S / run.length)) - expected)).toBeLessThan(0.6);
  });

  it('draws the four shapes alike', () => {
    const shapes = runs.flatMap((run) => run.filter((e) => e.spec.f === 'start-partition').map((e) => e.spec.value));
    for (const shape of PARTITION_SHAPES) expect(Math.abs(shapes.filter((s) => s === shape).length / shapes.length - 0.25)).toBeLessThan(0.06);
  });
});

// ---------------------------------------------------------------------------------------------

function options(args: string[]): TestOptions {
  const parsed = parseTestArgs(['--bin', 'unused', ...args], undefined);
  if (parsed.kind !== 'test') throw new Error('expected test options');
  return parsed.opts;
}

const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Interprets a whole test's generator against stand-in clients and nodes; the history and who is down. */
async function runWithStandIns(args: string[], killMs: number): Promise<{ history: Op[]; dead: Set<string>; paused: Set<string> }> {
  const opts = options(args);
  const workload = getWorkload(opts.workload) as Workload;
  const dead = new Set<string>();
  const paused = new Set<string>();
  const target: NemesisTarget = {
    nodes: opts.nodes,
    setGrudge: () => {},
    heal: () => {},
    // A kill that takes a while: the load phase may end while one is still in flight.
    async kill(node) {
      await sleepMs(killMs);
      dead.add(node);
      return 'killed';
    },
    start: async (node) => (dead.delete(node) ? 'started' : 'already-running'),
    async pause(node) {
      paused.add(node);
      return 'paused';
    },
    resume: async (node) => (paused.delete(node) ? 'resumed' : 'not-paused'),
  };
  const nemesis = createNemesis({ faults: opts.nemesis, intervalS: opts.nemesisIntervalS, limitNs: opts.timeLimitS * 1e9 }, target, createRng(opts.seed));
  const history: Op[] = [];
  await interpret(testGenerator(opts, workload, nemesis, { phase() {} }), {
    clock: realClock(),
    concurrency: opts.concurrency,
    rng: createRng(opts.seed + 1),
    invokeClient: async (_thread, _process, op) => ({ type: 'ok', value: op.f === 'generate' ? history.length : op.value }),
    invokeNemesis: (op) => nemesis.invoke(op),
    record(op) {
      const full = { index: history.length, ...op } as Op;
      history.push(full);
      return full;
    },
    onProcessCrash: () => {},
    shouldStop: () => false,
  });
  return { history, dead, paused };
}

describe('a test without a final phase (unique-ids) ends our own faults', () => {
  it('kill, pause and partition: after load, heal, resume all and start all, even with a kill in flight at the limit', async () => {
    // Kills take 150 ms and come every 50 ms on average, so one is usually running when load ends.
    const args = ['-w', 'unique-ids', '--node-count', '5', '--time-limit', '1', '--rate', '50', '--nemesis', 'kill,pause,partition', '--nemesis-interval', '0.05', '--seed', '9'];
    const { history, dead, paused } = await runWithStandIns(args, 150);
    const nemesisOps = history.filter((op) => op.process === 'nemesis');
    expect(nemesisOps.filter((op) => op.f === 'kill').length).toBeGreaterThan(0);
    expect(nemesisOps.slice(-6).map((op) => op.f)).toEqual(['stop-partition', 'stop-partition', 'resume', 'resume', 'start', 'start']);
    const lastClientOp = history.filter((op) => op.process !== 'nemesis').at(-1) as Op;
    expect(nemesisOps.at(-6)?.index).toBeGreaterThan(lastClientOp.index);
    expect([...dead]).toEqual([]);
    expect([...paused]).toEqual([]);
  }, 30_000);

  it('partition alone: nothing after load, as Maelstrom composes it', () => {
    const stand = { nodes: [] } as unknown as NemesisTarget;
    expect(createNemesis({ faults: ['partition'], intervalS: 10, limitNs: 1e9 }, stand, createRng(1)).closingGenerator).toBe(EMPTY);
    for (const faults of [['kill'], ['pause'], ['partition', 'kill']] as const) {
      const withProcesses = createNemesis({ faults, intervalS: 10, limitNs: 1e9 }, stand, createRng(1));
      expect(withProcesses.closingGenerator).toBe(withProcesses.finalGenerator);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const glomers = path.join(repoRoot, 'bin', 'glomers');
const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-nemesis-stats-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!existsSync(glomers))('msgs-per-op of a retrying node: --sim against processes', () => {
  let retrying = '';
  beforeAll(async () => {
    retrying = path.join(root, 'bin', 'broadcast-grid-retrying');
    await buildTestNode(path.join(repoRoot, 'test/fixtures/workload/broadcast-grid-retrying.ts'), retrying);
  });

  /** The servers' msgs-per-op and the share of broadcasts among invocations of one run. */
  function run(name: string, extra: string[]): { msgsPerOp: number; perBroadcast: number } {
    const store = path.join(root, name);
    const args = ['test', ...extra, '-w', 'broadcast', '--bin', retrying, '--node-count', '5', '--time-limit', '4', '--rate', '20', '--final-wait', '1', '--seed', '3', '--store', store];
    // --final-wait 1: the last values' forwards are delivered before the final reads end the run.
    // Bounded: a 5 s run, its nodes' start-up and checking, on a loaded machine.
    const ran = spawnSync(glomers, args, { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
    expect(ran.status, ran.stdout + ran.stderr).toBe(0);
    const dir = path.join(store, 'broadcast', 'latest');
    const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { net: { servers: { 'msgs-per-op': number } } };
    const history = readFileSync(path.join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Op);
    const invocations = history.filter((op) => op.type === 'invoke');
    const broadcasts = invocations.filter((op) => op.f === 'broadcast').length;
    const msgsPerOp = results.net.servers['msgs-per-op'];
    return { msgsPerOp, perBroadcast: (msgsPerOp * invocations.length) / broadcasts };
  }

  it('the same messages per broadcast (12 on the 5-node grid): msgs-per-op within 5 % for the same mix of operations', () => {
    const sim = run('sim', ['--sim']);
    const real = run('real', []);
    // Σ degrees − (n − 1) = 10 − 4 = 6 forwards a value, each acknowledged once. msgs-per-op itself
    // also carries the share of broadcasts among invocations, which the two runs draw apart (a
    // real run asks the generator at other moments, so its draws diverge): compared per broadcast.
    expect(sim.perBroadcast).toBeCloseTo(12, 3);
    expect(real.perBroadcast).toBeCloseTo(12, 3);
    expect(Math.abs(real.perBroadcast - sim.perBroadcast) / sim.perBroadcast).toBeLessThan(0.05);
  }, 300_000);
});

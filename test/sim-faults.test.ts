// Nodes that misbehave under --sim, through bin/glomers: a crash ends the run as a real crash does
// (exit 255, "crashed" problem), single or swept; a node that never lets virtual time pass, or
// eats memory, ends the run as errored with the reason and every results file written.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTestNode } from './support/build-node.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/spawn.js';
import { childrenOf, commandLine, isAlive, waitUntilGone } from './support/processes.js';

const glomers = path.join(repoRoot, 'bin', 'glomers');
const built = existsSync(glomers);
const root = mkdtempSync(path.join(os.tmpdir(), 'glomers-sim-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A generous bound: the machine may be shared with much other work. */
const SPAWN_TIMEOUT_MS = 120_000;

function glomersTest(args: string[], env: NodeJS.ProcessEnv = {}): Ran {
  const result = spawnSync(glomers, ['test', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Bundles a unique-ids node whose generate handler runs `body` (the node is `node`). */
async function buildNode(name: string, body: string, topLevel = ''): Promise<string> {
  const source = path.join(root, `${name}.ts`);
  writeFileSync(
    source,
    `import { createNode } from ${JSON.stringify(path.join(repoRoot, 'src/lib/index.js'))};\n` +
      `const node = createNode();\nlet next = 0;\n${topLevel}\n` +
      `node.handle('generate', {}, (message) => {\n${body}\nreturn { type: 'generate_ok', id: node.id + '-' + next++ };\n});\nawait node.run();\n`,
  );
  const out = path.join(root, 'bin', name);
  await buildTestNode(source, out);
  return out;
}

const idsLine = (bin: string): string[] => ['-w', 'unique-ids', '--bin', bin, '--node-count', '2', '--time-limit', '3', '--rate', '50'];

function results(store: string): { 'valid?': unknown; glomers: { problems: Array<{ node: string; kind: string; detail: string; 'exit-code'?: number | null }>; 'stopped-early'?: string } } {
  return JSON.parse(readFileSync(path.join(store, 'unique-ids', 'latest', 'results.json'), 'utf8'));
}

describe.skipIf(!built)('--sim: a simulated node crashes where a process would', () => {
  const bins: Record<string, string> = {};
  beforeAll(async () => {
    // Each crashes on its 20th request, well into the run.
    bins.exit = await buildNode('exit-in-handler', `if (next === 20) process.exit(3);`);
    bins.timer = await buildNode('throw-in-timer', `if (next === 20) setTimeout(() => { throw new Error('boom in a timer'); }, 1);`);
    bins.rejection = await buildNode('unhandled-rejection', `if (next === 20) Promise.reject(new Error('nobody caught this'));`);
  });

  const cases = [
    { name: 'process.exit(3) in a handler', bin: 'exit', detail: 'crashed during the test with exit status 3 (process.exit)', code: 3 },
    { name: 'a throw in a plain setTimeout callback', bin: 'timer', detail: 'crashed during the test with an uncaught exception: boom in a timer', code: 1 },
    { name: 'an unhandled rejection', bin: 'rejection', detail: 'crashed during the test with an unhandled promise rejection: nobody caught this', code: 1 },
  ];
  for (const { name, bin, detail, code } of cases) {
    it(`${name}: exit 255 and a crash problem, single run and sweep`, () => {
      const store = path.join(root, `store-${bin}`);
      const single = glomersTest(['--sim', '--seed', '1', '--store', store, ...idsLine(bins[bin] as string)]);
      expect(single.status, single.stdout + single.stderr).toBe(255);
      expect(single.stderr).toContain('crashed');
      const problems = results(store).glomers.problems;
      expect(problems.some((p) => p.kind === 'exit' && p.detail === detail && p['exit-code'] === code), JSON.stringify(problems)).toBe(true);
      const sweep = glomersTest(['--sim', '--seeds', '2', '--seed', '1', '--store', path.join(root, `sweep-${bin}`), ...idsLine(bins[bin] as string)]);
      expect(sweep.status, sweep.stdout + sweep.stderr).toBe(255);
      expect(sweep.stdout).toMatch(/^seed 1: /m);
    }, SPAWN_TIMEOUT_MS * 2);
  }
});

describe.skipIf(!built)('--sim: a run past its budget ends as errored, with the reason and its results', () => {
  const bins: Record<string, string> = {};
  beforeAll(async () => {
    // From the 20th request on, each node: waits for Date.now() to move (it does not, inside one
    // event); doubles its setTimeout(0) timers for ever; allocates without end in one handler; or
    // keeps 16 MB per request.
    bins.spin = await buildNode('spin', `if (next === 20) { const t = Date.now(); while (Date.now() < t + 10) {} }`);
    bins.storm = await buildNode('storm', `if (next === 20) { const storm = () => { setTimeout(storm, 0); setTimeout(storm, 0); }; storm(); }`);
    bins.hog = await buildNode('hog', `if (next === 20) { const hog = []; for (;;) hog.push(new Array(1e5).fill(next)); }`);
    bins.leak = await buildNode('leak', `kept.push(new Array(2e6).fill(next));`, 'const kept = [];');
  });

  function expectErrored(store: string, ran: Ran, reason: RegExp): void {
    expect(ran.status, ran.stdout + ran.stderr).toBe(255);
    for (const file of ['results.json', 'results.edn', 'report.html', 'history.jsonl']) expect(existsSync(path.join(store, 'unique-ids', 'latest', file)), file).toBe(true);
    const problems = results(store).glomers.problems;
    expect(problems.some((p) => p.kind === 'exit' && reason.test(p.detail)), JSON.stringify(problems)).toBe(true);
  }

  it('a node waiting for Date.now() to move inside a handler: its worker is killed past the wall budget', () => {
    const store = path.join(root, 'store-spin');
    const started = performance.now();
    const ran = glomersTest(['--sim', '--seed', '1', '--store', store, ...idsLine(bins.spin as string)], { GLOMERS_SIM_WALL_S: '3' });
    expectErrored(store, ran, /past its wall budget of 3 s/);
    expect(results(store).glomers['stopped-early']).toMatch(/wall budget/);
    // killed at 3 s + 1.5 s of grace; the rest is start-up and checking on a loaded machine
    expect(performance.now() - started).toBeLessThan(60_000);
  }, SPAWN_TIMEOUT_MS);

  it('a sweep whose node spins: each seed errors past the wall budget, and the next seed gets a fresh worker', () => {
    const ran = glomersTest(['--sim', '--seeds', '4', '--seed', '1', '--store', path.join(root, 'sweep-spin'), ...idsLine(bins.spin as string)], { GLOMERS_SIM_WALL_S: '2' });
    expect(ran.status, ran.stdout + ran.stderr).toBe(255);
    expect([...ran.stdout.matchAll(/^seed \d+: error \(exit 255\): killed after 3 s of real time, past its wall budget of 2 s/gm)].length).toBe(4);
  }, SPAWN_TIMEOUT_MS);

  it('a doubling setTimeout(0) storm: the node is stopped past the events-per-instant budget, the others go on', () => {
    const store = path.join(root, 'store-storm');
    const ran = glomersTest(['--sim', '--seed', '1', '--store', store, ...idsLine(bins.storm as string)]);
    expectErrored(store, ran, /over 100000 events at virtual time [\d.]+ ms without time moving/);
  }, SPAWN_TIMEOUT_MS);

  it('allocation without end in one handler: V8 ends the worker at its heap limit, the results are written from the stream', () => {
    const store = path.join(root, 'store-hog');
    const ran = glomersTest(['--sim', '--seed', '1', '--store', store, ...idsLine(bins.hog as string)], { GLOMERS_SIM_HEAP_MB: '100' });
    expectErrored(store, ran, /exited with SIGABRT \(V8 aborts so when the heap passes its limit, here 1124 MB\)/);
  }, SPAWN_TIMEOUT_MS);

  it('a node keeping memory across events: every node is stopped at the heap budget', () => {
    const store = path.join(root, 'store-leak');
    const ran = glomersTest(['--sim', '--seed', '1', '--store', store, ...idsLine(bins.leak as string)], { GLOMERS_SIM_HEAP_MB: '300' });
    expectErrored(store, ran, /n0, n1 stopped by the simulation's budget .*heap reached \d+ MB \(budget 300 MB\)/);
  }, SPAWN_TIMEOUT_MS);

  it('SIGTERM while a node spins: the worker is killed after the stop grace, results written, exit 143', async () => {
    const store = path.join(root, 'store-sigterm');
    const child = spawn(glomers, ['test', '--sim', '--seed', '1', '--store', store, ...idsLine(bins.spin as string)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), SPAWN_TIMEOUT_MS - 10_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      child.kill('SIGTERM');
      const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      expect(status, stderr).toBe(143);
      expect(stderr).toContain('its worker was killed');
      expect(results(store).glomers['stopped-early']).toMatch(/^interrupted/);
    } finally {
      clearTimeout(killer);
      child.kill('SIGKILL');
    }
  }, SPAWN_TIMEOUT_MS);

  it('SIGKILL of glomers while a node spins: the simulation worker does not outlive it', async () => {
    const store = path.join(root, 'store-sigkill');
    const child = spawn(glomers, ['test', '--sim', '--seed', '1', '--store', store, ...idsLine(bins.spin as string)], { cwd: repoRoot, stdio: 'ignore' });
    let workerPid: number | undefined;
    try {
      // the worker is glomers' child running with the worker flag; it spins once the node does
      for (let waitedMs = 0; workerPid === undefined && waitedMs < 30_000; waitedMs += 200) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        workerPid = childrenOf(child.pid as number).find((pid) => commandLine(pid).includes('--glomers-sim-worker'));
      }
      expect(workerPid, 'no simulation worker appeared').toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      child.kill('SIGKILL');
      expect(await waitUntilGone([workerPid as number], 30_000), 'the worker outlived the SIGKILLed harness').toEqual([]);
    } finally {
      child.kill('SIGKILL');
      if (workerPid !== undefined && isAlive(workerPid)) process.kill(workerPid, 'SIGKILL');
    }
  }, SPAWN_TIMEOUT_MS);
});


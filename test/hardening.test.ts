// Misbehaving nodes against the process supervisor (src/harness/nodes/process.ts), with real processes:
// deep and huge lines, floods, a node that stops reading, forks, ignored signals, and a harness
// that is SIGKILLed. Each asserts bounded time, a message naming the node, and no process left.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess, type SupervisionWarning } from '../src/harness/nodes/process.js';
import type { Message, NodeProblem } from '../src/harness/types.js';

const fixture = path.resolve('test/fixtures/fixture-node.js');
const tmpRoots: string[] = [];
// A failing test must not leave its processes behind either.
const cleanups: Array<() => void | Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(async () => {
  await Promise.all(tmpRoots.map((dir) => rm(dir, { recursive: true, force: true })));
});

function killGroups(pgids: number[]): void {
  for (const pgid of pgids) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Pids of live (not zombie) processes in a process group, from /proc (Linux). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/** Whether a pid names a live process (a zombie waiting for its parent counts as gone). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function childrenOf(ppid: number): Array<{ pid: number; command: string }> {
  const children: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid || fields[0] === 'Z') continue;
      children.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Polls `probe` until it gives a value; `what` names the wait (a function: evaluated at the timeout, for a snapshot of the state). */
async function waitFor<T>(what: string | (() => string), probe: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const linux = process.platform === 'linux';

interface Cluster {
  nodes: Map<string, NodeProcess>;
  problems: NodeProblem[];
  warnings: SupervisionWarning[];
  received: Map<string, number>;
  logDir: string;
  stop(): Promise<number>;
}

/** Starts fixture nodes wired to each other directly (no latency), and inits them. */
async function startCluster(count: number, args: string[]): Promise<Cluster> {
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'glomers-hardening-'));
  tmpRoots.push(logDir);
  const ids = Array.from({ length: count }, (_, k) => `n${k}`);
  const nodes = new Map<string, NodeProcess>();
  const problems: NodeProblem[] = [];
  const warnings: SupervisionWarning[] = [];
  const received = new Map<string, number>();
  for (const nodeId of ids) {
    nodes.set(
      nodeId,
      startNode({
        nodeId,
        binPath: fixture,
        args,
        logFile: path.join(logDir, `${nodeId}.log`),
        logStderr: false,
        isRegistered: (id) => nodes.has(id) || id === 'c0',
        onMessage: (message: Message) => {
          received.set(message.body.type, (received.get(message.body.type) ?? 0) + 1);
          nodes.get(message.dest)?.write(message);
        },
        onProblem: (problem) => problems.push(problem),
        onWarning: (warning) => warnings.push(warning),
      }),
    );
  }
  for (const nodeId of ids) {
    nodes.get(nodeId)?.write({ src: 'c0', dest: nodeId, body: { type: 'init', msg_id: 1, node_id: nodeId, node_ids: ids } });
  }
  cleanups.push(() => Promise.all([...nodes.values()].map((node) => node.stop())));
  await waitFor('init_ok from every node', () => (received.get('init_ok') ?? 0) >= count, 20_000);
  return {
    nodes,
    problems,
    warnings,
    received,
    logDir,
    async stop() {
      const started = Date.now();
      await Promise.all([...nodes.values()].map((node) => node.stop()));
      return Date.now() - started;
    },
  };
}

describe.skipIf(!linux)('misbehaving nodes against the supervisor', () => {
  it('a node printing a line nested 5000 deep is a bad line naming the node, and the harness carries on', async () => {
    const cluster = await startCluster(1, ['deep-line']);
    const problem = await waitFor('a bad-line problem', () => cluster.problems[0], 10_000);
    expect(problem).toMatchObject({ node: 'n0', kind: 'bad-line' });
    expect(problem.detail).toMatch(/nested deeper than 1000 levels/);
    expect(problem.detail.length).toBeLessThan(3_000);
    await cluster.stop();
  });

  it('a node printing 100 MB without a newline is flagged as the bytes arrive, within seconds', async () => {
    const started = Date.now();
    const cluster = await startCluster(1, ['huge-line']);
    const problem = await waitFor('a bad-line problem', () => cluster.problems[0], 15_000);
    expect(problem).toMatchObject({ node: 'n0', kind: 'bad-line' });
    expect(problem.detail).toMatch(/no newline after 67108864 chars/);
    expect(Date.now() - started).toBeLessThan(15_000);
    await cluster.stop();
  });

  it('a flooding node is read only as fast as its peer drains: named, nothing dropped, bounded memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    const cluster = await startCluster(2, ['flood', '4096']);
    let peakRss = rssBefore;
    const started = Date.now();
    while (Date.now() - started < 3_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    expect(cluster.warnings.filter((w) => w.kind === 'flood').map((w) => w.node)).toEqual(['n0']);
    expect(cluster.warnings.some((w) => w.kind === 'not-draining')).toBe(false);
    expect(cluster.received.get('flood') ?? 0).toBeGreaterThan(1_000);
    expect(cluster.nodes.get('n1')?.dropped.notDraining).toBe(0);
    // without the bound, 3 s of 4 KB messages from a fast writer is gigabytes
    expect(peakRss - rssBefore).toBeLessThan(150e6);
    expect(await cluster.stop()).toBeLessThan(3_000);
  });

  it('a node that stops reading its stdin is declared not draining, named, and messages to it are dropped and counted', async () => {
    const rssBefore = process.memoryUsage().rss;
    const cluster = await startCluster(2, ['flood-no-read', '4096']);
    const notDraining = await waitFor('a not-draining warning', () => cluster.warnings.find((w) => w.kind === 'not-draining'), 15_000);
    expect(notDraining.node).toBe('n1');
    expect(notDraining.detail).toMatch(/is not reading its stdin/);
    await waitFor('drops', () => (cluster.nodes.get('n1')?.dropped.notDraining ?? 0) > 100, 10_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150e6);
    expect(await cluster.stop()).toBeLessThan(3_000);
  });

  it.each(['fork', 'ignore-signals'])('mode %s: stop() ends the whole process group at once, forked children too', async (mode) => {
    const cluster = await startCluster(2, [mode]);
    const pgids = [...cluster.nodes.values()].map((node) => node.pid as number);
    if (mode === 'fork') {
      await waitFor('forked children', () => pgids.every((pgid) => groupMembers(pgid).length >= 2), 15_000);
    }
    const stopMs = await cluster.stop();
    expect(stopMs).toBeLessThan(3_000);
    await waitFor('empty groups', () => pgids.every((pgid) => !running(pgid) && groupMembers(pgid).length === 0), 10_000);
  });
});

describe.skipIf(!linux)('the harness itself ends', () => {
  const tsxLoader = path.resolve('node_modules/tsx/dist/esm/index.mjs');
  const harnessArgs = (store: string, mode: string): string[] => [
    '--import',
    existsSync(tsxLoader) ? tsxLoader : 'tsx',
    path.resolve('src/harness/main.ts'),
    'test', '-w', 'echo', '--bin', fixture, '--node-count', '2', '--time-limit', '30', '--rate', '5', '--store', store,
    '--', mode,
  ];

  it.each([
    ['SIGKILL', 'fork'],
    ['SIGKILL', 'ignore-signals'],
    ['SIGTERM', 'fork'],
    ['SIGINT', 'ignore-signals'],
  ] as const)('%s to the harness leaves no process of a %s node behind', async (signal, mode) => {
    const store = await mkdtemp(path.join(os.tmpdir(), 'glomers-kill-'));
    tmpRoots.push(store);
    const harness = spawn(process.execPath, harnessArgs(store, mode), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    harness.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => harness.on('exit', () => resolve()));
    const harnessPid = harness.pid as number;
    const seen: number[] = [];
    cleanups.push(() => {
      // Every child of the harness, not only those taken for nodes: a wrong pick must not leave a
      // node behind (a run that timed out here once did, with the watchdog's group killed instead).
      const children = childrenOf(harnessPid).map((child) => child.pid);
      harness.kill('SIGKILL');
      killGroups([...seen, ...children]);
    });
    // the nodes are the harness's children other than the watchdog
    const nodePids = await waitFor(
      `two nodes started (stderr: ${stderr})`,
      () => {
        // Between fork and exec a child still shows the harness's command line, which names the
        // fixture too (--bin): such a child (the awk watchdog about to start, say) is not a node.
        const nodes = childrenOf(harnessPid).filter((child) => child.command.includes('fixture-node.js') && !child.command.includes('src/harness/main.ts'));
        return nodes.length === 2 && nodes.map((child) => child.pid);
      },
      15_000,
    );
    seen.push(...nodePids);
    // generous: on a loaded machine starting node processes takes seconds
    await waitFor('load running', () => stderr.includes('results in'), 15_000);
    // Each node forks when its init arrives. A timeout says where every node stood (one run waited
    // 15 s here, likely a process caught before its exec, see above).
    const groups = (): string => nodePids.map((pgid) => `${pgid} (${running(pgid) ? 'running' : 'gone'}): [${groupMembers(pgid).join(' ')}]`).join('; ');
    if (mode === 'fork') await waitFor(() => `forked children; groups ${groups()}; harness stderr: ${stderr.slice(-2000)}`, () => nodePids.every((pgid) => groupMembers(pgid).length >= 2), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    harness.kill(signal);
    await exited;
    const started = Date.now();
    await waitFor(
      `no process left in groups ${nodePids.join(', ')}`,
      () => nodePids.every((pid) => !running(pid) && groupMembers(pid).length === 0),
      3_000,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  }, 60_000);
});

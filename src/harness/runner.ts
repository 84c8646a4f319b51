// Runs one test: start services and nodes, init, setup, client load with the nemesis, the final
// phase, teardown, then the workload checker and the results stage.
import { realpath, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { createClientFactory, type Client } from './client.js';
import { createNetwork, type Network } from './network.js';
import { nemesisGapMs, partitionGrudge, pickShape } from './nemesis.js';
import { formatProblem, nodeLogPath, startNode, type NodeProcess } from './process.js';
import { createProgress, type Progress } from './progress.js';
import { deriveRng } from './rng.js';
import { startServices } from './services.js';
import {
  SchemaError,
  type Body,
  type Completion,
  type Json,
  type NodeProblem,
  type Op,
  type OpSpec,
  type RunOutput,
  type TestOptions,
  type Validity,
  type Workload,
} from './types.js';

export const INIT_TIMEOUT_MS = 10_000;
export const SETUP_TIMEOUT_MS = 5_000;
/** Exit status when the test errors (a node crashed, or init/setup failed), as Maelstrom does. */
export const EXIT_TEST_ERRORED = 255;

export interface RunDeps {
  getWorkload(name: string): Workload | undefined;
  createStoreDir(opts: TestOptions, startedAt: Date): Promise<string>;
  finishRun(run: RunOutput): Promise<{ valid: Validity; exitCode: number }>;
  /** where progress lines go; null for none (default: process.stderr) */
  progressStream?: NodeJS.WriteStream | null;
}

export interface TestOutcome {
  exitCode: number;
  /** absent when the test aborted before load (init or setup failed) */
  run?: RunOutput;
  valid?: Validity;
  problems: NodeProblem[];
  /** pids of every node process, so callers can verify none survived */
  pids: number[];
  storeDir: string;
}

class TestAborted extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function resolveBinary(bin: string): Promise<string> {
  const absolute = path.resolve(bin);
  let canonical: string;
  try {
    canonical = await realpath(absolute);
  } catch {
    throw new Error(`--bin ${bin}: no such file (looked for ${absolute})`);
  }
  try {
    await access(canonical, fsConstants.X_OK);
  } catch {
    throw new Error(`--bin ${bin}: ${canonical} is not executable (chmod +x it, and give it a #! line)`);
  }
  return canonical;
}

export async function runTest(opts: TestOptions, deps: RunDeps): Promise<TestOutcome> {
  const workload = deps.getWorkload(opts.workload);
  if (workload === undefined) throw new Error(`unknown workload ${opts.workload}`);
  const binPath = await resolveBinary(opts.bin);
  const startedAt = new Date();
  const storeDir = await deps.createStoreDir(opts, startedAt);
  const say = (line: string): void => {
    if (deps.progressStream !== null) (deps.progressStream ?? process.stderr).write(`${line}\n`);
  };
  say(`glomers: ${opts.workload} on ${opts.nodes.length} node(s), seed ${opts.seed}, results in ${storeDir}`);

  const t0 = process.hrtime.bigint();
  const nowNs = (): number => Number(process.hrtime.bigint() - t0);
  const logLine = (tag: string) => (message: unknown) => say(`${tag} ${JSON.stringify(message)}`);
  const network: Network = createNetwork({
    latencyMs: opts.latencyMs,
    latencyDist: opts.latencyDist,
    rng: deriveRng(opts.seed, 'network'),
    nowNs,
    ...(opts.logNetSend ? { logSend: logLine(':send') } : {}),
    ...(opts.logNetRecv ? { logRecv: logLine(':recv') } : {}),
  });
  const clients = createClientFactory(network);
  const problems: NodeProblem[] = [];
  let crashed = false;
  const reportProblem = (problem: NodeProblem): void => {
    problems.push(problem);
    if (problem.kind === 'exit') crashed = true;
    process.stderr.write(formatProblem(problem));
  };

  startServices(network, deriveRng(opts.seed, 'services'), (line) => say(`glomers: ${line}`));

  // Every node is registered before any starts, so early peer traffic always has a destination.
  const nodes = new Map<string, NodeProcess>();
  for (const nodeId of opts.nodes) {
    network.register(nodeId, { deliver: (message) => nodes.get(nodeId)?.write(message) });
  }
  for (const nodeId of opts.nodes) {
    nodes.set(
      nodeId,
      startNode({
        nodeId,
        binPath,
        args: opts.binArgs,
        logFile: nodeLogPath(storeDir, nodeId),
        logStderr: opts.logStderr,
        isRegistered: (id) => network.isRegistered(id),
        onMessage: (message) => network.send(message.src, message.dest, message.body),
        onProblem: reportProblem,
      }),
    );
  }
  const pids = [...nodes.values()].flatMap((node) => (node.pid === undefined ? [] : [node.pid]));

  const history: Op[] = [];
  const record = (op: Omit<Op, 'index'>): Op => {
    const full = { index: history.length, ...op } as Op;
    history.push(full);
    return full;
  };

  let progress: Progress | null = null;
  try {
    await initNodes(opts, clients, nodes, reportProblem);
    await runSetup(opts, workload, clients, nodes, reportProblem);
    progress = createProgress(deps.progressStream === undefined ? process.stderr : deps.progressStream, () => ({
      history,
      messages: network.counters.sent,
    }));
    await runLoad(opts, workload, clients, network, record, nowNs, progress, say);
  } catch (err) {
    if (!(err instanceof TestAborted)) throw err;
    say(`glomers: test aborted: ${err.message}`);
  } finally {
    progress?.stop();
    network.close();
    await Promise.all([...nodes.values()].map((node) => node.stop()));
  }

  const aborted = problems.some((p) => p.kind === 'init-timeout' || p.kind === 'init-error' || p.kind === 'setup-timeout');
  if (aborted) return { exitCode: EXIT_TEST_ERRORED, problems, pids, storeDir };

  const workloadResult = workload.check(history, opts);
  const run: RunOutput = {
    opts,
    startedAt,
    storeDir,
    history,
    journal: network.journal,
    workloadResult,
    lateness: network.lateness(),
    problems,
  };
  const { valid, exitCode } = await deps.finishRun(run);
  if (run.lateness.behind) {
    say(
      `glomers: warning: the harness delivered messages late (p99 ${run.lateness.p99Ms.toFixed(1)} ms, max ${run.lateness.maxMs.toFixed(1)} ms); latencies in this run are inflated`,
    );
  }
  if (crashed) {
    for (const problem of problems) process.stderr.write(formatProblem(problem));
    say(`glomers: the test errored: a node crashed (exit status ${EXIT_TEST_ERRORED}, as Maelstrom does)`);
    return { exitCode: EXIT_TEST_ERRORED, run, valid, problems, pids, storeDir };
  }
  if (problems.length > 0) {
    say(`glomers: ${problems.length} node problem(s) during the test; see above`);
  }
  return { exitCode, run, valid, problems, pids, storeDir };
}

// ---------------------------------------------------------------------------------------------

async function initNodes(
  opts: TestOptions,
  clients: ReturnType<typeof createClientFactory>,
  nodes: Map<string, NodeProcess>,
  reportProblem: (problem: NodeProblem) => void,
): Promise<void> {
  const initClients = opts.nodes.map((nodeId) => ({ nodeId, client: clients.open() }));
  const results = await Promise.all(
    initClients.map(async ({ nodeId, client }) => {
      const result = await client.rpc(
        nodeId,
        { type: 'init', node_id: nodeId, node_ids: opts.nodes },
        INIT_TIMEOUT_MS,
      );
      client.close();
      return { nodeId, result };
    }),
  );
  for (const { nodeId, result } of results) {
    const tail = nodes.get(nodeId)?.stderrTail() ?? [];
    if (result.kind === 'timeout') {
      reportProblem({
        node: nodeId,
        kind: 'init-timeout',
        detail: `did not answer init with init_ok within ${INIT_TIMEOUT_MS / 1000} s; the test cannot start`,
        stderrTail: tail,
      });
    } else if (result.body.type !== 'init_ok') {
      reportProblem({
        node: nodeId,
        kind: 'init-error',
        detail: `answered init with ${JSON.stringify(result.body)} instead of init_ok; the test cannot start`,
        stderrTail: tail,
      });
    }
  }
  if (results.some(({ result }) => result.kind === 'timeout' || result.body.type !== 'init_ok')) {
    throw new TestAborted('init failed');
  }
}

async function runSetup(
  opts: TestOptions,
  workload: Workload,
  clients: ReturnType<typeof createClientFactory>,
  nodes: Map<string, NodeProcess>,
  reportProblem: (problem: NodeProblem) => void,
): Promise<void> {
  const requests = workload.setup?.(opts) ?? [];
  const opened = requests.map((request) => ({ request, client: clients.open() }));
  const outcomes = await Promise.all(
    opened.map(async ({ request, client }) => {
      const result = await client.rpc(request.dest, request.body, SETUP_TIMEOUT_MS);
      client.close();
      return { request, result };
    }),
  );
  let failed = false;
  for (const { request, result } of outcomes) {
    if (result.kind === 'reply' && result.body.type === request.replyType) continue;
    failed = true;
    reportProblem({
      node: request.dest,
      kind: 'setup-timeout',
      detail:
        result.kind === 'timeout'
          ? `did not answer ${request.body.type} with ${request.replyType} within ${SETUP_TIMEOUT_MS / 1000} s; the test cannot start`
          : `answered ${request.body.type} with ${JSON.stringify(result.body)} instead of ${request.replyType}; the test cannot start`,
      stderrTail: nodes.get(request.dest)?.stderrTail() ?? [],
    });
  }
  if (failed) throw new TestAborted('setup failed');
}

// ---------------------------------------------------------------------------------------------

interface Worker {
  index: number;
  process: number;
  node: string;
  client: Client | null;
  busy: boolean;
}

type RecordOp = (op: Omit<Op, 'index'>) => Op;

function completionFor(workload: Workload, spec: OpSpec, body: Body): Completion {
  if (body.type === 'error') {
    const code = typeof body.code === 'number' ? body.code : -1;
    const text = typeof body.text === 'string' ? body.text : undefined;
    return workload.onError(spec, code, text);
  }
  try {
    return workload.onReply(spec, body);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!(err instanceof SchemaError)) {
      process.stderr.write(`glomers: workload ${workload.name} failed on reply ${JSON.stringify(body)}: ${message}\n`);
    }
    return { type: 'info', value: spec.value, error: `indeterminate: ${message}` };
  }
}

async function runOp(
  opts: TestOptions,
  workload: Workload,
  clients: ReturnType<typeof createClientFactory>,
  worker: Worker,
  spec: OpSpec,
  record: RecordOp,
  nowNs: () => number,
): Promise<void> {
  worker.client ??= clients.open();
  const final = spec.final === true ? { 'final?': true } : {};
  record({ time: nowNs(), type: 'invoke', process: worker.process, f: spec.f, value: spec.value, ...final });
  const result = await worker.client.rpc(worker.node, workload.request(spec), workload.rpcTimeoutMs(opts));
  const completion =
    result.kind === 'timeout' ? workload.onError(spec, 0, 'net-timeout') : completionFor(workload, spec, result.body);
  const op: Omit<Op, 'index'> = {
    time: nowNs(),
    type: completion.type,
    process: worker.process,
    f: spec.f,
    value: completion.value,
    ...final,
  };
  if (completion.error !== undefined) op.error = completion.error as Json;
  record(op);
  if (completion.type === 'info') {
    // Jepsen: a crashed process never returns; the worker continues as a new process with a
    // new connection (and so a new client id).
    worker.client.close();
    worker.client = null;
    worker.process += opts.concurrency;
  }
}

async function runLoad(
  opts: TestOptions,
  workload: Workload,
  clients: ReturnType<typeof createClientFactory>,
  network: Network,
  record: RecordOp,
  nowNs: () => number,
  progress: Progress,
  say: (line: string) => void,
): Promise<void> {
  const workers: Worker[] = Array.from({ length: opts.concurrency }, (_, index) => ({
    index,
    process: index,
    node: opts.nodes[index % opts.nodes.length] as string,
    client: null,
    busy: false,
  }));
  for (const worker of workers) worker.client = clients.open();

  const generator = workload.generator(opts, deriveRng(opts.seed, 'generator'));
  const schedulerRng = deriveRng(opts.seed, 'scheduler');
  const loadStartNs = nowNs();
  const loadEndNs = loadStartNs + opts.timeLimitS * 1e9;
  progress.setPhase('load', loadEndNs, nowNs);

  // Nemesis: start/stop alternate from the beginning of the load phase.
  const nemesisDone = opts.nemesis === 'partition' ? runNemesis(opts, network, record, nowNs, loadEndNs) : Promise.resolve();

  // Wakes the dispatcher when a worker becomes free.
  let wake: (() => void) | null = null;
  const inFlight = new Set<Promise<void>>();
  const startOp = (worker: Worker, spec: OpSpec): void => {
    worker.busy = true;
    const running = runOp(opts, workload, clients, worker, spec, record, nowNs).finally(() => {
      worker.busy = false;
      inFlight.delete(running);
      wake?.();
    });
    inFlight.add(running);
  };

  if (opts.rate > 0) {
    // One global stagger: gaps uniform in [0, 2/rate) s; the schedule does not slip when
    // workers are busy (Jepsen's stagger advances from the previous slot, not from now).
    const meanGapNs = 1e9 / opts.rate;
    let slotNs = loadStartNs;
    for (;;) {
      if (slotNs >= loadEndNs) break;
      const waitMs = (slotNs - nowNs()) / 1e6;
      if (waitMs >= 1) await sleep(Math.min(waitMs, (loadEndNs - nowNs()) / 1e6));
      if (nowNs() >= loadEndNs) break;
      let free = workers.filter((w) => !w.busy);
      while (free.length === 0) {
        const remainingMs = (loadEndNs - nowNs()) / 1e6;
        if (remainingMs <= 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remainingMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
        free = workers.filter((w) => !w.busy);
      }
      if (free.length === 0 || nowNs() >= loadEndNs) break;
      const worker = free[schedulerRng.int(free.length)] as Worker;
      const spec = generator.next(worker.process);
      if (spec === undefined) break;
      startOp(worker, spec);
      slotNs += schedulerRng.next() * 2 * meanGapNs;
    }
  } else {
    await sleep((loadEndNs - nowNs()) / 1e6);
  }

  await Promise.all([...inFlight]);
  await nemesisDone;

  if (!workload.hasFinalPhase) return;
  if (opts.nemesis === 'partition') healPartition(network, record, nowNs);
  say(`glomers: waiting ${opts.finalWaitS} s for recovery before final operations...`);
  progress.setPhase('final-wait', nowNs() + opts.finalWaitS * 1e9, nowNs);
  await sleep(opts.finalWaitS * 1000);
  progress.setPhase('final', null, nowNs);
  await Promise.all(
    workers.map(async (worker) => {
      for (const spec of workload.finalOps?.(worker.process, opts) ?? []) {
        await runOp(opts, workload, clients, worker, spec, record, nowNs);
      }
    }),
  );
}

/** Heals the network, recorded as Maelstrom records it: a stop-partition pair of info ops. */
function healPartition(network: Network, record: RecordOp, nowNs: () => number): void {
  record({ time: nowNs(), type: 'info', process: 'nemesis', f: 'stop-partition', value: null });
  network.heal();
  record({ time: nowNs(), type: 'info', process: 'nemesis', f: 'stop-partition', value: 'network-healed' });
}

async function runNemesis(
  opts: TestOptions,
  network: Network,
  record: RecordOp,
  nowNs: () => number,
  loadEndNs: number,
): Promise<void> {
  const rng = deriveRng(opts.seed, 'nemesis');
  let starting = true;
  let slotNs = nowNs();
  for (;;) {
    const waitMs = (slotNs - nowNs()) / 1e6;
    if (slotNs >= loadEndNs) return;
    if (waitMs > 0) await sleep(waitMs);
    if (nowNs() >= loadEndNs) return;
    if (starting) {
      const shape = pickShape(rng);
      record({ time: nowNs(), type: 'info', process: 'nemesis', f: 'start-partition', value: shape });
      const grudge = partitionGrudge(shape, opts.nodes, rng);
      network.setGrudge(grudge);
      record({ time: nowNs(), type: 'info', process: 'nemesis', f: 'start-partition', value: ['isolated', grudge] });
    } else {
      healPartition(network, record, nowNs);
    }
    starting = !starting;
    slotNs += nemesisGapMs(opts.nemesisIntervalS, rng) * 1e6;
  }
}

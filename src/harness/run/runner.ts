// Runs one test, in the order Maelstrom's core does: services and nodes, init, the workload's
// setup, then one generator (client load staggered by --rate and the nemesis, cut at --time-limit;
// then heal, wait and the workload's final operations) interpreted on one clock, then teardown and
// the checking stage.
import { realpath, access, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { createClientFactory, type Client, type ClientFactory } from '../net/client.js';
import { EMPTY, any, call, clients, nemesis as onNemesis, phases, sleep, sleepUntil, stagger, timeLimit, type Gen } from './generator.js';
import { interpret } from './interpreter.js';
import type { Clock } from '../clock.js';
import { processBackend, type NodeBackend } from '../nodes/backend.js';
import { createJournal } from '../net/journal.js';
import { createLineFile, type LineFile } from '../util/line-file.js';
import { historyLine } from './history-file.js';
import { createNemesis, type NemesisTarget } from './nemesis.js';
import { BEHIND_P99_MS, createNetwork, type Network } from '../net/network.js';
import { formatProblem, nodeLogPath, startNode, type NodeProcess, type NodeProcessOptions } from '../nodes/process.js';
import { createProgress, type Progress } from './progress.js';
import { previewJson } from '../../lib/protocol.js';
import { deriveRng } from '../util/rng.js';
import { startServices, startWorkloadServices, type WorkloadServices } from '../net/services.js';
import type { LatenessStats, NodeProblem, Op, RunOutput, ServiceEvent, TestOptions, Validity } from '../types.js';
import { clientTargets, type Workload, type WorkloadClient } from '../workload.js';
import { whyNoFolder } from '../util/writable.js';
import { threadNode } from '../util/client-node.js';

export const INIT_TIMEOUT_MS = 10_000;
export const SETUP_TIMEOUT_MS = 5_000;
/** Exit status when the test errors (a node crashed, or init/setup failed), as Maelstrom does. */
export const EXIT_TEST_ERRORED = 255;

export interface RunDeps {
  getWorkload(name: string): Workload | undefined;
  createStoreDir(opts: TestOptions, startedAt: Date): Promise<string>;
  /** checks the run and writes every results file */
  finishRun(run: RunOutput, workload: Workload): Promise<{ valid: Validity; exitCode: number }>;
  /** where progress lines go; null for none (default: process.stderr) */
  progressStream?: NodeJS.WriteStream | null;
  /** true once the run should stop early (Ctrl-C); results are still written */
  stopRequested?: () => boolean;
  /** where nodes run (default: processes, processBackend()) */
  backend?: NodeBackend;
  /**
   * false: stream neither net-journal.jsonl (only its counts and head are kept) nor history.jsonl
   * (written at the end if results are) as the run goes (seed sweeps)
   */
  journalFile?: boolean;
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

export async function resolveBinary(bin: string): Promise<string> {
  const absolute = path.resolve(bin);
  let canonical: string;
  try {
    canonical = await realpath(absolute);
  } catch {
    throw new Error(`--bin ${bin}: no such file (looked for ${absolute})`);
  }
  if ((await stat(canonical)).isDirectory()) throw new Error(`--bin ${bin}: ${canonical} is a directory, not a node binary`);
  try {
    await access(canonical, fsConstants.X_OK);
  } catch {
    throw new Error(`--bin ${bin}: ${canonical} is not executable (chmod +x it, and give it a #! line)`);
  }
  return canonical;
}

/** Everything a running test holds, so the phases below stay small. */
interface Run {
  opts: TestOptions;
  binPath: string;
  storeDir: string;
  workload: Workload;
  backend: NodeBackend;
  clock: Clock;
  network: Network;
  clients: ClientFactory;
  /** the current process of each node */
  nodes: Map<string, NodeProcess>;
  /** nodes the kill nemesis has taken down and not yet restarted */
  dead: Set<string>;
  /** every node process started, restarts included */
  pids: number[];
  history: Op[];
  historyFile: LineFile | null;
  /** what the workload's services recorded, kept whole like the history and streamed beside it */
  serviceEvents: ServiceEvent[];
  workloadServices: WorkloadServices | null;
  problems: NodeProblem[];
  say(line: string): void;
  reportProblem(problem: NodeProblem): void;
}

export async function runTest(opts: TestOptions, deps: RunDeps): Promise<TestOutcome> {
  const workload = deps.getWorkload(opts.workload);
  if (workload === undefined) throw new Error(`unknown workload ${opts.workload}`);
  const binPath = await resolveBinary(opts.bin);
  const startedAt = new Date();
  let storeDir: string;
  try {
    storeDir = await deps.createStoreDir(opts, startedAt);
  } catch (err) {
    throw new Error(`--store ${opts.storeDir}: cannot create the results folder there (${await whyNoFolder(opts.storeDir, err)}); pick a writable directory`);
  }
  const say = (line: string): void => {
    if (deps.progressStream !== null) (deps.progressStream ?? process.stderr).write(`${line}\n`);
  };
  say(`glomers: ${opts.workload} on ${opts.nodes.length} node(s), seed ${opts.seed}, results in ${storeDir}`);

  const backend = deps.backend ?? processBackend();
  const { clock } = backend;
  const journal = createJournal(deps.journalFile === false ? null : storeDir);
  // Streamed as the run goes, so the end of a long run does not build it whole in memory, and an
  // interrupted run leaves what it recorded.
  const historyFile = deps.journalFile === false ? null : createLineFile(path.join(storeDir, 'history.jsonl'), 'the history');
  const serviceEventsFile =
    deps.journalFile === false || workload.services === undefined ? null : createLineFile(path.join(storeDir, 'service-events.jsonl'), 'the service events');
  const logLine = (tag: string) => (message: unknown) => say(`${tag} ${JSON.stringify(message)}`);
  const network = createNetwork({
    latencyMs: opts.latencyMs,
    latencyDist: opts.latencyDist,
    rng: deriveRng(opts.seed, 'network'),
    nowNs: clock.nowNs,
    setTimer: clock.setTimer,
    journal: journal.record,
    ...(opts.logNetSend ? { logSend: logLine(':send') } : {}),
    ...(opts.logNetRecv ? { logRecv: logLine(':recv') } : {}),
  });
  const problems: NodeProblem[] = [];
  const run: Run = {
    opts,
    binPath,
    storeDir,
    workload,
    backend,
    clock,
    network,
    clients: createClientFactory(network, clock.setTimer),
    nodes: new Map(),
    dead: new Set(),
    pids: [],
    history: [],
    historyFile,
    serviceEvents: [],
    workloadServices: null,
    problems,
    say,
    reportProblem(problem) {
      problems.push(problem);
      process.stderr.write(formatProblem(problem));
    },
  };

  startServices(network, deriveRng(opts.seed, 'services'), (line) => say(`glomers: ${line}`));
  run.workloadServices = startWorkloadServices(network, workload.services?.(opts) ?? [], {
    nowMs: () => clock.nowNs() / 1e6,
    setTimer: clock.setTimer,
    record(event) {
      run.serviceEvents.push(event);
      serviceEventsFile?.append(JSON.stringify(event));
    },
  });
  startNodes(run);
  const { pids } = run;

  let progress: Progress | null = null;
  let stoppedEarly: string | undefined;
  /** share of the load phase this process was busy (real runs) */
  let harnessBusy: number | undefined;
  try {
    await initNodes(run);
    await runSetup(run);
    // A simulated run takes a fraction of a second of real time: no progress line.
    const progressStream = backend.kind === 'sim' ? null : deps.progressStream === undefined ? process.stderr : deps.progressStream;
    progress = createProgress(progressStream, () => ({
      history: run.history,
      messages: network.counters.sent,
    }));
    const loadStarted = backend.kind === 'sim' ? null : performance.eventLoopUtilization();
    await runGenerator(run, progress, () => {
      if (deps.stopRequested?.() === true) stoppedEarly = 'interrupted';
      return stoppedEarly !== undefined;
    });
    if (loadStarted !== null) harnessBusy = performance.eventLoopUtilization(loadStarted).utilization;
  } catch (err) {
    if (!(err instanceof TestAborted)) throw err;
    say(`glomers: test aborted: ${err.message}`);
  } finally {
    progress?.stop();
    network.close();
    await Promise.all([...run.nodes.values()].map((node) => node.stop()));
    backend.afterNodes?.();
    journal.close();
    historyFile?.close();
    serviceEventsFile?.close();
  }

  const aborted = problems.some((p) => p.kind === 'init-timeout' || p.kind === 'init-error' || p.kind === 'setup-timeout');
  if (aborted) return { exitCode: EXIT_TEST_ERRORED, problems, pids, storeDir };

  const output: RunOutput = {
    opts,
    startedAt,
    storeDir,
    history: run.history,
    ...(workload.services === undefined ? {} : { serviceEvents: run.serviceEvents }),
    historyWritten: historyFile !== null,
    netCounts: journal.counts,
    journalHead: journal.head,
    lateness: withHarnessBusy(network.lateness(), harnessBusy),
    ...(backend.kind === 'sim' ? { simulated: true } : {}),
    problems,
    ...(stoppedEarly === undefined ? {} : { stoppedEarly }),
  };
  const { valid, exitCode } = await deps.finishRun(output, workload);
  if (output.lateness.behind) say(behindWarning(output.lateness));
  if (problems.some((p) => p.kind === 'exit')) {
    for (const problem of problems) process.stderr.write(formatProblem(problem));
    say(`glomers: the test errored: a node crashed (exit status ${EXIT_TEST_ERRORED}, as Maelstrom does)`);
    return { exitCode: EXIT_TEST_ERRORED, run: output, valid, problems, pids, storeDir };
  }
  if (problems.length > 0) say(`glomers: ${problems.length} node problem(s) during the test; see above`);
  return { exitCode, run: output, valid, problems, pids, storeDir };
}

// ---------------------------------------------------------------------------------------------

/**
 * Busier than this through the load phase, the harness itself limited how fast messages moved:
 * output waited in nodes' pipes for it to read them (docs/network.md).
 */
export const HARNESS_BUSY_BEHIND = 0.9;

function withHarnessBusy(lateness: LatenessStats, harnessBusy: number | undefined): LatenessStats {
  if (harnessBusy === undefined) return lateness;
  return { ...lateness, harnessBusy, behind: lateness.behind || harnessBusy > HARNESS_BUSY_BEHIND };
}

function behindWarning(lateness: LatenessStats): string {
  const reasons: string[] = [];
  if (lateness.harnessBusy !== undefined && lateness.harnessBusy > HARNESS_BUSY_BEHIND) {
    reasons.push(`the harness was busy ${Math.round(lateness.harnessBusy * 100)} % of the load phase, so it, not the nodes, limited how fast messages moved`);
  }
  if (lateness.p99Ms > BEHIND_P99_MS) {
    reasons.push(`the harness delivered messages late (p99 ${lateness.p99Ms.toFixed(1)} ms, max ${lateness.maxMs.toFixed(1)} ms)`);
  }
  return `glomers: warning: ${reasons.join('; ')}; latencies and message counts in this run are distorted`;
}

function spawnNode(run: Run, nodeId: string): NodeProcess {
  const node = run.backend.start({
    nodeId,
    binPath: run.binPath,
    args: run.opts.binArgs,
    logFile: nodeLogPath(run.storeDir, nodeId),
    logStderr: run.opts.logStderr,
    isRegistered: (id) => run.network.isRegistered(id),
    onMessage: (message) => run.network.send(message.src, message.dest, message.body),
    onProblem: run.reportProblem,
    // Reported and shouted, but not a failure of the test (see results.ts).
    onWarning: (warning) => run.problems.push(warning),
  });
  run.nodes.set(nodeId, node);
  if (node.pid !== undefined) run.pids.push(node.pid);
  return node;
}

function startNodes(run: Run): void {
  // Every node is registered before any starts, so early peer traffic always has a destination.
  // A node the kill nemesis took down stays registered: messages to it are lost, as on a dead host.
  for (const nodeId of run.opts.nodes) {
    run.network.register(nodeId, { deliver: (message, bodyJson) => run.nodes.get(nodeId)?.write(message, bodyJson) });
  }
  for (const nodeId of run.opts.nodes) spawnNode(run, nodeId);
}

/** Sends init from a fresh client; true when the node answers init_ok in time. */
async function sendInit(run: Run, nodeId: string): Promise<{ ok: true } | { ok: false; kind: 'init-timeout' | 'init-error'; detail: string }> {
  const client = run.clients.open();
  const result = await client.rpc(nodeId, { type: 'init', node_id: nodeId, node_ids: run.opts.nodes }, INIT_TIMEOUT_MS);
  client.close();
  if (result.kind === 'reply' && result.body.type === 'init_ok') return { ok: true };
  return result.kind === 'timeout'
    ? { ok: false, kind: 'init-timeout', detail: `did not answer init with init_ok within ${INIT_TIMEOUT_MS / 1000} s` }
    : { ok: false, kind: 'init-error', detail: `answered init with ${previewJson(result.body)} instead of init_ok` };
}

/** What the kill and pause nemeses do to node processes (decisions documented in the README). */
function processControl(run: Run): Required<Pick<NemesisTarget, 'kill' | 'start' | 'pause' | 'resume' | 'powerCut' | 'diskFull' | 'diskOk'>> {
  const paused = new Set<string>();
  const { storage } = run.backend;
  const control: ReturnType<typeof processControl> = {
    // Storage faults need a simulated disk (sim/disk.ts); on real processes a power cut is a kill.
    async powerCut(nodeId) {
      const killed = await control.kill(nodeId);
      return killed === 'killed' && storage !== undefined ? storage.powerCut(nodeId) : killed;
    },
    diskFull: async (nodeId) => storage?.setDiskFull(nodeId, true) ?? 'not-simulated',
    diskOk: async (nodeId) => storage?.setDiskFull(nodeId, false) ?? 'not-simulated',
    async kill(nodeId) {
      const node = run.nodes.get(nodeId);
      if (node === undefined || node.exited) return 'already-dead';
      // A paused process still dies of SIGKILL; it just must not stay marked paused.
      paused.delete(nodeId);
      run.dead.add(nodeId);
      await node.stop();
      run.workloadServices?.nodeEvent('killed', nodeId);
      return 'killed';
    },
    async start(nodeId) {
      if (!run.dead.has(nodeId)) return 'already-running';
      run.dead.delete(nodeId);
      spawnNode(run, nodeId);
      const init = await sendInit(run, nodeId);
      const setup = init.ok ? await resendSetup(run, nodeId) : init;
      if (setup.ok) {
        run.workloadServices?.nodeEvent('started', nodeId);
        return 'started';
      }
      run.reportProblem({
        node: nodeId,
        kind: 'restart-failed',
        detail: `restarted by the kill nemesis, it ${setup.detail}`,
        stderrTail: run.nodes.get(nodeId)?.stderrTail() ?? [],
      });
      return init.ok ? 'setup-failed' : 'init-failed';
    },
    async pause(nodeId) {
      const node = run.nodes.get(nodeId);
      if (node === undefined || run.dead.has(nodeId)) return 'dead';
      if (paused.has(nodeId)) return 'already-paused';
      if (!run.backend.pause(node)) return 'not-running';
      paused.add(nodeId);
      run.workloadServices?.nodeEvent('paused', nodeId);
      return 'paused';
    },
    async resume(nodeId) {
      const node = run.nodes.get(nodeId);
      if (node === undefined || !paused.has(nodeId)) return 'not-paused';
      paused.delete(nodeId);
      run.backend.resume(node);
      run.workloadServices?.nodeEvent('resumed', nodeId);
      return 'resumed';
    },
  };
  return control;
}

async function initNodes(run: Run): Promise<void> {
  const results = await Promise.all(run.opts.nodes.map(async (nodeId) => ({ nodeId, init: await sendInit(run, nodeId) })));
  let failed = false;
  for (const { nodeId, init } of results) {
    if (init.ok) continue;
    failed = true;
    run.reportProblem({
      node: nodeId,
      kind: init.kind,
      detail: `${init.detail}; the test cannot start`,
      stderrTail: run.nodes.get(nodeId)?.stderrTail() ?? [],
    });
  }
  if (failed) throw new TestAborted('init failed');
}

/** A restarted node's own setup requests again (broadcast's topology, sched's cluster), in order. */
async function resendSetup(run: Run, nodeId: string): Promise<{ ok: true } | { ok: false; detail: string }> {
  for (const request of run.workload.setup?.(run.opts) ?? []) {
    if (request.dest !== nodeId) continue;
    const client = run.clients.open();
    const result = await client.rpc(nodeId, request.body, SETUP_TIMEOUT_MS);
    client.close();
    if (result.kind === 'reply' && result.body.type === request.replyType) continue;
    const answer = result.kind === 'timeout' ? `no ${request.replyType} within ${SETUP_TIMEOUT_MS / 1000} s` : previewJson(result.body);
    return { ok: false, detail: `answered its ${request.body.type} again with ${answer}` };
  }
  return { ok: true };
}

async function runSetup(run: Run): Promise<void> {
  const requests = run.workload.setup?.(run.opts) ?? [];
  const outcomes = await Promise.all(
    requests.map(async (request) => {
      const client = run.clients.open();
      const result = await client.rpc(request.dest, request.body, SETUP_TIMEOUT_MS);
      client.close();
      return { request, result };
    }),
  );
  let failed = false;
  for (const { request, result } of outcomes) {
    if (result.kind === 'reply' && result.body.type === request.replyType) continue;
    failed = true;
    run.reportProblem({
      node: request.dest,
      kind: 'setup-timeout',
      detail:
        result.kind === 'timeout'
          ? `did not answer ${request.body.type} with ${request.replyType} within ${SETUP_TIMEOUT_MS / 1000} s; the test cannot start`
          : `answered ${request.body.type} with ${previewJson(result.body)} instead of ${request.replyType}; the test cannot start`,
      stderrTail: run.nodes.get(request.dest)?.stderrTail() ?? [],
    });
  }
  if (failed) throw new TestAborted('setup failed');
}

// ---------------------------------------------------------------------------------------------

/**
 * The whole test's generator, composed as Maelstrom's core composes it: the workload's
 * operations staggered by --rate (or a sleep when the rate is 0) beside the nemesis schedule, cut
 * at --time-limit; then, for workloads with a final generator or a final-wait predicate, the
 * nemesis's final operations (heal), the recovery wait (ended early once finalDone() holds) and the
 * final operations.
 */
export function testGenerator(
  opts: TestOptions,
  workload: Workload,
  nemesis: { generator: Gen; finalGenerator: Gen; closingGenerator?: Gen },
  hooks: { phase(name: string, durationS: number | null): void },
  finalDone?: () => boolean,
): Gen {
  const limitNs = opts.timeLimitS * 1e9;
  const load = opts.rate > 0 ? stagger(1e9 / opts.rate, workload.generator(opts)) : sleep(limitNs);
  const main = timeLimit(limitNs, any(clients(load), onNemesis(nemesis.generator)));
  const final = workload.finalGenerator?.(opts);
  if (final === undefined && finalDone === undefined) {
    // No final phase: only our own faults (kill, pause) are ended after load (docs/nemesis.md §4).
    return phases(call(() => hooks.phase('load', opts.timeLimitS)), main, onNemesis(nemesis.closingGenerator ?? EMPTY));
  }
  const waitNs = opts.finalWaitS * 1e9;
  return phases(
    call(() => hooks.phase('load', opts.timeLimitS)),
    main,
    onNemesis(nemesis.finalGenerator),
    call(() => hooks.phase('final-wait', opts.finalWaitS)),
    finalDone === undefined ? sleep(waitNs) : sleepUntil(waitNs, FINAL_WAIT_POLL_NS, finalDone),
    call(() => hooks.phase('final', null)),
    ...(final === undefined ? [] : [clients(final)]),
  );
}

/** How often a workload's final-wait predicate is asked whether the run has recovered. */
export const FINAL_WAIT_POLL_NS = 100e6;

async function runGenerator(run: Run, progress: Progress, shouldStop: () => boolean): Promise<void> {
  const { opts, workload, clock, network } = run;
  const nemesis = createNemesis(
    { faults: opts.nemesis, intervalS: opts.nemesisIntervalS, limitNs: opts.timeLimitS * 1e9 },
    { nodes: opts.nodes, setGrudge: (grudge) => network.setGrudge(grudge), heal: () => network.heal(), ...processControl(run) },
    deriveRng(opts.seed, 'nemesis'),
  );
  const { finalWaitUntil } = workload;
  const finalDone = finalWaitUntil === undefined ? undefined : () => finalWaitUntil.call(workload, run.history, run.serviceEvents);
  const gen = testGenerator(
    opts,
    workload,
    nemesis,
    {
      phase(name, durationS) {
        if (name === 'final-wait') {
          run.say(`glomers: waiting ${finalDone === undefined ? '' : 'at most '}${opts.finalWaitS} s for recovery before final operations...`);
        }
        progress.setPhase(name, durationS === null ? null : clock.nowNs() + durationS * 1e9, clock.nowNs);
      },
    },
    finalDone,
  );

  // One client per thread, opened before load as Maelstrom's workers do; a thread whose process
  // crashed gets a fresh connection (a new client id) at its next operation.
  const threadClients: (WorkloadClient | null)[] = [];
  const connections: (Client | null)[] = [];
  const open = (thread: number): WorkloadClient => {
    const node = threadNode(clientTargets(workload, opts), thread);
    const client = run.clients.open();
    connections[thread] = client;
    const conn = { id: client.id, node, rpc: (body: Parameters<Client['rpc']>[1], timeoutMs: number) => client.rpc(node, body, timeoutMs) };
    const opened = workload.openClient(conn, opts);
    threadClients[thread] = opened;
    return opened;
  };
  for (let thread = 0; thread < opts.concurrency; thread++) open(thread);

  try {
    await interpret(gen, {
      clock,
      concurrency: opts.concurrency,
      rng: deriveRng(opts.seed, 'generator'),
      invokeClient: (thread, process, op) => (threadClients[thread] ?? open(thread)).invoke({ ...op, process }),
      invokeNemesis: (op) => nemesis.invoke(op),
      record: (op) => {
        const full = { index: run.history.length, ...op } as Op;
        run.history.push(full);
        run.historyFile?.append(historyLine(full));
        return full;
      },
      onProcessCrash(thread) {
        if (workload.reusableClient === true) return;
        connections[thread]?.close();
        connections[thread] = null;
        threadClients[thread] = null;
      },
      shouldStop,
    });
  } finally {
    for (const connection of connections) connection?.close();
  }
}

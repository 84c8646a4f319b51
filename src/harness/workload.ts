// The contract every workload module fulfils, in the shape of Maelstrom's own workloads: a
// generator (operations as values, see generator.ts), a client opened per process that turns an
// operation into RPCs and a completion, and a checker run once over the finished history.
import type { Gen, OpSpec } from './run/generator.js';
import type { OptionSpec } from './cli/options.js';
import type { Body, CheckResult, Completion, Json, Op, ServiceEvent, TestOptions } from './types.js';
import type { Explanation } from './check/explain.js';

export type { ServiceEvent };

export type RpcResult = { kind: 'reply'; body: Body } | { kind: 'timeout' };

/** A client's connection to its node (Maelstrom's c/open!): a fresh client id, one request at a time. */
export interface Connection {
  readonly id: string;
  readonly node: string;
  /** Sends body (msg_id added) and waits up to timeoutMs for the reply with the matching in_reply_to. */
  rpc(body: Body, timeoutMs: number): Promise<RpcResult>;
}

/** An operation as a client receives it. */
export interface ClientOp extends OpSpec {
  process: number;
}

/** Turns operations into RPCs; may keep state (kafka's offsets) and make several RPCs per op. */
export interface WorkloadClient {
  /**
   * The operation's completion. Throwing is allowed: the runner records the op as :info with the
   * error (Jepsen's indeterminate failure) and the process is replaced, as with any :info.
   */
  invoke(op: ClientOp): Promise<Completion>;
}

/** A request sent to one node before load starts, which must be answered in time (broadcast's topology). */
export interface SetupRequest {
  dest: string;
  body: Body;
  /** the reply type that completes it (anything else, or silence, aborts the test) */
  replyType: string;
}

/** What a workload service may do: the harness's clock, replies, timers and the event log. */
export interface ServiceContext {
  /** ms since the test started on the run's clock (virtual under --sim) */
  nowMs(): number;
  /** Sends body with in_reply_to to dest (dropped if dest is not registered); latency applies. */
  reply(dest: string, inReplyTo: number, body: Body): void;
  /** Calls fn once after delayMs on the run's clock; returns the cancel function. */
  after(delayMs: number, fn: () => void): () => void;
  /** Appends to service-events.jsonl, which checkers get as CheckContext.serviceEvents. */
  record(event: ServiceEvent): void;
}

export type NodeEventKind = 'killed' | 'started' | 'paused' | 'resumed';

/**
 * A service the harness answers for one workload (sched's exec), registered on the network beside
 * lin-kv and the rest: never partitioned, latency applies as to every message.
 */
export interface WorkloadService {
  /** its node id; must not clash with a node's, a client's (c...) or a built-in service's */
  readonly id: string;
  handle(request: { src: string; body: Body }, ctx: ServiceContext): void;
  /** what the nemesis did to a node ('started': restarted and initialised again) */
  onNodeEvent?(event: { kind: NodeEventKind; node: string }, ctx: ServiceContext): void;
}

export interface CheckContext {
  opts: TestOptions;
  /**
   * what the workload's services recorded, in order; the checking stage always sets it (empty for
   * workloads without services); optional only so hand-built contexts in tests need not
   */
  serviceEvents?: readonly ServiceEvent[];
  /** Date.now() by which the checker must answer; past it, answer valid? "unknown" with the reason */
  deadlineMs: number;
}

/** What a workload's checker returns: Maelstrom's `workload` section, and our own findings. */
export interface WorkloadVerdict {
  /** exactly the keys Maelstrom's checker writes under :workload */
  workload: CheckResult;
  /**
   * Ours (results' glomers.workload and the report): explanations, plot data, findings Maelstrom
   * misses. Its `valid?`, when present, counts toward the run's verdict.
   */
  extra?: { [key: string]: Json };
  /** Why the verdict is what it is, in facts and plots; the report and the summary show it (results' glomers.explanation). */
  explanation?: Explanation;
}

export interface Workload {
  /** Maelstrom's --workload name */
  readonly name: string;
  /** the flags this workload reads (opts.workloadOptions) */
  readonly options: readonly OptionSpec[];
  /** Why these options cannot run this workload (checked before anything starts), or undefined. */
  validate?(opts: TestOptions): string | undefined;
  /**
   * requests each node must answer before load starts; a node the kill nemesis restarts gets its
   * own again right after its init
   */
  setup?(opts: TestOptions): SetupRequest[];
  /** extra services the harness answers for this workload (one instance per run) */
  services?(opts: TestOptions): WorkloadService[];
  /** the nodes clients connect to, thread k to nodes[k mod length] (default: every node) */
  clientNodes?(opts: TestOptions): readonly string[];
  /**
   * Polled during the final wait (after healing): true ends the wait early, bounded by
   * --final-wait. A workload with this and no finalGenerator still gets the heal and the wait.
   */
  finalWaitUntil?(history: readonly Op[], serviceEvents: readonly ServiceEvent[]): boolean;
  /** --final-wait when the command line gives none (default 10 s, Maelstrom's) */
  readonly defaultFinalWaitS?: number;
  /** client operations during load; the runner adds --rate's stagger and --time-limit */
  generator(opts: TestOptions): Gen;
  /** client operations after the nemesis is healed and the recovery wait (Maelstrom's final generator) */
  finalGenerator?(opts: TestOptions): Gen;
  /** a client for one process on one node */
  openClient(conn: Connection, opts: TestOptions): WorkloadClient;
  /** true: keep the client when its process crashes (Jepsen's Reusable; lin-kv) */
  readonly reusableClient?: boolean;
  /**
   * true: the checker can take long (cycle search, linearizability), so it runs in a worker
   * thread that can be stopped at its budget; false or absent: it is linear in the history and
   * runs in the harness's thread, saving the worker's memory.
   */
  readonly slowChecker?: boolean;
  /**
   * Pieces of the checker that check/parallel.ts may run in worker threads, by task name (plain
   * data in and out); the check worker finds them here, through the registry.
   */
  readonly parallelTasks?: Readonly<Record<string, (input: never) => unknown>>;
  /** How report.html and the console summary show this workload's findings (a type-only reference to report/views/, so no import circle). */
  readonly view?: import('./report/views/types.js').WorkloadView;
  /** Runs in the checking stage, on the whole history. */
  check(history: readonly Op[], ctx: CheckContext): WorkloadVerdict | Promise<WorkloadVerdict>;
}

/** The nodes clients connect to: the workload's choice, every node by default. */
export function clientTargets(workload: Pick<Workload, 'clientNodes'> | undefined, opts: TestOptions): readonly string[] {
  return workload?.clientNodes?.(opts) ?? opts.nodes;
}

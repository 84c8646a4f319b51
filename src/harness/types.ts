// Shared vocabulary of the harness: test options, history operations, the network journal,
// and the contract every workload module fulfils. Modules of the harness talk to each other
// only through these types.

// The wire format is the runtime's: one definition of what a message is.
import type { Body, Json, Message } from '../lib/protocol.js';
export type { Body, Json, Message };

/** Any id whose first character is `c` is a client (Maelstrom's rule); client links have no latency. */
export function isClientId(id: string): boolean {
  return id.startsWith('c');
}

// ---------------------------------------------------------------------------------------------
// Test options: Maelstrom's `test` flags with Maelstrom's defaults (spec section 6), plus our own.

export type LatencyDist = 'constant' | 'uniform' | 'exponential';
export type Availability = 'total' | number;

export interface TestOptions {
  workload: string;
  bin: string;
  /** positional args passed through to the node binary */
  binArgs: string[];
  nodes: string[];
  concurrency: number;
  timeLimitS: number;
  rate: number;
  latencyMs: number;
  latencyDist: LatencyDist;
  nemesis: 'partition' | null;
  nemesisIntervalS: number;
  availability: Availability | null;
  topology: string;
  logStderr: boolean;
  logNetSend: boolean;
  logNetRecv: boolean;
  consistencyModels: string[];
  keyCount: number | null;
  maxTxnLength: number;
  maxWritesPerKey: number;
  /** ours: seed for every random choice of the harness (generator, latency, nemesis) */
  seed: number;
  /** ours: seconds the final phase waits after healing (Maelstrom: 10) */
  finalWaitS: number;
  /** ours: where results go (Maelstrom: store) */
  storeDir: string;
}

// ---------------------------------------------------------------------------------------------
// History: the same shape as Maelstrom's history.edn, one op per line in history.jsonl.

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface Op {
  index: number;
  /** ns since the test started */
  time: number;
  type: OpType;
  /** a client process number, or "nemesis" */
  process: number | 'nemesis';
  f: string;
  value: Json | undefined;
  'final?'?: boolean;
  /** why an op failed or is indeterminate, e.g. "net-timeout" or ["error", 11, "text"] */
  error?: Json;
  [key: string]: Json | undefined;
}

/** An operation a generator hands to a client, before it is invoked. */
export interface OpSpec {
  f: string;
  value: Json;
  final?: boolean;
}

/** How a client completes an operation. */
export interface Completion {
  type: 'ok' | 'fail' | 'info';
  value: Json;
  error?: Json;
}

// ---------------------------------------------------------------------------------------------
// Network journal: every send (even if later dropped) and every delivery.

export interface JournalEvent {
  kind: 'send' | 'recv';
  /** ns since the test started */
  timeNs: number;
  /** network-wide message id assigned by the harness (the inbound `id` field) */
  id: number;
  src: string;
  dest: string;
  body: Body;
}

// ---------------------------------------------------------------------------------------------
// Checkers

export type Validity = boolean | 'unknown';

export interface CheckResult {
  'valid?': Validity;
  [key: string]: Json | undefined;
}

/** Random source the harness threads through every random choice, so a seed replays a run. */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
}

// ---------------------------------------------------------------------------------------------
// Workloads: one module each (src/harness/workloads/<name>.ts), owning generator, client and checker.

/** A request the harness sends to one node during setup, which must be answered in time. */
export interface SetupRequest {
  dest: string;
  body: Body;
  /** the reply type that completes it (anything else, or silence, aborts the test) */
  replyType: string;
}

export interface Generator {
  /** The next operation for the given process, or undefined when the workload is exhausted. */
  next(process: number): OpSpec | undefined;
}

export interface Workload {
  readonly name: string;
  /** Maelstrom's RPC timeout for one client operation */
  rpcTimeoutMs(opts: TestOptions): number;
  /** true: after the time limit, heal, wait, then run finalOps on every worker */
  readonly hasFinalPhase: boolean;
  /** requests sent before load starts (broadcast's topology) */
  setup?(opts: TestOptions): SetupRequest[];
  generator(opts: TestOptions, rng: Rng): Generator;
  /** operations each worker runs in the final phase */
  finalOps?(process: number, opts: TestOptions): OpSpec[];
  /** the request body for an operation (the client adds msg_id) */
  request(op: OpSpec): Body;
  /**
   * Completion for a non-error reply. Throws a SchemaError when the body does not match the
   * workload's closed response schema (the client records the op as :info with the exception).
   */
  onReply(op: OpSpec, body: Body): Completion;
  /** Completion for an error reply (code) or a timeout (code 0, text "net-timeout"). */
  onError(op: OpSpec, code: number, text: string | undefined): Completion;
  check(history: Op[], opts: TestOptions): CheckResult;
}

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

// ---------------------------------------------------------------------------------------------
// What a finished run hands to the results/report stage.

/** How late the simulated network delivered messages against their deadlines. */
export interface LatenessStats {
  deliveries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** true when the harness fell behind enough to distort latencies (p99 above a few ms) */
  behind: boolean;
}

/** Something a node did wrong (crash, garbage on stdout, no init_ok), for the summary. */
export interface NodeProblem {
  node: string;
  kind: 'exit' | 'bad-line' | 'init-timeout' | 'init-error' | 'setup-timeout';
  detail: string;
  exitCode?: number | null;
  signal?: string | null;
  stderrTail: string[];
}

export interface RunOutput {
  opts: TestOptions;
  /** wall-clock start of the test, for the store folder name */
  startedAt: Date;
  /** the folder this run writes into (created by createStoreDir) */
  storeDir: string;
  history: Op[];
  journal: JournalEvent[];
  workloadResult: CheckResult;
  lateness: LatenessStats;
  problems: NodeProblem[];
}

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
/** What `--nemesis` can inject (comma-separated, as Maelstrom takes it). */
/** power: kills that are power cuts; disk: a full disk for a while, and kills that tear a last write (both --sim only: docs/simulation.md) */
export type NemesisFault = 'partition' | 'kill' | 'pause' | 'power' | 'disk';
export const NEMESIS_FAULTS: readonly NemesisFault[] = ['partition', 'kill', 'pause', 'power', 'disk'];

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
  nemesis: readonly NemesisFault[];
  nemesisIntervalS: number;
  availability: Availability | null;
  logStderr: boolean;
  logNetSend: boolean;
  logNetRecv: boolean;
  /** the chosen workload's own flags, by OptionSpec key (see options.ts) */
  workloadOptions: { readonly [key: string]: Json };
  /** ours: seed for every random choice of the harness (generator, latency, nemesis) */
  seed: number;
  /** ours: seconds the final phase waits after healing (Maelstrom: 10) */
  finalWaitS: number;
  /** ours: where results go (Maelstrom: store) */
  storeDir: string;
  /** ours: seconds the workload checker may take before its verdict is unknown */
  checkBudgetS?: number;
  /** ours: the Gossip Glomers challenge the run is graded against (--challenge; check/challenge.ts) */
  challenge?: string;
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
// Service event log: what a workload's own services (sched's exec) saw, for its checker.

/** One thing a workload service recorded, in order, into service-events.jsonl. */
export interface ServiceEvent {
  /** the service's node id (exec) */
  service: string;
  /** the node the event concerns (the one that asked, or was killed) */
  node: string;
  type: string;
  /** ms since the test started, on the run's clock (virtual under --sim) */
  timeMs: number;
  [key: string]: Json;
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
  /** share (0..1) of the load phase the harness's event loop was busy; absent in simulated runs */
  harnessBusy?: number;
  /** false when nobody measured it: analyze of a folder no glomers run wrote results into */
  measured?: false;
}

/**
 * What can go wrong with a node. restart-failed: a node the kill nemesis restarted did not answer
 * its new init; flood and not-draining: warnings (a node sent faster than its peer read, or stopped
 * reading its stdin).
 */
export const NODE_PROBLEM_KINDS = ['exit', 'bad-line', 'init-timeout', 'init-error', 'setup-timeout', 'restart-failed', 'flood', 'not-draining'] as const;

/** Something a node did wrong (crash, garbage on stdout, no init_ok), for the summary. */
export interface NodeProblem {
  node: string;
  kind: (typeof NODE_PROBLEM_KINDS)[number];
  detail: string;
  exitCode?: number | null;
  signal?: string | null;
  stderrTail: string[];
}

/** Sends and deliveries per scope (Maelstrom's :net), counted as the run goes. */
export interface NetCounts {
  all: { sends: number; recvs: number };
  clients: { sends: number; recvs: number };
  servers: { sends: number; recvs: number };
}

export interface RunOutput {
  opts: TestOptions;
  /** wall-clock start of the test, for the store folder name */
  startedAt: Date;
  /** the folder this run writes into (created by createStoreDir) */
  storeDir: string;
  history: Op[];
  /** what the workload's services recorded (service-events.jsonl), in order */
  serviceEvents?: ServiceEvent[];
  /** true: history.jsonl was streamed to the store folder as the run went */
  historyWritten?: boolean;
  /** message counts for :net (the whole journal is streamed to the store folder) */
  netCounts: NetCounts;
  /** the first events of the journal, for the message-flow diagram */
  journalHead: JournalEvent[];
  lateness: LatenessStats;
  problems: NodeProblem[];
  /** why the run stopped before its end (interrupted, a node flooded the harness), if it did */
  stoppedEarly?: string;
  /** true: run in the deterministic simulation (virtual time) */
  simulated?: boolean;
  /** why :net counts are not what the network saw (analyze of a folder without our journal) */
  netNote?: string;
}

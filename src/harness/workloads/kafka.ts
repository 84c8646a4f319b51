// Maelstrom's kafka workload (maelstrom.workload.kafka over jepsen.tests.kafka, Jepsen 0.3.7):
// append-only logs named by string keys. Each operation is one micro-op: a send of the next
// integer of a key, or a poll; now and then an assign of keys to poll and a crash of a client.
// The client keeps one offset per assigned key, commits what each poll returned, and the final
// phase reads every key from the beginning until each client has caught up with the highest
// offset any operation saw. Checked by the kafka checker (checkers/kafka.ts).
//
// Keys are integers inside the generator (Elle's key pool) and strings on the wire and in the
// history, as Maelstrom's StringKeys wrapper does; events are parsed back to integers.

import { checkKafkaWithReport, type KafkaReportData } from '../check/checkers/kafka.js';
import { any, eachThread, once, repeat, seq, stagger, timeLimit, type Gen, type GenContext, type OpSpec, type Step } from '../run/generator.js';
import { optionValue, UsageError, type OptionSpec } from '../cli/options.js';
import type { Completion, Json, Op, TestOptions } from '../types.js';
import type { ClientOp, Connection, Workload, WorkloadClient, WorkloadVerdict } from '../workload.js';
import { DEFAULT_RPC_TIMEOUT_MS, call, validateReply, withErrors } from './rpc.js';
import { S } from './reply-schema.js';
import { initialKeyPool, keyCountOption, maxWritesPerKeyOption, nextTxn, type KeyPool, type TxnParams } from './txn.js';
import { kafkaView } from '../report/views/kafka.js';
import { explainSafely } from '../check/explain.js';
import { explainKafka } from '../check/explain/kafka.js';

/** Jepsen's sub-p: the chance that an operation becomes an assign instead. */
export const ASSIGN_PROBABILITY = 1 / 64;
/** The share of assigns that also take every key sent but not yet polled (Jepsen's poll-unseen). */
export const UNSEEN_ASSIGN_PROBABILITY = 1 / 3;
/** Jepsen's crash-client-interval: one crash every 30 s per client, across all of them. */
export const CRASH_INTERVAL_S = 30;
/** Maelstrom clips the final phase to 10 s. */
export const FINAL_PHASE_LIMIT_S = 10;
/** Jepsen's final polls are staggered by 1/5 s. */
export const FINAL_POLL_GAP_S = 0.2;
/** The poll-ms Jepsen puts on each final poll (recorded in the history; Maelstrom's client ignores it). */
export const FINAL_POLL_MS = 1000;

export const KAFKA_OPTIONS: readonly OptionSpec[] = [keyCountOption, maxWritesPerKeyOption];

/** The key pool's settings for kafka: Elle's generator with transactions of one micro-op. */
export function kafkaParams(opts: TestOptions): TxnParams {
  const int = (spec: OptionSpec): number => {
    const value = optionValue(opts, spec);
    if (typeof value !== 'number') throw new UsageError(`--${spec.flag} expects an integer, got ${JSON.stringify(value)}`);
    return value;
  };
  return { keyCount: int(keyCountOption), maxTxnLength: 1, maxWritesPerKey: int(maxWritesPerKeyOption), writeF: 'append' };
}

// ---------------------------------------------------------------------------------------------
// Offsets in completed operations (Jepsen's op->max-poll-offsets / op->max-send-offsets)

type Offsets = ReadonlyMap<number, number>;

/** A history key back to the generator's integer; undefined for keys no generator made. */
export function parseKey(key: Json): number | undefined {
  if (typeof key === 'number') return Number.isSafeInteger(key) ? key : undefined;
  if (typeof key !== 'string' || !/^[+-]?\d{1,15}$/.test(key)) return undefined;
  return Number(key);
}

function mops(op: Op): Json[] {
  return Array.isArray(op.value) ? op.value : [];
}

/** Highest offset polled per key in an ok/info poll; a key polled with no messages counts as -1. */
export function maxPollOffsets(op: Op): Map<number, number> {
  const out = new Map<number, number>();
  if ((op.type !== 'ok' && op.type !== 'info') || op.f !== 'poll') return out;
  for (const mop of mops(op)) {
    if (!Array.isArray(mop) || mop[0] !== 'poll') continue;
    const msgs = mop[1];
    if (msgs === null || typeof msgs !== 'object' || Array.isArray(msgs)) continue;
    for (const [rawKey, pairs] of Object.entries(msgs)) {
      const key = parseKey(rawKey);
      if (key === undefined || !Array.isArray(pairs)) continue;
      let highest = -1;
      for (const pair of pairs) {
        const offset = Array.isArray(pair) ? pair[0] : undefined;
        if (typeof offset === 'number' && offset > highest) highest = offset;
      }
      out.set(key, Math.max(out.get(key) ?? -1, highest));
    }
  }
  return out;
}

/** Highest offset acknowledged per key in an ok/info send. */
export function maxSendOffsets(op: Op): Map<number, number> {
  const out = new Map<number, number>();
  if ((op.type !== 'ok' && op.type !== 'info') || op.f !== 'send') return out;
  for (const mop of mops(op)) {
    if (!Array.isArray(mop) || mop[0] !== 'send') continue;
    const key = parseKey(mop[1] ?? null);
    const written = mop[2];
    if (key === undefined || !Array.isArray(written) || typeof written[0] !== 'number') continue;
    out.set(key, Math.max(out.get(key) ?? 0, written[0]));
  }
  return out;
}

function mergeMax(into: Map<number, number>, from: Offsets): void {
  for (const [key, offset] of from) into.set(key, Math.max(into.get(key) ?? offset, offset));
}

/**
 * The highest offset seen per key by any ok operation during load (Jepsen's max-offsets atom):
 * the load generator writes it as completions arrive, the final phase reads it when it starts.
 */
export class SeenOffsets {
  private readonly offsets = new Map<number, number>();

  record(op: Op): void {
    if (op.type !== 'ok') return;
    mergeMax(this.offsets, maxPollOffsets(op));
    mergeMax(this.offsets, maxSendOffsets(op));
  }

  /** key -> highest offset, keys ascending */
  snapshot(): Map<number, number> {
    return new Map([...this.offsets].sort((a, b) => a[0] - b[0]));
  }
}

// ---------------------------------------------------------------------------------------------
// Load generator

interface LoadState {
  pool: KeyPool;
  /** per key, the highest offset sent (ok) while polls have not reached it */
  sent: Offsets;
  /** per key in `sent`, the highest offset polled (ok) */
  polled: Offsets;
}

/** Jepsen's poll-unseen update: fold in an ok op, then forget keys whose polls caught up. */
function trackUnseen(state: LoadState, event: Op): LoadState {
  if (event.type !== 'ok') return state;
  const sentNow = maxSendOffsets(event);
  const polledNow = maxPollOffsets(event);
  if (sentNow.size === 0 && polledNow.size === 0) return state;
  const sent = new Map(state.sent);
  const polled = new Map(state.polled);
  mergeMax(sent, sentNow);
  mergeMax(polled, polledNow);
  for (const key of new Set([...sent.keys(), ...polled.keys()])) {
    if ((polled.get(key) ?? -1) < (sent.get(key) ?? -1)) continue;
    sent.delete(key);
    polled.delete(key);
  }
  return { ...state, sent, polled };
}

/** An assign over `keys`; a third of the time also over every key sent but not yet polled. */
function assignSpec(ctx: GenContext, keys: readonly number[], state: LoadState): OpSpec {
  const addUnseen = ctx.rng.next() < UNSEEN_ASSIGN_PROBABILITY && state.sent.size > 0;
  if (!addUnseen) return { f: 'assign', value: keys.map(String) };
  const sentKeys = [...state.sent.keys()].sort((a, b) => a - b);
  const value = [...new Set([...sentKeys, ...keys])].map(String);
  // Jepsen records what the generator knew, for whoever reads the history.
  const unseen: { [key: string]: Json } = {};
  for (const key of sentKeys) unseen[String(key)] = { polled: state.polled.get(key) ?? -1, sent: state.sent.get(key) ?? -1 };
  return { f: 'assign', value, attrs: { unseen } };
}

function loadOps(params: TxnParams, state: LoadState, seen: SeenOffsets): Gen {
  return {
    op(ctx): Step {
      if (ctx.freeThreads.length === 0) return { kind: 'pending', next: this };
      const { txn, pool } = nextTxn(params, state.pool, ctx.rng);
      const [f, key, value] = txn[0] as [string, number, Json];
      let spec: OpSpec;
      let after = { ...state, pool };
      if (ctx.rng.next() < ASSIGN_PROBABILITY) {
        // The micro-op drawn is not used up: only its key goes into the assign.
        spec = assignSpec(ctx, [key], state);
        after = state;
      } else {
        spec = f === 'r' ? { f: 'poll', value: [['poll']] } : { f: 'send', value: [['send', String(key), value]] };
      }
      const step = once(spec).op(ctx);
      if (step.kind !== 'op') return { kind: 'pending', next: this };
      return { ...step, next: loadOps(params, after, seen) };
    },
    update(_ctx, event) {
      seen.record(event);
      const next = trackUnseen(state, event);
      return next === state ? this : loadOps(params, next, seen);
    },
  };
}

/** A crash of a random client about every CRASH_INTERVAL_S / concurrency seconds. */
function crashes(concurrency: number): Gen {
  return stagger((CRASH_INTERVAL_S * 1e9) / Math.max(1, concurrency), repeat(() => ({ f: 'crash', value: null })));
}

/** Send/poll/assign operations beside the crashes; the rate stagger is the runner's. */
export function kafkaLoadGenerator(opts: TestOptions, seen: SeenOffsets): Gen {
  const params = kafkaParams(opts);
  const load = loadOps(params, { pool: initialKeyPool(params.keyCount), sent: new Map(), polled: new Map() }, seen);
  // Jepsen's any: whichever has the soonest operation (a crash is due every few seconds).
  return any(crashes(opts.concurrency), load);
}

// ---------------------------------------------------------------------------------------------
// Final phase

/**
 * One thread's final reads (Jepsen's final-polls for one thread): crash the client, assign every
 * key from the beginning, then poll about every FINAL_POLL_GAP_S until an ok poll of this thread
 * has reached each key's target offset.
 */
export function finalPolls(targets: Offsets): Gen {
  const keys = [...targets.keys()].sort((a, b) => a - b).map(String);
  const steps = seq([
    once({ f: 'crash', value: null }),
    once({ f: 'assign', value: keys, attrs: { 'seek-to-beginning?': true } }),
    stagger(FINAL_POLL_GAP_S * 1e9, repeat(() => ({ f: 'poll', value: [['poll']], attrs: { 'poll-ms': FINAL_POLL_MS } }))),
  ]);
  return untilCaughtUp(targets, steps);
}

function untilCaughtUp(targets: Offsets, gen: Gen): Gen {
  return {
    op(ctx) {
      if (targets.size === 0) return { kind: 'done' };
      const step = gen.op(ctx);
      return step.kind === 'done' ? step : { ...step, next: untilCaughtUp(targets, step.next) };
    },
    update(ctx, event) {
      if (event.type !== 'ok' || event.f !== 'poll') return untilCaughtUp(targets, gen.update(ctx, event));
      let left: Map<number, number> | undefined;
      for (const [key, offset] of maxPollOffsets(event)) {
        if ((targets.get(key) ?? -1) > offset) continue;
        left ??= new Map(targets);
        left.delete(key);
      }
      return untilCaughtUp(left ?? targets, gen.update(ctx, event));
    },
  };
}

/** Every thread's final polls against the offsets seen when the phase starts, cut at 10 s. */
export function kafkaFinalGenerator(seen: () => SeenOffsets | undefined): Gen {
  const started = (targets: Offsets): Gen => timeLimit(FINAL_PHASE_LIMIT_S * 1e9, eachThread(() => finalPolls(targets)));
  // Jepsen's delay: the targets are read when the phase first asks, after load has finished.
  return {
    op(ctx) {
      return started(seen()?.snapshot() ?? new Map()).op(ctx);
    },
    update() {
      return this;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Client

const RPC_TIMEOUT_MS = DEFAULT_RPC_TIMEOUT_MS;

/** poll_ok's msgs, as Maelstrom's schema has them: a map of key to null or a list of [offset, msg]. */
const POLL_OK = { msgs: S.map(S.seq(S.tuple(S.int, S.any))) };
const LIST_COMMITTED_OK = { offsets: S.map(S.int) };

/**
 * Maelstrom's kafka client, one per process. `offsets` holds, per assigned key, the offset the
 * next poll asks for; it starts empty, so polls before the first assign send `{}`.
 */
export class KafkaClient implements WorkloadClient {
  private offsets = new Map<string, number>();

  constructor(private readonly conn: Connection) {}

  /** the offsets the next poll asks for (for tests) */
  pollOffsets(): { [key: string]: number } {
    return Object.fromEntries(this.offsets);
  }

  invoke(op: ClientOp): Promise<Completion> {
    // Only assign is idempotent: any error or timeout means it did not happen.
    return withErrors(op, op.f === 'assign', () => this.run(op));
  }

  private async run(op: ClientOp): Promise<Completion> {
    switch (op.f) {
      case 'crash':
        return { type: 'info', value: op.value };
      case 'assign':
        await this.assign(op);
        return { type: 'ok', value: op.value };
      case 'send':
        return { type: 'ok', value: [await this.send(op)] };
      case 'poll':
        return { type: 'ok', value: [await this.poll()] };
      default:
        throw new Error(`kafka client: unknown operation ${op.f}`);
    }
  }

  private async assign(op: ClientOp): Promise<void> {
    const keys = (Array.isArray(op.value) ? op.value : []).map(String);
    if (op.attrs?.['seek-to-beginning?'] === true) {
      this.offsets = new Map(keys.map((key) => [key, 0]));
      return;
    }
    const request = { type: 'list_committed_offsets', keys };
    validateReply(request, await call(this.conn, request, RPC_TIMEOUT_MS), 'list_committed_offsets_ok', LIST_COMMITTED_OK);
    // Maelstrom looks a new key up in the reply body rather than its offsets map, so the committed
    // offset is never found and a new key starts at 0; keys already assigned keep their offset.
    this.offsets = new Map(keys.map((key) => [key, this.offsets.get(key) ?? 0]));
  }

  private async send(op: ClientOp): Promise<Json> {
    const mop = (Array.isArray(op.value) ? op.value[0] : undefined) as [string, string, Json] | undefined;
    if (mop === undefined || mop[0] !== 'send') throw new Error(`kafka client: a send needs [["send", key, msg]], got ${JSON.stringify(op.value)}`);
    const [, key, msg] = mop;
    const request = { type: 'send', key, msg };
    const reply = await call(this.conn, request, RPC_TIMEOUT_MS);
    validateReply(request, reply, 'send_ok', { offset: S.int });
    return ['send', key, [reply.offset ?? null, msg]];
  }

  private async poll(): Promise<Json> {
    const request = { type: 'poll', offsets: Object.fromEntries(this.offsets) };
    const reply = await call(this.conn, request, RPC_TIMEOUT_MS);
    validateReply(request, reply, 'poll_ok', POLL_OK);
    const msgs = reply.msgs as { [key: string]: Array<[number, Json]> | null };
    const highest = new Map<string, number>();
    for (const [key, pairsOrNull] of Object.entries(msgs)) {
      // The next poll of a key starts after the highest offset returned (0 for an empty list or
      // null, which Maelstrom's schema takes for "nothing"); the history keeps what was said.
      const pairs = pairsOrNull ?? [];
      const top = pairs.reduce<number>((max, pair) => Math.max(max, pair[0]), -1);
      this.offsets.set(key, Math.max(this.offsets.get(key) ?? top + 1, top + 1));
      if (pairs.length > 0) highest.set(key, Math.max(0, top));
    }
    if (highest.size > 0) {
      const commit = { type: 'commit_offsets', offsets: Object.fromEntries(highest) };
      validateReply(commit, await call(this.conn, commit, RPC_TIMEOUT_MS), 'commit_offsets_ok', {});
    }
    return ['poll', msgs];
  }
}

// ---------------------------------------------------------------------------------------------
// Checker and report data

/** Bounds on what goes into results.json's glomers.workload (the full analysis is in the checker). */
export const MAX_LAG_POINTS = 4000;
export const MAX_ERRORS_PER_TYPE = 50;
export const MAX_LIST_IN_ERROR = 32;

/**
 * The checker's report data cut to a size fit for results.json: each key's lag series merged
 * into coarser buckets (keeping each bucket's worst lag) until all keys fit in MAX_LAG_POINTS, and
 * at most MAX_ERRORS_PER_TYPE errors of each type with their counts.
 */
export function compactReport(report: KafkaReportData): { [key: string]: Json } {
  const total = report.lag.reduce((sum, series) => sum + series.points.length, 0);
  const factor = Math.max(1, Math.ceil(total / MAX_LAG_POINTS));
  const lag = report.lag.map(({ key, points }) => ({ key, points: coarsen(points, factor) }));
  const perType = new Map<string, number>();
  const errors: Json[] = [];
  for (const error of report.errors) {
    const shown = perType.get(error.type) ?? 0;
    if (shown >= MAX_ERRORS_PER_TYPE) continue;
    perType.set(error.type, shown + 1);
    errors.push({
      type: error.type,
      key: error.key,
      offsets: error.offsets.slice(0, MAX_LIST_IN_ERROR),
      ops: error.ops.slice(0, MAX_LIST_IN_ERROR),
      text: error.text,
    });
  }
  return { 'realtime-lag': lag, errors, 'error-counts': report.errorCounts };
}

/** Merges each run of `factor` points into one: the first point's time, the worst lag. */
function coarsen(points: ReadonlyArray<[number, number]>, factor: number): Json {
  if (factor === 1) return points.map(([t, lag]) => [t, lag]);
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i += factor) {
    const run = points.slice(i, i + factor);
    out.push([run[0]![0], Math.max(...run.map((p) => p[1]))]);
  }
  return out;
}

export function checkKafkaWorkload(history: readonly Op[], deadlineMs: number, opts?: TestOptions): WorkloadVerdict {
  const { result, report } = checkKafkaWithReport(history, { deadlineMs });
  const verdict: WorkloadVerdict = { workload: result, extra: compactReport(report) };
  if (opts !== undefined) verdict.explanation = explainSafely(() => explainKafka(history, result, report, opts));
  return verdict;
}

// ---------------------------------------------------------------------------------------------
// The workload

/**
 * The load generator hands the offsets it saw to the final phase (Jepsen's shared atom); the two
 * generators are built separately from the same options, so the link is kept per options object.
 */
const seenByRun = new WeakMap<TestOptions, SeenOffsets>();

export const kafkaWorkload: Workload = {
  name: 'kafka',
  options: KAFKA_OPTIONS,
  generator(opts) {
    const seen = new SeenOffsets();
    seenByRun.set(opts, seen);
    return kafkaLoadGenerator(opts, seen);
  },
  finalGenerator: (opts) => kafkaFinalGenerator(() => seenByRun.get(opts)),
  openClient: (conn) => new KafkaClient(conn),
  // Jepsen's kafka client is not reusable: a crashed process gets a fresh client with no offsets.
  reusableClient: false,
  slowChecker: true,
  check: (history, ctx) => checkKafkaWorkload(history, ctx.deadlineMs, ctx.opts),
  view: kafkaView,
};

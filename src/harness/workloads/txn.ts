// The transaction workloads, txn-rw-register and txn-list-append (docs/protocol.md §3): each operation
// is one transaction of reads and writes (or appends) over a small pool of integer keys, sent as
// one `txn` request; the reply's transaction is recorded as the server gave it, and Elle's
// checkers judge the history against --consistency-models.
//
// The generator is Elle 0.2.2's wr-txns (the version Maelstrom ships): lengths uniform in
// 1..max, reads and writes 50/50, keys drawn from `key-count` active slots with an exponential
// skew towards the higher slots, write values per key 1, 2, 3, ... and, once a key has had
// max-writes-per-key writes, the next write to it retires it for a fresh key.

import type { CheckResult, Json, Op, Rng, TestOptions } from '../types.js';
import { SchemaError } from '../types.js';
import type { Workload, WorkloadVerdict } from '../workload.js';
import { once, type Gen } from '../run/generator.js';
import { flagOption, intOption, optionValue, UsageError, type OptionSpec } from '../cli/options.js';
import { checkListAppend, checkRwRegister, type ElleOptions, type TxnCheckResult } from '../check/checkers/elle/index.js';
import { UnknownModelError, validateModels } from '../check/checkers/elle/models.js';
import { singleRpcClient, validateReply } from './rpc.js';
import { S } from './reply-schema.js';
import { txnView } from '../report/views/txn.js';
import { explainSafely, explanation } from '../check/explain.js';

/** A micro-operation: [f, key, value]; reads go out with a null value. */
export type Mop = [string, Json, Json];

/** What distinguishes the two workloads. */
export interface TxnKind {
  /** Maelstrom's --workload name */
  name: 'txn-rw-register' | 'txn-list-append';
  /** the micro-op function of a write: "w" or "append" */
  writeF: 'w' | 'append';
  check(history: readonly Op[], options: ElleOptions): TxnCheckResult;
}

// ---------------------------------------------------------------------------------------------
// Options

export const DEFAULT_CONSISTENCY_MODELS: readonly string[] = ['strict-serializable'];

/**
 * Maelstrom's parsing of --consistency-models: split only on a comma with whitespace on both
 * sides (`\s+,\s+`), nothing trimmed or checked. So "a,b" is one model named "a,b", which Elle
 * does not know, and the check answers unknown (docs/checkers.md §3).
 */
export function parseConsistencyModels(raw: string): string[] {
  return raw.split(/\s+,\s+/);
}

export const consistencyModelsOption: OptionSpec = {
  flag: 'consistency-models',
  key: 'consistencyModels',
  help:
    'models to check, e.g. read-uncommitted, read-committed, serializable (default strict-serializable); ' +
    'separate several with spaces around the comma, quoted: "read-committed , serializable"',
  valueName: 'MODELS',
  default: [...DEFAULT_CONSISTENCY_MODELS],
  // Maelstrom accepts any name and answers unknown after the whole run; we refuse it up front.
  parse: (raw) => {
    const models = parseConsistencyModels(raw);
    try {
      validateModels(models);
    } catch (err) {
      if (!(err instanceof UnknownModelError)) throw err;
      const unknown = models.filter((model) => !isKnownModel(model));
      throw new UsageError(
        `--consistency-models: unknown model ${unknown.map((m) => JSON.stringify(m)).join(', ')}` +
          `${raw.includes(',') ? ' (several models are separated by " , " with spaces)' : ''}; e.g. read-uncommitted, read-committed, serializable, strict-serializable`,
      );
    }
    return models;
  },
};

function isKnownModel(model: string): boolean {
  try {
    validateModels([model]);
    return true;
  } catch {
    return false;
  }
}

/** Elle's default for its exponential key distribution. */
export const DEFAULT_KEY_COUNT = 10;
/**
 * Above this the skew makes extra keys meaningless (slot i is 2^(n-1-i) times rarer than the top
 * one) and 2^key-count leaves the range of a double.
 */
export const MAX_KEY_COUNT = 1000;
/** Bounds that keep a typo from generating transactions nobody can serve. */
export const MAX_TXN_LENGTH = 10_000;
export const MAX_WRITES_PER_KEY = 1_000_000_000;

export const keyCountOption = intOption(
  'key-count',
  'keyCount',
  `keys in use at any time, the higher ones exponentially more likely (default ${DEFAULT_KEY_COUNT})`,
  DEFAULT_KEY_COUNT,
  { min: 1, max: MAX_KEY_COUNT },
);
export const maxTxnLengthOption = intOption(
  'max-txn-length',
  'maxTxnLength',
  'most micro-ops per transaction; lengths are uniform in 1..N (default 4)',
  4,
  { min: 1, max: MAX_TXN_LENGTH },
);
export const maxWritesPerKeyOption = intOption(
  'max-writes-per-key',
  'maxWritesPerKey',
  'writes (values 1..N) per key before the key is replaced by a fresh one (default 16)',
  16,
  { min: 1, max: MAX_WRITES_PER_KEY },
);
export const strictOption = flagOption(
  'strict',
  'strict',
  "let glomers' own findings (G0 under read-uncommitted in rw-register, txn_ok replies that drop or " +
    'alter micro-ops, reads answered as writes) make the run invalid; without it they are only reported',
);

export const TXN_OPTIONS: readonly OptionSpec[] = [consistencyModelsOption, keyCountOption, maxTxnLengthOption, maxWritesPerKeyOption, strictOption];

export interface TxnParams {
  keyCount: number;
  maxTxnLength: number;
  maxWritesPerKey: number;
  writeF: 'w' | 'append';
}

function intParam(opts: TestOptions, spec: OptionSpec): number {
  const value = optionValue(opts, spec);
  if (typeof value !== 'number') throw new UsageError(`--${spec.flag} expects an integer, got ${JSON.stringify(value)}`);
  return value;
}

export function txnParams(opts: TestOptions, writeF: 'w' | 'append'): TxnParams {
  return {
    keyCount: intParam(opts, keyCountOption),
    maxTxnLength: intParam(opts, maxTxnLengthOption),
    maxWritesPerKey: intParam(opts, maxWritesPerKeyOption),
    writeF,
  };
}

export function consistencyModels(opts: TestOptions): string[] {
  const value = optionValue(opts, consistencyModelsOption);
  if (Array.isArray(value) && value.every((m): m is string => typeof m === 'string')) return value;
  return [...DEFAULT_CONSISTENCY_MODELS];
}

export function strictMode(opts: TestOptions): boolean {
  return optionValue(opts, strictOption) === true;
}

// ---------------------------------------------------------------------------------------------
// Generator

/** The generator's memory: which key each slot holds, and the value its next write takes. */
export interface KeyPool {
  readonly activeKeys: readonly number[];
  readonly nextValues: readonly number[];
  /** a retired key's slot gets this key (always one more than every key so far) */
  readonly freshKey: number;
}

export function initialKeyPool(keyCount: number): KeyPool {
  return {
    activeKeys: Array.from({ length: keyCount }, (_, k) => k),
    nextValues: Array.from({ length: keyCount }, () => 1),
    freshKey: keyCount,
  };
}

/**
 * Elle's exponential slot choice with base 2: slot i has weight 2^i, so the last slot is drawn
 * about half the time. Draws u in [0, scale) with scale = 2(2^n - 1) and takes
 * floor(log2(u + 2)) - 1, clamped against rounding at the top.
 */
export function exponentialSlot(rng: Rng, keyCount: number): number {
  const scale = 2 * (2 ** keyCount - 1);
  const slot = Math.floor(Math.log2(rng.next() * scale + 2)) - 1;
  return Math.min(Math.max(slot, 0), keyCount - 1);
}

/** One transaction and the pool after it (Elle's wr-txns step); `pool` itself is left as it was. */
export function nextTxn(params: TxnParams, pool: KeyPool, rng: Rng): { txn: Mop[]; pool: KeyPool } {
  const length = 1 + rng.int(params.maxTxnLength);
  const txn: Mop[] = [];
  // Copied at the first write, so a read-only transaction shares the pool it was given.
  let draft: { activeKeys: number[]; nextValues: number[]; freshKey: number } | undefined;
  const writable = (): { activeKeys: number[]; nextValues: number[]; freshKey: number } =>
    (draft ??= { activeKeys: [...pool.activeKeys], nextValues: [...pool.nextValues], freshKey: pool.freshKey });
  while (txn.length < length) {
    const write = rng.int(2) === 1;
    const current = draft ?? pool;
    const slot = exponentialSlot(rng, current.activeKeys.length);
    const key = current.activeKeys[slot] as number;
    if (!write) {
      txn.push(['r', key, null]);
      continue;
    }
    const next = writable();
    const value = next.nextValues[slot] as number;
    if (value > params.maxWritesPerKey) {
      // Retired: the slot takes a fresh key, and this micro-op is drawn again from scratch.
      next.activeKeys[slot] = next.freshKey++;
      next.nextValues[slot] = 1;
      continue;
    }
    next.nextValues[slot] = value + 1;
    txn.push([params.writeF, key, value]);
  }
  return { txn, pool: draft ?? pool };
}

/**
 * One endless sequence of transactions shared by every client thread (Elle's gen is a single lazy
 * sequence); the pool advances only with an operation actually handed out.
 */
export function txnGenerator(params: TxnParams, pool: KeyPool = initialKeyPool(params.keyCount)): Gen {
  return {
    op(ctx) {
      if (ctx.freeThreads.length === 0) return { kind: 'pending', next: this };
      const { txn, pool: after } = nextTxn(params, pool, ctx.rng);
      const step = once({ f: 'txn', value: txn }).op(ctx);
      if (step.kind !== 'op') return { kind: 'pending', next: this };
      return { ...step, next: txnGenerator(params, after) };
    },
    update() {
      return this;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Client

/**
 * Maelstrom's response schema for the txn array (prismatic schema): every micro-op a 3-element
 * array, either a read ["r", any key, value] or a write [writeF, any key, any value]; a
 * list-append read's value must be a list or null. Which micro-ops come back, in which order and
 * with which write values, is not checked here (Maelstrom does not either); the checker's
 * glomers section reports replies that drop or alter micro-ops.
 */
export function txnSchemaProblems(txn: readonly Json[], kind: TxnKind): string[] {
  const problems: string[] = [];
  txn.forEach((mop, index) => {
    const where = `txn[${index}]`;
    if (!Array.isArray(mop)) {
      problems.push(`${where}: not a [f, k, v] array`);
      return;
    }
    if (mop.length !== 3) {
      problems.push(`${where}: ${mop.length} elements instead of 3 ([f, k, v])`);
      return;
    }
    const [f, , v] = mop;
    if (f === 'r') {
      if (kind.writeF === 'append' && v !== null && !Array.isArray(v)) problems.push(`${where}: a read's value must be a list or null`);
      return;
    }
    if (f !== kind.writeF) problems.push(`${where}: f must be "r" or "${kind.writeF}", got ${JSON.stringify(f)}`);
  });
  return problems;
}

function txnClient(kind: TxnKind): Workload['openClient'] {
  return singleRpcClient({
    request: (op) => ({ type: 'txn', txn: op.value }),
    reply(op, body) {
      const request = { type: 'txn', txn: op.value };
      validateReply(request, body, 'txn_ok', { txn: S.seq(S.any) });
      // Maelstrom's client maps over the reply's txn, so a null txn is recorded as [].
      const txn = (body.txn ?? []) as Json[];
      const problems = txnSchemaProblems(txn, kind);
      if (problems.length > 0) {
        throw new SchemaError(
          `Malformed RPC response. Request ${JSON.stringify(request)} expects a "txn_ok" body whose txn holds ` +
            `["r", k, v] and ["${kind.writeF}", k, v] micro-ops, but received ${JSON.stringify(body)}: ${problems.join('; ')}`,
        );
      }
      // Maelstrom records what the server said, not what was asked.
      return { type: 'ok', value: txn };
    },
    // Nothing is idempotent (Maelstrom's with-errors #{}): a transaction may have written.
  });
}

// ---------------------------------------------------------------------------------------------
// Check

/**
 * The checker's glomers section as our results' extra. Its valid? counts toward the run's
 * verdict (results.ts), so without --strict it is kept only as `strict-valid?`: default runs
 * keep Maelstrom's verdict, and the findings are still reported.
 */
export function glomersExtra(glomers: TxnCheckResult['glomers'], strict: boolean): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(glomers)) {
    if (value === undefined) continue;
    out[!strict && key === 'valid?' ? 'strict-valid?' : key] = value;
  }
  return out;
}

export function checkTxn(kind: TxnKind, history: readonly Op[], opts: TestOptions, deadlineMs: number): WorkloadVerdict {
  const strict = strictMode(opts);
  const r = kind.check(history, { consistencyModels: consistencyModels(opts), deadlineMs, strict });
  return { workload: r.workload, extra: glomersExtra(r.glomers, strict), explanation: explainSafely(() => explanation(txnHeadline(r.workload), [])) };
}

/** The txn verdict in one sentence, from Maelstrom's keys; the anomalies themselves are drawn by the txn view. */
function txnHeadline(workload: CheckResult): string {
  const words = (key: string): string[] => (Array.isArray(workload[key]) ? (workload[key] as Json[]).map(String) : []);
  const anomalies = words('anomaly-types');
  if (workload['valid?'] === 'unknown') return `The transaction checker could not decide: ${String(workload['error'] ?? 'no reason given')}.`;
  if (anomalies.length === 0) return 'No anomalies: the history is consistent with the models checked.';
  // `not` holds the weakest models ruled out; `also-not` only what follows from them
  const not = words('not');
  return `The history shows ${anomalies.join(', ')}${not.length > 0 ? `, so it is not ${not.join(' or ')}` : ''}; each anomaly is drawn below.`;
}

// ---------------------------------------------------------------------------------------------
// The two workloads

function txnWorkload(kind: TxnKind): Workload {
  return {
    name: kind.name,
    options: TXN_OPTIONS,
    generator: (opts) => txnGenerator(txnParams(opts, kind.writeF)),
    openClient: txnClient(kind),
    // Maelstrom's txn clients are Reusable: a crashed process keeps its connection.
    reusableClient: true,
    slowChecker: true,
    check: (history, ctx) => checkTxn(kind, history, ctx.opts, ctx.deadlineMs),
    view: txnView,
  };
}

export const RW_REGISTER: TxnKind = { name: 'txn-rw-register', writeF: 'w', check: checkRwRegister };
export const LIST_APPEND: TxnKind = { name: 'txn-list-append', writeF: 'append', check: checkListAppend };

export const txnRwRegisterWorkload: Workload = txnWorkload(RW_REGISTER);
export const txnListAppendWorkload: Workload = txnWorkload(LIST_APPEND);

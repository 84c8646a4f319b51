// Turns a search outcome into Knossos' result keys (valid?, configs, final-paths, previous-ok,
// last-op, op) and into our own `explanation`: the key's operations as bars, one longest
// linearizable prefix, the operation that cannot be placed and the register values possible there.

import type { Json, Op } from '../../../types.js';
import { compareValues, jsonEqual, opRecord } from '../json-values.js';
import type { ConfigCache } from './cache.js';
import type { PreparedCall, PreparedHistory } from './prepare.js';

/** Jepsen truncates both lists to 10 ("writing these can take hours"). */
export const REPORTED_LIMIT = 10;
/** Bound on the steps tried while building final paths (the orders grow factorially). */
const FINAL_PATH_SEARCH_NODES = 20_000;

export type Model = { value: Json } | { msg: string };
export type RenderedConfig = { model: Model; 'last-op': Json; pending: Json[] };
export type PathStep = { op: Json; model: Model };

export type LinearizableAnalysis =
  | { 'valid?': true; configs: RenderedConfig[]; 'final-paths': PathStep[][] }
  | {
      'valid?': false;
      configs: RenderedConfig[];
      'final-paths': PathStep[][];
      'previous-ok': Json;
      'last-op': Json;
      op: Json;
    }
  | { 'valid?': 'unknown'; cause: string };

export type Bar = {
  /** the invocation's history index, which names the operation everywhere in the explanation */
  id: number;
  process: number;
  'invoke-ns': number;
  /** null when the history ends with the operation still running */
  'complete-ns': number | null;
  f: string;
  value: Json;
  type: 'ok' | 'fail' | 'info';
};

export type Explanation = {
  key: Json;
  summary: string;
  /** the key's operations nearest the blocked one, at most MAX_EXPLANATION_BARS */
  bars: Bar[];
  /** how many operations the key has, and the position of the first kept bar among them */
  'bar-count': number;
  'bars-from': number;
  /** one order in which every operation that completed before the blocked one could take effect */
  'linearized-prefix': Array<{ id: number; 'value-after': Json }>;
  /** how many operations completed before the blocked one: all of them must be in the prefix */
  'required-before': number;
  'blocked-op': number;
  /** the register values possible after any linearizable order of those operations */
  'possible-values': Json[];
};

/** Bars kept in the results for a key: enough to draw around the blocked op, bounded whatever the history. */
export const MAX_EXPLANATION_BARS = 200;

/** The bars nearest the blocked op (by position), so results.json does not grow with the key's history. */
function barsAround(bars: Bar[], blockedIndex: number): { bars: Bar[]; 'bar-count': number; 'bars-from': number } {
  const at = Math.max(0, bars.findIndex((bar) => bar.id === blockedIndex));
  const from = Math.max(0, Math.min(bars.length - MAX_EXPLANATION_BARS, at - MAX_EXPLANATION_BARS / 2));
  return { bars: bars.slice(from, from + MAX_EXPLANATION_BARS), 'bar-count': bars.length, 'bars-from': from };
}

// ---------------------------------------------------------------------------------------------
// Register semantics on values, with Knossos' messages, for paths shown to people.

/** Clojure's `str` of a value as Knossos puts it into its messages (nil prints as nothing). */
function clojureStr(value: Json): string {
  if (value === null) return '';
  if (Array.isArray(value)) return `[${value.map(clojurePrint).join(' ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function clojurePrint(value: Json): string {
  if (value === null) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  return clojureStr(value);
}

function compareSafe(a: Json, b: Json): number {
  try {
    return compareValues(a, b);
  } catch {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
}

function stepModel(model: Model, f: string, value: Json): Model {
  if (!('value' in model)) return model;
  const current = model.value;
  if (f === 'write') return { value };
  if (f === 'cas') {
    const [from, to] = Array.isArray(value) ? value : [null, null];
    if (jsonEqual(from ?? null, current)) return { value: to ?? null };
    return { msg: `can't CAS ${clojureStr(current)} from ${clojureStr(from ?? null)} to ${clojureStr(to ?? null)}` };
  }
  if (value === null || jsonEqual(value, current)) return model;
  return { msg: `can't read ${clojureStr(value)} from register ${clojureStr(current)}` };
}

// ---------------------------------------------------------------------------------------------
// Rendering operations the way Knossos prints them.

function renderInvoke(call: PreparedCall): Json {
  return opRecord(call.invoke, { value: call.value });
}

function renderCompletion(call: PreparedCall): Json {
  return call.completion ? opRecord(call.completion) : opRecord(call.invoke, { type: 'info' });
}

/** Which calls a configuration key (see search.ts) has linearized. */
function linearizedIn(key: Int32Array, okCount: number): (id: number) => boolean {
  const okLow = key[1]!;
  const okWords = key[2]!;
  const pendingAt = 3 + okWords;
  const pendingLow = key[pendingAt]!;
  const pendingWords = key.length - pendingAt - 1;
  const inWindow = (i: number, low: number, at: number, words: number): boolean => {
    if (i < low) return true;
    const w = (i >>> 5) - (low >>> 5);
    return w < words && (key[at + w]! & (1 << (i & 31))) !== 0;
  };
  return (id) =>
    id < okCount ? inWindow(id, okLow, 3, okWords) : inWindow(id - okCount, pendingLow, pendingAt + 1, pendingWords);
}

// ---------------------------------------------------------------------------------------------

export function validAnalysis(prepared: PreparedHistory, order: number[], finalState: number): LinearizableAnalysis {
  const linearized = new Set(order.map((id) => prepared.calls[id]!));
  const last = order.length > 0 ? prepared.calls[order[order.length - 1]!]! : undefined;
  const pending = prepared.all.filter((c) => c.outcome !== 'fail' && !linearized.has(c)).map(renderInvoke);
  return {
    'valid?': true,
    configs: [
      {
        model: { value: prepared.stateValues[finalState] ?? null },
        'last-op': last ? renderCompletion(last) : null,
        pending,
      },
    ],
    'final-paths': [],
  };
}

interface BlockedConfig {
  offset: number;
  state: number;
  has: (id: number) => boolean;
}

interface InvalidReport {
  analysis: LinearizableAnalysis;
  explanation: Explanation;
}

export function invalidReport(
  history: readonly Op[],
  prepared: PreparedHistory,
  cache: ConfigCache,
  blockedCall: number,
  key: Json,
): InvalidReport {
  const blocked = prepared.calls[blockedCall]!;
  const configs: BlockedConfig[] = [];
  for (const offset of cache.offsets()) {
    const configKey = cache.keyOf(offset);
    if (configKey[1] !== blockedCall) continue;
    configs.push({ offset, state: configKey[0]!, has: linearizedIn(configKey, prepared.okCount) });
  }
  const idOf = new Map(prepared.calls.map((call, id) => [call, id]));
  const isLinearized = (config: BlockedConfig, call: PreparedCall): boolean => {
    const id = idOf.get(call);
    return id !== undefined && config.has(id);
  };
  const lastCallOf = (config: BlockedConfig): PreparedCall | undefined => prepared.calls[cache.lastCallOf(config.offset)];

  // calls under way when the blocked call completed
  const underWay = prepared.all.filter(
    (c) => c.outcome !== 'fail' && c.invokePos < blocked.completionPos && c.completionPos >= blocked.completionPos,
  );
  const renderConfig = (config: BlockedConfig): RenderedConfig => {
    const last = lastCallOf(config);
    return {
      model: { value: prepared.stateValues[config.state] ?? null },
      'last-op': last ? renderCompletion(last) : null,
      pending: underWay.filter((c) => !isLinearized(config, c)).map(renderInvoke),
    };
  };

  let lastOp: Json = null;
  let lastOpIndex = -1;
  for (const config of configs) {
    const last = lastCallOf(config);
    const rendered = last ? renderCompletion(last) : null;
    const index = last ? (last.completion ?? last.invoke).index : -1;
    if (index > lastOpIndex) {
      lastOpIndex = index;
      lastOp = rendered;
    }
  }

  const shown = configs.slice(0, REPORTED_LIMIT);
  const finalPaths = collectFinalPaths(shown, blocked, underWay, (config, call) => isLinearized(config, call), lastCallOf, prepared);

  const analysis: LinearizableAnalysis = {
    'valid?': false,
    configs: shown.map(renderConfig),
    'final-paths': finalPaths,
    'previous-ok': previousOk(history, blocked.completionPos),
    'last-op': lastOp,
    op: renderCompletion(blocked),
  };
  return { analysis, explanation: explain(prepared, cache, configs, blocked, blockedCall, key) };
}

function previousOk(history: readonly Op[], position: number): Json {
  for (let i = position - 1; i >= 0; i--) {
    const op = history[i]!;
    if (op.type === 'ok') return opRecord(op);
  }
  return null;
}

/**
 * Knossos' final paths: from each configuration, apply the calls still under way (not the blocked
 * one's process) in every order of every subset, then the blocked call, stopping at the first
 * impossible step. Shortest first, at most REPORTED_LIMIT distinct paths.
 */
function collectFinalPaths(
  configs: BlockedConfig[],
  blocked: PreparedCall,
  underWay: PreparedCall[],
  isLinearized: (config: BlockedConfig, call: PreparedCall) => boolean,
  lastCallOf: (config: BlockedConfig) => PreparedCall | undefined,
  prepared: PreparedHistory,
): PathStep[][] {
  const seen = new Set<string>();
  const paths: PathStep[][] = [];
  const record = (path: PathStep[]): void => {
    const text = JSON.stringify(path);
    if (seen.has(text) || paths.length >= REPORTED_LIMIT) return;
    seen.add(text);
    paths.push(path);
  };
  let budget = FINAL_PATH_SEARCH_NODES;
  for (let length = 0; length <= underWay.length && paths.length < REPORTED_LIMIT && budget > 0; length++) {
    for (const config of configs) {
      const last = lastCallOf(config);
      const startModel: Model = { value: prepared.stateValues[config.state] ?? null };
      const prefix: PathStep[] = last ? [{ op: renderCompletion(last), model: startModel }] : [];
      const others = underWay.filter(
        (c) => c.invoke.process !== blocked.invoke.process && !isLinearized(config, c),
      );
      const used = new Set<PreparedCall>();
      const walk = (path: PathStep[], model: Model, remaining: number): void => {
        if (paths.length >= REPORTED_LIMIT || budget-- <= 0) return;
        if (remaining === 0) {
          record([...path, { op: renderCompletion(blocked), model: stepModel(model, blocked.invoke.f, blocked.value) }]);
          return;
        }
        for (const call of others) {
          if (used.has(call)) continue;
          const after = stepModel(model, call.invoke.f, call.value);
          const extended = [...path, { op: renderCompletion(call), model: after }];
          if (!('value' in after)) {
            record(extended); // the path ends where the register refuses
            continue;
          }
          used.add(call);
          walk(extended, after, remaining - 1);
          used.delete(call);
        }
      };
      walk(prefix, startModel, length);
    }
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
// Our explanation.

function describeCall(call: PreparedCall): string {
  const { f } = call.invoke;
  if (f === 'cas' && Array.isArray(call.value)) {
    return `cas from ${JSON.stringify(call.value[0] ?? null)} to ${JSON.stringify(call.value[1] ?? null)}`;
  }
  return `${f} of ${JSON.stringify(call.value)}`;
}

function seconds(ns: number): string {
  return (ns / 1e9).toFixed(3);
}

function listInWords(values: Json[]): string {
  const words = values.map((v) => JSON.stringify(v));
  if (words.length <= 1) return words[0] ?? 'nothing';
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function toBar(call: PreparedCall): Bar {
  return {
    id: call.invoke.index,
    process: call.invoke.process as number,
    'invoke-ns': call.invoke.time,
    'complete-ns': call.completion ? call.completion.time : null,
    f: call.invoke.f,
    value: call.value,
    type: call.outcome,
  };
}

function explain(
  prepared: PreparedHistory,
  cache: ConfigCache,
  configs: BlockedConfig[],
  blocked: PreparedCall,
  blockedCall: number,
  key: Json,
): Explanation {
  const possible: Json[] = [];
  const seenStates = new Set<number>();
  for (const config of configs) {
    if (seenStates.has(config.state)) continue;
    seenStates.add(config.state);
    possible.push(prepared.stateValues[config.state] ?? null);
  }
  possible.sort(compareSafe);

  // one linearizable prefix: follow the chosen configuration's parents back to the start
  const order: number[] = [];
  for (let offset = configs[0]?.offset ?? -1; offset >= 0 && cache.lastCallOf(offset) >= 0; offset = cache.parentOf(offset)) {
    order.push(cache.lastCallOf(offset));
  }
  order.reverse();
  const prefix: Explanation['linearized-prefix'] = [];
  let model: Model = { value: null };
  for (const id of order) {
    const call = prepared.calls[id]!;
    model = stepModel(model, call.invoke.f, call.value);
    prefix.push({ id: call.invoke.index, 'value-after': 'value' in model ? model.value : null });
  }

  const keyText = key === undefined || key === null ? '' : `key ${JSON.stringify(key)}: `;
  const when =
    blocked.completion === null
      ? `at ${seconds(blocked.invoke.time)} s`
      : `at ${seconds(blocked.invoke.time)}–${seconds(blocked.completion.time)} s`;
  const summary =
    `${keyText}${describeCall(blocked)} by process ${String(blocked.invoke.process)} ${when} cannot be placed: ` +
    `after every linearizable order of the ${blockedCall} operation${blockedCall === 1 ? '' : 's'} completed before it ` +
    `the register holds ${listInWords(possible)}`;

  return {
    key,
    summary,
    ...barsAround(prepared.all.map(toBar), blocked.invoke.index),
    'linearized-prefix': prefix,
    'required-before': blockedCall,
    'blocked-op': blocked.invoke.index,
    'possible-values': possible,
  };
}

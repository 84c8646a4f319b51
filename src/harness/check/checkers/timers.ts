// The timers workload's checker (docs/workloads/timers.md): follows every timer from the client's
// schedule and cancel to the webhook service's record of its fires.
//
// Errors (each counted in timers, with examples):
// - missed: the schedule was ok, no cancel was ok, and the timer never fired;
// - early: a fire recorded before the timer's due_ms;
// - phantom: a fire of a timer no client scheduled, or whose every schedule definitely failed;
// - fired-after-cancel: any fire of a timer a cancel acknowledged. cancel_ok says the timer "has
//   not fired and never will", so a fire recorded before the cancel's invocation contradicts it
//   as much as one after its completion; every such fire counts, and each example says which
//   (before, during or after the cancel);
// - duplicated: fired more than once; counted always, invalid only under --exactly-once.
// An indeterminate schedule (info) may or may not have created its timer: fires and no fire are fine.
//
// Figures: lateness (first fire - due) quantiles over every fired timer and over those due within
// FAULT_WINDOW_MS after a kill, pause or partition began; fires per node.

import type { CheckResult, Json, Op } from '../../types.js';
import { WEBHOOK_SERVICE_ID } from '../../net/webhook-service.js';
import { explanation, type Explanation, type Fact } from '../explain.js';
import { faultSpans, type FaultKind } from '../faults.js';
import { isClientOp } from './json-values.js';
import { reportedQuantiles } from './set-full.js';

/** Examples kept beside each error count: enough to debug, bounded for results.json. */
export const MAX_EXAMPLES = 20;
/** A timer due this long after a fault began counts toward fault-lateness-ms. */
export const FAULT_WINDOW_MS = 5_000;
/** Points of the lateness-over-time plot; timers beyond it are sampled evenly. */
export const MAX_LATENESS_POINTS = 2_000;

export interface TimersCheckOptions {
  /** --exactly-once: duplicated timers make the run invalid */
  exactlyOnce: boolean;
}

/** One webhook fire as the service recorded it. */
export interface Fire {
  timer: string;
  node: string;
  /** ms since the test started (the history's clock) */
  atMs: number;
  /** Unix ms by the clock the nodes share (what due_ms is on) */
  epochMs: number;
  /** false: the service answered 12, no client had asked to schedule it */
  known: boolean;
}

type Outcome = 'ok' | 'fail' | 'info' | 'pending';

interface OpSpan {
  outcome: Outcome;
  invokeMs: number;
  completeMs: number | null;
  error?: Json;
}

interface TimerRecord {
  id: string;
  dueMs: number;
  schedules: OpSpan[];
  cancels: OpSpan[];
  fires: Fire[];
}

/** The timer id and due_ms of a schedule's value, the id of a cancel's; null when malformed. */
export function parseTimerValue(value: Json | undefined): { timer: string; dueMs: number | null } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { timer, due_ms: dueMs } = value;
  if (typeof timer !== 'string') return null;
  return { timer, dueMs: typeof dueMs === 'number' ? dueMs : null };
}

/** A service event as the harness logs it (service-events.jsonl); only the fields read here. */
export interface RecordedEvent {
  service: string;
  node: string;
  type: string;
  /** ms since the test started */
  timeMs: number;
  [key: string]: Json;
}

/** The fires among a run's service events. */
export function firesOf(events: readonly RecordedEvent[]): Fire[] {
  const fires: Fire[] = [];
  for (const event of events) {
    if (event.service !== WEBHOOK_SERVICE_ID || event.type !== 'fire') continue;
    const { timer, epoch_ms: epochMs, known } = event;
    if (typeof timer !== 'string' || typeof epochMs !== 'number') continue;
    fires.push({ timer, node: event.node, atMs: event.timeMs, epochMs, known: known !== false });
  }
  return fires;
}

/** Timers from the history's schedules and cancels, paired invoke to completion by process. */
function collectTimers(history: readonly Op[]): Map<string, TimerRecord> {
  const timers = new Map<string, TimerRecord>();
  const open = new Map<number, OpSpan>();
  for (const op of history) {
    if (!isClientOp(op) || (op.f !== 'schedule' && op.f !== 'cancel')) continue;
    const process = op.process as number;
    if (op.type !== 'invoke') {
      const span = open.get(process);
      if (span === undefined) continue;
      open.delete(process);
      span.outcome = op.type;
      span.completeMs = op.time / 1e6;
      if (op.error !== undefined) span.error = op.error;
      continue;
    }
    const parsed = parseTimerValue(op.value);
    if (parsed === null) throw new Error(`${op.f} ${op.index} has no {timer} value: ${JSON.stringify(op.value)}`);
    let record = timers.get(parsed.timer);
    if (record === undefined) {
      record = { id: parsed.timer, dueMs: parsed.dueMs ?? Number.NaN, schedules: [], cancels: [], fires: [] };
      timers.set(parsed.timer, record);
    }
    if (op.f === 'schedule' && parsed.dueMs !== null && Number.isNaN(record.dueMs)) record.dueMs = parsed.dueMs;
    const span: OpSpan = { outcome: 'pending', invokeMs: op.time / 1e6, completeMs: null };
    (op.f === 'schedule' ? record.schedules : record.cancels).push(span);
    open.set(process, span);
  }
  return timers;
}

export interface TimerErrors {
  missed: TimerRecord[];
  early: TimerRecord[];
  phantom: TimerRecord[];
  firedAfterCancel: TimerRecord[];
  duplicated: TimerRecord[];
}

function classify(timers: Iterable<TimerRecord>): TimerErrors {
  const errors: TimerErrors = { missed: [], early: [], phantom: [], firedAfterCancel: [], duplicated: [] };
  for (const timer of timers) {
    const scheduledOk = timer.schedules.some((span) => span.outcome === 'ok');
    const maybeScheduled = timer.schedules.some((span) => span.outcome !== 'fail');
    const cancelledOk = timer.cancels.some((span) => span.outcome === 'ok');
    const fired = timer.fires.length > 0;
    if (scheduledOk && !cancelledOk && !fired) errors.missed.push(timer);
    if (fired && !maybeScheduled) errors.phantom.push(timer);
    if (maybeScheduled && timer.fires.some((fire) => fire.epochMs < timer.dueMs)) errors.early.push(timer);
    if (fired && cancelledOk) errors.firedAfterCancel.push(timer);
    if (timer.fires.length > 1) errors.duplicated.push(timer);
  }
  return errors;
}

/** Where a fire falls against a cancel: before its invocation, while it ran, after its completion. */
function fireVersusCancel(fire: Fire, cancel: OpSpan): 'before-cancel' | 'during-cancel' | 'after-cancel' {
  if (fire.atMs < cancel.invokeMs) return 'before-cancel';
  if (cancel.completeMs === null || fire.atMs <= cancel.completeMs) return 'during-cancel';
  return 'after-cancel';
}

function spanJson(span: OpSpan): Json {
  const json: { [key: string]: Json } = { type: span.outcome, invoke_ms: Math.round(span.invokeMs), complete_ms: span.completeMs === null ? null : Math.round(span.completeMs) };
  if (span.error !== undefined) json.error = span.error;
  return json;
}

/** A timer as an example: its due time, its ops and its fires (each fire placed against an ok cancel). */
function example(timer: TimerRecord): Json {
  const okCancel = timer.cancels.find((span) => span.outcome === 'ok');
  return {
    timer: timer.id,
    due_ms: Number.isNaN(timer.dueMs) ? null : timer.dueMs,
    schedules: timer.schedules.map(spanJson),
    cancels: timer.cancels.map(spanJson),
    fires: timer.fires.map((fire) => ({
      node: fire.node,
      at_ms: Math.round(fire.atMs),
      late_ms: Number.isNaN(timer.dueMs) ? null : fire.epochMs - timer.dueMs,
      ...(fire.known ? {} : { unknown_to_webhook: true }),
      ...(okCancel === undefined ? {} : { vs_cancel: fireVersusCancel(fire, okCancel) }),
    })),
  };
}


/** The nemesis operation that ends each kind of fault. */
/** The nemesis operation that begins each kind of fault, as the timers view names it. */
const FAULT_OPS: Readonly<Record<FaultKind, string>> = { kill: 'kill', pause: 'pause', partition: 'start-partition' };

/**
 * Every kill, pause and partition (ms since the test began), from its invocation to the one that
 * ends it (open faults end at endMs): check/faults.ts's spans, one per nemesis operation rather
 * than per node.
 */
export function faultSpansMs(history: readonly Op[], endMs = Infinity): Array<{ f: string; fromMs: number; toMs: number }> {
  const byOperation = new Map<string, { f: string; fromMs: number; toMs: number }>();
  for (const span of faultSpans(history, endMs * 1e6, 0)) {
    const key = `${span.kind} ${span.fromNs}`;
    const toMs = span.toNs / 1e6;
    const known = byOperation.get(key);
    if (known === undefined) byOperation.set(key, { f: FAULT_OPS[span.kind], fromMs: span.fromNs / 1e6, toMs });
    else known.toMs = Math.max(known.toMs, toMs);
  }
  return [...byOperation.values()];
}

/** Start times (ms since the test began) of every kill, pause and partition. */
export function faultStartsMs(history: readonly Op[]): Array<{ f: string; atMs: number }> {
  return faultSpansMs(history).map((span) => ({ f: span.f, atMs: span.fromMs }));
}

export interface Lateness {
  /** per fired timer: due time (ms since the test began) and how late its first fire was */
  points: Array<{ dueAtMs: number; lateMs: number; timer: string }>;
  all: number[];
  afterFaults: number[];
}

/**
 * Lateness of each fired timer that was scheduled. Due times are on the nodes' Unix clock; the
 * service recorded both clocks at each fire, which places due times on the history's clock.
 */
function lateness(timers: Iterable<TimerRecord>, faults: ReadonlyArray<{ atMs: number }>): Lateness {
  const result: Lateness = { points: [], all: [], afterFaults: [] };
  for (const timer of timers) {
    const first = timer.fires[0];
    if (first === undefined || Number.isNaN(timer.dueMs) || !timer.schedules.some((span) => span.outcome !== 'fail')) continue;
    const lateMs = first.epochMs - timer.dueMs;
    const dueAtMs = first.atMs - lateMs;
    result.points.push({ dueAtMs, lateMs, timer: timer.id });
    result.all.push(lateMs);
    if (faults.some((fault) => dueAtMs >= fault.atMs && dueAtMs < fault.atMs + FAULT_WINDOW_MS)) result.afterFaults.push(lateMs);
  }
  result.points.sort((a, b) => a.dueAtMs - b.dueAtMs);
  return result;
}

function sampled<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, k) => items[Math.floor((k * items.length) / max)] as T);
}

export interface TimersCheck {
  workload: CheckResult;
  /** plot data and the words of the report (results' glomers.workload) */
  extra: { [key: string]: Json };
}

export function checkTimers(history: readonly Op[], fires: readonly Fire[], options: TimersCheckOptions): TimersCheck {
  const timers = collectTimers(history);
  for (const fire of fires) {
    let timer = timers.get(fire.timer);
    if (timer === undefined) {
      timer = { id: fire.timer, dueMs: Number.NaN, schedules: [], cancels: [], fires: [] };
      timers.set(fire.timer, timer);
    }
    timer.fires.push(fire);
  }
  const errors = classify(timers.values());
  const endMs = history.length === 0 ? 0 : (history[history.length - 1] as Op).time / 1e6;
  const spans = faultSpansMs(history, endMs);
  const faults = spans.map((span) => ({ f: span.f, atMs: span.fromMs }));
  const late = lateness(timers.values(), faults);
  const firesByNode: { [node: string]: number } = {};
  for (const fire of fires) firesByNode[fire.node] = (firesByNode[fire.node] ?? 0) + 1;
  const invalid = errors.missed.length + errors.early.length + errors.phantom.length + errors.firedAfterCancel.length > 0 || (options.exactlyOnce && errors.duplicated.length > 0);
  const examples = (list: TimerRecord[]): Json => list.slice(0, MAX_EXAMPLES).map(example);
  const workload: CheckResult = {
    'valid?': !invalid,
    'scheduled-count': [...timers.values()].filter((timer) => timer.schedules.some((span) => span.outcome === 'ok')).length,
    'cancelled-count': [...timers.values()].filter((timer) => timer.cancels.some((span) => span.outcome === 'ok')).length,
    'fire-count': fires.length,
    'unknown-fire-count': fires.filter((fire) => !fire.known).length,
    'missed-count': errors.missed.length,
    missed: examples(errors.missed),
    'early-count': errors.early.length,
    early: examples(errors.early),
    'phantom-count': errors.phantom.length,
    phantom: examples(errors.phantom),
    'fired-after-cancel-count': errors.firedAfterCancel.length,
    'fired-after-cancel': examples(errors.firedAfterCancel),
    'duplicated-count': errors.duplicated.length,
    duplicated: examples(errors.duplicated),
    'lateness-ms': reportedQuantiles(late.all),
    'fault-lateness-ms': reportedQuantiles(late.afterFaults),
    'fires-by-node': firesByNode,
  };
  const extra = {
    'exactly-once': options.exactlyOnce,
    'lateness-points': sampled(late.points, MAX_LATENESS_POINTS).map((point) => [Math.round(point.dueAtMs), point.lateMs, point.timer]),
    faults: spans.map((span) => ({ f: span.f, from_ms: Math.round(span.fromMs), to_ms: Math.round(span.toMs) })),
    'fault-window-ms': FAULT_WINDOW_MS,
  };
  return { workload, extra };
}

/** The error kinds, as results keys, in the order the report lists them. */
export const TIMER_ERROR_KINDS = ['missed', 'early', 'phantom', 'fired-after-cancel', 'duplicated'] as const;
export type TimerErrorKind = (typeof TIMER_ERROR_KINDS)[number];

type JsonObject = { [key: string]: Json };
const obj = (value: Json | undefined): JsonObject => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {});
const list = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : []);
const atS = (ms: Json | undefined): string => (typeof ms === 'number' ? `${(ms / 1000).toFixed(3)} s` : '?');

function opsInWords(f: string, spans: Json[]): string {
  return spans
    .map((span) => {
      const o = obj(span);
      const error = o.error === undefined ? '' : ` ${JSON.stringify(o.error)}`;
      return `${f} invoked at ${atS(o.invoke_ms)}, ${String(o.type)}${error}${o.complete_ms === null ? '' : ` at ${atS(o.complete_ms)}`}`;
    })
    .join('; ');
}

function firesInWords(fires: Json[]): string {
  if (fires.length === 0) return 'no fire';
  return fires
    .map((fire) => {
      const f = obj(fire);
      const late = typeof f.late_ms === 'number' ? ` (${f.late_ms >= 0 ? `${f.late_ms} ms late` : `${-f.late_ms} ms early`})` : '';
      const where = typeof f.vs_cancel === 'string' ? `, ${f.vs_cancel.replace('-', ' the ')}` : '';
      return `fired by ${String(f.node)} at ${atS(f.at_ms)}${late}${where}${f.unknown_to_webhook === true ? ', unknown to the webhook (12)' : ''}`;
    })
    .join('; ');
}

const ERROR_WORDS: Record<TimerErrorKind, string> = {
  missed: 'was acknowledged and never cancelled, yet never fired',
  early: 'fired before its due time',
  phantom: 'fired though no schedule of it can have succeeded',
  'fired-after-cancel': 'fired though a cancel of it was acknowledged',
  duplicated: 'fired more than once',
};

/** One error example (as results hold it) in words: the timer, what is wrong, its ops and fires. */
export function timerErrorText(kind: TimerErrorKind, example: Json): string {
  const e = obj(example);
  const due = typeof e.due_ms === 'number' ? ` (due_ms ${e.due_ms})` : '';
  const ops = [opsInWords('schedule', list(e.schedules)), opsInWords('cancel', list(e.cancels))].filter((text) => text !== '').join('; ');
  return `timer ${String(e.timer)}${due} ${ERROR_WORDS[kind]}: ${ops === '' ? 'no client op' : ops}; ${firesInWords(list(e.fires))}.`;
}

/** The verdict in words and the lateness plot (check/explain.ts), for the summary and the report. */
export function timersExplanation(check: TimersCheck): Explanation {
  const { workload, extra } = check;
  const facts: Fact[] = [];
  for (const kind of TIMER_ERROR_KINDS) {
    for (const example of list(workload[kind])) {
      const firstFire = obj(list(obj(example).fires)[0]);
      const atMs = typeof firstFire.at_ms === 'number' ? firstFire.at_ms : obj(list(obj(example).schedules)[0]).invoke_ms;
      facts.push({ text: timerErrorText(kind, example), ...(typeof atMs === 'number' ? { atNs: atMs * 1e6 } : {}) });
    }
  }
  const counts = TIMER_ERROR_KINDS.map((kind) => `${String(workload[`${kind}-count`])} ${kind}`).join(', ');
  const late = obj(workload['lateness-ms']);
  const headline =
    workload['valid?'] === true
      ? `Every acknowledged timer fired, none early, none after an acknowledged cancel (${counts}); lateness p99 ${String(late['0.99'] ?? '-')} ms, max ${String(late['1'] ?? '-')} ms.`
      : `Timers went wrong: ${counts}.`;
  const points = list(extra['lateness-points']).map((point) => {
    const [dueAtMs, lateMs] = list(point) as [number, number];
    return [dueAtMs / 1000, lateMs] as [number, number];
  });
  const plot = {
    id: 'timers-lateness',
    title: 'Lateness of each timer by its due time',
    yLabel: 'lateness (ms)',
    series: [{ label: 'first fire - due', points, style: 'dots' as const }],
    caption: `How long after its due time each fired timer fired; timers due within ${FAULT_WINDOW_MS / 1000} s after a fault began make fault-lateness-ms.`,
  };
  return explanation(headline, facts, [plot]);
}

// Maelstrom's built-in services (spec section 4): lin-kv, seq-kv, lww-kv and lin-tso. Each
// handles one request at a time and replies with in_reply_to and no msg_id; an unknown request
// type gets no reply, only a log line.
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode } from '../../lib/errors.js';
import type { Network } from './network.js';
import type { Body, Json, Rng, ServiceEvent } from '../types.js';
import type { NodeEventKind, ServiceContext, WorkloadService } from '../workload.js';

export const SERVICE_IDS = ['lin-kv', 'seq-kv', 'lww-kv', 'lin-tso'] as const;

type Reply = Omit<Body, 'msg_id' | 'in_reply_to'>;

/** What a kv request reads of a state. */
interface KvRead {
  has(key: string): boolean;
  get(key: string): Json | undefined;
}

/**
 * seq-kv keeps this many recent states (each write makes one) that a read may be served from.
 * Memory: at most this many values per key, beyond its current one.
 */
const SEQ_KV_STATES = 32;

/** Keys are any JSON, compared as parsed values: "1" and 1 are different keys. */
function keyOf(key: Json | undefined): string {
  return JSON.stringify(key ?? null);
}

function sameValue(a: Json | undefined, b: Json | undefined): boolean {
  // 1 and 1.0 parse to the same JS number; Maelstrom would tell them apart, we cannot.
  return isDeepStrictEqual(a ?? null, b ?? null);
}

const notFound = (): Reply => ({ type: 'error', code: ErrorCode.KeyDoesNotExist, text: 'key does not exist' });

/**
 * Applies a kv request to a state: the reply, and the write it makes (none when the state would
 * not change). Null for a request type kv services do not answer.
 */
function applyKv(state: KvRead, body: Body, key: string): { reply: Reply; write?: Json } | null {
  switch (body.type) {
    case 'read':
      return state.has(key) ? { reply: { type: 'read_ok', value: state.get(key) ?? null } } : { reply: notFound() };
    case 'write': {
      const value = body.value ?? null;
      if (state.has(key) && sameValue(state.get(key), value)) return { reply: { type: 'write_ok' } };
      return { reply: { type: 'write_ok' }, write: value };
    }
    case 'cas': {
      if (!state.has(key)) return body.create_if_not_exists === true ? { reply: { type: 'cas_ok' }, write: body.to ?? null } : { reply: notFound() };
      const current = state.get(key);
      if (!sameValue(current, body.from)) {
        return { reply: { type: 'error', code: ErrorCode.PreconditionFailed, text: `current value ${JSON.stringify(current)} is not ${JSON.stringify(body.from ?? null)}` } };
      }
      return sameValue(current, body.to) ? { reply: { type: 'cas_ok' } } : { reply: { type: 'cas_ok' }, write: body.to ?? null };
    }
    default:
      return null;
  }
}

type Handler = (src: string, body: Body) => Reply | null;

function linKv(): Handler {
  const state = new Map<string, Json>();
  return (_src, body) => {
    const key = keyOf(body.key);
    const result = applyKv(state, body, key);
    if (result === null) return null;
    if (result.write !== undefined) state.set(key, result.write);
    return result.reply;
  };
}

/**
 * seq-kv's recent states without a copy per state: each key keeps the values it had in the last
 * SEQ_KV_STATES states (and the one before them), each with the state it was written in. State
 * v holds, for each key, its last value written at or before v.
 */
interface VersionedKv {
  /** states ever made; the newest is total - 1 (state 0 is empty) */
  total: number;
  history: Map<string, Array<{ version: number; value: Json }>>;
}

function stateAt(kv: VersionedKv, version: number): KvRead {
  const entryOf = (key: string): { value: Json } | undefined => {
    const entries = kv.history.get(key);
    if (entries === undefined) return undefined;
    for (let k = entries.length - 1; k >= 0; k--) if ((entries[k] as { version: number }).version <= version) return entries[k];
    return undefined;
  };
  return { has: (key) => entryOf(key) !== undefined, get: (key) => entryOf(key)?.value };
}

/** Makes the next state, with key set to value; forgets values no kept state can see. */
function writeVersion(kv: VersionedKv, key: string, value: Json): void {
  const entries = kv.history.get(key) ?? [];
  entries.push({ version: kv.total, value });
  kv.history.set(key, entries);
  kv.total++;
  const oldest = Math.max(0, kv.total - SEQ_KV_STATES);
  // the value the oldest kept state sees is the last one written at or before it
  while (entries.length > 1 && (entries[1] as { version: number }).version <= oldest) entries.shift();
}

function seqKv(rng: Rng): Handler {
  const kv: VersionedKv = { total: 1, history: new Map() };
  const seen = new Map<string, number>();
  return (src, body) => {
    const key = keyOf(body.key);
    const oldest = Math.max(0, kv.total - SEQ_KV_STATES);
    const from = Math.max(seen.get(src) ?? 0, oldest);
    const pick = from + rng.int(kv.total - from);
    // served from a recent state unless it changes something: a change applies to the newest
    const tried = applyKv(stateAt(kv, pick), body, key);
    if (tried === null) return null;
    if (tried.write === undefined) {
      seen.set(src, pick);
      return tried.reply;
    }
    const applied = applyKv(stateAt(kv, kv.total - 1), body, key);
    if (applied === null) return null;
    if (applied.write !== undefined) writeVersion(kv, key, applied.write);
    seen.set(src, kv.total - 1);
    return applied.reply;
  };
}

function lwwKv(rng: Rng): Handler {
  // Two replicas that never converge (spec: the merge result is discarded in Maelstrom).
  const replicas = [0, 1].map(() => ({ clock: 0, state: new Map<string, { value: Json; ts: number }>() }));
  return (_src, body) => {
    const replica = replicas[rng.int(replicas.length)] as (typeof replicas)[number];
    const key = keyOf(body.key);
    replica.clock++;
    const entry = replica.state.get(key);
    switch (body.type) {
      case 'read':
        return entry === undefined ? notFound() : { type: 'read_ok', value: entry.value };
      case 'write':
        replica.state.set(key, { value: body.value ?? null, ts: replica.clock });
        return { type: 'write_ok' };
      case 'cas':
        if (entry === undefined) return notFound();
        if (!sameValue(entry.value, body.from)) {
          return { type: 'error', code: ErrorCode.PreconditionFailed, text: `current value ${JSON.stringify(entry.value)} is not ${JSON.stringify(body.from ?? null)}` };
        }
        replica.state.set(key, { value: body.to ?? null, ts: replica.clock });
        return { type: 'cas_ok' };
      default:
        return null;
    }
  };
}

function linTso(): Handler {
  let next = 0;
  return (_src, body) => (body.type === 'ts' ? { type: 'ts_ok', ts: next++ } : null);
}

/** Registers every service on the network. */
export function startServices(network: Network, rng: Rng, log: (line: string) => void): void {
  const handlers: Record<(typeof SERVICE_IDS)[number], Handler> = {
    'lin-kv': linKv(),
    'seq-kv': seqKv(rng),
    'lww-kv': lwwKv(rng),
    'lin-tso': linTso(),
  };
  for (const id of SERVICE_IDS) {
    const handle = handlers[id];
    network.register(id, {
      deliver(message) {
        const reply = handle(message.src, message.body);
        if (reply === null) {
          log(`${id}: no handler for request type ${JSON.stringify(message.body.type)} from ${message.src}; not replying`);
          return;
        }
        if (typeof message.body.msg_id !== 'number') return;
        if (!network.isRegistered(message.src)) return;
        // Defer, so a reply with zero latency never re-enters the delivery in progress.
        const body: Body = { ...reply, type: reply.type as string, in_reply_to: message.body.msg_id };
        queueMicrotask(() => network.send(id, message.src, body));
      },
    });
  }
}

/** The running workload services of one test, and the door for node events to reach them. */
export interface WorkloadServices {
  /** tells every service what the nemesis did to a node */
  nodeEvent(kind: NodeEventKind, node: string): void;
}

export interface WorkloadServiceDeps {
  /** ms since the test started on the run's clock */
  nowMs(): number;
  setTimer(delayMs: number, fn: () => void): () => void;
  record(event: ServiceEvent): void;
}

/** Registers a workload's own services (sched's exec) on the network, as the built-in ones are. */
export function startWorkloadServices(network: Network, services: readonly WorkloadService[], deps: WorkloadServiceDeps): WorkloadServices {
  const contexts = services.map((service): ServiceContext => ({
    nowMs: deps.nowMs,
    reply(dest, inReplyTo, body) {
      if (!network.isRegistered(dest)) return;
      // Deferred, so a reply with zero latency never re-enters the delivery in progress.
      queueMicrotask(() => network.send(service.id, dest, { ...body, in_reply_to: inReplyTo }));
    },
    after: deps.setTimer,
    record: deps.record,
  }));
  services.forEach((service, k) => {
    if (network.isRegistered(service.id)) throw new Error(`workload service ${service.id}: that id is already on the network`);
    const ctx = contexts[k] as ServiceContext;
    network.register(service.id, { deliver: (message) => service.handle({ src: message.src, body: message.body }, ctx) });
  });
  return {
    nodeEvent(kind, node) {
      services.forEach((service, k) => service.onNodeEvent?.({ kind, node }, contexts[k] as ServiceContext));
    },
  };
}

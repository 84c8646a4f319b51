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
type KvState = Map<string, Json>;

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

/** Applies a kv request to a state; returns the reply and the new state (same object if unchanged). */
function applyKv(state: KvState, body: Body, createIfMissing: boolean): { reply: Reply; next: KvState } | null {
  const key = keyOf(body.key);
  switch (body.type) {
    case 'read':
      return state.has(key)
        ? { reply: { type: 'read_ok', value: state.get(key) ?? null }, next: state }
        : { reply: notFound(), next: state };
    case 'write': {
      const value = body.value ?? null;
      if (state.has(key) && sameValue(state.get(key), value)) return { reply: { type: 'write_ok' }, next: state };
      const next = new Map(state);
      next.set(key, value);
      return { reply: { type: 'write_ok' }, next };
    }
    case 'cas': {
      if (!state.has(key)) {
        if (createIfMissing && body.create_if_not_exists === true) {
          const next = new Map(state);
          next.set(key, body.to ?? null);
          return { reply: { type: 'cas_ok' }, next };
        }
        return { reply: notFound(), next: state };
      }
      const current = state.get(key);
      if (!sameValue(current, body.from)) {
        return {
          reply: {
            type: 'error',
            code: ErrorCode.PreconditionFailed,
            text: `current value ${JSON.stringify(current)} is not ${JSON.stringify(body.from ?? null)}`,
          },
          next: state,
        };
      }
      if (sameValue(current, body.to)) return { reply: { type: 'cas_ok' }, next: state };
      const next = new Map(state);
      next.set(key, body.to ?? null);
      return { reply: { type: 'cas_ok' }, next };
    }
    default:
      return null;
  }
}

type Handler = (src: string, body: Body) => Reply | null;

function linKv(): Handler {
  let state: KvState = new Map();
  return (_src, body) => {
    const result = applyKv(state, body, true);
    if (result === null) return null;
    state = result.next;
    return result.reply;
  };
}

function seqKv(rng: Rng): Handler {
  // The last SEQ_KV_STATES states, in a ring; `total` counts every state ever appended.
  const states: KvState[] = [new Map()];
  let total = 1;
  const seen = new Map<string, number>();
  return (src, body) => {
    const oldest = Math.max(0, total - SEQ_KV_STATES);
    const from = Math.max(seen.get(src) ?? 0, oldest);
    const pick = from + rng.int(total - from);
    const state = states[pick % SEQ_KV_STATES] as KvState;
    const tried = applyKv(state, body, true);
    if (tried === null) return null;
    if (tried.next === state) {
      seen.set(src, pick);
      return tried.reply;
    }
    const newest = states[(total - 1) % SEQ_KV_STATES] as KvState;
    const applied = applyKv(newest, body, true);
    if (applied === null) return null;
    if (applied.next !== newest) {
      states[total % SEQ_KV_STATES] = applied.next;
      total++;
    }
    seen.set(src, total - 1);
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

// A test double of Maelstrom's seq-kv (docs/protocol.md §4), staleness included: the last 32 states,
// each caller's last-seen state index, requests tried on a state picked between that index and
// the newest, and only state-changing requests applied to the newest state. Used by the counter
// node's tests; seeded, so a failing test replays.

import { isDeepStrictEqual } from 'node:util';
import type { Body, Json } from '../../src/lib/index.js';

const STATES_KEPT = 32;

type State = ReadonlyMap<string, Json>;
type Reply = { [key: string]: Json };

export interface FakeSeqKv {
  /** The reply body (without in_reply_to) to a request from `src`. */
  handle(src: string, body: Body): Reply;
  /** The newest value of a key, for assertions. */
  newest(key: Json): Json | undefined;
  /** How many requests it answered. */
  readonly requestCount: number;
}

function apply(state: State, body: Body): { reply: Reply; next: State } {
  const key = JSON.stringify(body.key ?? null);
  const has = state.has(key);
  const missing = { reply: { type: 'error', code: 20, text: 'key does not exist' }, next: state };
  const set = (value: Json): State => new Map(state).set(key, value);
  switch (body.type) {
    case 'read':
      return has ? { reply: { type: 'read_ok', value: state.get(key) ?? null }, next: state } : missing;
    case 'write':
      return { reply: { type: 'write_ok' }, next: set(body.value ?? null) };
    case 'cas':
      if (!has) return body.create_if_not_exists === true ? { reply: { type: 'cas_ok' }, next: set(body.to ?? null) } : missing;
      if (!isDeepStrictEqual(state.get(key), body.from ?? null)) {
        return { reply: { type: 'error', code: 22, text: 'precondition failed' }, next: state };
      }
      return { reply: { type: 'cas_ok' }, next: set(body.to ?? null) };
    default:
      throw new Error(`fake seq-kv: unknown request ${String(body.type)}`);
  }
}

function changed(before: State, after: State): boolean {
  if (before === after) return false;
  if (before.size !== after.size) return true;
  for (const [key, value] of after) if (!isDeepStrictEqual(before.get(key), value)) return true;
  return false;
}

export function createFakeSeqKv(seed = 1): FakeSeqKv {
  let random = seed >>> 0 || 1;
  const nextRandom = (): number => {
    // xorshift32: deterministic and good enough to spread picks over the window
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return (random >>> 0) / 2 ** 32;
  };
  const states: State[] = [new Map()];
  let firstIndex = 0; // logical index of states[0]
  const lastIndex = (): number => firstIndex + states.length - 1;
  const seen = new Map<string, number>();
  let requestCount = 0;

  return {
    handle(src, body) {
      requestCount += 1;
      // A caller that fell out of the window starts from the oldest state kept.
      const from = Math.max(seen.get(src) ?? 0, firstIndex);
      const index = from + Math.floor(nextRandom() * (lastIndex() - from + 1));
      const picked = states[index - firstIndex] as State;
      const tried = apply(picked, body);
      if (!changed(picked, tried.next)) {
        seen.set(src, index);
        return tried.reply;
      }
      const onNewest = apply(states[states.length - 1] as State, body);
      states.push(onNewest.next);
      if (states.length > STATES_KEPT) {
        states.shift();
        firstIndex += 1;
      }
      seen.set(src, lastIndex());
      return onNewest.reply;
    },
    newest(key) {
      return (states[states.length - 1] as State).get(JSON.stringify(key));
    },
    get requestCount() {
      return requestCount;
    },
  };
}

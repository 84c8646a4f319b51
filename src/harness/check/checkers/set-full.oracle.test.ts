// Cross-checks the incremental set-full checker against a slow, direct reading of the rules
// (docs/protocol.md §3) on many random histories.

import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../../types.js';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import { checkSetFull, latencyQuantiles } from './set-full.js';
import { seededRandom } from './linearizable/random-history.js';

/** Concurrent clients adding 0, 1, 2, ... and reading a random subset of what was invoked. */
function randomHistory(seed: number): Op[] {
  const random = seededRandom(seed);
  const h = historyBuilder();
  const processes = 4;
  const inFlight = new Map<number, { f: string; value: Json }>();
  const invoked: number[] = [];
  let next = 0;
  let timeNs = 0;
  for (let step = 0; step < 120; step++) {
    timeNs += Math.floor(random() * 3_000_000);
    const p = Math.floor(random() * processes);
    const pending = inFlight.get(p);
    if (!pending) {
      if (random() < 0.5) {
        inFlight.set(p, { f: 'add', value: next });
        invoked.push(next);
        h.invoke(p, 'add', next++, timeNs);
      } else {
        inFlight.set(p, { f: 'read', value: null });
        h.invoke(p, 'read', null, timeNs);
      }
      continue;
    }
    inFlight.delete(p);
    const roll = random();
    if (pending.f === 'add') {
      h.complete(p, roll < 0.8 ? 'ok' : roll < 0.9 ? 'info' : 'fail', 'add', pending.value, timeNs);
    } else if (roll < 0.85) {
      const seen = invoked.filter(() => random() < 0.8);
      h.complete(p, 'ok', 'read', seen, timeNs);
    } else {
      h.complete(p, 'fail', 'read', null, timeNs, { error: 'net-timeout' });
    }
  }
  return h.ops;
}

interface Expected {
  stable: number[];
  lost: number[];
  neverRead: number[];
  stableLatencies: number[];
  lostLatencies: number[];
}

function invocationOf(history: Op[], completion: Op): Op {
  for (let i = completion.index - 1; i >= 0; i--) {
    const op = history[i] as Op;
    if (op.process === completion.process && op.type === 'invoke') return op;
  }
  throw new Error('no invocation');
}

function oracle(history: Op[]): Expected {
  const result: Expected = { stable: [], lost: [], neverRead: [], stableLatencies: [], lostLatencies: [] };
  const adds = history.filter((op) => op.f === 'add' && op.type === 'invoke');
  for (const add of adds) {
    const e = add.value as number;
    const reads = history.filter((op) => op.f === 'read' && op.type === 'ok' && op.index > add.index);
    const addOk = history.find((op) => op.f === 'add' && op.type === 'ok' && op.value === e);
    const firstSeen = reads.find((r) => (r.value as number[]).includes(e));
    const knownCandidates = [addOk, firstSeen].filter((x): x is Op => x !== undefined);
    const known = knownCandidates.sort((a, b) => a.index - b.index)[0];
    const invokes = (rs: Op[]) => rs.map((r) => invocationOf(history, r));
    const latest = (ops: Op[]) => ops.sort((a, b) => b.index - a.index)[0];
    const lastPresent = latest(invokes(reads.filter((r) => (r.value as number[]).includes(e))));
    const lastAbsent = latest(invokes(reads.filter((r) => !(r.value as number[]).includes(e))));
    const ms = (ns: number) => Math.floor(Math.max(0, ns) / 1_000_000);
    if (lastPresent && (!lastAbsent || lastAbsent.index < lastPresent.index)) {
      result.stable.push(e);
      result.stableLatencies.push(lastAbsent ? ms(lastAbsent.time + 1 - (known as Op).time) : 0);
    } else if (
      known &&
      lastAbsent &&
      (!lastPresent || lastPresent.index < lastAbsent.index) &&
      known.index < lastAbsent.index
    ) {
      result.lost.push(e);
      result.lostLatencies.push(lastPresent ? ms(lastPresent.time + 1 - known.time) : 0);
    } else {
      result.neverRead.push(e);
    }
  }
  return result;
}

describe('checkSetFull against a direct reading of the rules', () => {
  it('agrees on 200 random concurrent histories', () => {
    let sawLost = 0;
    let sawStale = 0;
    let sawNeverRead = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const history = randomHistory(seed);
      const expected = oracle(history);
      const r = checkSetFull(history);
      expect(r.lost, `seed ${seed}`).toEqual(expected.lost);
      expect(r['never-read'], `seed ${seed}`).toEqual(expected.neverRead);
      expect(r['stable-count'], `seed ${seed}`).toBe(expected.stable.length);
      expect(r['stable-latencies'], `seed ${seed}`).toEqual(latencyQuantiles(expected.stableLatencies));
      expect(r['lost-latencies'], `seed ${seed}`).toEqual(latencyQuantiles(expected.lostLatencies));
      expect(r['valid?']).toBe(expected.lost.length > 0 ? false : expected.stable.length === 0 ? 'unknown' : true);
      sawLost += expected.lost.length;
      sawNeverRead += expected.neverRead.length;
      sawStale += Number(r['stale-count']);
    }
    // the generator must actually exercise every outcome
    expect(sawLost).toBeGreaterThan(0);
    expect(sawStale).toBeGreaterThan(0);
    expect(sawNeverRead).toBeGreaterThan(0);
  });
});

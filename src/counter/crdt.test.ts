import { describe, expect, it } from 'vitest';
import { addDelta, createCrdt, defaultCrdtConfig, entryBoundFor, fitsEntry, parseCounts, readValue, receive, tick, type CrdtConfig, type CrdtState } from './crdt.js';

const nodes = ['n0', 'n1', 'n2'];
const config: CrdtConfig = { ...defaultCrdtConfig, roundMs: 100, retryMs: 250 };

/** Three cores ticking together every roundMs; `cut` drops messages "a>b". */
function world() {
  const states = new Map<string, CrdtState>(nodes.map((id) => [id, createCrdt(config, id, nodes, `1-${id}`)]));
  const cut = new Set<string>();
  let nowMs = 0;
  let sent = 0;
  const round = () => {
    nowMs += config.roundMs;
    for (const [src, state] of states) {
      for (const { dest, body } of tick(state, nowMs)) {
        sent += 1;
        if (cut.has(`${src}>${dest}`)) continue;
        const parsed = parseCounts(JSON.parse(JSON.stringify(body)) as { [key: string]: unknown }, nodes, states.get(dest)!);
        if (typeof parsed === 'string') throw new Error(parsed);
        receive(states.get(dest)!, src, parsed);
      }
    }
  };
  const rounds = (count: number) => {
    for (let k = 0; k < count; k++) round();
  };
  const values = () => nodes.map((id) => readValue(states.get(id)!));
  return { states, cut, rounds, values, sent: () => sent };
}

describe('memory-mode counter core', () => {
  it('converges on the sum of every add, negative ones too', () => {
    const w = world();
    addDelta(w.states.get('n0')!, 5);
    addDelta(w.states.get('n1')!, -3);
    addDelta(w.states.get('n2')!, 4);
    addDelta(w.states.get('n2')!, -1);
    w.rounds(3);
    expect(w.values()).toEqual([5, 5, 5]);
  });

  it('a quiet counter sends nothing; one add costs a message to each peer, an answer back, and a relay each way', () => {
    const w = world();
    w.rounds(5);
    const settled = w.sent();
    w.rounds(20);
    expect(w.sent()).toBe(settled);
    addDelta(w.states.get('n1')!, 2);
    w.rounds(10);
    // n1 -> n0, n1 -> n2, their answers, and n0 <-> n2 passing n1's entry on (which is what
    // carries it across a partition that cuts n1 from one of them)
    expect(w.sent() - settled).toBe(6);
    expect(w.values()).toEqual([2, 2, 2]);
  });

  it('a partition delays but loses nothing; a cut-off peer is retried at most once per retryMs', () => {
    const w = world();
    w.rounds(3);
    for (const a of nodes) if (a !== 'n0') w.cut.add(`${a}>n0`).add(`n0>${a}`);
    const before = w.sent();
    addDelta(w.states.get('n0')!, 7);
    addDelta(w.states.get('n1')!, 1);
    w.rounds(20); // 2 s: retries every 250 ms to each cut-off peer at most
    expect(w.values()).toEqual([7, 1, 1]);
    expect(w.sent() - before).toBeLessThanOrEqual(4 * 9 + 4);
    w.cut.clear();
    w.rounds(4);
    expect(w.values()).toEqual([8, 8, 8]);
  });

  it('a restarted process starts its own entry and is sent everything its peers hold', () => {
    const w = world();
    addDelta(w.states.get('n2')!, 10);
    w.rounds(3);
    w.states.set('n2', createCrdt(config, 'n2', nodes, '2-n2'));
    addDelta(w.states.get('n2')!, 1);
    w.rounds(3);
    expect(w.values()).toEqual([11, 11, 11]);
  });

  it('refuses deltas that would take an entry past its bound, so every read stays a safe integer', () => {
    const state = createCrdt(config, 'n0', nodes, '1');
    const bound = entryBoundFor(config);
    expect(bound * config.maxEntries).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(fitsEntry(state, bound)).toBe(true);
    addDelta(state, bound);
    expect(fitsEntry(state, 1)).toBe(false);
    expect(fitsEntry(state, -bound)).toBe(true);
    expect(fitsEntry(state, -bound - 1)).toBe(false);
    expect(fitsEntry(state, 0.5)).toBe(false);
    expect(() => addDelta(state, 1)).toThrow(/invariant/);
  });

  it('validates what peers send', () => {
    const state = createCrdt(config, 'n0', nodes, '1');
    const bound = state.entryBound;
    const bad = [
      { entries: { 'n1:a': [1, 2] } }, // no answer flag
      { entries: { 'n1:a': [1.5, 0] }, answer: true },
      { entries: { 'n1:a': [-1, 0] }, answer: true },
      { entries: { 'n1:a': [bound + 1, 0] }, answer: true },
      { entries: { 'n9:a': [1, 0] }, answer: true },
      { entries: { n1: [1, 0] }, answer: true },
      { entries: [1], answer: true },
    ];
    for (const body of bad) expect(typeof parseCounts(body, nodes, state), JSON.stringify(body)).toBe('string');
    expect(parseCounts({ entries: { 'n1:a': [3, 1] }, answer: false }, nodes, state)).toEqual({ type: 'pn', entries: { 'n1:a': [3, 1] }, answer: false });
  });

  it('a table holds at most maxEntries entries', () => {
    const state = createCrdt({ ...config, maxEntries: 2 }, 'n0', nodes, '1');
    receive(state, 'n1', { type: 'pn', entries: { 'n1:a': [1, 0], 'n1:b': [2, 0] }, answer: false });
    expect(state.entries.size).toBe(2);
    expect(readValue(state)).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import {
  addElement,
  createGset,
  defaultGsetConfig,
  lackAgeMs,
  nextProbeDelayMs,
  nextRoundDelayMs,
  parseMessage,
  probe,
  readElements,
  receive,
  answerBack,
  tick,
  type GsetConfig,
  type GsetMessage,
  type GsetState,
  type Outgoing,
} from './core.js';

const nodes = ['n0', 'n1', 'n2'];
const config: GsetConfig = { ...defaultGsetConfig, roundMs: 1000, hubDelayMs: 100, retryMs: 1500, suspectMs: 1200, probeMs: 500, maxBatchElements: 50 };

/** Three cores on a virtual clock: each runs its round at its phase; `cut` drops messages "a>b". */
function world(startedMs = 1) {
  const states = new Map<string, GsetState>(nodes.map((id) => [id, createGset(config, id, nodes, `${startedMs.toString(36)}-${id}`)]));
  const cut = new Set<string>();
  const sent: Array<Outgoing & { src: string; atMs: number }> = [];
  let nowMs = 0;
  const deliver = (src: string, out: Outgoing): void => {
    sent.push({ ...out, src, atMs: nowMs });
    if (cut.has(`${src}>${out.dest}`)) return;
    // Through JSON, as on the wire, and through the parser, as the server does.
    const parsed = parseMessage(JSON.parse(JSON.stringify(out.body)) as { [key: string]: unknown }, nodes, config);
    if (typeof parsed === 'string') throw new Error(parsed);
    const receiver = states.get(out.dest)!;
    if (!receive(receiver, src, parsed, nowMs)) return;
    for (const answer of answerBack(receiver, src, nowMs)) deliver(out.dest, answer);
  };
  /** each node's next round and next probe slot, as its server schedules them */
  const timers = new Map(nodes.flatMap((id): Array<[string, number]> => [
    [`${id} round`, nextRoundDelayMs(states.get(id)!, 0)],
    // the hub has no probe slots (its round messages are its probes)
    ...(id === nodes[0] ? [] : [[`${id} probe`, nextProbeDelayMs(states.get(id)!, 0)] as [string, number]]),
  ]));
  /** Advances the clock to `untilMs`, running every node's rounds and probe slots on the way. */
  const runUntil = (untilMs: number) => {
    for (;;) {
      const [key, atMs] = [...timers].reduce((a, b) => (b[1] < a[1] ? b : a));
      if (atMs > untilMs) break;
      nowMs = atMs;
      const [id, kind] = key.split(' ') as [string, string];
      const state = states.get(id)!;
      for (const out of kind === 'round' ? tick(state, nowMs) : probe(state, nowMs)) deliver(id, out);
      timers.set(key, nowMs + (kind === 'round' ? nextRoundDelayMs(state, nowMs) : nextProbeDelayMs(state, nowMs)));
    }
    nowMs = untilMs;
  };
  const partition = (groups: string[][]) => {
    cut.clear();
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) cut.add(`${x}>${y}`);
  };
  const add = (id: string, element: number) => addElement(states.get(id)!, element, nowMs);
  const sets = () => nodes.map((id) => readElements(states.get(id)!).sort((a, b) => a - b));
  return { states, sent, cut, runUntil, partition, add, sets, now: () => nowMs };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

describe('g-set core, healthy network', () => {
  it('every node gets every element within a round, at four messages a round (leaves -> hub -> leaves)', () => {
    const w = world();
    w.runUntil(10);
    range(0, 30).forEach((element) => w.add(nodes[element % 3]!, element));
    w.runUntil(1200); // leaves at 1000, the hub at 1100
    expect(w.sets()).toEqual([range(0, 30), range(0, 30), range(0, 30)]);
    const firstRound = w.sent.filter((m) => m.atMs >= 1000 && m.atMs <= 1200);
    expect(firstRound.map((m) => `${m.src}>${m.dest}`).sort()).toEqual(['n0>n1', 'n0>n2', 'n1>n0', 'n2>n0']);
  });

  it('sends only what a peer has not acknowledged, and nothing once everyone holds everything', () => {
    const w = world();
    w.add('n1', 1);
    w.runUntil(1200);
    w.add('n1', 2);
    w.runUntil(2200);
    const data = w.sent.filter((m) => m.src === 'n1' && m.dest === 'n0').map((m) => m.body.data);
    expect(data).toEqual([[[expect.stringMatching(/^n1:/), 0, [1]]], [[expect.stringMatching(/^n1:/), 1, [2]]]]);
    w.runUntil(4200); // acknowledgements settle
    const settled = w.sent.length;
    w.runUntil(20_000);
    expect(w.sent.length).toBe(settled);
    expect(w.sets()).toEqual([[1, 2], [1, 2], [1, 2]]);
  });

  it('adding an element twice, or one another node holds, keeps one copy', () => {
    const w = world();
    expect(w.add('n1', 5)).toBe('added');
    expect(w.add('n1', 5)).toBe('present');
    w.add('n2', 5);
    w.runUntil(3200);
    expect(w.sets()).toEqual([[5], [5], [5]]);
  });

  it('a message carries at most maxBatchElements; the rest follow in later rounds', () => {
    const w = world();
    range(0, 120).forEach((element) => w.add('n1', element));
    w.runUntil(5200);
    expect(Math.max(...w.sent.map((m) => m.body.data.reduce((n, [, , elements]) => n + elements.length, 0)))).toBeLessThanOrEqual(50);
    expect(w.sets()).toEqual([range(0, 120), range(0, 120), range(0, 120)]);
  });

  it('rounds line up on the clock, the hub hubDelayMs after the leaves', () => {
    const w = world();
    expect(nextRoundDelayMs(w.states.get('n1')!, 1_000_250)).toBe(750);
    expect(nextRoundDelayMs(w.states.get('n0')!, 1_000_250)).toBe(850);
    expect(nextRoundDelayMs(w.states.get('n1')!, 1_001_000)).toBe(1000);
  });
});

describe('g-set core under partitions', () => {
  it('a cut-off hub: the leaves find each other by probes and go directly, and everything converges within a probe slot of the heal', () => {
    const w = world();
    w.partition([['n0'], ['n1', 'n2']]);
    w.runUntil(10);
    w.add('n1', 1);
    w.add('n2', 2);
    w.add('n0', 3);
    // Nobody reaches the leaves, so they try each other on every fourth probe turn (the 4th: 4.5 s).
    w.runUntil(5200);
    expect(w.sets()).toEqual([[3], [1, 2], [1, 2]]);
    expect(w.sent.some((m) => m.src === 'n1' && m.dest === 'n2')).toBe(true);
    w.partition([]);
    const healMs = w.now();
    w.runUntil(healMs + 1100); // the next probe through (every 500 ms) is answered at once
    expect(w.sets()).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
  });

  it('a leaf the hub cannot reach is named in the cut list, and the other leaf serves it', () => {
    const w = world();
    w.cut.add('n0>n2'); // n2 drops what the hub sends; everything else flows
    w.runUntil(10);
    w.add('n1', 1);
    w.runUntil(3500); // the hub has sent 1 to n2 twice, unanswered
    expect(w.sets()[2]).toEqual([]);
    expect(w.states.get('n1')!.hubCut.has('n2')).toBe(true);
    w.runUntil(4500);
    expect(w.sets()[2]).toEqual([1]);
    expect(w.states.get('n1')!.hubCut.has('n2')).toBe(false); // n2 acknowledged it to the hub
    expect(w.sent.some((m) => m.src === 'n1' && m.dest === 'n2' && m.body.data.length > 0)).toBe(true);
  });

  it('hearing from a peer again resends what its report shows it lacks, without waiting for a retry', () => {
    const w = world();
    w.runUntil(10);
    w.partition([['n0'], ['n1', 'n2']]);
    w.add('n1', 1);
    w.runUntil(1050); // n1 sent 1 to the hub: lost
    w.partition([]);
    w.add('n1', 2);
    w.runUntil(1200); // the hub's round: its report shows it lacks 1
    w.runUntil(2050); // n1's next round sends 1 and 2, not only 2
    expect(readElements(w.states.get('n0')!).sort()).toEqual([1, 2]);
  });

  it('a cut link is tried every probe slot (the hub in its round, the leaf half a round later), and a heal is answered at once', () => {
    const w = world();
    w.runUntil(10);
    w.partition([['n1'], ['n0', 'n2']]);
    w.add('n1', 1);
    w.add('n0', 2);
    w.runUntil(8050);
    const cutLink = w.sent.filter((m) => m.atMs > 3000 && m.atMs <= 8050 && [m.src, m.dest].sort().join() === 'n0,n1');
    expect(cutLink.length).toBeLessThanOrEqual(10); // five rounds, two tries a round
    expect(new Set(cutLink.map((m) => m.src))).toEqual(new Set(['n0', 'n1']));
    // Both ends together send no more than on a healthy star: one message a round each (n1 its
    // probe, the hub its round), plus n1's rare try of the other leaf.
    const fromN1 = w.sent.filter((m) => m.atMs > 3000 && m.atMs <= 8050 && m.src === 'n1');
    expect(fromN1.length).toBeLessThanOrEqual(6);
    w.partition([]);
    w.runUntil(8600); // the next probe slot after the heal
    expect(w.sets()).toEqual([[1, 2], [1, 2], [1, 2]]);
  });

  it('a ring of one-way cuts: what each node adds goes round through the third node, and no node sends more than its healthy share and a probe a round', () => {
    const w = world();
    w.runUntil(10);
    // n0 -> n1 -> n2 -> n0 still carry messages; the other way round is cut.
    for (const link of ['n1>n0', 'n2>n1', 'n0>n2']) w.cut.add(link);
    w.add('n0', 1);
    w.add('n1', 2);
    w.add('n2', 3);
    w.runUntil(9000);
    expect(w.sets()).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    for (const node of nodes) {
      const sent = w.sent.filter((m) => m.src === node && m.atMs > 1000 && m.atMs <= 9000).length;
      // Eight rounds of two messages: the hub's round messages to its two leaves (its probes among
      // them), a leaf's round message and its probe.
      expect(sent, node).toBeLessThanOrEqual(8 * 2);
    }
    w.cut.clear();
    w.runUntil(12_000);
    w.add('n1', 4);
    w.runUntil(13_200); // back on the star: n1 -> hub -> n2 within a round
    expect(w.sets()).toEqual([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]);
  });

  it('memory holds the set and a few numbers per peer: a long partition grows nothing else', () => {
    const w = world();
    w.partition([['n0'], ['n1'], ['n2']]);
    for (let k = 0; k < 50; k++) {
      w.add(nodes[k % 3]!, k);
      w.runUntil(w.now() + 400);
    }
    for (const state of w.states.values()) {
      for (const book of state.peers.values()) expect(book.sentUpTo.size).toBeLessThanOrEqual(3);
      expect(state.knowledge.size).toBeLessThanOrEqual(3);
    }
    expect(lackAgeMs(w.states.get('n1')!, 'n0', w.now())).toBeGreaterThan(10_000);
    w.partition([]);
    w.runUntil(w.now() + 3000);
    expect(w.sets()).toEqual([range(0, 50), range(0, 50), range(0, 50)]);
  });

  it('a restarted node (a new process with an empty set) is sent everything again', () => {
    const w = world();
    w.add('n1', 1);
    w.add('n2', 2);
    w.runUntil(3200);
    w.states.set('n2', createGset(config, 'n2', nodes, `${(5).toString(36)}-again`));
    w.runUntil(6200);
    expect(w.sets()).toEqual([[1, 2], [1, 2], [1, 2]]);
  });
});

describe('g-set core input checks', () => {
  const good = (): GsetMessage => ({ type: 'gset', from: 'n1:1-a', data: [['n1:1-a', 0, [1, 2]]], know: { 'n1:1-a': { 'n1:1-a': 2 } }, cut: [], at: 5, heard: { n1: { n0: 3 } } });
  const parse = (body: object) => parseMessage(JSON.parse(JSON.stringify(body)) as { [key: string]: unknown }, nodes, config);

  it('accepts a well-formed message', () => {
    expect(parse(good())).toEqual(good());
  });

  it('refuses elements and counts that cannot travel, unknown nodes, oversized batches', () => {
    const bad: Array<(m: GsetMessage) => unknown> = [
      (m) => (m.data[0]![2] = [1.5]),
      (m) => (m.data[0]![2] = [2 ** 53]),
      (m) => (m.data[0]![2] = range(0, 51)),
      (m) => (m.data[0]![0] = 'n9:1-a'),
      (m) => (m.data[0]![1] = -1),
      (m) => (m.from = 'n7:x'),
      (m) => (m.know = { 'n1:1-a': { 'n1:1-a': 0.5 } }),
      (m) => (m.know = { n1: { 'n1:1-a': 1 } }),
      (m) => (m.cut = ['n9']),
      (m) => ((m as unknown as { data: unknown }).data = 'x'),
      (m) => (m.at = -1),
      (m) => (m.heard = { n9: { n0: 1 } }),
      (m) => (m.heard = { n1: { n0: 1.5 } }),
      (m) => ((m as unknown as { heard: unknown }).heard = [1]),
    ];
    for (const spoil of bad) {
      const message = good();
      spoil(message);
      expect(typeof parse(message), JSON.stringify(message)).toBe('string');
    }
    const infinity = JSON.parse(JSON.stringify(good()).replace('[1,2]', '[1e400]')) as { [key: string]: unknown };
    expect(typeof parseMessage(infinity, nodes, config)).toBe('string');
  });

  it('a node takes at most maxElements elements from clients', () => {
    const state = createGset({ ...config, maxElements: 2 }, 'n1', nodes, '1-a');
    expect([addElement(state, 1, 0), addElement(state, 2, 0), addElement(state, 3, 0), addElement(state, 2, 0)]).toEqual(['added', 'added', 'full', 'present']);
    expect(() => addElement(state, 1.5, 0)).toThrow(/invariant/);
  });
});

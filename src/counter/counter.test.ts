import { describe, expect, it } from 'vitest';
import {
  commitLocal,
  countBoundFor,
  createCounter,
  fitsBound,
  refuseOverflowing,
  decodeStored,
  encodeStored,
  MAX_WRITES_IN_DOUBT,
  mergeView,
  nextLocal,
  observeOwnKey,
  planMirror,
  planWrite,
  readTotal,
  recordAdd,
  restoreLocal,
  seedPeer,
  viewMessage,
  writeApplied,
  writeRejected,
  type CounterState,
} from './counter.js';

const nodes = ['n0', 'n1', 'n2'];

function recovered(durable = { count: 0, version: 0, tag: '' }): CounterState {
  const state = createCounter('n0', 'inc');
  observeOwnKey(state, durable.version === 0 ? undefined : durable);
  return state;
}

describe('stored values', () => {
  it('round-trip through JSON and reject anything else', () => {
    const stored = { count: -7, version: 3, tag: 'a.1' };
    expect(decodeStored(JSON.parse(JSON.stringify(encodeStored(stored))))).toEqual(stored);
    for (const bad of [null, 5, [1, 2], [1, 2, 3], ['1', 2, 'x'], [1.5, 2, 'x'], { count: 1 }]) {
      expect(decodeStored(bad)).toBeUndefined();
    }
  });
});

describe('writes', () => {
  it('wait for the key to be read at start', () => {
    const state = createCounter('n0', 'inc');
    recordAdd(state, { id: 1, delta: 3 });
    expect(planWrite(state)).toBeUndefined();
    expect(observeOwnKey(state, { count: 10, version: 4, tag: 'old.9' })).toEqual([]);
    const write = planWrite(state)!;
    expect(write.from).toEqual({ count: 10, version: 4, tag: 'old.9' });
    expect(write.to).toMatchObject({ count: 13, version: 5 });
    expect(write.createIfMissing).toBe(false);
  });

  it('batch every pending add, negative ones too, into one cas that creates a missing key', () => {
    const state = recovered();
    recordAdd(state, { id: 1, delta: 3 });
    recordAdd(state, { id: 2, delta: -5 });
    recordAdd(state, { id: 3, delta: 4 });
    const write = planWrite(state)!;
    expect(write.to).toMatchObject({ count: 2, version: 1 });
    expect(write.createIfMissing).toBe(true);
    expect(writeApplied(state, write)).toEqual([1, 2, 3]);
    expect(readTotal(state)).toBe(2);
    expect(planWrite(state)).toBeUndefined();
  });

  it('a batch summing to zero still writes a new version (so the ack is backed by a change)', () => {
    const state = recovered();
    recordAdd(state, { id: 1, delta: 3 });
    recordAdd(state, { id: 2, delta: -3 });
    const write = planWrite(state)!;
    expect(write.to.count).toBe(0);
    expect(write.to.version).toBe(1);
    expect(write.to.tag).not.toBe(write.from.tag);
  });

  it('every write gets a distinct tag, and a new process a distinct prefix', () => {
    const a = recovered();
    recordAdd(a, { id: 1, delta: 1 });
    const first = planWrite(a)!;
    const second = planWrite(a)!;
    const other = createCounter('n0', 'other');
    observeOwnKey(other, undefined);
    recordAdd(other, { id: 1, delta: 1 });
    const tags = [first.to.tag, second.to.tag, planWrite(other)!.to.tag];
    expect(new Set(tags).size).toBe(3);
  });

  it('adds that arrive while a write is out go in the next one, not acked by the first', () => {
    const state = recovered();
    recordAdd(state, { id: 1, delta: 2 });
    const write = planWrite(state)!;
    recordAdd(state, { id: 2, delta: 5 });
    expect(writeApplied(state, write)).toEqual([1]);
    const next = planWrite(state)!;
    expect(next.adds.map((a) => a.id)).toEqual([2]);
    expect(next.from).toEqual(write.to);
    expect(writeApplied(state, next)).toEqual([2]);
    expect(readTotal(state)).toBe(7);
  });
});

describe('writes whose outcome is unknown', () => {
  it('a timed-out write that did apply is recognised by its tag and acked once', () => {
    const state = recovered();
    recordAdd(state, { id: 1, delta: 2 });
    const lost = planWrite(state)!; // times out
    expect(observeOwnKey(state, lost.to)).toEqual([1]);
    expect(state.durable).toEqual(lost.to);
    expect(state.inDoubt).toEqual([]);
  });

  it('a timed-out write that lands after its retry was sent: the retry fails, nothing counts twice', () => {
    const state = recovered();
    recordAdd(state, { id: 1, delta: 2 });
    const first = planWrite(state)!; // times out, still in flight
    expect(observeOwnKey(state, undefined)).toEqual([]); // read back: not applied yet
    recordAdd(state, { id: 2, delta: 3 });
    const retry = planWrite(state)!;
    expect(retry.from).toEqual(first.from);
    expect(retry.adds.map((a) => a.id)).toEqual([1, 2]);
    // the first lands now, so the retry's cas fails; reading back finds the first
    writeRejected(state, retry);
    expect(observeOwnKey(state, first.to)).toEqual([1]);
    const third = planWrite(state)!;
    expect(third.adds.map((a) => a.id)).toEqual([2]);
    expect(third.to.count).toBe(5);
  });

  it("a predecessor's write that lands late becomes the base; its adds are not ours to ack", () => {
    const state = recovered({ count: 10, version: 4, tag: 'old.3' });
    recordAdd(state, { id: 1, delta: 1 });
    const mine = planWrite(state)!;
    writeRejected(state, mine);
    expect(observeOwnKey(state, { count: 14, version: 5, tag: 'old.4' })).toEqual([]);
    const next = planWrite(state)!;
    expect(next.from).toEqual({ count: 14, version: 5, tag: 'old.4' });
    expect(next.to).toMatchObject({ count: 15, version: 6 });
  });

  it('stop writing after too many writes in doubt', () => {
    const state = recovered();
    recordAdd(state, { id: 1, delta: 1 });
    for (let i = 0; i < MAX_WRITES_IN_DOUBT; i++) expect(planWrite(state)).toBeDefined();
    expect(planWrite(state)).toBeUndefined();
    observeOwnKey(state, undefined);
    expect(state.inDoubt.length).toBe(MAX_WRITES_IN_DOUBT);
    const landed = state.inDoubt[3]!;
    expect(observeOwnKey(state, landed.to)).toEqual([1]);
    expect(state.inDoubt).toEqual([]);
  });
});

describe('views', () => {
  it('keep the newest version per node, so a pn-counter may go down', () => {
    const state = recovered();
    expect(mergeView(state, { n1: [5, 2], n2: [3, 1] }, nodes)).toBe(true);
    expect(mergeView(state, { n1: [9, 1] }, nodes)).toBe(false);
    expect(mergeView(state, { n1: [-4, 3] }, nodes)).toBe(true);
    expect(readTotal(state)).toBe(-1);
    expect(viewMessage(state)).toEqual({ n0: [0, 0], n1: [-4, 3], n2: [3, 1] });
  });

  it('ignore unknown nodes and malformed entries', () => {
    const state = recovered();
    expect(mergeView(state, { n7: [5, 1], n1: 'x', n2: [1.5, 1] }, nodes)).toBe(false);
    expect(readTotal(state)).toBe(0);
  });

  it('accept news of this node from a peer, but never let it drive writes', () => {
    const state = createCounter('n0', 'inc');
    mergeView(state, { n0: [6, 2] }, nodes);
    expect(readTotal(state)).toBe(6);
    expect(state.durable).toBeUndefined();
  });

  it('seeded peers give way to newer pushes', () => {
    const state = recovered();
    seedPeer(state, 'n1', { count: 2, version: 1, tag: 'x.1' });
    seedPeer(state, 'n2', undefined);
    mergeView(state, { n1: [4, 2] }, nodes);
    expect(readTotal(state)).toBe(4);
  });
});

describe('disk mode', () => {
  it('restores the file, or the seq-kv copy when it is newer (no file)', () => {
    const withFile = recovered({ count: 4, version: 2, tag: 'old.2' });
    expect(restoreLocal(withFile, { count: 9, version: 5 })).toEqual({ count: 9, version: 5 });
    const noFile = recovered({ count: 4, version: 2, tag: 'old.2' });
    expect(restoreLocal(noFile, undefined)).toEqual({ count: 4, version: 2 });
    expect(readTotal(noFile)).toBe(4);
  });

  it('an add moves the local count only once committed', () => {
    const state = recovered();
    restoreLocal(state, undefined);
    const next = nextLocal(state, -3);
    expect(next).toEqual({ count: -3, version: 1 });
    expect(readTotal(state)).toBe(0);
    commitLocal(state, next);
    expect(readTotal(state)).toBe(-3);
  });

  it('the seq-kv copy follows the local count in one cas, whatever the number of adds', () => {
    const state = recovered();
    restoreLocal(state, undefined);
    for (const delta of [1, 2, 3]) commitLocal(state, nextLocal(state, delta));
    const mirror = planMirror(state)!;
    expect(mirror.from).toEqual({ count: 0, version: 0, tag: '' });
    expect(mirror.to).toMatchObject({ count: 6, version: 3 });
    expect(mirror.createIfMissing).toBe(true);
    expect(writeApplied(state, mirror)).toEqual([]);
    expect(planMirror(state)).toBeUndefined();
    commitLocal(state, nextLocal(state, 1));
    expect(planMirror(state)!.from).toEqual(mirror.to);
  });
});

describe('the safe-integer bound', () => {
  const bound = countBoundFor(3);

  it('keeps any sum of one count per node a safe integer', () => {
    expect(bound * 3).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(countBoundFor(1)).toBe(Number.MAX_SAFE_INTEGER);
    const state = createCounter('n0', 'inc', bound);
    observeOwnKey(state, undefined);
    mergeView(state, { n1: [bound, 1], n2: [bound, 1] }, nodes);
    expect(readTotal(state)).toBe(2 * bound);
  });

  it('an add that would take the count past the bound does not fit, counting adds still waiting', () => {
    const state = createCounter('n0', 'inc', bound);
    expect(fitsBound(state, 1)).toBe(false); // count not known yet
    observeOwnKey(state, { count: bound - 10, version: 2, tag: 'a.1' });
    expect(fitsBound(state, 10)).toBe(true);
    recordAdd(state, { id: 1, delta: 6 });
    expect(fitsBound(state, 5)).toBe(false);
    expect(fitsBound(state, 4)).toBe(true);
    expect(fitsBound(state, -2 * bound)).toBe(false);
    expect(fitsBound(state, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it("the issue's case: two adds of 2^53-1 on one node, the second refused", () => {
    const state = createCounter('n0', 'inc', countBoundFor(1));
    restoreLocal(state, undefined);
    expect(fitsBound(state, Number.MAX_SAFE_INTEGER)).toBe(true);
    commitLocal(state, nextLocal(state, Number.MAX_SAFE_INTEGER));
    expect(fitsBound(state, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(fitsBound(state, 1)).toBe(false);
    expect(readTotal(state)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("adds that fitted a predecessor's count no longer fit are refused, in arrival order", () => {
    const state = createCounter('n0', 'inc', 100);
    observeOwnKey(state, { count: 0, version: 1, tag: 'a.1' });
    recordAdd(state, { id: 1, delta: 60 });
    recordAdd(state, { id: 2, delta: 30 });
    recordAdd(state, { id: 3, delta: -50 });
    writeRejected(state, planWrite(state)!);
    observeOwnKey(state, { count: 50, version: 2, tag: 'old.9' }); // a predecessor's late write
    expect(refuseOverflowing(state)).toEqual([1]);
    expect(planWrite(state)!.to.count).toBe(30);
  });

  it('ignores counts from peers and from the store that a node of this run cannot hold', () => {
    const state = createCounter('n0', 'inc', bound);
    observeOwnKey(state, undefined);
    expect(mergeView(state, { n1: [bound + 1, 5] }, nodes)).toBe(false);
    expect(decodeStored([bound + 1, 1, 't'], bound)).toBeUndefined();
    expect(decodeStored([bound, 1, 't'], bound)).toEqual({ count: bound, version: 1, tag: 't' });
  });

  it('invariants fail loudly rather than write or restore an out-of-range count', () => {
    const state = createCounter('n0', 'inc', 10);
    expect(() => restoreLocal(state, { count: 11, version: 1 })).toThrow(/invariant/);
    restoreLocal(state, { count: 10, version: 1 });
    expect(() => nextLocal(state, 1)).toThrow(/invariant/);
  });
});

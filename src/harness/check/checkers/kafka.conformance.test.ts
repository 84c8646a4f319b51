// Replays the real Maelstrom kafka runs in test/reference-runs through our kafka checker and
// demands Maelstrom's whole `workload` section, key by key.
//
// What is compared exactly: every key, every count, and every `errs` list in Maelstrom's order,
// including the order of entries across keys and processes and which entries survive the
// truncation to 8/32. Those orders come from Clojure hash-map/hash-set iteration, which
// ./kafka/clojure-order.ts reproduces (Murmur3 over Long/String hashes, trie order).
// What is compared as a set: `inconsistent-offsets` `values`, because results.json turned
// Jepsen's sets into arrays in no meaningful order (test/reference-runs/README.md).
// What these runs cannot check: Elle's cycle choice inside a component (bifurcan's vertex order);
// none of them has a cycle, and kafka.test.ts checks what is determined there.

import { describe, expect, it } from 'vitest';
import type { Json } from '../../types.js';
import { checkKafka } from './kafka.js';
import { loadReferenceRun } from '../../../../test/support/reference-runs.js';

const KAFKA_RUNS = ['kafka-single', 'kafka-lossy', 'kafka-local-2node', 'kafka-linkv-2node'] as const;

const loaded = new Map<string, ReturnType<typeof loadReferenceRun>>();
function load(name: string): ReturnType<typeof loadReferenceRun> {
  let run = loaded.get(name);
  if (!run) loaded.set(name, (run = loadReferenceRun(name)));
  return run;
}

type Obj = { [key: string]: Json };

/** inconsistent-offsets entries with their `values` set sorted. */
function withValueSetsSorted(section: Obj): Obj {
  const copy: Obj = JSON.parse(JSON.stringify(section)) as Obj;
  const inconsistent = copy['inconsistent-offsets'] as Obj | undefined;
  if (inconsistent && Array.isArray(inconsistent.errs)) {
    for (const entry of inconsistent.errs as Obj[]) (entry.values as number[]).sort((a, b) => a - b);
  }
  return copy;
}

describe.each(KAFKA_RUNS)('kafka reference run %s', (name) => {
  const run = load(name);
  const theirs = withValueSetsSorted(run.results.workload as Obj);
  const ours = withValueSetsSorted(checkKafka(run.history) as Obj);

  it('has the same set of result keys', () => {
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
  });

  it.each(Object.keys(theirs))('reproduces %s', (key) => {
    expect(ours[key]).toEqual(theirs[key]);
  });
});

describe('kafka reference runs', () => {
  it('cover the interesting branches (a valid run, inconsistent offsets, nonmonotonic sends, unseen)', () => {
    const types = new Set(KAFKA_RUNS.flatMap((name) => (load(name).results.workload as Obj)['error-types'] as string[]));
    expect([...types].sort()).toEqual(['inconsistent-offsets', 'nonmonotonic-send', 'unseen']);
  });
});

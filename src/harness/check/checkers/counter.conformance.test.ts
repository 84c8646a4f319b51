// Replays the real Maelstrom counter and g-set runs through our checkers and demands Maelstrom's
// whole `workload` section: checkCounter for g-counter / pn-counter, set-full with g-set's
// semantics (f "add", reads under `value`) for g-set.

import { describe, expect, it } from 'vitest';
import type { Json } from '../../types.js';
import { checkCounter } from './counter.js';
import { compareValues } from './json-values.js';
import { loadReferenceRun } from '../../../../test/support/reference-runs.js';
import { checkSetFull } from './set-full.js';

type JsonObject = { [key: string]: Json };

function workloadSection(results: JsonObject): JsonObject {
  return results.workload as JsonObject;
}

describe.each([
  ['g-counter-crdt', true],
  ['g-counter-local', false],
  ['pn-counter-crdt', true],
])('counter reference run %s', (name, valid) => {
  const run = loadReferenceRun(name);

  it("checkCounter reproduces Maelstrom's workload section", () => {
    expect(checkCounter(run.history)).toEqual(workloadSection(run.results));
  });

  it(`is ${valid ? 'valid' : 'invalid'}, as Maelstrom said`, () => {
    expect(checkCounter(run.history)['valid?']).toBe(valid);
  });
});

describe('g-set reference run g-set-crdt', () => {
  const run = loadReferenceRun('g-set-crdt');
  // results.json holds Clojure sets as arrays in no meaningful order
  const setKeys = ['lost', 'never-read', 'stale'];
  const sorted = (section: { [key: string]: Json | undefined }) => {
    const copy = { ...section };
    for (const key of setKeys) {
      const value = copy[key];
      if (Array.isArray(value)) copy[key] = [...value].sort(compareValues);
    }
    return copy;
  };

  it("set-full with g-set's add/read reproduces Maelstrom's workload section", () => {
    expect(run.command).toContain('-w g-set');
    expect(sorted(checkSetFull(run.history, { addF: 'add' }))).toEqual(sorted(workloadSection(run.results)));
  });
});

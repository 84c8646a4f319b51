// Replays the real Maelstrom runs in test/reference-runs through our checkers and demands
// the same results Maelstrom wrote: the whole `workload` section for echo, broadcast and g-set,
// and `stats` / `availability` for every run.

import { describe, expect, it } from 'vitest';
import type { Json } from '../../types.js';
import { getWorkload } from '../../workloads/index.js';
import { checkAvailability } from './availability.js';
import { loadReferenceRun, referenceRunNames, type ReferenceRun } from '../../../../test/support/reference-runs.js';
import { checkSetFull } from './set-full.js';
import { checkStats } from './stats.js';
import { compareValues } from './json-values.js';

const runs = referenceRunNames();
const loaded = new Map<string, ReferenceRun>();
function load(name: string): ReferenceRun {
  let run = loaded.get(name);
  if (!run) {
    run = loadReferenceRun(name);
    loaded.set(name, run);
  }
  return run;
}

/** Results keys that hold sets (order not meaningful in results.json), per workload checker. */
const SET_KEYS: Record<string, readonly string[]> = {
  'set-full': ['lost', 'never-read', 'stale'],
  echo: ['errors'],
};

function sortedCopy(values: Json[]): Json[] {
  return [...values].sort((a, b) => {
    try {
      return compareValues(a, b);
    } catch {
      return JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
    }
  });
}

function withSetsSorted(result: { [key: string]: Json | undefined }, keys: readonly string[]) {
  const copy: { [key: string]: Json | undefined } = { ...result };
  for (const key of keys) {
    const value = copy[key];
    if (Array.isArray(value)) copy[key] = sortedCopy(value);
  }
  return copy;
}

function workloadOf(results: { [key: string]: Json }): { [key: string]: Json } {
  return results.workload as { [key: string]: Json };
}

function workloadName(command: string): string {
  const match = /-w\s+(\S+)/.exec(command);
  if (!match?.[1]) throw new Error(`no workload in ${command}`);
  return match[1];
}

describe('reference runs', () => {
  it('are all in the repository', () => {
    expect(runs.length).toBe(23);
  });

  describe.each(runs)('%s', (name) => {
    const run = load(name);

    it('stats match Maelstrom', () => {
      expect(checkStats(run.history)).toEqual(run.results.stats);
    });

    it('availability matches Maelstrom', () => {
      expect(checkAvailability(run.history, run.availability)).toEqual(run.results.availability);
    });

    const workload = workloadName(run.command);
    if (workload === 'echo' || workload === 'broadcast') {
      it(`the ${workload} workload checker reproduces Maelstrom's workload section`, async () => {
        const checker = getWorkload(workload);
        expect(checker).toBeDefined();
        const ours = (await checker?.check(run.history, { opts: {} as never, deadlineMs: Date.now() + 60_000 }))?.workload ?? {};
        const keys = SET_KEYS[workload === 'echo' ? 'echo' : 'set-full'] ?? [];
        expect(withSetsSorted(ours, keys)).toEqual(withSetsSorted(workloadOf(run.results), keys));
      });
    }

    if (workload === 'g-set') {
      it("set-full reproduces Maelstrom's workload section", () => {
        const keys = SET_KEYS['set-full'] ?? [];
        expect(withSetsSorted(checkSetFull(run.history), keys)).toEqual(
          withSetsSorted(workloadOf(run.results), keys),
        );
      });
    }

    if (workload === 'broadcast' || workload === 'g-set') {
      it('lists lost, never-read and stale elements in ascending order, as Jepsen sorts them', () => {
        const ours = checkSetFull(run.history, { addF: workload === 'broadcast' ? 'broadcast' : 'add' });
        for (const key of ['lost', 'never-read', 'stale']) {
          const values = ours[key] as Json[];
          expect(values).toEqual(sortedCopy(values));
        }
      });
    }
  });

  it('exercise the interesting branches somewhere (lost elements, unknown stats, fractional availability)', () => {
    const all = runs.map(load);
    const setFullLost = all.some((r) => (workloadOf(r.results)['lost-count'] ?? 0) !== 0);
    const fractional = all.some((r) => {
      const a = r.results.availability as { [key: string]: Json };
      return a['ok-fraction'] !== 1;
    });
    const fWithoutOk = all.some((r) => {
      const byF = (r.results.stats as { [key: string]: Json })['by-f'] as { [f: string]: { [k: string]: Json } };
      return Object.values(byF).some((c) => c['ok-count'] === 0);
    });
    expect([setFullLost, fractional, fWithoutOk]).toEqual([true, true, true]);
  });
});

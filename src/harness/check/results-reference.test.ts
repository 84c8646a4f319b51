// assembleResults on a real Maelstrom history, with the real shared checkers: the sections that
// depend only on the history must come out as Maelstrom wrote them.
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../types.js';
import { assembleResults } from './results.js';
import { loadReferenceHistory, loadReferenceResults, runOutput } from '../../../test/support/report-fixtures.js';

describe('assembleResults against reference runs', () => {
  for (const name of ['broadcast-gossip-partition', 'lin-kv-raft', 'kafka-single']) {
    it(`reproduces the history-only sections of ${name}`, () => {
      const reference = loadReferenceResults(name);
      const results = assembleResults(
        runOutput({ history: loadReferenceHistory(name) }, reference['workload'] as CheckResult),
      );
      const json = JSON.parse(JSON.stringify(results)) as Record<string, unknown>;
      for (const key of Object.keys(reference)) expect(json).toHaveProperty([key]);
      for (const key of ['perf', 'timeline', 'exceptions', 'stats', 'availability', 'valid?']) {
        expect(json[key], key).toEqual(reference[key]);
      }
    });
  }
});

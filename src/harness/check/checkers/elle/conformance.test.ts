// Parity with Maelstrom on the transaction reference runs. Compared exactly: valid?, the set of
// anomaly types (minus cycle-search-timeout, which depends on machine speed), not/also-not as
// sets, and the counts of every non-cycle anomaly. Cycle counts are not compared: Elle searches
// start vertices in hash order and keeps the first loop it finds, so which cycle (and so which
// classified type per SCC) it reports varies; the set of types found is what we hold equal.

import { describe, expect, it } from 'vitest';
import { loadReferenceRun } from '../../../../../test/support/reference-runs.js';
import type { Json } from '../../../types.js';
import { checkListAppend, checkRwRegister } from './index.js';

const runs = ['txn-append-lazy-ser', 'txn-list-append-lin-kv', 'txn-rw-lazy-rc-partition', 'txn-rw-local-rc', 'txn-rw-local-ss', 'txn-rw-single'];
const cycleTypePattern = /^(G0|G1c|G-single|G-nonadjacent|G2)(-item)?(-process|-realtime)?$|-cycle-exists$/;

function counts(anomalies: Json | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (anomalies === null || anomalies === undefined || typeof anomalies !== 'object' || Array.isArray(anomalies)) return out;
  for (const [k, v] of Object.entries(anomalies)) if (!cycleTypePattern.test(k) && k !== 'cycle-search-timeout') out[k] = Array.isArray(v) ? v.length : 1;
  return out;
}

const withoutTimeout = (types: Json | undefined): string[] => ((types as string[] | undefined) ?? []).filter((t) => t !== 'cycle-search-timeout').sort();
const asSet = (xs: Json | undefined): string[] => [...((xs as string[] | undefined) ?? [])].sort();

describe('txn checkers agree with Maelstrom on the reference runs', () => {
  for (const name of runs) {
    it(name, () => {
      const run = loadReferenceRun(name);
      const flag = /--consistency-models\s+(\S+)/.exec(run.command);
      const models = flag ? [flag[1] as string] : ['strict-serializable'];
      const check = name.includes('append') ? checkListAppend : checkRwRegister;
      const ours = check(run.history, { consistencyModels: models }).workload;
      const ref = run.results.workload as { [key: string]: Json };
      expect(ours['valid?']).toBe(ref['valid?']);
      expect(withoutTimeout(ours['anomaly-types'])).toEqual(withoutTimeout(ref['anomaly-types']));
      expect(asSet(ours.not)).toEqual(asSet(ref.not));
      expect(asSet(ours['also-not'])).toEqual(asSet(ref['also-not']));
      expect(counts(ours.anomalies)).toEqual(counts(ref.anomalies));
      // same top-level keys as Maelstrom's result
      expect(Object.keys(ours).filter((k) => k !== 'error').sort()).toEqual(Object.keys(ref).sort());
    });
  }
});

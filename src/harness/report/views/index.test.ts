import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../types.js';
import { assembleResults } from '../../check/results.js';
import { formatSummary } from '../summary.js';
import { runOutput, testOptions } from '../../../../test/support/report-fixtures.js';
import { viewFor, workloadViewHtml, workloadViewSummary } from './index.js';

describe('workload views', () => {
  it('are picked by workload name', () => {
    for (const name of ['kafka', 'lin-kv', 'txn-rw-register', 'txn-list-append']) expect(viewFor(name)).toBeDefined();
    expect(viewFor('txn-rw-register')).toBe(viewFor('txn-list-append'));
    expect(viewFor('broadcast')).toBeUndefined();
  });

  it('add nothing for a workload without a view', () => {
    const out = runOutput({ opts: testOptions({ workload: 'broadcast' }) });
    const results = assembleResults(out);
    expect(workloadViewHtml(results, out)).toBe('');
    expect(workloadViewSummary(results, out)).toEqual([]);
    expect(formatSummary(results, out)).not.toContain('Findings:');
  });

  it('say so, escaped, instead of breaking the report when a view fails', () => {
    const out = runOutput({ opts: testOptions({ workload: 'lin-kv' }) });
    const results = assembleResults(out);
    const exploding = new Proxy({} as CheckResult, {
      get() {
        throw new Error('bad <data>');
      },
    });
    const broken = { ...results, workload: exploding };
    expect(workloadViewHtml(broken, out)).toContain('This view could not be drawn: Error: bad &lt;data&gt;');
    expect(workloadViewSummary(broken, out)).toEqual(['(the lin-kv view could not summarise the findings: Error: bad <data>)']);
  });
});

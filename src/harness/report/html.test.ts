import { describe, expect, it } from 'vitest';
import type { CheckResult, JournalEvent } from '../types.js';
import { completedOps, partitionIntervals, renderReportHtml } from './html.js';
import { diagramMessages } from './messages.js';
import { assembleResults } from '../check/results.js';
import { exchange, loadReferenceHistory, loadReferenceResults, runOutput, syntheticJournal } from '../../../test/support/report-fixtures.js';

const history = loadReferenceHistory('broadcast-gossip-partition');

describe('history-derived plot data', () => {
  it('pairs invokes with completions per process and ignores the nemesis', () => {
    const ops = completedOps(history);
    expect(ops.length).toBe(200); // the reference run's stats count
    expect(ops.every((op) => op.latencyMs >= 0 && op.endS >= op.startS)).toBe(true);
  });

  it('finds partitions from start to the next stop', () => {
    // reference run: starts at 0.043 s and 14.016 s, stops at 7.936 s and 19.878 s
    const intervals = partitionIntervals(history, 30);
    expect(intervals).toHaveLength(2);
    expect(intervals[0]?.from).toBeCloseTo(0.0429, 3);
    expect(intervals[0]?.to).toBeCloseTo(7.9356, 3);
    expect(intervals[1]?.from).toBeCloseTo(14.0156, 3);
  });

  it('keeps the first messages with their receive times, dropped ones without', () => {
    const journal: JournalEvent[] = [
      ...exchange('n0', 'n1', 'gossip', 1, { id: 1, latencyMs: 2 }),
      ...exchange('n0', 'n2', 'gossip', 1, { id: 2, dropped: true }),
      ...exchange('n1', 'n2', 'gossip', 5, { id: 3 }),
    ];
    const messages = diagramMessages(journal, 2);
    expect(messages.map((m) => m.id)).toEqual([1, 2]);
    expect(messages[0]?.recvNs).toBe(3e6);
    expect(messages[1]?.recvNs).toBeUndefined();
  });
});

describe('renderReportHtml', () => {
  const evilType = '<script>alert("x")</script>';
  const journal = [...syntheticJournal(120), ...exchange('n0', 'n1', evilType, 500, { latencyMs: 3 })];
  const run = runOutput({
    history,
    journal,
    problems: [
      { node: 'n3', kind: 'exit', detail: 'exited with <img src=x onerror=alert(1)>', stderrTail: ['<b>boom</b> & more'] },
    ],
  }, loadReferenceResults('broadcast-gossip-partition')['workload'] as CheckResult);
  const html = renderReportHtml(assembleResults(run), run);

  it('has one svg per plot', () => {
    expect(html.match(/<svg\b/g)).toHaveLength(5);
    for (const id of ['nemesis', 'latency-raw', 'latency-quantiles', 'rate', 'messages']) expect(html).toContain(`<svg id="${id}"`);
  });

  it('escapes node-provided strings', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>boom');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;b&gt;boom&lt;/b&gt; &amp; more');
  });

  it('is self-contained', () => {
    expect(html).not.toMatch(/<script|<link|\bsrc="|href="http|@import|url\(http/i);
  });

  it('shades partitions in each time plot and marks dropped messages', () => {
    expect(html.match(/class="partition"/g)?.length).toBe(2 * 3);
    expect(html).toContain('class="msg dropped"');
  });

  it('shows the verdict, net stats and stable latencies in the summary', () => {
    expect(html).toContain('badge bad'); // the crashed node makes the run invalid
    expect(html).toContain('msgs-per-op');
    expect(html).toContain('stable latencies (ms)');
    expect(html).toContain('<td>1476</td>'); // the reference run's median
  });
});

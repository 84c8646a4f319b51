import { describe, expect, it } from 'vitest';
import type { Op } from '../../types.js';
import { checkLinKv } from '../../check/checkers/linearizable.js';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import { formatSummary } from '../summary.js';
import { assembleResults } from '../../check/results.js';
import { runOutput, testOptions } from '../../../../test/support/report-fixtures.js';
import { workloadViewHtml, workloadViewSummary } from './index.js';
import { BAR_LIMIT, DRAWN_KEY_LIMIT } from './linearizable.js';

const MS = 1e6;

function run(history: Op[]) {
  const out = runOutput({ history, opts: testOptions({ workload: 'lin-kv', nemesis: [] }), verdict: { workload: checkLinKv(history) } });
  return { results: assembleResults(out), out };
}

/** Key 7: process 0 writes 1 then 2, and afterwards process 1 reads 1 (a stale read). */
function staleRead(key: number | string = 7, padding = 0, startNs = 0) {
  const h = historyBuilder();
  let t = startNs;
  // sequential writes before the interesting part, to make the key's history long
  for (let i = 0; i < padding; i++) {
    h.invoke(2 + (i % 3), 'write', [key, i % 5], (t += MS));
    h.complete(2 + (i % 3), 'ok', 'write', [key, i % 5], (t += MS));
  }
  h.invoke(0, 'write', [key, 1], (t += MS));
  h.complete(0, 'ok', 'write', [key, 1], (t += MS));
  h.invoke(0, 'write', [key, 2], (t += MS));
  h.complete(0, 'ok', 'write', [key, 2], (t += MS));
  const read = h.invoke(1, 'read', [key, null], (t += MS));
  h.complete(1, 'ok', 'read', [key, 1], (t += MS));
  return { ops: h.ops, read, endNs: t };
}

const drawings = (html: string): string[] => html.match(/<svg id="lin-key-\d+"[\s\S]*?<\/svg>/g) ?? [];

describe('lin-kv view: a key that is not linearizable', () => {
  const { ops, read } = staleRead();
  const { results, out } = run(ops);
  const html = workloadViewHtml(results, out);

  it('draws the key\'s operations as bars, one row per process, with the blocked read highlighted', () => {
    expect(results.workload['valid?']).toBe(false);
    const svg = drawings(html)[0] ?? '';
    expect(svg).not.toBe('');
    expect(svg.match(/<g class="opbar"/g)).toHaveLength(3);
    expect(svg).toContain('>n0 · p0</text>');
    expect(svg).toContain('>n1 · p1</text>');
    const blocked = svg.match(/<g class="opbar" data-id="(\d+)">[^]*?<\/g>/g)?.filter((g) => g.includes('bar blocked')) ?? [];
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toContain(`data-id="${read.index}"`);
    expect(blocked[0]).toContain('cannot be placed: the register could only hold 2');
  });

  it('shows the linearized prefix: both writes, numbered, with the value after each', () => {
    const svg = drawings(html)[0] ?? '';
    expect(svg.match(/class="bar prefix"/g)).toHaveLength(2);
    expect(svg).toContain('#1→1');
    expect(svg).toContain('#2→2');
    expect(html).toContain('<td class="l">write of 2 (ok)</td><td>2</td>');
    expect(html).toContain('cannot be placed: possible values 2');
  });

  it('names the key and the operation in the console summary', () => {
    const lines = workloadViewSummary(results, out);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^key 7: read of 1 by process 1 at 0\.005–0\.006 s cannot be placed: .* holds 2$/);
    expect(formatSummary(results, out)).toContain('Findings:\n  key 7: read of 1 by process 1');
  });
});

describe('lin-kv view: bounds', () => {
  it('draws at most BAR_LIMIT bars of a long key, around the blocked one, and says so', () => {
    const { ops, read } = staleRead(3, 500);
    const { results, out } = run(ops);
    const html = workloadViewHtml(results, out);
    const svg = drawings(html)[0] ?? '';
    expect(svg.match(/<g class="opbar"/g)).toHaveLength(BAR_LIMIT);
    expect(svg).toContain(`data-id="${read.index}"`);
    expect(html).toMatch(/Showing operations \d+–\d+ of this key&#39;s 503/);
    expect(html).toContain('The last 15 of');
    expect(html.length).toBeLessThan(100_000);
  });

  it('draws the first DRAWN_KEY_LIMIT failing keys and names every failing key in words', () => {
    const all: Op[] = [];
    let t = 0;
    for (let key = 0; key < DRAWN_KEY_LIMIT + 12; key++) {
      const { ops, endNs } = staleRead(key, 0, t);
      t = endNs;
      for (const op of ops) all.push({ ...op, index: all.length });
    }
    const { results, out } = run(all);
    const html = workloadViewHtml(results, out);
    expect(drawings(html)).toHaveLength(DRAWN_KEY_LIMIT);
    expect(html.match(/<div class="finding">/g)).toHaveLength(DRAWN_KEY_LIMIT + 12);
    const lines = workloadViewSummary(results, out);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe(`... and ${DRAWN_KEY_LIMIT + 2} more (see report.html)`);
  });
});

describe('lin-kv view: other cases', () => {
  it('says every key is linearizable when it is', () => {
    const h = historyBuilder();
    h.invoke(0, 'write', [1, 4], 1 * MS);
    h.complete(0, 'ok', 'write', [1, 4], 2 * MS);
    h.invoke(1, 'read', [1, null], 3 * MS);
    h.complete(1, 'ok', 'read', [1, 4], 4 * MS);
    const { results, out } = run(h.ops);
    expect(workloadViewHtml(results, out)).toContain('Every key (1) is linearizable.');
    expect(workloadViewSummary(results, out)).toEqual([]);
  });

  it('escapes keys and values chosen by nodes', () => {
    const { ops } = staleRead('<img src=x>');
    const { results, out } = run(ops);
    const html = workloadViewHtml(results, out);
    expect(html).not.toContain('<img');
    expect(html).toContain('key &lt;img src=x&gt;');
  });

  it('names a key whose check was unknown, with the reason', () => {
    const out = runOutput(
      { opts: testOptions({ workload: 'lin-kv', nemesis: [] }) },
      { 'valid?': 'unknown', results: { '5': { 'valid?': 'unknown', linearizable: { 'valid?': 'unknown', cause: 'ran out of time' } } }, failures: [] },
    );
    const results = assembleResults(out);
    expect(workloadViewHtml(results, out)).toContain('No explanation: ran out of time');
    expect(workloadViewSummary(results, out)).toEqual(['key 5: valid? "unknown" (ran out of time)']);
  });
});

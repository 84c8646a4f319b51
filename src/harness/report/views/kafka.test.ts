import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../../types.js';
import { checkKafkaWithReport, type KafkaReportData } from '../../check/checkers/kafka.js';
import { KafkaHistory } from '../../../../test/support/kafka-history.js';
import { formatSummary } from '../summary.js';
import { renderReportHtml } from '../html.js';
import { assembleResults } from '../../check/results.js';
import { runOutput, testOptions } from '../../../../test/support/report-fixtures.js';
import { workloadViewHtml, workloadViewSummary } from './index.js';
import { ERROR_ROW_LIMIT, LAG_KEY_LIMIT, LAG_POINT_LIMIT } from './kafka.js';

/** The checker's report data in the shape the kafka workload stores it (results.glomers.workload). */
function asExtra(report: KafkaReportData): { [key: string]: Json } {
  return {
    'realtime-lag': report.lag.map(({ key, points }) => ({ key, points })),
    errors: report.errors.map((e) => ({ type: e.type, key: e.key, offsets: e.offsets, ops: e.ops, text: e.text })),
    'error-counts': report.errorCounts,
  };
}

function run(history: Op[], workload: Json extends never ? never : { [key: string]: Json | undefined } & { 'valid?': boolean | 'unknown' }, extra: { [key: string]: Json }) {
  const out = runOutput({ history, opts: testOptions({ workload: 'kafka', nemesis: [] }), verdict: { workload, extra } });
  return { results: assembleResults(out), out };
}

function checked(history: Op[]) {
  const { result, report } = checkKafkaWithReport(history);
  return run(history, result, asExtra(report));
}

/** The row of the errors table (not the counts table) for the first error of a type. */
const errorRow = (html: string, type: string): string | undefined =>
  html.match(new RegExp(`<tr><td class="l">${type}</td><td>[^<]*</td><td>[^<]*</td><td class="words">.*?</tr>`))?.[0];

const lagLines = (html: string): string[] => html.match(/<polyline class="lag"[^>]*>/g) ?? [];

describe('kafka view: realtime lag', () => {
  it('draws one line per key', () => {
    const h = new KafkaHistory(0.1);
    h.assign(1, ['a', 'b', 'c']);
    for (let i = 0; i < 5; i++) {
      for (const key of ['a', 'b', 'c']) h.send(0, key, i, i);
      h.poll(1, i === 0 ? {} : { a: [[i - 1, i - 1]], b: [[i - 1, i - 1]], c: [[i - 1, i - 1]] });
    }
    h.poll(1, { a: [[4, 4]], b: [[4, 4]], c: [[4, 4]] });
    const { results, out } = checked(h.ops);
    const html = workloadViewHtml(results, out);
    const lines = lagLines(html);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.match(/data-key="(\w)"/)?.[1]).sort()).toEqual(['a', 'b', 'c']);
    expect(html).toContain('<svg id="kafka-lag"');
    expect(renderReportHtml(results, out)).toContain('<svg id="kafka-lag"');
  });

  it('draws at most LAG_KEY_LIMIT keys (the worst) and LAG_POINT_LIMIT points, and says so', () => {
    const keys = LAG_KEY_LIMIT + 50;
    const lag = Array.from({ length: keys }, (_, k) => ({
      key: `k${k}`,
      points: Array.from({ length: 100 }, (_, i) => [i / 10, (k === 7 ? 100 : 1) + (i % 3)] as Json),
    }));
    const { results, out } = run([], { 'valid?': true, 'bad-error-types': [] }, { 'realtime-lag': lag, errors: [], 'error-counts': {} });
    const html = workloadViewHtml(results, out);
    const lines = lagLines(html);
    expect(lines).toHaveLength(LAG_KEY_LIMIT);
    expect(lines[lines.length - 1]).toContain('data-key="k7"'); // the worst, drawn last (on top)
    const points = lines.reduce((n, l) => n + (l.match(/points="([^"]*)"/)?.[1]?.split(' ').length ?? 0), 0);
    expect(points).toBeLessThanOrEqual(LAG_POINT_LIMIT);
    expect(html).toContain(`Showing ${LAG_KEY_LIMIT} of ${keys} keys`);
    expect(html).toContain('key k7 (102.00 s)');
  });
});

describe('kafka view: errors in words', () => {
  // a lost write: offset 0 of key a acknowledged, never polled, though offset 1 was
  const h = new KafkaHistory();
  const writer = h.send(0, 'a', 1, 0);
  h.send(0, 'a', 2, 1);
  const reader = h.poll(1, { a: [[1, 2]] });
  const { results, out } = checked(h.ops);
  const html = workloadViewHtml(results, out);

  it('lists each error with its key, offsets and the operations involved', () => {
    expect(results.workload['bad-error-types']).toContain('lost-write');
    const row = errorRow(html, 'lost-write') ?? '';
    expect(row).toContain('<td>a</td><td>0, 1</td>'); // the lost offset and the highest polled
    expect(row).toContain(`op ${writer.index}: process 0, ok send at 0.020 s: sent 1 at offset 0`);
    expect(row).toContain(`op ${reader.index}: process 1, ok poll at 0.060 s: polled offset:message 1:2`);
    expect(html).toMatch(/<td class="l">lost-write<\/td><td>1<\/td><td>1<\/td><td class="l"><span class="badge bad">invalidates/);
  });

  it('finds the operations of an unseen message in the history', () => {
    const row = errorRow(html, 'unseen') ?? '';
    expect(row).toContain('<td>a</td><td>0</td>'); // offset 0 was never polled
    expect(row).toContain(`op ${writer.index}: process 0, ok send`);
  });

  it('names the errors in the console summary', () => {
    const lines = workloadViewSummary(results, out);
    expect(lines[0]).toBe('kafka: lost-write ×1, unseen ×1');
    expect(lines.some((l) => /^kafka: lost-write on key a at offsets 0, 1: Message 1 of key a \(offset 0\) was acknowledged/.test(l))).toBe(true);
    expect(formatSummary(results, out)).toContain('Findings:\n  kafka: lost-write ×1');
  });
});

describe('kafka view: bounds and escaping', () => {
  const errors = Array.from({ length: ERROR_ROW_LIMIT + 100 }, (_, i) => ({
    type: 'duplicate',
    key: i === 0 ? '<script>x</script>' : `k${i}`,
    offsets: [i, i + 1],
    ops: [],
    text: `Message ${i} appears twice <b>`,
  }));
  const { results, out } = run([], { 'valid?': false, 'bad-error-types': ['duplicate'] }, { 'realtime-lag': [], errors, 'error-counts': { duplicate: 5000 } });
  const html = workloadViewHtml(results, out);

  it('lists at most ERROR_ROW_LIMIT errors and says how many there are', () => {
    expect(html.match(/<tr><td class="l">duplicate<\/td><td>[^<]*<\/td><td>[^<]*<\/td><td class="words">/g)).toHaveLength(ERROR_ROW_LIMIT);
    expect(html).toContain(`Showing ${ERROR_ROW_LIMIT} of 5000 errors`);
    const lines = workloadViewSummary(results, out);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe('... and 4991 more (see report.html)');
  });

  it('escapes keys and texts', () => {
    expect(html).not.toMatch(/<script|<b>/);
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('says when the checker could not finish', () => {
    const { results, out } = run([], { 'valid?': 'unknown', error: 'deadline passed in <lost writes>' }, { 'realtime-lag': [], errors: [], 'error-counts': {} });
    const page = workloadViewHtml(results, out);
    expect(page).toContain('The checker could not finish: deadline passed in &lt;lost writes&gt;');
    expect(page).toContain('No errors were found before it stopped.');
    expect(page).not.toContain('The checker found no errors.');
  });

  it('notes when the checker left no report data', () => {
    const bare = runOutput({ opts: testOptions({ workload: 'kafka', nemesis: [] }) }, { 'valid?': 'unknown', error: 'deadline' });
    expect(workloadViewHtml(assembleResults(bare), bare)).toContain('left no report data');
    expect(workloadViewSummary(assembleResults(bare), bare)).toEqual([]);
  });
});

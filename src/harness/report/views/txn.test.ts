import { describe, expect, it } from 'vitest';
import type { Json, Op } from '../../types.js';
import { checkListAppend, checkRwRegister, type TxnCheckResult } from '../../check/checkers/elle/index.js';
import { glomersExtra } from '../../workloads/txn.js';
import { formatSummary } from '../summary.js';
import { renderReportHtml } from '../html.js';
import { assembleResults } from '../../check/results.js';
import { runOutput, testOptions } from '../../../../test/support/report-fixtures.js';
import { workloadViewHtml, workloadViewSummary } from './index.js';
import { alignMops, BOXES_PER_DRAWING, DRAWN_LIMIT, EDGES_IN_WORDS, LISTED_LIMIT, LISTED_PER_TYPE, drawExplanation, edgePhrase, type Explained } from './txn.js';

type Mop = [string, Json, Json];

/** Transactions that all start before any completes (so they are concurrent). */
function concurrent(txns: Array<{ process: number; request: Mop[]; result?: Mop[] }>, start = 0): Op[] {
  const ops: Op[] = [];
  let t = 0;
  for (const x of txns) {
    ops.push({ index: start + ops.length, time: (t += 1e6), type: 'invoke', process: x.process, f: 'txn', value: x.request.map(([f, k, v]) => [f, k, f === 'r' ? null : v]) });
  }
  for (const x of txns) ops.push({ index: start + ops.length, time: (t += 1e6), type: 'ok', process: x.process, f: 'txn', value: x.result ?? x.request });
  return ops;
}

function run(workload: string, history: Op[], r: TxnCheckResult, strict = false) {
  const out = runOutput({ history, opts: testOptions({ workload, nemesis: [] }), verdict: { workload: r.workload, extra: glomersExtra(r.glomers, strict) } });
  return { results: assembleResults(out), out };
}

const svgs = (html: string, id: RegExp): string[] => html.match(new RegExp(`<svg id="${id.source}"[\\s\\S]*?</svg>`, 'g')) ?? [];

describe('txn view: a G1c cycle of two transactions', () => {
  // each transaction reads the other's append: wr both ways
  const history = concurrent([
    { process: 0, request: [['append', 'x', 1], ['r', 'y', null]], result: [['append', 'x', 1], ['r', 'y', [1]]] },
    { process: 1, request: [['append', 'y', 1], ['r', 'x', null]], result: [['append', 'y', 1], ['r', 'x', [1]]] },
  ]);
  const r = checkListAppend(history, { consistencyModels: ['read-committed'] });
  const { results, out } = run('txn-list-append', history, r);
  const html = workloadViewHtml(results, out);

  it('draws the two transactions as boxes joined by labelled wr edges', () => {
    expect(r.workload['anomaly-types']).toEqual(['G1c']);
    const drawings = svgs(html, /txn-cycle-\d+/);
    expect(drawings).toHaveLength(1);
    const drawing = drawings[0] as string;
    expect(drawing.match(/<g class="tx"/g)).toHaveLength(2);
    expect(drawing).toContain('data-index="2"');
    expect(drawing).toContain('data-index="3"');
    expect(drawing.match(/<g class="edge-wr">/g)).toHaveLength(2);
    expect(drawing).toContain('>wr &quot;x&quot;</text>');
    expect(drawing).toContain('>wr &quot;y&quot;</text>');
    // the box lists its micro-ops; the append and the read each wr edge is about in the edge's colour
    expect(drawing).toContain('style="font-weight:700;fill:#1d4ed8">append &quot;x&quot; 1</text>');
    expect(drawing).toContain('style="font-weight:700;fill:#1d4ed8">r &quot;x&quot; [1]</text>');
  });

  it('says in words which transaction wrote and which read', () => {
    expect(html).toContain('<h3>G1c');
    expect(html).toMatch(/<li>T2 \(index 2, process 0\) wrote &quot;x&quot;=1, T3 \(index 3, process 1\) read &quot;x&quot;=1: wr<\/li>|<li>T3 \(index 3, process 1\) wrote &quot;y&quot;=1, T2 \(index 2, process 0\) read &quot;y&quot;=1: wr<\/li>/);
  });

  it('names the cycle in the console summary', () => {
    const lines = workloadViewSummary(results, out);
    expect(lines[0]).toMatch(/^G1c: T\d wrote "[xy]"=1, T\d read it \(wr\); T\d wrote "[xy]"=1, T\d read it \(wr\)$/);
    const text = formatSummary(results, out);
    expect(text).toContain('Findings:\n  G1c: ');
  });

  it('is part of report.html', () => {
    const page = renderReportHtml(results, out);
    expect(page).toContain('Transactions: anomalies explained');
    expect(svgs(page, /txn-cycle-\d+/)).toHaveLength(1);
  });
});

describe('txn view: ww edges and our own findings', () => {
  it('labels ww edges of a G0 write cycle', () => {
    const history = [
      ...concurrent([
        { process: 0, request: [['append', 'x', 1], ['append', 'y', 2]] },
        { process: 1, request: [['append', 'x', 2], ['append', 'y', 1]] },
      ]),
    ];
    history.push(...concurrent([{ process: 2, request: [['r', 'x', null], ['r', 'y', null]], result: [['r', 'x', [1, 2]], ['r', 'y', [1, 2]]] }], history.length));
    const r = checkListAppend(history, { consistencyModels: ['read-uncommitted'] });
    const { results, out } = run('txn-list-append', history, r);
    const html = workloadViewHtml(results, out);
    const drawing = svgs(html, /txn-cycle-\d+/)[0] ?? '';
    expect(drawing.match(/<g class="edge-ww">/g)).toHaveLength(2);
    expect(drawing).toMatch(/>ww &quot;[xy]&quot;<\/text>/);
    expect(workloadViewSummary(results, out)[0]).toMatch(/^G0: T\d wrote key "[xy]", T\d overwrote it with "[xy]"=\d \(ww\)/);
  });

  it('lists G0 under read-uncommitted (maelstrom#56) as a glomers finding, first, also without --strict', () => {
    const history = concurrent([
      { process: 0, request: [['r', 'x', null], ['w', 'x', 10], ['r', 'x', null], ['w', 'x', 11]], result: [['r', 'x', 1], ['w', 'x', 10], ['r', 'x', 3], ['w', 'x', 11]] },
      {
        process: 1,
        request: [['w', 'x', 1], ['r', 'x', null], ['r', 'x', null], ['w', 'x', 2], ['w', 'x', 3], ['r', 'x', null]],
        result: [['w', 'x', 1], ['r', 'x', 1], ['r', 'x', 10], ['w', 'x', 2], ['w', 'x', 3], ['r', 'x', 3]],
      },
    ]);
    history.push(...concurrent([{ process: 2, request: [['r', 'x', null]], result: [['r', 'x', 11]] }], history.length));
    const r = checkRwRegister(history, { consistencyModels: ['read-uncommitted'] });
    expect(r.workload['valid?']).toBe(true);
    const { results, out } = run('txn-rw-register', history, r);
    expect(results['valid?']).toBe(true);
    const html = workloadViewHtml(results, out);
    expect(html).toContain('glomers found G0; they do not count toward the verdict without --strict');
    expect(html).toContain('<span class="tag extra">glomers finding</span>');
    expect(svgs(html, /txn-cycle-\d+/)[0]).toContain('class="edge-ww"');
    const lines = workloadViewSummary(results, out);
    expect(lines[0]).toMatch(/^G0 \(glomers finding\): /);
    // a valid run still ends with the verdict, the findings come before it
    const text = formatSummary(results, out);
    expect(text).toContain('Findings:\n  G0 (glomers finding)');
    expect(text.trimEnd().endsWith('ノ')).toBe(true);
  });

  it('lists a txn_ok that drops a micro-op (maelstrom#57) in words', () => {
    const history = concurrent([{ process: 0, request: [['r', 'x', null], ['w', 'y', 1]], result: [['w', 'y', 1]] }]);
    const r = checkRwRegister(history, { consistencyModels: ['read-uncommitted'] });
    const { results, out } = run('txn-rw-register', history, r);
    const html = workloadViewHtml(results, out);
    expect(html).toContain('<h3>mop-mismatch');
    expect(html).toMatch(/was dropped/);
    // drawn as the request beside the reply, the dropped read in red
    const drawing = html.match(/<svg id="txn-cycle-\d+" class="mismatch"[\s\S]*?<\/svg>/)?.[0] ?? '';
    expect(drawing).toContain('asked: op 0, process 0');
    expect(drawing).toContain('answered: T1');
    expect(drawing).toContain('style="font-weight:700;fill:#b91c1c">r &quot;x&quot; nil  ✕</text>');
    expect(drawing).toMatch(/class="txmop">w &quot;y&quot; 1<\/text>/); // kept on both sides, not marked
    expect(workloadViewSummary(results, out)[0]).toMatch(/^mop-mismatch \(glomers finding\): T1 .*dropped/);
  });
});

describe('txn view: a list-append read answered as an append (maelstrom#14)', () => {
  it('marks the altered micro-op in the reply', () => {
    const history = concurrent([{ process: 0, request: [['r', 'x', null]], result: [['append', 'x', 1]] }]);
    const r = checkListAppend(history, { consistencyModels: ['read-committed'] });
    const { results, out } = run('txn-list-append', history, r);
    const html = workloadViewHtml(results, out);
    expect(r.glomers['finding-types']).toEqual(['mop-type-mismatch']);
    expect(html).toContain('fill:#b91c1c">append &quot;x&quot; 1  ✕</text>');
    expect(workloadViewSummary(results, out)[0]).toMatch(/^mop-type-mismatch \(glomers finding\): /);
  });

  it('aligns request and reply by their longest common subsequence', () => {
    expect(alignMops(['a', 'b', 'c'], ['a', 'c'])).toEqual({ aKept: [true, false, true], bKept: [true, true] });
    expect(alignMops(['a', 'b'], ['b', 'a']).aKept.filter(Boolean)).toHaveLength(1); // a reorder loses one
  });
});

function explained(i: number, type: string, boxCount: number, txn: Json = [['w', 'x', i]]): Explained {
  const boxes = Array.from({ length: boxCount }, (_, b) => ({ index: i * 100 + b, process: b, txn }));
  const edges = boxes.map((box, b) => ({
    from: box.index,
    to: (boxes[(b + 1) % boxCount] as { index: number }).index,
    kind: 'rw',
    key: 'x',
    value: b,
    why: `why ${b}`,
  }));
  return { type, text: `${type} ${i}`, boxes, edges, source: 'workload', reported: true };
}

function resultsWith(explanations: Explained[]) {
  const extra = {
    'strict-valid?': true,
    strict: false,
    'finding-types': [],
    findings: [],
    explanations: explanations.map((x) => ({ type: x.type, text: x.text, cycle: x.boxes as unknown as Json, edges: x.edges as unknown as Json, source: x.source, reported: x.reported })),
  };
  const out = runOutput({ opts: testOptions({ workload: 'txn-rw-register', nemesis: [] }), verdict: { workload: { 'valid?': false, 'anomaly-types': ['G2-item'] }, extra } });
  return { results: assembleResults(out), out };
}

describe('txn view: bounds and escaping', () => {
  it('lists at most LISTED_PER_TYPE per type and draws a few, and says so', () => {
    const many = Array.from({ length: 100 }, (_, i) => explained(i, 'G2-item', 2));
    const { results, out } = resultsWith(many);
    const html = workloadViewHtml(results, out);
    expect(html.match(/<div class="finding">/g)).toHaveLength(LISTED_PER_TYPE);
    expect(svgs(html, /txn-cycle-\d+/).length).toBeGreaterThan(0);
    expect(svgs(html, /txn-cycle-\d+/).length).toBeLessThanOrEqual(Math.min(3, DRAWN_LIMIT));
    expect(html).toContain(`Showing ${LISTED_PER_TYPE} of 100 explanations`);
    const lines = workloadViewSummary(results, out);
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe('... and 90 more (see report.html)');
  });

  it('explains a long cycle in words without drawing it', () => {
    const long = explained(1, 'G2-item', BOXES_PER_DRAWING + 1);
    expect(drawExplanation(long, 'x')).toBe('');
    expect(drawExplanation(explained(1, 'G2-item', BOXES_PER_DRAWING), 'x')).toContain('<svg');
  });

  it('keeps a page of many long cycles small', () => {
    const long = Array.from({ length: 400 }, (_, i) => explained(i, `G${i % 20}`, 500, [['w', 'x'.repeat(5000), i]]));
    const { results, out } = resultsWith(long);
    const html = workloadViewHtml(results, out);
    expect(html.match(/<div class="finding">/g)).toHaveLength(LISTED_LIMIT);
    expect(html).toContain(`<li>… and ${500 - EDGES_IN_WORDS} more edges</li>`);
    expect(html.length).toBeLessThan(2_000_000);
    for (const line of workloadViewSummary(results, out)) expect(line.length).toBeLessThanOrEqual(300);
  });

  it('draws a G1a read as an arrow from the failed writer to the reader', () => {
    const history = [
      { index: 0, time: 1e6, type: 'invoke', process: 0, f: 'txn', value: [['w', 'x', 1]] },
      { index: 1, time: 2e6, type: 'fail', process: 0, f: 'txn', value: [['w', 'x', 1]] },
      ...concurrent([{ process: 1, request: [['r', 'x', null]], result: [['r', 'x', 1]] }], 2).map((op) => ({ ...op, time: op.time + 2e6 })),
    ] as Op[];
    const r = checkRwRegister(history, { consistencyModels: ['read-committed'] });
    expect(r.workload['anomaly-types']).toContain('G1a');
    const { results, out } = run('txn-rw-register', history, r);
    const drawing = svgs(workloadViewHtml(results, out), /txn-cycle-\d+/)[0] ?? '';
    expect(drawing.match(/<g class="tx"/g)).toHaveLength(2);
    expect(drawing).toContain('>read an aborted write</text>');
  });

  it('escapes values chosen by nodes', () => {
    const evil = explained(1, 'G2-item', 2, [['w', '<script>k</script>', '<img src=x>']]);
    evil.edges[0]!.why = '<b>why</b>';
    const { results, out } = resultsWith([evil]);
    const html = workloadViewHtml(results, out);
    expect(html).not.toMatch(/<script|<img|<b>why/);
    expect(html).toContain('&lt;b&gt;why&lt;/b&gt;');
  });

  it('phrases each edge kind', () => {
    const e = { from: 1, to: 2, key: 'k', value: 5, why: '' };
    expect(edgePhrase({ ...e, kind: 'wr' })).toBe('T1 wrote "k"=5, T2 read it (wr)');
    expect(edgePhrase({ ...e, kind: 'ww' })).toBe('T1 wrote key "k", T2 overwrote it with "k"=5 (ww)');
    expect(edgePhrase({ ...e, kind: 'rw' })).toBe('T1 read key "k", T2 then wrote "k"=5, which T1 did not see (rw)');
    expect(edgePhrase({ ...e, kind: 'realtime' })).toBe('T1 finished before T2 began (realtime)');
  });

  it('says when the checker left no explanations', () => {
    const out = runOutput({ opts: testOptions({ workload: 'txn-list-append', nemesis: [] }), verdict: { workload: { 'valid?': 'unknown', error: 'deadline' } } });
    const html = workloadViewHtml(assembleResults(out), out);
    expect(html).toContain('left no explanations');
    expect(workloadViewSummary(assembleResults(out), out)).toEqual([]);
  });
});

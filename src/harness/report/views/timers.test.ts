import { describe, expect, it } from 'vitest';
import { historyBuilder } from '../../../../test/support/history-builder.js';
import { runOutput, testOptions } from '../../../../test/support/report-fixtures.js';
import { checkTimers, type Fire } from '../../check/checkers/timers.js';
import { assembleResults } from '../../check/results.js';
import { timersView } from './timers.js';

const T0 = 1_733_338_800_000;
const fire = (timer: string, atMs: number): Fire => ({ timer, node: 'n1', atMs, epochMs: T0 + atMs, known: true });

function results() {
  const b = historyBuilder();
  b.nemesis('kill', 'one', 100e6);
  b.nemesis('kill', { n0: 'killed' }, 101e6);
  b.nemesis('start', 'all', 900e6);
  b.nemesis('start', { n0: 'started' }, 901e6);
  for (const [p, timer, dueAtMs] of [[0, 'ok1', 200], [1, 'lost', 300], [2, 'twice', 400]] as const) {
    const value = { timer, due_ms: T0 + dueAtMs };
    b.invoke(p, 'schedule', value, 0);
    b.complete(p, 'ok', 'schedule', value, 1e6);
  }
  const verdict = checkTimers(b.ops, [fire('ok1', 210), fire('twice', 420), fire('twice', 950)], { exactlyOnce: false });
  const out = runOutput({ history: b.ops, opts: testOptions({ workload: 'timers', nemesis: ['kill'] }), verdict });
  return { results: assembleResults(out), history: b.ops, opts: out.opts };
}

describe('timers view', () => {
  it('gives lateness in figures without a second plot of it, and names every error with its timer, ops and fires', () => {
    const { results: r, history, opts } = results();
    const html = timersView.render(r, { history, opts });
    // the lateness plot is the checker's explanation (under "Why"), drawn once
    expect(html).not.toContain('<svg');
    expect(html).toMatch(/in ms: 0\.5: \d+/);
    expect(html).toContain('missed: timer lost');
    expect(html).toContain('never fired');
    expect(html).toContain('duplicated: timer twice');
    expect(html).toContain('fired by n1 at 0.950 s (550 ms late)');
  });

  it('summarises the counts and the errors in a few lines', () => {
    const { results: r, history, opts } = results();
    const lines = timersView.summary(r, { history, opts });
    expect(lines[0]).toMatch(/^timers: missed 1, early 0, phantom 0, fired-after-cancel 0, duplicated 1; lateness p99 \d+ ms/);
    expect(lines.some((line) => line.startsWith('missed: timer lost'))).toBe(true);
  });
});

// `glomers test --challenge NAME`: a Gossip Glomers challenge's command line (docs/protocol.md §8),
// checked before the run, and its published limits, graded after it. A run under --challenge is
// judged by the challenge: a missed limit makes it invalid (exit 1), and glomers.challenge in
// results.json says which limit and by how much.
import { parseTestArgs } from '../cli/cli.js';
import type { CheckResult, Json, TestOptions, Validity } from '../types.js';

/** One published limit: the figure must stay strictly below `below`. */
interface Limit {
  figure: 'msgs-per-op' | 'stable-latency-median-ms' | 'stable-latency-max-ms';
  below: number;
}

interface Challenge {
  /** docs/protocol.md §8's command lines after `test`, B standing for the node; 6b has two */
  lines: readonly string[];
  limits: readonly Limit[];
}

const BROADCAST_25 = '-w broadcast --bin B --node-count 25 --time-limit 20 --rate 100 --latency 100';
const KAFKA = '-w kafka --bin B --concurrency 2n --time-limit 20 --rate 1000';
const TXN = '-w txn-rw-register --bin B --node-count 2 --concurrency 2n --time-limit 20 --rate 1000';

export const CHALLENGES: { readonly [name: string]: Challenge } = {
  '1': { lines: ['-w echo --bin B --node-count 1 --time-limit 10'], limits: [] },
  '2': { lines: ['-w unique-ids --bin B --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition'], limits: [] },
  '3a': { lines: ['-w broadcast --bin B --node-count 1 --time-limit 20 --rate 10'], limits: [] },
  '3b': { lines: ['-w broadcast --bin B --node-count 5 --time-limit 20 --rate 10'], limits: [] },
  '3c': { lines: ['-w broadcast --bin B --node-count 5 --time-limit 20 --rate 10 --nemesis partition'], limits: [] },
  '3d': {
    lines: [BROADCAST_25],
    limits: [
      { figure: 'msgs-per-op', below: 30 },
      { figure: 'stable-latency-median-ms', below: 400 },
      { figure: 'stable-latency-max-ms', below: 600 },
    ],
  },
  '3e': {
    lines: [BROADCAST_25],
    limits: [
      { figure: 'msgs-per-op', below: 20 },
      { figure: 'stable-latency-median-ms', below: 1000 },
      { figure: 'stable-latency-max-ms', below: 2000 },
    ],
  },
  '4': { lines: ['-w g-counter --bin B --node-count 3 --rate 100 --time-limit 20 --nemesis partition'], limits: [] },
  '5a': { lines: [`${KAFKA} --node-count 1`], limits: [] },
  '5b': { lines: [`${KAFKA} --node-count 2`], limits: [] },
  '5c': { lines: [`${KAFKA} --node-count 2`], limits: [] },
  '6a': {
    lines: ['-w txn-rw-register --bin B --node-count 1 --time-limit 20 --rate 1000 --concurrency 2n --consistency-models read-uncommitted --availability total'],
    limits: [],
  },
  '6b': {
    lines: [`${TXN} --consistency-models read-uncommitted`, `${TXN} --consistency-models read-uncommitted --availability total --nemesis partition`],
    limits: [],
  },
  '6c': { lines: [`${TXN} --consistency-models read-committed --availability total --nemesis partition`], limits: [] },
};

/** The settings a challenge fixes; the rest (seed, store, logging, the node's own arguments) are free. */
function fixedSettings(opts: TestOptions): { [setting: string]: Json } {
  return {
    '-w': opts.workload,
    '--node-count': opts.nodes.length,
    '--concurrency': opts.concurrency,
    '--time-limit': opts.timeLimitS,
    '--rate': opts.rate,
    '--latency': opts.latencyMs,
    '--latency-dist': opts.latencyDist,
    '--nemesis': [...opts.nemesis].sort().join(',') || 'none',
    '--nemesis-interval': opts.nemesisIntervalS,
    '--availability': opts.availability,
    '--final-wait': opts.finalWaitS,
    'workload options': JSON.stringify(opts.workloadOptions),
  };
}

/** Where a command's settings differ from one challenge line's ("--rate 10, expected 100"). */
function differences(opts: TestOptions, line: string): string[] {
  const parsed = parseTestArgs(line.split(' '));
  if (parsed.kind !== 'test') return [];
  const expected = fixedSettings(parsed.opts);
  const given = fixedSettings(opts);
  return Object.keys(expected)
    .filter((key) => JSON.stringify(expected[key]) !== JSON.stringify(given[key]))
    .map((key) => `${key} ${String(given[key])}, expected ${String(expected[key])}`);
}

/**
 * Why this command is not the challenge's, or undefined when it is. An unknown name lists the
 * known ones; a command that differs gets the challenge's line and the settings that differ.
 */
export function challengeMismatch(name: string, opts: TestOptions): string | undefined {
  const challenge = CHALLENGES[name];
  if (challenge === undefined) return `--challenge takes one of ${Object.keys(CHALLENGES).sort().join(', ')}, got ${JSON.stringify(name)}`;
  const each = challenge.lines.map((line) => differences(opts, line));
  if (each.some((diff) => diff.length === 0)) return undefined;
  const expected = challenge.lines.map((line) => `  glomers test ${line.replace('--bin B', `--bin ${opts.bin}`)}`).join('\n');
  const closest = each.reduce((a, b) => (b.length < a.length ? b : a));
  return `--challenge ${name} runs\n${expected}\nthis command differs: ${closest.join('; ')}`;
}

/** One limit's outcome, as results.json's glomers.challenge.limits holds it. */
export interface LimitGrade {
  figure: Limit['figure'];
  below: number;
  value: number | null;
  'valid?': Validity;
}

function numberAt(section: CheckResult | Json | undefined, ...keys: string[]): number | null {
  let value: CheckResult | Json | undefined = section;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    value = value[key];
  }
  return typeof value === 'number' ? value : null;
}

/**
 * The challenge's limits against a run's figures (docs/protocol.md §8: msgs-per-op is
 * :net :servers :msgs-per-op, latency the workload's stable-latencies). A figure the run did
 * not produce grades unknown.
 */
/** results.json's glomers.challenge. */
export type ChallengeGrade = { name: string; 'valid?': Validity; limits: Json[] };

export function gradeChallenge(name: string, figures: { net: CheckResult; workload: CheckResult }): ChallengeGrade {
  const limits = CHALLENGES[name]?.limits ?? [];
  const valueOf = (figure: Limit['figure']): number | null => {
    if (figure === 'msgs-per-op') return numberAt(figures.net, 'servers', 'msgs-per-op');
    return numberAt(figures.workload, 'stable-latencies', figure === 'stable-latency-median-ms' ? '0.5' : '1');
  };
  const grades: LimitGrade[] = limits.map(({ figure, below }) => {
    const value = valueOf(figure);
    return { figure, below, value, 'valid?': value === null ? 'unknown' : value < below };
  });
  const valid: Validity = grades.some((g) => g['valid?'] === false) ? false : grades.some((g) => g['valid?'] === 'unknown') ? 'unknown' : true;
  return { name, 'valid?': valid, limits: grades.map((g) => ({ ...g })) };
}

const round = (value: number): number => Math.round(value * 100) / 100;

/** The console's one line on the challenge: the limits met, or each one missed and by how much. */
export function challengeSummaryLine(challenge: Json | undefined): string | null {
  if (typeof challenge !== 'object' || challenge === null || Array.isArray(challenge)) return null;
  const name = String(challenge.name);
  const limits = (Array.isArray(challenge.limits) ? challenge.limits : []) as unknown as LimitGrade[];
  if (limits.length === 0) return `Challenge ${name}: no limits beyond a valid run.`;
  const text = (g: LimitGrade): string => `${g.figure} ${g.value === null ? 'not measured' : round(g.value)} (limit < ${g.below}`;
  const missed = limits.filter((g) => g['valid?'] !== true);
  if (missed.length === 0) return `Challenge ${name}: within its limits: ${limits.map((g) => `${text(g)})`).join(', ')}.`;
  const over = (g: LimitGrade): string => (g.value === null ? ')' : `, over by ${round(g.value - g.below)})`);
  return `Challenge ${name}: MISSED ${missed.map((g) => `${text(g)}${over(g)}`).join(', ')}.`;
}

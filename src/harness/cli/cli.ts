// Parses `glomers test` flags: Maelstrom's `test` flags with Maelstrom's defaults
// (docs/protocol.md §6), plus our own. One table (TEST_FLAGS, and the workloads' own option specs)
// drives both the tokenizer and --help.
import { readFileSync } from 'node:fs';
import { flagHelp, lastValue, tokenizeArgs, type FlagRow, type Tokens } from '../../lib/args.js';
import { DEFAULT_CHECK_BUDGET_S, parseNumber, UsageError, type OptionSpec } from './options.js';
import { NEMESIS_FAULTS, type Availability, type Json, type LatencyDist, type NemesisFault, type TestOptions } from '../types.js';
import { allWorkloadOptions, getWorkload } from '../workloads/index.js';

export { UsageError };

export const EXIT_USAGE = 254;

/** Bounds that keep a typo from starting a run that never ends or cannot fit in memory. */
export const LIMITS = {
  nodes: 1_000,
  concurrency: 10_000,
  timeLimitS: 7 * 24 * 3600,
  rate: 1_000_000,
  finalWaitS: 3600,
  nemesisIntervalS: 24 * 3600,
  latencyMs: 3_600_000,
  checkBudgetS: 24 * 3600,
} as const;


/** `glomers test`'s own flags, in help order: the one table parsing and --help read. */
interface TestFlag extends FlagRow {
  readonly group: 'maelstrom' | 'ignored' | 'glomers';
}

const TEST_FLAGS: readonly TestFlag[] = [
  { group: 'maelstrom', name: 'workload', short: 'w', value: 'NAME', help: 'workload to run (default lin-kv)' },
  { group: 'maelstrom', name: 'bin', value: 'FILE', help: 'node binary (required); positional args and args after -- go to it' },
  { group: 'maelstrom', name: 'node-count', value: 'N', help: 'use nodes n0..n(N-1) (overrides the node list)' },
  { group: 'maelstrom', name: 'node', short: 'n', value: 'ID', help: 'add a node id (repeatable); default list n1..n5' },
  { group: 'maelstrom', name: 'nodes', value: 'A,B,...', help: 'comma-separated node ids' },
  { group: 'maelstrom', name: 'nodes-file', value: 'FILE', help: 'node ids, one per line' },
  { group: 'maelstrom', name: 'concurrency', value: 'N|Kn', help: 'number of client workers; Kn = K x node count (default 1n)' },
  { group: 'maelstrom', name: 'time-limit', value: 'S', help: 'seconds of client load, excluding setup and final phase (default 60)' },
  { group: 'maelstrom', name: 'rate', value: 'R', help: 'operations per second across all clients, 0 = none (default 5)' },
  { group: 'maelstrom', name: 'latency', value: 'MS', help: 'mean latency between non-client endpoints (default 0)' },
  { group: 'maelstrom', name: 'latency-dist', value: 'DIST', help: 'constant | uniform | exponential (default constant)' },
  { group: 'maelstrom', name: 'nemesis', value: 'FAULTS', help: 'comma-separated: partition, kill, pause; with --sim also power\n(kills that are power cuts) and disk (full disks, torn writes)' },
  { group: 'maelstrom', name: 'nemesis-interval', value: 'S', help: 'mean seconds between nemesis operations (default 10)' },
  { group: 'maelstrom', name: 'availability', value: 'A', help: 'total, or a number in 0..1: minimum ok/invoke ratio (default unset)' },
  { group: 'maelstrom', name: 'log-stderr', help: 'echo node stderr to the console (always saved in node-logs/)' },
  { group: 'maelstrom', name: 'log-net-send', help: 'log every message sent into the network' },
  { group: 'maelstrom', name: 'log-net-recv', help: 'log every message delivered by the network' },
  { group: 'maelstrom', name: 'test-count', value: 'N', help: 'only 1 is supported' },
  ...['leave-db-running', 'logging-json', 'no-ssh', 'dummy-ssh', 'strict-host-key-checking'].map((name) => ({ group: 'ignored' as const, name, help: '' })),
  ...['username', 'password', 'ssh-private-key'].map((name) => ({ group: 'ignored' as const, name, value: 'X', help: '' })),
  { group: 'glomers', name: 'seed', value: 'N', help: 'seed for every random choice (generator, latency, nemesis);\ndefault: random, printed at start so a run can be replayed' },
  { group: 'glomers', name: 'final-wait', value: 'S', help: 'seconds to wait after healing before final reads (default 10;\nsome workloads wait for their work to finish, up to this)' },
  { group: 'glomers', name: 'store', value: 'DIR', help: 'where results go (default store)' },
  { group: 'glomers', name: 'check-budget', value: 'S', help: `seconds the workload checker may take; past it the verdict is\nunknown with the reason (default ${DEFAULT_CHECK_BUDGET_S})` },
  { group: 'glomers', name: 'sim', help: 'deterministic simulation: nodes built on the glomers runtime\n(src/lib, the package\'s import) run inside the harness on a\nvirtual clock; the same seed gives the same files' },
  { group: 'glomers', name: 'seeds', value: 'N', help: "with --sim: run seeds --seed .. --seed+N-1, print each failing\nseed's replay command and a summary" },
  { group: 'glomers', name: 'shard', value: 'I/N', help: 'with --seeds and --seed: run the I-th (0-based) of N interleaved parts\nof the seeds, for sweeps split over machines; glomers merge\ncombines their sweep folders (docs/use.md)' },
  { group: 'glomers', name: 'challenge', value: 'NAME', help: 'a Gossip Glomers challenge (1, 2, 3a-3e, 4, 5a-5c, 6a-6c): refuse\na command line other than its own, grade the run against its limits' },
  { group: 'glomers', name: 'help', short: 'h', help: 'this help' },
];

/** Maelstrom's workload flags: accepted for every workload, as Maelstrom does, and used by those that declare them. */
const MAELSTROM_WORKLOAD_FLAGS = ['topology', 'consistency-models', 'key-count', 'max-txn-length', 'max-writes-per-key'];

/** Every workload's flags as rows, with the workloads that read them in the help text. */
function workloadFlagRows(): FlagRow[] {
  const rows: FlagRow[] = allWorkloadOptions().map(({ spec, workloads }) => ({
    name: spec.flag,
    ...(spec.valueName === '' ? {} : { value: spec.valueName }),
    help: `${spec.help} [${workloads.join(', ')}]`,
  }));
  const unread = MAELSTROM_WORKLOAD_FLAGS.filter((flag) => !rows.some((row) => row.name === flag));
  return [...rows, ...unread.map((name) => ({ name, value: 'X', help: 'read by no workload here; accepted and ignored' }))];
}

const ignoredFlagsHelp = (): string => {
  const names = TEST_FLAGS.filter((row) => row.group === 'ignored').map((row) => `--${row.name}${row.value === undefined ? '' : ' X'}`);
  const lines = [names.slice(0, 3), names.slice(3, 6), names.slice(6)].map((group) => `  ${group.join(', ')}`);
  return `${lines.join(',\n')}\n${' '.repeat(30)}accepted for compatibility and ignored`;
};

export const testHelp = (): string => `Usage: glomers test -w WORKLOAD --bin FILE [options] [-- node args...]

Runs a Maelstrom-compatible test against a node binary. Exit status: 0 valid, 1 invalid,
2 unknown, 254 bad arguments, 255 the test errored (harness crash, a node crashed or never
answered init/setup).

Maelstrom options (same names and defaults as \`maelstrom test\`):
${flagHelp(TEST_FLAGS.filter((row) => row.group === 'maelstrom'))}
${ignoredFlagsHelp()}

Workload options [the workloads that use them; others accept and ignore them, as Maelstrom does]:
${flagHelp(workloadFlagRows())}

Options of glomers only:
${flagHelp(TEST_FLAGS.filter((row) => row.group === 'glomers'))}
`;

export const MAIN_HELP = `Usage: glomers <command> [options]

Commands:
  test      run a test against a node binary (glomers test --help for its options)
  analyze   check a stored run again: glomers analyze DIR [flags that override DIR/run.json]
            (DIR holds our history.jsonl or Maelstrom's history.edn; without a run.json,
            give -w WORKLOAD and the test's flags)
  merge     glomers merge DIR...: one summary of the shards of a --sim sweep (--shard I/N),
            from their sweep folders' summary.json
  node      glomers node NAME [args]: run one of our node programs (broadcast, kafka, txn...),
            e.g. to compare with yours (glomers node lists them)

Options:
  -h, --help     this help
  -V, --version  the version
`;

/** The I-th (0-based) of N interleaved parts of a sweep's seeds (`--shard I/N`). */
export interface ShardOption {
  index: number;
  count: number;
}

/**
 * sim: run in the deterministic simulation; seeds: how many consecutive seeds (--seeds), or one;
 * shard: which part of them; challenge: the --challenge name as given (checked by check/challenge.ts)
 */
export type TestCommand =
  | { kind: 'help' }
  | { kind: 'test'; opts: TestOptions; sim?: { seeds: number | null; shard?: ShardOption }; challenge?: string };

/** Parses the arguments after `test`. Throws UsageError on anything it cannot accept. */
export function parseTestArgs(args: string[], knownWorkloads?: readonly string[], mode: { requireBin?: boolean } = {}): TestCommand {
  const workloadRows = workloadFlagRows();
  const split = tokenizeArgs(args, [...TEST_FLAGS, ...workloadRows]);
  if (!split.ok) throw new UsageError(`${split.message}; see glomers test --help for the supported flags`);
  const { tokens } = split;
  const booleans = tokens.present;
  const binArgs = [...tokens.positional, ...tokens.afterDashes];
  // Workload flags, raw, by flag name; parsed below by the chosen workload's specs.
  const workloadRaw = new Map<string, string>();
  for (const row of workloadRows) {
    if (tokens.present.has(row.name)) workloadRaw.set(row.name, lastValue(tokens, row.name) ?? '');
  }
  if (booleans.has('help')) return { kind: 'help' };

  const last = (flag: string): string | undefined => lastValue(tokens, flag);

  const workload = last('workload') ?? 'lin-kv';
  if (knownWorkloads !== undefined && !knownWorkloads.includes(workload)) {
    throw new UsageError(
      `unknown workload ${JSON.stringify(workload)}; known workloads: ${knownWorkloads.join(', ')}`,
    );
  }
  const bin = last('bin') ?? (mode.requireBin === false ? '' : undefined);
  if (bin === undefined) throw new UsageError('--bin FILE is required: the node binary to test');

  const nodes = nodeList(tokens);
  const concurrency = concurrencyOf(last('concurrency') ?? '1n', nodes.length);
  const { latencyMs, latencyDist } = latencyOf(last('latency') ?? '0', last('latency-dist') ?? 'constant');
  const nemesis = nemesisOf(last('nemesis') ?? '');
  const availabilityRaw = last('availability');
  const availability: Availability | null =
    availabilityRaw === undefined ? null : availabilityRaw === 'total' ? 'total' : parseNumber('availability', availabilityRaw, { min: 0, max: 1 });

  const testCount = parseNumber('test-count', last('test-count') ?? '1', { integer: true, min: 1 });
  if (testCount !== 1) throw new UsageError('--test-count: glomers runs one test per invocation; use 1 or run it again');

  const seedRaw = last('seed');
  const workloadOptions = parseWorkloadOptions(workload, workloadRaw);

  const opts: TestOptions = {
    workload,
    bin,
    binArgs,
    nodes,
    concurrency,
    timeLimitS: parseNumber('time-limit', last('time-limit') ?? '60', { min: 0, max: LIMITS.timeLimitS }),
    rate: parseNumber('rate', last('rate') ?? '5', { min: 0, max: LIMITS.rate }),
    latencyMs,
    latencyDist,
    nemesis,
    // Maelstrom demands a positive interval; a zero one would schedule nothing but nemesis operations.
    nemesisIntervalS: parseNumber('nemesis-interval', last('nemesis-interval') ?? '10', { above: 0, max: LIMITS.nemesisIntervalS }),
    availability,
    logStderr: booleans.has('log-stderr'),
    logNetSend: booleans.has('log-net-send'),
    logNetRecv: booleans.has('log-net-recv'),
    workloadOptions,
    seed:
      seedRaw === undefined
        ? Math.floor(Math.random() * 2 ** 31)
        : parseNumber('seed', seedRaw, { integer: true, min: 0 }),
    finalWaitS: parseNumber('final-wait', last('final-wait') ?? String(getWorkload(workload)?.defaultFinalWaitS ?? 10), { min: 0, max: LIMITS.finalWaitS }),
    storeDir: storeOf(last('store')),
    checkBudgetS: parseNumber('check-budget', last('check-budget') ?? String(DEFAULT_CHECK_BUDGET_S), { above: 0, max: LIMITS.checkBudgetS }),
  };
  const problem = getWorkload(workload)?.validate?.(opts);
  if (problem !== undefined) throw new UsageError(problem);
  const seedsRaw = last('seeds');
  const seeds = seedsRaw === undefined ? null : parseNumber('seeds', seedsRaw, { integer: true, min: 1, max: 1_000_000 });
  if (seeds !== null && !booleans.has('sim')) throw new UsageError('--seeds N runs the deterministic simulation: add --sim');
  const shard = shardOf(last('shard'), { seeds, seedGiven: seedRaw !== undefined });
  const challenge = last('challenge');
  if (challenge !== undefined) opts.challenge = challenge;
  const sim = booleans.has('sim') ? { sim: shard === undefined ? { seeds } : { seeds, shard } } : {};
  return { kind: 'test', opts, ...sim, ...(challenge === undefined ? {} : { challenge }) };
}

function storeOf(raw: string | undefined): string {
  if (raw === undefined) return 'store';
  if (raw.trim() === '') throw new UsageError('--store needs a folder name; leave the flag out for the default (store)');
  return raw;
}

/** `--shard I/N`: only with --seeds (it splits them) and --seed (every shard must start from the same one). */
function shardOf(raw: string | undefined, sweep: { seeds: number | null; seedGiven: boolean }): ShardOption | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(raw);
  if (match === null) throw new UsageError(`--shard takes I/N (the I-th of N parts, I from 0), got ${JSON.stringify(raw)}`);
  const index = parseNumber('shard', match[1] as string, { integer: true, min: 0 });
  const count = parseNumber('shard', match[2] as string, { integer: true, min: 1, max: 1_000_000 });
  if (index >= count) throw new UsageError(`--shard ${raw}: I counts from 0, so it must be below N (${count}), e.g. ${count - 1}/${count}`);
  if (sweep.seeds === null) throw new UsageError('--shard I/N splits a sweep: add --sim --seeds N');
  if (!sweep.seedGiven) throw new UsageError('--shard needs --seed S: without it each shard would start from its own random seed');
  return { index, count };
}

/** The chosen workload's flags, parsed by its own specs; Maelstrom's other workload flags are ignored. */
function parseWorkloadOptions(workload: string, raw: ReadonlyMap<string, string>): { [key: string]: Json } {
  const specs: readonly OptionSpec[] = getWorkload(workload)?.options ?? [];
  const out: { [key: string]: Json } = {};
  for (const spec of specs) {
    const text = raw.get(spec.flag);
    out[spec.key] = text === undefined ? spec.default : spec.parse(text);
  }
  for (const flag of raw.keys()) {
    if (!specs.some((spec) => spec.flag === flag)) {
      process.stderr.write(`glomers: --${flag} has no effect on workload ${workload}\n`);
    }
  }
  return out;
}

/** --node-count, or --node/--nodes/--nodes-file, or Maelstrom's default n1..n5; ids checked. */
function nodeList(tokens: Tokens): string[] {
  const nodeCount = lastValue(tokens, 'node-count');
  const nodes: string[] = [];
  if (nodeCount !== undefined) {
    const n = parseNumber('node-count', nodeCount, { integer: true, min: 1, max: LIMITS.nodes });
    nodes.push(...Array.from({ length: n }, (_, k) => `n${k}`));
  } else {
    nodes.push(...(tokens.values.get('node') ?? []));
    for (const list of tokens.values.get('nodes') ?? []) {
      const ids = list.split(',').filter((s) => s !== '');
      if (ids.length === 0) throw new UsageError(`--nodes takes comma-separated node ids, got ${JSON.stringify(list)}`);
      nodes.push(...ids);
    }
    const emptyId = (tokens.values.get('node') ?? []).find((id) => id.trim() === '');
    if (emptyId !== undefined) throw new UsageError('--node takes a node id, got ""');
    const nodesFile = lastValue(tokens, 'nodes-file');
    if (nodesFile !== undefined) nodes.push(...readNodesFile(nodesFile));
    if (nodes.length === 0) nodes.push('n1', 'n2', 'n3', 'n4', 'n5');
  }
  const bad = nodes.find((id) => id.startsWith('c') || ['lin-kv', 'seq-kv', 'lww-kv', 'lin-tso'].includes(id));
  if (bad !== undefined) {
    throw new UsageError(`node id ${JSON.stringify(bad)} is taken: ids starting with "c" are clients, and services have their own ids`);
  }
  if (new Set(nodes).size !== nodes.length) throw new UsageError(`node ids must be distinct: ${nodes.join(',')}`);
  if (nodes.length > LIMITS.nodes) throw new UsageError(`at most ${LIMITS.nodes} nodes, got ${nodes.length}`);
  return nodes;
}

function readNodesFile(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split(/\s+/).filter((s) => s !== '');
  } catch {
    throw new UsageError(`--nodes-file ${file}: cannot read that file`);
  }
}

/** An integer, or `Kn` = K workers per node. */
function concurrencyOf(raw: string, nodeCount: number): number {
  const multiple = /^(\d+)n$/.exec(raw);
  if (multiple === null && !/^\d+$/.test(raw)) {
    throw new UsageError(`--concurrency takes an integer N or Kn (K workers per node, e.g. 2n), got ${JSON.stringify(raw)}`);
  }
  const concurrency =
    multiple !== null ? Number(multiple[1]) * nodeCount : parseNumber('concurrency', raw, { integer: true, min: 1, max: LIMITS.concurrency });
  if (!(concurrency >= 1 && concurrency <= LIMITS.concurrency)) {
    throw new UsageError(`--concurrency must give between 1 and ${LIMITS.concurrency} workers, got ${raw} (${concurrency})`);
  }
  return concurrency;
}

function latencyOf(latencyRaw: string, distRaw: string): { latencyMs: number; latencyDist: LatencyDist } {
  const latencyMs = parseNumber('latency', latencyRaw, { integer: true, min: 0, max: LIMITS.latencyMs });
  if (!['constant', 'uniform', 'exponential'].includes(distRaw)) {
    throw new UsageError(`--latency-dist must be constant, uniform or exponential, got ${JSON.stringify(distRaw)}`);
  }
  const latencyDist = distRaw as LatencyDist;
  if (latencyDist !== 'constant' && latencyMs === 0) {
    throw new UsageError(`--latency-dist ${latencyDist} needs --latency above 0 (Maelstrom fails on it too)`);
  }
  return { latencyMs, latencyDist };
}

function nemesisOf(raw: string): NemesisFault[] {
  const faults = raw.split(/\s*,\s*/).filter((s) => s !== '');
  const unknownFaults = faults.filter((f) => !(NEMESIS_FAULTS as readonly string[]).includes(f));
  if (unknownFaults.length > 0) {
    throw new UsageError(`--nemesis takes ${NEMESIS_FAULTS.join(', ')} (comma-separated), got ${JSON.stringify(raw)}`);
  }
  return [...new Set(faults)] as NemesisFault[];
}

// Parses `glomers test` flags: Maelstrom's `test` flags with Maelstrom's defaults (spec
// section 6), plus our own --seed, --final-wait and --store.
import { readFileSync } from 'node:fs';
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

/** Maelstrom's workload flags: accepted for every workload, as Maelstrom does, and used by those that declare them. */
const MAELSTROM_WORKLOAD_FLAGS = ['topology', 'consistency-models', 'key-count', 'max-txn-length', 'max-writes-per-key'];

function workloadOptionHelp(): string {
  return allWorkloadOptions()
    .map(({ spec, workloads }) => {
      const left = `  --${spec.flag}${spec.valueName === '' ? '' : ` ${spec.valueName}`}`;
      return `${left.padEnd(30)}${spec.help} [${workloads.join(', ')}]`;
    })
    .join('\n');
}

export const testHelp = (): string => `Usage: glomers test -w WORKLOAD --bin FILE [options] [-- node args...]

Runs a Maelstrom-compatible test against a node binary. Exit status: 0 valid, 1 invalid,
2 unknown, 254 bad arguments, 255 the test errored (harness crash, a node crashed or never
answered init/setup).

Maelstrom options (same names and defaults as \`maelstrom test\`):
  -w, --workload NAME         workload to run (default lin-kv)
  --bin FILE                  node binary (required); positional args and args after -- go to it
  --node-count N              use nodes n0..n(N-1) (overrides the node list)
  -n, --node ID               add a node id (repeatable); default list n1..n5
  --nodes A,B,...             comma-separated node ids
  --nodes-file FILE           node ids, one per line
  --concurrency N|Kn          number of client workers; Kn = K x node count (default 1n)
  --time-limit S              seconds of client load, excluding setup and final phase (default 60)
  --rate R                    operations per second across all clients, 0 = none (default 5)
  --latency MS                mean latency between non-client endpoints (default 0)
  --latency-dist DIST         constant | uniform | exponential (default constant)
  --nemesis FAULTS            comma-separated: partition, kill, pause
  --nemesis-interval S        mean seconds between nemesis operations (default 10)
  --availability A            total, or a number in 0..1: minimum ok/invoke ratio (default unset)
  --log-stderr                echo node stderr to the console (always saved in node-logs/)
  --log-net-send              log every message sent into the network
  --log-net-recv              log every message delivered by the network
  --test-count N              only 1 is supported
  --leave-db-running, --logging-json, --no-ssh, --dummy-ssh, --strict-host-key-checking,
  --username U, --password P, --ssh-private-key F
                              accepted for compatibility and ignored

Workload options [the workloads that use them; others accept and ignore them, as Maelstrom does]:
${workloadOptionHelp()}

Options of glomers only:
  --seed N                    seed for every random choice (generator, latency, nemesis);
                              default: random, printed at start so a run can be replayed
  --final-wait S              seconds to wait after healing before final reads (default 10)
  --store DIR                 where results go (default store)
  --check-budget S            seconds the workload checker may take; past it the verdict is
                              unknown with the reason (default ${DEFAULT_CHECK_BUDGET_S})
  --sim                       deterministic simulation: nodes built on src/lib run inside the
                              harness on a virtual clock; the same seed gives the same files
  --seeds N                   with --sim: run seeds --seed .. --seed+N-1, print each failing
                              seed's replay command and a summary
  -h, --help                  this help
`;

export const MAIN_HELP = `Usage: glomers <command> [options]

Commands:
  test      run a test against a node binary (glomers test --help for its options)
  analyze   check a stored run again: glomers analyze DIR -w WORKLOAD [the test's flags]
            (DIR holds our history.jsonl or Maelstrom's history.edn)

Options:
  -h, --help   this help
`;

type ValueFlag =
  | 'workload'
  | 'bin'
  | 'node-count'
  | 'node'
  | 'nodes'
  | 'nodes-file'
  | 'concurrency'
  | 'time-limit'
  | 'rate'
  | 'latency'
  | 'latency-dist'
  | 'nemesis'
  | 'nemesis-interval'
  | 'availability'
  | 'test-count'
  | 'check-budget'
  | 'seed'
  | 'final-wait'
  | 'store'
  | 'seeds'
  | 'username'
  | 'password'
  | 'ssh-private-key';

const VALUE_FLAGS = new Set<string>([
  'workload',
  'bin',
  'node-count',
  'node',
  'nodes',
  'nodes-file',
  'concurrency',
  'time-limit',
  'rate',
  'latency',
  'latency-dist',
  'nemesis',
  'nemesis-interval',
  'availability',
  'test-count',
  'check-budget',
  'seed',
  'final-wait',
  'store',
  'seeds',
  'username',
  'password',
  'ssh-private-key',
]);

const BOOLEAN_FLAGS = new Set<string>([
  'log-stderr',
  'log-net-send',
  'log-net-recv',
  'help',
  'leave-db-running',
  'logging-json',
  'no-ssh',
  'dummy-ssh',
  'strict-host-key-checking',
  'sim',
]);

const SHORT_FLAGS: Record<string, string> = { w: 'workload', n: 'node', h: 'help' };

/** sim: run in the deterministic simulation; seeds: how many consecutive seeds (--seeds), or one */
export type TestCommand = { kind: 'help' } | { kind: 'test'; opts: TestOptions; sim?: { seeds: number | null } };

/** Parses the arguments after `test`. Throws UsageError on anything it cannot accept. */
export function parseTestArgs(args: string[], knownWorkloads?: readonly string[], mode: { requireBin?: boolean } = {}): TestCommand {
  const values = new Map<ValueFlag, string[]>();
  const booleans = new Set<string>();
  const binArgs: string[] = [];
  // Workload flags, raw, by flag name; parsed below by the chosen workload's specs.
  const workloadRaw = new Map<string, string>();
  const workloadSpecs = new Map(allWorkloadOptions().map(({ spec }) => [spec.flag, spec]));
  const workloadValueFlag = (name: string): boolean =>
    MAELSTROM_WORKLOAD_FLAGS.includes(name) || (workloadSpecs.get(name)?.valueName ?? '') !== '';

  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      binArgs.push(...args.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      const short = arg.slice(1, 2);
      const long = SHORT_FLAGS[short];
      if (long === undefined) throw new UsageError(`unknown option ${arg}; see glomers test --help`);
      name = long;
      const rest = arg.slice(2);
      inline = rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest;
    } else {
      binArgs.push(arg);
      continue;
    }
    if (BOOLEAN_FLAGS.has(name) || (workloadSpecs.has(name) && !workloadValueFlag(name))) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value; remove "=${inline}"`);
      booleans.add(name);
      if (workloadSpecs.has(name)) workloadRaw.set(name, '');
    } else if (workloadValueFlag(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value; see glomers test --help`);
      workloadRaw.set(name, value);
    } else if (VALUE_FLAGS.has(name)) {
      let value = inline;
      if (value === undefined) {
        value = args[i + 1];
        if (value === undefined) throw new UsageError(`--${name} needs a value; see glomers test --help`);
        i++;
      }
      const list = values.get(name as ValueFlag) ?? [];
      list.push(value);
      values.set(name as ValueFlag, list);
    } else {
      throw new UsageError(`unknown option --${name}; see glomers test --help for the supported flags`);
    }
  }

  if (booleans.has('help')) return { kind: 'help' };

  const last = (flag: ValueFlag): string | undefined => values.get(flag)?.at(-1);

  const workload = last('workload') ?? 'lin-kv';
  if (knownWorkloads !== undefined && !knownWorkloads.includes(workload)) {
    throw new UsageError(
      `unknown workload ${JSON.stringify(workload)}; known workloads: ${knownWorkloads.join(', ')}`,
    );
  }
  const bin = last('bin') ?? (mode.requireBin === false ? '' : undefined);
  if (bin === undefined) throw new UsageError('--bin FILE is required: the node binary to test');

  let nodes: string[] = [];
  const nodeCount = last('node-count');
  if (nodeCount !== undefined) {
    const n = parseNumber('node-count', nodeCount, { integer: true, min: 1, max: LIMITS.nodes });
    nodes = Array.from({ length: n }, (_, k) => `n${k}`);
  } else {
    nodes.push(...(values.get('node') ?? []));
    for (const list of values.get('nodes') ?? []) nodes.push(...list.split(',').filter((s) => s !== ''));
    const nodesFile = last('nodes-file');
    if (nodesFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(nodesFile, 'utf8');
      } catch {
        throw new UsageError(`--nodes-file ${nodesFile}: cannot read that file`);
      }
      nodes.push(...text.split(/\s+/).filter((s) => s !== ''));
    }
    if (nodes.length === 0) nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
  }
  const bad = nodes.find((id) => id.startsWith('c') || ['lin-kv', 'seq-kv', 'lww-kv', 'lin-tso'].includes(id));
  if (bad !== undefined) {
    throw new UsageError(`node id ${JSON.stringify(bad)} is taken: ids starting with "c" are clients, and services have their own ids`);
  }
  if (new Set(nodes).size !== nodes.length) throw new UsageError(`node ids must be distinct: ${nodes.join(',')}`);
  if (nodes.length > LIMITS.nodes) throw new UsageError(`at most ${LIMITS.nodes} nodes, got ${nodes.length}`);

  const concurrencyRaw = last('concurrency') ?? '1n';
  let concurrency: number;
  const multiple = /^(\d+)n$/.exec(concurrencyRaw);
  if (multiple !== null) {
    concurrency = Number(multiple[1]) * nodes.length;
  } else {
    concurrency = parseNumber('concurrency', concurrencyRaw, { integer: true, min: 1, max: LIMITS.concurrency });
  }
  if (!(concurrency >= 1 && concurrency <= LIMITS.concurrency)) {
    throw new UsageError(`--concurrency must give between 1 and ${LIMITS.concurrency} workers, got ${concurrencyRaw} (${concurrency})`);
  }

  const latencyMs = parseNumber('latency', last('latency') ?? '0', { integer: true, min: 0, max: LIMITS.latencyMs });
  const latencyDistRaw = last('latency-dist') ?? 'constant';
  if (!['constant', 'uniform', 'exponential'].includes(latencyDistRaw)) {
    throw new UsageError(`--latency-dist must be constant, uniform or exponential, got ${JSON.stringify(latencyDistRaw)}`);
  }
  const latencyDist = latencyDistRaw as LatencyDist;
  if (latencyDist !== 'constant' && latencyMs === 0) {
    throw new UsageError(`--latency-dist ${latencyDist} needs --latency above 0 (Maelstrom fails on it too)`);
  }

  const nemesisRaw = last('nemesis') ?? '';
  const faults = nemesisRaw.split(/\s*,\s*/).filter((s) => s !== '');
  const unknownFaults = faults.filter((f) => !(NEMESIS_FAULTS as readonly string[]).includes(f));
  if (unknownFaults.length > 0) {
    throw new UsageError(`--nemesis takes ${NEMESIS_FAULTS.join(', ')} (comma-separated), got ${JSON.stringify(nemesisRaw)}`);
  }
  const nemesis = [...new Set(faults)] as NemesisFault[];

  const availabilityRaw = last('availability');
  let availability: Availability | null = null;
  if (availabilityRaw !== undefined) {
    availability =
      availabilityRaw === 'total' ? 'total' : parseNumber('availability', availabilityRaw, { min: 0, max: 1 });
  }

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
    storeDir: last('store') ?? 'store',
    checkBudgetS: parseNumber('check-budget', last('check-budget') ?? String(DEFAULT_CHECK_BUDGET_S), { above: 0, max: LIMITS.checkBudgetS }),
  };
  const problem = getWorkload(workload)?.validate?.(opts);
  if (problem !== undefined) throw new UsageError(problem);
  const seedsRaw = last('seeds');
  const seeds = seedsRaw === undefined ? null : parseNumber('seeds', seedsRaw, { integer: true, min: 1, max: 1_000_000 });
  if (seeds !== null && !booleans.has('sim')) throw new UsageError('--seeds N runs the deterministic simulation: add --sim');
  return booleans.has('sim') ? { kind: 'test', opts, sim: { seeds } } : { kind: 'test', opts };
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

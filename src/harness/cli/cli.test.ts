import { describe, expect, it } from 'vitest';
import { UsageError, parseTestArgs } from './cli.js';

const known = ['echo', 'broadcast', 'unique-ids'];

function opts(args: string[]) {
  const parsed = parseTestArgs(args, known);
  if (parsed.kind !== 'test') throw new Error('expected a test command');
  return parsed.opts;
}

describe('parseTestArgs', () => {
  it('applies Maelstrom defaults', () => {
    const o = opts(['-w', 'echo', '--bin', 'x']);
    expect(o.nodes).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(o.concurrency).toBe(5);
    expect(o.timeLimitS).toBe(60);
    expect(o.rate).toBe(5);
    expect(o.latencyMs).toBe(0);
    expect(o.latencyDist).toBe('constant');
    expect(o.nemesis).toEqual([]);
    expect(o.nemesisIntervalS).toBe(10);
    expect(o.availability).toBeNull();
    expect(o.workloadOptions).toEqual({});
    expect(o.checkBudgetS).toBe(300);
    expect(o.finalWaitS).toBe(10);
    expect(o.storeDir).toBe('store');
    expect(o.binArgs).toEqual([]);
  });

  it('defaults the workload to lin-kv, which is unknown here', () => {
    expect(() => parseTestArgs(['--bin', 'x'], known)).toThrow(/unknown workload "lin-kv"; known workloads: echo/);
  });

  it('handles node-count, Kn concurrency and --flag=value', () => {
    const o = opts(['-w=echo', '--bin=./b', '--node-count=3', '--concurrency', '2n', '--rate=0.5']);
    expect(o.nodes).toEqual(['n0', 'n1', 'n2']);
    expect(o.concurrency).toBe(6);
    expect(o.rate).toBe(0.5);
  });

  it('collects -n, --node and --nodes', () => {
    const o = opts(['-w', 'echo', '--bin', 'x', '-n', 'a', '--node', 'b', '--nodes', 'd,e']);
    expect(o.nodes).toEqual(['a', 'b', 'd', 'e']);
    expect(o.concurrency).toBe(4);
  });

  it('parses a workload\'s own flags and accepts, ignoring, other workloads\' Maelstrom flags', () => {
    expect(opts(['-w', 'broadcast', '--bin', 'x']).workloadOptions).toEqual({ topology: 'grid' });
    expect(opts(['-w', 'broadcast', '--bin', 'x', '--topology', 'tree3']).workloadOptions).toEqual({ topology: 'tree3' });
    expect(opts(['-w', 'echo', '--bin', 'x', '--key-count', '3', '--topology', 'line']).workloadOptions).toEqual({});
  });

  it('takes several nemesis faults, comma-separated', () => {
    expect(opts(['-w', 'echo', '--bin', 'x', '--nemesis', 'partition,kill']).nemesis).toEqual(['partition', 'kill']);
    expect(opts(['-w', 'echo', '--bin', 'x', '--nemesis', 'pause']).nemesis).toEqual(['pause']);
  });

  it('passes positional args and args after -- to the node', () => {
    const o = opts(['-w', 'echo', 'first', '--bin', 'x', '--', '--not-a-flag', '-w']);
    expect(o.binArgs).toEqual(['first', '--not-a-flag', '-w']);
  });

  it('parses availability, nemesis, booleans, ours, ignored SSH flags', () => {
    const o = opts([
      '-w', 'echo', '--bin', 'x', '--availability', '0.5', '--nemesis', 'partition', '--log-stderr',
      '--seed', '42', '--final-wait', '2', '--store', '/tmp/s', '--username', 'u', '--no-ssh',
      '--consistency-models', 'read-committed , serializable', '--latency', '10', '--latency-dist', 'uniform',
    ]);
    expect(o.availability).toBe(0.5);
    expect(o.nemesis).toEqual(['partition']);
    expect(o.logStderr).toBe(true);
    expect(o.seed).toBe(42);
    expect(o.finalWaitS).toBe(2);
    expect(o.storeDir).toBe('/tmp/s');
    expect(o.latencyDist).toBe('uniform');
    expect(opts(['-w', 'echo', '--bin', 'x', '--availability', 'total']).availability).toBe('total');
  });

  it('returns help for -h and --help', () => {
    expect(parseTestArgs(['-h'], known).kind).toBe('help');
    expect(parseTestArgs(['--help'], known).kind).toBe('help');
  });

  it.each([
    [['-w', 'echo', '--bin', 'x', '--bogus'], /unknown option --bogus/],
    [['-w', 'echo'], /--bin FILE is required/],
    [['-w', 'echo', '--bin', 'x', '--rate', 'fast'], /--rate expects a number/],
    [['-w', 'echo', '--bin', 'x', '--concurrency', '2x'], /--concurrency takes an integer N or Kn \(K workers per node, e.g. 2n\)/],
    [['-w', 'echo', '--bin', 'x', '--time-limit', '0x10'], /--time-limit expects a number between 0 and/],
    [['-w', 'echo', '--bin', 'x', '--rate', ' 5'], /--rate expects a number/],
    [['-w', 'echo', '--bin', 'x', '--rate', 'Infinity'], /--rate expects a number/],
    [['-w', 'echo', '--bin', 'x', '--nodes', ',,'], /--nodes takes comma-separated node ids, got ",,"/],
    [['-w', 'echo', '--bin', 'x', '--node', ''], /--node takes a node id/],
    [['-w', 'echo', '--bin', 'x', '--store', ''], /--store needs a folder name/],
    [['-w', 'echo', '--bin', 'x', '--sim', '--seeds', '8', '--seed', '1', '--shard', '4/4'], /I counts from 0, so it must be below N \(4\), e.g. 3\/4/],
    [['-w', 'echo', '--bin', 'x', '--sim', '--seeds', '8', '--seed', '1', '--shard', '1-4'], /--shard takes I\/N/],
    [['-w', 'echo', '--bin', 'x', '--sim', '--seeds', '8', '--shard', '0/4'], /--shard needs --seed S/],
    [['-w', 'echo', '--bin', 'x', '--sim', '--shard', '0/4', '--seed', '1'], /add --sim --seeds N/],
    [['-w', 'echo', '--bin', 'x', '--availability', '1.5'], /--availability expects a number between 0 and 1/],
    [['-w', 'echo', '--bin', 'x', '--nemesis', 'partition,flood'], /--nemesis takes partition, kill, pause/],
    [['-w', 'echo', '--bin', 'x', '--latency-dist', 'uniform'], /needs --latency above 0/],
    [['-w', 'broadcast', '--bin', 'x', '--topology', 'star'], /--topology must be one of/],
    [['-w', 'echo', '--bin', 'x', '--nemesis-interval', '0'], /--nemesis-interval expects a number above 0/],
    [['-w', 'echo', '--bin', 'x', '--time-limit', '-1'], /--time-limit expects a number between 0 and/],
    [['-w', 'echo', '--bin', 'x', '--time-limit', '1e300'], /--time-limit expects a number between 0 and/],
    [['-w', 'echo', '--bin', 'x', '--rate', 'NaN'], /--rate expects a number/],
    [['-w', 'echo', '--bin', 'x', '--node-count', '0'], /--node-count expects an integer between 1 and/],
    [['-w', 'echo', '--bin', 'x', '--node-count', '100000'], /--node-count expects an integer between 1 and/],
    [['-w', 'echo', '--bin', 'x', '--concurrency', '0'], /--concurrency expects an integer between 1 and/],
    [['-w', 'echo', '--bin', 'x', '--concurrency', '100000n'], /--concurrency must give between 1 and/],
    [['-w', 'echo', '--bin', 'x', '--final-wait', '1e9'], /--final-wait expects a number between 0 and/],
    [['-w', 'echo', '--bin', 'x', '--check-budget', '0'], /--check-budget expects a number above 0/],
    [['-w', 'echo', '--bin', 'x', '--test-count', '2'], /--test-count/],
    [['-w', 'echo', '--bin', 'x', '--time-limit'], /--time-limit needs a value/],
    [['-w', 'nope', '--bin', 'x'], /unknown workload "nope"; known workloads: echo, broadcast, unique-ids/],
  ])('rejects %j', (args, message) => {
    expect(() => parseTestArgs(args, known)).toThrow(UsageError);
    expect(() => parseTestArgs(args, known)).toThrow(message);
  });

  it('takes --shard I/N (0-based) with --sim --seeds and --seed, and --challenge as given', () => {
    const parsed = parseTestArgs(['-w', 'echo', '--bin', 'x', '--sim', '--seeds', '8', '--seed', '5', '--shard', '3/4', '--challenge', '1']);
    if (parsed.kind !== 'test') throw new Error('expected a test command');
    expect(parsed.sim).toEqual({ seeds: 8, shard: { index: 3, count: 4 } });
    expect(parsed.challenge).toBe('1');
    expect(parsed.opts.challenge).toBe('1');
  });

  it('takes decimal numbers, with a fraction or an exponent', () => {
    const parsed = parseTestArgs(['-w', 'echo', '--bin', 'x', '--rate', '1e3', '--time-limit', '.5']);
    if (parsed.kind !== 'test') throw new Error('expected a test command');
    expect([parsed.opts.rate, parsed.opts.timeLimitS]).toEqual([1000, 0.5]);
  });
});

// Command-line settings of the counter node (everything after `--` on a Maelstrom command line).
// The defaults are the ones measured on challenge 4.

import type { ArgsResult } from '../lib/args.js';
import { defaultCounterOptions, type CounterOptions } from './server.js';

export const usage = `usage: counter [options]
A Maelstrom g-counter / pn-counter node (Gossip Glomers 4). Acknowledges an add once it is
durable (survives a kill); reads sum the durable counts that nodes push to each other.

  --durability kv|disk  where an add must be before it is acknowledged (default ${defaultCounterOptions.durability}):
                   kv    a cas of the node's own seq-kv key (one seq-kv round trip per add)
                   disk  the node's file in --data-dir; the seq-kv key follows once per --flush
  --data-dir DIR   directory of the disk-mode file (default: the working directory)
  --flush MS       send pending adds (kv) or the local count (disk) to seq-kv every MS (default ${defaultCounterOptions.flushMs})
  --gossip MS      push the node's view to its peers every MS when its count changed
                   (default ${defaultCounterOptions.gossipMs})
  --keepalive MS   push at least every MS, changed or not (default ${defaultCounterOptions.keepaliveMs})
  --kv-timeout MS  timeout of one seq-kv request (default ${defaultCounterOptions.kvTimeoutMs})
  -h, --help       print this and exit
`;

export type ParseResult = ArgsResult<CounterOptions>;

const numericFlags: Readonly<Record<string, (options: CounterOptions, valueMs: number) => void>> = {
  '--flush': (o, v) => void (o.flushMs = v),
  '--gossip': (o, v) => void (o.gossipMs = v),
  '--keepalive': (o, v) => void (o.keepaliveMs = v),
  '--kv-timeout': (o, v) => void (o.kvTimeoutMs = v),
};

export function parseArgs(argv: readonly string[]): ParseResult {
  const options: CounterOptions = { ...defaultCounterOptions };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i] as string;
    if (flag === '-h' || flag === '--help') return { kind: 'help' };
    const raw = argv[i + 1];
    i += 1;
    if (flag === '--durability') {
      if (raw !== 'kv' && raw !== 'disk') return { kind: 'error', message: `--durability must be kv or disk, got '${raw ?? ''}'` };
      options.durability = raw;
      continue;
    }
    if (flag === '--data-dir') {
      if (raw === undefined || raw === '') return { kind: 'error', message: '--data-dir needs a directory' };
      options.dataDir = raw;
      continue;
    }
    const set = numericFlags[flag];
    if (set === undefined) return { kind: 'error', message: `unknown option '${flag}'` };
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
      return { kind: 'error', message: `${flag} needs a number of milliseconds > 0, got '${raw ?? ''}'` };
    }
    set(options, value);
  }
  return { kind: 'options', options };
}

// Command-line settings of the counter node (everything after `--` on a Maelstrom command line).
// The defaults are the ones measured on challenge 4.

import { defaultCounterOptions, type CounterOptions } from './server.js';

export const usage = `usage: counter [options]
A Maelstrom g-counter / pn-counter node (Gossip Glomers 4). Acknowledges an add once a cas of
the node's own seq-kv key holds it; reads sum the durable counts that nodes push to each other.

  --flush MS       send pending adds to seq-kv in one cas every MS (default ${defaultCounterOptions.flushMs})
  --gossip MS      push the node's view to its peers every MS when its count changed
                   (default ${defaultCounterOptions.gossipMs})
  --keepalive MS   push at least every MS, changed or not (default ${defaultCounterOptions.keepaliveMs})
  --kv-timeout MS  timeout of one seq-kv request (default ${defaultCounterOptions.kvTimeoutMs})
  -h, --help       print this and exit
`;

export type ParseResult =
  | { kind: 'options'; options: CounterOptions }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

const flags: Readonly<Record<string, (options: CounterOptions, valueMs: number) => void>> = {
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
    const set = flags[flag];
    if (set === undefined) return { kind: 'error', message: `unknown option '${flag}'` };
    const raw = argv[i + 1];
    i += 1;
    const value = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
      return { kind: 'error', message: `${flag} needs a number of milliseconds > 0, got '${raw ?? ''}'` };
    }
    set(options, value);
  }
  return { kind: 'options', options };
}

// Command-line settings of the broadcast node (everything after `--` on a Maelstrom command
// line). The defaults pass every broadcast challenge (3a-3e) unchanged.

import type { ArgsResult } from '../lib/args.js';
import { overlayKinds, type OverlayKind, type OverlaySpec } from './overlay.js';

export interface BroadcastOptions {
  overlay: OverlaySpec;
  /** Flush interval of nodes with two or more neighbours (hubs, inner tree nodes); 0 = immediate. */
  intervalMs: number;
  /** Flush interval of nodes with a single neighbour (star and tree leaves); 0 = immediate. */
  leafIntervalMs: number;
  retryMs: number;
  maxBatchValues: number;
  ackDelayMs: number;
}

export const defaultOptions: BroadcastOptions = {
  overlay: { kind: 'tree', fanout: 24 },
  intervalMs: 250,
  leafIntervalMs: 0,
  retryMs: 3000,
  maxBatchValues: 4096,
  ackDelayMs: 2000,
};

export const usage = `usage: broadcast [options]
A Maelstrom broadcast node (Gossip Glomers 3a-3e). Answers topology, broadcast and read;
gossips batches of values to its overlay neighbours and resends them until acknowledged.

  --overlay KIND       who gossips with whom (default ${defaultOptions.overlay.kind}):
                         tree       heap-ordered tree over node_ids, --fanout children per node
                                    (a fan-out of n-1 or more is a star around the first node)
                         star       every node talks only to the hub (--hub)
                         grid, line same shapes as Maelstrom's topologies, built from node_ids
                         total      every node sends its own clients' values straight to all
                         maelstrom  use the topology message Maelstrom sends
  --fanout K           children per node for --overlay tree (default ${defaultOptions.overlay.fanout})
  --hub NODE           hub for --overlay star (default: the first node id)
  --interval MS        batch flush interval of nodes with 2+ neighbours; 0 = send at once
                       (default ${defaultOptions.intervalMs})
  --leaf-interval MS   flush interval of nodes with one neighbour (default ${defaultOptions.leafIntervalMs})
  --retry MS           resend unacknowledged values after MS, at most one resend per
                       neighbour per MS (default ${defaultOptions.retryMs})
  --batch N            at most N values in one message (default ${defaultOptions.maxBatchValues})
  --ack-delay MS|never longest an ack waits for a message to ride on (default ${defaultOptions.ackDelayMs})
  -h, --help           print this and exit
`;

export type ParseResult = ArgsResult<BroadcastOptions>;

function parseNumber(flag: string, raw: string | undefined, integer: boolean, min: number): number | string {
  if (raw === undefined) return `${flag} needs a value`;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    return `${flag} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${raw}'`;
  }
  return value;
}

interface NumericFlag {
  integer: boolean;
  min: number;
  set(options: BroadcastOptions, value: number): void;
}

const numericFlags: Readonly<Record<string, NumericFlag>> = {
  '--fanout': { integer: true, min: 1, set: (o, v) => void (o.overlay.fanout = v) },
  '--interval': { integer: false, min: 0, set: (o, v) => void (o.intervalMs = v) },
  '--leaf-interval': { integer: false, min: 0, set: (o, v) => void (o.leafIntervalMs = v) },
  '--retry': { integer: false, min: 1, set: (o, v) => void (o.retryMs = v) },
  '--batch': { integer: true, min: 1, set: (o, v) => void (o.maxBatchValues = v) },
};

export function parseArgs(argv: readonly string[]): ParseResult {
  const options: BroadcastOptions = { ...defaultOptions, overlay: { ...defaultOptions.overlay } };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [flag, inlineValue] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const takeValue = (): string | undefined => {
      if (inlineValue !== undefined) return inlineValue;
      i += 1;
      return argv[i];
    };
    const numeric = (integer: boolean, min: number): number | { kind: 'error'; message: string } => {
      const result = parseNumber(flag, takeValue(), integer, min);
      return typeof result === 'string' ? { kind: 'error', message: result } : result;
    };
    switch (flag) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--overlay': {
        const value = takeValue();
        if (value === undefined || !overlayKinds.includes(value as OverlayKind)) {
          return { kind: 'error', message: `--overlay must be one of ${overlayKinds.join(', ')}, got '${value ?? ''}'` };
        }
        options.overlay.kind = value as OverlayKind;
        break;
      }
      case '--hub': {
        const value = takeValue();
        if (value === undefined || value === '') return { kind: 'error', message: '--hub needs a node id' };
        options.overlay.hub = value;
        break;
      }
      case '--ack-delay':
        if (inlineValue === 'never' || (inlineValue === undefined && argv[i + 1] === 'never')) {
          if (inlineValue === undefined) i += 1;
          options.ackDelayMs = Number.POSITIVE_INFINITY;
        } else {
          const value = numeric(false, 0);
          if (typeof value !== 'number') return value;
          options.ackDelayMs = value;
        }
        break;
      default: {
        const setting = Object.hasOwn(numericFlags, flag) ? numericFlags[flag] : undefined;
        if (setting === undefined) return { kind: 'error', message: `unknown argument '${arg}'` };
        const value = numeric(setting.integer, setting.min);
        if (typeof value !== 'number') return value;
        setting.set(options, value);
      }
    }
  }
  return { kind: 'options', options };
}

// Command-line settings of the broadcast node (everything after `--` on a Maelstrom command
// line). The defaults pass every broadcast challenge (3a-3e) unchanged.

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

export type ParseResult =
  | { kind: 'options'; options: BroadcastOptions }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

function parseNumber(flag: string, raw: string | undefined, integer: boolean, min: number): number | string {
  if (raw === undefined) return `${flag} needs a value`;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    return `${flag} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${raw}'`;
  }
  return value;
}

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
      case '--fanout': {
        const value = numeric(true, 1);
        if (typeof value !== 'number') return value;
        options.overlay.fanout = value;
        break;
      }
      case '--interval': {
        const value = numeric(false, 0);
        if (typeof value !== 'number') return value;
        options.intervalMs = value;
        break;
      }
      case '--leaf-interval': {
        const value = numeric(false, 0);
        if (typeof value !== 'number') return value;
        options.leafIntervalMs = value;
        break;
      }
      case '--retry': {
        const value = numeric(false, 1);
        if (typeof value !== 'number') return value;
        options.retryMs = value;
        break;
      }
      case '--batch': {
        const value = numeric(true, 1);
        if (typeof value !== 'number') return value;
        options.maxBatchValues = value;
        break;
      }
      case '--ack-delay': {
        if (inlineValue === 'never' || (inlineValue === undefined && argv[i + 1] === 'never')) {
          if (inlineValue === undefined) i += 1;
          options.ackDelayMs = Number.POSITIVE_INFINITY;
          break;
        }
        const value = numeric(false, 0);
        if (typeof value !== 'number') return value;
        options.ackDelayMs = value;
        break;
      }
      default:
        return { kind: 'error', message: `unknown argument '${arg}'` };
    }
  }
  return { kind: 'options', options };
}

// The registry of workloads the harness can run, by Maelstrom's `--workload` name.

import type { Workload } from '../types.js';
import { broadcastWorkload } from './broadcast.js';
import { echoWorkload } from './echo.js';
import { uniqueIdsWorkload } from './unique-ids.js';

export const workloads: Record<string, Workload> = {
  [echoWorkload.name]: echoWorkload,
  [uniqueIdsWorkload.name]: uniqueIdsWorkload,
  [broadcastWorkload.name]: broadcastWorkload,
};

export function getWorkload(name: string): Workload | undefined {
  return Object.hasOwn(workloads, name) ? workloads[name] : undefined;
}

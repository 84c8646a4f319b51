// The `cluster` message every node gets before load (docs/workloads/sched.md): which nodes
// schedule and how many exec slots each node has. Pure parsing; the server acts on the result.

export interface Cluster {
  schedulers: readonly string[];
  /** node -> slots; nodes with 0 slots (or absent) run nothing */
  slots: Readonly<Record<string, number>>;
  /** nodes with at least one slot, in node order */
  workers: readonly string[];
}

/** Upper bound on one node's slots: each slot may hold a running and a fetched task. */
export const MAX_SLOTS_PER_NODE = 1_024;

/** The cluster a message describes, or the reason it cannot be used (answered with error 12). */
export function parseCluster(schedulers: unknown, slots: unknown, nodeIds: readonly string[]): Cluster | string {
  const known = new Set(nodeIds);
  if (!Array.isArray(schedulers) || schedulers.length === 0) return 'schedulers must be a non-empty list of node ids';
  for (const id of schedulers) {
    if (typeof id !== 'string' || !known.has(id)) return `scheduler ${JSON.stringify(id)} is not a node of this cluster`;
  }
  if (typeof slots !== 'object' || slots === null || Array.isArray(slots)) return 'slots must be an object of node id -> slot count';
  const table: Record<string, number> = {};
  for (const [id, count] of Object.entries(slots as Record<string, unknown>)) {
    if (!known.has(id)) return `slots names ${JSON.stringify(id)}, not a node of this cluster`;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_SLOTS_PER_NODE) {
      return `slots of ${id} must be an integer from 0 to ${MAX_SLOTS_PER_NODE}`;
    }
    table[id] = count;
  }
  const workers = nodeIds.filter((id) => (table[id] ?? 0) > 0);
  if (workers.length === 0) return 'no node has a slot';
  return { schedulers: [...(schedulers as string[])], slots: table, workers };
}

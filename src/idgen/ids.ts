// Unique ids with no coordination: the node id makes ids unique across nodes, the boot stamp across
// restarts of one node, and a counter within one run.

export function createIdGenerator(nodeId: string, bootMs: number = Date.now()): () => string {
  const boot = bootMs.toString(36);
  let counter = 0;
  return () => `${nodeId}-${boot}-${(++counter).toString(36)}`;
}

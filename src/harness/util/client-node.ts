// Which node a client talks to. One rule for the runner that opens the clients and for the
// explanations that name the node behind a process.

/** The node client thread k talks to: targets[k mod their count] (targets: the client nodes). */
export function threadNode(targets: readonly string[], thread: number): string {
  return targets[thread % Math.max(1, targets.length)] ?? '?';
}

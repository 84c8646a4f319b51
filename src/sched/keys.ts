// The lin-kv keys bin/sched keeps its durable state under (docs/workloads/sched.md, "bin/sched").
// lin-kv stands for storage that outlives any node: the kill nemesis may take every node at once.

/** Where task `id` went: absent (never granted), {w, i} (granted to worker w's incarnation i), "done". */
export const claimKey = (taskId: string): string => `claim/${taskId}`;

/** Worker `node`'s current incarnation: a grant to any other one died with its process. */
export const incarnationKey = (node: string): string => `inc/${node}`;

/** Chunk n of scheduler `node`'s job log: {nonce, jobs}; written once, never changed. */
export const logChunkKey = (node: string, n: number): string => `log/${node}/${n}`;

/** The first chunk of scheduler `node`'s log that may still have an unfinished job. */
export const logLowKey = (node: string): string => `log/${node}/low`;

/** A `from` no key ever holds: a cas from it with create_if_not_exists only creates. */
export const ABSENT = '\u0000absent';

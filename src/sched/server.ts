// bin/sched wired together: the `cluster` message decides this node's roles (scheduler, worker,
// or both), which then register their own handlers. Until it arrives, work is refused with 11.

import { createKV, ErrorCode, RPCError, type Node } from '../lib/index.js';
import { parseCluster, type Cluster } from './cluster.js';
import { startScheduler, type SchedulerRole } from './scheduler-server.js';
import { defaultSchedulerConfig, type SchedulerConfig } from './scheduler.js';
import { startWorker, type WorkerRole } from './worker-server.js';

/** A lin-kv request answers at once unless this node is paused; past this it is retried. */
const KV_TIMEOUT_MS = 1_000;
/** Longest a cluster_ok waits for a scheduler's recovery. */
const RECOVERY_WAIT_MS = 2_000;

export interface SchedNode {
  cluster(): Cluster | undefined;
  scheduler(): SchedulerRole | undefined;
  worker(): WorkerRole | undefined;
}

export function installSched(node: Node, config: SchedulerConfig = defaultSchedulerConfig): SchedNode {
  let cluster: Cluster | undefined;
  let scheduler: SchedulerRole | undefined;
  let worker: WorkerRole | undefined;
  const kv = createKV(node, 'lin-kv', { timeoutMs: KV_TIMEOUT_MS });

  node.handle('submit', () => {
    throw new RPCError(ErrorCode.TemporarilyUnavailable, cluster === undefined ? 'no cluster message yet' : 'this node does not schedule; submit to a scheduler');
  });

  node.handle('cluster', { schedulers: 'array', slots: 'object' }, (msg) => {
    const parsed = parseCluster(msg.body.schedulers, msg.body.slots, node.nodeIds);
    if (typeof parsed === 'string') throw new RPCError(ErrorCode.MalformedRequest, parsed);
    // The same message again (a repeated setup) changes nothing; roles start once per process.
    if (cluster !== undefined) return { type: 'cluster_ok' };
    cluster = parsed;
    const slots = parsed.slots[node.id] ?? 0;
    if (slots > 0) worker = startWorker(node, kv, slots);
    if (!parsed.schedulers.includes(node.id)) return { type: 'cluster_ok' };
    scheduler = startScheduler(node, kv, parsed.workers.map((id) => ({ id, slots: parsed.slots[id] ?? 0 })), config);
    // Answered once the job log is read back (load starts on a ready scheduler), or after a bound
    // well inside the harness's setup timeout: submits then wait for the recovery instead.
    const recovered = scheduler.recovered;
    return new Promise((resolve) => {
      const cancel = node.after(RECOVERY_WAIT_MS, () => resolve({ type: 'cluster_ok' }));
      void recovered.then(() => {
        cancel();
        resolve({ type: 'cluster_ok' });
      });
    });
  });

  return { cluster: () => cluster, scheduler: () => scheduler, worker: () => worker };
}

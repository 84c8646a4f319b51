// Raft lin-kv node. Settings: see `bin/raft --help`.

import fs from 'node:fs';
import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { defaultLimits } from './raft.js';
import { installRaft } from './server.js';
import { FileStorage, removeStaleJournals } from './storage.js';

const options = optionsOrExit('raft', parseArgs(process.argv.slice(2)), usage);

/**
 * The test run, as seen from here: the process that started us (Maelstrom's JVM or our harness)
 * is the same across kills and restarts within one test and differs between tests. Its start time
 * guards against a reused pid.
 */
function parentRunId(): { runId: string; runTag: string } {
  const ppid = process.ppid;
  let started = '';
  try {
    // Field 22 of /proc/<pid>/stat is the start time; the command name (field 2) may hold spaces.
    const stat = fs.readFileSync(`/proc/${ppid}/stat`, 'utf8');
    started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    // not Linux: the pid alone
  }
  return { runId: `${ppid}@${started}`, runTag: String(ppid) };
}

const run = options.runId === undefined ? parentRunId() : { runId: options.runId, runTag: options.runId };
const node = createNode();
installRaft(
  node,
  options.timings,
  (nodeId) => {
    removeStaleJournals(options.dir, nodeId, run.runTag);
    return new FileStorage({ dir: options.dir, nodeId, runId: run.runId, runTag: run.runTag, fsync: options.fsync });
  },
  defaultLimits,
  {
    // A broken invariant is a bug: stop loudly rather than serve from a state that cannot be trusted.
    onFatal: () => process.exit(70),
  },
);
await node.run();

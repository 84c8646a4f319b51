// Task scheduler node for the sched workload (docs/workloads/sched.md): Sparrow-style late
// binding over the exec service, jobs and grants kept in lin-kv so that kills lose nothing.

import { createNode } from '../lib/index.js';
import { installSched } from './server.js';

if (process.argv.includes('--help')) {
  process.stdout.write('usage: sched\nA node for the glomers sched workload: schedules submitted jobs onto workers\' exec slots.\nSee docs/workloads/sched.md.\n');
  process.exit(0);
}

const node = createNode();
installSched(node);
await node.run();

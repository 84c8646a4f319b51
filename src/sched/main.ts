// Task scheduler node for the sched workload (docs/workloads/sched.md): Sparrow-style late
// binding over the exec service, jobs and grants kept in lin-kv so that kills lose nothing.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installSched } from './server.js';

const config = optionsOrExit('sched', parseArgs(process.argv.slice(2)), usage);
const node = createNode();
installSched(node, config);
await node.run();

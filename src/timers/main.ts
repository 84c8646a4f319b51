// Durable-timers node for the glomers `timers` workload. Settings: `bin/timers --help`.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installTimers } from './server.js';

const options = optionsOrExit('timers', parseArgs(process.argv.slice(2)), usage);

const node = createNode();
installTimers(node, options);
await node.run();

// The g-set node (Maelstrom's g-set workload). Settings: `bin/g-set --help`; design: docs/counters.md.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installGset } from './server.js';

const config = optionsOrExit('g-set', parseArgs(process.argv.slice(2)), usage);

const node = createNode();
installGset(node, config);
await node.run();

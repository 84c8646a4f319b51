// Counter node for Gossip Glomers 4 (g-counter) and Maelstrom's pn-counter. Settings: `bin/counter --help`.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installCounter } from './server.js';

const options = optionsOrExit('counter', parseArgs(process.argv.slice(2)), usage);

const node = createNode();
installCounter(node, options);
await node.run();

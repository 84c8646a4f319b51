// Broadcast node for Gossip Glomers 3a-3e. Settings: see `bin/broadcast --help`.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installBroadcast } from './server.js';

const options = optionsOrExit('broadcast', parseArgs(process.argv.slice(2)), usage);

const node = createNode();
installBroadcast(node, options);
await node.run();

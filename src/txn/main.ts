// Transaction node for Gossip Glomers 6a-6c (txn-rw-register; txn-list-append too).
// Settings: see `bin/txn --help`.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installTxn } from './server.js';

const options = optionsOrExit('txn', parseArgs(process.argv.slice(2)), usage);

const node = createNode();
installTxn(node, options);
await node.run();

// Kafka-style log node for Gossip Glomers 5a-5c. Settings: see `bin/kafka --help`.

import { createNode, optionsOrExit } from '../lib/index.js';
import { parseArgs, usage } from './args.js';
import { installKafka } from './server.js';

const options = optionsOrExit('kafka', parseArgs(process.argv.slice(2)), usage);

const node = createNode();
installKafka(node, options);
await node.run();

// Where nodes run: the one interface the run stage drives, implemented by real processes here and
// by module instances on a virtual clock in sim/nodes.ts.
import { realClock, type Clock } from '../clock.js';
import { signalGroup, startNode, type NodeProcess, type NodeProcessOptions } from './process.js';

/**
 * Real processes on the wall clock (a test), or module instances in this thread on a virtual clock
 * (the simulation, sim/). Everything else about a run is the same code.
 */
export interface NodeBackend {
  readonly kind: 'process' | 'sim';
  /** the clock of the whole run: network, clients, generator and nemesis */
  readonly clock: Clock;
  start(options: NodeProcessOptions): NodeProcess;
  /** stops a node's execution until resume (true if it was running) */
  pause(node: NodeProcess): boolean;
  resume(node: NodeProcess): boolean;
  /** called once every node has stopped, before the checking stage */
  afterNodes?(): void;
  /** storage faults of a simulated disk (sim/disk.ts); absent: the nemesis's power and disk faults do not apply */
  readonly storage?: {
    /** after the node's kill: what it wrote and did not fsync is lost; says what happened */
    powerCut(nodeId: string): string;
    setDiskFull(nodeId: string, full: boolean): string;
  };
}

/** Node processes, SIGSTOP/SIGCONT for pauses, real time. */
export function processBackend(): NodeBackend {
  return {
    kind: 'process',
    clock: realClock(),
    start: startNode,
    pause: (node) => signalGroup(node, 'SIGSTOP'),
    resume: (node) => signalGroup(node, 'SIGCONT'),
  };
}

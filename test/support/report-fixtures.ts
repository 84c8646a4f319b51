// Test-only helpers: a RunOutput built from a reference Maelstrom history plus a hand-made
// journal. Not imported by production code.

import type { CheckResult, JournalEvent, Json, Op, TestOptions } from '../../src/harness/types.js';
import { countJournal } from '../../src/harness/net/journal.js';
import type { AnalyzedRun } from '../../src/harness/check/results.js';

export { loadReferenceHistory, loadReferenceResults } from './reference-runs.js';

export function testOptions(overrides: Partial<TestOptions> = {}): TestOptions {
  return {
    workload: 'broadcast',
    bin: '/bin/true',
    binArgs: [],
    nodes: ['n0', 'n1', 'n2', 'n3', 'n4'],
    concurrency: 5,
    timeLimitS: 20,
    rate: 10,
    latencyMs: 0,
    latencyDist: 'constant',
    nemesis: ['partition'],
    nemesisIntervalS: 10,
    availability: null,
    logStderr: false,
    logNetSend: false,
    logNetRecv: false,
    workloadOptions: {},
    seed: 42,
    finalWaitS: 10,
    storeDir: 'store',
    ...overrides,
  };
}

let nextEventId = 0;

/** A send and (unless dropped) a matching recv `latencyMs` later. */
export function exchange(
  src: string,
  dest: string,
  type: string,
  atMs: number,
  options: { latencyMs?: number; dropped?: boolean; id?: number } = {},
): JournalEvent[] {
  const id = options.id ?? nextEventId++;
  const body = { type, msg_id: id };
  const timeNs = Math.round(atMs * 1e6);
  const send: JournalEvent = { kind: 'send', timeNs, id, src, dest, body };
  if (options.dropped) return [send];
  return [send, { kind: 'recv', timeNs: timeNs + Math.round((options.latencyMs ?? 0) * 1e6), id, src, dest, body }];
}

/** A plausible broadcast journal: init, client RPCs, gossip between five nodes, some dropped. */
export function syntheticJournal(messageCount: number): JournalEvent[] {
  const events: JournalEvent[] = [];
  for (let i = 0; i < 5; i++) {
    events.push(...exchange(`c${i}`, `n${i}`, 'init', i * 0.1), ...exchange(`n${i}`, `c${i}`, 'init_ok', i * 0.1 + 0.05));
  }
  let t = 10;
  for (let i = 0; events.length < messageCount * 2; i++) {
    const node = `n${i % 5}`;
    const client = `c${5 + (i % 5)}`;
    events.push(...exchange(client, node, 'broadcast', t));
    for (let peer = 1; peer <= 2; peer++) {
      const target = `n${(i + peer) % 5}`;
      events.push(...exchange(node, target, 'gossip', t + 1, { latencyMs: 5 + ((i * peer) % 7), dropped: i % 6 === 0 && peer === 2 }));
    }
    events.push(...exchange(node, client, 'broadcast_ok', t + 1));
    t += 17;
  }
  return events.sort((a, b) => a.timeNs - b.timeNs || (a.kind === 'send' ? -1 : 1));
}

/** A checked run; `journal` stands for the events the network would have journaled. */
export function runOutput(
  overrides: Partial<AnalyzedRun> & { journal?: JournalEvent[] } = {},
  workloadResult: CheckResult = { 'valid?': true },
): AnalyzedRun {
  const { journal = [], ...rest } = overrides;
  return {
    opts: testOptions(),
    startedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
    storeDir: '/tmp/glomers-test-store',
    history: [],
    netCounts: countJournal(journal),
    journalHead: journal,
    verdict: { workload: workloadResult },
    timings: [],
    lateness: { deliveries: 10, p50Ms: 0.2, p99Ms: 0.9, maxMs: 1.4, behind: false },
    problems: [],
    ...rest,
  };
}

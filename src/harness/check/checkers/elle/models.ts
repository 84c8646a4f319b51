// Consistency models and anomalies, as facts taken from Elle's elle.consistency-model (v0.2.2):
// which anomaly implies which, which model implies which, and which anomalies each model
// forbids directly. Everything else (prohibited sets, `not`/`also-not`) is computed from these.

type Dag = ReadonlyMap<string, readonly string[]>;

function dag(entries: Record<string, readonly string[]>): Dag {
  return new Map(Object.entries(entries));
}

/** a -> b: an anomaly a is also an instance of b */
const impliedAnomalies = dag({
  G0: ['G1c', 'G0-process'],
  'G0-process': ['G1c-process', 'G0-realtime'],
  'G0-realtime': ['G1c-realtime'],
  G1a: ['G1'],
  G1b: ['G1'],
  G1c: ['G1', 'G1c-process'],
  'G1c-process': ['G1c-realtime', 'G1-process'],
  'G1c-realtime': ['G1-realtime'],
  G1: ['G1-process'],
  'G1-process': ['G1-realtime'],
  'G-single-item': ['G-single', 'G-single-item-process', 'G-nonadjacent-item'],
  'G-single-item-process': ['G-single-process', 'G-single-item-realtime', 'G-nonadjacent-item-process'],
  'G-single-item-realtime': ['G-single-realtime', 'G-nonadjacent-item-realtime'],
  'G-single': ['G-nonadjacent', 'GSIb', 'G-single-process'],
  'G-single-process': ['G-nonadjacent-process', 'G-single-realtime'],
  'G-single-realtime': ['G-nonadjacent-realtime'],
  'G-nonadjacent-item': ['G-nonadjacent', 'G2-item', 'G-nonadjacent-item-process'],
  'G-nonadjacent-item-process': ['G-nonadjacent-process', 'G2-item-process', 'G-nonadjacent-item-realtime'],
  'G-nonadjacent-item-realtime': ['G2-item-realtime', 'G-nonadjacent-realtime'],
  'G-nonadjacent': ['G2', 'G-nonadjacent-process'],
  'G-nonadjacent-process': ['G2-process', 'G-nonadjacent-realtime'],
  'G-nonadjacent-realtime': ['G2-realtime'],
  G2: ['G2-process'],
  'G2-item': ['G2', 'G2-item-process'],
  'G2-item-process': ['G2-process', 'G2-item-realtime'],
  'G2-item-realtime': ['G2-realtime'],
  'G2-process': ['G2-realtime'],
  GSIa: ['GSI'],
  GSIb: ['GSI'],
  'incompatible-order': ['G1a'],
  'future-read': ['G1c'],
  'dirty-update': ['G1a'],
  'lost-update': ['write-skew', 'G2-item'],
  'write-skew': ['G2'],
});

/** friendly name -> canonical name */
const canonicalNames: ReadonlyMap<string, string> = new Map([
  ['consistent-view', 'PL-2+'],
  ['conflict-serializable', 'PL-3'],
  ['cursor-stability', 'PL-CS'],
  ['forward-consistent-view', 'PL-FCV'],
  ['monotonic-snapshot-read', 'PL-MSR'],
  ['monotonic-view', 'PL-2L'],
  ['read-committed', 'PL-2'],
  ['read-uncommitted', 'PL-1'],
  ['repeatable-read', 'PL-2.99'],
  ['serializable', 'PL-3'],
  ['snapshot-isolation', 'PL-SI'],
  ['strict-serializable', 'PL-SS'],
  ['strong-serializable', 'PL-SS'],
  ['update-serializable', 'PL-3U'],
  ['strong-session-read-uncommitted', 'strong-session-PL-1'],
  ['strong-session-read-committed', 'strong-session-PL-2'],
  ['strong-read-uncommitted', 'strong-PL-1'],
  ['strong-read-committed', 'strong-PL-2'],
]);

/** canonical -> friendly; where several friendly names share one canonical name, the last wins, except PL-3 */
const friendlyNames: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const [friendly, canonical] of canonicalNames) m.set(canonical, friendly);
  m.set('PL-3', 'serializable');
  return m;
})();

export function canonicalModel(model: string): string {
  return canonicalNames.get(model) ?? model;
}
export function friendlyModel(model: string): string {
  return friendlyNames.get(model) ?? model;
}

function canonicalDag(entries: Record<string, readonly string[]>): Dag {
  const m = new Map<string, string[]>();
  for (const [from, tos] of Object.entries(entries)) {
    const key = canonicalModel(from);
    const list = m.get(key) ?? [];
    for (const to of tos) list.push(canonicalModel(to));
    m.set(key, list);
  }
  return m;
}

/** a -> b: a history satisfying a also satisfies b (canonical names) */
const modelsDag = canonicalDag({
  'causal-cerone': ['read-atomic'],
  'consistent-view': ['cursor-stability', 'monotonic-view'],
  'conflict-serializable': ['view-serializable'],
  'cursor-stability': ['read-committed', 'PL-2'],
  'forward-consistent-view': ['consistent-view'],
  'PL-2': ['PL-1'],
  'PL-3': ['repeatable-read', 'update-serializable'],
  'update-serializable': ['forward-consistent-view'],
  'monotonic-atomic-view': ['read-committed'],
  'monotonic-view': ['PL-2'],
  'monotonic-snapshot-read': ['PL-2'],
  'parallel-snapshot-isolation': ['causal-cerone', 'update-atomic'],
  prefix: ['causal-cerone'],
  'read-atomic': ['monotonic-atomic-view'],
  'read-committed': ['read-uncommitted'],
  'repeatable-read': ['cursor-stability', 'monotonic-atomic-view'],
  'update-atomic': ['read-atomic'],
  serializable: ['repeatable-read', 'snapshot-isolation', 'view-serializable'],
  'session-serializable': ['1SR'],
  'snapshot-isolation': ['forward-consistent-view', 'monotonic-atomic-view', 'monotonic-snapshot-read', 'parallel-snapshot-isolation', 'prefix'],
  'strict-serializable': ['PL-3', 'serializable', 'linearizable', 'snapshot-isolation', 'strong-snapshot-isolation', 'strong-session-serializable'],
  'strong-session-PL-1': ['PL-1'],
  'strong-session-PL-2': ['PL-2', 'strong-session-PL-1'],
  'strong-PL-1': ['strong-session-PL-1'],
  'strong-PL-2': ['strong-session-PL-2', 'strong-PL-1'],
  'strong-session-serializable': ['serializable', 'strong-session-snapshot-isolation'],
  'strong-session-snapshot-isolation': ['snapshot-isolation', 'strong-session-PL-2'],
  'strong-serializable': ['session-serializable'],
  'strong-snapshot-isolation': ['strong-session-snapshot-isolation', 'strong-PL-2'],
  linearizable: ['sequential'],
  sequential: ['causal'],
  causal: ['writes-follow-reads', 'PRAM'],
  PRAM: ['monotonic-reads', 'monotonic-writes', 'read-your-writes'],
});

/** canonical model -> anomalies it forbids directly */
const directProscribed = canonicalDag({
  'causal-cerone': ['internal', 'G1a'],
  'cursor-stability': ['G1', 'G-cursor', 'lost-update'],
  'monotonic-view': ['G1', 'G-monotonic'],
  'monotonic-snapshot-read': ['G1', 'G-MSR'],
  'consistent-view': ['G1', 'G-single'],
  'forward-consistent-view': ['G1', 'G-SIb'],
  'parallel-snapshot-isolation': ['internal', 'G1a'],
  'PL-3': ['G1', 'G2', 'predicate-read-miss', 'PL-3-cycle-exists'],
  'PL-2': ['G1', 'PL-2-cycle-exists'],
  'PL-1': ['G0', 'duplicate-elements', 'cyclic-versions', 'PL-1-cycle-exists'],
  prefix: ['internal', 'G1a'],
  serializable: ['internal'],
  'snapshot-isolation': ['internal', 'G1', 'G-SI', 'G-nonadjacent', 'PL-SI-cycle-exists'],
  'read-atomic': ['internal', 'G1a', 'future-read'],
  'repeatable-read': ['G1', 'G2-item', 'PL-2.99-cycle-exists', 'lost-update'],
  'update-atomic': ['lost-update'],
  'strict-serializable': ['G1', 'G1c-realtime', 'G2-realtime', 'PL-SS-cycle-exists'],
  'strong-session-PL-1': ['strong-session-PL-1-cycle-exists', 'G0-process'],
  'strong-session-PL-2': ['strong-session-PL-2-cycle-exists', 'G1c-process'],
  'strong-PL-1': ['strong-PL-1-cycle-exists', 'G0-realtime'],
  'strong-PL-2': ['strong-PL-2-cycle-exists', 'G1c-realtime'],
  'strong-session-snapshot-isolation': ['internal', 'G1-process', 'G-nonadjacent-process', 'strong-session-snapshot-isolation-cycle-exists'],
  'strong-snapshot-isolation': ['internal', 'G1-realtime', 'G-nonadjacent-realtime', 'strong-snapshot-isolation-cycle-exists'],
  'strong-session-serializable': ['G1-process', 'G2-process', 'strong-session-serializable-cycle-exists'],
  'update-serializable': ['G1', 'G-update'],
});

function reverse(g: Dag): Dag {
  const r = new Map<string, string[]>();
  for (const [from, tos] of g) {
    for (const to of tos) {
      const list = r.get(to) ?? [];
      list.push(from);
      r.set(to, list);
    }
  }
  return r;
}

const impliedAnomaliesIn = reverse(impliedAnomalies);
const modelsIn = reverse(modelsDag);
const directProscribedIn = reverse(directProscribed);

/** every vertex reachable from `start` (inclusive) */
function reach(g: Dag, start: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...start];
  while (stack.length > 0) {
    const v = stack.pop() as string;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const w of g.get(v) ?? []) stack.push(w);
  }
  return seen;
}

const allModels: ReadonlySet<string> = (() => {
  const s = new Set<string>();
  for (const [from, tos] of modelsDag) {
    s.add(from);
    for (const to of tos) s.add(to);
  }
  for (const [friendly, canonical] of canonicalNames) {
    s.add(friendly);
    s.add(canonical);
  }
  return s;
})();

export class UnknownModelError extends Error {}

/** Elle's validate-models: an unknown name throws (Jepsen then reports `unknown` with the text). */
export function validateModels(models: readonly string[]): void {
  const unknown = models.filter((m) => !allModels.has(m));
  if (unknown.length > 0) {
    const known = [...allModels].sort().map((m) => `:${m}`).join(' ');
    throw new UnknownModelError(`Unknown consistency model (${unknown.map((m) => `:${m}`).join(' ')}); known models are:\n#{${known}}`);
  }
}

export function allImpliedAnomalies(anomalies: Iterable<string>): Set<string> {
  return reach(impliedAnomalies, anomalies);
}
export function allAnomaliesImplying(anomalies: Iterable<string>): Set<string> {
  return reach(impliedAnomaliesIn, anomalies);
}

/** Anomalies that can't be present if all `models` hold. */
export function anomaliesProhibitedBy(models: readonly string[]): Set<string> {
  validateModels(models);
  const implied = reach(modelsDag, models.map(canonicalModel));
  const direct: string[] = [];
  for (const m of implied) direct.push(...(directProscribed.get(m) ?? []));
  return allAnomaliesImplying(direct);
}

/** Canonical models ruled out by these anomalies. */
export function impossibleModels(anomalies: Iterable<string>): Set<string> {
  const direct: string[] = [];
  for (const a of allImpliedAnomalies(anomalies)) direct.push(...(directProscribedIn.get(a) ?? []));
  return reach(modelsIn, direct.map(canonicalModel));
}

/** Canonical models implied impossible once `model` is impossible (the model and all stronger ones). */
export function modelsImplying(model: string): Set<string> {
  return reach(modelsIn, [canonicalModel(model)]);
}

/** {not, also-not}: the weakest ruled-out models, and the rest, in friendly names, sorted. */
export function friendlyBoundary(anomalies: Iterable<string>): { not: string[]; alsoNot: string[] } {
  const impossible = impossibleModels(anomalies);
  const weakest = [...impossible].filter((m) => {
    for (const weaker of reach(modelsDag, [m])) if (weaker !== m && impossible.has(weaker)) return false;
    return true;
  });
  const weakestSet = new Set(weakest);
  const friendlySorted = (ms: Iterable<string>): string[] => [...new Set([...ms].map(friendlyModel))].sort();
  return { not: friendlySorted(weakest), alsoNot: friendlySorted([...impossible].filter((m) => !weakestSet.has(m))) };
}

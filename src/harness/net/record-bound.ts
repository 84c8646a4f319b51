// A bound on what a workload service records per kind of event. Some events come as fast as a
// node can write requests (exec's refusals, webhook's repeated fires), and the service log is held
// in memory for the checker: each kind is recorded `limit` times at most, then once as `capped`,
// and the checker reports capped kinds so that their counts read as lower bounds.
import type { ServiceEvent } from '../workload.js';

export interface RecordBound {
  /** record: write the event; capped: write the one `capped` event instead; drop: write nothing */
  admit(kind: string): 'record' | 'capped' | 'drop';
}

export function createRecordBound(limit: number): RecordBound {
  const seen = new Map<string, number>();
  return {
    admit(kind) {
      const count = seen.get(kind) ?? 0;
      seen.set(kind, count + 1);
      if (count < limit) return 'record';
      return count === limit ? 'capped' : 'drop';
    },
  };
}

/** The kinds a service stopped recording, from its `capped` events. */
export function cappedKinds(events: readonly ServiceEvent[], service: string): string[] {
  return events.filter((event) => event.service === service && event.type === 'capped').map((event) => String(event.kind));
}

// One-hop relaying around one-way link failures. Pure: no I/O, no clocks.
//
// Maelstrom's majorities-ring partition on three nodes leaves only a directed cycle (a→b, b→c,
// c→a): no two nodes can exchange a request and its answer, so Raft alone is unavailable for
// the whole partition. Every message between servers is routed through this layer instead:
// - each message carries `heard`, the peers its sender received something from directly within
//   heardWindowMs; that is how a node learns that a peer does not hear it;
// - X treats its link to Y as dead when Y's latest report (fresh, within reportTtlMs) leaves X
//   out although X sent Y something directly early enough for Y to have heard it;
// - a message for a dead link goes, wrapped, to a relay R whose own link from X is not known dead,
//   preferably one Y reports hearing; R hands it to Y directly (never further: one hop);
// - while a link is believed dead, a tiny probe goes directly every probeEveryMs so a healed link
//   is noticed (Y hears the probe, and its next report includes X again). Probes are rare on
//   purpose: while relaying, each one is a message per dead link that serves no request.
// Each message goes one way only (direct or relayed), never both, so nothing is duplicated. In a
// healthy network no link is believed dead and the layer adds no messages at all.
// Messages for the same peer produced in one step travel as one bundle: while relaying, a relay's
// forward and its own message to the same peer share a message, which keeps a ring partition
// cheaper than a healthy cluster.

export interface RelayConfig {
  id: string;
  peers: readonly string[];
  heardWindowMs: number;
  reportTtlMs: number;
  probeEveryMs: number;
}

/** For latency 0; at latency L the heard window must exceed 2L plus a heartbeat or so. */
export const defaultRelayTimings = { heardWindowMs: 150, reportTtlMs: 1_000, probeEveryMs: 500 };

/**
 * A message we sent should have been heard by the time of a report if it left at least this long
 * before the report and still inside the reporter's heard window.
 */
const evidenceMarginMs = 30;
/** direct send times remembered per peer */
const maxSendTimes = 16;

export type RelayEnvelope = { type: 'raft_relay'; origin: string; target: string; inner: WireBody; heard: string[] };
export type ProbeBody = { type: 'raft_probe'; heard: string[] };
/** Any server-to-server body; `heard` is added by this layer. */
export type WireBody = { type: string; heard?: string[]; [key: string]: unknown };

interface Report {
  heard: Set<string>;
  atMs: number;
  /** our direct link to the reporter is believed dead */
  dead: boolean;
}

export interface RelayState {
  readonly config: RelayConfig;
  lastHeardMs: Map<string, number>;
  reports: Map<string, Report>;
  directSendsMs: Map<string, number[]>;
  lastProbeMs: Map<string, number>;
}

export function createRelay(config: RelayConfig): RelayState {
  return { config, lastHeardMs: new Map(), reports: new Map(), directSendsMs: new Map(), lastProbeMs: new Map() };
}

function heardNow(state: RelayState, nowMs: number): string[] {
  return state.config.peers.filter((peer) => nowMs - (state.lastHeardMs.get(peer) ?? Number.NEGATIVE_INFINITY) <= state.config.heardWindowMs);
}

/** Whether our direct link to `peer` is believed dead. */
export function linkDead(state: RelayState, peer: string, nowMs: number): boolean {
  const report = state.reports.get(peer);
  return report !== undefined && report.dead && nowMs - report.atMs <= state.config.reportTtlMs;
}

/**
 * The belief only changes on evidence: a report that includes us clears it, one that leaves us
 * out although a direct send of ours should have arrived sets it, and any other report (while we
 * relay, direct sends are rare) keeps it, so routing does not flap.
 */
function judge(state: RelayState, peer: string, heard: Set<string>, nowMs: number): boolean {
  if (heard.has(state.config.id)) return false;
  const sends = state.directSendsMs.get(peer) ?? [];
  const fromMs = nowMs - state.config.heardWindowMs + evidenceMarginMs;
  if (sends.some((sentMs) => sentMs >= fromMs && sentMs <= nowMs - evidenceMarginMs)) return true;
  return linkDead(state, peer, nowMs);
}

function recordDirect(state: RelayState, peer: string, nowMs: number): void {
  const sends = state.directSendsMs.get(peer) ?? [];
  sends.push(nowMs);
  if (sends.length > maxSendTimes) sends.shift();
  state.directSendsMs.set(peer, sends);
}

/** A peer the target reports hearing, else any peer our link to is not known dead. */
function pickRelay(state: RelayState, target: string, nowMs: number): string | undefined {
  const heard = state.reports.get(target)?.heard ?? new Set<string>();
  const usable = state.config.peers.filter((peer) => peer !== target && !linkDead(state, peer, nowMs));
  return usable.find((peer) => heard.has(peer)) ?? usable[0];
}

/** How to send `body` to `to`: one message, direct or through a relay. */
export function route(state: RelayState, to: string, body: WireBody, nowMs: number): { to: string; body: WireBody } {
  const heard = heardNow(state, nowMs);
  const stamped: WireBody = { ...body, heard };
  if (linkDead(state, to, nowMs)) {
    const relay = pickRelay(state, to, nowMs);
    if (relay !== undefined) {
      recordDirect(state, relay, nowMs);
      const envelope: RelayEnvelope = { type: 'raft_relay', origin: state.config.id, target: to, inner: stamped, heard };
      return { to: relay, body: envelope };
    }
  }
  recordDirect(state, to, nowMs);
  return { to, body: stamped };
}

export type Received =
  | { kind: 'deliver'; from: string; body: WireBody }
  | { kind: 'forward'; to: string; body: WireBody }
  | { kind: 'none' };

function noteReport(state: RelayState, from: string, heard: unknown, nowMs: number): void {
  if (!Array.isArray(heard)) return;
  const heardSet = new Set(heard.filter((id): id is string => typeof id === 'string'));
  state.reports.set(from, { heard: heardSet, atMs: nowMs, dead: judge(state, from, heardSet, nowMs) });
}

/** A message that arrived directly from `from`. */
export function receiveWire(state: RelayState, from: string, body: WireBody, nowMs: number): Received {
  if (!state.config.peers.includes(from)) return { kind: 'none' };
  state.lastHeardMs.set(from, nowMs);
  noteReport(state, from, body.heard, nowMs);
  if (body.type === 'raft_probe') return { kind: 'none' };
  if (body.type !== 'raft_relay') return { kind: 'deliver', from, body };
  const { origin, target, inner } = body as unknown as RelayEnvelope;
  if (typeof origin !== 'string' || typeof target !== 'string' || typeof inner !== 'object' || inner === null) return { kind: 'none' };
  if (target === state.config.id) {
    if (!state.config.peers.includes(origin)) return { kind: 'none' };
    noteReport(state, origin, inner.heard, nowMs);
    return { kind: 'deliver', from: origin, body: inner };
  }
  if (!state.config.peers.includes(target)) return { kind: 'none' };
  // One hop only: the relay sends straight on, whatever it believes about that link.
  recordDirect(state, target, nowMs);
  const envelope: RelayEnvelope = { type: 'raft_relay', origin, target, inner, heard: heardNow(state, nowMs) };
  return { kind: 'forward', to: target, body: envelope };
}

/** Direct probes on links believed dead, at most one per link per probeEveryMs. */
export function probes(state: RelayState, nowMs: number): Array<{ to: string; body: ProbeBody }> {
  const out: Array<{ to: string; body: ProbeBody }> = [];
  for (const peer of state.config.peers) {
    if (!linkDead(state, peer, nowMs)) continue;
    if (nowMs - (state.lastProbeMs.get(peer) ?? Number.NEGATIVE_INFINITY) < state.config.probeEveryMs) continue;
    state.lastProbeMs.set(peer, nowMs);
    recordDirect(state, peer, nowMs);
    out.push({ to: peer, body: { type: 'raft_probe', heard: heardNow(state, nowMs) } });
  }
  return out;
}

export type BundleBody = { type: 'raft_bundle'; parts: WireBody[] };

/** Groups messages by destination, keeping their order; several for one peer become a bundle. */
export function bundle(messages: ReadonlyArray<{ to: string; body: WireBody }>): Array<{ to: string; body: WireBody }> {
  const byPeer = new Map<string, WireBody[]>();
  for (const { to, body } of messages) {
    const parts = byPeer.get(to) ?? [];
    parts.push(body);
    byPeer.set(to, parts);
  }
  return [...byPeer].map(([to, parts]) => ({ to, body: parts.length === 1 ? (parts[0] as WireBody) : { type: 'raft_bundle', parts } }));
}

/** The messages a wire body carries: its parts if it is a bundle (one level only), else itself. */
export function unbundle(body: WireBody): WireBody[] {
  if (body.type !== 'raft_bundle') return [body];
  const parts = (body as unknown as BundleBody).parts;
  if (!Array.isArray(parts)) return [];
  return parts.filter((part): part is WireBody => typeof part === 'object' && part !== null && typeof part.type === 'string' && part.type !== 'raft_bundle');
}

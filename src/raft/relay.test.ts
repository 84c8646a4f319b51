import { describe, expect, it } from 'vitest';
import { bundle, createRelay, defaultRelayTimings, linkDead, probes, receiveWire, route, unbundle, type RelayState } from './relay.js';

const relayFor = (id: string): RelayState => createRelay({ id, peers: ['a', 'b', 'c'].filter((p) => p !== id), ...defaultRelayTimings });

describe('relay layer', () => {
  it('sends directly and stamps what it heard while nothing is known to be wrong', () => {
    const a = relayFor('a');
    receiveWire(a, 'b', { type: 'x', heard: ['a'] }, 0);
    expect(route(a, 'c', { type: 'raft_append' }, 10)).toEqual({ to: 'c', body: { type: 'raft_append', heard: ['b'] } });
  });

  it('believes a link dead only when the peer reports not hearing a message it should have had', () => {
    const a = relayFor('a');
    route(a, 'c', { type: 'raft_append' }, 0);
    // c's report 20 ms later: too soon to prove anything.
    receiveWire(a, 'c', { type: 'x', heard: [] }, 20);
    expect(linkDead(a, 'c', 20)).toBe(false);
    // Long after the send (outside c's heard window), not hearing us proves nothing either.
    receiveWire(a, 'c', { type: 'x', heard: [] }, 10 + defaultRelayTimings.heardWindowMs);
    expect(linkDead(a, 'c', 10 + defaultRelayTimings.heardWindowMs)).toBe(false);
    receiveWire(a, 'c', { type: 'x', heard: ['b'] }, 100);
    expect(linkDead(a, 'c', 100)).toBe(true);
    // Reports expire: with no news the link is tried again.
    expect(linkDead(a, 'c', 100 + defaultRelayTimings.reportTtlMs + 1)).toBe(false);
    // A report that includes us clears it at once.
    receiveWire(a, 'c', { type: 'x', heard: ['a', 'b'] }, 150);
    expect(linkDead(a, 'c', 150)).toBe(false);
  });

  it('keeps a dead-link belief through reports that prove nothing, so routing does not flap', () => {
    const a = relayFor('a');
    route(a, 'c', { type: 'raft_append' }, 0);
    receiveWire(a, 'c', { type: 'x', heard: ['b'] }, 100);
    expect(route(a, 'c', { type: 'raft_append' }, 105).to).toBe('b'); // relayed: no direct send
    receiveWire(a, 'c', { type: 'x', heard: ['b'] }, 400);
    expect(linkDead(a, 'c', 400)).toBe(true);
    receiveWire(a, 'c', { type: 'x', heard: ['a', 'b'] }, 500);
    expect(linkDead(a, 'c', 500)).toBe(false);
  });

  it('relays through a node the target hears, and the relay hands it on directly', () => {
    const a = relayFor('a');
    route(a, 'c', { type: 'raft_append' }, 0);
    receiveWire(a, 'c', { type: 'x', heard: ['b'] }, 100);
    const routed = route(a, 'c', { type: 'raft_append', term: 3 }, 110);
    expect(routed.to).toBe('b');
    expect(routed.body).toMatchObject({ type: 'raft_relay', origin: 'a', target: 'c', inner: { type: 'raft_append', term: 3 } });
    const b = relayFor('b');
    const forwarded = receiveWire(b, 'a', routed.body, 111);
    expect(forwarded).toMatchObject({ kind: 'forward', to: 'c', body: { type: 'raft_relay', origin: 'a', target: 'c' } });
    const c = relayFor('c');
    const delivered = receiveWire(c, 'b', (forwarded as { body: Record<string, unknown> }).body as never, 112);
    expect(delivered).toMatchObject({ kind: 'deliver', from: 'a', body: { type: 'raft_append', term: 3 } });
    // c heard b directly, not a.
    expect(route(c, 'a', { type: 'y' }, 113).body.heard).toEqual(['b']);
  });

  it('tries another peer when the target hears nobody, direct when every other link is dead too; probes at a bounded rate', () => {
    const a = relayFor('a');
    route(a, 'c', { type: 'raft_append' }, 0);
    receiveWire(a, 'c', { type: 'x', heard: [] }, 100);
    expect(route(a, 'c', { type: 'raft_append' }, 105).to).toBe('b');
    route(a, 'b', { type: 'raft_append' }, 40);
    receiveWire(a, 'b', { type: 'x', heard: [] }, 100);
    expect(route(a, 'c', { type: 'raft_append' }, 110).to).toBe('c');
    expect(probes(a, 120).map((p) => p.to)).toEqual(['b', 'c']);
    expect(probes(a, 130)).toEqual([]);
    expect(probes(a, 120 + defaultRelayTimings.probeEveryMs).map((p) => p.to)).toEqual(['b', 'c']);
  });

  it('ignores messages from non-peers and relays for unknown targets', () => {
    const a = relayFor('a');
    expect(receiveWire(a, 'c9', { type: 'raft_append' }, 0)).toEqual({ kind: 'none' });
    expect(receiveWire(a, 'b', { type: 'raft_relay', origin: 'b', target: 'zz', inner: { type: 'q' }, heard: [] }, 0)).toEqual({ kind: 'none' });
  });

  it('bundles messages for the same peer in order, and unbundles one level only', () => {
    const out = bundle([
      { to: 'b', body: { type: 'p1' } },
      { to: 'c', body: { type: 'q' } },
      { to: 'b', body: { type: 'p2' } },
    ]);
    expect(out).toEqual([
      { to: 'b', body: { type: 'raft_bundle', parts: [{ type: 'p1' }, { type: 'p2' }] } },
      { to: 'c', body: { type: 'q' } },
    ]);
    expect(unbundle(out[0]?.body as never)).toEqual([{ type: 'p1' }, { type: 'p2' }]);
    expect(unbundle({ type: 'q' })).toEqual([{ type: 'q' }]);
    expect(unbundle({ type: 'raft_bundle', parts: [{ type: 'raft_bundle', parts: [] }, 7, { type: 'ok' }] })).toEqual([{ type: 'ok' }]);
  });
});

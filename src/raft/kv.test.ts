import { describe, expect, it } from 'vitest';
import { applyKv, canonicalJson, restoreKv, snapshotKv, type KvState } from './kv.js';

describe('kv state machine', () => {
  it('implements lin-kv read, write and cas with codes 20 and 22', () => {
    const kv: KvState = new Map();
    expect(applyKv(kv, { f: 'read', key: 1 })).toMatchObject({ type: 'error', code: 20 });
    expect(applyKv(kv, { f: 'cas', key: 1, from: 0, to: 1 })).toMatchObject({ type: 'error', code: 20 });
    expect(applyKv(kv, { f: 'write', key: 1, value: 3 })).toEqual({ type: 'write_ok' });
    expect(applyKv(kv, { f: 'cas', key: 1, from: 2, to: 4 })).toMatchObject({ type: 'error', code: 22 });
    expect(applyKv(kv, { f: 'cas', key: 1, from: 3, to: 4 })).toEqual({ type: 'cas_ok' });
    expect(applyKv(kv, { f: 'read', key: 1 })).toEqual({ type: 'read_ok', value: 4 });
  });

  it('compares keys and values as JSON values, not text', () => {
    const kv: KvState = new Map();
    applyKv(kv, { f: 'write', key: { a: 1, b: [2] }, value: { x: 1, y: 2 } });
    expect(applyKv(kv, { f: 'read', key: { b: [2], a: 1 } })).toEqual({ type: 'read_ok', value: { x: 1, y: 2 } });
    expect(applyKv(kv, { f: 'cas', key: { b: [2], a: 1 }, from: { y: 2, x: 1 }, to: null })).toEqual({ type: 'cas_ok' });
    expect(applyKv(kv, { f: 'read', key: '1' })).toMatchObject({ code: 20 });
    expect(canonicalJson(1)).not.toBe(canonicalJson('1'));
  });

  it('round-trips through a snapshot', () => {
    const kv: KvState = new Map();
    applyKv(kv, { f: 'write', key: [1, 2], value: 'v' });
    applyKv(kv, { f: 'write', key: null, value: 0 });
    const restored = restoreKv(JSON.parse(JSON.stringify(snapshotKv(kv))));
    expect(applyKv(restored, { f: 'read', key: [1, 2] })).toEqual({ type: 'read_ok', value: 'v' });
    expect(applyKv(restored, { f: 'read', key: null })).toEqual({ type: 'read_ok', value: 0 });
  });
});

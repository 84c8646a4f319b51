// The simulation's parts on their own: the virtual clock's order and holds, the bundle rewrite
// that loads a node once per start, and the global patches with their restore.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRng } from '../src/harness/util/rng.js';
import { createSimClock } from '../src/harness/sim/clock.js';
import { createSimGlobals, SIM_EPOCH_MS, SimExit } from '../src/harness/sim/globals.js';
import { rewriteBundle } from '../src/harness/sim/load.js';

describe('virtual clock', () => {
  it('runs timers by time, then by the order they were set, and moves time only to them', async () => {
    const clock = createSimClock();
    const seen: string[] = [];
    clock.setTimer(20, () => seen.push(`b@${clock.nowNs() / 1e6}`));
    clock.setTimer(10, () => seen.push(`a@${clock.nowNs() / 1e6}`));
    clock.setTimer(20, () => seen.push(`c@${clock.nowNs() / 1e6}`));
    const cancel = clock.setTimer(15, () => seen.push('cancelled'));
    cancel();
    await clock.drive(
      new Promise<void>((resolve) => {
        clock.setTimer(30, resolve);
      }),
    );
    expect(seen).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.nowNs()).toBe(30e6);
  });

  it('lets promise chains settle between timers, as Node runs one macrotask at a time', async () => {
    const clock = createSimClock();
    const seen: string[] = [];
    clock.setTimer(5, () => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => seen.push('chain of the first'));
    });
    clock.setTimer(5, () => seen.push('second timer'));
    await clock.drive(new Promise<void>((resolve) => clock.setTimer(6, resolve)));
    expect(seen).toEqual(['chain of the first', 'second timer']);
  });

  it('holds virtual time while real I/O is awaited (a node loading)', async () => {
    const clock = createSimClock();
    const release = clock.hold();
    let fired = false;
    clock.setTimer(10_000, () => (fired = true));
    const work = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const firedDuringHold = fired;
      release();
      await new Promise<void>((resolve) => clock.setTimer(10_001, resolve));
      return firedDuringHold;
    })();
    expect(await clock.drive(work)).toBe(false);
    expect(fired).toBe(true);
  });
});

describe('the budget meter', () => {
  it('reports a run past its events at one instant and goes on; stuck only after repeated trips', async () => {
    const over: string[] = [];
    const clock = createSimClock({ eventsPerInstant: 100, heapBytes: Infinity, wallMs: Infinity, onOver: (o) => over.push(o.kind) });
    let events = 0;
    const storm = (): void => {
      if (++events < 250) clock.setTimerNs(0, storm);
    };
    clock.setTimerNs(0, storm);
    await clock.drive(new Promise<void>((resolve) => clock.setTimer(1, resolve)));
    expect(events).toBe(250);
    expect(over).toEqual(['instant', 'instant']);
    const endless = (): void => void clock.setTimerNs(0, endless);
    clock.setTimerNs(0, endless);
    await expect(clock.drive(new Promise<void>(() => {}))).rejects.toThrow(/the simulation is stuck/);
  });
});

describe('bundle rewrite', () => {
  it('turns import lines into bindings first and drops the export list', () => {
    const source = [
      '#!/usr/bin/env node',
      'var x = readFileSync;',
      'import { readFileSync, writeFileSync as write } from "node:fs";',
      'import path from "node:path";',
      'import * as os from "node:os";',
      'import crypto, { randomUUID } from "node:crypto";',
      'import {',
      '  spawn',
      '} from "node:child_process";',
      'import "node:process";',
      'console.log(import.meta.url);',
      'export {',
      '  x',
      '};',
    ].join('\n');
    const rewritten = rewriteBundle(source, 'file:///b/node');
    expect(rewritten).not.toBeNull();
    const { body, modules } = rewritten as { body: string; modules: string[] };
    expect(modules).toEqual(['node:fs', 'node:path', 'node:os', 'node:crypto', 'node:child_process', 'node:process']);
    expect(body).toContain('const { readFileSync, writeFileSync: write } = __simImports[0];');
    expect(body).toContain('const path = __simImports[1].default;');
    expect(body).toContain('const os = __simImports[2];');
    expect(body).toContain('const crypto = __simImports[3].default;');
    expect(body).toContain('const { randomUUID } = __simImports[3];');
    expect(body).toContain('console.log("file:///b/node");');
    expect(body).not.toMatch(/^(import|export)\b/m);
    // The bindings come before the code that uses them.
    expect(body.indexOf('const { readFileSync')).toBeLessThan(body.indexOf('var x = readFileSync'));
  });

  it('leaves a bundle that imports files to import per start', () => {
    expect(rewriteBundle('import { a } from "./a.js";\nconsole.log(a);\n', 'file:///b')).toBeNull();
    expect(rewriteBundle('export default 1;\n', 'file:///b')).toBeNull();
  });
});

describe('global patches', () => {
  it('answer from the virtual clock and the seeded generator, and restore() puts the originals back', () => {
    const clock = createSimClock();
    const uncaught: unknown[] = [];
    const globals = createSimGlobals(clock, createRng(1), (error) => uncaught.push(error));
    const realNow = Date.now;
    const realRandom = Math.random;
    const realSetTimeout = globalThis.setTimeout;
    const expected = createRng(1);
    globals.install();
    let inside: { now: number; date: number; random: number; perf: number; exit: unknown } | undefined;
    try {
      let exit: unknown;
      try {
        process.exit(3);
      } catch (error) {
        exit = error;
      }
      setTimeout(() => {}, 5);
      inside = { now: Date.now(), date: new Date().getTime(), random: Math.random(), perf: performance.now(), exit };
    } finally {
      globals.restore();
    }
    expect(inside.now).toBe(SIM_EPOCH_MS);
    expect(inside.date).toBe(SIM_EPOCH_MS);
    expect(inside.random).toBe(expected.next());
    expect(inside.perf).toBe(0);
    expect(inside.exit).toBeInstanceOf(SimExit);
    expect((inside.exit as SimExit).code).toBe(3);
    // The node's setTimeout went onto the virtual clock.
    expect(clock.pending).toBe(1);
    expect(Date.now).toBe(realNow);
    expect(Math.random).toBe(realRandom);
    expect(globalThis.setTimeout).toBe(realSetTimeout);
    expect(Date.now()).toBeGreaterThan(SIM_EPOCH_MS + 1e9);
    // process.exit outside every node's code is reported as the harness's own.
    expect(uncaught).toEqual([inside.exit]);
  });

  it("node:crypto's random values (ESM imports included) and the web crypto's come from the seed, and are real again after restore()", async () => {
    const draw = async (seed: number): Promise<string[]> => {
      const globals = createSimGlobals(createSimClock(), createRng(seed), () => {});
      globals.install();
      try {
        const bytes = randomBytes(4).toString('hex');
        const uuid = randomUUID();
        const web = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(4))).toString('hex');
        const integer = String(randomInt(1000));
        const viaCallback = await new Promise<string>((resolve) => randomBytes(2, (_error, buffer) => resolve(buffer.toString('hex'))));
        return [bytes, uuid, web, integer, viaCallback];
      } finally {
        globals.restore();
      }
    };
    const first = await draw(5);
    expect(await draw(5)).toEqual(first);
    expect(await draw(6)).not.toEqual(first);
    expect(first[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // restored: two real draws differ
    expect(randomBytes(8).equals(randomBytes(8))).toBe(false);
  });
});

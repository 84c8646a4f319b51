// Seeded pseudo-random numbers, so that `--seed N` replays every random choice of a run.
import type { Rng } from '../types.js';

/** sfc32: small, fast, and good enough for scheduling and latency draws (not cryptographic). */
export function createRng(seed: number): Rng {
  let a = 0x9e3779b9 ^ (seed >>> 0);
  let b = 0x243f6a88 ^ Math.floor(seed / 0x100000000);
  let c = 0xb7e15162;
  let d = 1;
  const next32 = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The first outputs of sfc32 still carry the seed's structure; discard them.
  for (let i = 0; i < 15; i++) next32();
  const next = (): number => next32() / 0x100000000;
  return {
    next,
    int(n: number): number {
      return Math.floor(next() * n);
    },
  };
}

/**
 * An independent stream for one consumer (network, nemesis, generator...), so that a change in
 * how many numbers one consumer draws does not shift the choices of the others.
 */
export function deriveRng(seed: number, label: string): Rng {
  let h = 2166136261;
  for (const ch of `${label}:${seed}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 16777619);
  }
  return createRng((h >>> 0) + (seed >>> 0) * 0x100000000);
}

/** Fisher-Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

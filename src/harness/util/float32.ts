// Maelstrom computes ratios such as msgs-per-op with Clojure's `float`, a 32-bit float, and
// prints it with Java's shortest round-tripping form (55.66098, not 55.66098022460938). We keep
// that exact figure by returning the double nearest to the shortest decimal that rounds to the
// same float32, so JSON.stringify prints what Maelstrom prints.
export function float32AsPrinted(value: number): number {
  if (!Number.isFinite(value)) return value;
  const single = Math.fround(value);
  if (single === 0) return 0;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}

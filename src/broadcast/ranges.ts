// Compact wire encoding for sets of integers. Broadcast values are one global sequence
// (0, 1, 2, …), so the sets a node exchanges are mostly runs: a catch-up batch of 500
// consecutive values travels as a single pair instead of 500 numbers.

/** A single integer, or an inclusive run [first, last] with first < last. */
export type RangeItem = number | [number, number];
export type RangeList = RangeItem[];

/** Encodes integers (any order, duplicates allowed) as sorted runs. */
export function encodeRanges(values: Iterable<number>): RangeList {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const out: RangeList = [];
  let index = 0;
  while (index < sorted.length) {
    const first = sorted[index]!;
    let last = first;
    while (index + 1 < sorted.length && sorted[index + 1] === last + 1) {
      index += 1;
      last = sorted[index]!;
    }
    out.push(first === last ? first : [first, last]);
    index += 1;
  }
  return out;
}

/**
 * Decodes a peer's range list. Returns undefined when the input is not a well-formed list or
 * expands to more than maxValues integers (a bound so a corrupt message cannot make us
 * allocate without limit).
 */
export function decodeRanges(input: unknown, maxValues: number): number[] | undefined {
  if (!Array.isArray(input)) return undefined;
  const out: number[] = [];
  for (const item of input) {
    if (Number.isSafeInteger(item)) {
      out.push(item as number);
    } else if (
      Array.isArray(item) &&
      item.length === 2 &&
      Number.isSafeInteger(item[0]) &&
      Number.isSafeInteger(item[1]) &&
      (item[0] as number) <= (item[1] as number)
    ) {
      const first = item[0] as number;
      const last = item[1] as number;
      if (out.length + (last - first + 1) > maxValues) return undefined;
      for (let value = first; value <= last; value += 1) out.push(value);
    } else {
      return undefined;
    }
    if (out.length > maxValues) return undefined;
  }
  return out;
}

// The least and the greatest of many numbers. Math.min(...values) passes every value as an
// argument and throws past about 125,000 of them (the stack), which a long history reaches.

/** The least value; Infinity for none. */
export function minOf(values: ArrayLike<number>): number {
  let least = Infinity;
  for (let i = 0; i < values.length; i++) if ((values[i] as number) < least) least = values[i] as number;
  return least;
}

/** The greatest value; -Infinity for none. */
export function maxOf(values: ArrayLike<number>): number {
  let greatest = -Infinity;
  for (let i = 0; i < values.length; i++) if ((values[i] as number) > greatest) greatest = values[i] as number;
  return greatest;
}

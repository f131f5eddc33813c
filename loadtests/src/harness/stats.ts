/**
 * Repetition statistics. The machines are shared and noisy, so every figure is the median of
 * repeated runs, and the spread (min..max of the runs) is kept next to it so a reader can tell
 * a real difference from noise.
 */

/** One figure over repeated runs. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order. */
  runs: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function stat(runs: readonly number[]): Stat {
  return {
    median: median(runs),
    min: runs.length ? Math.min(...runs) : Number.NaN,
    max: runs.length ? Math.max(...runs) : Number.NaN,
    runs: [...runs],
  };
}

/** a / b, or undefined when either side is missing or b is zero (a ratio we cannot honestly state). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

/** Runs `fn` `reps` times in sequence (never in parallel: runs would compete for the 2 cores). */
export async function repeat<T>(reps: number, fn: (rep: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < reps; i++) out.push(await fn(i));
  return out;
}

/** Summarises one numeric field across runs. */
export function statOf<T>(runs: readonly T[], pick: (run: T) => number): Stat {
  return stat(runs.map(pick));
}

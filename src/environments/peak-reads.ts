/**
 * When an environment reads Max Memory Used again: one rule for every reader (the Node.js
 * runtime's own heap or rusage, a Node.js process environment's cgroup, a custom runtime's walk of
 * /proc), each of which keeps its own time of last read.
 *
 * Max Memory Used is a peak, read at the end of Init and of an invocation. A read costs from a
 * few µs (heap statistics in an isolate the JIT has not optimised, a cgroup file) to about 150 µs
 * (a process tree's /proc), a real share of a no-op invocation. It is read again after an
 * invocation that failed, that ran for at least PEAK_READ_AFTER_MS (time to touch more than a
 * little memory), or when PEAK_READ_EVERY_MS have passed since the last read. At 100 connections
 * each of 100 environments runs an invocation every 50 ms or so, so the period is a second: after
 * a run of quick invocations the REPORT line shows a peak at most that old.
 */
export const PEAK_READ_AFTER_MS = 1;
export const PEAK_READ_EVERY_MS = 1000;

/**
 * Is a read due at `now` (ms, the clock of `lastReadAt`, which is -Infinity before the first)?
 * `ranMs` is how long the invocation ran, or undefined for a reader whose reads never depend on it.
 * Positional arguments: this runs on every invocation, in isolates that allocate slowly.
 */
export function peakReadDue(lastReadAt: number, now: number, failed: boolean, ranMs?: number): boolean {
  return failed || (ranMs !== undefined && ranMs >= PEAK_READ_AFTER_MS) || now - lastReadAt >= PEAK_READ_EVERY_MS;
}

/**
 * Reports a failure once rather than at every retry: a loop that fails the same way every tick
 * while Redis is away (its passes cannot be written) should leave one line in the log per
 * minute, not ten a second.
 */
import type { Clock } from './clock.js';

export function reportRepeatsOnce(report: (err: unknown) => void, clock: Clock, windowMs = 60_000): (err: unknown) => void {
  let last: { message: string; at: number } | undefined;
  return (err) => {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const now = clock.now();
    if (last && last.message === message && now - last.at < windowMs) return;
    last = { message, at: now };
    report(err);
  };
}

/**
 * CloudWatch-style alarm evaluation over one-datapoint-per-period utilization history. Pure: the
 * caller passes the history and `now`.
 *
 * Periods are aligned on multiples of the period length (as CloudWatch aligns on the minute), so
 * "the last N periods at `now`" is well defined whatever the history holds. A period without a
 * datapoint is missing data: Lambda emits ProvisionedConcurrencyUtilization only while
 * invocations happen, and the target tracking alarms treat missing data as missing. Laminar's
 * rule, stricter than CloudWatch's partial-window evaluation and simple to reason about:
 * - the latest period is missing → INSUFFICIENT_DATA;
 * - all N periods present and all breaching → ALARM ("N of N datapoints");
 * - otherwise → OK. A missing period inside the window therefore breaks the run.
 */
import type { Statistic } from './types.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type Comparison = 'GreaterThanThreshold' | 'LessThanThreshold';

/** Utilization over one period [start, start + periodMs). */
export interface Datapoint {
  start: number;
  average: number;
  maximum: number;
}

/** Start of the latest period that has fully elapsed at `now`. */
export function latestCompletePeriod(now: number, periodMs: number): number {
  return Math.floor(now / periodMs) * periodMs - periodMs;
}

/**
 * The statistic of the last `n` complete periods at `now`, oldest first; `undefined` marks a
 * period without a datapoint.
 */
export function lastPeriods(
  history: readonly Datapoint[],
  statistic: Statistic,
  periodMs: number,
  now: number,
  n: number,
): (number | undefined)[] {
  const byStart = new Map(history.map((d) => [d.start, d]));
  const latest = latestCompletePeriod(now, periodMs);
  const out: (number | undefined)[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = byStart.get(latest - i * periodMs);
    out.push(d === undefined ? undefined : statistic === 'Maximum' ? d.maximum : d.average);
  }
  return out;
}

export function breaches(value: number, threshold: number, comparison: Comparison): boolean {
  return comparison === 'GreaterThanThreshold' ? value > threshold : value < threshold;
}

/** The state of an "N out of N datapoints" alarm over `values` (oldest first, length N). */
export function evaluateAlarm(values: readonly (number | undefined)[], threshold: number, comparison: Comparison): AlarmState {
  if (values.length === 0 || values[values.length - 1] === undefined) return 'INSUFFICIENT_DATA';
  const all = values.every((v) => v !== undefined && breaches(v, threshold, comparison));
  return all ? 'ALARM' : 'OK';
}

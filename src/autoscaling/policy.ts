/**
 * Target tracking on provisioned concurrency utilization, as Application Auto Scaling does it
 * for Lambda. Pure: a function of (spec, utilization history, capacity, cooldowns, now).
 *
 * Rules (lambda-spec.md §4 and §11):
 * - Scale out when AlarmHigh is in ALARM: the last 3 of 3 one-period datapoints above the target.
 *   Desired = ceil(current × latest datapoint / target), clamped to [min, max]. No second scale
 *   out while ScaleOutCooldown runs since the last one (Laminar blocks it outright; AWS would
 *   allow a larger one).
 * - Scale in when AlarmLow is in ALARM: the last 15 of 15 datapoints below 90 % of the target,
 *   unless DisableScaleIn, and not while ScaleInCooldown runs since the last scale in. Scale in
 *   is conservative: desired = the largest of
 *     ceil(current × peak / target), where peak is the highest datapoint of the 15 (so the
 *       capacity left keeps even the busiest recent period at or below the target),
 *     current − max(1, floor(current × 25 %)) (at most a quarter removed per action),
 *     max(min, 1) (the policy never scales to zero: without allocated environments there is no
 *       utilization, so it could never scale out again).
 *   While AlarmLow stays in ALARM the policy fires again every period, so capacity steps down.
 * - Missing data (a period with no invocations) is never a reason to act: it puts the alarm in
 *   INSUFFICIENT_DATA and breaks the run of datapoints (alarms.ts).
 * - Cooldowns default to 0 s for Lambda.
 */
import { evaluateAlarm, lastPeriods, type AlarmState, type Datapoint } from './alarms.js';
import type { Direction, NotScaledReason, Statistic } from './types.js';

export interface TargetTrackingSpec {
  targetValue: number;
  statistic: Statistic;
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
  disableScaleIn: boolean;
}

/** Evaluation periods and ratios; fixed by AWS's alarms, adjustable for tests. */
export const TARGET_TRACKING_RULES = {
  highEvaluationPeriods: 3,
  lowEvaluationPeriods: 15,
  lowThresholdRatio: 0.9,
  maxScaleInFraction: 0.25,
} as const;

export interface Capacity {
  current: number;
  min: number;
  max: number;
}

export interface Cooldowns {
  lastScaleOutAt?: number | undefined;
  lastScaleInAt?: number | undefined;
}

export interface TrackingInput {
  spec: TargetTrackingSpec;
  history: readonly Datapoint[];
  periodMs: number;
  now: number;
  capacity: Capacity;
  cooldowns: Cooldowns;
}

export type HoldReason = 'no-alarm' | 'cooldown' | 'scale-in-disabled' | 'at-desired';

export type TrackingDecision = { high: AlarmState; low: AlarmState } & (
  | { kind: 'scale'; direction: Direction; desired: number; alarm: 'high' | 'low'; metric: number }
  | { kind: 'not-scaled'; direction: Direction; reason: NotScaledReason; alarm: 'high' | 'low' }
  | { kind: 'hold'; why: HoldReason }
);

/** ceil that ignores floating-point noise (10 × 0.7 / 0.7 must stay 10). */
export function ceilRatio(x: number): number {
  return Math.ceil(x - 1e-9);
}

export function inCooldown(last: number | undefined, cooldownMs: number, now: number): boolean {
  return last !== undefined && now < last + cooldownMs;
}

export function targetTracking(input: TrackingInput): TrackingDecision {
  const { spec, capacity, now } = input;
  const rules = TARGET_TRACKING_RULES;
  const highValues = lastPeriods(input.history, spec.statistic, input.periodMs, now, rules.highEvaluationPeriods);
  const lowValues = lastPeriods(input.history, spec.statistic, input.periodMs, now, rules.lowEvaluationPeriods);
  const high = evaluateAlarm(highValues, spec.targetValue, 'GreaterThanThreshold');
  const low = evaluateAlarm(lowValues, spec.targetValue * rules.lowThresholdRatio, 'LessThanThreshold');
  const states = { high, low };
  const { current, min, max } = capacity;

  if (high === 'ALARM') {
    const metric = highValues[highValues.length - 1] as number;
    if (inCooldown(input.cooldowns.lastScaleOutAt, spec.scaleOutCooldownMs, now)) return { ...states, kind: 'hold', why: 'cooldown' };
    const desired = Math.min(max, Math.max(min, ceilRatio((current * metric) / spec.targetValue)));
    if (desired > current) return { ...states, kind: 'scale', direction: 'out', desired, alarm: 'high', metric };
    if (current >= max) {
      const reason: NotScaledReason = { Code: 'AlreadyAtMaxCapacity', MaxCapacity: max, CurrentCapacity: current };
      return { ...states, kind: 'not-scaled', direction: 'out', reason, alarm: 'high' };
    }
    return { ...states, kind: 'hold', why: 'at-desired' };
  }

  if (low === 'ALARM') {
    if (spec.disableScaleIn) return { ...states, kind: 'hold', why: 'scale-in-disabled' };
    if (inCooldown(input.cooldowns.lastScaleInAt, spec.scaleInCooldownMs, now)) return { ...states, kind: 'hold', why: 'cooldown' };
    const peak = Math.max(...(lowValues as number[]));
    const byMetric = ceilRatio((current * peak) / spec.targetValue);
    const byStep = current - Math.max(1, Math.floor(current * rules.maxScaleInFraction));
    const desired = Math.min(max, Math.max(byMetric, byStep, min, 1));
    if (desired < current) return { ...states, kind: 'scale', direction: 'in', desired, alarm: 'low', metric: peak };
    if (current <= Math.max(min, 1)) {
      const reason: NotScaledReason = { Code: 'AlreadyAtMinCapacity', MinCapacity: min, CurrentCapacity: current };
      return { ...states, kind: 'not-scaled', direction: 'in', reason, alarm: 'low' };
    }
    return { ...states, kind: 'hold', why: 'at-desired' };
  }

  return { ...states, kind: 'hold', why: 'no-alarm' };
}

/**
 * Laminar's faster profile, beyond AWS: policy type `LaminarKnativeScaling`, modelled on
 * Knative's KPA (peers.md §4.1). Pure: a function of (spec, samples, capacity, state, now).
 *
 * AWS's target tracking needs 3 one-minute datapoints to scale out and 15 to scale in. This
 * profile decides on every sample tick (a tenth of the period by default) from two windows of
 * provisioned concurrency in use:
 * - stable window (default = the evaluation period, 60 s) and panic window (10 % of it, 6 s);
 *   each averages the in-use concurrency of the samples that have data, partial windows
 *   averaging only what exists;
 * - dStable = ceil(stableAvg / target), dPanic = ceil(panicAvg / target), both clamped into
 *   [floor(current / MaxScaleDownRate), ceil(current × MaxScaleUpRate)];
 * - panic starts when panic-window utilization reaches PanicThresholdPercentage of the target,
 *   capped at 100 % busy (Knative's default 200 % cannot be reached by provisioned utilization,
 *   which saturates at 1.0, for targets above 0.5); while panicking the desired capacity is
 *   max(dStable, dPanic) and never drops below the highest value chosen during this panic; panic
 *   ends one stable window after the threshold was last reached;
 * - the result is clamped to [max(min, 1), max]; DisableScaleIn and the cooldowns apply as in
 *   target tracking; a stable window without data decides nothing (no scale in without data).
 */
import { ceilRatio, inCooldown, type Capacity, type Cooldowns } from './policy.js';
import type { Direction, NotScaledReason } from './types.js';

export interface KnativeSpec {
  targetValue: number;
  stableWindowMs: number;
  panicWindowMs: number;
  panicThresholdPercentage: number;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
  disableScaleIn: boolean;
}

/** One reading of the port at a sample tick. */
export interface ConcurrencySample {
  at: number;
  inUse: number;
  allocated: number;
  /** False when nothing happened since the previous sample (no new invocation, nothing busy): missing data. */
  active: boolean;
}

/** What the profile remembers between ticks. */
export interface KnativeState {
  panicSince?: number | undefined;
  lastOverThresholdAt?: number | undefined;
  panicMaxDesired?: number | undefined;
}

export interface KnativeInput {
  spec: KnativeSpec;
  samples: readonly ConcurrencySample[];
  now: number;
  capacity: Capacity;
  cooldowns: Cooldowns;
  state: KnativeState;
}

export interface KnativeResult {
  state: KnativeState;
  panicking: boolean;
  stableAverage?: number;
  panicAverage?: number;
  decision?: { kind: 'scale'; direction: Direction; desired: number } | { kind: 'not-scaled'; direction: Direction; reason: NotScaledReason };
}

function windowOf(samples: readonly ConcurrencySample[], now: number, ms: number): ConcurrencySample[] {
  return samples.filter((s) => s.active && s.at > now - ms && s.at <= now);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export function knativeScale(input: KnativeInput): KnativeResult {
  const { spec, now, capacity } = input;
  const stable = windowOf(input.samples, now, spec.stableWindowMs);
  if (stable.length === 0) return { state: input.state, panicking: input.state.panicSince !== undefined };
  const panicSamples = windowOf(input.samples, now, spec.panicWindowMs);
  const stableAverage = mean(stable.map((s) => s.inUse));
  const panicAverage = panicSamples.length > 0 ? mean(panicSamples.map((s) => s.inUse)) : stableAverage;

  const ready = Math.max(1, capacity.current);
  const maxUp = Math.ceil(spec.maxScaleUpRate * ready);
  const maxDown = Math.floor(ready / spec.maxScaleDownRate);
  const bound = (d: number) => Math.min(maxUp, Math.max(maxDown, d));
  const dStable = bound(ceilRatio(stableAverage / spec.targetValue));
  const dPanic = bound(ceilRatio(panicAverage / spec.targetValue));

  const allocated = panicSamples.reduce((a, s) => a + s.allocated, 0);
  const busy = panicSamples.reduce((a, s) => a + s.inUse, 0);
  const threshold = Math.min(1, (spec.panicThresholdPercentage / 100) * spec.targetValue);
  const over = allocated > 0 && busy / allocated >= threshold - 1e-9;

  const state: KnativeState = { ...input.state };
  if (over) {
    state.panicSince ??= now;
    state.lastOverThresholdAt = now;
  } else if (state.panicSince !== undefined && (state.lastOverThresholdAt ?? state.panicSince) + spec.stableWindowMs <= now) {
    state.panicSince = undefined;
    state.lastOverThresholdAt = undefined;
    state.panicMaxDesired = undefined;
  }
  const panicking = state.panicSince !== undefined;
  let desired = dStable;
  if (panicking) {
    desired = Math.max(dStable, dPanic, state.panicMaxDesired ?? 0);
    state.panicMaxDesired = desired;
  }
  const wanted = desired;
  desired = Math.min(capacity.max, Math.max(capacity.min, 1, desired));
  const result: KnativeResult = { state, panicking, stableAverage, panicAverage };
  const { current } = capacity;

  if (desired > current) {
    if (!inCooldown(input.cooldowns.lastScaleOutAt, spec.scaleOutCooldownMs, now)) result.decision = { kind: 'scale', direction: 'out', desired };
  } else if (desired < current) {
    if (!spec.disableScaleIn && !inCooldown(input.cooldowns.lastScaleInAt, spec.scaleInCooldownMs, now)) {
      result.decision = { kind: 'scale', direction: 'in', desired };
    }
  } else if (wanted > current && current >= capacity.max) {
    const reason: NotScaledReason = { Code: 'AlreadyAtMaxCapacity', MaxCapacity: capacity.max, CurrentCapacity: current };
    result.decision = { kind: 'not-scaled', direction: 'out', reason };
  }
  return result;
}

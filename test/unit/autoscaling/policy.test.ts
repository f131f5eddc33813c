import { describe, expect, it } from 'vitest';
import { evaluateAlarm, lastPeriods, type Datapoint } from '../../../src/autoscaling/alarms.js';
import { targetTracking, type TargetTrackingSpec, type TrackingInput } from '../../../src/autoscaling/policy.js';

const P = 60_000;
const NOW = 1_000 * P; // a period boundary, as the loop evaluates

/** Datapoints for the periods just before NOW, oldest first; `undefined` is a period without invocations. */
function history(values: (number | undefined)[], maxima?: (number | undefined)[]): Datapoint[] {
  const out: Datapoint[] = [];
  values.forEach((v, i) => {
    const start = NOW - (values.length - i) * P;
    if (v !== undefined) out.push({ start, average: v, maximum: maxima?.[i] ?? v });
  });
  return out;
}

const spec: TargetTrackingSpec = { targetValue: 0.7, statistic: 'Average', scaleOutCooldownMs: 0, scaleInCooldownMs: 0, disableScaleIn: false };

function decide(values: (number | undefined)[], o: Partial<TrackingInput> & { current?: number; min?: number; max?: number } = {}) {
  return targetTracking({
    spec: o.spec ?? spec,
    history: o.history ?? history(values),
    periodMs: P,
    now: o.now ?? NOW,
    capacity: { current: o.current ?? 10, min: o.min ?? 1, max: o.max ?? 100 },
    cooldowns: o.cooldowns ?? {},
  });
}

const low15 = (v = 0.3): (number | undefined)[] => Array.from({ length: 15 }, () => v);

describe('alarm evaluation', () => {
  it('reads the last N complete periods, oldest first, with gaps as undefined', () => {
    expect(lastPeriods(history([0.1, undefined, 0.3]), 'Average', P, NOW, 3)).toEqual([0.1, undefined, 0.3]);
    // Mid-period, the period in progress is not evaluated yet.
    expect(lastPeriods(history([0.1, 0.2, 0.3]), 'Average', P, NOW + P / 2, 3)).toEqual([0.1, 0.2, 0.3]);
  });

  it.each([
    ['all three breach', [0.8, 0.9, 1], 'ALARM'],
    ['two of three breach', [0.5, 0.9, 1], 'OK'],
    ['equal to the threshold does not breach', [0.7, 0.9, 1], 'OK'],
    ['a missing period inside breaks the run', [0.9, undefined, 1], 'OK'],
    ['the latest period missing', [0.9, 0.9, undefined], 'INSUFFICIENT_DATA'],
    ['no data at all', [undefined, undefined, undefined], 'INSUFFICIENT_DATA'],
  ] as const)('%s → %s', (_name, values, state) => {
    expect(evaluateAlarm(values, 0.7, 'GreaterThanThreshold')).toBe(state);
  });
});

describe('target tracking: scale out', () => {
  it('scales out after 3 of 3 datapoints above target, to ceil(current × metric / target)', () => {
    const d = decide([0.8, 0.9, 1.0]);
    expect(d).toMatchObject({ kind: 'scale', direction: 'out', desired: 15, alarm: 'high', high: 'ALARM' }); // ceil(10 × 1.0 / 0.7)
  });

  it('waits while only 2 datapoints are above target', () => {
    expect(decide([0.5, 0.9, 1.0])).toMatchObject({ kind: 'hold', why: 'no-alarm', high: 'OK' });
  });

  it('uses the Maximum statistic when the customized metric asks for it', () => {
    const h = history([0.3, 0.3, 0.3], [0.9, 0.95, 1.0]);
    expect(decide([], { history: h })).toMatchObject({ kind: 'hold' });
    expect(decide([], { history: h, spec: { ...spec, statistic: 'Maximum' } })).toMatchObject({ kind: 'scale', desired: 15 });
  });

  it('clamps to max, and reports AlreadyAtMaxCapacity when already there', () => {
    expect(decide([0.9, 0.9, 1.0], { max: 12 })).toMatchObject({ kind: 'scale', desired: 12 });
    expect(decide([0.9, 0.9, 1.0], { current: 12, max: 12 })).toMatchObject({
      kind: 'not-scaled',
      reason: { Code: 'AlreadyAtMaxCapacity', MaxCapacity: 12, CurrentCapacity: 12 },
    });
  });

  it('does not scale out again during ScaleOutCooldown', () => {
    const withCooldown = { ...spec, scaleOutCooldownMs: 120_000 };
    expect(decide([0.9, 0.9, 1.0], { spec: withCooldown, cooldowns: { lastScaleOutAt: NOW - 60_000 } })).toMatchObject({ kind: 'hold', why: 'cooldown' });
    expect(decide([0.9, 0.9, 1.0], { spec: withCooldown, cooldowns: { lastScaleOutAt: NOW - 120_000 } })).toMatchObject({ kind: 'scale' });
    // The default for Lambda is 0 s: the next period may scale out again.
    expect(decide([0.9, 0.9, 1.0], { cooldowns: { lastScaleOutAt: NOW - P } })).toMatchObject({ kind: 'scale' });
  });

  it('ignores floating-point noise in the proportion', () => {
    expect(decide([0.8, 0.8, 0.77], { current: 10 })).toMatchObject({ desired: 11 }); // 10 × 0.77 / 0.7 = 11.000000000000002
  });
});

describe('target tracking: scale in', () => {
  it('scales in after 15 of 15 datapoints below 90 % of target, at most a quarter per action', () => {
    // byMetric ceil(20 × 0.3 / 0.7) = 9, byStep 20 − 5 = 15 → 15
    expect(decide(low15(), { current: 20 })).toMatchObject({ kind: 'scale', direction: 'in', desired: 15, alarm: 'low', low: 'ALARM' });
  });

  it('keeps the busiest of the 15 periods at or below target', () => {
    const values = [...low15(0.3).slice(0, 14), 0.6];
    // byMetric ceil(10 × 0.6 / 0.7) = 9, byStep 10 − 2 = 8 → 9
    expect(decide(values, { current: 10 })).toMatchObject({ kind: 'scale', desired: 9, metric: 0.6 });
  });

  it('needs all 15: 14 low periods are not enough', () => {
    expect(decide(low15().slice(1), { current: 20 })).toMatchObject({ kind: 'hold', low: 'OK' });
  });

  it('a value at or above 90 % of target breaks the run (0.63 for 0.7)', () => {
    const values = low15();
    values[7] = 0.63;
    expect(decide(values, { current: 20 })).toMatchObject({ kind: 'hold', why: 'no-alarm' });
  });

  it('never scales in without data: missing periods are INSUFFICIENT_DATA and break the run', () => {
    expect(decide(Array.from({ length: 15 }, () => undefined), { current: 20 })).toMatchObject({ kind: 'hold', low: 'INSUFFICIENT_DATA' });
    const gap = low15();
    gap[3] = undefined;
    expect(decide(gap, { current: 20 })).toMatchObject({ kind: 'hold', low: 'OK' });
    const idleNow = [...low15().slice(1), undefined];
    expect(decide(idleNow, { current: 20 })).toMatchObject({ kind: 'hold', low: 'INSUFFICIENT_DATA' });
  });

  it('clamps to min, never below 1, and reports AlreadyAtMinCapacity', () => {
    expect(decide(low15(0.01), { current: 4, min: 3 })).toMatchObject({ kind: 'scale', desired: 3 });
    expect(decide(low15(0.01), { current: 3, min: 3 })).toMatchObject({ kind: 'not-scaled', reason: { Code: 'AlreadyAtMinCapacity', MinCapacity: 3 } });
    expect(decide(low15(0), { current: 1, min: 0 })).toMatchObject({ kind: 'not-scaled', direction: 'in' });
  });

  it('honours DisableScaleIn', () => {
    expect(decide(low15(), { current: 20, spec: { ...spec, disableScaleIn: true } })).toMatchObject({ kind: 'hold', why: 'scale-in-disabled' });
  });

  it('honours ScaleInCooldown', () => {
    const s = { ...spec, scaleInCooldownMs: 300_000 };
    expect(decide(low15(), { current: 20, spec: s, cooldowns: { lastScaleInAt: NOW - 60_000 } })).toMatchObject({ why: 'cooldown' });
    expect(decide(low15(), { current: 20, spec: s, cooldowns: { lastScaleInAt: NOW - 300_000 } })).toMatchObject({ kind: 'scale' });
  });
});

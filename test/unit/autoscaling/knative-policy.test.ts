import { describe, expect, it } from 'vitest';
import { knativeScale, type ConcurrencySample, type KnativeInput, type KnativeSpec, type KnativeState } from '../../../src/autoscaling/knative-policy.js';

const TICK = 6_000;
const NOW = 10_000 * TICK;
const spec: KnativeSpec = {
  targetValue: 0.7,
  stableWindowMs: 60_000,
  panicWindowMs: 6_000,
  panicThresholdPercentage: 200,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  scaleOutCooldownMs: 0,
  scaleInCooldownMs: 0,
  disableScaleIn: false,
};

/** One sample per tick ending at `now`, oldest first; `undefined` marks a tick with no activity. */
function samples(inUse: (number | undefined)[], allocated: number, now = NOW): ConcurrencySample[] {
  return inUse.map((v, i) => ({ at: now - (inUse.length - 1 - i) * TICK, inUse: v ?? 0, allocated, active: v !== undefined }));
}

function run(s: ConcurrencySample[], o: Partial<KnativeInput> & { current?: number; min?: number; max?: number; state?: KnativeState } = {}) {
  return knativeScale({
    spec: o.spec ?? spec,
    samples: s,
    now: o.now ?? NOW,
    capacity: { current: o.current ?? 10, min: o.min ?? 1, max: o.max ?? 100 },
    cooldowns: o.cooldowns ?? {},
    state: o.state ?? {},
  });
}

const steady = (v: number) => Array.from({ length: 10 }, () => v);

describe('Knative-style profile', () => {
  it('holds when the stable average needs exactly the current capacity', () => {
    const r = run(samples(steady(7), 10));
    expect(r.stableAverage).toBe(7);
    expect(r.decision).toBeUndefined();
    expect(r.panicking).toBe(false);
  });

  it('panics within one tick when every environment is busy, where AWS would wait three minutes', () => {
    const r = run(samples([...steady(3).slice(1), 10], 10));
    expect(r.panicking).toBe(true);
    // dStable = ceil(3.7 / 0.7) = 6, dPanic = ceil(10 / 0.7) = 15; panic takes the larger.
    expect(r.decision).toEqual({ kind: 'scale', direction: 'out', desired: 15 });
    expect(r.state.panicMaxDesired).toBe(15);
  });

  it('scales out from the stable window without panic when the burst is moderate', () => {
    const r = run(samples(steady(8), 10));
    expect(r.panicking).toBe(false); // 0.8 busy < min(100 %, 200 % × 0.7)
    expect(r.decision).toEqual({ kind: 'scale', direction: 'out', desired: 12 }); // ceil(8 / 0.7)
  });

  it('never lowers capacity during a panic, and leaves it one stable window after the last overload', () => {
    const first = run(samples([...steady(3).slice(1), 10], 10));
    // Load drops right away; still inside the stable window since the overload: ratchet holds 15.
    const later = run(samples([...steady(3).slice(1), 3], 15, NOW + 30_000), { now: NOW + 30_000, current: 15, state: first.state });
    expect(later.panicking).toBe(true);
    expect(later.decision).toBeUndefined();
    // A full stable window later the panic is over and capacity may halve at most.
    const calm = run(samples(steady(3), 15, NOW + 60_000), { now: NOW + 60_000, current: 15, state: later.state });
    expect(calm.panicking).toBe(false);
    expect(calm.decision).toEqual({ kind: 'scale', direction: 'in', desired: 7 }); // ceil(3 / 0.7) = 5, but floor(15 / 2) = 7
  });

  it('limits scale up by MaxScaleUpRate', () => {
    const r = run(samples([...steady(3).slice(1), 10], 10), { spec: { ...spec, maxScaleUpRate: 1.2 } });
    expect(r.decision).toEqual({ kind: 'scale', direction: 'out', desired: 12 });
  });

  it('decides nothing without data in the stable window, whatever the capacity', () => {
    const r = run(samples(Array.from({ length: 10 }, () => undefined), 50), { current: 50 });
    expect(r.decision).toBeUndefined();
    expect(r.stableAverage).toBeUndefined();
  });

  it('averages only the ticks that have data', () => {
    const r = run(samples([undefined, undefined, 4, undefined, 4, undefined, undefined, 4, undefined, 4], 10));
    expect(r.stableAverage).toBe(4);
    expect(r.decision).toEqual({ kind: 'scale', direction: 'in', desired: 6 }); // ceil(4 / 0.7)
  });

  it('honours DisableScaleIn, min and max', () => {
    expect(run(samples(steady(1), 10), { spec: { ...spec, disableScaleIn: true } }).decision).toBeUndefined();
    expect(run(samples(steady(1), 10), { min: 8 }).decision).toEqual({ kind: 'scale', direction: 'in', desired: 8 });
    expect(run(samples([...steady(3).slice(1), 10], 10), { max: 12 }).decision).toEqual({ kind: 'scale', direction: 'out', desired: 12 });
    expect(run(samples([...steady(3).slice(1), 10], 10), { current: 10, max: 10 }).decision).toMatchObject({
      kind: 'not-scaled',
      reason: { Code: 'AlreadyAtMaxCapacity' },
    });
  });

  it('honours cooldowns', () => {
    const s = { ...spec, scaleOutCooldownMs: 30_000 };
    expect(run(samples(steady(8), 10), { spec: s, cooldowns: { lastScaleOutAt: NOW - 6_000 } }).decision).toBeUndefined();
    expect(run(samples(steady(8), 10), { spec: s, cooldowns: { lastScaleOutAt: NOW - 30_000 } }).decision).toMatchObject({ desired: 12 });
  });
});

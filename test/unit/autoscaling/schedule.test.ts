import { describe, expect, it } from 'vitest';
import { ScalingValidationException } from '../../../src/autoscaling/errors.js';
import { lastFireTime, nextFireTime, parseSchedule } from '../../../src/autoscaling/schedule.js';

const T0 = Date.UTC(2026, 0, 1); // a Thursday
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The first `n` runs after `from`. */
function runs(expression: string, n: number, o: { from?: number; timezone?: string; startMs?: number; endMs?: number } = {}): (string | undefined)[] {
  const s = parseSchedule(expression, o.timezone);
  const out: (string | undefined)[] = [];
  let at = o.from ?? T0;
  for (let i = 0; i < n; i++) {
    const next = nextFireTime(s, at, { startMs: o.startMs, endMs: o.endMs, anchorMs: T0 });
    out.push(iso(next));
    if (next === undefined) break;
    at = next;
  }
  return out;
}

describe('schedule expressions', () => {
  it('at() runs once, in UTC by default', () => {
    expect(runs('at(2026-03-01T12:00:00)', 2)).toEqual(['2026-03-01T12:00:00.000Z', undefined]);
  });

  it('at() reads the wall clock of the Timezone', () => {
    expect(runs('at(2026-03-01T12:00:00)', 1, { timezone: 'America/New_York' })).toEqual(['2026-03-01T17:00:00.000Z']);
    expect(runs('at(2026-07-01T12:00:00)', 1, { timezone: 'America/New_York' })).toEqual(['2026-07-01T16:00:00.000Z']);
  });

  it('at() in the past never runs', () => {
    expect(runs('at(2025-12-31T23:59:59)', 1)).toEqual([undefined]);
  });

  it('rate(1 minute) counts from creation', () => {
    expect(runs('rate(1 minute)', 3)).toEqual(['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z', '2026-01-01T00:03:00.000Z']);
    expect(runs('rate(1 minute)', 1, { from: T0 + 61_000 })).toEqual(['2026-01-01T00:02:00.000Z']);
  });

  it('rate(5 minutes) counts from StartTime when given, StartTime included', () => {
    const startMs = T0 + 90_000;
    expect(runs('rate(5 minutes)', 3, { startMs })).toEqual(['2026-01-01T00:01:30.000Z', '2026-01-01T00:06:30.000Z', '2026-01-01T00:11:30.000Z']);
    expect(runs('rate(2 hours)', 1)).toEqual(['2026-01-01T02:00:00.000Z']);
    expect(runs('rate(1 day)', 1)).toEqual(['2026-01-02T00:00:00.000Z']);
  });

  it('cron(0 12 ? * MON-FRI *) runs at noon on weekdays', () => {
    expect(runs('cron(0 12 ? * MON-FRI *)', 3)).toEqual(['2026-01-01T12:00:00.000Z', '2026-01-02T12:00:00.000Z', '2026-01-05T12:00:00.000Z']);
  });

  it('cron uses AWS conventions: 1 = SUN, 0/15 steps, L, and the Timezone', () => {
    expect(runs('cron(0 9 ? * 2 *)', 1)).toEqual(['2026-01-05T09:00:00.000Z']); // 2 = Monday
    expect(runs('cron(0/15 * * * ? *)', 2)).toEqual(['2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z']);
    expect(runs('cron(0 0 L * ? *)', 1)).toEqual(['2026-01-31T00:00:00.000Z']);
    expect(runs('cron(0 8 * * ? *)', 1, { timezone: 'Europe/Paris' })).toEqual(['2026-01-01T07:00:00.000Z']);
  });

  it('stops at EndTime', () => {
    expect(runs('rate(1 hour)', 3, { endMs: T0 + 2 * 3_600_000 })).toEqual(['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z', undefined]);
  });

  it.each([
    ['rate(1 minutes)', 'singular'],
    ['rate(5 minute)', 'plural'],
    ['rate(0 minutes)', 'positive'],
    ['rate(5 weeks)', 'unrecognised'],
    ['cron(0 12 * * MON-FRI *)', "must be '?'"],
    ['cron(0 12 * * ?)', '6 fields'],
    ['cron(0 99 * * ? *)', 'Invalid schedule'],
    ['at(2026-02-30T00:00:00)', 'no such date'],
    ['at(2026-01-01 00:00:00)', 'unrecognised'],
    ['every day', 'unrecognised'],
  ])('refuses %s', (expression, why) => {
    expect(() => parseSchedule(expression)).toThrow(ScalingValidationException);
    expect(() => parseSchedule(expression)).toThrow(why);
  });

  it('refuses an unknown Timezone', () => {
    expect(() => parseSchedule('rate(1 minute)', 'Mars/Olympus_Mons')).toThrow(/Invalid Timezone 'Mars\/Olympus_Mons'/);
  });
});

describe('the last run at or before an instant (what a restarted server catches up on)', () => {
  const H = 3_600_000;
  const last = (expression: string, at: number, o: { timezone?: string; startMs?: number; endMs?: number } = {}) =>
    iso(lastFireTime(parseSchedule(expression, o.timezone), at, { startMs: o.startMs, endMs: o.endMs, anchorMs: T0 }));

  it.each([
    // expression, instant, window, last run
    ['at(2026-01-01T08:00:00)', T0 + 8 * H, {}, '2026-01-01T08:00:00.000Z'],
    ['at(2026-01-01T08:00:00)', T0 + 8 * H - 1, {}, undefined],
    ['at(2026-01-01T08:00:00)', T0 + 30 * H, { endMs: T0 + 7 * H }, undefined],
    ['at(2026-01-01T08:00:00)', T0 + 30 * H, { startMs: T0 + 9 * H }, undefined],
    ['rate(1 hour)', T0 + 5 * H + 1, {}, '2026-01-01T05:00:00.000Z'],
    ['rate(1 hour)', T0 + 5 * H, {}, '2026-01-01T05:00:00.000Z'],
    ['rate(1 hour)', T0 + H - 1, {}, undefined], // counted from creation, which is not a run
    ['rate(1 hour)', T0 + 5 * H, { endMs: T0 + 2 * H + 1 }, '2026-01-01T02:00:00.000Z'],
    ['rate(5 minutes)', T0 + H, { startMs: T0 + 90_000 }, '2026-01-01T00:56:30.000Z'],
    ['rate(5 minutes)', T0 + 90_000, { startMs: T0 + 90_000 }, '2026-01-01T00:01:30.000Z'], // StartTime is a run
    ['cron(0 12 ? * MON-FRI *)', Date.UTC(2026, 0, 5, 9), {}, '2026-01-02T12:00:00.000Z'], // Monday morning: Friday noon
    ['cron(0 12 ? * MON-FRI *)', Date.UTC(2026, 0, 2, 12), {}, '2026-01-02T12:00:00.000Z'],
    ['cron(0 12 ? * MON-FRI *)', Date.UTC(2026, 0, 5, 9), { startMs: Date.UTC(2026, 0, 3) }, undefined],
    ['cron(0 8 * * ? *)', Date.UTC(2026, 0, 2, 7, 30), { timezone: 'Europe/Paris' }, '2026-01-02T07:00:00.000Z'],
  ] as const)('%s at %s, window %j: %s', (expression, at, window, want) => {
    expect(last(expression, at, window)).toBe(want);
  });

  it('agrees with nextFireTime: the run after the last one is the next one', () => {
    for (const expression of ['rate(7 minutes)', 'cron(0/15 * * * ? *)', 'cron(0 8 ? * MON-FRI *)']) {
      const s = parseSchedule(expression);
      for (let at = T0 + 3_600_000; at < T0 + 5 * 86_400_000; at += 6_173_000) {
        const prev = lastFireTime(s, at, { anchorMs: T0 });
        expect(prev).toBeDefined();
        expect(prev!).toBeLessThanOrEqual(at);
        expect(nextFireTime(s, prev!, { anchorMs: T0 })!).toBeGreaterThan(at);
      }
    }
  });
});

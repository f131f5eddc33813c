import { describe, expect, it } from 'vitest';
import { ScalingValidationException } from '../../../src/autoscaling/errors.js';
import { nextFireTime, parseSchedule } from '../../../src/autoscaling/schedule.js';

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

import { describe, expect, it } from 'vitest';
import { parseScheduleExpression, type ParsedSchedule } from '../../../src/core/schedule-expression.js';
import { cursorAt, decideRun, eventTime, scheduledEvent } from '../../../src/schedules/firing.js';

const T0 = Date.UTC(2026, 0, 1); // a Thursday
const MIN = 60_000;
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function schedule(expression: string): ParsedSchedule {
  const p = parseScheduleExpression(expression, { kinds: ['rate', 'cron'] });
  if (!p.ok) throw new Error(p.why);
  return p.schedule;
}

describe('decideRun', () => {
  it.each([
    // expression, anchor, cursor, now → fire at, next at
    ['rate(5 minutes)', T0, T0 - 1, T0, undefined, T0 + 5 * MIN], // the anchor itself is not a run
    ['rate(5 minutes)', T0, T0 - 1, T0 + 5 * MIN - 1, undefined, T0 + 5 * MIN],
    ['rate(5 minutes)', T0, T0 - 1, T0 + 5 * MIN, T0 + 5 * MIN, T0 + 10 * MIN],
    ['rate(5 minutes)', T0, T0 + 5 * MIN, T0 + 5 * MIN, undefined, T0 + 10 * MIN], // fired already
    ['rate(5 minutes)', T0, T0 + 5 * MIN, T0 + 17 * MIN, T0 + 15 * MIN, T0 + 20 * MIN], // a late wake fires once, for the latest
    ['rate(5 minutes)', T0 + 30_000, T0, T0 + 6 * MIN, T0 + 5 * MIN + 30_000, T0 + 10 * MIN + 30_000], // counted from the anchor
    ['cron(0 12 L * ? *)', T0, T0 - 1, T0, undefined, Date.UTC(2026, 0, 31, 12)],
    ['cron(0 12 L * ? *)', T0, T0 - 1, Date.UTC(2026, 0, 31, 12), Date.UTC(2026, 0, 31, 12), Date.UTC(2026, 1, 28, 12)],
    ['cron(30 9 ? * 6L *)', T0, T0 - 1, Date.UTC(2026, 0, 30, 9, 30), Date.UTC(2026, 0, 30, 9, 30), Date.UTC(2026, 1, 27, 9, 30)],
    ['cron(0/15 * * * ? *)', T0, T0 - 1, T0, T0, T0 + 15 * MIN], // an instant equal to the arming time is due
    ['cron(15 10 ? * 6L 2002-2005)', T0, T0 - 1, T0, undefined, undefined], // no run left: nothing to wake for
  ] as const)('%s anchored %s, cursor %s, at %s: fire %s, next %s', (expression, anchorMs, cursorMs, now, fire, next) => {
    const d = decideRun({ schedule: schedule(expression), anchorMs, cursorMs }, now);
    expect(iso(d.fireAt)).toBe(iso(fire));
    expect(iso(d.nextAt)).toBe(iso(next));
  });

  it('a cursor in the future (a clock set back) never fires an instant again', () => {
    const d = decideRun({ schedule: schedule('rate(1 minute)'), anchorMs: T0, cursorMs: T0 + 10 * MIN }, T0 + 5 * MIN);
    expect(d.fireAt).toBeUndefined();
    expect(d.nextAt).toBe(T0 + 11 * MIN);
  });
});

describe('cursorAt', () => {
  it('arms from now (nothing before it is replayed) unless the rule fired later than that', () => {
    expect(cursorAt(T0 + 17 * MIN, T0 + 5 * MIN)).toBe(T0 + 17 * MIN - 1);
    expect(cursorAt(T0 + 20 * MIN, T0 + 20 * MIN)).toBe(T0 + 20 * MIN);
    expect(cursorAt(T0, undefined)).toBe(T0 - 1);
  });
});

describe('the scheduled event', () => {
  it("is EventBridge's shape, its time the scheduled instant to the second", () => {
    expect(eventTime(T0 + 5 * MIN + 30_789)).toBe('2026-01-01T00:05:30Z');
    expect(scheduledEvent({ region: 'eu-west-1', accountId: '123456789012' }, 'nightly', 'id-1', T0)).toEqual({
      version: '0',
      id: 'id-1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:123456789012:rule/nightly'],
      detail: {},
    });
  });
});

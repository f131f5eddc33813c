/**
 * Scheduled action expressions: `at(yyyy-mm-ddThh:mm:ss)`, `rate(N unit)` and
 * `cron(minutes hours day-of-month month day-of-week year)`, read in the action's Timezone (UTC
 * by default) and bounded by its StartTime/EndTime. The expressions themselves are shared with
 * EventBridge's scheduled rules (`core/schedule-expression.ts`); this module gives their
 * refusals Application Auto Scaling's error and wording.
 */
import { isTimezone, parseScheduleExpression, type ParsedSchedule } from '../core/schedule-expression.js';
import { ScalingValidationException } from './errors.js';

export { lastFireTime, nextFireTime, type ParsedSchedule, type ScheduleWindow } from '../core/schedule-expression.js';

const invalid = (expression: string, why: string) =>
  new ScalingValidationException(
    `Invalid schedule '${expression}': ${why}. Use at(yyyy-mm-ddThh:mm:ss), rate(N minutes|hours|days) ` +
      `or cron(minutes hours day-of-month month day-of-week year).`,
  );

/** Throws a ValidationException unless `timezone` is an IANA time zone name. */
export function assertTimezone(timezone: string): void {
  if (!isTimezone(timezone)) {
    throw new ScalingValidationException(`Invalid Timezone '${timezone}': use an IANA time zone name such as 'UTC' or 'America/New_York'.`);
  }
}

export function parseSchedule(expression: string, timezone = 'UTC'): ParsedSchedule {
  assertTimezone(timezone);
  const parsed = parseScheduleExpression(expression, { timezone });
  if (!parsed.ok) throw invalid(expression, parsed.why);
  return parsed.schedule;
}

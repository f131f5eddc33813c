/**
 * Scheduled action expressions: `at(yyyy-mm-ddThh:mm:ss)`, `rate(N unit)` and
 * `cron(minutes hours day-of-month month day-of-week year)`, read in the action's Timezone (UTC
 * by default) and bounded by its StartTime/EndTime. No clock is read here: the caller passes the
 * instant to search after.
 *
 * cron uses croner with AWS's conventions (libraries.md §8): a leading `0` seconds field, 7-part
 * mode, 1 = SUN weekdays, `0/5` ranges; `L`, `W` and `#` work as in AWS.
 */
import { Cron } from 'croner';
import { ScalingValidationException } from './errors.js';

export type ParsedSchedule =
  | { kind: 'at'; atMs: number }
  | { kind: 'rate'; intervalMs: number }
  | { kind: 'cron'; cron: Cron };

export interface ScheduleWindow {
  /** StartTime: no run before it; rate() runs are counted from it when given. */
  startMs?: number | undefined;
  /** EndTime: no run after it. */
  endMs?: number | undefined;
  /** When the action was created: rate() runs are counted from it when there is no StartTime. */
  anchorMs: number;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const AT_RE = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RATE_RE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON_RE = /^cron\((.+)\)$/;

const invalid = (expression: string, why: string) =>
  new ScalingValidationException(
    `Invalid schedule '${expression}': ${why}. Use at(yyyy-mm-ddThh:mm:ss), rate(N minutes|hours|days) ` +
      `or cron(minutes hours day-of-month month day-of-week year).`,
  );

/** Throws a ValidationException unless `timezone` is an IANA time zone name. */
export function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new ScalingValidationException(`Invalid Timezone '${timezone}': use an IANA time zone name such as 'UTC' or 'America/New_York'.`);
  }
}

export function parseSchedule(expression: string, timezone = 'UTC'): ParsedSchedule {
  assertTimezone(timezone);
  const at = AT_RE.exec(expression);
  if (at) {
    const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) throw invalid(expression, 'no such date and time');
    const iso = at[0].slice(3, -1);
    // croner resolves a wall-clock time in a zone, DST gaps included; a one-shot job has one run.
    const run = new Cron(iso, { timezone, paused: true }).nextRun(new Date(0));
    if (!run) throw invalid(expression, 'no such date and time');
    return { kind: 'at', atMs: run.getTime() };
  }
  const rate = RATE_RE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] as string;
    if (value < 1) throw invalid(expression, 'the rate must be a positive whole number');
    const plural = unit.endsWith('s');
    if ((value === 1) === plural) throw invalid(expression, value === 1 ? `use the singular unit, as in rate(1 ${unit.slice(0, -1)})` : `use the plural unit, as in rate(${value} ${unit}s)`);
    return { kind: 'rate', intervalMs: value * (UNIT_MS[plural ? unit.slice(0, -1) : unit] as number) };
  }
  const cron = CRON_RE.exec(expression);
  if (cron) {
    const fields = (cron[1] as string).trim().split(/\s+/);
    if (fields.length !== 6) throw invalid(expression, `cron() takes 6 fields, got ${fields.length}`);
    if (fields[2] !== '?' && fields[4] !== '?') throw invalid(expression, "one of day-of-month and day-of-week must be '?'");
    try {
      const job = new Cron('0 ' + fields.join(' '), {
        mode: '7-part',
        alternativeWeekdays: true,
        sloppyRanges: true,
        timezone,
        paused: true,
      });
      return { kind: 'cron', cron: job };
    } catch (err) {
      throw invalid(expression, (err as Error).message);
    }
  }
  throw invalid(expression, 'unrecognised expression');
}

/** The first run strictly after `afterMs` inside the window, or undefined when there is none. */
export function nextFireTime(schedule: ParsedSchedule, afterMs: number, window: ScheduleWindow): number | undefined {
  const from = window.startMs !== undefined ? Math.max(afterMs, window.startMs - 1) : afterMs;
  let next: number | undefined;
  switch (schedule.kind) {
    case 'at':
      next = schedule.atMs > from ? schedule.atMs : undefined;
      break;
    case 'rate': {
      const anchor = window.startMs ?? window.anchorMs;
      const first = window.startMs !== undefined ? 0 : 1;
      const k = Math.max(first, Math.floor((from - anchor) / schedule.intervalMs) + 1);
      next = anchor + k * schedule.intervalMs;
      break;
    }
    case 'cron':
      next = schedule.cron.nextRun(new Date(from))?.getTime();
      break;
  }
  if (next === undefined || (window.endMs !== undefined && next > window.endMs)) return undefined;
  return next;
}

/**
 * The last run at or before `atOrBeforeMs` inside the window, or undefined when there is none:
 * which occurrence a server that was down should catch up on.
 */
export function lastFireTime(schedule: ParsedSchedule, atOrBeforeMs: number, window: ScheduleWindow): number | undefined {
  const upto = window.endMs !== undefined ? Math.min(atOrBeforeMs, window.endMs) : atOrBeforeMs;
  let last: number | undefined;
  switch (schedule.kind) {
    case 'at':
      last = schedule.atMs <= upto ? schedule.atMs : undefined;
      break;
    case 'rate': {
      const anchor = window.startMs ?? window.anchorMs;
      const first = window.startMs !== undefined ? 0 : 1;
      const k = Math.floor((upto - anchor) / schedule.intervalMs);
      last = k >= first ? anchor + k * schedule.intervalMs : undefined;
      break;
    }
    case 'cron':
      // previousRuns is strictly before its reference; one millisecond more makes it "at or before".
      last = schedule.cron.previousRuns(1, new Date(upto + 1))[0]?.getTime();
      break;
  }
  if (last === undefined || (window.startMs !== undefined && last < window.startMs)) return undefined;
  return last;
}

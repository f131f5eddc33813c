/**
 * AWS schedule expressions, as Application Auto Scaling's scheduled actions and EventBridge's
 * scheduled rules write them: `at(yyyy-mm-ddThh:mm:ss)` (scheduled actions only), `rate(N unit)`
 * and `cron(minutes hours day-of-month month day-of-week year)`. Pure: no clock is read here, the
 * caller passes the instant to search from; and no error is thrown, because each service answers
 * a bad expression in its own words (`autoscaling/schedule.ts`, `schedules/service.ts`).
 *
 * cron uses croner with AWS's conventions (libraries.md §8): a leading `0` seconds field, 7-part
 * mode, 1 = SUN weekdays, `0/5` ranges; `L`, `W` and `#` work as in AWS.
 */
import { Cron } from 'croner';

export type ParsedSchedule =
  | { kind: 'at'; atMs: number }
  | { kind: 'rate'; intervalMs: number }
  | { kind: 'cron'; cron: Cron };

export type ScheduleKind = ParsedSchedule['kind'];

/** A parsed expression, or why it is not one (a phrase, for the caller's message). */
export type ScheduleParse = { ok: true; schedule: ParsedSchedule } | { ok: false; why: string };

export interface ScheduleWindow {
  /** StartTime: no run before it; rate() runs are counted from it when given. */
  startMs?: number | undefined;
  /** EndTime: no run after it. */
  endMs?: number | undefined;
  /** When the schedule began (created, or enabled again): rate() runs are counted from it when there is no StartTime. */
  anchorMs: number;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const AT_RE = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RATE_RE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON_RE = /^cron\((.+)\)$/;

const ALL_KINDS: readonly ScheduleKind[] = ['at', 'rate', 'cron'];

/** True when `timezone` is an IANA time zone name. */
export function isTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

const fail = (why: string): ScheduleParse => ({ ok: false, why });

/**
 * Reads an expression of one of `kinds` (all three by default), in `timezone` (UTC by default;
 * the caller checks it is a zone first). Anything else, a kind not allowed included, fails.
 */
export function parseScheduleExpression(expression: string, o: { timezone?: string; kinds?: readonly ScheduleKind[] } = {}): ScheduleParse {
  const timezone = o.timezone ?? 'UTC';
  const kinds = o.kinds ?? ALL_KINDS;
  const at = kinds.includes('at') ? AT_RE.exec(expression) : null;
  if (at) {
    const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return fail('no such date and time');
    const iso = at[0].slice(3, -1);
    // croner resolves a wall-clock time in a zone, DST gaps included; a one-shot job has one run.
    const run = new Cron(iso, { timezone, paused: true }).nextRun(new Date(0));
    if (!run) return fail('no such date and time');
    return { ok: true, schedule: { kind: 'at', atMs: run.getTime() } };
  }
  const rate = kinds.includes('rate') ? RATE_RE.exec(expression) : null;
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] as string;
    if (value < 1) return fail('the rate must be a positive whole number');
    const plural = unit.endsWith('s');
    if ((value === 1) === plural) return fail(value === 1 ? `use the singular unit, as in rate(1 ${unit.slice(0, -1)})` : `use the plural unit, as in rate(${value} ${unit}s)`);
    return { ok: true, schedule: { kind: 'rate', intervalMs: value * (UNIT_MS[plural ? unit.slice(0, -1) : unit] as number) } };
  }
  const cron = kinds.includes('cron') ? CRON_RE.exec(expression) : null;
  if (cron) {
    const fields = (cron[1] as string).trim().split(/\s+/);
    if (fields.length !== 6) return fail(`cron() takes 6 fields, got ${fields.length}`);
    if (fields[2] !== '?' && fields[4] !== '?') return fail("one of day-of-month and day-of-week must be '?'");
    try {
      const job = new Cron('0 ' + fields.join(' '), {
        mode: '7-part',
        alternativeWeekdays: true,
        sloppyRanges: true,
        timezone,
        paused: true,
      });
      return { ok: true, schedule: { kind: 'cron', cron: job } };
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  return fail('unrecognised expression');
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
 * which occurrence is due when a timer wakes, or what a server that was down missed.
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

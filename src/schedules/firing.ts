/**
 * When a scheduled rule fires, and what it sends: pure functions of the rule's schedule, the
 * instants it has already fired for, and `now`. The runner (`runner.ts`) keeps the timer and
 * does the I/O.
 *
 * - rate() runs every N units counted from the rule's anchor (created, or enabled again); cron()
 *   runs at its instants in UTC.
 * - A rule fires once per scheduled instant, and only for instants after its cursor: the later
 *   of the last instant it fired for (stored, so a restart never fires it again) and the moment
 *   its schedule was armed (a restart, an enable). Instants missed while the server was down or
 *   the rule was disabled are not replayed, as EventBridge does not replay them.
 * - A timer that wakes late (a busy or suspended host) fires the rule once, for the latest
 *   instant that has come, rather than once per instant it slept through.
 */
import type { Partition } from '../core/arn.js';
import { lastFireTime, nextFireTime, type ParsedSchedule } from '../core/schedule-expression.js';

export interface ArmedSchedule {
  schedule: ParsedSchedule;
  /** rate() runs are counted from here. */
  anchorMs: number;
  /** Instants at or before this have fired, or were before the schedule was armed. */
  cursorMs: number;
}

export interface RunDecision {
  /** The scheduled instant to fire for now, if one has come. */
  fireAt?: number;
  /** The next instant to wake for, if the schedule has one. */
  nextAt?: number;
}

export function decideRun(s: ArmedSchedule, nowMs: number): RunDecision {
  const window = { anchorMs: s.anchorMs };
  const latest = lastFireTime(s.schedule, nowMs, window);
  const nextAt = nextFireTime(s.schedule, Math.max(s.cursorMs, nowMs), window);
  const out: RunDecision = {};
  if (latest !== undefined && latest > s.cursorMs) out.fireAt = latest;
  if (nextAt !== undefined) out.nextAt = nextAt;
  return out;
}

/** The cursor of a schedule armed at `armedAtMs`: instants from then on are due, none fired twice. */
export function cursorAt(armedAtMs: number, lastFiredMs: number | undefined): number {
  return Math.max(lastFiredMs ?? -Infinity, armedAtMs - 1);
}

/** EventBridge's `time`: the scheduled instant in UTC, to the second, `Z`. */
export function eventTime(atMs: number): string {
  return new Date(Math.floor(atMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function ruleArn(p: Partition, name: string): string {
  return `arn:aws:events:${p.region}:${p.accountId}:rule/${name}`;
}

/** The event a scheduled rule sends its targets (those without `Input`), as EventBridge writes it. */
export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'aws.events';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, never>;
}

export function scheduledEvent(p: Partition, rule: string, id: string, atMs: number): ScheduledEvent {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: p.accountId,
    time: eventTime(atMs),
    region: p.region,
    resources: [ruleArn(p, rule)],
    detail: {},
  };
}

/**
 * Schedules: the EventBridge API subset that runs Lambda functions on a schedule.
 *
 * - `Schedules`: PutRule … RemoveTargets over a `RuleStore` (`<dataDir>/schedules.db`), and the
 *   runner that fires enabled `rate()` / `cron()` rules through the asynchronous invoke path.
 * - `eventBridgeRoutes`: the awsJson1_1 API (`POST /`, `X-Amz-Target: AWSEvents.*`).
 * - `firing.ts`: when a rule fires and the event it sends, pure.
 */
export { Schedules, MAX_TARGETS_PER_RULE, type SchedulesOptions } from './service.js';
export { ScheduleRunner, type ScheduleTargetPort, type ScheduleMetricsSink, type FailedInvocationReason } from './runner.js';
export { RuleStore, SchedulesDatabaseError, SCHEDULES_DB } from './rule-store.js';
export { eventBridgeRoutes, toEventBridgeError, EVENTBRIDGE_OPERATIONS, type EventBridgeRouteOptions } from './routes.js';
export { decideRun, cursorAt, scheduledEvent, eventTime, ruleArn, type ArmedSchedule, type ScheduledEvent } from './firing.js';
export * from './errors.js';
export type * from './types.js';

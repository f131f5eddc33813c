/**
 * Application Auto Scaling for Lambda provisioned concurrency.
 *
 * - `AutoScaling`: the operations (RegisterScalableTarget … DeleteScheduledAction, tagging) and
 *   the scaling loop (`start()` / `stop()`), acting through a `ProvisionedConcurrencyPort`.
 * - `appAutoScalingRoutes`: the awsJson1_1 API (`POST /`, `X-Amz-Target: AnyScaleFrontendService.*`).
 * - Policies: `TargetTrackingScaling` (AWS parity: AlarmHigh 3 of 3, AlarmLow 15 of 15 at 90 % of
 *   the target; see policy.ts) and Laminar's `LaminarKnativeScaling` (stable/panic windows
 *   evaluated every sample tick; see knative-policy.ts).
 * - Metrics: `bindMetrics({ onAction })` and `desiredCapacity()` feed
 *   `laminar_autoscaling_actions_total` and `laminar_autoscaling_desired_capacity`.
 *
 * State is in memory (`MemoryTargetStore`) unless another `TargetStore` is passed; the server
 * keeps it in `<dataDir>/autoscaling.db` (`SqliteTargetStore`).
 */
export { AutoScaling, QUOTAS, type AutoScalingOptions, type DesiredCapacitySample } from './service.js';
export { appAutoScalingRoutes, toScalingError, OPERATIONS, type AppAutoScalingRouteOptions } from './routes.js';
export type { AutoScalingMetricsSink } from './actuator.js';
export { MemoryTargetStore, DEFAULT_ACTIVITY_RETENTION, type TargetStore } from './target-store.js';
export { SqliteTargetStore, ScalingDatabaseError, AUTOSCALING_DB, type SqliteTargetStoreOptions } from './sqlite-target-store.js';
export { ScalingLoop, type LoopOptions } from './loop.js';
export { targetTracking, TARGET_TRACKING_RULES, type TargetTrackingSpec, type TrackingDecision } from './policy.js';
export { knativeScale, type KnativeSpec, type KnativeState, type ConcurrencySample } from './knative-policy.js';
export { evaluateAlarm, lastPeriods, type AlarmState, type Datapoint } from './alarms.js';
export { parseSchedule, nextFireTime, lastFireTime, type ParsedSchedule } from './schedule.js';
export * from './errors.js';
export type * from './api-shapes.js';
export type { Direction, KnativeSettings, PolicyType, TargetKey } from './types.js';
export { SCALABLE_DIMENSION, SERVICE_NAMESPACE, PREDEFINED_METRIC } from './types.js';
export type { ProvisionedConcurrencyPort, ProvisionedUsage, ProvisionedConfigView } from './port.js';

/**
 * The one place where autoscaling changes provisioned concurrency: through the port, which is the
 * same code path as PutProvisionedConcurrencyConfig (and Delete, for zero). Every change is
 * recorded as a scaling activity, successful or not, and reported to the metrics sink.
 */
import type { Clock } from '../core/clock.js';
import type { IdSource } from './ids.js';
import type { ProvisionedConcurrencyPort } from './port.js';
import type { TargetStore } from './target-store.js';
import type { Direction, NotScaledReason, ScalableTargetRecord, ScalingActivityRecord, TargetKey } from './types.js';

/**
 * What autoscaling reports for Prometheus; wire it to
 * `laminar_autoscaling_actions_total{function,qualifier,direction}`.
 */
export interface AutoScalingMetricsSink {
  onAction(direction: Direction, target: TargetKey): void;
}

/** Turns a port error into one the caller throws, or undefined to record it as a Failed activity. */
export type Escalate = (err: unknown) => Error | undefined;

export interface ApplyResult {
  ok: boolean;
  activity: ScalingActivityRecord;
}

export interface ActuatorDeps {
  clock: Clock;
  port: ProvisionedConcurrencyPort;
  store: TargetStore;
  ids: IdSource;
}

export class Actuator {
  private sink: AutoScalingMetricsSink | undefined;
  private readonly lastDesired = new Map<string, number>();

  constructor(private readonly d: ActuatorDeps) {}

  bindMetrics(sink: AutoScalingMetricsSink): void {
    this.sink = sink;
  }

  /** The provisioned concurrency requested right now; 0 when the qualifier has no config. */
  current(target: TargetKey): number {
    return this.d.port.get(target.functionName, target.qualifier)?.requested ?? 0;
  }

  /** The capacity autoscaling last set, if it ever acted on this target. */
  desired(resourceId: string): number | undefined {
    return this.lastDesired.get(resourceId);
  }

  forget(resourceId: string): void {
    this.lastDesired.delete(resourceId);
  }

  /**
   * Sets the target's provisioned concurrency to `desired`. A failure becomes a Failed activity,
   * unless `escalate(err)` returns an error for the caller to throw instead (nothing is recorded then).
   */
  apply(target: ScalableTargetRecord, desired: number, cause: string, escalate?: Escalate): ApplyResult {
    const start = this.d.clock.now();
    let direction: Direction = 'out';
    try {
      direction = desired < this.current(target) ? 'in' : 'out';
      if (desired === 0) this.d.port.delete(target.functionName, target.qualifier);
      else this.d.port.put(target.functionName, target.qualifier, desired);
    } catch (err) {
      const escalated = escalate?.(err);
      if (escalated) throw escalated;
      const activity = this.record(target, {
        description: `Setting desired concurrency to ${desired}.`,
        cause,
        startTime: start,
        status: 'Failed',
        statusMessage: `Failed to set desired concurrency to ${desired}. Reason: ${(err as Error).message}`,
      });
      return { ok: false, activity };
    }
    this.lastDesired.set(target.resourceId, desired);
    this.sink?.onAction(direction, target);
    const activity = this.record(target, {
      description: `Setting desired concurrency to ${desired}.`,
      cause,
      startTime: start,
      status: 'Successful',
      statusMessage: `Successfully set desired concurrency to ${desired}. Change successfully fulfilled by lambda.`,
    });
    return { ok: true, activity };
  }

  /** Moves current capacity into [min, max], as RegisterScalableTarget and scheduled actions do. */
  clamp(target: ScalableTargetRecord, escalate?: Escalate): ApplyResult | undefined {
    let current: number;
    try {
      current = this.current(target);
    } catch (err) {
      const escalated = escalate?.(err);
      if (escalated) throw escalated;
      return undefined; // unreadable now; the next clamp or policy action will try again
    }
    if (current < target.minCapacity) return this.apply(target, target.minCapacity, `minimum capacity was set to ${target.minCapacity}`, escalate);
    if (current > target.maxCapacity) return this.apply(target, target.maxCapacity, `maximum capacity was set to ${target.maxCapacity}`, escalate);
    return undefined;
  }

  /** Records that a policy wanted to scale but a bound stopped it (shown with IncludeNotScaledActivities). */
  notScaled(target: ScalableTargetRecord, reason: NotScaledReason, cause: string): ScalingActivityRecord {
    return this.record(target, {
      description: 'Attempting to scale due to alarm triggered',
      cause,
      startTime: this.d.clock.now(),
      status: 'Failed',
      statusMessage: reason.Code === 'AlreadyAtMaxCapacity' ? 'Capacity is already at the maximum.' : 'Capacity is already at the minimum.',
      notScaledReasons: [reason],
    });
  }

  record(
    target: ScalableTargetRecord,
    a: Pick<ScalingActivityRecord, 'description' | 'cause' | 'startTime' | 'status' | 'statusMessage'> & { notScaledReasons?: NotScaledReason[] },
  ): ScalingActivityRecord {
    const activity: ScalingActivityRecord = {
      id: this.d.ids.uuid(),
      resourceId: target.resourceId,
      description: a.description,
      cause: a.cause,
      startTime: a.startTime,
      endTime: this.d.clock.now(),
      status: a.status,
      statusMessage: a.statusMessage,
      notScaledReasons: a.notScaledReasons,
    };
    this.d.store.addActivity(activity);
    return activity;
  }
}

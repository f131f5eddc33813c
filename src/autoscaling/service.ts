/**
 * Application Auto Scaling for Lambda provisioned concurrency: the operations, over a
 * TargetStore, with the loop doing the scaling. State is in memory by default (`MemoryTargetStore`);
 * the server passes a `SqliteTargetStore` in its data dir, so that everything accepted survives a
 * restart and `start()` resumes the scheduled actions from it.
 */
import type { Partition } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import type { SharedWrite } from '../core/shared-write.js';
import { ResourceNotFoundException } from '../core/errors.js';
import { Actuator, type AutoScalingMetricsSink } from './actuator.js';
import {
  activityShape,
  policyShape,
  scheduledActionShape,
  targetShape,
  type DeleteScalingPolicyInput,
  type DeleteScheduledActionInput,
  type DescribeScalableTargetsInput,
  type DescribeScalingActivitiesInput,
  type DescribeScalingPoliciesInput,
  type DescribeScheduledActionsInput,
  type PutScalingPolicyInput,
  type PutScheduledActionInput,
  type RegisterScalableTargetInput,
  type ScalableTargetShape,
  type ScalingActivityShape,
  type ScalingPolicyShape,
  type ScheduledActionShape,
  type TagResourceInput,
  type TargetIdentity,
  type UntagResourceInput,
} from './api-shapes.js';
import { LimitExceededException, ObjectNotFoundException, ScalingResourceNotFoundException, ScalingValidationException } from './errors.js';
import { checkFilters, describeTarget, parseResourceId, parseTarget, type ParsedTarget } from './identity.js';
import { idSource, lambdaServiceRoleArn, scalableTargetArn, scheduledActionArn, type IdSource } from './ids.js';
import { ScalingLoop } from './loop.js';
import { paginate } from './paging.js';
import { buildPolicy } from './policy-config.js';
import type { ProvisionedConcurrencyPort } from './port.js';
import { parseSchedule } from './schedule.js';
import { MemoryTargetStore, type TargetStore } from './target-store.js';
import type { AlarmRef, ScalableTargetRecord, ScheduledActionRecord } from './types.js';

export interface AutoScalingOptions {
  clock: Clock;
  port: ProvisionedConcurrencyPort;
  /** One target tracking datapoint per period (config `autoscalingEvaluationPeriodSeconds` × 1000; AWS: 60 s). */
  periodMs: number;
  partition: Partition;
  /** Random source for ids and ARNs. @defaultValue node:crypto */
  random?: () => number;
  /** @defaultValue a new MemoryTargetStore */
  store?: TargetStore;
  /** Sample ticks per period. @defaultValue 10 */
  samplesPerPeriod?: number;
  /** How the loop's passes run; see `LoopOptions.write`. */
  write?: SharedWrite;
  /** Loop passes that could not be written. */
  onError?: (err: unknown) => void;
}

/** AWS's default quotas for Lambda targets. */
export const QUOTAS = { scalableTargets: 3000, policiesPerTarget: 50, scheduledActionsPerTarget: 200 } as const;

export interface DesiredCapacitySample {
  function: string;
  qualifier: string;
  value: number;
}

const notFoundTarget = (resourceId: string) => new ObjectNotFoundException(`No scalable target registered for ${describeTarget(resourceId)}`);

export class AutoScaling {
  readonly store: TargetStore;
  readonly loop: ScalingLoop;
  private readonly actuator: Actuator;
  private readonly ids: IdSource;

  constructor(private readonly o: AutoScalingOptions) {
    this.store = o.store ?? new MemoryTargetStore();
    this.ids = idSource(o.random);
    this.actuator = new Actuator({ clock: o.clock, port: o.port, store: this.store, ids: this.ids });
    this.loop = new ScalingLoop({ ...o, store: this.store, actuator: this.actuator });
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Catches up with targets and scheduled actions changed through another node of the cluster. */
  sync(): void {
    this.loop.sync();
  }

  /** Counts scaling actions by direction (`laminar_autoscaling_actions_total`). */
  bindMetrics(sink: AutoScalingMetricsSink): void {
    this.actuator.bindMetrics(sink);
  }

  /** Per registered target, the capacity autoscaling last set, else the current request (`laminar_autoscaling_desired_capacity`). */
  desiredCapacity(): DesiredCapacitySample[] {
    return this.store.listTargets().map((t) => ({
      function: t.functionName,
      qualifier: t.qualifier,
      value: this.actuator.desired(t.resourceId) ?? this.safeCurrent(t),
    }));
  }

  registerScalableTarget(i: RegisterScalableTargetInput): { ScalableTargetARN: string } {
    const parsed = parseTarget(i);
    const existing = this.store.getTarget(parsed.resourceId);
    if (!existing) {
      if (i.MinCapacity === undefined || i.MaxCapacity === undefined) {
        throw new ScalingValidationException('MinCapacity and MaxCapacity are required to register a new scalable target.');
      }
      if (this.store.countTargets() >= QUOTAS.scalableTargets) {
        throw new LimitExceededException(`You have reached the maximum of ${QUOTAS.scalableTargets} scalable targets for service namespace lambda.`);
      }
    }
    const target: ScalableTargetRecord = {
      ...parsed,
      minCapacity: i.MinCapacity ?? (existing as ScalableTargetRecord).minCapacity,
      maxCapacity: i.MaxCapacity ?? (existing as ScalableTargetRecord).maxCapacity,
      roleArn: i.RoleARN ?? existing?.roleArn ?? lambdaServiceRoleArn(this.o.partition),
      arn: existing?.arn ?? scalableTargetArn(this.o.partition, this.ids.hex(36)),
      createdAt: existing?.createdAt ?? this.o.clock.now(),
      suspended: { ...existing?.suspended, ...i.SuspendedState },
      tags: existing?.tags ?? { ...i.Tags },
    };
    if (target.minCapacity > target.maxCapacity) {
      throw new ScalingValidationException(`Minimum capacity ${target.minCapacity} cannot be greater than maximum capacity ${target.maxCapacity}.`);
    }
    // An unknown function or qualifier refuses the registration itself, as AWS checks the resource.
    this.actuator.clamp(target, (err) =>
      err instanceof ResourceNotFoundException
        ? new ScalingValidationException(`Unable to register scalable target ${target.resourceId}: ${err.message}`)
        : undefined,
    );
    if (!existing) this.loop.forgetTarget(target.resourceId);
    this.store.putTarget(target);
    return { ScalableTargetARN: target.arn };
  }

  deregisterScalableTarget(i: TargetIdentity): Record<string, never> {
    const { resourceId } = parseTarget(i);
    if (!this.store.getTarget(resourceId)) throw notFoundTarget(resourceId);
    this.store.deleteTarget(resourceId);
    this.loop.forgetTarget(resourceId);
    this.actuator.forget(resourceId);
    return {};
  }

  describeScalableTargets(i: DescribeScalableTargetsInput): { ScalableTargets: ScalableTargetShape[]; NextToken?: string } {
    checkFilters(i);
    const wanted = i.ResourceIds && i.ResourceIds.length > 0 ? new Set(i.ResourceIds.map((r) => parseResourceId(r).resourceId)) : undefined;
    const all = this.store.listTargets().filter((t) => !wanted || wanted.has(t.resourceId));
    const page = paginate(all, 'targets', i, 50);
    return { ScalableTargets: page.items.map(targetShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  putScalingPolicy(i: PutScalingPolicyInput): { PolicyARN: string; Alarms: AlarmRef[] } {
    const parsed = parseTarget(i);
    this.requireTarget(parsed);
    const existing = this.store.getPolicy(parsed.resourceId, i.PolicyName);
    if (!existing && this.store.listPolicies(parsed.resourceId).length >= QUOTAS.policiesPerTarget) {
      throw new LimitExceededException(`The scalable target ${parsed.resourceId} already has ${QUOTAS.policiesPerTarget} scaling policies.`);
    }
    const policy = buildPolicy(i, parsed, existing, { partition: this.o.partition, ids: this.ids, periodMs: this.o.periodMs, now: this.o.clock.now() });
    this.store.putPolicy(policy);
    this.loop.forgetPolicy(policy.resourceId, policy.name);
    return { PolicyARN: policy.arn, Alarms: policy.alarms ? [policy.alarms.high, policy.alarms.low] : [] };
  }

  describeScalingPolicies(i: DescribeScalingPoliciesInput): { ScalingPolicies: ScalingPolicyShape[]; NextToken?: string } {
    checkFilters(i);
    const names = i.PolicyNames && i.PolicyNames.length > 0 ? new Set(i.PolicyNames) : undefined;
    const all = this.store.listPolicies(i.ResourceId).filter((p) => !names || names.has(p.name));
    const page = paginate(all, 'policies', i, 10);
    return { ScalingPolicies: page.items.map(policyShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  deleteScalingPolicy(i: DeleteScalingPolicyInput): Record<string, never> {
    const { resourceId } = parseTarget(i);
    if (!this.store.getPolicy(resourceId, i.PolicyName)) {
      throw new ObjectNotFoundException(`No scaling policy found for ${describeTarget(resourceId)}, policy name: ${i.PolicyName}`);
    }
    this.store.deletePolicy(resourceId, i.PolicyName);
    this.loop.forgetPolicy(resourceId, i.PolicyName);
    return {};
  }

  describeScalingActivities(i: DescribeScalingActivitiesInput): { ScalingActivities: ScalingActivityShape[]; NextToken?: string } {
    checkFilters(i);
    const all = this.store.listActivities(i.ResourceId).filter((a) => i.IncludeNotScaledActivities || !a.notScaledReasons);
    const page = paginate(all, 'activities', i, 50);
    return { ScalingActivities: page.items.map(activityShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  putScheduledAction(i: PutScheduledActionInput): Record<string, never> {
    const parsed = parseTarget(i);
    this.requireTarget(parsed);
    const existing = this.store.getScheduledAction(parsed.resourceId, i.ScheduledActionName);
    if (!existing && this.store.listScheduledActions(parsed.resourceId).length >= QUOTAS.scheduledActionsPerTarget) {
      throw new LimitExceededException(`The scalable target ${parsed.resourceId} already has ${QUOTAS.scheduledActionsPerTarget} scheduled actions.`);
    }
    const schedule = i.Schedule ?? existing?.schedule;
    if (schedule === undefined) throw new ScalingValidationException('Schedule is required to create a scheduled action.');
    const timezone = i.Timezone ?? existing?.timezone;
    parseSchedule(schedule, timezone);
    const action: ScheduledActionRecord = {
      resourceId: parsed.resourceId,
      name: i.ScheduledActionName,
      arn: existing?.arn ?? scheduledActionArn(this.o.partition, this.ids.uuid(), parsed.resourceId, i.ScheduledActionName),
      schedule,
      timezone,
      startTime: i.StartTime !== undefined ? Math.round(i.StartTime * 1000) : existing?.startTime,
      endTime: i.EndTime !== undefined ? Math.round(i.EndTime * 1000) : existing?.endTime,
      minCapacity: i.ScalableTargetAction?.MinCapacity ?? existing?.minCapacity,
      maxCapacity: i.ScalableTargetAction?.MaxCapacity ?? existing?.maxCapacity,
      createdAt: existing?.createdAt ?? this.o.clock.now(),
    };
    if (action.startTime !== undefined && action.endTime !== undefined && action.startTime > action.endTime) {
      throw new ScalingValidationException('StartTime must be earlier than EndTime.');
    }
    if (action.minCapacity === undefined && action.maxCapacity === undefined) {
      throw new ScalingValidationException('ScalableTargetAction must set MinCapacity, MaxCapacity or both.');
    }
    if (action.minCapacity !== undefined && action.maxCapacity !== undefined && action.minCapacity > action.maxCapacity) {
      throw new ScalingValidationException(`MinCapacity ${action.minCapacity} cannot be greater than MaxCapacity ${action.maxCapacity}.`);
    }
    this.store.putScheduledAction(action);
    this.loop.armScheduledAction(action);
    return {};
  }

  describeScheduledActions(i: DescribeScheduledActionsInput): { ScheduledActions: ScheduledActionShape[]; NextToken?: string } {
    checkFilters(i);
    const names = i.ScheduledActionNames && i.ScheduledActionNames.length > 0 ? new Set(i.ScheduledActionNames) : undefined;
    const all = this.store.listScheduledActions(i.ResourceId).filter((a) => !names || names.has(a.name));
    const page = paginate(all, 'scheduled', i, 50);
    return { ScheduledActions: page.items.map(scheduledActionShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  deleteScheduledAction(i: DeleteScheduledActionInput): Record<string, never> {
    const { resourceId } = parseTarget(i);
    if (!this.store.getScheduledAction(resourceId, i.ScheduledActionName)) {
      throw new ObjectNotFoundException(`No scheduled action found for ${describeTarget(resourceId)}, scheduled action name: ${i.ScheduledActionName}`);
    }
    this.store.deleteScheduledAction(resourceId, i.ScheduledActionName);
    this.loop.disarmScheduledAction(resourceId, i.ScheduledActionName);
    return {};
  }

  listTagsForResource(i: { ResourceARN: string }): { Tags: Record<string, string> } {
    return { Tags: this.targetByArn(i.ResourceARN).tags };
  }

  tagResource(i: TagResourceInput): Record<string, never> {
    const t = this.targetByArn(i.ResourceARN);
    this.store.putTarget({ ...t, tags: { ...t.tags, ...i.Tags } });
    return {};
  }

  untagResource(i: UntagResourceInput): Record<string, never> {
    const t = this.targetByArn(i.ResourceARN);
    const tags = { ...t.tags };
    for (const k of i.TagKeys) delete tags[k];
    this.store.putTarget({ ...t, tags });
    return {};
  }

  private requireTarget(t: ParsedTarget): ScalableTargetRecord {
    const target = this.store.getTarget(t.resourceId);
    if (!target) throw notFoundTarget(t.resourceId);
    return target;
  }

  private targetByArn(arn: string): ScalableTargetRecord {
    const t = this.store.listTargets().find((x) => x.arn === arn);
    if (!t) throw new ScalingResourceNotFoundException(`No scalable target found for ARN ${arn}`);
    return t;
  }

  private safeCurrent(t: ScalableTargetRecord): number {
    try {
      return this.actuator.current(t);
    } catch {
      return 0;
    }
  }
}

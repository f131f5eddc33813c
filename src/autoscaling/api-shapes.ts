/**
 * Request and response shapes of the Application Auto Scaling operations Laminar serves, as the
 * awsJson1_1 wire carries them (member names as in the AWS model, timestamps in epoch seconds),
 * and the conversions from stored records. `src/` cannot import the SDK (a devDependency), so
 * the shapes are declared here; the integration test checks them against the real client.
 */
import {
  SCALABLE_DIMENSION,
  SERVICE_NAMESPACE,
  type AlarmRef,
  type KnativeSettings,
  type MetricDimension,
  type NotScaledReason,
  type ScalableTargetRecord,
  type ScalingActivityRecord,
  type ScalingPolicyRecord,
  type ScheduledActionRecord,
  type SuspendedState,
} from './types.js';

export interface TargetIdentity {
  ServiceNamespace: string;
  ResourceId: string;
  ScalableDimension: string;
}

export interface Paging {
  MaxResults?: number | undefined;
  NextToken?: string | undefined;
}

export interface RegisterScalableTargetInput extends TargetIdentity {
  MinCapacity?: number | undefined;
  MaxCapacity?: number | undefined;
  RoleARN?: string | undefined;
  SuspendedState?: SuspendedState | undefined;
  Tags?: Record<string, string> | undefined;
}

export interface DescribeScalableTargetsInput extends Paging {
  ServiceNamespace: string;
  ResourceIds?: string[] | undefined;
  ScalableDimension?: string | undefined;
}

export interface CustomizedMetricShape {
  MetricName?: string | undefined;
  Namespace?: string | undefined;
  Dimensions?: MetricDimension[] | undefined;
  Statistic?: string | undefined;
  Unit?: string | undefined;
  /** Metric math; Laminar refuses it, so its content is never read. */
  Metrics?: unknown[] | undefined;
}

export interface TargetTrackingConfigurationShape {
  TargetValue: number;
  PredefinedMetricSpecification?: { PredefinedMetricType: string; ResourceLabel?: string | undefined } | undefined;
  CustomizedMetricSpecification?: CustomizedMetricShape | undefined;
  ScaleOutCooldown?: number | undefined;
  ScaleInCooldown?: number | undefined;
  DisableScaleIn?: boolean | undefined;
}

export interface PutScalingPolicyInput extends TargetIdentity {
  PolicyName: string;
  /** `TargetTrackingScaling`, or Laminar's `LaminarKnativeScaling`. */
  PolicyType?: string | undefined;
  TargetTrackingScalingPolicyConfiguration?: TargetTrackingConfigurationShape | undefined;
  /** Present only so a request carrying it can be refused with a clear message. */
  StepScalingPolicyConfiguration?: unknown;
  PredictiveScalingPolicyConfiguration?: unknown;
  /** Laminar extension, read with PolicyType `LaminarKnativeScaling`; every field optional. */
  LaminarKnativeConfiguration?: Partial<KnativeSettings> | undefined;
}

export interface DescribeScalingPoliciesInput extends Paging {
  ServiceNamespace: string;
  PolicyNames?: string[] | undefined;
  ResourceId?: string | undefined;
  ScalableDimension?: string | undefined;
}

export interface DeleteScalingPolicyInput extends TargetIdentity {
  PolicyName: string;
}

export interface DescribeScalingActivitiesInput extends Paging {
  ServiceNamespace: string;
  ResourceId?: string | undefined;
  ScalableDimension?: string | undefined;
  IncludeNotScaledActivities?: boolean | undefined;
}

export interface ScalableTargetAction {
  MinCapacity?: number | undefined;
  MaxCapacity?: number | undefined;
}

export interface PutScheduledActionInput extends TargetIdentity {
  ScheduledActionName: string;
  Schedule?: string | undefined;
  Timezone?: string | undefined;
  /** Epoch seconds. */
  StartTime?: number | undefined;
  EndTime?: number | undefined;
  ScalableTargetAction?: ScalableTargetAction | undefined;
}

export interface DescribeScheduledActionsInput extends Paging {
  ServiceNamespace: string;
  ScheduledActionNames?: string[] | undefined;
  ResourceId?: string | undefined;
  ScalableDimension?: string | undefined;
}

export interface DeleteScheduledActionInput extends TargetIdentity {
  ScheduledActionName: string;
}

export interface TagResourceInput {
  ResourceARN: string;
  Tags: Record<string, string>;
}

export interface UntagResourceInput {
  ResourceARN: string;
  TagKeys: string[];
}

const seconds = (ms: number) => ms / 1000;
const identity = (resourceId: string) => ({ ServiceNamespace: SERVICE_NAMESPACE, ResourceId: resourceId, ScalableDimension: SCALABLE_DIMENSION });

export interface ScalableTargetShape extends TargetIdentity {
  MinCapacity: number;
  MaxCapacity: number;
  RoleARN: string;
  CreationTime: number;
  SuspendedState: Required<SuspendedState>;
  ScalableTargetARN: string;
}

export function targetShape(t: ScalableTargetRecord): ScalableTargetShape {
  return {
    ...identity(t.resourceId),
    MinCapacity: t.minCapacity,
    MaxCapacity: t.maxCapacity,
    RoleARN: t.roleArn,
    CreationTime: seconds(t.createdAt),
    SuspendedState: {
      DynamicScalingInSuspended: t.suspended.DynamicScalingInSuspended ?? false,
      DynamicScalingOutSuspended: t.suspended.DynamicScalingOutSuspended ?? false,
      ScheduledScalingSuspended: t.suspended.ScheduledScalingSuspended ?? false,
    },
    ScalableTargetARN: t.arn,
  };
}

export interface ScalingPolicyShape extends TargetIdentity {
  PolicyARN: string;
  PolicyName: string;
  PolicyType: string;
  TargetTrackingScalingPolicyConfiguration: TargetTrackingConfigurationShape;
  Alarms: AlarmRef[];
  CreationTime: number;
  LaminarKnativeConfiguration?: KnativeSettings;
}

export function policyShape(p: ScalingPolicyRecord): ScalingPolicyShape {
  const config: TargetTrackingConfigurationShape = { TargetValue: p.targetValue };
  if (p.metric?.kind === 'predefined') {
    const { kind: _kind, ...spec } = p.metric;
    config.PredefinedMetricSpecification = spec;
  } else if (p.metric?.kind === 'customized') {
    const { kind: _kind, ...spec } = p.metric;
    config.CustomizedMetricSpecification = spec;
  }
  if (p.scaleOutCooldownSeconds !== undefined) config.ScaleOutCooldown = p.scaleOutCooldownSeconds;
  if (p.scaleInCooldownSeconds !== undefined) config.ScaleInCooldown = p.scaleInCooldownSeconds;
  if (p.disableScaleIn !== undefined) config.DisableScaleIn = p.disableScaleIn;
  return {
    PolicyARN: p.arn,
    PolicyName: p.name,
    ...identity(p.resourceId),
    PolicyType: p.type,
    TargetTrackingScalingPolicyConfiguration: config,
    Alarms: p.alarms ? [p.alarms.high, p.alarms.low] : [],
    CreationTime: seconds(p.createdAt),
    ...(p.knative ? { LaminarKnativeConfiguration: p.knative } : {}),
  };
}

export interface ScalingActivityShape extends TargetIdentity {
  ActivityId: string;
  Description: string;
  Cause: string;
  StartTime: number;
  EndTime?: number;
  StatusCode: string;
  StatusMessage?: string;
  NotScaledReasons?: NotScaledReason[];
}

export function activityShape(a: ScalingActivityRecord): ScalingActivityShape {
  return {
    ActivityId: a.id,
    ...identity(a.resourceId),
    Description: a.description,
    Cause: a.cause,
    StartTime: seconds(a.startTime),
    ...(a.endTime !== undefined ? { EndTime: seconds(a.endTime) } : {}),
    StatusCode: a.status,
    ...(a.statusMessage !== undefined ? { StatusMessage: a.statusMessage } : {}),
    ...(a.notScaledReasons ? { NotScaledReasons: a.notScaledReasons } : {}),
  };
}

export interface ScheduledActionShape extends TargetIdentity {
  ScheduledActionName: string;
  ScheduledActionARN: string;
  Schedule: string;
  Timezone?: string;
  StartTime?: number;
  EndTime?: number;
  ScalableTargetAction: ScalableTargetAction;
  CreationTime: number;
}

export function scheduledActionShape(a: ScheduledActionRecord): ScheduledActionShape {
  const action: ScalableTargetAction = {};
  if (a.minCapacity !== undefined) action.MinCapacity = a.minCapacity;
  if (a.maxCapacity !== undefined) action.MaxCapacity = a.maxCapacity;
  return {
    ScheduledActionName: a.name,
    ScheduledActionARN: a.arn,
    ...identity(a.resourceId),
    Schedule: a.schedule,
    ...(a.timezone !== undefined ? { Timezone: a.timezone } : {}),
    ...(a.startTime !== undefined ? { StartTime: seconds(a.startTime) } : {}),
    ...(a.endTime !== undefined ? { EndTime: seconds(a.endTime) } : {}),
    ScalableTargetAction: action,
    CreationTime: seconds(a.createdAt),
  };
}

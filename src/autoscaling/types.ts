/**
 * The records Laminar keeps for Application Auto Scaling, and the constants that identify Lambda
 * provisioned concurrency. Times are epoch milliseconds inside Laminar and epoch seconds on the
 * wire (awsJson1_1 timestamps); `api-shapes.ts` converts.
 */

export const SERVICE_NAMESPACE = 'lambda';
export const SCALABLE_DIMENSION = 'lambda:function:ProvisionedConcurrency';
export const PREDEFINED_METRIC = 'LambdaProvisionedConcurrencyUtilization';
export const CUSTOM_METRIC_NAME = 'ProvisionedConcurrencyUtilization';
export const CUSTOM_METRIC_NAMESPACE = 'AWS/Lambda';

/** AWS's target tracking policy type, and Laminar's faster Knative-style one (see knative-policy.ts). */
export type PolicyType = 'TargetTrackingScaling' | 'LaminarKnativeScaling';
export type Statistic = 'Average' | 'Maximum';
export type Direction = 'out' | 'in';

export interface TargetKey {
  functionName: string;
  qualifier: string;
}

export interface SuspendedState {
  DynamicScalingInSuspended?: boolean;
  DynamicScalingOutSuspended?: boolean;
  ScheduledScalingSuspended?: boolean;
}

export interface ScalableTargetRecord extends TargetKey {
  /** `function:<name>:<qualifier>`. */
  resourceId: string;
  minCapacity: number;
  maxCapacity: number;
  roleArn: string;
  arn: string;
  createdAt: number;
  suspended: SuspendedState;
  tags: Record<string, string>;
}

export interface MetricDimension {
  Name: string;
  Value: string;
}

/** The metric part of a policy, kept as given so Describe returns what was put. */
export type MetricSpecification =
  | { kind: 'predefined'; PredefinedMetricType: string; ResourceLabel?: string }
  | {
      kind: 'customized';
      MetricName: string;
      Namespace: string;
      Dimensions: MetricDimension[];
      Statistic: Statistic;
      Unit?: string;
    };

/**
 * Laminar's settings for the Knative-style profile (request field `LaminarKnativeConfiguration`).
 * Percentages and rates follow Knative's `config-autoscaler` names.
 */
export interface KnativeSettings {
  /** @defaultValue the evaluation period (60 s) */
  StableWindowSeconds: number;
  /** Panic window as a percentage of the stable window. @defaultValue 10 */
  PanicWindowPercentage: number;
  /** Panic when the panic-window utilization reaches this percentage of the target (capped at 100 % busy). @defaultValue 200 */
  PanicThresholdPercentage: number;
  /** At most this many times the current capacity per decision. @defaultValue 1000 */
  MaxScaleUpRate: number;
  /** At most divide capacity by this per decision. @defaultValue 2 */
  MaxScaleDownRate: number;
}

export interface ScalingPolicyRecord {
  resourceId: string;
  name: string;
  type: PolicyType;
  arn: string;
  targetValue: number;
  metric: MetricSpecification | undefined;
  scaleOutCooldownSeconds: number | undefined;
  scaleInCooldownSeconds: number | undefined;
  disableScaleIn: boolean | undefined;
  knative: KnativeSettings | undefined;
  /** Target tracking only: the two CloudWatch-style alarms the policy owns. */
  alarms: { high: AlarmRef; low: AlarmRef } | undefined;
  createdAt: number;
}

export interface AlarmRef {
  AlarmName: string;
  AlarmARN: string;
}

export interface ScheduledActionRecord {
  resourceId: string;
  name: string;
  arn: string;
  schedule: string;
  timezone: string | undefined;
  startTime: number | undefined;
  endTime: number | undefined;
  minCapacity: number | undefined;
  maxCapacity: number | undefined;
  createdAt: number;
  /**
   * When the loop has the action's next run armed (absent: none armed). Not part of the API
   * shape: it is kept so that a server that was down at that time runs the action when it starts.
   */
  nextRunAt?: number | undefined;
}

export type ActivityStatus = 'Pending' | 'InProgress' | 'Successful' | 'Overridden' | 'Unfulfilled' | 'Failed';

export interface NotScaledReason {
  Code: 'AlreadyAtMaxCapacity' | 'AlreadyAtMinCapacity';
  MaxCapacity?: number;
  MinCapacity?: number;
  CurrentCapacity?: number;
}

export interface ScalingActivityRecord {
  id: string;
  resourceId: string;
  description: string;
  cause: string;
  startTime: number;
  endTime: number | undefined;
  status: ActivityStatus;
  statusMessage: string | undefined;
  notScaledReasons: NotScaledReason[] | undefined;
}

/** `function:<name>:<qualifier>`, the ResourceId of a Lambda scalable target. */
export function resourceIdOf(key: TargetKey): string {
  return `function:${key.functionName}:${key.qualifier}`;
}

/**
 * The request shapes of the Application Auto Scaling actions (awsJson1_1), from the AWS model,
 * checked by the same compiled validator as Lambda's routes (`core/shape.ts`): a member of the
 * wrong JSON type is a SerializationException, broken constraints one ValidationException in
 * AWS's words. What the values mean (is this a Lambda target, does it exist, is the schedule
 * valid) is the service's business (`identity.ts`, `service.ts`).
 */
import { bool, compileShape, int, list, map, num, str, struct, type Shape, type ShapeCheck } from '../core/shape.js';
import { validationMessage } from '../core/errors.js';
import type {
  DeleteScalingPolicyInput,
  DeleteScheduledActionInput,
  DescribeScalableTargetsInput,
  DescribeScalingActivitiesInput,
  DescribeScalingPoliciesInput,
  DescribeScheduledActionsInput,
  PutScalingPolicyInput,
  PutScheduledActionInput,
  RegisterScalableTargetInput,
  TagResourceInput,
  TargetIdentity,
  UntagResourceInput,
} from './api-shapes.js';
import { ScalingValidationException, SerializationException } from './errors.js';

const LONG = 1600;
const identity = { ServiceNamespace: str({ min: 1 }), ResourceId: str({ min: 1, max: LONG }), ScalableDimension: str({ min: 1 }) };
const IDENTITY = ['ServiceNamespace', 'ResourceId', 'ScalableDimension'];
const filters = {
  ServiceNamespace: str({ min: 1 }),
  ScalableDimension: str({ min: 1 }),
  NextToken: str({ min: 1, max: 2048 }),
  MaxResults: int(),
};
const capacity = int({ min: 0 });
const name256 = str({ min: 1, max: 256 });
const names = list(str({ min: 1, max: LONG }));
/** Epoch seconds, as the SDK sends timestamps; an ISO 8601 string is read too. */
const timestamp: Shape = { type: ['number', 'string'] };
const resourceArn = str({ min: 1, max: 1011 });

const targetTracking = struct(
  {
    TargetValue: num(),
    PredefinedMetricSpecification: struct(
      { PredefinedMetricType: str({ min: 1 }), ResourceLabel: str({ min: 1, max: 1023 }) },
      ['PredefinedMetricType'],
    ),
    CustomizedMetricSpecification: struct({
      MetricName: str(),
      Namespace: str(),
      Dimensions: list(struct({ Name: str(), Value: str() }, ['Name', 'Value'])),
      Statistic: str(),
      Unit: str(),
      // Metric math: read so the service can refuse it by name.
      Metrics: { type: 'array' },
    }),
    ScaleOutCooldown: int({ min: 0 }),
    ScaleInCooldown: int({ min: 0 }),
    DisableScaleIn: bool,
  },
  ['TargetValue'],
);

/** Laminar's own policy block: Knative-style windows and rates (README, Autoscaling). */
const knative = struct({
  StableWindowSeconds: num({ min: 6, max: 3600 }),
  PanicWindowPercentage: num({ min: 1, max: 100 }),
  PanicThresholdPercentage: num({ min: 110, max: 1000 }),
  MaxScaleUpRate: num({ min: 1.01, max: 10_000 }),
  MaxScaleDownRate: num({ min: 1.01, max: 10_000 }),
});

export const SHAPES = {
  RegisterScalableTarget: struct(
    {
      ...identity,
      MinCapacity: capacity,
      MaxCapacity: capacity,
      RoleARN: str({ min: 1, max: LONG }),
      SuspendedState: struct({ DynamicScalingInSuspended: bool, DynamicScalingOutSuspended: bool, ScheduledScalingSuspended: bool }),
      Tags: map(str()),
    },
    IDENTITY,
  ),
  DeregisterScalableTarget: struct(identity, IDENTITY),
  DescribeScalableTargets: struct({ ...filters, ResourceIds: names }, ['ServiceNamespace']),
  PutScalingPolicy: struct(
    {
      PolicyName: name256,
      ...identity,
      PolicyType: str(),
      TargetTrackingScalingPolicyConfiguration: targetTracking,
      // Read so the service can refuse them by name (they need CloudWatch alarms).
      StepScalingPolicyConfiguration: { type: 'object' },
      PredictiveScalingPolicyConfiguration: { type: 'object' },
      LaminarKnativeConfiguration: knative,
    },
    ['PolicyName', ...IDENTITY],
  ),
  DescribeScalingPolicies: struct({ ...filters, PolicyNames: names, ResourceId: str({ min: 1, max: LONG }) }, ['ServiceNamespace']),
  DeleteScalingPolicy: struct({ PolicyName: name256, ...identity }, ['PolicyName', ...IDENTITY]),
  DescribeScalingActivities: struct(
    { ...filters, ResourceId: str({ min: 1, max: LONG }), IncludeNotScaledActivities: bool },
    ['ServiceNamespace'],
  ),
  PutScheduledAction: struct(
    {
      ...identity,
      ScheduledActionName: name256,
      Schedule: str({ min: 1, max: LONG }),
      Timezone: str({ min: 1, max: LONG }),
      StartTime: timestamp,
      EndTime: timestamp,
      ScalableTargetAction: struct({ MinCapacity: capacity, MaxCapacity: capacity }),
    },
    [...IDENTITY, 'ScheduledActionName'],
  ),
  DescribeScheduledActions: struct(
    { ...filters, ScheduledActionNames: names, ResourceId: str({ min: 1, max: LONG }) },
    ['ServiceNamespace'],
  ),
  DeleteScheduledAction: struct({ ...identity, ScheduledActionName: name256 }, [...IDENTITY, 'ScheduledActionName']),
  ListTagsForResource: struct({ ResourceARN: resourceArn }, ['ResourceARN']),
  TagResource: struct({ ResourceARN: resourceArn, Tags: map(str()) }, ['ResourceARN', 'Tags']),
  UntagResource: struct({ ResourceARN: resourceArn, TagKeys: list(str(), { max: 200 }) }, ['ResourceARN', 'TagKeys']),
} as const;

export type ScalingOperation = keyof typeof SHAPES;

/** What each action reads, once its shape has checked the body. */
export interface ScalingInputs {
  RegisterScalableTarget: RegisterScalableTargetInput;
  DeregisterScalableTarget: TargetIdentity;
  DescribeScalableTargets: DescribeScalableTargetsInput;
  PutScalingPolicy: PutScalingPolicyInput;
  DescribeScalingPolicies: DescribeScalingPoliciesInput;
  DeleteScalingPolicy: DeleteScalingPolicyInput;
  DescribeScalingActivities: DescribeScalingActivitiesInput;
  PutScheduledAction: PutScheduledActionInput;
  DescribeScheduledActions: DescribeScheduledActionsInput;
  DeleteScheduledAction: DeleteScheduledActionInput;
  ListTagsForResource: { ResourceARN: string };
  TagResource: TagResourceInput;
  UntagResource: UntagResourceInput;
}

const checks = new Map<string, ShapeCheck>(Object.entries(SHAPES).map(([op, shape]) => [op, compileShape(shape)]));

/** Checks an action's body against its shape and returns its typed input; throws this protocol's errors. */
export function readRequest<K extends ScalingOperation>(op: K, body: unknown): ScalingInputs[K] {
  const out = (checks.get(op) as ShapeCheck)(body);
  if (!out.ok) {
    if (out.kind === 'type') throw new SerializationException(out.message);
    throw new ScalingValidationException(validationMessage(out.violations));
  }
  const value = out.value as Record<string, unknown>;
  if (op === 'PutScheduledAction') {
    for (const key of ['StartTime', 'EndTime']) if (value[key] !== undefined) value[key] = epochSeconds(key, value[key]);
  }
  return value as unknown as ScalingInputs[K];
}

function epochSeconds(member: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v) / 1000;
  throw new SerializationException(`Could not deserialize the request: '${member}' must be a timestamp (epoch seconds or ISO 8601).`);
}

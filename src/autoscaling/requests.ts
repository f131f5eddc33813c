/**
 * One reader per operation: raw awsJson1_1 body → the typed input of `AutoScaling`. Only shape
 * constraints from the AWS model are checked here; what the values mean (is this a Lambda
 * target, does it exist, is the schedule valid) is the service's business.
 */
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
  TargetTrackingConfigurationShape,
  UntagResourceInput,
} from './api-shapes.js';
import type { KnativeSettings } from './types.js';
import { Fields } from './validation.js';

const LONG = 1600;

function identity(f: Fields): TargetIdentity {
  return {
    ServiceNamespace: f.string('ServiceNamespace', { required: true }) as string,
    ResourceId: f.string('ResourceId', { required: true, max: LONG }) as string,
    ScalableDimension: f.string('ScalableDimension', { required: true }) as string,
  };
}

function filters(f: Fields) {
  return {
    ServiceNamespace: f.string('ServiceNamespace', { required: true }) as string,
    ScalableDimension: f.string('ScalableDimension'),
    NextToken: f.string('NextToken', { max: 2048 }),
  };
}

/** Builds an object without the keys whose value is undefined, so stored records stay minimal. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function readRegisterScalableTarget(body: unknown): RegisterScalableTargetInput {
  const f = Fields.of(body);
  const suspended = f.object('SuspendedState');
  const input = defined({
    ...identity(f),
    MinCapacity: f.int('MinCapacity', { min: 0 }),
    MaxCapacity: f.int('MaxCapacity', { min: 0 }),
    RoleARN: f.string('RoleARN', { max: LONG }),
    SuspendedState: suspended
      ? defined({
          DynamicScalingInSuspended: suspended.bool('DynamicScalingInSuspended'),
          DynamicScalingOutSuspended: suspended.bool('DynamicScalingOutSuspended'),
          ScheduledScalingSuspended: suspended.bool('ScheduledScalingSuspended'),
        })
      : undefined,
    Tags: f.stringMap('Tags'),
  });
  f.done();
  return input;
}

export function readDeregisterScalableTarget(body: unknown): TargetIdentity {
  const f = Fields.of(body);
  const input = identity(f);
  f.done();
  return input;
}

export function readDescribeScalableTargets(body: unknown): DescribeScalableTargetsInput {
  const f = Fields.of(body);
  const input = defined({ ...filters(f), ResourceIds: f.stringList('ResourceIds'), MaxResults: f.int('MaxResults') });
  f.done();
  return input;
}

function readTargetTracking(t: Fields): TargetTrackingConfigurationShape {
  const predefined = t.object('PredefinedMetricSpecification');
  const customized = t.object('CustomizedMetricSpecification');
  const config = defined({
    TargetValue: t.number('TargetValue', { required: true }) as number,
    PredefinedMetricSpecification: predefined
      ? defined({
          PredefinedMetricType: predefined.string('PredefinedMetricType', { required: true }) as string,
          ResourceLabel: predefined.string('ResourceLabel', { max: 1023 }),
        })
      : undefined,
    CustomizedMetricSpecification: customized
      ? defined({
          MetricName: customized.string('MetricName'),
          Namespace: customized.string('Namespace'),
          Dimensions: customized
            .objectList('Dimensions')
            ?.map((d) => ({ Name: d.string('Name', { required: true }) as string, Value: d.string('Value', { required: true }) as string })),
          Statistic: customized.string('Statistic'),
          Unit: customized.string('Unit'),
          Metrics: customized.has('Metrics') ? [] : undefined,
        })
      : undefined,
    ScaleOutCooldown: t.int('ScaleOutCooldown', { min: 0 }),
    ScaleInCooldown: t.int('ScaleInCooldown', { min: 0 }),
    DisableScaleIn: t.bool('DisableScaleIn'),
  });
  return config;
}

function readKnative(k: Fields): Partial<KnativeSettings> {
  return defined({
    StableWindowSeconds: k.number('StableWindowSeconds', { min: 6, max: 3600 }),
    PanicWindowPercentage: k.number('PanicWindowPercentage', { min: 1, max: 100 }),
    PanicThresholdPercentage: k.number('PanicThresholdPercentage', { min: 110, max: 1000 }),
    MaxScaleUpRate: k.number('MaxScaleUpRate', { min: 1.01, max: 10_000 }),
    MaxScaleDownRate: k.number('MaxScaleDownRate', { min: 1.01, max: 10_000 }),
  });
}

export function readPutScalingPolicy(body: unknown): PutScalingPolicyInput {
  const f = Fields.of(body);
  const tracking = f.object('TargetTrackingScalingPolicyConfiguration');
  const knative = f.object('LaminarKnativeConfiguration');
  const input = defined({
    PolicyName: f.string('PolicyName', { required: true, max: 256 }) as string,
    ...identity(f),
    PolicyType: f.string('PolicyType'),
    TargetTrackingScalingPolicyConfiguration: tracking ? readTargetTracking(tracking) : undefined,
    StepScalingPolicyConfiguration: f.has('StepScalingPolicyConfiguration') ? {} : undefined,
    PredictiveScalingPolicyConfiguration: f.has('PredictiveScalingPolicyConfiguration') ? {} : undefined,
    LaminarKnativeConfiguration: knative ? readKnative(knative) : undefined,
  });
  f.done();
  return input;
}

export function readDescribeScalingPolicies(body: unknown): DescribeScalingPoliciesInput {
  const f = Fields.of(body);
  const input = defined({
    ...filters(f),
    PolicyNames: f.stringList('PolicyNames'),
    ResourceId: f.string('ResourceId', { max: LONG }),
    MaxResults: f.int('MaxResults'),
  });
  f.done();
  return input;
}

export function readDeleteScalingPolicy(body: unknown): DeleteScalingPolicyInput {
  const f = Fields.of(body);
  const input = { PolicyName: f.string('PolicyName', { required: true, max: 256 }) as string, ...identity(f) };
  f.done();
  return input;
}

export function readDescribeScalingActivities(body: unknown): DescribeScalingActivitiesInput {
  const f = Fields.of(body);
  const input = defined({
    ...filters(f),
    ResourceId: f.string('ResourceId', { max: LONG }),
    MaxResults: f.int('MaxResults'),
    IncludeNotScaledActivities: f.bool('IncludeNotScaledActivities'),
  });
  f.done();
  return input;
}

export function readPutScheduledAction(body: unknown): PutScheduledActionInput {
  const f = Fields.of(body);
  const action = f.object('ScalableTargetAction');
  const input = defined({
    ...identity(f),
    ScheduledActionName: f.string('ScheduledActionName', { required: true, max: 256 }) as string,
    Schedule: f.string('Schedule', { max: LONG }),
    Timezone: f.string('Timezone', { max: LONG }),
    StartTime: f.timestamp('StartTime'),
    EndTime: f.timestamp('EndTime'),
    ScalableTargetAction: action
      ? defined({ MinCapacity: action.int('MinCapacity', { min: 0 }), MaxCapacity: action.int('MaxCapacity', { min: 0 }) })
      : undefined,
  });
  f.done();
  return input;
}

export function readDescribeScheduledActions(body: unknown): DescribeScheduledActionsInput {
  const f = Fields.of(body);
  const input = defined({
    ...filters(f),
    ScheduledActionNames: f.stringList('ScheduledActionNames'),
    ResourceId: f.string('ResourceId', { max: LONG }),
    MaxResults: f.int('MaxResults'),
  });
  f.done();
  return input;
}

export function readDeleteScheduledAction(body: unknown): DeleteScheduledActionInput {
  const f = Fields.of(body);
  const input = { ...identity(f), ScheduledActionName: f.string('ScheduledActionName', { required: true, max: 256 }) as string };
  f.done();
  return input;
}

export function readResourceArn(body: unknown): { ResourceARN: string } {
  const f = Fields.of(body);
  const input = { ResourceARN: f.string('ResourceARN', { required: true, max: 1011 }) as string };
  f.done();
  return input;
}

export function readTagResource(body: unknown): TagResourceInput {
  const f = Fields.of(body);
  const input = {
    ResourceARN: f.string('ResourceARN', { required: true, max: 1011 }) as string,
    Tags: f.stringMap('Tags', true) as Record<string, string>,
  };
  f.done();
  return input;
}

export function readUntagResource(body: unknown): UntagResourceInput {
  const f = Fields.of(body);
  const input = {
    ResourceARN: f.string('ResourceARN', { required: true, max: 1011 }) as string,
    TagKeys: f.stringList('TagKeys', { required: true, max: 200 }) as string[],
  };
  f.done();
  return input;
}

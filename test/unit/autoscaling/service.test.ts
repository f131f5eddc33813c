import { describe, expect, it } from 'vitest';
import {
  AutoScaling,
  InvalidNextTokenException,
  LimitExceededException,
  ObjectNotFoundException,
  QUOTAS,
  ScalingValidationException,
  SerializationException,
} from '../../../src/autoscaling/index.js';
import { readPutScalingPolicy, readRegisterScalableTarget } from '../../../src/autoscaling/requests.js';
import { ManualClock } from '../../../src/core/clock.js';
import { FakePort } from './fake-port.js';

const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
const RES = 'function:api:live';
const predefined = { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' };

function make(random?: () => number) {
  const clock = new ManualClock();
  const port = new FakePort('api');
  const as = new AutoScaling({ clock, port, periodMs: 60_000, partition: { region: 'eu-west-1', accountId: '111122223333' }, ...(random ? { random } : {}) });
  return { clock, port, as };
}

function registered() {
  const m = make();
  m.as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1, MaxCapacity: 10 });
  return m;
}

const policy = (name: string, config: object, type = 'TargetTrackingScaling') => ({
  ...ids,
  ResourceId: RES,
  PolicyName: name,
  PolicyType: type,
  TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7, ...config },
});

describe('which targets Laminar accepts', () => {
  const { as } = make();
  it.each([
    [{ ServiceNamespace: 'ecs' }, "use ServiceNamespace 'lambda'"],
    [{ ScalableDimension: 'ecs:service:DesiredCount' }, "use ScalableDimension 'lambda:function:ProvisionedConcurrency'"],
    [{ ResourceId: 'function:api' }, 'use function:<function-name>:<alias-or-version>'],
    [{ ResourceId: 'api:live' }, 'use function:<function-name>:<alias-or-version>'],
    [{ ResourceId: 'function:api:$LATEST' }, 'cannot be configured on $LATEST'],
  ])('refuses %j', (override, message) => {
    const call = () => as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1, MaxCapacity: 2, ...override });
    expect(call).toThrow(ScalingValidationException);
    expect(call).toThrow(message);
  });
});

describe('RegisterScalableTarget', () => {
  it('needs MinCapacity and MaxCapacity for a new target, and min ≤ max', () => {
    const { as } = make();
    expect(() => as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1 })).toThrow('MinCapacity and MaxCapacity are required');
    expect(() => as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 5, MaxCapacity: 2 })).toThrow('cannot be greater');
  });

  it('refuses a function that does not exist', () => {
    const { as } = make();
    const call = () => as.registerScalableTarget({ ...ids, ResourceId: 'function:ghost:live', MinCapacity: 1, MaxCapacity: 2 });
    expect(call).toThrow(/Unable to register scalable target function:ghost:live: Function not found/);
    expect(as.describeScalableTargets({ ServiceNamespace: 'lambda' }).ScalableTargets).toEqual([]);
  });

  it('updates only what is given, keeping the ARN, and clamps current capacity down to a new max', () => {
    const { as, port } = registered();
    port.put('api', 'live', 8);
    const first = as.describeScalableTargets({ ServiceNamespace: 'lambda' }).ScalableTargets[0]!;
    const { ScalableTargetARN } = as.registerScalableTarget({ ...ids, ResourceId: RES, MaxCapacity: 4 });
    expect(ScalableTargetARN).toBe(first.ScalableTargetARN);
    expect(as.describeScalableTargets({ ServiceNamespace: 'lambda' }).ScalableTargets[0]).toMatchObject({ MinCapacity: 1, MaxCapacity: 4 });
    expect(port.requested('api', 'live')).toBe(4);
  });

  it('derives ids from the injected random source', () => {
    const { as } = make(() => 0.5);
    const { ScalableTargetARN } = as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 0, MaxCapacity: 2 });
    expect(ScalableTargetARN).toBe(`arn:aws:application-autoscaling:eu-west-1:111122223333:scalable-target/${'8'.repeat(36)}`);
  });

  it('enforces the scalable target quota', () => {
    const { as, port } = make();
    for (let i = 0; i < QUOTAS.scalableTargets; i++) as.registerScalableTarget({ ...ids, ResourceId: `function:api:v${i}`, MinCapacity: 0, MaxCapacity: 1 });
    port.functions.add('x');
    expect(() => as.registerScalableTarget({ ...ids, ResourceId: 'function:x:live', MinCapacity: 0, MaxCapacity: 1 })).toThrow(LimitExceededException);
  });
});

describe('PutScalingPolicy', () => {
  it('needs a registered target', () => {
    const { as } = make();
    expect(() => as.putScalingPolicy(policy('p', { PredefinedMetricSpecification: predefined }))).toThrow(ObjectNotFoundException);
  });

  it.each([
    [{ PolicyType: 'StepScaling' }, 'StepScaling policies are not supported'],
    [{ PolicyType: 'PredictiveScaling' }, 'PredictiveScaling is not supported'],
    [{ PolicyType: 'Bogus' }, 'use TargetTrackingScaling'],
    [{ TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.95, PredefinedMetricSpecification: predefined } }, 'from 0.1 to 0.9'],
    [{ TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7 } }, 'Specify PredefinedMetricSpecification'],
    [{ TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } } }, "use 'LambdaProvisionedConcurrencyUtilization'"],
    [{ LaminarKnativeConfiguration: {} }, 'applies only to PolicyType LaminarKnativeScaling'],
  ])('refuses %j', (override, message) => {
    const { as } = registered();
    expect(() => as.putScalingPolicy({ ...policy('p', { PredefinedMetricSpecification: predefined }), ...override })).toThrow(message);
  });

  const custom = (o: object) => ({
    CustomizedMetricSpecification: {
      MetricName: 'ProvisionedConcurrencyUtilization',
      Namespace: 'AWS/Lambda',
      Dimensions: [
        { Name: 'FunctionName', Value: 'api' },
        { Name: 'Resource', Value: 'api:live' },
      ],
      Statistic: 'Maximum',
      ...o,
    },
  });

  it('accepts a customized Average or Maximum metric on the target itself, nothing else', () => {
    const { as } = registered();
    expect(as.putScalingPolicy(policy('max', custom({}))).Alarms).toHaveLength(2);
    expect(as.putScalingPolicy(policy('avg', custom({ Statistic: 'Average' }))).Alarms).toHaveLength(2);
    expect(() => as.putScalingPolicy(policy('sum', custom({ Statistic: 'Sum' })))).toThrow('use Maximum (for bursty functions) or Average');
    expect(() => as.putScalingPolicy(policy('other', custom({ Dimensions: [{ Name: 'FunctionName', Value: 'other' }, { Name: 'Resource', Value: 'other:live' }] })))).toThrow(
      "the scalable target's own utilization",
    );
    expect(() => as.putScalingPolicy(policy('cpu', custom({ MetricName: 'CPUUtilization' })))).toThrow("Laminar tracks MetricName 'ProvisionedConcurrencyUtilization'");
  });

  it('updates a policy in place: same ARN, same alarms', () => {
    const { as } = registered();
    const a = as.putScalingPolicy(policy('p', { PredefinedMetricSpecification: predefined }));
    const b = as.putScalingPolicy(policy('p', { PredefinedMetricSpecification: predefined, DisableScaleIn: true }));
    expect(b).toEqual(a);
    expect(as.describeScalingPolicies({ ServiceNamespace: 'lambda' }).ScalingPolicies[0]!.TargetTrackingScalingPolicyConfiguration.DisableScaleIn).toBe(true);
  });

  it('fills the Knative-style defaults from the evaluation period', () => {
    const { as } = registered();
    as.putScalingPolicy({ ...policy('fast', {}, 'LaminarKnativeScaling'), LaminarKnativeConfiguration: { PanicThresholdPercentage: 150 } });
    expect(as.describeScalingPolicies({ ServiceNamespace: 'lambda' }).ScalingPolicies[0]).toMatchObject({
      PolicyType: 'LaminarKnativeScaling',
      Alarms: [],
      LaminarKnativeConfiguration: { StableWindowSeconds: 60, PanicWindowPercentage: 10, PanicThresholdPercentage: 150, MaxScaleUpRate: 1000, MaxScaleDownRate: 2 },
    });
  });

  it('enforces the policies-per-target quota', () => {
    const { as } = registered();
    for (let i = 0; i < QUOTAS.policiesPerTarget; i++) as.putScalingPolicy(policy(`p${i}`, { PredefinedMetricSpecification: predefined }));
    expect(() => as.putScalingPolicy(policy('one-more', { PredefinedMetricSpecification: predefined }))).toThrow(LimitExceededException);
  });
});

describe('Describe paging', () => {
  it('pages with MaxResults and NextToken, and refuses a foreign token', () => {
    const { as } = registered();
    for (const n of ['a', 'b', 'c']) as.putScalingPolicy(policy(n, { PredefinedMetricSpecification: predefined }));
    const first = as.describeScalingPolicies({ ServiceNamespace: 'lambda', MaxResults: 2 });
    expect(first.ScalingPolicies.map((p) => p.PolicyName)).toEqual(['a', 'b']);
    const second = as.describeScalingPolicies({ ServiceNamespace: 'lambda', MaxResults: 2, NextToken: first.NextToken });
    expect(second.ScalingPolicies.map((p) => p.PolicyName)).toEqual(['c']);
    expect(second.NextToken).toBeUndefined();
    expect(() => as.describeScalableTargets({ ServiceNamespace: 'lambda', NextToken: first.NextToken })).toThrow(InvalidNextTokenException);
    expect(() => as.describeScalingPolicies({ ServiceNamespace: 'lambda', MaxResults: 11 })).toThrow('between 1 and 10');
  });
});

describe('scheduled actions and deletes', () => {
  it('validates schedules and bounds', () => {
    const { as } = registered();
    const base = { ...ids, ResourceId: RES, ScheduledActionName: 's' };
    expect(() => as.putScheduledAction({ ...base, ScalableTargetAction: { MinCapacity: 1 } })).toThrow('Schedule is required');
    expect(() => as.putScheduledAction({ ...base, Schedule: 'rate(1 minutes)', ScalableTargetAction: { MinCapacity: 1 } })).toThrow('singular');
    expect(() => as.putScheduledAction({ ...base, Schedule: 'rate(1 minute)', ScalableTargetAction: {} })).toThrow('MinCapacity, MaxCapacity or both');
    expect(() => as.putScheduledAction({ ...base, Schedule: 'rate(1 minute)', ScalableTargetAction: { MinCapacity: 3, MaxCapacity: 2 } })).toThrow('cannot be greater');
    expect(() => as.putScheduledAction({ ...base, Schedule: 'rate(1 minute)', StartTime: 200, EndTime: 100, ScalableTargetAction: { MinCapacity: 1 } })).toThrow(
      'StartTime must be earlier',
    );
  });

  it('says which object is missing', () => {
    const { as } = registered();
    expect(() => as.deleteScalingPolicy({ ...ids, ResourceId: RES, PolicyName: 'nope' })).toThrow(
      'No scaling policy found for service namespace: lambda, resource ID: function:api:live, scalable dimension: lambda:function:ProvisionedConcurrency, policy name: nope',
    );
    expect(() => as.deleteScheduledAction({ ...ids, ResourceId: RES, ScheduledActionName: 'nope' })).toThrow(/No scheduled action found .* scheduled action name: nope/);
  });
});

describe('request reading', () => {
  it('reports every missing member in AWS wording', () => {
    expect(() => readRegisterScalableTarget({ MinCapacity: -1 })).toThrow(
      "4 validation errors detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'resourceId' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'scalableDimension' failed to satisfy constraint: Member must not be null; " +
        "Value '-1' at 'minCapacity' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
  });

  it('treats a member of the wrong JSON type as a SerializationException', () => {
    expect(() => readRegisterScalableTarget({ ...ids, ResourceId: RES, MinCapacity: '1' })).toThrow(SerializationException);
    expect(() => readPutScalingPolicy([])).toThrow(SerializationException);
  });

  it('names nested members with their path', () => {
    expect(() => readPutScalingPolicy({ ...ids, ResourceId: RES, PolicyName: 'p', TargetTrackingScalingPolicyConfiguration: { ScaleInCooldown: -5 } })).toThrow(
      /at 'targetTrackingScalingPolicyConfiguration.targetValue'.*at 'targetTrackingScalingPolicyConfiguration.scaleInCooldown'/,
    );
  });
});

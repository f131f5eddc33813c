import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeleteScheduledActionCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand,
  ListTagsForResourceCommand,
  ObjectNotFoundException,
  type PolicyType,
  PutScalingPolicyCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
  ValidationException,
} from '@aws-sdk/client-application-auto-scaling';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoScaling, appAutoScalingRoutes } from '../../src/autoscaling/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { FakePort } from '../unit/autoscaling/fake-port.js';

const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
const resourceId = 'function:orders:live';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('Application Auto Scaling API with the AWS SDK', () => {
  const clock = new ManualClock();
  const port = new FakePort('orders');
  const autoscaling = new AutoScaling({ clock, port, periodMs: 60_000, partition: { region: 'us-east-1', accountId: '123456789012' } });
  let app: FastifyInstance;
  let client: ApplicationAutoScalingClient;

  beforeAll(async () => {
    app = Fastify({ logger: false });
    await app.register(appAutoScalingRoutes, { autoscaling });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    client = new ApplicationAutoScalingClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    autoscaling.start();
  });

  afterAll(async () => {
    autoscaling.stop();
    client?.destroy();
    await app?.close();
  });

  it('registers a target and clamps provisioned concurrency into [min, max]', async () => {
    const out = await client.send(new RegisterScalableTargetCommand({ ...ids, ResourceId: resourceId, MinCapacity: 2, MaxCapacity: 10 }));
    expect(out.ScalableTargetARN).toMatch(/^arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target\/[0-9a-f]{36}$/);
    expect(port.requested('orders', 'live')).toBe(2);

    const { ScalableTargets } = await client.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' }));
    expect(ScalableTargets).toHaveLength(1);
    const t = ScalableTargets![0]!;
    expect(t).toMatchObject({ ...ids, ResourceId: resourceId, MinCapacity: 2, MaxCapacity: 10, ScalableTargetARN: out.ScalableTargetARN });
    expect(t.RoleARN).toContain('AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency');
    expect(t.CreationTime).toBeInstanceOf(Date);
    expect(t.CreationTime!.getTime()).toBe(clock.now());
    expect(t.SuspendedState).toEqual({ DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false });
  });

  it('puts a target tracking policy on the predefined metric and one on a customized Maximum metric', async () => {
    const predefined = await client.send(
      new PutScalingPolicyCommand({
        ...ids,
        ResourceId: resourceId,
        PolicyName: 'utilization',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 0.7,
          PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
        },
      }),
    );
    expect(predefined.PolicyARN).toMatch(
      new RegExp(`^arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:${UUID}:resource/lambda/function:orders:live:policyName/utilization$`),
    );
    expect(predefined.Alarms?.map((a) => a.AlarmName)).toEqual([
      expect.stringMatching(new RegExp(`^TargetTracking-function:orders:live-AlarmHigh-${UUID}$`)),
      expect.stringMatching(new RegExp(`^TargetTracking-function:orders:live-AlarmLow-${UUID}$`)),
    ]);
    expect(predefined.Alarms![0]!.AlarmARN).toBe(`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${predefined.Alarms![0]!.AlarmName}`);

    const customized = await client.send(
      new PutScalingPolicyCommand({
        ...ids,
        ResourceId: resourceId,
        PolicyName: 'bursty',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 0.7,
          CustomizedMetricSpecification: {
            MetricName: 'ProvisionedConcurrencyUtilization',
            Namespace: 'AWS/Lambda',
            Dimensions: [
              { Name: 'FunctionName', Value: 'orders' },
              { Name: 'Resource', Value: 'orders:live' },
            ],
            Statistic: 'Maximum',
            Unit: 'Count',
          },
          ScaleInCooldown: 120,
        },
      }),
    );
    expect(customized.PolicyARN).toContain(':policyName/bursty');

    const { ScalingPolicies } = await client.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }));
    expect(ScalingPolicies?.map((p) => p.PolicyName)).toEqual(['utilization', 'bursty']);
    const bursty = ScalingPolicies![1]!;
    expect(bursty).toMatchObject({ ...ids, ResourceId: resourceId, PolicyARN: customized.PolicyARN, PolicyType: 'TargetTrackingScaling' });
    expect(bursty.TargetTrackingScalingPolicyConfiguration).toEqual({
      TargetValue: 0.7,
      CustomizedMetricSpecification: {
        MetricName: 'ProvisionedConcurrencyUtilization',
        Namespace: 'AWS/Lambda',
        Dimensions: [
          { Name: 'FunctionName', Value: 'orders' },
          { Name: 'Resource', Value: 'orders:live' },
        ],
        Statistic: 'Maximum',
        Unit: 'Count',
      },
      ScaleInCooldown: 120,
    });
    expect(bursty.Alarms).toHaveLength(2);
    expect(bursty.CreationTime).toBeInstanceOf(Date);
  });

  it('scales out after three periods above target, through the port, and reports the activity', async () => {
    port.setUtilization('orders', 'live', 1);
    clock.advance(4 * 60_000);
    expect(port.calls).toContain('put orders:live 3'); // ceil(2 × 1.0 / 0.7)

    const { ScalingActivities } = await client.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }));
    const [latest, first] = [ScalingActivities![0]!, ScalingActivities![ScalingActivities!.length - 1]!];
    expect(first).toMatchObject({ Description: 'Setting desired concurrency to 2.', Cause: 'minimum capacity was set to 2', StatusCode: 'Successful' });
    expect(latest).toMatchObject({ ...ids, ResourceId: resourceId, Description: 'Setting desired concurrency to 3.', StatusCode: 'Successful' });
    expect(latest.Cause).toMatch(new RegExp(`^monitor alarm TargetTracking-function:orders:live-AlarmHigh-${UUID} in state ALARM triggered policy utilization$`));
    expect(latest.ActivityId).toMatch(new RegExp(`^${UUID}$`));
    expect(latest.StartTime).toBeInstanceOf(Date);
    expect(latest.EndTime).toBeInstanceOf(Date);
    port.setLoad('orders', 'live', 0, false);
  });

  it('accepts the Laminar Knative-style policy type from the SDK, and its settings over raw JSON', async () => {
    const out = await client.send(
      new PutScalingPolicyCommand({
        ...ids,
        ResourceId: resourceId,
        PolicyName: 'fast',
        PolicyType: 'LaminarKnativeScaling' as PolicyType,
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.6 },
      }),
    );
    expect(out.Alarms).toEqual([]);
    const raw = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AnyScaleFrontendService.PutScalingPolicy' },
      payload: JSON.stringify({
        ...ids,
        ResourceId: resourceId,
        PolicyName: 'fast',
        PolicyType: 'LaminarKnativeScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.6 },
        LaminarKnativeConfiguration: { StableWindowSeconds: 30, MaxScaleDownRate: 4 },
      }),
    });
    expect(raw.statusCode).toBe(200);
    expect(raw.json()).toEqual({ PolicyARN: out.PolicyARN, Alarms: [] });
    const { ScalingPolicies } = await client.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'lambda', PolicyNames: ['fast'] }));
    expect(ScalingPolicies![0]).toMatchObject({ PolicyType: 'LaminarKnativeScaling', TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.6 } });
    const described = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AnyScaleFrontendService.DescribeScalingPolicies' },
      payload: JSON.stringify({ ServiceNamespace: 'lambda', PolicyNames: ['fast'] }),
    });
    expect(described.json().ScalingPolicies[0].LaminarKnativeConfiguration).toEqual({
      StableWindowSeconds: 30,
      PanicWindowPercentage: 10,
      PanicThresholdPercentage: 200,
      MaxScaleUpRate: 1000,
      MaxScaleDownRate: 4,
    });
    await client.send(new DeleteScalingPolicyCommand({ ...ids, ResourceId: resourceId, PolicyName: 'fast' }));
  });

  it('puts, describes and deletes a scheduled action', async () => {
    await client.send(
      new PutScheduledActionCommand({
        ...ids,
        ResourceId: resourceId,
        ScheduledActionName: 'weekday-morning',
        Schedule: 'cron(0 8 ? * MON-FRI *)',
        Timezone: 'Europe/Paris',
        StartTime: new Date(Date.UTC(2026, 0, 1)),
        EndTime: new Date(Date.UTC(2026, 11, 31)),
        ScalableTargetAction: { MinCapacity: 5, MaxCapacity: 20 },
      }),
    );
    const { ScheduledActions } = await client.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }));
    expect(ScheduledActions).toHaveLength(1);
    const a = ScheduledActions![0]!;
    expect(a).toMatchObject({
      ...ids,
      ResourceId: resourceId,
      ScheduledActionName: 'weekday-morning',
      Schedule: 'cron(0 8 ? * MON-FRI *)',
      Timezone: 'Europe/Paris',
      ScalableTargetAction: { MinCapacity: 5, MaxCapacity: 20 },
    });
    expect(a.ScheduledActionARN).toMatch(
      new RegExp(`^arn:aws:autoscaling:us-east-1:123456789012:scheduledAction:${UUID}:resource/lambda/function:orders:live:scheduledActionName/weekday-morning$`),
    );
    expect(a.StartTime?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(a.EndTime?.toISOString()).toBe('2026-12-31T00:00:00.000Z');

    await client.send(new DeleteScheduledActionCommand({ ...ids, ResourceId: resourceId, ScheduledActionName: 'weekday-morning' }));
    const after = await client.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda' }));
    expect(after.ScheduledActions).toEqual([]);
  });

  it('reads tags given at registration', async () => {
    const { ScalableTargets } = await client.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda', ResourceIds: [resourceId] }));
    const tags = await client.send(new ListTagsForResourceCommand({ ResourceARN: ScalableTargets![0]!.ScalableTargetARN! }));
    expect(tags.Tags).toEqual({});
  });

  it('surfaces a bad ResourceId as the SDK ValidationException, saying what to use', async () => {
    const err = await client
      .send(new RegisterScalableTargetCommand({ ...ids, ResourceId: 'orders:live', MinCapacity: 1, MaxCapacity: 2 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as ValidationException).message).toContain('function:<function-name>:<alias-or-version>');
    expect((err as ValidationException).$metadata.httpStatusCode).toBe(400);
  });

  it('refuses another service namespace with a ValidationException', async () => {
    const err = await client
      .send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', ResourceId: 'service/a/b', MinCapacity: 1, MaxCapacity: 2 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toContain("use ServiceNamespace 'lambda'");
  });

  it('surfaces an unknown target as ObjectNotFoundException', async () => {
    const err = await client
      .send(
        new PutScalingPolicyCommand({
          ...ids,
          ResourceId: 'function:orders:blue',
          PolicyName: 'p',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectNotFoundException);
    expect((err as Error).message).toBe(
      'No scalable target registered for service namespace: lambda, resource ID: function:orders:blue, scalable dimension: lambda:function:ProvisionedConcurrency',
    );
  });

  it('deletes a policy and deregisters the target', async () => {
    await client.send(new DeleteScalingPolicyCommand({ ...ids, ResourceId: resourceId, PolicyName: 'bursty' }));
    await client.send(new DeregisterScalableTargetCommand({ ...ids, ResourceId: resourceId }));
    const { ScalableTargets } = await client.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' }));
    expect(ScalableTargets).toEqual([]);
    const { ScalingPolicies } = await client.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'lambda' }));
    expect(ScalingPolicies).toEqual([]);
    const again = await client.send(new DeregisterScalableTargetCommand({ ...ids, ResourceId: resourceId })).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ObjectNotFoundException);
  });

  it('answers raw awsJson1_1 errors with __type and x-amzn-ErrorType', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AnyScaleFrontendService.Nope' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('UnknownOperationException');
    expect(res.json()).toMatchObject({ __type: 'UnknownOperationException' });

    const bad = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AnyScaleFrontendService.DescribeScalableTargets' },
      payload: '{nope',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ __type: 'SerializationException' });

    const missing = await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AnyScaleFrontendService.DescribeScalableTargets' },
      payload: '{}',
    });
    expect(missing.json()).toEqual({
      __type: 'ValidationException',
      message: "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null",
    });
  });
});

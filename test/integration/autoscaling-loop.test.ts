import {
  ApplicationAutoScalingClient,
  DescribeScalingActivitiesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  CreateAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';

const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;

describe('target tracking on real load (1 s evaluation period)', () => {
  let h: Harness;
  let scaling: ApplicationAutoScalingClient;
  beforeAll(async () => {
    h = await startLaminar({ autoscalingEvaluationPeriodSeconds: 1 });
    scaling = new ApplicationAutoScalingClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    scaling.destroy();
    await h.close();
  });

  it('load raises provisioned concurrency from 1 to at least 3, and its end brings it back down', async () => {
    const fn = await deployFixture(h.client, 'sleep', { Timeout: 10 });
    await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    await h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    const resourceId = `function:${fn}:live`;
    await scaling.send(new RegisterScalableTargetCommand({ ...ids, ResourceId: resourceId, MinCapacity: 1, MaxCapacity: 6 }));
    await scaling.send(
      new PutScalingPolicyCommand({
        ...ids,
        ResourceId: resourceId,
        PolicyName: 'utilization',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.5, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
      }),
    );
    const requested = async () =>
      (await h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }))).RequestedProvisionedConcurrentExecutions ?? 0;
    const invoke = (ms: number) =>
      fetch(`${h.url}/2015-03-31/functions/${fn}/invocations?Qualifier=live`, { method: 'POST', body: JSON.stringify({ ms }) }).then((r) => r.arrayBuffer());

    // Load: 4 invocations always in flight, far above 50% of one provisioned environment.
    let peak = 1;
    let loading = true;
    const workers = Array.from({ length: 4 }, async () => {
      while (loading) await invoke(200);
    });
    const started = Date.now();
    while (Date.now() - started < 30_000 && peak < 3) {
      await new Promise((r) => setTimeout(r, 250));
      peak = Math.max(peak, await requested());
    }
    loading = false;
    await Promise.all(workers);
    expect(peak).toBeGreaterThanOrEqual(3);

    // After the load: a trickle keeps datapoints coming (no data means no scale-in, as in AWS), well below 90% of target.
    const after = Date.now();
    let current = await requested();
    while (Date.now() - after < 45_000 && current > 1) {
      await invoke(20);
      await new Promise((r) => setTimeout(r, 300));
      current = await requested();
    }
    expect(current).toBe(1);

    const activities = await scaling.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }));
    const descriptions = (activities.ScalingActivities ?? []).map((a) => a.Description ?? '');
    expect(descriptions.some((d) => /desired concurrency/i.test(d))).toBe(true);
    const m = await scrape(h.url);
    expect(sample(m, 'laminar_autoscaling_actions_total', { function: fn, direction: 'out' })).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'laminar_autoscaling_actions_total', { function: fn, direction: 'in' })).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'laminar_autoscaling_desired_capacity', { function: fn, qualifier: 'live' })).toBe(1);
  }, 120_000);
});

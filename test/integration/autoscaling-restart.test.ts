/**
 * Application Auto Scaling survives a restart: a real server accepts a target, a target tracking
 * policy and a scheduled action through the AWS SDK, stops, and a new server on the same data dir
 * describes the same records and runs the scheduled action at its time. Time is a ManualClock per
 * server; the second one starts later, as a restarted server would.
 */
import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand,
  PutScalingPolicyCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CreateAliasCommand, GetFunctionCommand, GetProvisionedConcurrencyConfigCommand, ResourceNotFoundException, PublishVersionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Registry } from '../../src/registry/registry.js';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
const T0 = Date.UTC(2026, 0, 1);
const H = 3_600_000;

const open: { h: Harness; scaling: ApplicationAutoScalingClient }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await stop(s);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dataDir: string, clock: ManualClock): Promise<{ h: Harness; scaling: ApplicationAutoScalingClient }> {
  const h = await startLaminar({}, { clock }, dataDir);
  const scaling = new ApplicationAutoScalingClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  const server = { h, scaling };
  open.push(server);
  return server;
}

async function stop(server: { h: Harness; scaling: ApplicationAutoScalingClient }): Promise<void> {
  const at = open.indexOf(server);
  if (at >= 0) open.splice(at, 1);
  server.scaling.destroy();
  await server.h.close();
}

/** Waits for the provisioned config to leave IN_PROGRESS (real environments initialise in real time). */
async function settled(client: LambdaClient, fn: string): Promise<{ requested: number; status: string }> {
  for (let i = 0; i < 400; i++) {
    const c = await client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }));
    if (c.Status !== 'IN_PROGRESS') return { requested: c.RequestedProvisionedConcurrentExecutions ?? 0, status: c.Status ?? '' };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('provisioned concurrency never left IN_PROGRESS');
}

/** Everything the Describe operations return for the data dir, without the responses' metadata. */
async function describeAll(scaling: ApplicationAutoScalingClient) {
  const [targets, policies, actions, activities] = await Promise.all([
    scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' })),
    scaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'lambda' })),
    scaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda' })),
    scaling.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'lambda', IncludeNotScaledActivities: true })),
  ]);
  return {
    targets: targets.ScalableTargets,
    policies: policies.ScalingPolicies,
    actions: actions.ScheduledActions,
    activities: activities.ScalingActivities,
  };
}

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'laminar-as-restart-'));
  dirs.push(d);
  return d;
}

/** A function with a version behind alias `live`, registered as a target with a policy and a scheduled action at 06:00. */
async function accept(server: { h: Harness; scaling: ApplicationAutoScalingClient }): Promise<{ fn: string; resourceId: string }> {
  const { h, scaling } = server;
  const fn = await deployFixture(h.client, 'echo');
  await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
  await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
  const resourceId = `function:${fn}:live`;
  await scaling.send(new RegisterScalableTargetCommand({ ...ids, ResourceId: resourceId, MinCapacity: 1, MaxCapacity: 5, Tags: { team: 'orders' } }));
  await scaling.send(
    new PutScalingPolicyCommand({
      ...ids,
      ResourceId: resourceId,
      PolicyName: 'utilization',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 0.7,
        PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
        ScaleInCooldown: 120,
      },
    }),
  );
  await scaling.send(
    new PutScheduledActionCommand({
      ...ids,
      ResourceId: resourceId,
      ScheduledActionName: 'morning',
      Schedule: 'at(2026-01-01T06:00:00)',
      ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 4 },
    }),
  );
  return { fn, resourceId };
}

describe('Application Auto Scaling across a restart on the same data dir', () => {
  it('a new server describes the same target, policy, scheduled action and activities, and runs the action at its time', async () => {
    const dir = dataDir();
    const first = await start(dir, new ManualClock(T0));
    const { fn, resourceId } = await accept(first);
    expect(await settled(first.h.client, fn)).toEqual({ requested: 1, status: 'READY' }); // clamped up to MinCapacity
    const before = await describeAll(first.scaling);
    expect(before.targets).toHaveLength(1);
    expect(before.policies).toHaveLength(1);
    expect(before.actions).toHaveLength(1);
    expect(before.activities?.[0]).toMatchObject({ Description: 'Setting desired concurrency to 1.', StatusCode: 'Successful' });
    await stop(first);

    // An hour later, before the action's time.
    const clock = new ManualClock(T0 + H);
    const second = await start(dir, clock);
    expect(await describeAll(second.scaling)).toEqual(before);
    expect(before.targets?.[0]).toMatchObject({ ResourceId: resourceId, MinCapacity: 1, MaxCapacity: 5 });
    expect(before.policies?.[0]).toMatchObject({
      ResourceId: resourceId,
      PolicyName: 'utilization',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.7, ScaleInCooldown: 120 },
    });
    expect(before.actions?.[0]).toMatchObject({ ResourceId: resourceId, ScheduledActionName: 'morning', ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 4 } });
    expect(await settled(second.h.client, fn)).toEqual({ requested: 1, status: 'READY' });

    clock.advance(5 * H - 1);
    expect((await describeAll(second.scaling)).targets?.[0]).toMatchObject({ MinCapacity: 1, MaxCapacity: 5 });
    clock.advance(1);
    const after = await describeAll(second.scaling);
    expect(after.targets?.[0]).toMatchObject({ MinCapacity: 2, MaxCapacity: 4 });
    expect(after.activities?.slice(0, 2)).toMatchObject([
      { Description: 'Setting desired concurrency to 2.', Cause: 'minimum capacity was set to 2', StatusCode: 'Successful' },
      { Description: 'Setting min capacity to 2 and max capacity to 4', Cause: 'scheduled action name morning was triggered', StatusCode: 'Successful' },
    ]);
    expect((await settled(second.h.client, fn)).requested).toBe(2);
  }, 60_000);

  it('a target whose function was deleted while the server was down stays registered, as in AWS: its action runs and records why capacity could not follow', async () => {
    const dir = dataDir();
    const first = await start(dir, new ManualClock(T0));
    const { fn, resourceId } = await accept(first);
    await settled(first.h.client, fn);
    const before = await describeAll(first.scaling);
    await stop(first);
    // While no server runs, the function (and with it its provisioned config) is deleted from the
    // registry directly, as another tool embedding Laminar's registry could.
    const offline = Registry.open({ dataDir: dir, clock: new ManualClock(T0 + H / 2), partition: { region: 'us-east-1', accountId: '000000000000' } });
    offline.deleteFunction(fn);
    expect(offline.provisionedConfigs()).toEqual([]);
    offline.close();

    const clock = new ManualClock(T0 + H);
    const second = await start(dir, clock);
    await expect(second.h.client.send(new GetFunctionCommand({ FunctionName: fn }))).rejects.toThrow(ResourceNotFoundException);
    expect(await describeAll(second.scaling)).toEqual(before);
    clock.advance(5 * H);
    const after = await describeAll(second.scaling);
    expect(after.targets?.[0]).toMatchObject({ ResourceId: resourceId, MinCapacity: 2, MaxCapacity: 4 });
    expect(after.activities?.slice(0, 2)).toMatchObject([
      { Description: 'Setting desired concurrency to 2.', StatusCode: 'Failed', StatusMessage: expect.stringMatching(new RegExp(`^Failed to set desired concurrency to 2\\. Reason: .*${fn}`)) },
      { Cause: 'scheduled action name morning was triggered', StatusCode: 'Successful' },
    ]);

    // Deregistering it works as for any target, and takes its policy and action with it.
    await second.scaling.send(new DeregisterScalableTargetCommand({ ...ids, ResourceId: resourceId }));
    expect(await describeAll(second.scaling)).toMatchObject({ targets: [], policies: [], actions: [] });
  }, 60_000);
});

/**
 * Application Auto Scaling and EventBridge in a cluster: three `laminar serve` nodes on one real
 * redis-server. A scalable target, its policy and a scheduled action registered through one
 * node are what every node describes; the scheduled action runs once, on the node that leads,
 * and every node shows its activity; a rule put through one node is listed by all and fires
 * once per scheduled instant for the whole cluster, not once per node. The rule runs on the wall
 * clock, so the last test takes a little over a minute.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  DescribeScheduledActionsCommand,
  PutScalingPolicyCommand,
  PutScheduledActionCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetProvisionedConcurrencyConfigCommand, LambdaClient, PublishVersionCommand, PutProvisionedConcurrencyConfigCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployShared, killAll, lambdaClient, startNodes, until } from '../helpers/cluster.js';
import { sample, scrape } from '../helpers/metrics.js';
import { startRecorder, type Recorder } from '../helpers/recorder.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

interface Node {
  process: ServeProcess;
  lambda: LambdaClient;
  scaling: ApplicationAutoScalingClient;
  events: EventBridgeClient;
}

let dir: string;
let redis: RedisHandle;
let recorder: Recorder;
let processes: ServeProcess[] = [];
const nodes: Node[] = [];

interface Health {
  cluster: { nodes: { id: string }[]; autoscaling: 'leader' | 'standby' };
}
const health = async (n: Node) => (await (await fetch(`${n.process.url}/health`)).json()) as Health;
const roles = async () => Promise.all(nodes.map(async (n) => (await health(n)).cluster.autoscaling));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-shared-'));
  redis = await startRedis();
  recorder = await startRecorder();
  processes = await startNodes(dir, redis.url, ['a', 'b', 'c'], 2, ['--autoscaling-evaluation-period-seconds', '1']);
  for (const process of processes) {
    const endpoint = process.url;
    nodes.push({
      process,
      lambda: lambdaClient(endpoint),
      scaling: new ApplicationAutoScalingClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
      events: new EventBridgeClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    });
  }
  await until('every node sees three live nodes and one leads', async () => {
    const hs = await Promise.all(nodes.map(health));
    return hs.every((h) => h.cluster.nodes.length === 3) && hs.filter((h) => h.cluster.autoscaling === 'leader').length === 1;
  });
}, 60_000);

afterAll(async () => {
  for (const n of nodes) {
    n.lambda.destroy();
    n.scaling.destroy();
    n.events.destroy();
  }
  await killAll(processes);
  await recorder?.close();
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `at()` of Application Auto Scaling, in UTC to the second. */
const atExpression = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;

describe('Application Auto Scaling in a cluster', () => {
  it('a target, policy and scheduled action registered through standbys are described by every node; the action runs once, on the leader', async () => {
    const fn = await deployShared(nodes.map((n) => n.process.url), 'echo', { FunctionName: 'scaled' });
    await nodes[0]!.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    await nodes[0]!.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1', ProvisionedConcurrentExecutions: 1 }));
    const rs = await roles();
    const standbys = nodes.filter((_, i) => rs[i] === 'standby');
    expect(standbys).toHaveLength(2);
    const resourceId = `function:${fn}:1`;

    await standbys[0]!.scaling.send(new RegisterScalableTargetCommand({ ...ids, ResourceId: resourceId, MinCapacity: 1, MaxCapacity: 5 }));
    await standbys[0]!.scaling.send(
      new PutScalingPolicyCommand({
        ...ids,
        ResourceId: resourceId,
        PolicyName: 'steady',
        PolicyType: 'TargetTrackingScaling',
        // Idle, the function stays far below this target, and scale-in is off: the policy never acts here.
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.9, DisableScaleIn: true, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
      }),
    );
    // Each answer comes after the write is in the log; the others apply it within a second.
    const described = async (n: Node) => ({
      targets: (await n.scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda' }))).ScalableTargets,
      policies: (await n.scaling.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'lambda' }))).ScalingPolicies,
    });
    const theirs = await described(standbys[0]!);
    expect(theirs.targets?.map((t) => [t.ResourceId, t.MinCapacity, t.MaxCapacity])).toEqual([[resourceId, 1, 5]]);
    expect(theirs.policies?.map((p) => p.PolicyName)).toEqual(['steady']);
    await until('every node describes the same target and policy', async () => {
      const all = await Promise.all(nodes.map(described));
      return all.every((d) => JSON.stringify(d) === JSON.stringify(theirs));
    }, 5000);

    // A scheduled action put through the other standby: the leader arms it and runs it.
    const runAt = Date.now() + 4000;
    await standbys[1]!.scaling.send(
      new PutScheduledActionCommand({ ...ids, ResourceId: resourceId, ScheduledActionName: 'morning', Schedule: atExpression(runAt), ScalableTargetAction: { MinCapacity: 2 } }),
    );
    await until(
      'every node reports the provisioned config raised to the new minimum',
      async () => {
        const configs = await Promise.all(nodes.map((n) => n.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1' }))));
        return configs.every((c) => c.RequestedProvisionedConcurrentExecutions === 2);
      },
      30_000,
    );
    const activities = async (n: Node) => (await n.scaling.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }))).ScalingActivities ?? [];
    const leaderView = await activities(nodes[rs.indexOf('leader')]!);
    // Ran once: one activity for the scheduled action, whichever node is asked.
    expect(leaderView.filter((a) => a.Cause === 'scheduled action name morning was triggered')).toHaveLength(1);
    expect(leaderView.find((a) => a.Cause === 'scheduled action name morning was triggered')).toMatchObject({
      Description: 'Setting min capacity to 2 and max capacity to 5',
      StatusCode: 'Successful',
    });
    await until('every node shows the same activities', async () => {
      const all = await Promise.all(nodes.map(activities));
      return all.every((a) => JSON.stringify(a) === JSON.stringify(leaderView));
    }, 5000);
    for (const n of nodes) {
      const [target] = (await n.scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'lambda', ResourceIds: [resourceId] }))).ScalableTargets ?? [];
      expect(target).toMatchObject({ MinCapacity: 2, MaxCapacity: 5 });
      const [action] = (await n.scaling.send(new DescribeScheduledActionsCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }))).ScheduledActions ?? [];
      expect(action?.ScheduledActionName).toBe('morning');
    }
  }, 90_000);
});

describe('EventBridge rules in a cluster', () => {
  it('a rule put through one node is listed by every node and fires once per instant for the cluster', async () => {
    const fn = await deployShared(nodes.map((n) => n.process.url), 'recorder', { FunctionName: 'minutely', Environment: { Variables: { RECORDER_URL: recorder.url + 'minutely' } } });
    const putAt = Date.now();
    await nodes[1]!.events.send(new PutRuleCommand({ Name: 'minutely', ScheduleExpression: 'rate(1 minute)' }));
    await nodes[1]!.events.send(new PutTargetsCommand({ Rule: 'minutely', Targets: [{ Id: 'recorder', Arn: `arn:aws:lambda:us-east-1:000000000000:function:${fn}` }] }));
    await until('every node lists the rule and its target', async () => {
      const all = await Promise.all(
        nodes.map(async (n) => ({
          rules: (await n.events.send(new ListRulesCommand({}))).Rules?.map((r) => [r.Name, r.ScheduleExpression, r.State]),
          targets: (await n.events.send(new ListTargetsByRuleCommand({ Rule: 'minutely' }))).Targets?.map((t) => t.Id),
        })),
      );
      return all.every((x) => JSON.stringify(x) === JSON.stringify({ rules: [['minutely', 'rate(1 minute)', 'ENABLED']], targets: ['recorder'] }));
    }, 5000);

    const [first] = await recorder.count(1);
    expect(first!.receivedAt - putAt).toBeGreaterThanOrEqual(59_000);
    // Every node that fired counted it when it did, before the event was even queued.
    const triggered = async () => (await Promise.all(nodes.map(async (n) => sample(await scrape(n.process.url), 'laminar_schedule_triggered_rules_total', { rule: 'minutely' })))).reduce((a, b) => a + b, 0);
    expect(await triggered()).toBe(1);
    await until('nothing is queued or running', async () => {
      const texts = await Promise.all(nodes.map((n) => scrape(n.process.url)));
      return texts.every((t) => sample(t, 'laminar_async_queue_depth', { function: fn }) === 0 && sample(t, 'laminar_concurrent_executions', { function: fn }) === 0);
    }, 10_000);
    expect(recorder.received.filter((r) => r.path === 'minutely')).toHaveLength(1);
    expect(await triggered()).toBe(1);
  }, 120_000);
});

/**
 * Provisioned concurrency and autoscaling of a cluster: three `laminar serve` nodes on one real
 * redis-server. A config of 5 is 5 environments in the cluster, 2/2/1 over the nodes, and every
 * node reports 5 allocated; one node at a time runs the autoscaling loop, which scales on the
 * cluster's utilization; when that node is killed with SIGKILL, another takes the loop over and
 * the survivors re-create its provisioned share, both within the lease time.
 */
import {
  ApplicationAutoScalingClient,
  DescribeScalingActivitiesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { GetProvisionedConcurrencyConfigCommand, LambdaClient, PublishVersionCommand, PutProvisionedConcurrencyConfigCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployShared } from '../helpers/cluster.js';
import { sample, scrape } from '../helpers/metrics.js';
import { startProbe, type Probe } from '../helpers/probe.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

const LEASE_SECONDS = 2;
const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

interface Node {
  id: string;
  process: ServeProcess;
  lambda: LambdaClient;
  scaling: ApplicationAutoScalingClient;
}

let dir: string;
let redis: RedisHandle;
let probe: Probe;
let admin: ReturnType<typeof createClient>;
const nodes: Node[] = [];
const alive = () => nodes.filter((n) => n.process.child.exitCode === null && n.process.child.signalCode === null);

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Health {
  cluster: { nodes: { id: string }[]; autoscaling: 'leader' | 'standby' };
}
const health = async (n: Node) => (await (await fetch(`${n.process.url}/health`)).json()) as Health;
const allocatedOn = async (n: Node, fn: string) => sample(await scrape(n.process.url), 'laminar_provisioned_concurrency_allocated', { function: fn, qualifier: '1' });
const allocations = async (ns: Node[], fn: string) => Promise.all(ns.map((n) => allocatedOn(n, fn)));
const config = (n: Node, fn: string) => n.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1' }));
const leaders = async (ns: Node[]) => (await Promise.all(ns.map(async (n) => ((await health(n)).cluster.autoscaling === 'leader' ? n : undefined)))).filter((n) => n !== undefined);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/**
 * The function deployed through one node, version 1 published and provisioned through it: the
 * registry is shared, so every node learns of the config and allocates its share.
 */
async function provisionEverywhere(fn: string, count: number): Promise<void> {
  const [first] = alive();
  await deployShared(alive().map((n) => n.process.url), 'sleep', { FunctionName: fn, Timeout: 60 });
  await first!.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
  await first!.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1', ProvisionedConcurrentExecutions: count }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-provisioned-'));
  redis = await startRedis();
  probe = await startProbe();
  admin = createClient({ url: redis.url });
  await admin.connect();
  for (const id of ['node-a', 'node-b', 'node-c']) {
    const process = await startServeProcess(join(dir, id), [
      '--redis-url', redis.url,
      '--node-id', id,
      '--cluster-lease-seconds', String(LEASE_SECONDS),
      '--isolation', 'thread',
      '--autoscaling-evaluation-period-seconds', '1',
    ]);
    const endpoint = process.url;
    nodes.push({
      id,
      process,
      lambda: new LambdaClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
      scaling: new ApplicationAutoScalingClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    });
  }
  await until('every node sees three live nodes', async () => (await Promise.all(nodes.map(health))).every((h) => h.cluster.nodes.length === 3));
}, 60_000);

afterAll(async () => {
  probe?.release();
  for (const n of nodes) {
    n.lambda.destroy();
    n.scaling.destroy();
    if (n.process.child.exitCode === null && n.process.child.signalCode === null) {
      n.process.child.kill('SIGKILL');
      await n.process.exited;
    }
  }
  await admin?.close();
  await probe?.close();
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('provisioned concurrency in a cluster', () => {
  it('a config of 5 is 2/2/1 environments over three nodes, and every node reports 5 allocated', async () => {
    await provisionEverywhere('spread', 5);
    await until('the shares are allocated', async () => sorted(await allocations(nodes, 'spread')).join() === '1,2,2');
    await until('every node reports the cluster allocation', async () =>
      (await Promise.all(nodes.map((n) => config(n, 'spread')))).every((c) => c.AllocatedProvisionedConcurrentExecutions === 5),
    );
    for (const n of nodes) {
      const c = await config(n, 'spread');
      expect(c).toMatchObject({ RequestedProvisionedConcurrentExecutions: 5, AvailableProvisionedConcurrentExecutions: 5, AllocatedProvisionedConcurrentExecutions: 5, Status: 'READY' });
    }
    // Provisioned environments on each node: its share, no more.
    const envs = await Promise.all(nodes.map(async (n) => sample(await scrape(n.process.url), 'laminar_environments', { function: 'spread', kind: 'provisioned' })));
    expect(sorted(envs)).toEqual([1, 2, 2]);
  }, 90_000);

  it('exactly one node runs the autoscaling loop, the one whose token holds the lock', async () => {
    for (let i = 0; i < 10; i++) {
      const lead = await leaders(nodes);
      expect(lead.map((n) => n.id)).toHaveLength(1);
      const token = await admin.get('laminar:autoscaling:leader');
      expect(token?.split(' ')[0]).toBe(lead[0]!.id);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('target tracking scales on the utilization summed over the nodes', async () => {
    const fn = 'tracked';
    await provisionEverywhere(fn, 3);
    await until('one environment on each node', async () => (await allocations(nodes, fn)).every((a) => a === 1));
    const resourceId = `function:${fn}:1`;
    // Registered through one node: the target and its policy are the cluster's.
    for (const n of nodes.slice(0, 1)) {
      await n.scaling.send(new RegisterScalableTargetCommand({ ...ids, ResourceId: resourceId, MinCapacity: 1, MaxCapacity: 6 }));
      await n.scaling.send(
        new PutScalingPolicyCommand({
          ...ids,
          ResourceId: resourceId,
          PolicyName: 'utilization',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.5, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
        }),
      );
    }
    const [leader] = await leaders(nodes);
    expect(leader).toBeDefined();
    // The two other nodes each keep their one environment busy; the leader's stays idle. Alone,
    // the leader reads 0 of 1 in use; the cluster is at 2 of 3, above the target of 0.5.
    probe.reset();
    const busy = nodes.filter((n) => n !== leader);
    const held = busy.map((n) =>
      fetch(`${n.process.url}/2015-03-31/functions/${fn}/invocations?Qualifier=1`, { method: 'POST', body: JSON.stringify({ ms: 1, probe: probe.url, hold: true }) }),
    );
    try {
      await until('both invocations run', () => probe.current === 2);
      await until('the leader scales out', async () => (await config(leader!, fn)).RequestedProvisionedConcurrentExecutions === 4, 30_000);
    } finally {
      probe.release();
      await Promise.all(held);
    }
    const activities = await leader!.scaling.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }));
    // ceil(3 × 2/3 ÷ 0.5) = 4.
    expect(activities.ScalingActivities?.[0]).toMatchObject({ Description: 'Setting desired concurrency to 4.', StatusCode: 'Successful' });
    // The leader acted once, for the cluster: every node shows that one activity (the history is
    // shared through the registry's log), and no node acted on its own.
    const outs = activities.ScalingActivities?.filter((a) => a.Description === 'Setting desired concurrency to 4.') ?? [];
    expect(outs).toHaveLength(1);
    await until('every node shows the leader\'s activities', async () => {
      const all = await Promise.all(busy.map((n) => n.scaling.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'lambda', ResourceId: resourceId }))));
      return all.every((theirs) => JSON.stringify(theirs.ScalingActivities) === JSON.stringify(activities.ScalingActivities));
    }, 5000);
  }, 90_000);

  it('when the leader is killed, another node takes the loop over and the survivors re-create its share, within the lease time', async () => {
    const [victim] = await leaders(nodes);
    expect(victim).toBeDefined();
    const survivors = nodes.filter((n) => n !== victim);
    expect((await allocations(nodes, 'spread')).reduce((a, b) => a + b, 0)).toBe(5);
    const killedAt = Date.now();
    victim!.process.child.kill('SIGKILL');
    await victim!.process.exited;

    let takenOverAt = 0;
    let recreatedAt = 0;
    await until(
      'a survivor leads and the survivors hold all 5',
      async () => {
        if (!takenOverAt && (await leaders(survivors)).length === 1) takenOverAt = Date.now();
        if (!recreatedAt && sorted(await allocations(survivors, 'spread')).join() === '2,3') recreatedAt = Date.now();
        return takenOverAt > 0 && recreatedAt > 0;
      },
      30_000,
    );
    // The lock outlives the victim by at most its expiry (one lease) plus one attempt of the others.
    expect(takenOverAt - killedAt).toBeLessThan(LEASE_SECONDS * 1000 + 2_500);
    // The victim stays live for one lease; a survivor sees it gone within a second after, then creates.
    expect(recreatedAt - killedAt).toBeLessThan(LEASE_SECONDS * 1000 + 3_000);
    await until('the survivors report 5 allocated', async () =>
      (await Promise.all(survivors.map((n) => config(n, 'spread')))).every((c) => c.AllocatedProvisionedConcurrentExecutions === 5),
    );
    for (let i = 0; i < 5; i++) {
      expect(await leaders(survivors)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);
});

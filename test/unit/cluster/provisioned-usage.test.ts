/**
 * Provisioned usage across a cluster: one node's entry in Redis encoded and read back, sums over
 * nodes, and the port the autoscaling loop reads in a cluster, driving the real loop on a manual
 * clock: target tracking scales on the cluster's utilization, not on this node's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AutoScaling } from '../../../src/autoscaling/index.js';
import { decodeUsage, encodeUsage, sumUsage, withClusterUsage, type ConfigUsage } from '../../../src/cluster/provisioned-usage.js';
import { ManualClock } from '../../../src/core/clock.js';
import { FakePort } from '../autoscaling/fake-port.js';

describe('a node usage entry', () => {
  it('round-trips through its hash fields, one per config', () => {
    const fields = encodeUsage([
      { functionName: 'api', qualifier: 'live', allocated: 2, inUse: 1, invocations: 40 },
      { functionName: 'api', qualifier: '3', allocated: 0, inUse: 0, invocations: 0 },
    ]);
    expect(fields).toEqual({ 'api:live': '2 1 40', 'api:3': '0 0 0' });
    expect(decodeUsage(fields)).toEqual(
      new Map([
        ['api:live', { allocated: 2, inUse: 1, invocations: 40 }],
        ['api:3', { allocated: 0, inUse: 0, invocations: 0 }],
      ]),
    );
  });

  it('skips fields that do not parse instead of counting them', () => {
    expect(decodeUsage({ a: '1 2', b: 'x y z', c: '-1 0 0', d: '1.5 0 0', e: '3 1 9' })).toEqual(new Map([['e', { allocated: 3, inUse: 1, invocations: 9 }]]));
  });

  it('sums per config over nodes', () => {
    const a = new Map<string, ConfigUsage>([['f:1', { allocated: 2, inUse: 1, invocations: 10 }]]);
    const b = new Map<string, ConfigUsage>([
      ['f:1', { allocated: 2, inUse: 2, invocations: 5 }],
      ['g:live', { allocated: 1, inUse: 0, invocations: 0 }],
    ]);
    expect(sumUsage([a, b])).toEqual(
      new Map([
        ['f:1', { allocated: 4, inUse: 3, invocations: 15 }],
        ['g:live', { allocated: 1, inUse: 0, invocations: 0 }],
      ]),
    );
    expect(sumUsage([])).toEqual(new Map());
  });
});

describe('the cluster port of the autoscaling loop', () => {
  const P = 60_000;
  const ids = { ServiceNamespace: 'lambda', ScalableDimension: 'lambda:function:ProvisionedConcurrency' } as const;
  const RES = 'function:api:live';
  const started: AutoScaling[] = [];
  afterEach(() => {
    for (const as of started.splice(0)) as.stop();
  });

  /** This node keeps 1 of a config of 3; the other nodes keep 2, whose usage the test sets. */
  function setup() {
    const clock = new ManualClock();
    const local = new FakePort('api');
    local.configs.set('api:live', { requested: 3, allocated: 1, status: 'READY' });
    let others: ConfigUsage = { allocated: 2, inUse: 0, invocations: 0 };
    const port = withClusterUsage(local, (fn, q) => (fn === 'api' && q === 'live' ? others : { allocated: 0, inUse: 0, invocations: 0 }));
    const as = new AutoScaling({ clock, port, periodMs: P, partition: { region: 'us-east-1', accountId: '000000000000' } });
    as.registerScalableTarget({ ...ids, ResourceId: RES, MinCapacity: 1, MaxCapacity: 100 });
    as.putScalingPolicy({
      ...ids,
      ResourceId: RES,
      PolicyName: 'pc',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.5, PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' } },
    });
    as.start();
    started.push(as);
    return { clock, local, port, setOthers: (u: ConfigUsage) => (others = u) };
  }

  it('reads usage and allocation as this node plus the others, and changes go through this node', () => {
    const { local, port, setOthers } = setup();
    local.setLoad('api', 'live', 1, false);
    setOthers({ allocated: 2, inUse: 1, invocations: 7 });
    expect(port.usage('api', 'live')).toEqual({ allocated: 3, inUse: 2, invocations: 7 });
    expect(port.get('api', 'live')).toEqual({ requested: 3, allocated: 3, status: 'READY' });
    expect(port.usage('api', 'other')).toBeUndefined();
    port.put('api', 'live', 4);
    port.delete('api', 'live');
    expect(local.calls).toEqual(['put api:live 4', 'delete api:live']);
  });

  it('scales out when the other nodes are busy though this node is idle', () => {
    const { clock, local, setOthers } = setup();
    // This node: its one environment idle, no invocations. The others: both busy, invocations flowing.
    local.setLoad('api', 'live', 0, false);
    let served = 0;
    const tick = () => setOthers({ allocated: 2, inUse: 2, invocations: (served += 3) });
    for (let i = 0; i < 30; i++) {
      tick();
      clock.advance(P / 10);
    }
    // Cluster utilization 2 / 3 against a target of 0.5: ceil(3 × 0.667 / 0.5) = 4.
    expect(local.calls).toEqual(['put api:live 4']);
  });

  it('does not scale out on this node alone when the cluster is below target', () => {
    const { clock, local, setOthers } = setup();
    // This node is fully busy (1 of 1), the others idle: the cluster is at 1 / 3.
    local.setLoad('api', 'live', 1, true);
    setOthers({ allocated: 2, inUse: 0, invocations: 0 });
    clock.advance(5 * P);
    expect(local.calls).toEqual([]);
  });
});

/**
 * Provisioned concurrency keeping a share of each config, as a cluster node does: the real
 * ProvisionedConcurrency over fake environments, with the cluster's share rule injected and the
 * live nodes changed by the test. The config keeps its requested count; this node creates and
 * lets go of environments as its share changes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InitResult } from '../../../src/environments/environment.js';
import { configKey, shareOf } from '../../../src/cluster/provisioned-share.js';
import { harness, until, type Harness } from './harness.js';

let h: Harness;
let nodes: string[];
/** What the other nodes report as allocated. */
let othersAllocated: number;

beforeEach(async () => {
  nodes = ['a', 'b', 'c'];
  othersAllocated = 0;
  h = await harness({
    share: (fn, q, requested) => shareOf(nodes, 'a', requested, configKey(fn, q)),
    allocated: (_fn, _q, local) => local + othersAllocated,
  });
  await h.deploy('p');
  h.registry.publishVersion('p', {});
  h.registry.createAlias('p', { Name: 'live', FunctionVersion: '1' });
});

afterEach(async () => {
  await h.cleanup();
});

const provisionedEnvs = () => h.fake.live().filter((e) => e.spec.initializationType === 'provisioned-concurrency');
const ready = () => h.provisioned.getConfig('p', 'live').Status === 'READY';
const mine = (count: number) => shareOf(nodes, 'a', count, configKey('p', 'live'));

describe('a node keeps its share of a provisioned config', () => {
  it('creates only its share; the config keeps the requested count and reports the cluster allocation', async () => {
    const out = h.provisioned.putConfig('p', 'live', 5);
    expect(out.RequestedProvisionedConcurrentExecutions).toBe(5);
    await until(ready, 'the share to be READY');
    expect([1, 2]).toContain(mine(5));
    expect(provisionedEnvs()).toHaveLength(mine(5));
    expect(h.provisioned.usage('p', 'live')?.allocated).toBe(mine(5));
    othersAllocated = 5 - mine(5);
    const got = h.provisioned.getConfig('p', 'live');
    expect(got.AllocatedProvisionedConcurrentExecutions).toBe(5);
    expect(got.AvailableProvisionedConcurrentExecutions).toBe(5);
    expect(got.RequestedProvisionedConcurrentExecutions).toBe(5);
  });

  it('takes over the shares of nodes that left, and gives back when they return', async () => {
    h.provisioned.putConfig('p', 'live', 5);
    await until(ready, 'the share to be READY');
    const first = mine(5);

    nodes = ['a'];
    h.provisioned.reshare();
    expect(h.provisioned.getConfig('p', 'live').Status).toBe('IN_PROGRESS');
    await until(ready, 'the whole config to be READY here');
    expect(provisionedEnvs()).toHaveLength(5);

    nodes = ['a', 'b', 'c'];
    h.provisioned.reshare();
    expect(provisionedEnvs()).toHaveLength(first);
    expect(h.provisioned.getConfig('p', 'live').Status).toBe('READY');
  });

  it('a node absent from the live nodes keeps nothing', async () => {
    h.provisioned.putConfig('p', 'live', 3);
    await until(ready, 'the share to be READY');
    nodes = ['b', 'c'];
    h.provisioned.reshare();
    expect(provisionedEnvs()).toHaveLength(0);
    expect(h.provisioned.getConfig('p', 'live').Status).toBe('READY');
  });

  it('a reshare that changes no share leaves the environments alone', async () => {
    h.provisioned.putConfig('p', 'live', 5);
    await until(ready, 'the share to be READY');
    const before = provisionedEnvs().map((e) => e.id);
    const built = h.fake.built.length;
    nodes = ['a', 'b', 'c'];
    h.provisioned.reshare();
    expect(provisionedEnvs().map((e) => e.id)).toEqual(before);
    expect(h.fake.built).toHaveLength(built);
  });

  it('a share that changes while Inits run ends with exactly the new share, all serving', async () => {
    // Inits wait until the test lets them finish.
    const gates: ((r: InitResult) => void)[] = [];
    h.fake.initWith = () => new Promise<InitResult>((resolve) => gates.push(resolve));
    const finishInits = () => {
      for (const g of gates.splice(0)) g({ ok: true, initDurationMs: 1, logs: '' });
    };
    nodes = ['a', 'b'];
    h.provisioned.putConfig('p', 'live', 4);
    await until(() => gates.length === 2, 'two Inits to start');
    // Before those finish, the other node dies: this node now keeps all 4.
    nodes = ['a'];
    h.provisioned.reshare();
    await until(() => gates.length === 4, 'the two more Inits to start');
    expect(h.provisioned.getConfig('p', 'live').Status).toBe('IN_PROGRESS');
    finishInits();
    await until(ready, 'the config to be READY');
    expect(provisionedEnvs()).toHaveLength(4);
    expect(h.provisioned.usage('p', 'live')?.allocated).toBe(4);
  });

  it('a share that shrinks while Inits run lets the surplus go and keeps the rest', async () => {
    const gates: ((r: InitResult) => void)[] = [];
    h.fake.initWith = () => new Promise<InitResult>((resolve) => gates.push(resolve));
    nodes = ['a'];
    h.provisioned.putConfig('p', 'live', 4);
    await until(() => gates.length === 4, 'four Inits to start');
    nodes = ['a', 'b'];
    h.provisioned.reshare();
    expect(provisionedEnvs()).toHaveLength(2);
    expect(h.provisioned.getConfig('p', 'live').Status).toBe('IN_PROGRESS');
    for (const g of gates.splice(0)) g({ ok: true, initDurationMs: 1, logs: '' });
    await until(ready, 'the config to be READY');
    expect(provisionedEnvs()).toHaveLength(2);
    expect(h.provisioned.usage('p', 'live')?.allocated).toBe(2);
  });
});

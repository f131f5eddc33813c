/**
 * Cluster nodes for tests: each a registry with its own data dir behind a replica on the file's
 * redis-server, sharing a key prefix with the other nodes of its cluster. Also a view of a
 * registry's whole content through its public reads, to compare two nodes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { RegistryReplica } from '../../../src/cluster/registry-replica.js';
import type { RegistryOptions } from '../../../src/registry/registry.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';
import { dropKeys } from '../async/redis-queue-harness.js';
import { PARTITION, type TestRegistry } from '../registry/helpers.js';
import { openReplica, writesThrough, type ReplicaExtras } from './replica-harness.js';

export interface TestNode {
  replica: RegistryReplica;
  registry: TestRegistry;
  dataDir: string;
  /** Change events this node's registry told its listeners, as `kind:function:version`. */
  events: string[];
}

export interface TestCluster {
  prefix: string;
  clock: ManualClock;
  /** A node on a new data dir, or (restart) on the data dir of one closed before. */
  node(opts?: { dataDir?: string; registry?: Partial<RegistryOptions> } & ReplicaExtras): Promise<TestNode>;
  /** Closes every node, removes their data dirs and the cluster's keys. */
  cleanup(): Promise<void>;
}

export function testCluster(url: string): TestCluster {
  const prefix = `test-${randomBytes(4).toString('hex')}:`;
  const clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  const nodes: TestNode[] = [];
  const dirs = new Set<string>();
  return {
    prefix,
    clock,
    async node(opts = {}) {
      const { dataDir = mkdtempSync(path.join(tmpdir(), 'laminar-node-')), registry, ...extra } = opts;
      dirs.add(dataDir);
      const replica = await openReplica(url, { dataDir, clock, partition: PARTITION, ...registry }, prefix, extra);
      const events: string[] = [];
      replica.registry.onChange((e) => events.push(`${e.kind}:${e.functionName}:${e.version}`));
      const node = { replica, registry: writesThrough(replica), dataDir, events };
      nodes.push(node);
      return node;
    },
    async cleanup() {
      for (const n of nodes) await n.replica.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await dropKeys(url, prefix);
    },
  };
}

/** Resolves once `node` has applied entry `seq`; rejects after `withinMs`. */
export function applied(node: TestNode, seq: number, withinMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (node.replica.applied >= seq) return resolve();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`entry ${seq} not applied within ${withinMs} ms (at ${node.replica.applied})`));
    }, withinMs);
    const stop = node.replica.onApplied((n) => {
      if (n < seq) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

/** Resolves once `condition` holds, checked every 20 ms; rejects after `withinMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs one command on the server, apart from any node. */
export async function redisCommand(url: string, args: string[]): Promise<unknown> {
  const admin = createClient({ url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    return await admin.sendCommand(args);
  } finally {
    admin.destroy();
  }
}

/** Everything a registry holds, through its reads, without what names the node's own files. */
export function contentOf(r: TestRegistry) {
  const fns = r.listFunctions({ functionVersion: 'ALL', maxItems: 1000 }).items;
  const names = [...new Set(fns.map((f) => f.FunctionName))];
  return {
    functions: fns,
    perFunction: names.map((name) => ({
      name,
      tags: r.listTags(name),
      reserved: r.getReservedConcurrency(name) ?? null,
      aliases: r.listAliases(name, {}).items,
      eventInvokeConfigs: r.listEventInvokeConfigs(name, {}).items,
      urls: r.listFunctionUrlConfigs(name, {}).items,
    })),
    layers: r.listLayers({}).items.map((l) => ({ ...l, versions: r.listLayerVersions(l.LayerName, {}).items })),
    provisioned: r.provisionedConfigs(),
    usage: r.usage(),
  };
}

/**
 * One redis-server for the test file and a fresh cluster of nodes for each test. Redis is
 * started again after each test, whatever the test left it in.
 */
export function useTestCluster(): { readonly redis: RedisHandle; readonly cluster: TestCluster } {
  const ctx = {} as { redis: RedisHandle; cluster: TestCluster };
  beforeAll(async () => {
    ctx.redis = await startRedis();
  });
  afterAll(async () => {
    await ctx.redis?.dispose();
  });
  beforeEach(() => {
    ctx.cluster = testCluster(ctx.redis.url);
  });
  afterEach(async () => {
    await ctx.redis.start();
    await ctx.cluster.cleanup();
  });
  return ctx;
}

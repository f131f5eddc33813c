/**
 * The stores beside the registry that a cluster shares through the registry's log: the
 * autoscaling targets (the TargetStore conformance suite, every write made through one node and
 * logged through a real redis-server, every read served by another node's copy) and the EventBridge rules; what one node
 * writes the others hold, a snapshot carries them, and a write outside the log is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteTargetStore } from '../../../src/autoscaling/sqlite-target-store.js';
import type { TargetStore } from '../../../src/autoscaling/target-store.js';
import { UnloggedRegistryWriteError, type RegistryReplica } from '../../../src/cluster/registry-replica.js';
import { ManualClock } from '../../../src/core/clock.js';
import { RuleStore } from '../../../src/schedules/rule-store.js';
import type { RuleRecord, TargetRecord } from '../../../src/schedules/types.js';
import { dropKeys, freshPrefix } from '../async/redis-queue-harness.js';
import { action, activity, policy, target, targetStoreConformance, type HarnessOptions, type TargetStoreHarness } from '../autoscaling/target-store-conformance.js';
import { fnInput, PARTITION } from '../registry/helpers.js';
import { openReplica } from './replica-harness.js';
import { applied, eventually, redisCommand, useTestCluster } from './two-nodes.js';

const ctx = useTestCluster();

const WRITES: ReadonlySet<PropertyKey> = new Set(['putTarget', 'deleteTarget', 'putPolicy', 'deletePolicy', 'putScheduledAction', 'deleteScheduledAction', 'addActivity']);

/**
 * A store whose writes run inside `writer.write` on one node and whose reads are served by
 * another node's copy once it applied them: only what travelled through the log is seen.
 */
function acrossNodes<T extends object>(writer: RegistryReplica, writerStore: T, reader: RegistryReplica, readerStore: T): T {
  return new Proxy(readerStore, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      if (!WRITES.has(prop)) return (value as (...args: unknown[]) => unknown).bind(t);
      const write = Reflect.get(writerStore, prop, writerStore) as (...args: unknown[]) => unknown;
      return async (...args: unknown[]) => {
        await writer.write(() => write.apply(writerStore, args));
        await caughtUp(reader, writer.applied);
      };
    },
  });
}

/** Resolves once `replica` applied entry `seq` (it hears of it on the log's channel). */
function caughtUp(replica: RegistryReplica, seq: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (replica.applied >= seq) return resolve();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`entry ${seq} not applied within 5 s (at ${replica.applied})`));
    }, 5000);
    const stop = replica.onApplied((n) => {
      if (n < seq) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

async function replicaHarness(o: HarnessOptions = {}): Promise<TargetStoreHarness> {
  const url = ctx.redis.url;
  const prefix = freshPrefix();
  const dirs = [mkdtempSync(path.join(tmpdir(), 'laminar-side-')), mkdtempSync(path.join(tmpdir(), 'laminar-side-'))];
  const clock = new ManualClock(Date.UTC(2026, 0, 2));
  const openNode = async (dataDir: string) => {
    const side = SqliteTargetStore.inDataDir(dataDir, o);
    const replica = await openReplica(url, { dataDir, clock, partition: PARTITION }, prefix, { sides: { autoscaling: side } });
    return { side, replica };
  };
  const open = async () => {
    const writer = await openNode(dirs[0] as string);
    return { writer, reader: await openNode(dirs[1] as string) };
  };
  let nodes = await open();
  const store = () => acrossNodes(nodes.writer.replica, nodes.writer.side, nodes.reader.replica, nodes.reader.side) as TargetStore;
  const close = async () => {
    for (const n of [nodes.writer, nodes.reader]) {
      await n.replica.close();
      n.side.close();
    }
  };
  return {
    store: store(),
    reopen: async () => {
      await close();
      nodes = await open();
      return store();
    },
    cleanup: async () => {
      await close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await dropKeys(url, prefix);
    },
  };
}

targetStoreConformance('SQLite on cluster replicas: written through one node, read on another', replicaHarness, { durable: true });

const T0 = Date.UTC(2026, 0, 2);
const rule = (name: string, over: Partial<RuleRecord> = {}): RuleRecord => ({ name, state: 'ENABLED', scheduleExpression: 'rate(5 minutes)', anchorMs: T0, ...over });
const ruleTarget = (ruleName: string, id: string): TargetRecord => ({ rule: ruleName, id, arn: `arn:aws:lambda:us-east-1:123456789012:function:${id}`, functionName: id });

/** A node of the file's cluster with both side stores on its data dir. */
async function sideNode(dataDir = mkdtempSync(path.join(tmpdir(), 'laminar-node-'))) {
  const targets = SqliteTargetStore.inDataDir(dataDir);
  const rules = RuleStore.inDataDir(dataDir);
  const node = await ctx.cluster.node({ dataDir, pollIntervalMs: 100, sides: { autoscaling: targets, schedules: rules } });
  return { ...node, targets, rules, close: async () => {
    await node.replica.close();
    targets.close();
    rules.close();
  } };
}

describe('side stores shared by the cluster', () => {
  it('a rule and its targets put through one node are what the other node holds; deletes too', async () => {
    const [a, b] = [await sideNode(), await sideNode()];
    try {
      await a.replica.write(() => {
        a.rules.putRule(rule('nightly'));
        a.rules.putTargets([ruleTarget('nightly', 'f'), ruleTarget('nightly', 'g')]);
      });
      await applied(b, a.replica.applied);
      expect(b.rules.getRule('nightly')).toEqual(rule('nightly'));
      expect(b.rules.listTargets('nightly').map((t) => t.id)).toEqual(['f', 'g']);
      await b.replica.write(() => b.rules.removeTargets('nightly', ['f']));
      await applied(a, b.replica.applied);
      expect(a.rules.listTargets('nightly').map((t) => t.id)).toEqual(['g']);
      await a.replica.write(() => a.rules.deleteRule('nightly'));
      await applied(b, a.replica.applied);
      expect(b.rules.listRules()).toEqual([]);
      expect(b.rules.listTargets('nightly')).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('one write touching the registry and both side stores is one entry, and the listeners hear which side stores it changed', async () => {
    const [a, b] = [await sideNode(), await sideNode()];
    try {
      const heard: string[][] = [];
      b.replica.onApplied((_seq, sides) => heard.push([...sides].sort()));
      const before = a.replica.applied;
      await a.replica.write(async () => {
        await a.replica.registry.createFunction(await fnInput('f'));
        a.targets.putTarget(target('f'));
        a.rules.putRule(rule('r'));
      });
      expect(a.replica.applied).toBe(before + 1);
      await applied(b, a.replica.applied);
      expect(heard).toEqual([['autoscaling', 'schedules']]);
      expect(b.targets.getTarget('function:f:live')).toEqual(target('f'));
      expect(b.rules.getRule('r')).toEqual(rule('r'));
      expect(b.replica.registry.getFunctionConfiguration('f').FunctionName).toBe('f');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a side store write made outside replica.write, changing nothing', async () => {
    const a = await sideNode();
    try {
      expect(() => a.targets.putTarget(target('f'))).toThrow(UnloggedRegistryWriteError);
      expect(() => a.rules.putRule(rule('r'))).toThrow(/schedules\.putRule outside RegistryReplica\.write/);
      expect(a.targets.listTargets()).toEqual([]);
      expect(a.rules.listRules()).toEqual([]);
    } finally {
      await a.close();
    }
  });

  it('undoes a side store write whose entry could not be logged', async () => {
    const a = await sideNode();
    try {
      await ctx.redis.stop();
      await expect(a.replica.write(() => a.targets.putTarget(target('f')))).rejects.toThrow(/unavailable/);
      expect(a.targets.listTargets()).toEqual([]);
    } finally {
      await ctx.redis.start();
      await a.close();
    }
  });

  it('a node joining later, or restarting, catches up with the side stores; a FLUSHALL re-seeds them from a node', async () => {
    const a = await sideNode();
    const dirB = mkdtempSync(path.join(tmpdir(), 'laminar-node-'));
    let b = await sideNode(dirB);
    try {
      await a.replica.write(() => {
        a.targets.putTarget(target('f'));
        a.targets.putPolicy(policy('function:f:live', 'p'));
        a.targets.putScheduledAction(action('function:f:live', 'x'));
        a.targets.addActivity(activity('function:f:live', '1'));
        a.rules.putRule(rule('r'));
      });
      await applied(b, a.replica.applied);
      await b.close();
      await a.replica.write(() => a.rules.putRule(rule('later', { state: 'DISABLED' })));
      b = await sideNode(dirB);
      expect(b.rules.listRules().map((r) => r.name)).toEqual(['later', 'r']);
      const old = a.replica.clusterId;
      await redisCommand(ctx.redis.url, ['FLUSHALL']);
      await eventually(() => a.replica.clusterId !== old && b.replica.clusterId === a.replica.clusterId);
      const c = await sideNode();
      try {
        expect(c.targets.listTargets()).toEqual([target('f')]);
        expect(c.targets.listPolicies()).toEqual([policy('function:f:live', 'p')]);
        expect(c.targets.listScheduledActions()).toEqual([action('function:f:live', 'x')]);
        expect(c.targets.listActivities()).toEqual([activity('function:f:live', '1')]);
        expect(c.rules.listRules().map((r) => r.name)).toEqual(['later', 'r']);
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a replica that follows another cluster drops its side stores’ rows and takes the log’s', async () => {
    const a = await sideNode();
    const dirA = a.dataDir;
    await a.replica.write(() => a.rules.putRule(rule('mine')));
    await a.close();
    await redisCommand(ctx.redis.url, ['FLUSHALL']);
    const c = await sideNode();
    try {
      await c.replica.write(() => c.rules.putRule(rule('theirs')));
      const back = await sideNode(dirA);
      try {
        expect(back.rules.listRules().map((r) => r.name)).toEqual(['theirs']);
      } finally {
        await back.close();
      }
    } finally {
      await c.close();
    }
  });
});

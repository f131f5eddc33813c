/**
 * Provisioned concurrency spread over a cluster, as one node runs it. Every `everyMs` (at most a
 * second, and three times per lease) the node
 *   - reads which nodes are live; when the set changed (a node joined, or its lease ran out), it
 *     says so, and provisioned concurrency recomputes this node's share of every config
 *     (`shareOf`) and creates or lets go of environments, so a dead node's share is re-created
 *     on the others within about one lease;
 *   - publishes its own usage per config in `laminar:provisioned-usage:<node>` (a hash that
 *     expires one lease after its last write, as the node's heartbeat does);
 *   - reads the usage the other live nodes published, for the cluster totals: the allocation
 *     GetProvisionedConcurrencyConfig reports and the utilization autoscaling scales on.
 * While Redis cannot be reached, the last view stays: a node that cannot see the cluster keeps
 * its share rather than guess at one.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { RedisClient } from './connection.js';
import { heartbeatIntervalMs } from './liveness.js';
import { configKey, shareOf } from './provisioned-share.js';
import { decodeUsage, encodeUsage, NO_USAGE, sumUsage, type ConfigUsage, type LocalConfigUsage } from './provisioned-usage.js';

export interface ProvisionedSpreadOptions {
  client: RedisClient;
  /** The live node ids, sorted (Membership.liveIds). */
  liveIds: () => Promise<string[]>;
  clock: Clock;
  leaseMs: number;
  /** This node's configs and their usage now. */
  local: () => LocalConfigUsage[];
  /** The set of live nodes changed: shares are to be recomputed. */
  onNodesChanged: (nodeIds: readonly string[]) => void;
  /** A round could not reach Redis; called once per run of failures. */
  onError?: (err: Error) => void;
  /** @defaultValue min(1000, a third of the lease) */
  everyMs?: number;
  /** @defaultValue `laminar:` */
  keyPrefix?: string;
}

// KEYS: the node's usage hash. ARGV: expiry ms, then field, value pairs. Replaces the whole hash,
// so a config this node no longer holds leaves no stale count behind.
const PUBLISH = `
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

export class ProvisionedSpread {
  private self: string | undefined;
  private nodeIds: readonly string[] = [];
  private others = new Map<string, ConfigUsage>();
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  private readonly prefix: string;
  private readonly everyMs: number;

  constructor(private readonly o: ProvisionedSpreadOptions) {
    this.prefix = o.keyPrefix ?? 'laminar:';
    this.everyMs = o.everyMs ?? Math.min(1000, heartbeatIntervalMs(o.leaseMs));
  }

  /** The live nodes as last read, this one included once it joined. */
  get nodes(): readonly string[] {
    return this.nodeIds;
  }

  /** This node's share of a config of `requested`; none until the node has joined and read the cluster. */
  share(functionName: string, qualifier: string, requested: number): number {
    if (this.self === undefined) return 0;
    return shareOf(this.nodeIds, this.self, requested, configKey(functionName, qualifier));
  }

  /** What the other live nodes last published for a config. */
  othersUsage(functionName: string, qualifier: string): ConfigUsage {
    return this.others.get(configKey(functionName, qualifier)) ?? NO_USAGE;
  }

  /** Starts the rounds as node `selfId`: one at once, then every `everyMs`. */
  start(selfId: string): Promise<void> {
    if (this.self !== undefined) throw new Error(`the provisioned spread already runs as ${this.self}`);
    this.self = selfId;
    return this.round();
  }

  /** One round now (the timer runs them; a test may too). Resolves when it is done. */
  round(): Promise<void> {
    if (this.running) return this.running;
    this.timer?.cancel();
    this.timer = undefined;
    this.running = this.step().finally(() => {
      this.running = undefined;
      if (!this.stopped) this.timer = this.o.clock.setTimeout(() => void this.round(), this.everyMs);
    });
    return this.running;
  }

  /** Stops the rounds and withdraws this node's usage, so the others' totals drop at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.running;
    if (this.self !== undefined) await this.o.client.del(this.usageKey(this.self)).catch(() => undefined);
  }

  private async step(): Promise<void> {
    const self = this.self;
    if (self === undefined || this.stopped) return;
    try {
      const live = await this.o.liveIds();
      // This node is live while it runs, even in the moment Redis lost its entry (a restart).
      const nodes = [...new Set([...live, self])].sort();
      const fields = encodeUsage(this.o.local());
      const args = [String(this.o.leaseMs), ...Object.entries(fields).flat()];
      await this.o.client.eval(PUBLISH, { keys: [this.usageKey(self)], arguments: args });
      const others = live.filter((id) => id !== self);
      const hashes = await Promise.all(others.map((id) => this.o.client.hGetAll(this.usageKey(id))));
      this.others = sumUsage(hashes.map((h) => decodeUsage(h as Record<string, string>)));
      this.failing = false;
      if (nodes.join('\n') !== this.nodeIds.join('\n')) {
        this.nodeIds = nodes;
        this.o.onNodesChanged(nodes);
      }
    } catch (err) {
      if (!this.failing) this.o.onError?.(err instanceof Error ? err : new Error(String(err)));
      this.failing = true;
    }
  }

  private usageKey(id: string): string {
    return `${this.prefix}provisioned-usage:${id}`;
  }
}

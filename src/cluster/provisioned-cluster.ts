/**
 * Provisioned concurrency and autoscaling of a cluster node: the spread (this node's share of
 * every config, the usage of the others) and the autoscaling leader lock (one node at a time runs
 * the loop, on the cluster's usage). Both start once the node joined the cluster under its id.
 */
import type { Clock } from '../core/clock.js';
import type { ProvisionedConcurrencyPort } from '../autoscaling/port.js';
import type { ClusterConnection } from './connection.js';
import { LeaderLock } from './leader-lock.js';
import type { ClusterLog } from './node.js';
import { ProvisionedSpread } from './provisioned-spread.js';
import { withClusterUsage, type LocalConfigUsage } from './provisioned-usage.js';

/** The Redis key of the autoscaling leader lock. */
export const AUTOSCALING_LOCK_KEY = 'laminar:autoscaling:leader';

export interface ClusterProvisioningOptions {
  connection: ClusterConnection;
  clock: Clock;
  leaseMs: number;
  /** The live node ids, sorted. */
  liveIds: () => Promise<string[]>;
  /** This node's provisioned configs and their usage now. */
  local: () => LocalConfigUsage[];
  /** The live nodes changed: this node's shares are to be applied. */
  reshare: () => void;
  /** The leader's duties (the autoscaling loop, firing scheduled rules), run while this node leads. */
  autoscaling: { start(): void; stop(): void };
  log: ClusterLog;
}

export class ClusterProvisioning {
  readonly spread: ProvisionedSpread;
  private lock: LeaderLock | undefined;

  constructor(private readonly o: ClusterProvisioningOptions) {
    this.spread = new ProvisionedSpread({
      client: o.connection.client,
      liveIds: o.liveIds,
      clock: o.clock,
      leaseMs: o.leaseMs,
      local: o.local,
      onNodesChanged: (nodes) => {
        o.log.info(`cluster: live nodes ${nodes.join(', ')}; provisioned concurrency follows this node's share`);
        o.reshare();
      },
      onError: (err) => o.log.warn(`cluster: provisioned usage could not be exchanged through Redis (${err.message}); keeping the last view`),
    });
  }

  /** This node's share of a config of `requested` environments. */
  readonly share = (functionName: string, qualifier: string, requested: number): number => this.spread.share(functionName, qualifier, requested);

  /** The cluster's allocation of a config, given this node's. */
  readonly allocated = (functionName: string, qualifier: string, local: number): number =>
    local + this.spread.othersUsage(functionName, qualifier).allocated;

  /** The port the autoscaling loop reads and acts through: usage summed over the live nodes. */
  port(local: ProvisionedConcurrencyPort): ProvisionedConcurrencyPort {
    return withClusterUsage(local, (fn, q) => this.spread.othersUsage(fn, q));
  }

  /** Whether this node runs the autoscaling loop now. */
  get autoscalingLeader(): boolean {
    return this.lock?.held ?? false;
  }

  /** Starts both as node `nodeId` (one start of it: `instance`). */
  async start(nodeId: string, instance: string): Promise<void> {
    await this.spread.start(nodeId);
    const { log, autoscaling } = this.o;
    this.lock = new LeaderLock({
      client: this.o.connection.client,
      clock: this.o.clock,
      key: AUTOSCALING_LOCK_KEY,
      token: `${nodeId} ${instance}`,
      ttlMs: this.o.leaseMs,
      onAcquired: () => {
        log.info(`cluster: node ${nodeId} runs the autoscaling loop and fires scheduled rules`);
        autoscaling.start();
      },
      onLost: () => {
        log.warn(`cluster: node ${nodeId} no longer holds the autoscaling lock; its loop and rule firing stop`);
        autoscaling.stop();
      },
      onError: (err) => log.warn(`cluster: the autoscaling lock could not be renewed in Redis (${err.message})`),
    });
    await this.lock.start();
  }

  /** Gives the lock up (another node takes it at its next attempt) and withdraws this node's usage. */
  async stop(): Promise<void> {
    await this.lock?.stop();
    await this.spread.stop();
  }
}

/** What provisioned concurrency is built from: its ports and settings. */
import type { Partition } from '../core/arn.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Registry } from '../registry/registry.js';
import type { Environments } from './environments.js';
import type { Reaper } from './reaper.js';

/** The ledger as provisioned concurrency uses it: claims checked and recorded at once. */
export interface ProvisionedClaims {
  /** Claims `total` for `fn` (all its configs), or returns AWS's message why not. */
  setProvisioned(fn: string, total: number): string | undefined;
  /** Records a claim without the check: configs accepted before a restart, and releases. */
  recordProvisioned(fn: string, total: number): void;
}

export interface ProvisionedOptions {
  /** Creates, readies and lets go of provisioned environments. */
  environments: Environments;
  /** Makes room in the host's memory budget for them. */
  reaper: Reaper;
  registry: Registry;
  /** Where provisioned capacity is claimed: the embedded ledger, or a cluster's shared one. */
  ledger: ProvisionedClaims;
  metrics: Metrics;
  partition: Partition;
  /** Inits run at once across all allocations, so a large request doesn't starve running traffic. */
  initConcurrency: number;
  /**
   * How many of a config's `requested` environments this node keeps. In a cluster, its share of
   * them (the others keep the rest); call `reshare()` when the shares may have changed.
   * @defaultValue all of them
   */
  share?: (functionName: string, qualifier: string, requested: number) => number;
  /**
   * The allocation the API reports for a config, given this node's. In a cluster, the total over
   * the live nodes. @defaultValue this node's
   */
  allocated?: (functionName: string, qualifier: string, local: number) => number;
}

/**
 * Provisioned usage across a cluster. Each node publishes, per config, how many of its provisioned
 * environments are allocated and busy and how many invocations the config served on it; the
 * cluster's usage of a config is the sum over the live nodes. Pure: the encoding of one node's
 * entry in Redis and the sums. The Redis side is in provisioned-spread.ts.
 */
import type { ProvisionedConcurrencyPort } from '../autoscaling/port.js';
import { configKey } from './provisioned-share.js';

/** One config's usage on one node (or summed over nodes). */
export interface ConfigUsage {
  /** Provisioned environments that finished Init and serve the config's version. */
  allocated: number;
  /** Of those, the ones busy with an invocation. */
  inUse: number;
  /** Invocations the config served (provisioned or spillover); monotonic on a node. */
  invocations: number;
}

/** A node's usage of one of its configs. */
export interface LocalConfigUsage extends ConfigUsage {
  functionName: string;
  qualifier: string;
}

export const NO_USAGE: ConfigUsage = Object.freeze({ allocated: 0, inUse: 0, invocations: 0 });

/** The fields of a node's usage hash: config key → "allocated inUse invocations". */
export function encodeUsage(configs: readonly LocalConfigUsage[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of configs) out[configKey(c.functionName, c.qualifier)] = `${c.allocated} ${c.inUse} ${c.invocations}`;
  return out;
}

/** A node's usage hash read back; fields that do not parse are skipped (never counted as usage). */
export function decodeUsage(fields: Readonly<Record<string, string>>): Map<string, ConfigUsage> {
  const out = new Map<string, ConfigUsage>();
  for (const [key, value] of Object.entries(fields)) {
    const parts = value.split(' ').map(Number);
    if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n >= 0)) continue;
    const [allocated, inUse, invocations] = parts as [number, number, number];
    out.set(key, { allocated, inUse, invocations });
  }
  return out;
}

/** Adds usages up per config key. */
export function sumUsage(nodes: Iterable<ReadonlyMap<string, ConfigUsage>>): Map<string, ConfigUsage> {
  const out = new Map<string, ConfigUsage>();
  for (const node of nodes) {
    for (const [key, u] of node) out.set(key, addUsage(out.get(key) ?? NO_USAGE, u));
  }
  return out;
}

export function addUsage(a: ConfigUsage, b: ConfigUsage): ConfigUsage {
  return { allocated: a.allocated + b.allocated, inUse: a.inUse + b.inUse, invocations: a.invocations + b.invocations };
}

/**
 * Provisioned concurrency as the autoscaling loop of a cluster sees it: changes and the config go
 * through this node (the same code path as the API), usage and allocation are this node's plus
 * what the other live nodes published, so target tracking scales on the cluster's utilization.
 * A config this node does not know reads as no data, as it would on one node.
 */
export function withClusterUsage(port: ProvisionedConcurrencyPort, others: (functionName: string, qualifier: string) => ConfigUsage): ProvisionedConcurrencyPort {
  return {
    put: (fn, q, requested) => port.put(fn, q, requested),
    delete: (fn, q) => port.delete(fn, q),
    get(fn, q) {
      const view = port.get(fn, q);
      return view && { ...view, allocated: view.allocated + others(fn, q).allocated };
    },
    usage(fn, q) {
      const local = port.usage(fn, q);
      return local && addUsage(local, others(fn, q));
    },
  };
}

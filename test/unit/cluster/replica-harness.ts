/**
 * Registries behind a cluster replica, for tests: one per data dir, each on a key prefix of its
 * own on the file's redis-server, so tests never see each other's logs. Writes go through
 * `RegistryReplica.write`, as the API's will.
 */
import path from 'node:path';
import { RegistryReplica, type RegistryReplicaOptions } from '../../../src/cluster/registry-replica.js';
import type { RegistryOptions } from '../../../src/registry/registry.js';
import { dropKeys } from '../async/redis-queue-harness.js';
import { REGISTRY_WRITES, type RegistryBackend, type TestRegistry } from '../registry/helpers.js';

const WRITES: ReadonlySet<PropertyKey> = new Set(REGISTRY_WRITES);

/** The replica's registry, with each write method running inside `replica.write`. */
export function writesThrough(replica: RegistryReplica): TestRegistry {
  const registry = replica.registry;
  return new Proxy(registry, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (WRITES.has(prop)) return (...args: unknown[]) => replica.write(() => method.apply(target, args));
      return method.bind(target);
    },
  }) as unknown as TestRegistry;
}

export const prefixFor = (space: string): string => `test-${path.basename(space)}:`;

export type ReplicaExtras = Partial<Omit<RegistryReplicaOptions, 'registry' | 'redis'>>;

export function openReplica(url: string, registry: RegistryOptions, prefix: string, extra: ReplicaExtras = {}): Promise<RegistryReplica> {
  return RegistryReplica.open({ registry, redis: { url, commandTimeoutMs: 2000, connectTimeoutMs: 1000 }, prefix, ...extra });
}

/** The backend of the conformance run: `url` is read when a registry opens (the server starts in beforeAll). */
export function replicaBackend(url: () => string): RegistryBackend {
  return {
    async open(opts, space) {
      const replica = await openReplica(url(), opts, prefixFor(space));
      return { registry: writesThrough(replica), settled: () => replica.idle(), close: () => replica.close() };
    },
    drop: (space) => dropKeys(url(), prefixFor(space)),
  };
}

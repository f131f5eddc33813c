/**
 * How a change of shared state runs. On one node it simply runs; on a cluster node it is one
 * write of the registry's log in Redis (cluster/registry-replica.ts), which every node applies,
 * and it may fail (Redis away) without having changed anything anywhere.
 */
export type SharedWrite = <T>(fn: () => T | Promise<T>) => Promise<T>;

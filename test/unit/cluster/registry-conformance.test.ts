/**
 * The registry's own unit tests, unchanged, against registries whose every write goes through a
 * cluster replica on a real redis-server: recorded, logged in Redis, rolled back and applied from
 * the log. Passing them shows a node in a cluster behaves as a single node does, errors and
 * effects (change events, code removal, settling after an activation delay) included.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';
import { useRegistryBackend } from '../registry/helpers.js';
import { replicaBackend } from './replica-harness.js';

let redis: RedisHandle | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

useRegistryBackend(
  replicaBackend(() => {
    if (!redis) throw new Error('redis-server has not started');
    return redis.url;
  }),
);

// Each file's hooks stay inside its describe.
describe('registry/functions.test.ts on a replica', async () => {
  await import('../registry/functions.test.js');
});
describe('registry/versions-aliases.test.ts on a replica', async () => {
  await import('../registry/versions-aliases.test.js');
});
describe('registry/layers.test.ts on a replica', async () => {
  await import('../registry/layers.test.js');
});
describe('registry/function-urls.test.ts on a replica', async () => {
  await import('../registry/function-urls.test.js');
});

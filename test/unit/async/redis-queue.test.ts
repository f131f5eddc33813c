import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';
import { queueConformance } from './queue-conformance.js';
import { redisQueueHarness } from './redis-queue-harness.js';

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

queueConformance('Redis', () => redisQueueHarness(redis), { durable: true });

/**
 * Redis event queues for tests: each harness gets a key prefix of its own on the file's one
 * redis-server, so tests in a file never see each other's events, and its cleanup removes
 * exactly the keys under that prefix (which also shows the queue writes nothing outside it).
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { RedisEventQueue, type RedisEventQueueOptions } from '../../../src/async/redis-queue.js';
import type { RedisHandle } from '../../helpers/redis.js';
import type { QueueHarness } from './queue-conformance.js';

export function freshPrefix(): string {
  return `test-${randomBytes(4).toString('hex')}:`;
}

/** Removes every key under the prefix. */
export async function dropKeys(url: string, prefix: string): Promise<void> {
  const admin = createClient({ url });
  admin.on('error', () => {});
  await admin.connect();
  try {
    for await (const keys of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length > 0) await admin.unlink(keys);
  } finally {
    admin.destroy();
  }
}

/** A harness for the conformance suite: `reopen` closes the client and connects a new queue on the same Redis and prefix. */
export async function redisQueueHarness(redis: RedisHandle, opts: Partial<RedisEventQueueOptions> = {}): Promise<QueueHarness> {
  const prefix = opts.prefix ?? freshPrefix();
  const connect = () => RedisEventQueue.connect({ ...opts, url: redis.url, prefix });
  let open = await connect();
  return {
    queue: open,
    reopen: async () => {
      await open.close();
      open = await connect();
      return open;
    },
    cleanup: async () => {
      await open.close();
      await dropKeys(redis.url, prefix);
    },
  };
}

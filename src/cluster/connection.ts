/**
 * The Redis connection of a node in cluster mode. At start the node either reaches Redis within
 * a short bound or refuses to start: a node that served without the shared ledger, registry and
 * queue would be a second account, not a member of the cluster. Once started, a lost connection
 * is retried with backoff for as long as the node runs, and `reachable` says where it stands.
 */
import { createClient } from 'redis';
import type { Clock } from '../core/clock.js';
import { redactedRedisUrl } from '../config/redis-url.js';

/** The client as this module configures it (node-redis's generic parameters resolved once). */
export type RedisClient = ReturnType<typeof buildClient>;

/** How long a starting node waits for Redis before it gives up. */
export const START_TIMEOUT_MS = 3000;

/** Redis was not reachable when the node started; the message names the URL and the key. */
export class RedisUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnreachableError';
  }
}

export interface ClusterConnection {
  readonly client: RedisClient;
  /** The URL with its credentials masked. */
  readonly url: string;
  /** Whether the connection is up and ready for commands right now. */
  readonly reachable: boolean;
  /** Calls `fn` each time Redis becomes reachable or unreachable; returns the unsubscribe. */
  onReachability(fn: (reachable: boolean, cause?: Error) => void): () => void;
  /** Ends the connection: waits for commands already sent when Redis is up, drops them when not. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  url: string;
  /** Times the start bound; the node's Clock. */
  clock: Clock;
  startTimeoutMs?: number;
  /** A draw in [0, 1) for the reconnect jitter. */
  random?: () => number;
}

/**
 * Delay before the n-th reconnect attempt (0-based): doubling from 100 ms to a 1 s ceiling (a
 * Redis restart costs about a second, as for the ledger's and the queue's connections), plus
 * up to 200 ms of jitter so the nodes of a cluster do not all knock at once when Redis comes back.
 */
export function reconnectDelayMs(retries: number, jitter: number): number {
  return Math.min(100 * 2 ** Math.min(retries, 16), 1000) + Math.floor(jitter * 200);
}

/** Connects to Redis or throws RedisUnreachableError once `startTimeoutMs` has passed. */
export async function openClusterConnection(options: ConnectOptions): Promise<ClusterConnection> {
  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const random = options.random ?? Math.random;
  const url = redactedRedisUrl(options.url);
  const client = buildClient(options.url, startTimeoutMs, random);

  const listeners = new Set<(reachable: boolean, cause?: Error) => void>();
  let reachable = false;
  let lastError: Error | undefined;
  const set = (now: boolean, cause?: Error) => {
    if (now === reachable) return;
    reachable = now;
    for (const fn of listeners) fn(now, cause);
  };
  // Without an 'error' listener node-redis's errors would be thrown as unhandled events.
  client.on('error', (err: Error) => {
    lastError = err;
    if (!client.isReady) set(false, err);
  });
  client.on('ready', () => set(true));
  client.on('reconnecting', () => set(false, lastError));
  client.on('end', () => set(false));

  const connecting = client.connect();
  const outcome = await new Promise<'ready' | 'timeout' | Error>((resolve) => {
    const bound = options.clock.setTimeout(() => resolve('timeout'), startTimeoutMs);
    connecting.then(
      () => {
        bound.cancel();
        resolve('ready');
      },
      (err: unknown) => {
        bound.cancel();
        resolve(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
  if (outcome !== 'ready') {
    client.destroy();
    // An attempt still under way when the bound passed may complete later: it is closed then.
    connecting.then(() => client.destroy(), () => undefined);
    const cause = lastError ?? (outcome === 'timeout' ? new Error('no answer') : outcome);
    throw new RedisUnreachableError(
      `Cannot reach Redis at ${url} (config redisUrl) within ${startTimeoutMs / 1000} s: ${describe(cause)}. ` +
        'A node with redisUrl runs in cluster mode and does not start without Redis: start Redis there, or correct or unset redisUrl.',
      { cause },
    );
  }

  return {
    client,
    url,
    get reachable() {
      return reachable;
    },
    onReachability(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async close() {
      listeners.clear();
      if (client.isReady) await client.close();
      else client.destroy();
    },
  };
}

function buildClient(url: string, connectTimeoutMs: number, random: () => number) {
  return createClient({
    url,
    // A command sent while Redis is away fails at once instead of waiting in memory: callers
    // (the heartbeat, /health, grants) report the failure rather than act on a stale answer later.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      // Always retry (node-redis's default stops on a socket timeout): a node outlives Redis restarts.
      reconnectStrategy: (retries: number) => reconnectDelayMs(retries, random()),
    },
  });
}

/** An error's own words; a refused dual-stack connect is an AggregateError with an empty message. */
function describe(err: Error): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return [...new Set(err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))))].join('; ');
  }
  return err.message || err.name;
}

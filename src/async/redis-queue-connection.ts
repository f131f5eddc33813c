/**
 * The Redis event queue's connection: one node-redis client, the queue's scripts run on it, and
 * every way of not reaching Redis turned into one error. Kept apart from the queue's operations
 * so those read as what they do to the queue.
 *
 * When Redis cannot be reached (down, restarting, not answering in time, refusing writes), a call
 * rejects with `QueueUnavailableError`: nothing waits in memory to be sent later and nothing
 * succeeds silently. The client reconnects in the background; `whenAvailable()` resolves once it
 * has. A call that rejected may still have been applied (its reply was lost), which at-least-once
 * delivery already allows for.
 */
import { createHash } from 'node:crypto';
import { createClient, ErrorReply, RESP_TYPES, type RedisArgument } from 'redis';
import { ClusterUnavailableError } from '../core/cluster-unavailable.js';
import { isReply, MalformedQueueReplyError, type Reply } from './redis-queue-codec.js';

export interface RedisConnectionOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  url: string;
  /**
   * How long a call waits for Redis before rejecting with `QueueUnavailableError`: a Redis that
   * stalls must turn into an error, not a 202 that never comes.
   * @defaultValue 10000
   */
  commandTimeoutMs?: number;
  /** @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** Told of each connection error (a drop, a failed reconnect), for logs; the client keeps reconnecting. */
  onConnectionError?: (err: Error) => void;
}

/**
 * Redis cannot be reached, or does not answer in time, or refuses the write. Nothing was
 * acknowledged: an enqueue that rejects with it must not be answered with a 202 (a 5xx instead,
 * so the caller retries); a lease, extend or finishing write can be tried again once
 * `whenAvailable()` resolves.
 *
 * It is the cluster's `ClusterUnavailableError`, so an Event invoke that meets it is answered as
 * a synchronous invoke that cannot reach the ledger is: Lambda's 500 `ServiceException`, saying
 * that Redis is unreachable, rather than an internal error.
 */
export class QueueUnavailableError extends ClusterUnavailableError {
  constructor(
    readonly target: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`reach the event queue at ${target}`, detail);
    // The error underneath, when there is one; the message quotes `detail`.
    this.cause = options?.cause;
  }
}

/** Replies Redis gives while it cannot serve the queue for now (loading, a replica, out of memory, a failing disk). */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|OOM|MISCONF|NOREPLICAS|TRYAGAIN|CLUSTERDOWN)\b/;

/** Bulk strings as Buffers: payloads and response bytes must come back byte for byte. */
const BINARY = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

export interface Script {
  source: string;
  sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** The URL without its password, for messages and logs. */
function displayTarget(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

/** Reconnect back-off once connected before: quick enough that a Redis restart costs about a second. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100);
}

function makeClient(opts: RedisConnectionOptions, reconnect: (retries: number) => number | false) {
  return createClient({
    url: opts.url,
    // Commands while disconnected reject at once rather than wait in memory for a reconnect.
    disableOfflineQueue: true,
    socket: { connectTimeout: opts.connectTimeoutMs ?? 5000, reconnectStrategy: reconnect },
  });
}
type Client = ReturnType<typeof makeClient>;

export class RedisQueueConnection {
  /** Where Redis is, without credentials. */
  readonly target: string;
  private readonly client: Client;
  private readonly timeoutMs: number;
  private everReady = false;
  private closed = false;
  private readonly waiters = new Set<{ resolve: () => void; reject: (err: Error) => void }>();

  /** Connects; rejects with `QueueUnavailableError` when Redis cannot be reached, so a node does not start on it. */
  static async open(opts: RedisConnectionOptions): Promise<RedisQueueConnection> {
    const c = new RedisQueueConnection(opts);
    try {
      await c.client.connect();
    } catch (err) {
      c.closed = true;
      throw new QueueUnavailableError(c.target, `cannot connect (${(err as Error).message})`, { cause: err });
    }
    return c;
  }

  private constructor(opts: RedisConnectionOptions) {
    this.target = displayTarget(opts.url);
    this.timeoutMs = opts.commandTimeoutMs ?? 10_000;
    // The first connection fails fast (a node must not start on an unreachable Redis); after
    // that, the client keeps trying for as long as the connection is open.
    this.client = makeClient(opts, (retries) => (this.everReady && !this.closed ? reconnectDelay(retries) : false));
    // Without a listener an 'error' event would end the process.
    this.client.on('error', (err: Error) => opts.onConnectionError?.(err));
    this.client.on('ready', () => {
      this.everReady = true;
      for (const w of this.waiters) w.resolve();
      this.waiters.clear();
    });
  }

  get available(): boolean {
    return !this.closed && this.client.isReady;
  }

  whenAvailable(): Promise<void> {
    if (this.closed) return Promise.reject(new QueueUnavailableError(this.target, 'the queue is closed'));
    if (this.client.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  /**
   * Runs a script with `key` as its one declared key (where Redis Cluster routes it). Redis
   * forgets scripts when it restarts, so an unknown SHA is answered by sending the source once.
   */
  run(s: Script, key: string, args: readonly RedisArgument[]): Promise<Reply> {
    return this.call(async () => {
      let reply: unknown;
      try {
        reply = await this.client.sendCommand(['EVALSHA', s.sha, '1', key, ...args], BINARY);
      } catch (err) {
        if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT'))) throw err;
        reply = await this.client.sendCommand(['EVAL', s.source, '1', key, ...args], BINARY);
      }
      if (!isReply(reply)) throw new MalformedQueueReplyError('a reply of an unexpected type');
      return reply;
    });
  }

  /** Bounds the wait and turns every way of not reaching Redis into `QueueUnavailableError`. */
  private async call<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) throw new QueueUnavailableError(this.target, 'the queue is closed');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueueUnavailableError(this.target, `no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([op(), deadline]);
    } catch (err) {
      throw this.classify(err);
    } finally {
      clearTimeout(timer);
    }
  }

  private classify(err: unknown): unknown {
    if (err instanceof QueueUnavailableError || err instanceof MalformedQueueReplyError) return err;
    // Any other error reply is a fault in a script, not an outage: it surfaces as it is.
    if (err instanceof ErrorReply && !UNAVAILABLE_REPLY.test(err.message)) return err;
    const detail = err instanceof Error ? err.message || err.name : String(err);
    return new QueueUnavailableError(this.target, detail, { cause: err });
  }

  /** Ends the connection; later calls reject. Replies already on their way are awaited while Redis is up. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) w.reject(new QueueUnavailableError(this.target, 'the queue is closed'));
    this.waiters.clear();
    if (!this.client.isOpen) return;
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }
}

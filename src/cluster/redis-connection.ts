import { createHash } from 'node:crypto';
import { createClient, ErrorReply } from 'redis';
import { ClusterUnavailableError } from '../core/cluster-unavailable.js';
import { wallClock } from '../core/clock.js';

/**
 * One connection to the Redis that coordinates a cluster, shared by the cluster's ports. It adds
 * three things to node-redis that the ports rely on:
 * - a command never waits for Redis to come back: the offline queue is off and every command has
 *   a timeout, so an admission fails fast with `ClusterUnavailableError` instead of hanging, or
 *   of being granted long after its caller gave up;
 * - the first connection is bounded (a node refuses to start without Redis), later ones retry
 *   forever with a capped backoff (a node survives a Redis restart);
 * - Lua scripts run by SHA and are loaded again after a restart flushed the script cache.
 */

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  url: string;
  /**
   * Longest wait for one command's answer before Redis counts as unreachable.
   * @defaultValue 2000
   */
  commandTimeoutMs?: number;
  /**
   * Attempts at the first connection before `open` gives up.
   * @defaultValue 3
   */
  connectAttempts?: number;
  /**
   * Longest pause between reconnection attempts after a connection was lost.
   * @defaultValue 1000
   */
  reconnectMaxDelayMs?: number;
  /** Told of connection errors (each failed reconnection attempt too): for logs. */
  onError?: (err: Error) => void;
}

/** A Lua script and its SHA-1, computed once. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function luaScript(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Redis answers these while it cannot serve (starting, failing over, a script too long): not bugs. */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|OOM)\b/;

/** What this module uses of a node-redis client (its full generic type varies with the options). */
interface Client {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  on(event: 'ready', listener: () => void): unknown;
  sendCommand(args: readonly string[], options: { timeout: number }): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

export class RedisConnection {
  private readonly waiters: (() => void)[] = [];

  private constructor(
    private readonly client: Client,
    private readonly timeoutMs: number,
  ) {
    client.on('ready', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects, or rejects with `ClusterUnavailableError` when Redis cannot be reached. */
  static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
    const attempts = options.connectAttempts ?? 3;
    const maxDelay = options.reconnectMaxDelayMs ?? 1000;
    let connected = false;
    const client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.commandTimeoutMs ?? 2000,
        // Bounded before the first success (start-up fails clearly), unbounded after it.
        reconnectStrategy: (retries: number, cause: Error) => {
          if (!connected && retries + 1 >= attempts) return cause;
          return Math.min(maxDelay, 50 * 2 ** retries);
        },
      },
    });
    // Without a listener node-redis throws connection errors at the process.
    client.on('error', (err: Error) => options.onError?.(err));
    try {
      await client.connect();
    } catch (err) {
      client.destroy();
      throw new ClusterUnavailableError('connect to Redis at start', err);
    }
    connected = true;
    return new RedisConnection(client, options.commandTimeoutMs ?? 2000);
  }

  /** Connected and able to take commands now. */
  get ready(): boolean {
    return this.client.isReady;
  }

  /** Resolves once the connection is ready (at once if it is): after Redis came back, say. */
  whenReady(): Promise<void> {
    if (this.client.isReady) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Runs a script by SHA (sending its source when Redis lost its script cache, after a restart).
   * `action` completes "Laminar could not …" in the error. The reply is left for the caller to
   * check: it knows what its script returns.
   */
  async script(script: LuaScript, keys: readonly string[], args: readonly (string | number)[], action: string): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await this.send(['EVALSHA', script.sha, ...tail]);
    } catch (err) {
      if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT'))) throw this.translate(err, action);
    }
    try {
      return await this.send(['EVAL', script.source, ...tail]);
    } catch (err) {
      throw this.translate(err, action);
    }
  }

  /** Runs one plain command. */
  async command(args: readonly string[], action: string): Promise<unknown> {
    try {
      return await this.send(args);
    } catch (err) {
      throw this.translate(err, action);
    }
  }

  async close(): Promise<void> {
    for (const w of this.waiters.splice(0)) w();
    if (this.client.isOpen) await this.client.close().catch(() => this.client.destroy());
    else this.client.destroy();
  }

  /**
   * node-redis's own `timeout` covers only the wait to be written; once a command is on the wire
   * it waits for the answer as long as the socket lives, which against a hung Redis is for ever.
   * This bounds the whole round trip. A command that times out may still run later: the ledger
   * is built for that (an admission nobody saw becomes a lease nobody renews, and expires).
   */
  private send(args: readonly string[]): Promise<unknown> {
    const reply = this.client.sendCommand(args, { timeout: this.timeoutMs });
    return new Promise((resolve, reject) => {
      const timer = wallClock.setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      reply.then(
        (value) => {
          timer.cancel();
          resolve(value);
        },
        (err: unknown) => {
          timer.cancel();
          reject(err);
        },
      );
    });
  }

  /**
   * Anything but an error reply is the connection failing (offline, closed, timed out), as are
   * the replies of a Redis that cannot serve yet. Other error replies are faults in a script or a
   * command and keep their own message.
   */
  private translate(err: unknown, action: string): Error {
    if (err instanceof ErrorReply && !UNAVAILABLE_REPLY.test(err.message)) return err;
    return new ClusterUnavailableError(action, err);
  }
}

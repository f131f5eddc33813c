/**
 * One node-redis client as the cluster's Redis-backed parts use it: Lua scripts by SHA, plain
 * commands, bulk strings as Buffers, and every way of not reaching Redis turned into the one
 * error its user chooses (the event queue's, the registry's). Nothing waits in memory for a
 * reconnect: a call while Redis is away rejects at once, a call Redis does not answer rejects
 * after `commandTimeoutMs`. The first connection fails fast, so a node does not start without
 * Redis; after that the client reconnects in the background for as long as it is open.
 */
import { createHash } from 'node:crypto';
import { createClient, ErrorReply, RESP_TYPES, type RedisArgument } from 'redis';
import { redactedRedisUrl } from '../config/redis-url.js';

export interface RedisConnectionOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  url: string;
  /**
   * How long a call waits for Redis before rejecting as unavailable: a Redis that stalls must
   * turn into an error, not an answer that never comes.
   * @defaultValue 10000
   */
  commandTimeoutMs?: number;
  /** @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** Told of each connection error (a drop, a failed reconnect), for logs; the client keeps reconnecting. */
  onConnectionError?: (err: Error) => void;
}

/** How a user of the link names its failures. */
export interface RedisLinkErrors {
  /** Redis cannot be reached, does not answer in time, or refuses the command for now. */
  unavailable(target: string, detail: string, cause?: unknown): Error;
  /** A reply of a type no command or script of the user returns. */
  malformed(what: string): Error;
  /** The detail of a call made after `close()`, e.g. 'the queue is closed'. */
  closed: string;
}

/** What a reply can hold once bulk strings map to Buffers. */
export type Reply = null | number | Buffer | Reply[];

export function isReply(x: unknown): x is Reply {
  return x === null || typeof x === 'number' || Buffer.isBuffer(x) || (Array.isArray(x) && x.every(isReply));
}

export interface Script {
  source: string;
  sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Replies Redis gives while it cannot serve for now (loading, a replica, out of memory, a failing disk). */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|OOM|MISCONF|NOREPLICAS|TRYAGAIN|CLUSTERDOWN)\b/;

/** Strings as Buffers: payloads must come back byte for byte (status replies such as OK too, for one type). */
const BINARY = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer } } as const;

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

export class RedisLink {
  /** Where Redis is, without credentials. */
  readonly target: string;
  private readonly client: Client;
  private readonly subscribers = new Set<Client>();
  private readonly timeoutMs: number;
  /** Errors this link made: they pass through `classify` unchanged. */
  private readonly own = new WeakSet<object>();
  private everReady = false;
  private closed = false;
  private readonly waiters = new Set<{ resolve: () => void; reject: (err: Error) => void }>();

  /** Connects; rejects with the user's unavailable error when Redis cannot be reached. */
  static async open(opts: RedisConnectionOptions, errors: RedisLinkErrors): Promise<RedisLink> {
    const link = new RedisLink(opts, errors);
    try {
      await link.client.connect();
    } catch (err) {
      link.closed = true;
      throw errors.unavailable(link.target, `cannot connect (${(err as Error).message})`, err);
    }
    return link;
  }

  private constructor(
    private readonly opts: RedisConnectionOptions,
    private readonly errors: RedisLinkErrors,
  ) {
    this.target = redactedRedisUrl(opts.url);
    this.timeoutMs = opts.commandTimeoutMs ?? 10_000;
    this.client = this.newClient(() => {
      this.everReady = true;
      for (const w of this.waiters) w.resolve();
      this.waiters.clear();
    });
  }

  /** A client that, once connected, keeps reconnecting until the link closes. */
  private newClient(onReady: () => void): Client {
    const client = makeClient(this.opts, (retries) => (this.everReady && !this.closed ? reconnectDelay(retries) : false));
    // Without a listener an 'error' event would end the process.
    client.on('error', (err: Error) => this.opts.onConnectionError?.(err));
    client.on('ready', onReady);
    return client;
  }

  get available(): boolean {
    return !this.closed && this.client.isReady;
  }

  whenAvailable(): Promise<void> {
    if (this.closed) return Promise.reject(this.fail(this.errors.closed));
    if (this.client.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  /**
   * Runs a script with its declared keys (where Redis Cluster routes it). Redis forgets scripts
   * when it restarts, so an unknown SHA is answered by sending the source once.
   */
  run(s: Script, keys: readonly string[], args: readonly RedisArgument[]): Promise<Reply> {
    return this.call(async () => {
      const tail = [String(keys.length), ...keys, ...args];
      let reply: unknown;
      try {
        reply = await this.client.sendCommand(['EVALSHA', s.sha, ...tail], BINARY);
      } catch (err) {
        if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT'))) throw err;
        reply = await this.client.sendCommand(['EVAL', s.source, ...tail], BINARY);
      }
      return this.checked(reply);
    });
  }

  /** Runs one plain command, e.g. `['GET', key]`. */
  command(args: readonly RedisArgument[]): Promise<Reply> {
    return this.call(async () => this.checked(await this.client.sendCommand([...args], BINARY)));
  }

  /**
   * Listens on a channel on a connection of its own (a subscribed connection takes no other
   * commands). `onReady` runs each time that connection is (re)established: messages published
   * while it was down are lost, so the user re-reads what it may have missed.
   */
  async subscribe(channel: string, onMessage: (message: string) => void, onReady: () => void): Promise<void> {
    const sub = this.newClient(onReady);
    this.subscribers.add(sub);
    try {
      await sub.connect();
      await sub.subscribe(channel, (message: string) => onMessage(message));
    } catch (err) {
      this.subscribers.delete(sub);
      sub.destroy();
      throw this.classify(err);
    }
  }

  private checked(reply: unknown): Reply {
    if (!isReply(reply)) throw this.mark(this.errors.malformed('a reply of an unexpected type'));
    return reply;
  }

  private fail(detail: string, cause?: unknown): Error {
    return this.mark(this.errors.unavailable(this.target, detail, cause));
  }

  private mark(err: Error): Error {
    this.own.add(err);
    return err;
  }

  /** Bounds the wait and turns every way of not reaching Redis into the unavailable error. */
  private async call<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) throw this.fail(this.errors.closed);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.fail(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
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
    if (typeof err === 'object' && err !== null && this.own.has(err)) return err;
    // Any other error reply is a fault in a script, not an outage: it surfaces as it is.
    if (err instanceof ErrorReply && !UNAVAILABLE_REPLY.test(err.message)) return err;
    const detail = err instanceof Error ? err.message || err.name : String(err);
    return this.fail(detail, err);
  }

  /** Ends the connections; later calls reject. Replies already on their way are awaited while Redis is up. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters) w.reject(this.fail(this.errors.closed));
    this.waiters.clear();
    for (const client of [...this.subscribers, this.client]) {
      if (!client.isOpen) continue;
      if (client.isReady) await client.close();
      else client.destroy();
    }
    this.subscribers.clear();
  }
}

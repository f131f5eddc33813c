/**
 * The Redis event queue's connection: the cluster's Redis link (src/cluster/redis-link.ts) with
 * the queue's words for its failures. Kept apart from the queue's operations so those read as
 * what they do to the queue.
 *
 * When Redis cannot be reached (down, restarting, not answering in time, refusing writes), a call
 * rejects with `QueueUnavailableError`: nothing waits in memory to be sent later and nothing
 * succeeds silently. The client reconnects in the background; `whenAvailable()` resolves once it
 * has. A call that rejected may still have been applied (its reply was lost), which at-least-once
 * delivery already allows for.
 */
import type { RedisArgument } from 'redis';
import { RedisLink, type RedisConnectionOptions, type RedisLinkErrors, type Script } from '../cluster/redis-link.js';
import { ClusterUnavailableError } from '../core/cluster-unavailable.js';
import { MalformedQueueReplyError, type Reply } from './redis-queue-codec.js';

export { script, type RedisConnectionOptions, type Script } from '../cluster/redis-link.js';

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

const QUEUE_ERRORS: RedisLinkErrors = {
  unavailable: (target, detail, cause) => new QueueUnavailableError(target, detail, cause === undefined ? undefined : { cause }),
  malformed: (what) => new MalformedQueueReplyError(what),
  closed: 'the queue is closed',
};

export class RedisQueueConnection {
  /** Connects; rejects with `QueueUnavailableError` when Redis cannot be reached, so a node does not start on it. */
  static async open(opts: RedisConnectionOptions): Promise<RedisQueueConnection> {
    return new RedisQueueConnection(await RedisLink.open(opts, QUEUE_ERRORS));
  }

  private constructor(private readonly link: RedisLink) {}

  /** Where Redis is, without credentials. */
  get target(): string {
    return this.link.target;
  }

  get available(): boolean {
    return this.link.available;
  }

  whenAvailable(): Promise<void> {
    return this.link.whenAvailable();
  }

  /** Runs a script with `key` as its one declared key (where Redis Cluster routes it). */
  run(s: Script, key: string, args: readonly RedisArgument[]): Promise<Reply> {
    return this.link.run(s, [key], args);
  }

  /** Ends the connection; later calls reject. Replies already on their way are awaited while Redis is up. */
  close(): Promise<void> {
    return this.link.close();
  }
}

/**
 * This node as a member of a cluster: its id, its Redis connection, its membership, and what
 * /health says about the cluster. In embedded mode none of this exists and /health says so.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock.js';
import { RedisUnreachableError, type ClusterConnection } from './connection.js';
import { Membership, type LiveNode } from './membership.js';

/** How long /health waits for Redis's list of nodes before it reports the last one it read. */
export const HEALTH_READ_TIMEOUT_MS = 2000;

export type ClusterHealth =
  | { mode: 'embedded' }
  | {
      mode: 'redis';
      redis: 'reachable' | 'unreachable';
      /** This node's id (once it listens). */
      node: string | undefined;
      /** Live nodes, this one included; the last list read while Redis is unreachable. */
      nodes: Pick<LiveNode, 'id' | 'address' | 'lastSeen' | 'version' | 'startedAt'>[];
      leaseSeconds: number;
    };

export const EMBEDDED_HEALTH: ClusterHealth = Object.freeze({ mode: 'embedded' });

/**
 * The default node id: the machine's hostname and the port the API listens on. It stays the same
 * across restarts (a restarted node keeps its metric series and its line in dashboards) and
 * differs between nodes on one machine, which need different ports anyway.
 */
export function defaultNodeId(hostname: string, port: number): string {
  return `${hostname}:${port}`;
}

/** host:port other nodes and operators can use; a wildcard bind is named by the hostname. */
export function advertisedAddress(host: string, port: number, hostname: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return `${hostname}:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Laminar's version, from its package.json (beside src/ and dist/ alike). */
export function laminarVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export interface ClusterLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ClusterNodeOptions {
  connection: ClusterConnection;
  clock: Clock;
  leaseSeconds: number;
  /** The configured nodeId; undefined for the default. */
  nodeId: string | undefined;
  hostname: string;
  version: string;
  log: ClusterLog;
}

export class ClusterNode {
  /** This start of the node; a restart keeps the id and changes the instance. */
  readonly instance = randomUUID();
  readonly membership: Membership;
  private readonly startedAt: string;
  private joinedAs: string | undefined;
  private lastView: LiveNode[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly o: ClusterNodeOptions) {
    this.startedAt = new Date(o.clock.now()).toISOString();
    const { log } = o;
    this.membership = new Membership({
      client: o.connection.client,
      clock: o.clock,
      leaseMs: o.leaseSeconds * 1000,
      onHeartbeatFailed: (err) => log.error(`cluster: heartbeat to Redis at ${o.connection.url} failed (${err.message}); retrying every beat`),
      onHeartbeatRestored: () => log.info('cluster: heartbeats reach Redis again'),
      onConflict: (other) =>
        log.warn(
          `cluster: node id ${this.id ?? '?'} was also written by instance ${other.instance}` +
            (other.lastSeenMs !== undefined ? ` (heartbeat at ${new Date(other.lastSeenMs).toISOString()})` : '') +
            '; if another node runs with this id, give each node its own nodeId',
        ),
    });
    this.unsubscribe = o.connection.onReachability((reachable, cause) => {
      if (reachable) log.info(`cluster: Redis at ${o.connection.url} is reachable`);
      else log.error(`cluster: Redis at ${o.connection.url} is unreachable${cause ? ` (${cause.message || cause.name})` : ''}; reconnecting`);
    });
  }

  /** The Redis URL, credentials masked. */
  get url(): string {
    return this.o.connection.url;
  }

  /** The node id, known once the node listens (the default id names the port). */
  get id(): string | undefined {
    return this.joinedAs;
  }

  /** Resolves the id from the address the API listens on and registers the node. */
  async join(listening: { host: string; port: number }): Promise<string> {
    const id = this.o.nodeId ?? defaultNodeId(this.o.hostname, listening.port);
    try {
      await this.membership.join({
        id,
        instance: this.instance,
        address: advertisedAddress(listening.host, listening.port, this.o.hostname),
        version: this.o.version,
        startedAt: this.startedAt,
      });
    } catch (err) {
      throw new RedisUnreachableError(`Cannot register node ${id} in Redis at ${this.o.connection.url} (config redisUrl): ${(err as Error).message}`, { cause: err });
    }
    this.joinedAs = id;
    return id;
  }

  /** The node's view of the cluster for /health. */
  async health(): Promise<ClusterHealth> {
    let reachable = this.o.connection.reachable;
    if (reachable) {
      const abort = new AbortController();
      const bound = this.o.clock.setTimeout(() => abort.abort(), HEALTH_READ_TIMEOUT_MS);
      try {
        this.lastView = await this.membership.nodes(abort.signal);
      } catch {
        reachable = false;
      } finally {
        bound.cancel();
      }
    }
    return {
      mode: 'redis',
      redis: reachable ? 'reachable' : 'unreachable',
      node: this.joinedAs,
      nodes: this.lastView.map((n) => ({ id: n.id, address: n.address, lastSeen: n.lastSeen, version: n.version, startedAt: n.startedAt })),
      leaseSeconds: this.o.leaseSeconds,
    };
  }

  /** Leaves the cluster (when Redis can be told) and closes the connection; never throws for Redis being away. */
  async close(): Promise<void> {
    // Unreachable, the entry stays and the others drop it once the lease passes.
    await this.membership.leave().catch((err: Error) => this.o.log.warn(`cluster: could not remove node ${this.joinedAs ?? '?'} from Redis (${err.message})`));
    this.unsubscribe();
    await this.o.connection.close();
  }
}

/**
 * Which nodes form the cluster. Each node registers itself and renews a heartbeat every third of
 * the lease; a node whose heartbeat is older than the lease is not live. In Redis:
 *   laminar:nodes        sorted set: node id → time of its last heartbeat (ms)
 *   laminar:node:<id>    hash: id, instance, address, version, startedAt
 * Heartbeat times are Redis's own (TIME inside the script), and so is the `now` they are judged
 * against: nodes whose clocks disagree still agree on who is live. Entries long dead are removed
 * by the heartbeats of the others; a node that shuts down cleanly removes its own at once.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { RedisClient } from './connection.js';
import { heartbeatIntervalMs, liveNodes, retentionMs, type Heartbeat } from './liveness.js';

/** What a node says about itself. */
export interface NodeInfo {
  id: string;
  /** One start of the node: a restarted node keeps its id and gets a new instance. */
  instance: string;
  /** host:port its API listens on. */
  address: string;
  version: string;
  /** ISO time of its start. */
  startedAt: string;
}

/** A live node as another node sees it. */
export interface LiveNode {
  id: string;
  address: string;
  version: string;
  startedAt: string;
  /** ISO time of its last heartbeat, on Redis's clock. */
  lastSeen: string;
}

export interface MembershipOptions {
  client: RedisClient;
  clock: Clock;
  leaseMs: number;
  /** A heartbeat failed (Redis away); called once per run of failures. */
  onHeartbeatFailed?: (err: Error) => void;
  /** Heartbeats succeed again after a failure. */
  onHeartbeatRestored?: () => void;
  /** Another instance wrote this node's id: two nodes run with one nodeId, or an earlier start had not expired. */
  onConflict?: (other: { instance: string; lastSeenMs: number | undefined }) => void;
  /** Prefix of every key; `laminar:` by default. */
  keyPrefix?: string;
}

// KEYS: members, node hash. ARGV: id, instance, address, version, startedAt, retention ms.
// Returns the heartbeat time and what the hash held before (another instance, its last beat).
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local previous = redis.call('HGET', KEYS[2], 'instance')
local previousBeat = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'instance', ARGV[2], 'address', ARGV[3], 'version', ARGV[4], 'startedAt', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(now - tonumber(ARGV[6])))
return { tostring(now), previous or '', previousBeat or '' }
`;

// KEYS: members. Returns Redis's now, then id, heartbeat pairs.
const LIST = `
local t = redis.call('TIME')
local out = { tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) }
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #entries do out[#out + 1] = entries[i] end
return out
`;

// KEYS: members, node hash. ARGV: id, instance. Only the instance that wrote the entry removes it.
const LEAVE = `
if redis.call('HGET', KEYS[2], 'instance') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

export class Membership {
  private readonly membersKey: string;
  private readonly prefix: string;
  private me: NodeInfo | undefined;
  private timer: TimerHandle | undefined;
  private beating: Promise<void> = Promise.resolve();
  private failing = false;
  /** Other instances already reported, so two nodes fighting over one id log it once each. */
  private readonly conflicts = new Set<string>();
  private stopped = false;

  constructor(private readonly o: MembershipOptions) {
    this.prefix = o.keyPrefix ?? 'laminar:';
    this.membersKey = `${this.prefix}nodes`;
  }

  get leaseMs(): number {
    return this.o.leaseMs;
  }

  /** This node, once it joined. */
  get self(): NodeInfo | undefined {
    return this.me;
  }

  /** Registers this node (the first heartbeat must succeed) and keeps its heartbeat from now on. */
  async join(self: NodeInfo): Promise<void> {
    if (this.me) throw new Error(`node ${this.me.id} has already joined`);
    this.me = self;
    const previous = await this.heartbeat(self);
    // An entry of another instance that is still live: a second node with this id, or this
    // node's previous start within the lease (after a crash). Either way, worth saying.
    if (previous.instance && previous.instance !== self.instance && previous.lastSeenMs !== undefined && previous.now - previous.lastSeenMs <= this.o.leaseMs) {
      this.conflict(previous.instance, previous.lastSeenMs);
    }
    this.schedule();
  }

  /** The live nodes, sorted by id, as Redis sees them now. */
  async nodes(signal?: AbortSignal): Promise<LiveNode[]> {
    const client = signal ? this.o.client.withAbortSignal(signal) : this.o.client;
    const live = await this.live(client);
    const infos = await Promise.all(live.map((n) => client.hmGet(this.nodeKey(n.id), ['address', 'version', 'startedAt'])));
    return live.map((n, i) => {
      const [address, version, startedAt] = (infos[i] ?? []) as (string | null)[];
      return { id: n.id, address: address ?? '', version: version ?? '', startedAt: startedAt ?? '', lastSeen: new Date(n.lastSeenMs).toISOString() };
    });
  }

  /** The ids of the live nodes, sorted, as Redis sees them now: one script, no node details. */
  async liveIds(): Promise<string[]> {
    return (await this.live(this.o.client)).map((n) => n.id);
  }

  private async live(client: RedisClient): Promise<Heartbeat[]> {
    const reply = (await client.eval(LIST, { keys: [this.membersKey] })) as unknown as string[];
    const now = Number(reply[0]);
    const beats: Heartbeat[] = [];
    for (let i = 1; i + 1 < reply.length; i += 2) beats.push({ id: String(reply[i]), lastSeenMs: Number(reply[i + 1]) });
    return liveNodes(beats, now, this.o.leaseMs);
  }

  /** Stops the heartbeat and removes this node from the cluster (others see it gone at once). */
  async leave(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.beating;
    const me = this.me;
    if (!me) return;
    await this.o.client.eval(LEAVE, { keys: [this.membersKey, this.nodeKey(me.id)], arguments: [me.id, me.instance] });
  }

  private conflict(instance: string, lastSeenMs: number | undefined): void {
    if (this.conflicts.has(instance)) return;
    this.conflicts.add(instance);
    this.o.onConflict?.({ instance, lastSeenMs });
  }

  private nodeKey(id: string): string {
    return `${this.prefix}node:${id}`;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.beating = this.beat().finally(() => this.schedule());
    }, heartbeatIntervalMs(this.o.leaseMs));
  }

  private async beat(): Promise<void> {
    const me = this.me;
    if (!me || this.stopped) return;
    try {
      const previous = await this.heartbeat(me);
      if (this.failing) {
        this.failing = false;
        this.o.onHeartbeatRestored?.();
      }
      // Since the last beat, another instance wrote this id: two nodes run with one nodeId.
      if (previous.instance && previous.instance !== me.instance) this.conflict(previous.instance, previous.lastSeenMs);
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.o.onHeartbeatFailed?.(err as Error);
      }
    }
  }

  private async heartbeat(me: NodeInfo): Promise<{ now: number; instance: string | undefined; lastSeenMs: number | undefined }> {
    const reply = (await this.o.client.eval(HEARTBEAT, {
      keys: [this.membersKey, this.nodeKey(me.id)],
      arguments: [me.id, me.instance, me.address, me.version, me.startedAt, String(retentionMs(this.o.leaseMs))],
    })) as unknown as [string, string, string];
    return { now: Number(reply[0]), instance: reply[1] || undefined, lastSeenMs: reply[2] ? Number(reply[2]) : undefined };
  }
}

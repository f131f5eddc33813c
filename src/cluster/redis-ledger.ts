import { randomBytes } from 'node:crypto';
import type { AdmissionKind, AdmissionRequest } from '../scheduler/admission/admit.js';
import type { LedgerLimits } from '../scheduler/admission/ledger.js';
import type { Grant, LedgerPort, LedgerSnapshot, Refusal, ScalingToken } from '../scheduler/admission/port.js';
import { ThrottleReason } from '../scheduler/admission/reasons.js';
import * as lua from './ledger-scripts.js';
import { RedisConnection, type LuaScript, type RedisConnectionOptions } from './redis-connection.js';
import { asArray, asInteger, asString, flatMap, parseMember } from './replies.js';

/**
 * The concurrency ledger of a cluster, in Redis: every node admits against the same counts, so a
 * reservation of 6 is 6 across the cluster. Each admission is one Lua script (ledger-scripts.ts)
 * that evaluates the pure rules and commits in the same step.
 *
 * A grant is a lease: a member of one sorted set scored by its expiry and naming the node process
 * that holds it. The holder renews its leases with `heartbeat` (every few seconds, through
 * `startHeartbeat`); a node that dies stops renewing, every script drops expired leases before it
 * counts, and the dead node's capacity returns within `leaseMs`. An outage of Redis itself stops
 * every renewal at once: the scripts notice the silence and move every expiry on by it
 * (ledger-scripts.ts), so invocations still running keep their slots when Redis is back. A node
 * cut off from Redis alone (the others still renewing) loses its leases once they expire, and
 * its next heartbeat says which.
 *
 * Time is the caller's (`now` from the node's Clock): nodes must run synchronised clocks (NTP),
 * with skew well below `leaseMs`, or a fast clock expires other nodes' leases early.
 */

export interface RedisLedgerOptions {
  connection: RedisConnection;
  /** The same on every node of a cluster: they come from the shared configuration. */
  limits: LedgerLimits;
  /** This node's name (letters, digits, `.`, `_`, `:`, `-`), as in the metrics' `node` label. */
  nodeId: string;
  /**
   * How long a lease lives without a heartbeat: the longest a dead node's slots stay taken.
   * @defaultValue 15000
   */
  leaseMs?: number;
  /**
   * Prefix of every key, so several clusters (or tests) can share one Redis.
   * @defaultValue 'laminar:'
   */
  keyPrefix?: string;
  /** Told when a release could not reach Redis (its lease then expires by itself). */
  onReleaseError?: (err: unknown) => void;
}

export const DEFAULT_LEASE_MS = 15_000;

interface PendingAdmission {
  functionName: string;
  request: AdmissionRequest;
  member: string;
  resolve: (answer: Grant | Refusal) => void;
  reject: (err: unknown) => void;
}

export interface LeaseInfo {
  /** The node process holding it: `nodeId#incarnation`. */
  owner: string;
  functionName: string;
  kind: AdmissionKind;
  expiresAt: number;
}

export interface HeartbeatResult {
  renewed: number;
  /** Leases that had expired before this heartbeat could renew them; their slots were given back. */
  lost: { functionName: string; kind: AdmissionKind }[];
}

/** The acquire script's concurrency refusals, shared: a throttle should cost next to nothing. */
const REFUSALS: Readonly<Record<string, Refusal>> = {
  reserved: Object.freeze({ reason: ThrottleReason.Reserved }),
  account: Object.freeze({ reason: ThrottleReason.Account }),
};

export class RedisLedger implements LedgerPort {
  readonly limits: LedgerLimits;
  readonly nodeId: string;
  /**
   * The lease owner: the node id plus a random incarnation, so a node restarted under the same
   * name never renews (and so keeps alive) the leases of the process that died.
   */
  readonly owner: string;
  readonly leaseMs: number;
  private readonly keys: readonly string[];
  /** This node's unreleased grants by lease member: what the heartbeat renews. */
  private readonly held = new Map<string, RedisGrant>();
  private seq = 0;
  private ownsConnection = false;
  /** Admissions waiting for this turn's script call. */
  private readonly admissions: PendingAdmission[] = [];
  /** Releases waiting for this turn's script call. */
  private readonly releases: { grant: RedisGrant; done: () => void }[] = [];

  constructor(private readonly o: RedisLedgerOptions) {
    if (!/^[A-Za-z0-9._:-]{1,100}$/.test(o.nodeId)) throw new TypeError(`nodeId '${o.nodeId}' must be 1–100 letters, digits, '.', '_', ':' or '-'`);
    const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isSafeInteger(leaseMs) || leaseMs < 1000) throw new TypeError(`leaseMs = ${leaseMs}, must be an integer of at least 1000`);
    this.limits = o.limits;
    this.nodeId = o.nodeId;
    this.leaseMs = leaseMs;
    this.owner = `${o.nodeId}#${randomBytes(6).toString('hex')}`;
    // One hash tag, so every key of the ledger lives in one slot and the scripts stay valid on a Redis Cluster.
    const base = `${o.keyPrefix ?? 'laminar:'}{ledger}:`;
    this.keys = ['leases', 'inflight', 'pinflight', 'reserved', 'provisioned', 'buckets', 'nodes', 'clock'].map((k) => base + k);
  }

  /** A ledger on its own connection, which `close` closes. */
  static async open(connection: RedisConnectionOptions, options: Omit<RedisLedgerOptions, 'connection'>): Promise<RedisLedger> {
    const ledger = new RedisLedger({ ...options, connection: await RedisConnection.open(connection) });
    ledger.ownsConnection = true;
    return ledger;
  }

  /**
   * Admissions asked for in one turn of the event loop go to Redis together, in one script call
   * decided in order: under load, one round trip serves many invocations.
   */
  acquire(functionName: string, request: AdmissionRequest): Promise<Grant | Refusal> {
    const kind = request.kind === 'provisioned' ? 'p' : 'o';
    const member = `${kind}|${this.owner}|${++this.seq}|${functionName}`;
    return new Promise((resolve, reject) => {
      this.admissions.push({ functionName, request, member, resolve, reject });
      if (this.admissions.length === 1) setImmediate(() => void this.flushAdmissions());
    });
  }

  private async flushAdmissions(): Promise<void> {
    const batch = this.admissions.splice(0);
    if (batch.length === 0) return;
    const { regionalLimit, scalingRateEnvironments, scalingRateWindowMs } = this.limits;
    const args: (string | number)[] = [regionalLimit, scalingRateEnvironments, scalingRateWindowMs];
    for (const a of batch) {
      const kind = a.request.kind === 'provisioned' ? 'p' : 'o';
      args.push(a.functionName, kind, a.request.scalingToken ? '1' : '0', a.request.now, a.request.now + this.leaseMs, a.member);
    }
    let reply: unknown[];
    try {
      const what = batch.length === 1 ? `admit an invocation of ${batch[0]!.functionName}` : `admit ${batch.length} invocations`;
      reply = asArray(await this.run(lua.ACQUIRE, args, what));
    } catch (err) {
      for (const a of batch) a.reject(err);
      return;
    }
    batch.forEach((a, i) => {
      const outcome = asString(reply[2 * i]);
      if (outcome === 'granted') {
        const grant = new RedisGrant(a.functionName, a.request.kind, a.member, (g) => this.releaseLease(g));
        this.held.set(a.member, grant);
        return a.resolve(grant);
      }
      if (outcome === 'rate') return a.resolve({ reason: ThrottleReason.ScalingRate, retryAfterSeconds: asInteger(reply[2 * i + 1]) });
      const refusal = REFUSALS[outcome];
      if (refusal) a.resolve(refusal);
      else a.reject(new Error(`The ledger's acquire script answered '${outcome}'`));
    });
  }

  async takeScalingToken(functionName: string, now: number): Promise<ScalingToken> {
    const { scalingRateEnvironments, scalingRateWindowMs } = this.limits;
    const wait = asInteger(await this.run(lua.TAKE_TOKEN, [functionName, now, scalingRateEnvironments, scalingRateWindowMs], `take a scaling token for ${functionName}`));
    return wait === 0 ? { ok: true } : { ok: false, retryAfterSeconds: wait };
  }

  async setReservation(functionName: string, value: number): Promise<string | undefined> {
    const { regionalLimit, unreservedMinimum } = this.limits;
    const reply = await this.run(lua.SET_RESERVATION, [functionName, count(value), regionalLimit, unreservedMinimum], `reserve concurrency for ${functionName}`);
    return reply === null ? undefined : asString(reply);
  }

  async recordReservation(functionName: string, value: number): Promise<void> {
    await this.o.connection.command(['HSET', this.key(3), functionName, count(value)], `record the reservation of ${functionName}`);
  }

  async deleteReservation(functionName: string): Promise<void> {
    await this.o.connection.command(['HDEL', this.key(3), functionName], `delete the reservation of ${functionName}`);
  }

  async setProvisioned(functionName: string, total: number): Promise<string | undefined> {
    const { regionalLimit, unreservedMinimum } = this.limits;
    const reply = await this.run(lua.SET_PROVISIONED, [functionName, count(total), regionalLimit, unreservedMinimum], `claim provisioned concurrency for ${functionName}`);
    return reply === null ? undefined : asString(reply);
  }

  async recordProvisioned(functionName: string, total: number): Promise<void> {
    const args = total > 0 ? ['HSET', this.key(4), functionName, count(total)] : ['HDEL', this.key(4), functionName];
    await this.o.connection.command(args, `record the provisioned concurrency of ${functionName}`);
  }

  async forget(functionName: string): Promise<void> {
    await this.run(lua.FORGET, [functionName], `forget ${functionName}`);
  }

  async snapshot(now: number): Promise<LedgerSnapshot> {
    const [reserved, inFlight, provisioned, provisionedInFlight] = asArray(await this.run(lua.SNAPSHOT, [now], 'read the concurrency ledger'));
    return { limits: this.limits, reserved: flatMap(reserved), inFlight: flatMap(inFlight), provisioned: flatMap(provisioned), provisionedInFlight: flatMap(provisionedInFlight) };
  }

  async concurrency(functionName: string, now: number): Promise<number> {
    return asInteger(await this.run(lua.CONCURRENCY, [functionName, now], `read the concurrency of ${functionName}`));
  }

  /**
   * Renews every lease this node holds to `now + leaseMs` in one script, and marks this node
   * live until then. Leases that had already expired are not revived: their slots may have been
   * granted to others meanwhile.
   */
  async heartbeat(now: number): Promise<HeartbeatResult> {
    const members = [...this.held.keys()];
    const lost = asArray(await this.run(lua.HEARTBEAT, [now, now + this.leaseMs, this.owner, ...members], 'renew the leases of this node'));
    const result: HeartbeatResult = { renewed: members.length - lost.length, lost: [] };
    for (const m of lost) {
      const member = asString(m);
      const grant = this.held.get(member);
      this.held.delete(member);
      if (grant) result.lost.push({ functionName: grant.functionName, kind: grant.kind });
    }
    return result;
  }

  /** Every live lease in the cluster, with its owner: for `/health` and for tests. */
  async leases(now: number): Promise<LeaseInfo[]> {
    const flat = asArray(await this.run(lua.LEASES, [now], 'list the leases'));
    const out: LeaseInfo[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ ...parseMember(asString(flat[i])), expiresAt: Number(asString(flat[i + 1])) });
    return out;
  }

  /** Owners whose last heartbeat is still within the lease time at `now`. */
  async liveNodes(now: number): Promise<string[]> {
    const reply = asArray(await this.o.connection.command(['ZRANGEBYSCORE', this.key(6), `(${now}`, '+inf'], 'list the live nodes'));
    return reply.map(asString);
  }

  /**
   * Gives back the slots still held and leaves the live nodes, so both show at once rather than
   * after the lease time. Never rejects: without Redis, both expire by themselves.
   */
  async close(): Promise<void> {
    await Promise.all([...this.held.values()].map((g) => g.release()));
    await this.o.connection.command(['ZREM', this.key(6), this.owner], 'leave the live nodes').catch(() => undefined);
    if (this.ownsConnection) await this.o.connection.close();
  }

  /**
   * Called once per grant, by `RedisGrant.release`. The releases of one turn of the event loop
   * go to Redis in one script call.
   */
  private releaseLease(grant: RedisGrant): Promise<void> {
    // Not renewed from here on, whatever Redis answers: if the release fails, the lease expires.
    this.held.delete(grant.member);
    return new Promise((resolve) => {
      this.releases.push({ grant, done: resolve });
      if (this.releases.length === 1) setImmediate(() => void this.flushReleases());
    });
  }

  private async flushReleases(): Promise<void> {
    const batch = this.releases.splice(0);
    if (batch.length === 0) return;
    const args = batch.flatMap(({ grant }) => [grant.member, grant.member[0] ?? 'o', grant.functionName]);
    try {
      const what = batch.length === 1 ? `release a slot of ${batch[0]!.grant.functionName}` : `release ${batch.length} slots`;
      await this.run(lua.RELEASE, args, what);
    } catch (err) {
      this.o.onReleaseError?.(err);
    }
    for (const r of batch) r.done();
  }

  private key(index: number): string {
    return this.keys[index] as string;
  }

  private run(script: LuaScript, args: readonly (string | number)[], action: string): Promise<unknown> {
    return this.o.connection.script(script, this.keys, args, action);
  }
}

class RedisGrant implements Grant {
  private done: Promise<void> | undefined;

  constructor(
    readonly functionName: string,
    readonly kind: AdmissionKind,
    readonly member: string,
    private readonly releaseOnce: (grant: RedisGrant) => Promise<void>,
  ) {}

  get released(): boolean {
    return this.done !== undefined;
  }

  /** The first call releases; later calls get the same promise, so the count drops exactly once. */
  release(): Promise<void> {
    this.done ??= this.releaseOnce(this);
    return this.done;
  }
}

/** Reservations and claims are whole, non-negative numbers; anything else is a caller's bug. */
function count(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`A concurrency must be a whole number of at least 0, got ${n}`);
  return String(n);
}

/**
 * The cluster registry's keys in Redis, and every command on them. Layout, under the prefix:
 * - `cluster`: the cluster's id, a random string made by the node that seeded the log. A node
 *   whose replica records another id (or none) rebuilds it from this log.
 * - `log`: a list, entry n at index n-1: the registry's writes in the one order every node
 *   applies them. Its length is the cluster's sequence number.
 * - `lock`: the registry lock, a random token with an expiry, held by the node that writes.
 * - `archive:<sha256>`: the zip of each archive the log references, content-addressed.
 * - channel `changes`: the sequence number of each new entry, so nodes catch up at once.
 *
 * Scripts touch `cluster`, `log` and `lock` together: on Redis Cluster give the prefix a hash
 * tag (`{laminar}:registry:`) so they share a slot. Redis must not evict these keys
 * (maxmemory-policy noeviction), as for the event queue.
 */
import { RedisLink, script, type RedisConnectionOptions, type RedisLinkErrors, type Reply } from './redis-link.js';
import { RegistryUnavailableError } from './registry-errors.js';

export const DEFAULT_REGISTRY_PREFIX = 'laminar:registry:';

/** The log's head, and entries read from it (encoded, oldest first). */
export interface LogRead {
  clusterId: string | undefined;
  length: number;
  entries: string[];
}

const READ = script(`
local id = redis.call('GET', KEYS[1])
local len = redis.call('LLEN', KEYS[2])
local n = tonumber(ARGV[2])
local entries = {}
if n > 0 then entries = redis.call('LRANGE', KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[1]) + n - 1) end
return {id, len, entries}
`);

/**
 * Appends only for the lock's holder, on the cluster it caught up with, right after the entry it
 * caught up to: the lock keeps writers from wasting work, the length check keeps the log whole
 * even if a lock expired under a stalled writer.
 */
const APPEND = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -2 end
if redis.call('LLEN', KEYS[3]) ~= tonumber(ARGV[3]) then return -3 end
local seq = redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('PUBLISH', ARGV[5], seq)
return seq
`);

/** Starts a cluster (a new id, a log holding at most a snapshot) unless one exists. */
const SEED = script(`
local id = redis.call('GET', KEYS[1])
if id then return {0, id} end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[2]) end
redis.call('PUBLISH', ARGV[3], 'seeded')
return {1, ARGV[1]}
`);

const RENEW = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

const UNLOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

const APPEND_REFUSED: Record<number, string> = {
  [-1]: 'the registry lock expired before the write was logged',
  [-2]: 'Redis lost the cluster registry (its cluster id changed) before the write was logged',
  [-3]: 'the registry log moved on before the write was logged',
};

function text(x: Reply | undefined): string | undefined {
  return Buffer.isBuffer(x) ? x.toString('utf8') : undefined;
}

export class RegistryLog {
  private readonly keys: { cluster: string; log: string; lock: string; channel: string };

  /** Connects; rejects with `RegistryUnavailableError` when Redis cannot be reached, so a node does not start without it. */
  static async open(opts: RedisConnectionOptions, prefix = DEFAULT_REGISTRY_PREFIX): Promise<RegistryLog> {
    return new RegistryLog(await RedisLink.open(opts, ERRORS), prefix);
  }

  private constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
  ) {
    this.keys = { cluster: `${prefix}cluster`, log: `${prefix}log`, lock: `${prefix}lock`, channel: `${prefix}changes` };
  }

  get target(): string {
    return this.link.target;
  }

  get available(): boolean {
    return this.link.available;
  }

  whenAvailable(): Promise<void> {
    return this.link.whenAvailable();
  }

  /** The cluster id, the log's length, and up to `count` encoded entries from 0-based index `from`. */
  async read(from: number, count: number): Promise<LogRead> {
    const r = await this.link.run(READ, [this.keys.cluster, this.keys.log], [String(from), String(count)]);
    if (!Array.isArray(r) || typeof r[1] !== 'number' || !Array.isArray(r[2])) throw this.malformed('a log read');
    const entries = r[2].map((e) => text(e) ?? this.fail('a log entry that is not text'));
    return { clusterId: text(r[0]), length: r[1], entries };
  }

  /** Appends an entry; resolves with its sequence number, or rejects with `RegistryUnavailableError`. */
  async append(token: string, clusterId: string, expectedLength: number, entry: string): Promise<number> {
    const keys = [this.keys.lock, this.keys.cluster, this.keys.log];
    const r = await this.link.run(APPEND, keys, [token, clusterId, String(expectedLength), entry, this.keys.channel]);
    if (typeof r !== 'number') throw this.malformed('an append');
    if (r < 0) throw new RegistryUnavailableError(this.target, APPEND_REFUSED[r] ?? `append refused (${r})`);
    return r;
  }

  /** Starts the cluster with `id` and `snapshot` as entry 1 unless a cluster exists; says which id Redis holds now. */
  async seed(id: string, snapshot: string | undefined): Promise<{ created: boolean; clusterId: string }> {
    const r = await this.link.run(SEED, [this.keys.cluster, this.keys.log], [id, snapshot ?? '', this.keys.channel]);
    const clusterId = Array.isArray(r) ? text(r[1]) : undefined;
    if (!Array.isArray(r) || clusterId === undefined) throw this.malformed('a seed');
    return { created: r[0] === 1, clusterId };
  }

  /** Calls `onEntry` for each entry announced, `onReady` each time the subscription (re)connects. */
  subscribe(onEntry: () => void, onReady: () => void): Promise<void> {
    return this.link.subscribe(this.keys.channel, onEntry, onReady);
  }

  // ---- the lock ----------------------------------------------------------------------------

  async tryLock(token: string, ttlMs: number): Promise<boolean> {
    return (await this.link.command(['SET', this.keys.lock, token, 'NX', 'PX', String(ttlMs)])) !== null;
  }

  /** Extends the lock if `token` still holds it; false when it was lost. */
  async renewLock(token: string, ttlMs: number): Promise<boolean> {
    return (await this.link.run(RENEW, [this.keys.lock], [token, String(ttlMs)])) === 1;
  }

  async unlock(token: string): Promise<void> {
    await this.link.run(UNLOCK, [this.keys.lock], [token]);
  }

  // ---- archives ----------------------------------------------------------------------------

  private archiveKey(hash: string): string {
    return `${this.prefix}archive:${hash}`;
  }

  async hasArchive(hash: string): Promise<boolean> {
    return (await this.link.command(['EXISTS', this.archiveKey(hash)])) === 1;
  }

  /** Content-addressed: a zip already there is the same bytes, so NX keeps the first copy. */
  async putArchive(hash: string, zip: Buffer): Promise<void> {
    await this.link.command(['SET', this.archiveKey(hash), zip, 'NX']);
  }

  async getArchive(hash: string): Promise<Buffer | undefined> {
    const r = await this.link.command(['GET', this.archiveKey(hash)]);
    return Buffer.isBuffer(r) ? r : undefined;
  }

  async dropArchive(hash: string): Promise<void> {
    await this.link.command(['DEL', this.archiveKey(hash)]);
  }

  close(): Promise<void> {
    return this.link.close();
  }

  private malformed(what: string): Error {
    return new Error(`The registry in Redis answered ${what} with a reply of an unexpected shape; its keys were changed outside Laminar`);
  }

  private fail(what: string): never {
    throw this.malformed(what);
  }
}

const ERRORS: RedisLinkErrors = {
  unavailable: (target, detail, cause) => new RegistryUnavailableError(target, detail, cause === undefined ? undefined : { cause }),
  malformed: (what) => new Error(`The registry in Redis sent ${what}`),
  closed: 'the registry replica is closed',
};

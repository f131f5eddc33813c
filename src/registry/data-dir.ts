/**
 * The data dir as a whole: who may use it, whether its registry database is sound, and which
 * scratch a start may wipe. It lives in the registry layer because the registry is what the data
 * dir exists for (its database and code), and because these checks must run before the registry
 * opens anything; `app.ts` calls them first, the scheduler only receives the /tmp root.
 *
 * - One server per data dir. Two servers on one SQLite file and one code store would each cache
 *   and settle state the other changes, and each would wipe the other's environment folders. A
 *   lock file holding the owner's pid refuses the second server; a lock whose pid is gone (a
 *   crash) is taken over.
 * - A registry.db that exists but cannot be read is an error naming the file. SQLite opens a
 *   0-byte file as a new, empty database, so a truncated file would otherwise look like a fresh
 *   start and every function would silently disappear.
 * - Environment /tmp folders are scratch: only a crash leaves them behind, and no environment
 *   survives a restart, so a start removes them all (after taking the lock, so never a live
 *   server's).
 * - Owner only. The data dir is 0700 (an existing one is tightened at start) and every file the
 *   server keeps there is created 0600: the registry holds functions' environment variables
 *   (often secrets) and the logs hold whatever functions print. Modes are set where each file is
 *   made rather than through `process.umask`, because Laminar is a library too and the umask
 *   belongs to the process that embeds it. Extracted code and layers (`code/`) stay readable on
 *   purpose: a sandboxed runtime reads them as another user through a bind mount, and the 0700
 *   data dir above them is what keeps other users of the host out.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fchmodSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE = 'laminar.lock';
export const REGISTRY_DB = 'registry.db';
/** Mode of the data dir and of the folders the server keeps in it: the owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file the server keeps in the data dir: the owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** Where environments get their /tmp folders: `<dataDir>/tmp/<env-id>`. */
export function environmentsTmpRoot(dataDir: string): string {
  return join(dataDir, 'tmp');
}

/** Laminar cannot start on this data dir; the message says why and what to do. */
export class DataDirError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** What a lock file records about the server that holds it. */
export interface LockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Tells this holder apart from another server that reuses the same pid (containers). */
  token: string;
  url?: string;
}

/** Another server holds the data dir (or its lock file cannot be read). */
export class DataDirLockedError extends DataDirError {
  constructor(
    readonly dataDir: string,
    readonly lockFile: string,
    readonly holder: LockHolder | undefined,
    unreadable?: string,
  ) {
    super(
      holder
        ? `Data dir ${dataDir} is in use by another Laminar server, pid ${holder.pid} on ${holder.hostname}` +
            `${holder.url ? `, serving ${holder.url}` : ''}, started ${holder.startedAt} (lock file ${lockFile}). ` +
            `Stop that server, or start this one with another --data-dir. ` +
            `If pid ${holder.pid} is not a Laminar server, the lock is left over: delete ${lockFile}.`
        : `Data dir ${dataDir} is locked by ${lockFile}, which names no server (${unreadable ?? 'unreadable'}). ` +
            `If no Laminar server is using this data dir, delete ${lockFile}; otherwise start this one with another --data-dir.`,
    );
  }
}

/** registry.db exists but is empty, unreadable or damaged. */
export class RegistryDatabaseError extends DataDirError {
  constructor(
    readonly file: string,
    problem: string,
    cause?: unknown,
  ) {
    super(
      `Registry database ${file} ${problem}. Laminar does not start on it, so that no function is silently lost. ` +
        `Restore ${file} from a backup, or move it (with any ${REGISTRY_DB}-wal and ${REGISTRY_DB}-shm beside it) ` +
        `out of the data dir to start with an empty registry.`,
      cause === undefined ? undefined : { cause },
    );
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Adds what a refused server should be told (e.g. the URL, known only after listen). */
  record(extra: Pick<LockHolder, 'url'>): void;
  /** Deletes the lock file if it is still ours; safe to call more than once. */
  release(): void;
}

/** Tokens of the locks held by this process: a lock with our pid but another token is a previous run's. */
const heldHere = new Set<string>();

/**
 * Creates the data dir, takes its lock and removes environment scratch left by a crash.
 * Throws `DataDirLockedError` (and leaves nothing behind) when another server holds it.
 */
export function openDataDir(dataDir: string): DataDirLock {
  ensurePrivateDir(dataDir);
  const lock = lockDataDir(dataDir);
  try {
    clearEnvironmentScratch(dataDir);
  } catch (err) {
    lock.release();
    throw err;
  }
  return lock;
}

/** Takes `<dataDir>/laminar.lock`, or throws `DataDirLockedError` if a live server holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  const mine: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  // Each round either creates the file, refuses, or removes a stale lock; a few rounds cover a
  // lock that disappears or turns stale between our steps.
  for (let round = 0; round < 5; round++) {
    if (create(file, mine)) return held(file, mine);
    const found = readLock(file);
    if (found.missing) continue;
    if (!found.holder) throw new DataDirLockedError(dataDir, file, undefined, found.problem);
    if (alive(found.holder)) throw new DataDirLockedError(dataDir, file, found.holder);
    // Stale: remove it only if it is still the content we judged, so a lock that another
    // starting server has just put in its place is not deleted.
    if (readLock(file).raw === found.raw) rmSync(file, { force: true });
  }
  throw new DataDirLockedError(dataDir, file, undefined, 'it keeps changing while Laminar starts');
}

/**
 * Creates `dir` if missing and makes it (not its parents) owner-only. An existing folder is
 * tightened too: a data dir made by an older Laminar, or by hand, may be 0755.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // mkdir's mode passes through the umask; chmod does not.
  try {
    chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    throw new DataDirError(
      `Data dir ${dir} must be private to the user running Laminar (mode 0700), and this user cannot change its mode ` +
        `(it belongs to another user). Make this user its owner, or start Laminar with another --data-dir.`,
      { cause: err },
    );
  }
}

/**
 * Opens a new owner-only file with `flags` ('wx' or 'w'). The mode is set again on the open
 * descriptor because open(2) applies the umask, and a file opened with 'w' may already exist.
 */
export function openPrivateFile(file: string, flags: 'wx' | 'w'): number {
  const fd = openSync(file, flags, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** 'wx' fails if the file exists: exactly one of several starting servers creates it. */
function create(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openPrivateFile(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(holder) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

function held(file: string, mine: LockHolder): DataDirLock {
  heldHere.add(mine.token);
  let current = mine;
  const ours = () => readLock(file).holder?.token === mine.token;
  return {
    file,
    record(extra) {
      if (!heldHere.has(mine.token) || !ours()) return;
      current = { ...current, ...extra };
      // Replaced by rename so that a server reading the lock never sees it half written.
      const next = `${file}.${mine.token}`;
      try {
        const fd = openPrivateFile(next, 'w');
        try {
          writeSync(fd, JSON.stringify(current) + '\n');
        } finally {
          closeSync(fd);
        }
        renameSync(next, file);
      } catch {
        // The lock still holds our pid without the extra detail; refusals stay correct.
        rmSync(next, { force: true });
      }
    },
    release() {
      if (!heldHere.delete(mine.token)) return;
      if (!ours()) return;
      try {
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    },
  };
}

interface ReadLock {
  missing?: boolean;
  raw?: string;
  holder?: LockHolder;
  problem?: string;
}

function readLock(file: string): ReadLock {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { missing: true };
    return { problem: e.message };
  }
  try {
    const v = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0) {
      return {
        raw,
        holder: {
          pid: v.pid,
          hostname: typeof v.hostname === 'string' ? v.hostname : 'an unknown host',
          startedAt: typeof v.startedAt === 'string' ? v.startedAt : 'at an unknown time',
          token: typeof v.token === 'string' ? v.token : '',
          ...(typeof v.url === 'string' ? { url: v.url } : {}),
        },
      };
    }
  } catch {
    // Falls through: an empty or foreign file names no pid.
  }
  return { raw, problem: raw.trim() === '' ? 'it is empty' : 'it holds no pid' };
}

/**
 * Whether the holder may still be running. Signal 0 checks existence without signalling; EPERM
 * means the process exists but belongs to another user. Our own pid counts only for a lock taken
 * by this process: in a container every run may get the same pid, and a previous run's lock must
 * not block the next.
 */
function alive(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return heldHere.has(holder.token);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes every environment /tmp folder; environments never outlive the server that made them. */
export function clearEnvironmentScratch(dataDir: string): void {
  rmSync(environmentsTmpRoot(dataDir), { recursive: true, force: true });
}

/**
 * Opens registry.db through `open`, turning every way it can be unusable into a
 * `RegistryDatabaseError` that names the file. A missing file is a first start: it is created
 * under another name and renamed into place once SQLite has written its header, so a crash
 * during creation never leaves the 0-byte file that this check refuses.
 */
export function openRegistryDatabase<T>(file: string, open: (file: string) => T): T {
  let size: number | undefined;
  try {
    size = statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new RegistryDatabaseError(file, `cannot be read: ${(err as Error).message}`, err);
    }
  }
  if (size === 0) throw new RegistryDatabaseError(file, 'is empty (0 bytes): the functions it held are gone');
  if (size === undefined) createDatabase(file);
  else tightenDatabase(file);
  try {
    return open(file);
  } catch (err) {
    throw new RegistryDatabaseError(file, `cannot be read: ${(err as Error).message}`, err);
  }
}

/**
 * Creates an empty SQLite file under another name and renames it into place once SQLite has
 * written its header, so a crash during creation never leaves the 0-byte file a start refuses.
 * The file is made 0600 before SQLite opens it: SQLite would create it 0644, and it gives the
 * `-wal` and `-shm` files it creates later the mode of the database file.
 */
export function createDatabase(file: string): void {
  const fresh = `${file}.new-${randomBytes(6).toString('hex')}`;
  try {
    closeSync(openPrivateFile(fresh, 'wx'));
    const db = new Database(fresh);
    try {
      db.pragma('journal_mode = WAL');
    } finally {
      db.close();
    }
    renameSync(fresh, file);
  } finally {
    rmSync(fresh, { force: true });
    rmSync(`${fresh}-wal`, { force: true });
    rmSync(`${fresh}-shm`, { force: true });
  }
}

/**
 * Makes an existing database and its `-wal` / `-shm` files owner-only, as a new one is: one
 * made by an older Laminar is 0644, and SQLite keeps the mode of files that already exist.
 */
export function tightenDatabase(file: string): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, PRIVATE_FILE_MODE);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Missing (no WAL yet) or not ours to change (EPERM): SQLite's own open reports what matters.
      if (code !== 'ENOENT' && code !== 'EPERM') throw err;
    }
  }
}

/**
 * Readies the file of one of the data dir's databases before SQLite opens it. A missing file is
 * a first start: it is created 0600 (`createDatabase`). A 0-byte file is refused: SQLite would
 * open it as a new, empty database and everything it held would silently be gone. An existing
 * file made with a looser mode is tightened. `fail` makes the owner's error naming the file.
 */
export function prepareDatabaseFile(file: string, fail: (problem: string, cause?: unknown) => Error): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(`cannot be read: ${(err as Error).message}`, err);
    createDatabase(file);
    return;
  }
  if (size === 0) throw fail('is empty (0 bytes)');
  tightenDatabase(file);
}

/**
 * Brings a database's schema up to date: each entry of `migrations` upgrades it by one step in a
 * transaction of its own, and `PRAGMA user_version` records how far it got. A schema newer than
 * this Laminar knows is refused rather than misread.
 */
export function migrateDatabase(db: Database.Database, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`its schema version ${current} is newer than this Laminar knows (${migrations.length})`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/**
 * Opens one of the data dir's small databases the way each of them is kept: the file readied
 * (`prepareDatabaseFile`), WAL with `synchronous = NORMAL`, every page checked so a damaged file
 * fails at start naming itself, and the schema migrated. Every failure is `fail`'s error.
 */
export function openDatabase(file: string, migrations: readonly string[], fail: (problem: string, cause?: unknown) => Error): Database.Database {
  prepareDatabaseFile(file, fail);
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    throw fail(`cannot be read: ${(err as Error).message}`, err);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const check = db.pragma('quick_check', { simple: true }) as string;
    if (check !== 'ok') throw new Error(`integrity check failed: ${check}`);
    migrateDatabase(db, migrations);
    return db;
  } catch (err) {
    db.close();
    throw fail(`cannot be read: ${(err as Error).message}`, err);
  }
}

/**
 * Code and layer archives between nodes. A node that logs a write first stores in Redis every
 * zip the write references (content-addressed by SHA-256, so storing twice is harmless); a node
 * that applies an entry first fetches the zips it lacks and extracts them with the registry's own
 * code store (zip-slip safe, extracted once per hash), so an invoke never finds a version without
 * its code. Each node keeps its copies in its own data dir.
 */
import { readFile } from 'node:fs/promises';
import { digest, type CodeStore } from '../registry/code-store.js';
import type { RegistryLog } from './registry-log.js';

/**
 * The writing node checked the archive against its limits before it was logged, and the bytes
 * are checked against their hash here: a replica extracts what the cluster accepted.
 */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export interface FetchedArchives {
  /** Archives that Redis no longer holds; see `fetch`. */
  missing: string[];
  /** Unpins what `fetch` extracted, once the entry's rows reference it. */
  release(): void;
}

export class ArchiveStore {
  constructor(
    private readonly log: RegistryLog,
    private readonly code: CodeStore,
  ) {}

  /** Stores in Redis each archive it lacks, from this node's copy. */
  async upload(hashes: readonly string[]): Promise<void> {
    for (const hash of new Set(hashes)) {
      if (await this.log.hasArchive(hash)) continue;
      let zip: Buffer;
      try {
        zip = await readFile(this.code.zipPath(hash));
      } catch (err) {
        throw new Error(`The archive ${hash} is neither in Redis nor in this node's code store; the write cannot be shared`, { cause: err });
      }
      await this.log.putArchive(hash, zip);
    }
  }

  /**
   * Extracts each archive this node lacks, pinned against garbage collection until `release`.
   * An archive Redis no longer holds was dropped by a later entry that stopped using it (the
   * only way one goes), so this node will apply that entry next: it is reported, not fatal.
   */
  async fetch(hashes: readonly string[]): Promise<FetchedArchives> {
    const pinned: string[] = [];
    const missing: string[] = [];
    const release = () => {
      for (const hash of pinned.splice(0)) this.code.release(hash);
    };
    try {
      for (const hash of new Set(hashes)) {
        if (this.code.has(hash)) continue;
        const zip = await this.log.getArchive(hash);
        if (!zip) {
          missing.push(hash);
          continue;
        }
        if (digest(zip).hash !== hash) throw new Error(`The archive stored in Redis under ${hash} has other content; its key was changed outside Laminar`);
        await this.code.put(zip, NO_LIMIT);
        pinned.push(hash);
      }
    } catch (err) {
      release();
      throw err;
    }
    return { missing, release };
  }

  /** Drops from Redis the archives no row of the (caught-up) registry uses any more. */
  async drop(hashes: readonly string[], inUse: (hash: string) => boolean): Promise<void> {
    for (const hash of new Set(hashes)) if (!inUse(hash)) await this.log.dropArchive(hash);
  }
}

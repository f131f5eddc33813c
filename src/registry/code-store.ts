/**
 * Content-addressed code storage: `<root>/<hex sha256>.zip` and its extraction
 * `<root>/<hex sha256>/`. A hash is extracted once and shared by every version that uses it;
 * extraction goes to a temporary folder that is renamed into place only when it fully succeeded.
 *
 * Modes are explicit, whatever the umask. Extracted folders are readable by everyone (folders
 * 0755, files 0644 or the archive's modes) because a sandboxed runtime reads them as another
 * user; the owner-only data dir above keeps them from the host's other users. The zips are only
 * ever read by the server (GetFunction's download), so they are 0600 like the server's other files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { extractZip } from './unzip.js';

const TMP_PREFIX = '.tmp-';

export interface StoredCode {
  /** Base64 SHA-256 of the zip, as CodeSha256 reports it. */
  sha256: string;
  /** Hex SHA-256: the folder and file name. */
  hash: string;
  /** Zip size in bytes (CodeSize). */
  size: number;
  /** Absolute path of the extracted code. */
  dir: string;
}

export function digest(zip: Buffer): { sha256: string; hash: string } {
  const h = createHash('sha256').update(zip).digest();
  return { sha256: h.toString('base64'), hash: h.toString('hex') };
}

export class CodeStore {
  readonly root: string;
  private readonly inflight = new Map<string, Promise<void>>();
  /** Hashes handed out by put() whose version row is not committed yet. */
  private readonly pins = new Map<string, number>();
  /** Unzipped sizes already measured; content-addressed, so they never change. */
  private readonly sizes = new Map<string, number>();

  constructor(root: string) {
    this.root = path.resolve(root);
    mkdirSync(this.root, { recursive: true });
    chmodSync(this.root, 0o755);
    // Node looks for the nearest package.json above a function's code to decide whether `.js` is
    // CommonJS or ESM. In Lambda nothing sits above /var/task; here the data dir may sit inside a
    // project whose package.json says "type": "module". This boundary keeps Lambda's default.
    // Readable like the code: Node reads it when it resolves a function's modules.
    const boundary = path.join(this.root, 'package.json');
    writeFileSync(boundary, '{ "type": "commonjs" }\n');
    chmodSync(boundary, 0o644);
    // Leftovers of an extraction interrupted by a crash are never referenced by anything.
    for (const name of readdirSync(this.root)) {
      if (name.startsWith(TMP_PREFIX)) rmSync(path.join(this.root, name), { recursive: true, force: true });
    }
  }

  dir(hash: string): string {
    return path.join(this.root, hash);
  }

  zipPath(hash: string): string {
    return path.join(this.root, `${hash}.zip`);
  }

  has(hash: string): boolean {
    return existsSync(this.dir(hash));
  }

  /** Whether `hash` is being extracted or awaits its version row (garbage collection must wait). */
  busy(hash: string): boolean {
    return this.inflight.has(hash) || this.pins.has(hash);
  }

  /**
   * Stores and extracts `zip` unless that content is already present. The hash stays pinned
   * against removal until the caller has recorded its use and calls `release`.
   */
  async put(zip: Buffer, maxUnzipped: number): Promise<StoredCode> {
    const { sha256, hash } = digest(zip);
    const stored: StoredCode = { sha256, hash, size: zip.length, dir: this.dir(hash) };
    this.pins.set(hash, (this.pins.get(hash) ?? 0) + 1);
    let job = this.inflight.get(hash);
    if (!job) {
      job = this.materialise(zip, hash, maxUnzipped).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, job);
    }
    try {
      await job;
    } catch (err) {
      this.release(hash);
      throw err;
    }
    return stored;
  }

  release(hash: string): void {
    const n = (this.pins.get(hash) ?? 0) - 1;
    if (n > 0) this.pins.set(hash, n);
    else this.pins.delete(hash);
  }

  private async materialise(zip: Buffer, hash: string, maxUnzipped: number): Promise<void> {
    if (this.has(hash) && existsSync(this.zipPath(hash))) return;
    const tag = `${TMP_PREFIX}${hash.slice(0, 16)}-${randomBytes(6).toString('hex')}`;
    const tmpDir = path.join(this.root, tag);
    const tmpZip = path.join(this.root, `${tag}.zip`);
    try {
      if (!this.has(hash)) {
        await extractZip(zip, tmpDir, maxUnzipped);
        await rename(tmpDir, this.dir(hash)).catch(async (err: NodeJS.ErrnoException) => {
          // Another process won the race: its copy is identical, keep it.
          if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        });
      }
      await writeFile(tmpZip, zip, { mode: 0o600 });
      await rename(tmpZip, this.zipPath(hash));
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
      await rm(tmpZip, { force: true });
    }
  }

  /**
   * The unzipped size of stored `hash`: the bytes of its files and link targets, which is what
   * its entries declared (folders count nothing). Measured once per hash and remembered.
   */
  unzippedSize(hash: string): number {
    let size = this.sizes.get(hash);
    if (size === undefined) {
      size = treeSize(this.dir(hash));
      this.sizes.set(hash, size);
    }
    return size;
  }

  /** Removes the zip and the extracted folder of `hash`. */
  remove(hash: string): void {
    if (!/^[0-9a-f]{64}$/.test(hash) || this.busy(hash)) return;
    this.sizes.delete(hash);
    rmSync(this.dir(hash), { recursive: true, force: true });
    rmSync(this.zipPath(hash), { force: true });
  }
}

function treeSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += treeSize(full);
    else total += lstatSync(full).size;
  }
  return total;
}

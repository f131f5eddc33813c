/**
 * Lambda extracts a function's layers in order into one /opt, a later layer's files replacing an
 * earlier one's. A sandbox binds one folder at /opt, so the layers of a function are merged once
 * per distinct list into a folder of hard links (no copy of the bytes), which every environment
 * of that list shares read-only.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class OptDirs {
  private readonly building = new Map<string, Promise<string>>();

  constructor(private readonly root: string) {}

  /** The merged folder of `layerDirs` (in Lambda's order); undefined without layers. */
  async forLayers(layerDirs: readonly string[]): Promise<string | undefined> {
    if (layerDirs.length === 0) return undefined;
    const key = createHash('sha256').update(layerDirs.join('\n')).digest('hex').slice(0, 24);
    let pending = this.building.get(key);
    if (pending === undefined) {
      pending = this.build(key, layerDirs);
      this.building.set(key, pending);
      // A failed merge is tried again by the next environment rather than remembered.
      pending.catch(() => this.building.delete(key));
    }
    return pending;
  }

  private async build(key: string, layerDirs: readonly string[]): Promise<string> {
    const target = join(this.root, key);
    try {
      if ((await stat(target)).isDirectory()) return target;
    } catch {
      // not merged yet
    }
    // Modes set explicitly: the server's umask must not hide /opt from the sandbox user.
    await mkdir(this.root, { recursive: true });
    await chmod(this.root, 0o755);
    const staging = `${target}.${process.pid}.${Date.now()}.tmp`;
    await mkdir(staging);
    await chmod(staging, 0o755);
    try {
      for (const dir of layerDirs) await mergeInto(dir, staging);
      await rename(staging, target);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      // Another server process merged the same list first: theirs is as good.
      if ((await stat(target).catch(() => undefined))?.isDirectory()) return target;
      throw err;
    }
    return target;
  }
}

/** Puts every entry of `from` into `to`, replacing files already there (a later layer wins). */
async function mergeInto(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    const existing = await lstat(dst).catch(() => undefined);
    if (entry.isDirectory()) {
      if (existing !== undefined && !existing.isDirectory()) await unlink(dst);
      if (existing === undefined || !existing.isDirectory()) {
        await mkdir(dst);
        await chmod(dst, (await stat(src)).mode & 0o7777);
      }
      await mergeInto(src, dst);
      continue;
    }
    if (existing !== undefined) await rm(dst, { recursive: true, force: true });
    if (entry.isSymbolicLink()) {
      await symlink(await readlink(src), dst);
    } else if (entry.isFile()) {
      try {
        await link(src, dst);
      } catch {
        // Another file system: copy instead.
        await copyFile(src, dst);
      }
    }
  }
}

/**
 * Safe zip extraction. The whole central directory is read and checked before a single byte is
 * written, so a refused archive leaves nothing behind: names that could escape the target
 * (`..`, absolute, drive letters, backslashes), entries that pass through a symlink, symlinks
 * that resolve outside the folder, and archives whose declared size is over the limit.
 */
import { chmod, mkdir, rm, symlink } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { InvalidParameterValueException, LaminarError } from '../core/errors.js';

export const CORRUPT_ZIP_MESSAGE = 'Could not unzip uploaded file. Please check your file, then try to upload again.';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MAX_LINK_TARGET = 4096;
const MAX_LINK_HOPS = 40;

interface Planned {
  entry: Entry;
  /** Normalised relative path, without a trailing slash. */
  name: string;
  kind: 'dir' | 'file' | 'link';
  /** Permission bits from the Unix attributes, when the archive recorded them. */
  mode?: number;
  target?: string;
}

function refuse(entryName: string, why: string): InvalidParameterValueException {
  return new InvalidParameterValueException(`Could not unzip uploaded file: the entry "${entryName}" ${why}.`);
}

/** Parts of a relative path, or undefined when the name could land outside the target folder. */
function safeParts(name: string): string[] | undefined {
  if (name === '' || name.includes('\0') || name.includes('\\')) return undefined;
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return undefined;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return undefined;
  return parts;
}

/**
 * Follows `target` from the folder holding `linkName` the way the kernel would, expanding other
 * links of the archive on the way; true when the walk ever climbs above the root.
 */
function escapesRoot(linkName: string, target: string, links: ReadonlyMap<string, string>): boolean {
  const stack = linkName.split('/').slice(0, -1);
  let queue = target.split('/');
  let hops = 0;
  if (target.startsWith('/') || target.includes('\\') || target.includes('\0') || /^[a-zA-Z]:/.test(target)) return true;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return true;
      stack.pop();
      continue;
    }
    stack.push(part);
    const next = links.get(stack.join('/'));
    if (next === undefined) continue;
    if (++hops > MAX_LINK_HOPS || next.startsWith('/') || next.includes('\\') || /^[a-zA-Z]:/.test(next)) return true;
    stack.pop();
    queue = [...next.split('/'), ...queue];
  }
  return false;
}

async function readAll(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function listEntries(zip: ZipFile): Promise<Entry[]> {
  const entries: Entry[] = [];
  return new Promise((resolve, reject) => {
    zip.on('entry', (e: Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

function plan(entry: Entry): Planned {
  // Names are decoded here rather than by yauzl so that backslashes are refused, not rewritten.
  const raw = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  const parts = safeParts(raw);
  if (!parts) throw refuse(raw, 'would be written outside the function folder (absolute path, "..", or backslash)');
  if (parts.length === 0) throw refuse(raw, 'has an empty path');
  const unixMode = (entry.versionMadeBy >> 8) === 3 ? entry.externalFileAttributes >>> 16 : 0;
  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  const isDirName = raw.endsWith('/');
  const name = parts.join('/');
  const mode = unixMode & 0o7777 ? unixMode & 0o7777 : undefined;
  const base = mode === undefined ? {} : { mode };
  if (type === S_IFLNK) return { entry, name, kind: 'link', ...base };
  if (type === S_IFDIR || isDirName) return { entry, name, kind: 'dir', ...base };
  if (type === 0 || type === S_IFREG) return { entry, name, kind: 'file', ...base };
  throw refuse(raw, 'is not a regular file, folder or symbolic link');
}

async function check(zip: ZipFile, entries: Entry[], maxUnzipped: number): Promise<Planned[]> {
  const planned = entries.map(plan);
  const total = entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
  if (total > maxUnzipped) {
    throw new InvalidParameterValueException(`Unzipped size must be smaller than ${maxUnzipped} bytes`);
  }
  const links = new Map<string, string>();
  for (const p of planned.filter((x) => x.kind === 'link')) {
    const data = await readAll(await zip.openReadStreamPromise(p.entry), MAX_LINK_TARGET);
    if (data === undefined) throw refuse(p.name, 'is a symbolic link with an over-long target');
    p.target = data.toString('utf8');
    links.set(p.name, p.target);
  }
  for (const p of planned) {
    const parts = p.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (links.has(parts.slice(0, i).join('/'))) throw refuse(p.name, 'lies under a symbolic link');
    }
    if (p.kind === 'link' && escapesRoot(p.name, p.target as string, links)) {
      throw refuse(p.name, `is a symbolic link to "${p.target as string}", which points outside the function folder`);
    }
  }
  return planned;
}

async function write(zip: ZipFile, planned: Planned[], dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const at = (name: string): string => {
    const full = path.resolve(dest, name);
    // Belt and braces: check() already refused every name that could get here.
    if (!full.startsWith(dest + path.sep)) throw refuse(name, 'would be written outside the function folder');
    return full;
  };
  for (const p of planned) {
    if (p.kind === 'dir') await mkdir(at(p.name), { recursive: true });
  }
  for (const p of planned) {
    if (p.kind !== 'file') continue;
    const file = at(p.name);
    await mkdir(path.dirname(file), { recursive: true });
    await pipeline(await zip.openReadStreamPromise(p.entry), createWriteStream(file));
    await chmod(file, p.mode ?? 0o644);
  }
  for (const p of planned) {
    if (p.kind === 'link') {
      const file = at(p.name);
      await mkdir(path.dirname(file), { recursive: true });
      await symlink(p.target as string, file);
    }
  }
  // Folder modes last, so a read-only folder does not stop its own files from being written.
  // Every folder gets one explicitly, the target and the folders no entry names included: mkdir
  // applies the umask, and a sandboxed runtime reading the code as another user needs 0755.
  const archived = new Map(planned.filter((p) => p.kind === 'dir').map((p) => [p.name, p.mode]));
  const folders = new Set<string>(archived.keys());
  for (const p of planned) {
    const parts = p.name.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  await chmod(dest, 0o755);
  for (const name of folders) {
    const mode = archived.get(name);
    // Owner rwx is kept so the code store can still remove the folder when it is no longer used.
    await chmod(at(name), mode === undefined ? 0o755 : mode | 0o700);
  }
}

/**
 * Extracts `zipBytes` into `dest` (which must not exist yet). On any refusal or error `dest` is
 * removed again and the error is an InvalidParameterValueException.
 */
export async function extractZip(zipBytes: Buffer, dest: string, maxUnzipped: number): Promise<void> {
  let zip: ZipFile | undefined;
  try {
    zip = await yauzl.fromBufferPromise(zipBytes, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: true,
    });
    const planned = await check(zip, await listEntries(zip), maxUnzipped);
    await write(zip, planned, path.resolve(dest));
  } catch (err) {
    await rm(dest, { recursive: true, force: true });
    if (err instanceof LaminarError) throw err;
    throw new InvalidParameterValueException(CORRUPT_ZIP_MESSAGE);
  } finally {
    zip?.close();
  }
}

/** The unzipped size the archive declares (its entries' sizes summed), read from its central directory only. */
export async function declaredUnzippedSize(zipBytes: Buffer): Promise<number> {
  let zip: ZipFile | undefined;
  try {
    zip = await yauzl.fromBufferPromise(zipBytes, { lazyEntries: true, autoClose: false, decodeStrings: false });
    return (await listEntries(zip)).reduce((sum, e) => sum + e.uncompressedSize, 0);
  } catch {
    throw new InvalidParameterValueException(CORRUPT_ZIP_MESSAGE);
  } finally {
    zip?.close();
  }
}

/**
 * The server's own files are the server user's alone: a real server deploys a function with a
 * layer and invokes it (so code, layers and logs exist), then every entry of the data dir is
 * checked. The data dir is 0700, each folder the server keeps there 0700 and each file 0600,
 * whatever the process's umask (the server is a library too, so it cannot own the umask).
 *
 * Named exceptions, checked rather than skipped:
 * - `code/` holds extracted function code and layers, readable on purpose (folders 0755, files
 *   their archive modes) because a sandboxed runtime reads them as another user through a bind
 *   mount; the 0700 data dir above keeps other users out. The zips beside them are 0600.
 * - `tmp/` holds environments' /tmp folders, which belong to the sandbox user, not the server.
 * - `sandbox/` holds what sandboxes are built from: the layers merged for /opt (hard links of
 *   the extracted layers, so readable as they are) and the stand-in files bound into every
 *   sandbox (/etc/passwd, /etc/group, the runtime's package.json), read by the sandbox user; the
 *   seccomp program is read by bubblewrap (root) only.
 */
import { CreateFunctionCommand, InvokeCommand, PublishLayerVersionCommand, waitUntilFunctionActiveV2, type Runtime } from '@aws-sdk/client-lambda';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventQueue } from '../../src/async/sqlite-queue.js';
import { SqliteTargetStore } from '../../src/autoscaling/sqlite-target-store.js';
import { RuleStore } from '../../src/schedules/rule-store.js';
import { ensurePrivateDir } from '../../src/registry/data-dir.js';
import { startLaminar, zipFixture, type Harness } from '../helpers/laminar.js';
import { target } from '../unit/autoscaling/target-store-conformance.js';
import { makeZip } from '../unit/registry/helpers.js';

const dirs: string[] = [];
const open: Harness[] = [];
let umask: number | undefined;
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  if (umask !== undefined) process.umask(umask);
  umask = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A path where no data dir exists yet, in a folder removed after the test. */
function newDataDir(): string {
  const parent = mkdtempSync(join(tmpdir(), 'laminar-modes-'));
  dirs.push(parent);
  return join(parent, 'data');
}

async function start(dataDir: string): Promise<Harness> {
  const h = await startLaminar({}, {}, dataDir);
  open.push(h);
  return h;
}

const mode = (path: string): number => lstatSync(path).mode & 0o7777;
const octal = (m: number): string => `0${m.toString(8)}`;

interface Entry {
  rel: string;
  dir: boolean;
  mode: number;
}

/** Every entry under `root` (root itself as ''), not descending into `tmp/` (named separately). */
function walk(root: string, rel = ''): Entry[] {
  const full = join(root, rel);
  const st = lstatSync(full);
  const out: Entry[] = [{ rel, dir: st.isDirectory(), mode: st.mode & 0o7777 }];
  if (!st.isDirectory() || rel === 'tmp') return out;
  for (const name of readdirSync(full).sort()) out.push(...walk(root, rel === '' ? name : `${rel}/${name}`));
  return out;
}

/** What a data dir entry's mode must be, and why. */
function expected(e: Entry): { mode: number; why: string } | { readable: true; why: string } | { skip: string } {
  if (e.rel === '') return { mode: 0o700, why: 'the data dir' };
  if (e.rel === 'tmp') return { skip: "environments' /tmp folders belong to the sandbox user" };
  if (e.rel === 'code') return { mode: 0o755, why: 'code store folder, traversed by sandboxed runtimes' };
  if (e.rel === 'code/package.json') return { mode: 0o644, why: 'read by Node.js when it resolves function code' };
  if (/^code\/[0-9a-f]{64}\.zip$/.test(e.rel)) return { mode: 0o600, why: 'a stored zip, read by the server only' };
  if (e.rel === 'sandbox' || e.rel === 'sandbox/support' || e.rel === 'sandbox/opt') return { mode: 0o755, why: 'a folder sandboxes are built from' };
  if (e.rel === 'sandbox/support/seccomp.bpf') return { mode: 0o600, why: 'read by bubblewrap, as root, only' };
  if (e.rel.startsWith('sandbox/support/')) return { mode: 0o644, why: 'bound into every sandbox, read by the sandbox user' };
  if (/^sandbox\/opt\/[0-9a-f]+(\/|$)/.test(e.rel)) {
    return e.dir ? { mode: 0o755, why: 'a merged /opt folder' } : { readable: true, why: 'a layer file linked into a merged /opt (archive mode)' };
  }
  if (/^code\/[0-9a-f]{64}(\/|$)/.test(e.rel)) {
    return e.dir ? { mode: 0o755, why: 'extracted code or layer folder' } : { readable: true, why: 'extracted code or layer file (archive mode)' };
  }
  return e.dir ? { mode: 0o700, why: 'a folder the server keeps' } : { mode: 0o600, why: 'a file the server keeps' };
}

function checkModes(dataDir: string): Entry[] {
  const entries = walk(dataDir);
  const wrong: string[] = [];
  for (const e of entries) {
    const want = expected(e);
    if ('skip' in want) continue;
    if ('readable' in want) {
      // Fixture files are 0644 or 0755 in their archives, and keep that.
      if (e.mode !== 0o644 && e.mode !== 0o755) wrong.push(`${e.rel || '.'} is ${octal(e.mode)}, want its archive mode 0644 or 0755 (${want.why})`);
    } else if (e.mode !== want.mode) {
      wrong.push(`${e.rel || '.'} is ${octal(e.mode)}, want ${octal(want.mode)} (${want.why})`);
    }
  }
  expect(wrong).toEqual([]);
  return entries;
}

async function deployWithLayer(h: Harness): Promise<string> {
  const layer = await h.client.send(
    new PublishLayerVersionCommand({
      LayerName: 'modes-layer',
      Content: { ZipFile: await makeZip([{ name: 'nodejs/node_modules/layer-lib/index.js', content: 'module.exports = 1;\n', mode: 0o100644 }]) },
    }),
  );
  const name = 'modes-fn';
  await h.client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: 'arn:aws:iam::000000000000:role/test',
      Runtime: 'nodejs20.x' as Runtime,
      Handler: 'index.handler',
      Code: { ZipFile: await zipFixture('logs') },
      Layers: [layer.LayerVersionArn as string],
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: name });
  return name;
}

/** Resolves once the function's log folder holds a non-empty file (the store writes asynchronously). */
async function logWritten(dataDir: string, name: string): Promise<void> {
  const folder = join(dataDir, 'logs', name);
  const until = Date.now() + 10_000;
  while (!(existsSync(folder) && readdirSync(folder).some((f) => lstatSync(join(folder, f)).size > 0))) {
    if (Date.now() > until) throw new Error(`no log written under ${folder}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each([
  { mask: 0o000, label: '000', says: 'that would leave new files writable by everyone' },
  { mask: 0o077, label: '077', says: 'that would make code unreadable to the sandbox user' },
])('under umask $label ($says)', ({ mask }) => {
  it('keeps the data dir 0700 and every file of the server 0600, code and layers readable', async () => {
    umask = process.umask(mask);
    const dataDir = newDataDir();
    const h = await start(dataDir);
    const name = await deployWithLayer(h);
    const out = await h.client.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }));
    expect(out.FunctionError).toBeUndefined();
    await logWritten(dataDir, name);

    const entries = checkModes(dataDir);
    const rels = entries.map((e) => e.rel);
    // The checks above covered these; make sure they were there to be checked.
    for (const present of ['laminar.lock', 'registry.db', 'registry.db-wal', 'registry.db-shm', 'autoscaling.db', 'autoscaling.db-wal', 'autoscaling.db-shm', 'schedules.db', 'schedules.db-wal', 'schedules.db-shm', 'logs', `logs/${name}`, 'code/package.json', 'sandbox/support/passwd', 'sandbox/support/seccomp.bpf']) {
      expect(rels).toContain(present);
    }
    expect(rels.filter((r) => r.startsWith(`logs/${name}/`) && r.endsWith('.log')).length).toBeGreaterThan(0);
    expect(rels.filter((r) => /^code\/[0-9a-f]{64}\.zip$/.test(r))).toHaveLength(2);
    expect(rels.some((r) => r.endsWith('/nodejs/node_modules/layer-lib/index.js'))).toBe(true);
    expect(rels.some((r) => r.endsWith('/index.js') && !r.includes('nodejs/'))).toBe(true);
  });

  it("keeps the event queue's database 0600, its -wal and -shm too", async () => {
    umask = process.umask(mask);
    const dataDir = newDataDir();
    ensurePrivateDir(dataDir);
    const queue = SqliteEventQueue.inDataDir(dataDir);
    try {
      await queue.enqueue({ functionName: 'fn', requestId: 'r-1', payload: Buffer.from('{}'), acceptedAt: 0 });
      for (const file of ['events.db', 'events.db-wal', 'events.db-shm']) expect(octal(mode(join(dataDir, file))), file).toBe('0600');
    } finally {
      await queue.close();
    }
  });

  it('keeps the autoscaling database 0600, its -wal and -shm too', () => {
    umask = process.umask(mask);
    const dataDir = newDataDir();
    ensurePrivateDir(dataDir);
    const store = SqliteTargetStore.inDataDir(dataDir);
    try {
      store.putTarget(target('fn'));
      for (const file of ['autoscaling.db', 'autoscaling.db-wal', 'autoscaling.db-shm']) expect(octal(mode(join(dataDir, file))), file).toBe('0600');
    } finally {
      store.close();
    }
  });

  it('keeps the schedules database 0600, its -wal and -shm too', () => {
    umask = process.umask(mask);
    const dataDir = newDataDir();
    ensurePrivateDir(dataDir);
    const store = RuleStore.inDataDir(dataDir);
    try {
      store.putRule({ name: 'nightly', scheduleExpression: 'rate(1 day)', state: 'ENABLED', anchorMs: 0 });
      for (const file of ['schedules.db', 'schedules.db-wal', 'schedules.db-shm']) expect(octal(mode(join(dataDir, file))), file).toBe('0600');
    } finally {
      store.close();
    }
  });
});

describe('an existing data dir', () => {
  it('is tightened to 0700 at start, with the registry, autoscaling and schedules databases made by an older server', async () => {
    const dataDir = newDataDir();
    await (await start(dataDir)).close();
    open.splice(0);
    chmodSync(dataDir, 0o755);
    for (const db of ['registry.db', 'autoscaling.db', 'schedules.db']) chmodSync(join(dataDir, db), 0o644);

    await start(dataDir);
    expect(octal(mode(dataDir))).toBe('0700');
    for (const db of ['registry.db', 'autoscaling.db', 'schedules.db']) expect(octal(mode(join(dataDir, db))), db).toBe('0600');
    checkModes(dataDir);
  });
});

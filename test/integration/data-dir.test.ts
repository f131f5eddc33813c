import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const dirs: string[] = [];
const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'laminar-datadir-'));
  dirs.push(d);
  return d;
}

async function start(dataDir: string): Promise<Harness> {
  const h = await startLaminar({}, {}, dataDir);
  open.push(h);
  return h;
}

async function stop(h: Harness): Promise<void> {
  open.splice(open.indexOf(h), 1);
  await h.close();
}

/** The pid of a process that has exited: nothing runs under it any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid as number;
}

function lockOf(dataDir: string): { pid: number; url?: string } {
  return JSON.parse(readFileSync(join(dataDir, 'laminar.lock'), 'utf8')) as { pid: number; url?: string };
}

describe('one server per data dir', () => {
  it('refuses a second server on the same data dir, naming the pid and the lock file; the first keeps serving', async () => {
    const dir = freshDir();
    const first = await start(dir);
    const lockFile = join(dir, 'laminar.lock');
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, url: first.url });

    const refused = startLaminar({}, {}, dir);
    await expect(refused).rejects.toThrow(`pid ${process.pid}`);
    await expect(refused).rejects.toThrow(`lock file ${lockFile}`);
    await expect(refused).rejects.toThrow(/Stop that server, or start this one with another --data-dir/);

    const fn = await deployFixture(first.client, 'echo');
    const listed = await first.client.send(new ListFunctionsCommand({}));
    expect(listed.Functions?.map((f) => f.FunctionName)).toContain(fn);

    await stop(first);
    expect(existsSync(lockFile)).toBe(false);
    const again = await start(dir);
    const relisted = await again.client.send(new ListFunctionsCommand({}));
    expect(relisted.Functions?.map((f) => f.FunctionName)).toContain(fn);
  });

  it('takes over a lock left by a server that is gone', async () => {
    const dir = freshDir();
    const pid = await deadPid();
    writeFileSync(join(dir, 'laminar.lock'), JSON.stringify({ pid, hostname: 'h', startedAt: '2026-01-01T00:00:00.000Z', token: 'old' }));
    const h = await start(dir);
    expect(lockOf(dir).pid).toBe(process.pid);
    // A missing registry.db is a first start: an empty registry, created with its header.
    expect((await h.client.send(new ListFunctionsCommand({}))).Functions).toEqual([]);
    expect(statSync(join(dir, 'registry.db')).size).toBeGreaterThan(0);
  });

  it("takes over a lock holding this process's pid that this process never took (a restarted container)", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'laminar.lock'), JSON.stringify({ pid: process.pid, hostname: 'h', startedAt: '2026-01-01T00:00:00.000Z', token: 'previous-run' }));
    await start(dir);
    expect(lockOf(dir)).toMatchObject({ pid: process.pid });
    expect(readFileSync(join(dir, 'laminar.lock'), 'utf8')).not.toContain('previous-run');
  });

  it('refuses a lock file that names no pid rather than guessing', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'laminar.lock'), '');
    await expect(startLaminar({}, {}, dir)).rejects.toThrow(/names no server \(it is empty\).*delete .*laminar\.lock/);
    expect(existsSync(join(dir, 'registry.db'))).toBe(false);
  });
});

describe('a damaged registry.db', () => {
  it('refuses a 0-byte registry.db, naming it, and leaves no lock behind', async () => {
    const dir = freshDir();
    const db = join(dir, 'registry.db');
    writeFileSync(db, '');
    await expect(startLaminar({}, {}, dir)).rejects.toThrow(`Registry database ${db} is empty (0 bytes)`);
    expect(existsSync(join(dir, 'laminar.lock'))).toBe(false);
    expect(statSync(db).size).toBe(0);
  });

  it('refuses a registry.db that is not a database, naming it and the cause', async () => {
    const dir = freshDir();
    const db = join(dir, 'registry.db');
    writeFileSync(db, randomBytes(8192));
    const failed = startLaminar({}, {}, dir);
    await expect(failed).rejects.toThrow(`Registry database ${db} cannot be read: file is not a database`);
    await expect(failed).rejects.toThrow(/move it .* out of the data dir to start with an empty registry/);
    expect(existsSync(join(dir, 'laminar.lock'))).toBe(false);
  });

  it('refuses a registry.db whose pages are damaged', async () => {
    const dir = freshDir();
    const h = await start(dir);
    for (let i = 0; i < 3; i++) await deployFixture(h.client, 'echo');
    await stop(h);
    const db = join(dir, 'registry.db');
    const bytes = readFileSync(db);
    expect(bytes.length).toBeGreaterThan(4096);
    // Keep the header page, so SQLite opens the file, and damage everything after it.
    randomBytes(bytes.length - 4096).copy(bytes, 4096);
    writeFileSync(db, bytes);
    await expect(startLaminar({}, {}, dir)).rejects.toThrow(`Registry database ${db} cannot be read`);
    expect(existsSync(join(dir, 'laminar.lock'))).toBe(false);
  });
});

describe('a damaged autoscaling.db', () => {
  it('refuses a 0-byte autoscaling.db, naming it, leaves no lock behind, and starts with the functions intact once it is moved away', async () => {
    const dir = freshDir();
    const h = await start(dir);
    const fn = await deployFixture(h.client, 'echo');
    await stop(h);
    const db = join(dir, 'autoscaling.db');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    writeFileSync(db, '');
    const failed = startLaminar({}, {}, dir);
    await expect(failed).rejects.toThrow(`Autoscaling database ${db} is empty (0 bytes)`);
    await expect(failed).rejects.toThrow(/move it .* out of the data dir to start with no scalable targets/);
    expect(existsSync(join(dir, 'laminar.lock'))).toBe(false);
    expect(statSync(db).size).toBe(0);

    rmSync(db);
    const again = await start(dir);
    const { Functions } = await again.client.send(new ListFunctionsCommand({}));
    expect(Functions?.map((f) => f.FunctionName)).toEqual([fn]);
  });

  it('serve prints the reason and exits non-zero without a stack trace', async () => {
    const dir = freshDir();
    const db = join(dir, 'autoscaling.db');
    writeFileSync(db, '');
    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dir, '--print-function-logs', 'false'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr.startsWith(`laminar: Autoscaling database ${db} is empty (0 bytes)`)).toBe(true);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('environment leftovers', () => {
  it('removes environment /tmp folders a crashed server left behind', async () => {
    const dir = freshDir();
    const leftover = join(dir, 'tmp', 'env-xyz');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'file'), 'scratch');
    await start(dir);
    expect(existsSync(leftover)).toBe(false);
  });

  it('a refused server leaves the running server’s environment folders alone', async () => {
    const dir = freshDir();
    await start(dir);
    const live = join(dir, 'tmp', 'env-live');
    mkdirSync(live, { recursive: true });
    writeFileSync(join(live, 'file'), 'in use');
    await expect(startLaminar({}, {}, dir)).rejects.toThrow(/in use by another Laminar server/);
    expect(readFileSync(join(live, 'file'), 'utf8')).toBe('in use');
  });
});

describe('laminar serve on a data dir in use', () => {
  function serve(dataDir: string): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--print-function-logs', 'false'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  it('the second serve prints the reason and exits non-zero without a stack trace', async () => {
    const dir = freshDir();
    const first = serve(dir);
    const firstExit = new Promise<number | null>((r) => first.once('exit', (code) => r(code)));
    let second: ChildProcessWithoutNullStreams | undefined;
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        first.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /serving the Lambda API on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1] as string);
        });
        void firstExit.then((code) => reject(new Error(`exited ${code}: ${out}`)));
      });

      second = serve(dir);
      let stderr = '';
      second.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => second?.once('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`pid ${first.pid}`);
      expect(stderr).toContain(join(dir, 'laminar.lock'));
      expect(stderr).toContain(`serving ${url}`);
      expect(stderr).toMatch(/^laminar: Data dir .* is in use by another Laminar server/);
      expect(stderr).not.toMatch(/\n\s+at /);

      expect((await fetch(`${url}/health`)).status).toBe(200);
      first.kill('SIGTERM');
      expect(await firstExit).toBe(0);
      expect(existsSync(join(dir, 'laminar.lock'))).toBe(false);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
    }
  });
});

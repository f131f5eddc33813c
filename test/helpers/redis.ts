/**
 * A real redis-server (the Debian package) on a free loopback port, one per test file, in a
 * temporary directory. Persistence is an append-only file synced on every write, so a restart
 * (SIGTERM, then the same port and directory) keeps what was written, as a production Redis
 * configured for durability does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './prometheus.js';

/** The redis-server binary, or undefined when it is not installed. */
export function redisServerBinary(): string | undefined {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' });
    return 'redis-server';
  } catch {
    return undefined;
  }
}

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM: it flushes the append-only file) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server; `start()` brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server for good and removes its directory. */
  dispose(): Promise<void>;
}

/** Answers true once `PING` gets `+PONG` on the port. */
async function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export async function startRedis(): Promise<RedisHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'laminar-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  async function start(): Promise<void> {
    if (child) return;
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    c.stdout?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    for (let i = 0; ; i++) {
      if (c.exitCode !== null) throw new Error(`redis-server exited with ${c.exitCode}: ${stderr}`);
      if (await pings(port)) return;
      if (i > 200) throw new Error(`redis-server did not answer PING on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

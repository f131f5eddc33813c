/**
 * A redis-server for the cluster scenario, on a free loopback port in a scratch folder. It syncs
 * its append-only file once a second (`appendfsync everysec`), the setting most Redis
 * deployments run: the scenario measures coordination, not the disk.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScenarioSkipped } from './result.js';

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'laminar-load-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', () => reject(new ScenarioSkipped('redis-server is not installed (apt-get install redis-server)')));
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-2000)}`)));
  });
  const ready = new Promise<void>((resolve) => {
    const look = () => {
      if (/Ready to accept connections/.test(out)) resolve();
    };
    child.stdout.on('data', look);
  });
  await Promise.race([ready, failed]);
  failed.catch(() => undefined);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

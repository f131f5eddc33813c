/**
 * The cluster switch, as a user runs it: `laminar serve` processes (the compiled dist/main.js)
 * against a real redis-server. Without Redis a node refuses to start and never listens; with it,
 * nodes see each other in /health, a SIGKILLed node drops out once its lease passes, a node that
 * stops cleanly removes itself, and every metric names its node. Embedded mode is unchanged.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLaminar } from '../helpers/laminar.js';
import { freePort } from '../helpers/prometheus.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

interface Health {
  status: string;
  cluster: {
    mode: string;
    redis?: string;
    node?: string;
    nodes?: { id: string; address: string; lastSeen: string }[];
    leaseSeconds?: number;
  };
}

let dir: string;
let redis: RedisHandle;
const processes: ServeProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-'));
  redis = await startRedis();
});

afterAll(async () => {
  for (const p of processes) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `laminar serve` to its end (it is expected to refuse to start), probing `port` meanwhile. */
async function refusedServe(args: string[], env: NodeJS.ProcessEnv = {}, port?: number): Promise<{ code: number | null; output: string; listened: boolean }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--print-function-logs', 'false', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let listened = false;
  let done = false;
  void exited.then(() => (done = true));
  // The whole time the process runs, nothing may accept a connection on its port.
  while (port !== undefined && !done) {
    if (await accepts(port)) listened = true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { code: await exited, output, listened };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function health(url: string): Promise<Health> {
  const res = await fetch(`${url}/health`);
  expect(res.status).toBe(200);
  return (await res.json()) as Health;
}

/** Polls /health until `check` holds: the signal waited for, never a fixed sleep. */
async function healthUntil(url: string, what: string, check: (h: Health) => boolean, ms = 15_000): Promise<Health> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await health(url);
    if (check(h)) return h;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last /health: ${JSON.stringify(h.cluster)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const portOf = (url: string) => Number(new URL(url).port);
const ids = (h: Health) => (h.cluster.nodes ?? []).map((n) => n.id);

describe('laminar serve --redis-url', () => {
  it('refuses to start when Redis cannot be reached: exit 1, a message naming the URL and redisUrl, never listening, nothing written', async () => {
    const closed = await freePort();
    const port = await freePort();
    const dataDir = join(dir, 'refused');
    const r = await refusedServe(['--port', String(port), '--data-dir', dataDir, '--redis-url', `redis://127.0.0.1:${closed}`], {}, port);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`laminar: Cannot reach Redis at redis://127.0.0.1:${closed} (config redisUrl) within 3 s: connect ECONNREFUSED 127.0.0.1:${closed}.`);
    expect(r.output).not.toMatch(/serving the Lambda API/);
    expect(r.listened).toBe(false);
    // Redis comes first: the data dir (its lock, its databases) was never touched.
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);

  it('refuses an invalid redisUrl from a flag or LAMINAR_REDIS_URL, naming the key', async () => {
    const flag = await refusedServe(['--port', '0', '--data-dir', join(dir, 'bad-flag'), '--redis-url', 'http://127.0.0.1:6379']);
    expect(flag.code).toBe(2);
    expect(flag.output).toContain('laminar: Invalid config redisUrl: "http://127.0.0.1:6379" has the scheme http');
    expect(flag.output).not.toMatch(/serving the Lambda API/);
    const env = await refusedServe(['--port', '0', '--data-dir', join(dir, 'bad-env')], { LAMINAR_REDIS_URL: 'redis:/:secret@nohost' });
    expect(env.code).toBe(2);
    expect(env.output).toMatch(/laminar: Invalid config redisUrl: .* names no host|laminar: Invalid config redisUrl: .* is not a URL/);
    expect(env.output).not.toContain('secret');
    expect(existsSync(join(dir, 'bad-flag'))).toBe(false);
  }, 60_000);

  it('two nodes list each other; a SIGKILLed node drops out once its lease passes; a node that stops cleanly removes itself', async () => {
    const args = ['--redis-url', redis.url, '--cluster-lease-seconds', '1'];
    const [a, b] = await Promise.all([startServeProcess(join(dir, 'a'), args), startServeProcess(join(dir, 'b'), args)]);
    processes.push(a, b);
    const idA = `${hostname()}:${portOf(a.url)}`;
    const idB = `${hostname()}:${portOf(b.url)}`;
    expect(a.output()).toContain(`laminar: cluster node ${idA} on Redis ${redis.url} (lease 1 s)`);

    const both = [idA, idB].sort();
    const seenByA = await healthUntil(a.url, 'a to list both nodes', (h) => JSON.stringify(ids(h)) === JSON.stringify(both));
    const seenByB = await healthUntil(b.url, 'b to list both nodes', (h) => JSON.stringify(ids(h)) === JSON.stringify(both));
    expect(seenByA.cluster).toMatchObject({ mode: 'redis', redis: 'reachable', node: idA, leaseSeconds: 1 });
    expect(seenByB.cluster).toMatchObject({ mode: 'redis', redis: 'reachable', node: idB, leaseSeconds: 1 });
    expect(seenByA.cluster.nodes?.find((n) => n.id === idB)?.address).toBe(`127.0.0.1:${portOf(b.url)}`);
    expect(seenByB.cluster.nodes?.find((n) => n.id === idA)?.address).toBe(`127.0.0.1:${portOf(a.url)}`);
    for (const n of seenByA.cluster.nodes ?? []) expect(Number.isNaN(Date.parse(n.lastSeen))).toBe(false);

    // Every series a cluster node exports names it.
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    const samples = metrics.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(0);
    for (const line of samples) expect(line, line).toContain(`node="${idA}"`);

    const killedAt = Date.now();
    b.child.kill('SIGKILL');
    await b.exited;
    const after = await healthUntil(a.url, 'a to drop the killed node', (h) => !ids(h).includes(idB));
    // Its last heartbeat was at most a third of the lease before the kill: it stays live until
    // the lease has passed since then, not a moment earlier.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(600);
    expect(ids(after)).toEqual([idA]);

    const observer = createClient({ url: redis.url });
    await observer.connect();
    try {
      expect(await observer.zScore('laminar:nodes', idA)).not.toBeNull();
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(await observer.zScore('laminar:nodes', idA)).toBeNull();
      expect(await observer.exists(`laminar:node:${idA}`)).toBe(0);
    } finally {
      await observer.close();
    }
  }, 90_000);

  it('--node-id names the node in /health and its metrics', async () => {
    const c = await startServeProcess(join(dir, 'c'), ['--redis-url', redis.url, '--node-id', 'edge-1']);
    processes.push(c);
    const h = await healthUntil(c.url, 'c to list itself', (x) => ids(x).includes('edge-1'));
    expect(h.cluster).toMatchObject({ node: 'edge-1', leaseSeconds: 15 });
    expect(await (await fetch(`${c.url}/metrics`)).text()).toMatch(/^laminar_\w+\{[^}]*node="edge-1"[^}]*\} /m);
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
  }, 60_000);
});

describe('embedded mode (no redisUrl)', () => {
  it('/health says mode embedded and nothing more; metrics carry no node label', async () => {
    const h = await startLaminar();
    try {
      expect(h.laminar.cluster).toBeUndefined();
      const body = await health(h.url);
      expect(body.cluster).toEqual({ mode: 'embedded' });
      expect(Object.keys(body).sort()).toEqual(['cluster', 'sandbox', 'status']);
      const metrics = await (await fetch(`${h.url}/metrics`)).text();
      expect(metrics).toMatch(/^laminar_/m);
      expect(metrics).not.toMatch(/node="/);
    } finally {
      await h.close();
    }
  });
});

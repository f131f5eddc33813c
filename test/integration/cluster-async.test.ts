/**
 * The async queue shared by a cluster: three `laminar serve` nodes on one real redis-server. An
 * event accepted by a node runs even when that node is killed with SIGKILL while running it:
 * its lease is no longer renewed, and another node takes the event once the lease runs out.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProbe, type Probe } from '../helpers/probe.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { deployShared, killAll, lambdaClient, startNodes, until } from '../helpers/cluster.js';

interface Record {
  phase: 'start' | 'end';
  id: string;
  pid: number;
}

const LEASE_SECONDS = 2;

let dir: string;
let redis: RedisHandle;
let probe: Probe;
const nodes: ServeProcess[] = [];


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-async-'));
  redis = await startRedis();
  probe = await startProbe();
  nodes.push(...(await startNodes(dir, redis.url, ['a', 'b', 'c'], LEASE_SECONDS)));
});

afterAll(async () => {
  await killAll(nodes);
  await probe?.close();
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});


describe('async events in a cluster', () => {
  it('every event accepted by a node that is then SIGKILLed runs on the others', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const name = 'cluster-worker-fn';
    await deployShared(nodes.map((n) => n.url), 'cluster-worker', { FunctionName: name, Timeout: 30 });
    const records = () => probe.records as Record[];
    const lambdaA = lambdaClient(a.url);
    const ids = Array.from({ length: 30 }, (_, i) => `event-${i}`);
    for (const id of ids) {
      const res = await lambdaA.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ id, ms: 1_500, probe: probe.url })) }));
      expect(res.StatusCode).toBe(202);
    }
    // Node a is killed while running at least one of the events it accepted.
    await until('node a runs an event', () => records().some((r) => r.phase === 'start' && r.pid === a.child.pid));
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await a.exited;
    const orphans = new Set(records().filter((r) => r.phase === 'start' && r.pid === a.child.pid).map((r) => r.id));
    for (const r of records()) if (r.phase === 'end' && r.pid === a.child.pid) orphans.delete(r.id);
    expect(orphans.size).toBeGreaterThan(0);

    const ended = () => new Set(records().filter((r) => r.phase === 'end').map((r) => r.id));
    await until('every event has run to its end', () => ids.every((id) => ended().has(id)));
    const survivors = new Set([b.child.pid, c.child.pid]);
    for (const id of orphans) {
      const finish = records().find((r) => r.phase === 'end' && r.id === id);
      expect(survivors.has(finish?.pid)).toBe(true);
    }
    // The orphans came back after the lease ran out, not before.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 200);
  });
});

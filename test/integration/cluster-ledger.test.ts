/**
 * One ledger for a cluster: three `laminar serve` nodes on one real redis-server. A reservation
 * holds exactly across nodes under a burst spread over all three (the peak is observed inside
 * the handlers), and the slots of a node killed with SIGKILL come back within the lease time.
 */
import { PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProbe, type Probe } from '../helpers/probe.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { deployShared, killAll, lambdaClient, startNodes, until } from '../helpers/cluster.js';

const LEASE_SECONDS = 2;

let dir: string;
let redis: RedisHandle;
let probe: Probe;
const nodes: ServeProcess[] = [];


interface Outcome {
  status: number;
  reason?: string;
}

async function invoke(url: string, fn: string, event: object, settled?: { count: number }): Promise<Outcome> {
  try {
    const res = await fetch(`${url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: JSON.stringify(event) });
    const body = (await res.json()) as { Reason?: string };
    return { status: res.status, ...(res.status === 429 ? { reason: body.Reason } : {}) };
  } finally {
    if (settled) settled.count++;
  }
}


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-ledger-'));
  redis = await startRedis();
  probe = await startProbe();
  nodes.push(...(await startNodes(dir, redis.url, ['a', 'b', 'c'], LEASE_SECONDS)));
});

afterAll(async () => {
  probe?.release();
  await killAll(nodes);
  await probe?.close();
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the ledger of a cluster', () => {
  it('a reservation of 6 holds exactly across three nodes under a burst spread over all of them', async () => {
    const name = 'cluster-reserved';
    await deployShared(nodes.map((n) => n.url), 'sleep', { FunctionName: name, Timeout: 60 });
    await lambdaClient(nodes[0]!.url).send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 6 }));
    probe.reset();
    const settled = { count: 0 };
    const total = 90;
    // Admitted handlers hold until every request is either answered or inside a handler, so the
    // whole burst overlaps however slowly it arrives.
    const pending = Promise.all(
      Array.from({ length: total }, (_, i) => invoke(nodes[i % 3]!.url, name, { ms: 1, probe: probe.url, hold: true }, settled)),
    );
    await until('every request is answered or inside a handler', () => settled.count + probe.current >= total, 90_000);
    probe.release();
    const outcomes = await pending;
    expect(probe.peak).toBe(6);
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(6);
    expect(outcomes.filter((o) => o.status === 429 && o.reason === 'ReservedFunctionConcurrentInvocationLimitExceeded')).toHaveLength(total - 6);
  }, 120_000);

  it('the slots of a node killed with SIGKILL come back within the lease time', async () => {
    const name = 'cluster-killed';
    await deployShared(nodes.map((n) => n.url), 'sleep', { FunctionName: name, Timeout: 60 });
    await lambdaClient(nodes[0]!.url).send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 2 }));
    probe.reset();
    const victim = nodes[2]!;
    // The victim holds both slots.
    // Their requests fail when the victim dies.
    const held = [1, 2].map(() => invoke(victim.url, name, { ms: 1, probe: probe.url, hold: true }).catch(() => undefined));
    await until('both slots are held on the victim', () => probe.current === 2);
    expect(await invoke(nodes[0]!.url, name, { ms: 1 })).toEqual({ status: 429, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    await Promise.all(held);
    // Another node gets a slot once the victim's leases run out, and not long after.
    let admittedAt = 0;
    await until('another node is admitted', async () => {
      const o = await invoke(nodes[0]!.url, name, { ms: 1 });
      if (o.status !== 200) return false;
      admittedAt = Date.now();
      return true;
    }, 30_000);
    expect(admittedAt - killedAt).toBeGreaterThanOrEqual(LEASE_SECONDS * 1000 - 500);
    expect(admittedAt - killedAt).toBeLessThan(LEASE_SECONDS * 1000 + 3_000);
  }, 60_000);
});

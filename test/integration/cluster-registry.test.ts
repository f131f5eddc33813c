/**
 * One registry for a cluster: three `laminar serve` nodes on one real redis-server. A function
 * created through one node is invoked through the others, a change made through one node is used
 * by the others' next invocation within one second, and conflicting writes through two nodes
 * resolve as on one node: one succeeds, the other gets Lambda's error.
 */
import { CreateFunctionCommand, GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, type Runtime } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployShared, killAll, lambdaClient, startNodes, until } from '../helpers/cluster.js';
import { zipFixture } from '../helpers/laminar.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import type { ServeProcess } from '../helpers/serve-process.js';

let dir: string;
let redis: RedisHandle;
const nodes: ServeProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-registry-'));
  redis = await startRedis();
  nodes.push(...(await startNodes(dir, redis.url, ['a', 'b', 'c'], 2)));
});

afterAll(async () => {
  await killAll(nodes);
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function invokeEcho(url: string, name: string): Promise<{ status: number; greeting?: string }> {
  const res = await fetch(`${url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
  const body = (await res.json()) as { env?: { GREETING?: string } };
  return { status: res.status, ...(body.env?.GREETING !== undefined ? { greeting: body.env.GREETING } : {}) };
}

describe('the registry of a cluster', () => {
  it('a function created through one node is invoked through the others', async () => {
    const name = await deployShared([nodes[0]!.url], 'echo', { FunctionName: 'shared-echo' });
    for (const n of nodes.slice(1)) {
      // Each other node has it within a second: the first answer it gives is already a 200.
      await until(`${n.url} serves ${name}`, async () => (await invokeEcho(n.url, name)).status === 200, 1_000);
    }
  });

  it('a configuration changed through one node is used by the others’ next invocation within one second', async () => {
    const name = 'shared-greeting';
    await deployShared(nodes.map((n) => n.url), 'echo', { FunctionName: name, Environment: { Variables: { GREETING: 'one' } } });
    for (const n of nodes) expect((await invokeEcho(n.url, name)).greeting).toBe('one');
    const b = lambdaClient(nodes[1]!.url);
    await b.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: { GREETING: 'two' } } }));
    const changedAt = Date.now();
    for (const n of [nodes[0]!, nodes[2]!]) {
      await until(`${n.url} uses the new configuration`, async () => (await invokeEcho(n.url, name)).greeting === 'two', 1_000 - (Date.now() - changedAt));
    }
  });

  it('the same function created through two nodes at once: one succeeds, the other gets ResourceConflictException', async () => {
    const create = (url: string) =>
      lambdaClient(url)
        .send(
          new CreateFunctionCommand({
            FunctionName: 'raced',
            Role: 'arn:aws:iam::000000000000:role/test',
            Runtime: 'nodejs20.x' as Runtime,
            Handler: 'index.handler',
            Code: { ZipFile: zipped },
          }),
        )
        .then(
          () => 'created',
          (err: Error) => err.name,
        );
    const zipped = await zipFixture('echo');
    const outcomes = await Promise.all([create(nodes[0]!.url), create(nodes[2]!.url)]);
    expect(outcomes.sort()).toEqual(['ResourceConflictException', 'created']);
    await until('the third node knows the function', async () => (await lambdaClient(nodes[1]!.url).send(new GetFunctionConfigurationCommand({ FunctionName: 'raced' })).catch(() => undefined)) !== undefined, 1_000);
  });
});
